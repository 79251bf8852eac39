//! Reading a text file as cspsim expects it: UTF-8, with or without a
//! byte-order mark. Anything else is an error that says where the first
//! byte that is not UTF-8 is, and what to do about it.

use std::path::Path;

/// The text of `path`, its UTF-8 byte-order mark (if any) removed.
pub fn read_text(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    decode(&bytes)
}

/// `bytes` as UTF-8 text, without a leading byte-order mark.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_string()),
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            // Valid up to here, so this is UTF-8: count its characters.
            let column =
                std::str::from_utf8(&good[line_start..]).map_or(0, |t| t.chars().count()) + 1;
            let byte = bytes[e.valid_up_to()];
            let what = if bytes.iter().take(4096).any(|&b| b == 0) {
                "binary data, or text in UTF-16"
            } else {
                "text in another encoding (Latin-1, Windows-1252…)"
            };
            Err(format!(
                "it is not UTF-8 text: line {line}, column {column} holds the byte 0x{byte:02X} (is it {what}? save it as UTF-8)"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_is_accepted_and_bad_bytes_are_placed() {
        assert_eq!(decode(b"\xEF\xBB\xBFCircuit()").unwrap(), "Circuit()");
        let e = decode(b"Circuit(\n  name: \"caf\xE9\",\n)").unwrap_err();
        assert!(e.contains("line 2, column 13 holds the byte 0xE9"), "{e}");
        assert!(e.contains("another encoding"), "{e}");
        let e = decode(b"\xFF\xFEC\x00i\x00").unwrap_err();
        assert!(
            e.contains("line 1, column 1") && e.contains("UTF-16"),
            "{e}"
        );
    }
}
