//! Random bytes from the runtime's CSPRNG (`crypto.getRandomValues`).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = "export function fill(buf) { crypto.getRandomValues(buf); }")]
extern "C" {
    fn fill(buf: &mut [u8]);
}

/// `N` random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    fill(&mut buf);
    buf
}

/// A random id: 96 bits as 24 hex digits.
pub fn token() -> String {
    bytes::<12>().iter().map(|b| format!("{b:02x}")).collect()
}
