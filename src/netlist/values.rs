//! Parameter values that depend on other parameters: `${…}` substitution.
//!
//! A string parameter may contain `${expression}` parts. The expressions use
//! the expression language over the enclosing scope's integer (and boolean)
//! parameters and, in an array, the element index `i`:
//!
//! - `"${rows * 2}"` — the whole string is one expression: an integer;
//! - `"${threshold}"` — the whole string names a parameter: its value, of
//!   any kind (a real, a string, a list…), passes through unchanged;
//! - `"row${i}.hex"` — otherwise each part is replaced by its value: a string.
//!
//! Arithmetic is the expression language's: 64-bit and wrapping; a whole
//! result above 2⁶³ reads as negative, so `${i - 1}` at `i = 0` is -1.
//! Templates are compiled once per declaration and instantiated per array
//! element, so large arrays cost one evaluation per element, not a parse.

use std::ops::Range;

use crate::expr::{ExprError, Program, Scope};
use crate::params::ParamValue;

/// The parameters visible in one scope (a circuit or a composite instance).
#[derive(Clone, Debug, Default)]
pub struct Env {
    values: Vec<(String, ParamValue)>,
    scope: Scope,
}

/// The name of an array element's index in parameter expressions.
pub const INDEX: &str = "i";

impl Env {
    /// A scope holding `values`.
    pub fn new(values: Vec<(String, ParamValue)>) -> Self {
        let mut scope = Scope::new();
        for (name, value) in &values {
            if let Some(v) = as_integer(value) {
                scope.constant(name, v);
            }
        }
        Env { values, scope }
    }

    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Whether `name` is a parameter here.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The expression scope: every integer or boolean parameter as a constant.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Evaluate an integer expression with no free names but the parameters.
    pub fn integer(&self, text: &str) -> Result<i128, ExprError> {
        let program = Program::compile(text, &self.scope)?;
        let v = program
            .constant()
            .ok_or_else(|| ExprError::new("not a constant", 0..text.len()))?;
        Ok(signed(v))
    }
}

/// An integer or boolean parameter as an expression value.
fn as_integer(value: &ParamValue) -> Option<u64> {
    match value {
        ParamValue::Int(v) => Some(*v as u64),
        ParamValue::Bool(b) => Some(u64::from(*b)),
        _ => None,
    }
}

/// An expression result as a parameter integer (above 2⁶³ reads as negative).
pub fn signed(v: u64) -> i128 {
    i128::from(v as i64)
}

/// A parameter value with its `${…}` parts compiled.
#[derive(Clone, Debug)]
pub enum Template {
    /// No substitution.
    Plain(ParamValue),
    /// The whole string was one expression.
    Whole(Program),
    /// A string with substituted parts.
    Text(Vec<Piece>),
    /// A list of templates.
    List(Vec<Template>),
}

/// Part of a substituted string.
#[derive(Clone, Debug)]
pub enum Piece {
    /// Text kept as written (including values of non-integer parameters).
    Literal(String),
    /// An integer expression.
    Expr(Program),
}

/// A template error: what is wrong and where in the string.
pub type TemplateError = ExprError;

impl Template {
    /// Compile `value` against `env`; when `indexed`, the index `i` is free.
    pub fn compile(value: &ParamValue, env: &Env, indexed: bool) -> Result<Self, TemplateError> {
        match value {
            ParamValue::Str(text) if text.contains("${") => compile_text(text, env, indexed),
            ParamValue::List(items) if items.iter().any(has_substitution) => Ok(Template::List(
                items
                    .iter()
                    .map(|v| Template::compile(v, env, indexed))
                    .collect::<Result<_, _>>()?,
            )),
            other => Ok(Template::Plain(other.clone())),
        }
    }

    /// Whether every instance gets the same value.
    pub fn is_plain(&self) -> bool {
        matches!(self, Template::Plain(_))
    }

    /// The value for element `index` (0 when not in an array).
    pub fn instantiate(&self, index: u64) -> ParamValue {
        let input = |_| index;
        match self {
            Template::Plain(v) => v.clone(),
            Template::Whole(p) => ParamValue::Int(signed(p.eval(input, &[]))),
            Template::Text(pieces) => {
                let mut s = String::new();
                for piece in pieces {
                    match piece {
                        Piece::Literal(t) => s.push_str(t),
                        Piece::Expr(p) => s.push_str(&signed(p.eval(input, &[])).to_string()),
                    }
                }
                ParamValue::Str(s)
            }
            Template::List(items) => {
                ParamValue::List(items.iter().map(|t| t.instantiate(index)).collect())
            }
        }
    }
}

fn has_substitution(value: &ParamValue) -> bool {
    match value {
        ParamValue::Str(s) => s.contains("${"),
        ParamValue::List(items) => items.iter().any(has_substitution),
        _ => false,
    }
}

