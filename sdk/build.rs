//! The widget's stylesheet ships inside the wasm: it is minified here
//! (comments and layout whitespace dropped) so that `src/view/styles.css`
//! can stay commented and readable. Also lists the translations in
//! `locales/` for the test that checks them (it runs in the browser, which
//! cannot read the directory).

use std::{env, fs, path::Path};

fn main() {
    let source = "src/view/styles.css";
    println!("cargo:rerun-if-changed={source}");
    let css = fs::read_to_string(source).expect("src/view/styles.css is readable");
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("styles.css");
    fs::write(out, minify(&css)).expect("OUT_DIR is writable");
    list_locales();
}

/// `OUT_DIR/locales.rs`: `&[(file name, its text)]`, every `locales/*.json`.
fn list_locales() {
    println!("cargo:rerun-if-changed=locales");
    let mut files: Vec<_> = fs::read_dir("locales")
        .expect("sdk/locales is readable")
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut list = String::from("&[\n");
    for path in files {
        let full = fs::canonicalize(&path).expect("a locale file");
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        list.push_str(&format!("({name:?}, include_str!({full:?})),\n"));
    }
    list.push(']');
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("locales.rs");
    fs::write(out, list).expect("OUT_DIR is writable");
}

/// Conservative: no value is rewritten, only whitespace dropped. The
/// stylesheet has no strings with runs of spaces, comment markers, or a space
/// after a `:` or `,`, so this cannot change what it means. (A space *before*
/// a `:` stays: in `.hc :focus-visible` it is the descendant combinator.)
fn minify(css: &str) -> String {
    let mut text = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    text.push_str(rest);
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        let glue = matches!(
            out.chars().last(),
            None | Some('{' | '}' | ';' | ',' | '>' | ':')
        ) || word.starts_with(['{', '}', ';', '>']);
        if !glue {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.replace(";}", "}")
}
