//! The expression language's functions: which exist, how many arguments
//! each takes, and what a call compiles to. Bit-counting functions that
//! depend on a width (`clz`, `ctz`, `reverse`) take it from their argument
//! (a declared input or output, or a slice) or from an explicit second
//! argument, a constant: `clz(x)`, `clz(x[11:0])`, `clz(a + b, 9)`.

use std::ops::Range;

use super::parse::{BinOp, Node, UnOp};
use super::{ExprError, Scope};

/// A function of the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// `clog2(x)`: ⌈log₂ x⌉, Verilog's `$clog2`.
    Clog2,
    /// `popcount(x)`: the bits set.
    Popcount,
    /// `parity(x)`: 1 if an odd number of bits is set.
    Parity,
    /// `clz(x[, width])`: leading zeros within the width (the width for 0).
    Clz,
    /// `ctz(x[, width])`: trailing zeros within the width (the width for 0).
    Ctz,
    /// `reverse(x[, width])`: the low `width` bits in reverse order.
    Reverse,
    /// `min(a, b)` (signed when both are).
    Min,
    /// `max(a, b)` (signed when both are).
    Max,
    /// `signed(x[, width])`, Verilog's `$signed`: the low bits as a two's
    /// complement number.
    Signed,
    /// `unsigned(x)`, Verilog's `$unsigned`: `x`, taken as unsigned.
    Unsigned,
    /// `abs(x)`: the magnitude of a signed `x` (an unsigned `x` itself).
    Abs,
    /// `sum(in)`: the elements of an input array added (see `arrays`).
    Sum,
    /// `and(in)`, `or(in)`, `xor(in)`: the elements of an input array
    /// combined bit by bit.
    And,
    /// See [`Func::And`].
    Or,
    /// See [`Func::And`].
    Xor,
    /// `real(x)`: the double nearest to the bits `x` (see [`real`](super::real)).
    Real,
    /// `bits(x, width)`: the real `x` towards zero, saturated to `width` bits.
    Bits,
    /// `sbits(x, width)`: the real `x` towards zero, saturated to the
    /// `width`-bit two's complement range, signed.
    Sbits,
    /// `floor(x)` of a real.
    Floor,
    /// `ceil(x)` of a real.
    Ceil,
    /// `clamp(x, lo, hi)`: `min(max(x, lo), hi)`, of bits or of reals.
    Clamp,
}

/// Every function, by name, with its usage.
const FUNCTIONS: [(&str, Func, &str); 21] = [
    ("clog2", Func::Clog2, "clog2(x)"),
    ("popcount", Func::Popcount, "popcount(x)"),
    ("parity", Func::Parity, "parity(x)"),
    ("clz", Func::Clz, "clz(x[, width])"),
    ("ctz", Func::Ctz, "ctz(x[, width])"),
    ("reverse", Func::Reverse, "reverse(x[, width])"),
    ("min", Func::Min, "min(a, b)"),
    ("max", Func::Max, "max(a, b)"),
    ("signed", Func::Signed, "signed(x[, width])"),
    ("unsigned", Func::Unsigned, "unsigned(x)"),
    ("abs", Func::Abs, "abs(x)"),
    ("sum", Func::Sum, "sum(array)"),
    ("and", Func::And, "and(array)"),
    ("or", Func::Or, "or(array)"),
    ("xor", Func::Xor, "xor(array)"),
    ("clamp", Func::Clamp, "clamp(x, lo, hi)"),
    ("real", Func::Real, "real(x)"),
    ("bits", Func::Bits, "bits(x, width)"),
    ("sbits", Func::Sbits, "sbits(x, width)"),
    ("floor", Func::Floor, "floor(x)"),
    ("ceil", Func::Ceil, "ceil(x)"),
];

impl Func {
    /// The function called `name`, or an error at `span` that lists them.
    pub fn named(name: &str, span: Range<usize>) -> Result<Func, ExprError> {
        // Verilog's system functions are these too.
        let name = match name {
            "$signed" | "$unsigned" | "$clog2" => &name[1..],
            other => other,
        };
        match FUNCTIONS.iter().find(|(n, ..)| *n == name) {
            Some(&(_, f, _)) => Ok(f),
            None => {
                let names = FUNCTIONS.iter().map(|(n, ..)| *n);
                let hint = match crate::suggest::closest(name, names) {
                    Some(c) => format!("did you mean `{c}`? the functions: {}", usage()),
                    None => format!("the functions: {}", usage()),
                };
                Err(ExprError::new(format!("unknown function `{name}`"), span).hint(hint))
            }
        }
    }

