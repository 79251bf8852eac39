//! Model parameters: the values a netlist gives, the declarations a model
//! makes, and the validation between them.
//!
//! A model declares each parameter with a [`ParamDecl`] (kind, default,
//! range, documentation). The loader checks a component's parameters against
//! those declarations *before* the model's constructor runs, so constructors
//! receive a complete, well-typed [`Params`] and only check what relates
//! parameters to each other.

use std::fmt;

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};

/// A parameter value as written in a circuit file or a [`params!`](crate::params!) list.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    /// An integer (wide enough for any `u64` and any `i64`).
    Int(i128),
    /// A real number.
    Real(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(String),
    /// A list of values.
    List(Vec<ParamValue>),
}

impl ParamValue {
    /// A short name of the value's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            ParamValue::Int(_) => "an integer",
            ParamValue::Real(_) => "a real number",
            ParamValue::Bool(_) => "a boolean",
            ParamValue::Str(_) => "a string",
            ParamValue::List(_) => "a list",
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Real(v) => write!(f, "{v:?}"),
            ParamValue::Bool(v) => write!(f, "{v}"),
            ParamValue::Str(v) => write!(f, "{v:?}"),
            ParamValue::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for ParamValue {
            fn from(v: $t) -> Self { ParamValue::Int(v as i128) }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

impl From<f64> for ParamValue {
    fn from(v: f64) -> Self {
        ParamValue::Real(v)
    }
}
impl From<bool> for ParamValue {
    fn from(v: bool) -> Self {
        ParamValue::Bool(v)
    }
}
impl From<&str> for ParamValue {
    fn from(v: &str) -> Self {
        ParamValue::Str(v.to_string())
    }
}
impl From<String> for ParamValue {
    fn from(v: String) -> Self {
        ParamValue::Str(v)
    }
}
impl<T: Into<ParamValue>> From<Vec<T>> for ParamValue {
    fn from(v: Vec<T>) -> Self {
        ParamValue::List(v.into_iter().map(Into::into).collect())
    }
}

impl<'de> Deserialize<'de> for ParamValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = ParamValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer, a real number, a boolean, a string or a list")
            }
            fn visit_bool<E>(self, v: bool) -> Result<ParamValue, E> {
                Ok(ParamValue::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<ParamValue, E> {
                Ok(ParamValue::Int(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<ParamValue, E> {
                Ok(ParamValue::Int(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<ParamValue, E> {
                Ok(ParamValue::Real(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<ParamValue, E> {
                Ok(ParamValue::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<ParamValue, E> {
                Ok(ParamValue::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ParamValue, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(ParamValue::List(items))
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// What kind of value a parameter takes.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamKind {
    /// An integer in `min..=max`.
    Int {
        /// Smallest value allowed.
        min: i128,
        /// Largest value allowed.
        max: i128,
    },
    /// A real number (integers are accepted too).
    Real,
    /// An integer or a real number; the model decides how to read it.
    Number,
    /// `true` or `false`.
    Bool,
    /// One of a fixed set of strings.
    Choice(Vec<&'static str>),
    /// Any string.
    Str,
    /// A list of strings.
    StrList,
    /// A command line: a list of strings, where numbers and booleans
    /// (a `${…}` parameter, say) are taken as their text.
    Args,
    /// A list of integers in `min..=max`.
    IntList {
        /// Smallest value allowed.
        min: i128,
        /// Largest value allowed.
        max: i128,
    },
}

impl fmt::Display for ParamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamKind::Int { min, max } => write!(f, "integer {min}..={max}"),
            ParamKind::Real => f.write_str("real"),
            ParamKind::Number => f.write_str("integer or real"),
            ParamKind::Bool => f.write_str("bool"),
            ParamKind::Str => f.write_str("string"),
            ParamKind::Choice(choices) => write!(f, "one of {}", choices.join("|")),
            ParamKind::StrList => f.write_str("list of strings"),
            ParamKind::Args => f.write_str("list of strings (numbers as text)"),
            ParamKind::IntList { min, max } => write!(f, "list of integers {min}..={max}"),
        }
    }
}

/// A model's declaration of one parameter.
#[derive(Clone, Debug)]
pub struct ParamDecl {
    /// The parameter's name, as written in circuits.
    pub name: &'static str,
    /// What values it takes.
    pub kind: ParamKind,
    /// The value used when the circuit gives none; `None` makes it required.
    pub default: Option<ParamValue>,
    /// One line saying what it does.
    pub doc: &'static str,
}

impl ParamDecl {
    /// An integer parameter in `min..=max`.
    pub fn int(name: &'static str, min: i128, max: i128, doc: &'static str) -> Self {
        Self::new(name, ParamKind::Int { min, max }, doc)
    }
    /// A bit width, 1..=64.
    pub fn width(doc: &'static str) -> Self {
        Self::int("width", 1, 64, doc).default(32)
    }
    /// A real parameter.
    pub fn real(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, ParamKind::Real, doc)
    }
    /// A parameter that takes an integer or a real number.
    pub fn number(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, ParamKind::Number, doc)
    }
    /// A boolean parameter.
    pub fn bool(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, ParamKind::Bool, doc)
    }
    /// A string parameter.
    pub fn string(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, ParamKind::Str, doc)
    }
    /// A parameter taking one of `choices`.
    pub fn choice(name: &'static str, choices: &[&'static str], doc: &'static str) -> Self {
        Self::new(name, ParamKind::Choice(choices.to_vec()), doc)
    }
    /// A list of strings.
    pub fn string_list(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, ParamKind::StrList, doc)
    }

    /// A declaration of a command line: a list of strings, numbers and
    /// booleans taken as their text (read with [`Params::str_list`]).
    pub fn args(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, ParamKind::Args, doc)
    }
    /// A list of integers in `min..=max`.
    pub fn int_list(name: &'static str, min: i128, max: i128, doc: &'static str) -> Self {
        Self::new(name, ParamKind::IntList { min, max }, doc)
    }
    fn new(name: &'static str, kind: ParamKind, doc: &'static str) -> Self {
        ParamDecl {
            name,
            kind,
            default: None,
            doc,
        }
    }
    /// Give the parameter a default, which makes it optional.
    pub fn default(mut self, value: impl Into<ParamValue>) -> Self {
        self.default = Some(value.into());
        self
    }

    /// Check `value` against this declaration; `Ok` holds the value in its canonical form.
    fn check(&self, value: &ParamValue) -> Result<ParamValue, String> {
        let in_range = |v: i128, min: i128, max: i128| {
            if (min..=max).contains(&v) {
                Ok(())
            } else {
                Err(format!(
                    "{} is out of range {}..={}",
                    int_text(v),
                    int_text(min),
                    int_text(max)
                ))
            }
        };
        match (&self.kind, value) {
            (ParamKind::Int { min, max }, ParamValue::Int(v)) => {
                in_range(*v, *min, *max).map(|_| value.clone())
            }
            (ParamKind::Real, ParamValue::Int(v)) => Ok(ParamValue::Real(*v as f64)),
            (ParamKind::Real | ParamKind::Number, ParamValue::Real(_))
            | (ParamKind::Number, ParamValue::Int(_))
            | (ParamKind::Bool, ParamValue::Bool(_))
            | (ParamKind::Str, ParamValue::Str(_)) => Ok(value.clone()),
            (ParamKind::Choice(choices), ParamValue::Str(s)) => {
                if choices.contains(&s.as_str()) {
                    Ok(value.clone())
                } else {
                    Err(format!("{s:?} is not one of {}", choices.join(", ")))
                }
            }
            (ParamKind::StrList, ParamValue::List(items)) => {
                match items.iter().find(|i| !matches!(i, ParamValue::Str(_))) {
                    Some(other) => Err(format!("list holds {}", other.kind_name())),
                    None => Ok(value.clone()),
                }
            }
            (ParamKind::Args, ParamValue::List(items)) => items
                .iter()
                .map(|item| match item {
                    ParamValue::Str(_) => Ok(item.clone()),
                    ParamValue::Int(v) => Ok(ParamValue::Str(v.to_string())),
                    ParamValue::Real(v) => Ok(ParamValue::Str(v.to_string())),
                    ParamValue::Bool(v) => Ok(ParamValue::Str(v.to_string())),
                    ParamValue::List(_) => Err("list holds a list".to_string()),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(ParamValue::List),
            (ParamKind::IntList { min, max }, ParamValue::List(items)) => {
                for item in items {
                    match item {
                        ParamValue::Int(v) => in_range(*v, *min, *max)?,
                        other => return Err(format!("list holds {}", other.kind_name())),
                    }
                }
                Ok(value.clone())
            }
            (kind, other) => Err(format!("expected {kind}, found {}", other.kind_name())),
        }
    }
}

/// Why a set of parameters was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ParamError {
    /// The circuit names a parameter the model does not declare.
    #[error("unknown parameter `{name}`")]
    Unknown {
        /// The parameter as written.
        name: String,
        /// The parameters the model does declare.
        known: Vec<&'static str>,
    },
    /// A required parameter is missing.
    #[error("missing required parameter `{name}` ({kind})")]
    Missing {
        /// The parameter.
        name: &'static str,
        /// What it takes.
        kind: String,
    },
    /// A value of the wrong kind or out of range.
    #[error("parameter `{name}`: {message}")]
    Invalid {
        /// The parameter.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// A mistake inside a string value (an expression, a declaration), with
    /// the part of the string it is about.
    #[error("parameter `{name}`: {message}")]
    InValue {
        /// The parameter.
        name: String,
        /// The string (the whole value, or the list item) holding the mistake.
        value: String,
        /// Where in `value`, in bytes.
        span: std::ops::Range<usize>,
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: Option<String>,
    },
}

impl ParamError {
    /// An error about parameter `name`, for model constructors.
    pub fn invalid(name: &str, message: impl Into<String>) -> Self {
        ParamError::Invalid {
            name: name.to_string(),
            message: message.into(),
        }
    }

    /// An error inside the string `value` of parameter `name`.
    pub fn in_value(name: &str, value: &str, error: crate::expr::ExprError) -> Self {
        ParamError::InValue {
            name: name.to_string(),
            value: value.to_string(),
            span: error.span,
            message: error.message,
            hint: error.hint,
        }
    }

    /// The parameter the error is about.
    pub fn param_name(&self) -> &str {
        match self {
            ParamError::Unknown { name, .. }
            | ParamError::Invalid { name, .. }
            | ParamError::InValue { name, .. } => name,
            ParamError::Missing { name, .. } => name,
        }
    }
}

/// A complete, validated set of parameters: every declared parameter has a value.
#[derive(Clone, Debug, Default)]
pub struct Params {
    values: Vec<(&'static str, ParamValue)>,
}

impl Params {
    /// Validate `given` against `decls`, filling in defaults.
    pub fn resolve(
        decls: &[ParamDecl],
        given: &[(String, ParamValue)],
    ) -> Result<Self, ParamError> {
        for (name, _) in given {
            if !decls.iter().any(|d| d.name == name) {
                return Err(ParamError::Unknown {
                    name: name.clone(),
                    known: decls.iter().map(|d| d.name).collect(),
                });
            }
        }
        let mut values = Vec::with_capacity(decls.len());
        for decl in decls {
            let value = match given.iter().rev().find(|(n, _)| n == decl.name) {
                Some((_, v)) => decl
                    .check(v)
                    .map_err(|message| ParamError::invalid(decl.name, message))?,
                None => match &decl.default {
                    Some(v) => v.clone(),
                    None => {
                        return Err(ParamError::Missing {
                            name: decl.name,
                            kind: decl.kind.to_string(),
                        })
                    }
                },
            };
            values.push((decl.name, value));
        }
        Ok(Params { values })
    }

    fn get(&self, name: &str) -> Result<&ParamValue, ParamError> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| ParamError::invalid(name, "is not declared by the model"))
    }

    fn mismatch(name: &str, want: &str, got: &ParamValue) -> ParamError {
        ParamError::invalid(name, format!("expected {want}, found {}", got.kind_name()))
    }

    /// An integer parameter.
    pub fn int(&self, name: &str) -> Result<i128, ParamError> {
        match self.get(name)? {
            ParamValue::Int(v) => Ok(*v),
            other => Err(Self::mismatch(name, "an integer", other)),
        }
    }

    /// An integer parameter that fits `usize` (counts, sizes, indices).
    pub fn usize(&self, name: &str) -> Result<usize, ParamError> {
        let v = self.int(name)?;
        usize::try_from(v).map_err(|_| ParamError::invalid(name, format!("{v} is not a count")))
    }

    /// A bit width (1..=64), of the type [`PortType::Bits`](crate::PortType::Bits) takes.
    pub fn width(&self, name: &str) -> Result<u8, ParamError> {
        let v = self.int(name)?;
        match u8::try_from(v) {
            Ok(w @ 1..=64) => Ok(w),
            _ => Err(ParamError::invalid(
                name,
                format!("width {v} is not in 1..=64"),
            )),
        }
    }

    /// An integer parameter as a `width`-bit value; negative values are
    /// taken in two's complement. Errors if it does not fit.
    pub fn bits(&self, name: &str, width: u32) -> Result<u64, ParamError> {
        let v = self.int(name)?;
        let max = 1i128 << width;
        if v >= max || v < -(max / 2) {
            return Err(ParamError::invalid(
                name,
                format!("{v} does not fit in {width} bits"),
            ));
        }
        Ok((v as u64) & crate::value::mask(width))
    }

    /// A real parameter (integers are converted). Not a number and the
    /// infinities are refused: no standard model gives them a meaning.
    pub fn real(&self, name: &str) -> Result<f64, ParamError> {
        let v = match self.get(name)? {
            ParamValue::Real(v) => *v,
            ParamValue::Int(v) => *v as f64,
            other => return Err(Self::mismatch(name, "a real number", other)),
        };
        if v.is_finite() {
            Ok(v)
        } else {
            Err(ParamError::invalid(
                name,
                format!("is {}; give a finite number", real_text(v)),
            ))
        }
    }

    /// A boolean parameter.
    pub fn bool(&self, name: &str) -> Result<bool, ParamError> {
        match self.get(name)? {
            ParamValue::Bool(v) => Ok(*v),
            other => Err(Self::mismatch(name, "a boolean", other)),
        }
    }

    /// A string parameter.
    pub fn str(&self, name: &str) -> Result<&str, ParamError> {
        match self.get(name)? {
            ParamValue::Str(v) => Ok(v),
            other => Err(Self::mismatch(name, "a string", other)),
        }
    }

    /// A list of integers.
    pub fn int_list(&self, name: &str) -> Result<Vec<i128>, ParamError> {
        match self.get(name)? {
            ParamValue::List(items) => items
                .iter()
                .map(|item| match item {
                    ParamValue::Int(v) => Ok(*v),
                    other => Err(Self::mismatch(name, "a list of integers", other)),
                })
                .collect(),
            other => Err(Self::mismatch(name, "a list", other)),
        }
    }

    /// A list of strings.
    pub fn str_list(&self, name: &str) -> Result<Vec<&str>, ParamError> {
        match self.get(name)? {
            ParamValue::List(items) => items
                .iter()
                .map(|item| match item {
                    ParamValue::Str(v) => Ok(v.as_str()),
                    other => Err(Self::mismatch(name, "a list of strings", other)),
                })
                .collect(),
            other => Err(Self::mismatch(name, "a list", other)),
        }
    }

    /// Whether the parameter was given as a real number (for [`ParamKind::Number`]).
    pub fn is_real(&self, name: &str) -> Result<bool, ParamError> {
        Ok(matches!(self.get(name)?, ParamValue::Real(_)))
    }
}

/// Builds a parameter list: `params! { "width" => 8, "op" => "add" }`.
#[macro_export]
macro_rules! params {
    () => { ::std::vec::Vec::<(::std::string::String, $crate::ParamValue)>::new() };
    ($($name:expr => $value:expr),+ $(,)?) => {
        vec![$(($name.to_string(), $crate::ParamValue::from($value))),+]
    };
}

/// A real number for a message: as written where that is short, in
/// exponent form where it is very large or very small (`-1e308`, not 309
/// digits).
pub fn real_text(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || !v.is_finite() || (1e-4..1e15).contains(&a) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// An integer for a message: in full up to 20 digits (any 64-bit value), else in exponent
/// form.
pub fn int_text(v: i128) -> String {
    if v.unsigned_abs() < 100_000_000_000_000_000_000 {
        v.to_string()
    } else {
        real_text(v as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decls() -> Vec<ParamDecl> {
        vec![
            ParamDecl::width("bits"),
            ParamDecl::choice("op", &["add", "sub"], "operation"),
            ParamDecl::real("gain", "gain").default(1.0),
        ]
    }

    fn resolve(given: Vec<(String, ParamValue)>) -> Result<Params, ParamError> {
        Params::resolve(&decls(), &given)
    }

    #[test]
    fn defaults_fill_in_and_given_values_are_checked() {
        let p = resolve(crate::params! { "op" => "sub", "gain" => 2 }).unwrap();
        assert_eq!(p.width("width").unwrap(), 32);
        assert_eq!(p.str("op").unwrap(), "sub");
        assert_eq!(p.real("gain").unwrap(), 2.0);
    }

    #[test]
    fn unknown_missing_and_ill_typed_parameters_are_refused() {
        let unknown = resolve(crate::params! { "op" => "add", "wdth" => 3 });
        assert!(matches!(unknown, Err(ParamError::Unknown { ref name, .. }) if name == "wdth"));
        let missing = resolve(crate::params! {});
        assert!(matches!(
            missing,
            Err(ParamError::Missing { name: "op", .. })
        ));
        let bad = resolve(crate::params! { "op" => "mul" }).unwrap_err();
        assert_eq!(
            bad.to_string(),
            "parameter `op`: \"mul\" is not one of add, sub"
        );
        let range = resolve(crate::params! { "op" => "add", "width" => 65 });
        assert!(range
            .unwrap_err()
            .to_string()
            .contains("out of range 1..=64"));
        let kind = resolve(crate::params! { "op" => 1 }).unwrap_err();
        assert!(kind.to_string().contains("found an integer"));
    }

    #[test]
    fn bit_values_must_fit_their_width() {
        let decls = vec![ParamDecl::int(
            "value",
            i64::MIN.into(),
            u64::MAX.into(),
            "v",
        )];
        let p = |v: i128| Params::resolve(&decls, &[("value".into(), ParamValue::Int(v))]).unwrap();
        assert_eq!(p(255).bits("value", 8).unwrap(), 255);
        assert_eq!(p(-1).bits("value", 8).unwrap(), 255);
        crate::test_support::assert_err_contains(
            p(256).bits("value", 8),
            "256 does not fit in 8 bits",
        );
        crate::test_support::assert_err_contains(
            p(-129).bits("value", 8),
            "-129 does not fit in 8 bits",
        );
        assert_eq!(p(u64::MAX.into()).bits("value", 64).unwrap(), u64::MAX);
    }

    #[test]
    fn ron_values_deserialize_to_param_values() {
        let v: Vec<ParamValue> = ron::from_str(r#"[1, -2, 2.5, true, "x", [1, 2]]"#).unwrap();
        assert_eq!(
            v,
            vec![
                ParamValue::Int(1),
                ParamValue::Int(-2),
                ParamValue::Real(2.5),
                ParamValue::Bool(true),
                ParamValue::Str("x".into()),
                ParamValue::List(vec![ParamValue::Int(1), ParamValue::Int(2)]),
            ]
        );
    }
}
