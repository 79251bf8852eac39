//! Finding where things are written in a circuit file. RON deserialisation
//! keeps no positions, so names are found in the text: each section is
//! scanned in file order with a cursor, which finds the occurrence that
//! belongs to the entry being checked.

use std::ops::Range;

/// A forward-moving search through one section of the source.
pub struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of the field `key:` (or at the start of the text).
    pub fn section(text: &'a str, key: &str) -> Self {
        let at = find_field(text, key).unwrap_or(0);
        Cursor { text, at }
    }

    /// The next `"literal"` (quotes included) at or after the cursor; moves past it.
    pub fn next_quoted(&mut self, literal: &str) -> Option<Range<usize>> {
        let span = quoted_after(self.text, literal, self.at)?;
        self.at = span.end;
        Some(span)
    }
}

/// The first `"literal"` (quotes included) at or after byte `from`.
pub fn quoted_after(text: &str, literal: &str, from: usize) -> Option<Range<usize>> {
    let needle = format!("{literal:?}");
    let start = from + text.get(from..)?.find(&needle)?;
    Some(start..start + needle.len())
}

/// The position of a field `key` followed by `:` (outside strings, roughly).
pub fn find_field(text: &str, key: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find(key) {
        let start = from + i;
        let end = start + key.len();
        let before_ok = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_' && c != '"');
        let after_ok = text[end..].trim_start().starts_with(':');
        if before_ok && after_ok {
            return Some(start);
        }
        from = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_find_entries_in_order() {
        let text = r#"(components: {"a": x}, nets: {"a.y": ["b.a"], "a.y": ["c.a"]})"#;
        let mut c = Cursor::section(text, "nets");
        let first = c.next_quoted("a.y").unwrap();
        assert_eq!(&text[first.clone()], "\"a.y\"");
        let second = c.next_quoted("a.y").unwrap();
        assert!(second.start > first.start);
        assert_eq!(find_field(text, "components"), Some(1));
        assert_eq!(find_field("(xnets: 1, nets: 2)", "nets"), Some(11));
    }
}