    pub(super) fn usage(self) -> &'static str {
        FUNCTIONS
            .iter()
            .find(|(_, f, _)| *f == self)
            .map_or("", |(.., u)| u)
    }

    /// The arguments it takes: at least, at most.
    fn arity(self) -> (usize, usize) {
        match self {
            Func::Clog2 | Func::Popcount | Func::Parity | Func::Unsigned | Func::Abs => (1, 1),
            Func::Sum | Func::And | Func::Or | Func::Xor => (1, 1),
            Func::Real | Func::Floor | Func::Ceil => (1, 1),
            Func::Bits | Func::Sbits => (2, 2),
            Func::Clamp => (3, 3),
            Func::Clz | Func::Ctz | Func::Reverse | Func::Signed => (1, 2),
            Func::Min | Func::Max => (2, 2),
        }
    }

    /// An error unless `given` arguments suit it.
    pub fn check_arity(self, given: usize, span: Range<usize>) -> Result<(), ExprError> {
        let (least, most) = self.arity();
        if (least..=most).contains(&given) {
            return Ok(());
        }
        let takes = match (least, most) {
            (1, 1) => "one argument".to_string(),
            (2, 2) => "two arguments".to_string(),
            (3, 3) => "three arguments".to_string(),
            _ => "one or two arguments".to_string(),
        };
        Err(ExprError::new(
            format!("{} takes {takes}, not {given}", self.usage()),
            span,
        ))
    }
}

fn usage() -> String {
    FUNCTIONS
        .iter()
        .map(|(.., u)| *u)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A call, as the compiler sees it: a unary operator on one argument, a
/// binary one on two, or the argument itself.
pub(super) enum Lowered<'a> {
    Unary(UnOp, &'a Node),
    Binary(BinOp, &'a Node, &'a Node),
    Same(&'a Node),
    /// The argument and'ed with a mask (its bits, without a sign).
    Masked(&'a Node, u64),
}

/// What `func(args)` at `span` compiles to, given the names in `scope`
/// (for the widths of `clz`, `ctz` and `reverse`); `constant` folds a
/// width argument.
pub(super) fn call<'a>(
    func: Func,
    args: &'a [Node],
    span: &Range<usize>,
    scope: &Scope,
    constant: impl Fn(&Node) -> Result<Option<u64>, ExprError>,
) -> Result<Lowered<'a>, ExprError> {
    func.check_arity(args.len(), span.clone())?;
    let width = || -> Result<u8, ExprError> {
        let w = match args.get(1) {
            Some(w) => match constant(w)? {
                Some(w) => w,
                None => {
                    return Err(ExprError::new(
                        format!("the width of {} must be a constant", func.usage()),
                        span.clone(),
                    ))
                }
            },
            None => match super::concat::width_of(&args[0], scope) {
                Some(w) => u64::from(w),
                None => {
                    return Err(ExprError::new(
                        format!("{} needs the width of its argument", func.usage()),
                        span.clone(),
                    )
                    .hint("give a declared input or output, a slice such as x[11:0], or the width: clz(a + b, 9)"))
                }
            },
        };
        match w {
            1..=64 => Ok(w as u8),
            _ => Err(ExprError::new(
                format!("width {w} is not in 1..=64"),
                span.clone(),
            )),
        }
    };
    Ok(match func {
        Func::Clog2 => Lowered::Unary(UnOp::Clog2, &args[0]),
        Func::Popcount => Lowered::Unary(UnOp::Popcount, &args[0]),
        Func::Parity => Lowered::Unary(UnOp::Parity, &args[0]),
        Func::Clz => Lowered::Unary(UnOp::Clz(width()?), &args[0]),
        Func::Ctz => Lowered::Unary(UnOp::Ctz(width()?), &args[0]),
        Func::Reverse => Lowered::Unary(UnOp::Reverse(width()?), &args[0]),
        Func::Min => Lowered::Binary(BinOp::Min, &args[0], &args[1]),
        Func::Max => Lowered::Binary(BinOp::Max, &args[0], &args[1]),
        // A signed name is sign-extended as it is read already.
        Func::Signed if args.len() == 1 && super::signed::is_signed(&args[0], scope) => {
            Lowered::Same(&args[0])
        }
        Func::Signed => Lowered::Unary(UnOp::SignExtend(width()?), &args[0]),
        // A signed name's bits, not their sign extension.
        Func::Unsigned => match super::concat::width_of(&args[0], scope) {
            Some(w) if super::signed::is_signed(&args[0], scope) => {
                Lowered::Masked(&args[0], crate::value::mask(w))
            }
            _ => Lowered::Same(&args[0]),
        },
        Func::Abs if super::signed::is_signed(&args[0], scope) => {
            Lowered::Unary(UnOp::Abs, &args[0])
        }
        Func::Abs => Lowered::Same(&args[0]),
        // An input array's reduction is expanded before this (`arrays`).
        Func::Sum | Func::And | Func::Or | Func::Xor => {
            return Err(ExprError::new(
                format!("{} reduces an input array", func.usage()),
                span.clone(),
            )
            .hint("declare one in `inputs` as `in[8]: 4`, then write sum(in)"))
        }
        // Written out by the pass over kinds (`real`) before this.
        Func::Real | Func::Bits | Func::Sbits | Func::Floor | Func::Ceil | Func::Clamp => {
            return Err(ExprError::new(
                format!("{} was not resolved", func.usage()),
                span.clone(),
            ))
        }
    })
}
