//! Images are made ready in the browser before they are queued: a phone
//! photo of 4000 px and 5 MB becomes 2048 px and a few hundred KB, and its
//! width and height are measured so every screen can reserve its space
//! before it loads.
//!
//! The image is decoded with `createImageBitmap(…, {imageOrientation:
//! "from-image"})`, so a photo taken sideways is drawn upright, and drawn on
//! a canvas at most [`MAX_SIDE`] px on its longest side. JPEGs always go
//! through the canvas, even small ones: re-encoding drops their EXIF data,
//! where phones write the GPS position. A copy bigger than the original (a
//! JPEG saved at a lower quality than ours) is encoded again at lower
//! qualities, so that a file the site takes is not refused for its copy.
//! GIFs are only measured (a canvas would keep only their first frame);
//! other files pass unchanged.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::view::dom::cast;
use web_sys::{
    Blob, CanvasRenderingContext2d, HtmlCanvasElement, ImageBitmap, ImageBitmapOptions,
    ImageOrientation,
};

/// Longest side of an image sent, in pixels.
pub const MAX_SIDE: u32 = 2048;
/// Qualities tried in turn while the copy is bigger than the original: the
/// first is visually lossless for photos; most files saved lower are matched
/// by the second, the rest by the third.
const QUALITIES: [f64; 3] = [0.85, 0.7, 0.5];

/// Called once with the bytes to send and, for images, their size in pixels.
pub type Done = Box<dyn FnOnce(Blob, Option<(u32, u32)>)>;

/// `(width, height)` scaled so that the longest side is at most `max`.
pub fn fit(width: u32, height: u32, max: u32) -> (u32, u32) {
    let (w, h, m) = (width as u64, height as u64, max as u64);
    if w <= m && h <= m {
        return (width, height);
    }
    let (w, h) = if w >= h {
        (m, (h * m + w / 2) / w)
    } else {
        ((w * m + h / 2) / h, m)
    };
    (w.max(1) as u32, h.max(1) as u32)
}

/// Make `file` ready to send; `done` is called once, later (never from
/// inside this call), also when the image cannot be decoded (it then goes as
/// it is, unmeasured).
pub fn prepare(file: Blob, done: Done) {
    let mime = file.type_();
    let redraw = matches!(mime.as_str(), "image/jpeg" | "image/png" | "image/webp");
    let decoded = (redraw || mime == "image/gif")
        .then(crate::global::window)
        .flatten()
        .and_then(|w| {
            let options = ImageBitmapOptions::new();
            options.set_image_orientation(ImageOrientation::FromImage);
            w.create_image_bitmap_with_blob_and_image_bitmap_options(&file, &options)
                .ok()
        });
    // Other files go through a resolved promise too: `done` never runs
    // before `prepare` returns (the caller may be busy).
    let promise = decoded.unwrap_or_else(|| Promise::resolve(&JsValue::NULL));
    // One callback for both outcomes: exactly one of them runs, once.
    let settled =
        Closure::once_into_js(
            move |v: JsValue| match cast::<ImageBitmap>(v, "ImageBitmap") {
                Some(bitmap) => drawn(file, &mime, redraw, bitmap, done),
                None => done(file, None),
            },
        );
    let then = Reflect::get(&promise, &"then".into()).unwrap_or(JsValue::UNDEFINED);
    if let Some(then) = then.dyn_ref::<Function>() {
        let _ = then.call2(&promise, &settled, &settled);
    }
}

/// The decoded `bitmap`, redrawn at its final size (or only measured).
fn drawn(file: Blob, mime: &str, redraw: bool, bitmap: ImageBitmap, done: Done) {
    let (w, h) = (bitmap.width(), bitmap.height());
    let (cw, ch) = fit(w, h, MAX_SIDE);
    if !redraw || ((cw, ch) == (w, h) && mime != "image/jpeg") {
        bitmap.close();
        done(file, Some((w, h)));
        return;
    }
    let canvas = crate::global::window()
        .and_then(|win| win.document())
        .and_then(|d| d.create_element("canvas").ok())
        .and_then(|c| cast::<HtmlCanvasElement>(c.into(), "HTMLCanvasElement"));
    let Some(canvas) = canvas else {
        bitmap.close();
        done(file, Some((w, h)));
        return;
    };
    canvas.set_width(cw);
    canvas.set_height(ch);
    let context = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| cast::<CanvasRenderingContext2d>(c.into(), "CanvasRenderingContext2D"));
    if let Some(ctx) = &context {
        let _ = Reflect::set(ctx, &"imageSmoothingQuality".into(), &"high".into());
        let _ =
            ctx.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, cw as f64, ch as f64);
    }
    bitmap.close();
    if context.is_none() {
        done(file, Some((w, h)));
        return;
    }
    let best = Best {
        bytes: file.size(),
        file,
        done,
        size: (w, h),
    };
    encode(canvas, mime.to_owned(), 0, best);
}

/// What goes if the next encoding fails (the browser cannot encode this
/// type, or runs out of memory): the file as picked, still measured, or
/// once a copy was made, that copy (without the EXIF data the file has).
struct Best {
    file: Blob,
    done: Done,
    size: (u32, u32),
    /// The size of the file as picked, in bytes: a copy should not be bigger.
    bytes: f64,
}

/// Encode `canvas` at `QUALITIES[step]`, then hand the copy (or the best
/// so far) to `done`.
fn encode(canvas: HtmlCanvasElement, mime: String, step: usize, best: Best) {
    let Some(&quality) = QUALITIES.get(step) else {
        return (best.done)(best.file, Some(best.size));
    };
    let fallback = Rc::new(Cell::new(Some(best)));
    let on_blob = {
        let (fallback, canvas, mime) = (fallback.clone(), canvas.clone(), mime.clone());
        Closure::once_into_js(move |blob: JsValue| {
            let Some(best) = fallback.take() else {
                return;
            };
            match cast::<Blob>(blob, "Blob") {
                Some(b) if b.type_() == mime => {
                    let size = (canvas.width(), canvas.height());
                    // PNG has no quality to lower.
                    let lower = mime != "image/png"
                        && QUALITIES.get(step + 1).is_some()
                        && b.size() > best.bytes;
                    if lower {
                        let best = Best {
                            file: b,
                            size,
                            ..best
                        };
                        encode(canvas, mime, step + 1, best);
                    } else {
                        (best.done)(b, Some(size));
                    }
                }
                _ => (best.done)(best.file, Some(best.size)),
            }
        })
    };
    let quality = JsValue::from_f64(quality);
    if canvas
        .to_blob_with_type_and_encoder_options(on_blob.unchecked_ref(), &mime, &quality)
        .is_err()
    {
        if let Some(best) = fallback.take() {
            (best.done)(best.file, Some(best.size));
        }
    }
}