/// The `${…}` parts of `text`: (span of the expression inside the braces).
fn parts(text: &str) -> Result<Vec<Range<usize>>, TemplateError> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(k) = text[from..].find("${") {
        let open = from + k;
        let Some(len) = text[open..].find('}') else {
            return Err(
                ExprError::new("`${` without a closing `}`", open..text.len())
                    .hint("write ${expression}, e.g. ${i * 4}"),
            );
        };
        out.push(open + 2..open + len);
        from = open + len + 1;
    }
    Ok(out)
}

fn compile_text(text: &str, env: &Env, indexed: bool) -> Result<Template, TemplateError> {
    let mut scope = env.scope().clone();
    if indexed && !env.contains(INDEX) {
        scope.input(INDEX, 64);
    }
    let compile = |span: &Range<usize>| -> Result<Program, ExprError> {
        Program::compile(&text[span.clone()], &scope).map_err(|e| ExprError {
            span: e.span.start + span.start..e.span.end + span.start,
            hint: if !indexed && text[span.clone()].trim() == INDEX {
                Some("`i` is the element index, known only in arrays (`count: N`)".to_string())
            } else {
                e.hint
            },
            ..e
        })
    };
    let spans = parts(text)?;
    let pass_through = |span: &Range<usize>| {
        let name = text[span.clone()].trim();
        env.get(name).filter(|v| as_integer(v).is_none())
    };
    if let [span] = spans.as_slice() {
        if span.start == 2 && span.end + 1 == text.len() {
            if let Some(value) = pass_through(span) {
                return Ok(Template::Plain(value.clone()));
            }
            return Ok(Template::Whole(compile(span)?));
        }
    }
    let mut pieces = Vec::new();
    let mut at = 0;
    for span in &spans {
        pieces.push(Piece::Literal(text[at..span.start - 2].to_string()));
        match pass_through(span) {
            Some(ParamValue::Str(s)) => pieces.push(Piece::Literal(s.clone())),
            Some(ParamValue::Real(v)) => pieces.push(Piece::Literal(format!("{v:?}"))),
            Some(other) => pieces.push(Piece::Literal(other.to_string())),
            None => pieces.push(Piece::Expr(compile(span)?)),
        }
        at = span.end + 1;
    }
    pieces.push(Piece::Literal(text[at..].to_string()));
    Ok(Template::Text(pieces))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env::new(vec![
            ("rows".into(), ParamValue::Int(64)),
            ("thr".into(), ParamValue::Real(2.5)),
            ("name".into(), ParamValue::Str("px".into())),
            ("on".into(), ParamValue::Bool(true)),
        ])
    }

    fn value(text: &str, indexed: bool, i: u64) -> ParamValue {
        Template::compile(&ParamValue::Str(text.into()), &env(), indexed)
            .unwrap()
            .instantiate(i)
    }

    #[test]
    fn whole_expressions_give_integers_and_names_pass_through() {
        assert_eq!(value("${rows * 2 + i}", true, 3), ParamValue::Int(131));
        assert_eq!(value("${i - 1}", true, 0), ParamValue::Int(-1));
        assert_eq!(value("${on}", false, 0), ParamValue::Int(1));
        assert_eq!(value("${thr}", false, 0), ParamValue::Real(2.5));
        assert_eq!(value("${ name }", false, 0), ParamValue::Str("px".into()));
    }

    #[test]
    fn parts_are_substituted_into_text() {
        assert_eq!(
            value("${name}_${i}.hex: ${thr}", true, 7),
            ParamValue::Str("px_7.hex: 2.5".into())
        );
        assert_eq!(
            value("y: ${rows} = a", false, 0),
            ParamValue::Str("y: 64 = a".into())
        );
        let list = ParamValue::List(vec![ParamValue::Str("a: ${i + 1}".into())]);
        let t = Template::compile(&list, &env(), true).unwrap();
        assert_eq!(
            t.instantiate(4),
            ParamValue::List(vec![ParamValue::Str("a: 5".into())])
        );
        assert!(Template::compile(&ParamValue::Int(3), &env(), true)
            .unwrap()
            .is_plain());
    }

    #[test]
    fn mistakes_point_into_the_string() {
        let e = Template::compile(&ParamValue::Str("x${rowz}".into()), &env(), false).unwrap_err();
        assert_eq!(e.span, 3..7);
        assert!(e.hint.unwrap().contains("rows"));
        let e = Template::compile(&ParamValue::Str("${i}".into()), &env(), false).unwrap_err();
        assert!(e.hint.unwrap().contains("element index"));
        let e = Template::compile(&ParamValue::Str("a${1 +".into()), &env(), false).unwrap_err();
        assert!(e.message.contains("closing"), "{}", e.message);
        assert_eq!(env().integer("rows / 4").unwrap(), 16);
    }
}
