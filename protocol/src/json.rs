//! A small JSON reader and writer for the wire frames.
//!
//! Why not serde_json here: the widget ships as WebAssembly inside strangers'
//! pages and serde_json's `Value` machinery (plus float parsing and
//! formatting) was about a third of its size. Frames only carry strings,
//! booleans and integers, so this reader keeps integers exact, validates but
//! does not evaluate non-integer numbers, and bounds nesting depth so hostile
//! input cannot exhaust the stack. It follows RFC 8259 (no comments, no
//! trailing commas, no lone surrogates); duplicate keys: the last one wins.

use crate::text::push_decimal;

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// An integer written without fraction or exponent, if it fits in i128.
    Int(i128),
    /// Any other number (fraction, exponent or too large), kept as written:
    /// no frame field accepts one; a token's NumericDate may be fractional.
    OtherNumber(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(fields) => fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Int(n) => u64::try_from(*n).ok(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Arr(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Json::Obj(_))
    }
}

/// Why a text is not JSON (or nests deeper than [`MAX_DEPTH`]), with the byte
/// offset where reading stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid JSON at byte {}", self.offset)
    }
}

impl std::error::Error for ParseError {}

/// Parse a complete JSON text.
pub fn parse(text: &str) -> Result<Json, ParseError> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    p.document().map_err(|()| ParseError { offset: p.pos })
}

impl Parser<'_> {
    fn document(&mut self) -> Result<Json, ()> {
        let value = self.value(0)?;
        self.skip_ws();
        if self.pos == self.bytes.len() {
            Ok(value)
        } else {
            Err(())
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Result<(), ()> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(())
        }
    }

    fn literal(&mut self, word: &[u8], value: Json) -> Result<Json, ()> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(())
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, ()> {
        if depth > MAX_DEPTH {
            return Err(());
        }
        self.skip_ws();
        match self.peek().ok_or(())? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => self.string().map(Json::Str),
            b't' => self.literal(b"true", Json::Bool(true)),
            b'f' => self.literal(b"false", Json::Bool(false)),
            b'n' => self.literal(b"null", Json::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(()),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, ()> {
        self.pos += 1;
        let mut fields = Vec::new();
        self.skip_ws();
        if self.eat(b'}').is_ok() {
            return Ok(Json::Obj(fields));
        }
        loop {
            self.skip_ws();
            let key = self.string()?;
            self.skip_ws();
            self.eat(b':')?;
            let value = self.value(depth + 1)?;
            fields.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Obj(fields));
                }
                _ => return Err(()),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, ()> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.eat(b']').is_ok() {
            return Ok(Json::Arr(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Arr(items));
                }
                _ => return Err(()),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, ()> {
        let digits = self.bytes.get(self.pos..self.pos + 4).ok_or(())?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + (d as char).to_digit(16).ok_or(())?;
        }
        self.pos += 4;
        Ok(n)
    }

    fn string(&mut self) -> Result<String, ()> {
        self.eat(b'"')?;
        let mut out = String::new();
        loop {
            // Copy the run of plain characters at once (the input is valid UTF-8).
            let start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // Both ends sit next to ASCII bytes, hence on character boundaries.
            out.push_str(&self.text[start..self.pos]);
            match self.peek().ok_or(())? {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let e = self.peek().ok_or(())?;
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                self.eat(b'\\')?;
                                self.eat(b'u')?;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(());
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            out.push(char::from_u32(code).ok_or(())?);
                        }
                        _ => return Err(()),
                    }
                }
                // A raw control character inside a string.
                _ => return Err(()),
            }
        }
    }

    fn number(&mut self) -> Result<Json, ()> {
        let negative = self.eat(b'-').is_ok();
        let int_start = self.pos;
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.pos += 1;
                }
            }
            _ => return Err(()),
        }
        let int_end = self.pos;
        let mut integer = true;
        if self.eat(b'.').is_ok() {
            integer = false;
            self.digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            integer = false;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.digits()?;
        }
        if !integer || int_end - int_start > 38 {
            let start = int_start - usize::from(negative);
            return Ok(Json::OtherNumber(self.text[start..self.pos].to_owned()));
        }
        let mut n: i128 = 0;
        for &d in &self.bytes[int_start..int_end] {
            n = n * 10 + i128::from(d - b'0');
        }
        Ok(Json::Int(if negative { -n } else { n }))
    }

    fn digits(&mut self) -> Result<(), ()> {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        if self.pos == start {
            Err(())
        } else {
            Ok(())
        }
    }
}

/// Append `s` to `out` as a JSON string literal.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut plain_from = 0;
    for (i, c) in s.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[plain_from..i]);
        if escape.is_empty() {
            // A control character (below 0x20): `\u00` and two hex digits.
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[(c as usize >> 4) & 0xf]));
            out.push(char::from(HEX[c as usize & 0xf]));
        } else {
            out.push_str(escape);
        }
        plain_from = i + c.len_utf8();
    }
    out.push_str(&s[plain_from..]);
    out.push('"');
}

/// Builds one JSON object, field by field, in the order written.
pub struct ObjectWriter {
    out: String,
}

impl ObjectWriter {
    pub fn new() -> Self {
        ObjectWriter {
            out: String::from("{"),
        }
    }

    fn key(&mut self, key: &str) -> &mut String {
        if self.out.len() > 1 {
            self.out.push(',');
        }
        write_str(&mut self.out, key);
        self.out.push(':');
        &mut self.out
    }

