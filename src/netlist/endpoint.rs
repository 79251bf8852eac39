//! Endpoint patterns, as written in nets and in composite port maps:
//! `cnt.q`, `pix[i].valid`, `bus.req[i + 1]`, `pix[*].en`, `stage[0..15].q`.
//!
//! An endpoint is a component part and a port part, each a name with an
//! optional index: an expression (`[i + 1]`), a half-open range (`[a..b]`)
//! or every element (`[*]`). What the names and indices mean is decided by
//! the elaborator; this module only parses, keeping every position so that
//! errors point at the offending characters.

use std::ops::Range;

use crate::expr::parse::{expression, Node};
use crate::expr::ExprError;

/// `component.port`, either part indexed.
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    /// The component (or array of components).
    pub component: Part,
    /// The port (or array of ports).
    pub port: Part,
}

/// A name with an optional index.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// The name.
    pub name: String,
    /// Where the name is, in the endpoint text.
    pub span: Range<usize>,
    /// The index, if any.
    pub index: Option<Index>,
}

/// What goes between the brackets.
#[derive(Clone, Debug, PartialEq)]
pub enum Index {
    /// One element: `[i + 1]`.
    One(Node),
    /// Elements `from` up to, not including, `to`: `[0..15]`.
    Range(Node, Node),
    /// Every element: `[*]`.
    All,
}

impl Part {
    /// `name` or `name[…]` as written, without the index's content.
    pub fn describe(&self) -> String {
        match self.index {
            None => self.name.clone(),
            Some(_) => format!("{}[…]", self.name),
        }
    }
}

/// Parse `component.port`.
pub fn parse(text: &str) -> Result<Endpoint, ExprError> {
    let mut depth = 0i32;
    let mut dot = None;
    for (k, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '.' if depth == 0 && !text[k..].starts_with("..") && !text[..k].ends_with('.') => {
                if dot.is_some() {
                    return Err(ExprError::new("an endpoint has exactly one `.`", k..k + 1)
                        .hint("write component.port; a composite's inner components are reached through its ports"));
                }
                dot = Some(k);
            }
            _ => {}
        }
    }
    let Some(dot) = dot else {
        return Err(ExprError::new(
            format!(
                "`{}` is not of the form `component.port`",
                super::load::shorten(text)
            ),
            0..text.len(),
        )
        .hint("name a port as component.port, e.g. \"cnt.q\" or \"pix[i].hit\""));
    };
    Ok(Endpoint {
        component: part(text, 0..dot)?,
        port: part(text, dot + 1..text.len())?,
    })
}

/// Parse a single `name` or `name[index]` (a port declaration of a composite model).
pub fn parse_part(text: &str) -> Result<Part, ExprError> {
    part(text, 0..text.len())
}

fn part(text: &str, range: Range<usize>) -> Result<Part, ExprError> {
    let s = &text[range.clone()];
    let lead = s.len() - s.trim_start().len();
    let s = s.trim();
    let start = range.start + lead;
    let name_len = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    let name = &s[..name_len];
    let span = start..start + name_len;
    if !super::is_identifier(name) {
        let shown = if s.is_empty() { "nothing" } else { s };
        return Err(ExprError::new(
            format!("expected a name, found `{shown}`"),
            start..start + s.len().max(1),
        )
        .hint("names use letters, digits and `_`, starting with a letter or `_`"));
    }
    let rest = &s[name_len..];
    if rest.trim().is_empty() {
        return Ok(Part {
            name: name.to_string(),
            span,
            index: None,
        });
    }
    let rest_start = start + name_len;
    let open = rest.find('[').filter(|&o| rest[..o].trim().is_empty());
    let close = rest.rfind(']');
    let (Some(open), Some(close)) = (open, close) else {
        return Err(ExprError::new(
            format!("unexpected `{}` after `{name}`", rest.trim()),
            rest_start..rest_start + rest.len(),
        )
        .hint("an index is written in brackets: name[i], name[0..4] or name[*]"));
    };
    if !rest[close + 1..].trim().is_empty() || close < open {
        return Err(ExprError::new(
            "only one index per name",
            rest_start + close..rest_start + rest.len(),
        )
        .hint("arrays have one dimension; nest composite models for more"));
    }
    let inner_start = rest_start + open + 1;
    let inner = &rest[open + 1..close];
    if let Some(k) = inner.find(['[', ']']) {
        return Err(ExprError::new(
            "only one index per name",
            inner_start + k..inner_start + k + 1,
        )
        .hint("arrays have one dimension; nest composite models for more"));
    }
    let shift = |e: ExprError, by: usize| ExprError {
        span: e.span.start + by..e.span.end + by,
        ..e
    };
    let index = if inner.trim() == "*" {
        Index::All
    } else if let Some(dots) = inner.find("..") {
        let from = expression(&inner[..dots]).map_err(|e| shift(e, inner_start))?;
        let to = expression(&inner[dots + 2..]).map_err(|e| shift(e, inner_start + dots + 2))?;
        Index::Range(from, to)
    } else {
        Index::One(expression(inner).map_err(|e| shift(e, inner_start))?)
    };
    Ok(Part {
        name: name.to_string(),
        span,
        index: Some(index),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_indexed_endpoints_parse() {
        let e = parse("cnt.q").unwrap();
        assert_eq!(
            (e.component.name.as_str(), e.port.name.as_str()),
            ("cnt", "q")
        );
        assert_eq!(e.port.span, 4..5);
        let e = parse("pix[i + 1].req[*]").unwrap();
        assert_eq!(e.component.name, "pix");
        assert!(matches!(e.component.index, Some(Index::One(_))));
        assert_eq!(e.port.index, Some(Index::All));
        let e = parse("stage[0..n-1].q").unwrap();
        assert!(matches!(e.component.index, Some(Index::Range(..))));
        let p = parse_part("hit[rows]").unwrap();
        assert_eq!(p.name, "hit");
    }

    #[test]
    fn mistakes_point_at_the_characters() {
        let e = parse("cnt").unwrap_err();
        assert!(e.message.contains("component.port"), "{}", e.message);
        let e = parse("pix[i +].q").unwrap_err();
        assert!(e.span.start >= 4 && e.span.start <= 7, "{:?}", e.span);
        let e = parse("a.b.c").unwrap_err();
        assert_eq!(e.span, 3..4);
        let e = parse("pix[0][1].q").unwrap_err();
        assert!(e.message.contains("one index"), "{}", e.message);
        let e = parse("9x.q").unwrap_err();
        assert!(e.message.contains("expected a name"), "{}", e.message);
    }
}
