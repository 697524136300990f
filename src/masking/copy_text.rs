//! PostgreSQL's COPY text format, as on-the-fly masking streams it: rows end with a newline,
//! fields are separated by tabs, `\N` is NULL, and backslash escapes the rest. A raw newline or tab
//! never occurs inside a field (COPY TO escapes them), so rows and fields split on bytes.
//!
//! A row's fields are rewritten only where a column is masked; every other field is copied as the
//! source sent it, byte for byte.

/// Splits a row (without its newline) into its raw, still escaped fields.
pub fn fields(row: &[u8]) -> impl Iterator<Item = &[u8]> {
    row.split(|&b| b == b'\t')
}

/// A raw field's value; None for NULL. Err when the bytes are not UTF-8 (the session's
/// `client_encoding` is UTF8, so this means a corrupt stream).
pub fn decode(raw: &[u8]) -> Result<Option<String>, std::string::FromUtf8Error> {
    if raw == b"\\N" {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        i += 1;
        if b != b'\\' || i == raw.len() {
            out.push(b);
            continue;
        }
        let c = raw[i];
        i += 1;
        match c {
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'0'..=b'7' => {
                // Up to three octal digits.
                let mut v = u32::from(c - b'0');
                for _ in 0..2 {
                    match raw.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' if raw.get(i).is_some_and(u8::is_ascii_hexdigit) => {
                // One or two hex digits.
                let mut v = hex(raw[i]);
                i += 1;
                if let Some(d) = raw.get(i).filter(|d| d.is_ascii_hexdigit()) {
                    v = v * 16 + hex(*d);
                    i += 1;
                }
                out.push(v);
            }
            other => out.push(other),
        }
    }
    String::from_utf8(out).map(Some)
}

fn hex(d: u8) -> u8 {
    match d {
        b'0'..=b'9' => d - b'0',
        b'a'..=b'f' => d - b'a' + 10,
        _ => d - b'A' + 10,
    }
}

/// Appends `value` as a COPY text field (`\N` for NULL), escaping what COPY TO escapes.
pub fn encode(value: Option<&str>, out: &mut Vec<u8>) {
    let Some(value) = value else {
        out.extend_from_slice(b"\\N");
        return;
    };
    for &b in value.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0b => out.extend_from_slice(b"\\v"),
            _ => out.push(b),
        }
    }
}

/// Collects the chunks of a COPY TO stream into whole rows.
#[derive(Debug, Default)]
pub struct Rows {
    /// Bytes of a row not yet ended.
    partial: Vec<u8>,
}

impl Rows {
    /// Adds a chunk; calls `row` with each row it completes (without its newline).
    pub fn push(&mut self, chunk: &[u8], mut row: impl FnMut(&[u8])) {
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            if self.partial.is_empty() {
                row(&rest[..end]);
            } else {
                self.partial.extend_from_slice(&rest[..end]);
                row(&self.partial);
                self.partial.clear();
            }
            rest = &rest[end + 1..];
        }
        self.partial.extend_from_slice(rest);
    }

    /// Whether the stream ended in the middle of a row (it should not).
    pub fn has_partial(&self) -> bool {
        !self.partial.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_what_copy_to_sends() {
        assert_eq!(decode(b"\\N").unwrap(), None);
        assert_eq!(decode(b"").unwrap(), Some(String::new()));
        assert_eq!(
            decode(b"a\\tb\\nc\\\\d\\r").unwrap().unwrap(),
            "a\tb\nc\\d\r"
        );
        assert_eq!(decode(b"\\101\\x42\\x4a\\q").unwrap().unwrap(), "ABJq");
        assert_eq!(decode("é\\\\N".as_bytes()).unwrap().unwrap(), "é\\N");
        // A trailing lone backslash is kept (COPY TO never sends one).
        assert_eq!(decode(b"a\\").unwrap().unwrap(), "a\\");
        assert!(decode(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn rows_are_whole_however_the_chunks_fall() {
        let mut rows = Rows::default();
        let mut got: Vec<Vec<u8>> = vec![];
        for chunk in [&b"1\ta"[..], b"b\n2\t", b"\\N\n3\tc\n", b"4"] {
            rows.push(chunk, |r| got.push(r.to_vec()));
        }
        assert_eq!(got, [&b"1\tab"[..], b"2\t\\N", b"3\tc"]);
        assert!(rows.has_partial());
        rows.push(b"\n", |r| got.push(r.to_vec()));
        assert_eq!(got.last().unwrap(), b"4");
        assert!(!rows.has_partial());
        let f: Vec<&[u8]> = fields(b"1\t\t\\N").collect();
        assert_eq!(f, [&b"1"[..], b"", b"\\N"]);
    }

    proptest! {
        #[test]
        fn encode_then_decode_is_the_identity(value in proptest::option::of(".*")) {
            let mut raw = vec![];
            encode(value.as_deref(), &mut raw);
            prop_assert!(!raw.contains(&b'\n') && !raw.contains(&b'\t'));
            // The string "\N" is a value, not NULL.
            prop_assert_eq!(decode(&raw).unwrap(), value);
        }
    }
}