    pub fn str(mut self, key: &str, value: &str) -> Self {
        write_str(self.key(key), value);
        self
    }

    pub fn u64(mut self, key: &str, value: u64) -> Self {
        push_decimal(self.key(key), value);
        self
    }

    /// A string field, left out when `None`.
    pub fn opt_str(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.str(key, v),
            None => self,
        }
    }

    /// An integer field, left out when `None`.
    pub fn opt_u64(self, key: &str, value: Option<u64>) -> Self {
        match value {
            Some(v) => self.u64(key, v),
            None => self,
        }
    }

    /// A raw JSON value, only when there is one.
    pub fn opt_raw(self, key: &str, json: Option<String>) -> Self {
        match json {
            Some(json) => self.raw(key, &json),
            None => self,
        }
    }

    /// `true`, or nothing: flags that are usually false stay out of frames.
    pub fn flag(self, key: &str, value: bool) -> Self {
        if value {
            self.bool(key, true)
        } else {
            self
        }
    }

    pub fn bool(mut self, key: &str, value: bool) -> Self {
        self.key(key).push_str(if value { "true" } else { "false" });
        self
    }

    /// A value that is already JSON text.
    pub fn raw(mut self, key: &str, json: &str) -> Self {
        self.key(key).push_str(json);
        self
    }

    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

/// A JSON array of already-encoded values.
pub fn array<I: IntoIterator<Item = String>>(items: I) -> String {
    let mut out = String::from("[");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&item);
    }
    out.push(']');
    out
}

impl Default for ObjectWriter {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_frames_contain() {
        let v = parse(r#" {"type":"send","id":"a\u00e9\ud83d\ude00","n":-42,"big":123456789012345678901234567890,"f":1.5,"e":1e3,"ok":true,"no":null,"list":[1,[]]} "#).unwrap();
        assert_eq!(v.get("type").and_then(Json::as_str), Some("send"));
        assert_eq!(v.get("id").and_then(Json::as_str), Some("aé😀"));
        assert_eq!(v.get("n"), Some(&Json::Int(-42)));
        assert_eq!(v.get("n").and_then(Json::as_u64), None);
        assert_eq!(v.get("big").and_then(Json::as_u64), None);
        assert_eq!(v.get("f"), Some(&Json::OtherNumber("1.5".into())));
        assert_eq!(v.get("e"), Some(&Json::OtherNumber("1e3".into())));
        assert_eq!(v.get("ok").and_then(Json::as_bool), Some(true));
        assert_eq!(v.get("no"), Some(&Json::Null));
        assert_eq!(
            v.get("list").and_then(Json::as_array).map(<[Json]>::len),
            Some(2)
        );
        assert_eq!(
            parse(r#"{"a":1,"a":2}"#).unwrap().get("a"),
            Some(&Json::Int(2)),
            "last duplicate wins"
        );
    }

    #[test]
    fn rejects_invalid_json() {
        for bad in [
            "",
            " ",
            "{",
            "}",
            "[1,]",
            "{\"a\":1,}",
            "{'a':1}",
            "{\"a\" 1}",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "+1",
            "tru",
            "nul",
            "\"unterminated",
            "\"bad \\x escape\"",
            "\"lone \\ud800\"",
            "\"\\udc00\"",
            "\"ctrl \u{1} char\"",
            "{\"a\":1} x",
            "NaN",
            "Infinity",
            "[1 2]",
            "//c\n1",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 2), "]".repeat(MAX_DEPTH + 2));
        assert!(parse(&deep).is_err());
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let hostile = "[".repeat(1_000_000);
        assert!(parse(&hostile).is_err());
    }

    #[test]
    fn strings_round_trip_through_the_writer() {
        for s in [
            "",
            "plain",
            "quote \" backslash \\ slash /",
            "lines\n\r\t",
            "\u{0}\u{1f}\u{7f}",
            "é😀\u{2028}\u{202E}",
            "</script>",
        ] {
            let mut out = String::new();
            write_str(&mut out, s);
            assert_eq!(parse(&out).unwrap(), Json::Str(s.to_owned()), "{out}");
            assert_eq!(
                serde_json::from_str::<String>(&out).unwrap(),
                s,
                "serde_json agrees on {out}"
            );
        }
    }

    /// Other control characters are `\u00xx`, lower-case hex, as `{:04x}` writes it.
    #[test]
    fn control_characters_are_escaped_in_hex() {
        for c in (0u8..0x20).map(char::from) {
            let mut out = String::new();
            write_str(&mut out, &String::from(c));
            if !matches!(c, '\n' | '\r' | '\t') {
                assert_eq!(out, format!("\"\\u{:04x}\"", c as u32));
            }
        }
    }

    #[test]
    fn object_writer_integers() {
        for n in [0, 9, 10, 1_700_000_000_000, u64::MAX] {
            let text = ObjectWriter::new().u64("n", n).finish();
            assert_eq!(text, format!("{{\"n\":{n}}}"));
        }
    }

    #[test]
    fn object_writer() {
        let text = ObjectWriter::new()
            .str("type", "x")
            .u64("n", 7)
            .bool("b", false)
            .raw("list", "[]")
            .finish();
        assert_eq!(text, r#"{"type":"x","n":7,"b":false,"list":[]}"#);
        assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
    }
}
