//! Real numbers, for analog front-ends: inputs, outputs, registers,
//! temporaries and constants declared `name: real` hold IEEE-754 doubles.
//!
//! - literals: `1.5`, `2e-3`, `6.02e23` (a plain integer such as `2` or `-1`
//!   is taken as a real where a real is needed: `x * 2`);
//! - on reals: `+ - * /`, unary `-`, the comparisons `< <= > >= == !=`
//!   (they give bits, 0 or 1; every comparison with NaN is false but `!=`),
//!   `?:` with real branches, `min(a, b)` (`a < b ? a : b`), `max(a, b)`
//!   (`a > b ? a : b`), `clamp(x, lo, hi)` (`min(max(x, lo), hi)`, so NaN
//!   gives `lo`), `abs(x)`, `floor(x)` and `ceil(x)`;
//! - conversions, never implicit: `real(x)` is the double nearest to the
//!   bits `x` (as two's complement if `x` is signed); `bits(x, w)` rounds
//!   the real `x` towards zero and saturates to `0..=2^w - 1`; `sbits(x, w)`
//!   saturates to the `w`-bit two's complement range and is signed; NaN
//!   converts to 0.
//!
//! The arithmetic is IEEE double with round-to-nearest and no fast-math:
//! the same on every engine, worker count and machine. Which NaN an
//! operation produces is not specified (nothing can tell them apart).
//! Everything that only bits have (slices, `{…}`, `% << >> & | ^ ~ ! && ||`,
//! the bit-counting functions) is refused on a real with a located error
//! that says how to convert.
//!
//! This pass runs after the input arrays' expansion and before compiling:
//! it checks kinds and writes each real operation as its `F…` operator (or
//! as a bit operation on the sign: `-x` flips it, `abs(x)` clears it), so
//! the compiler, the columns and the lowering need no notion of kind.

use std::ops::Range;

use super::functions::Func;
use super::parse::{BinOp, Node, UnOp};
use super::{ExprError, Program, Scope};

/// What an expression computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Bits: an unsigned (or signed) integer of up to 64 bits.
    Bits,
    /// An IEEE-754 double.
    Real,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Bits => "bits",
            Kind::Real => "a real",
        }
    }
}

/// The sign bit of a double.
const SIGN: u64 = 1 << 63;

/// `node` with its real operations made explicit, and its kind; with a
/// `want`, a plain number adapts to it and any other kind is an error.
pub(super) fn resolve(
    node: &Node,
    scope: &Scope,
    want: Option<Kind>,
) -> Result<(Node, Kind), ExprError> {
    let (resolved, kind) = walk(node, scope)?;
    match (want, kind) {
        (None, _) => Ok((resolved, kind)),
        (Some(Kind::Real), Kind::Bits) => Ok((to_real(resolved, node)?, Kind::Real)),
        (Some(Kind::Bits), Kind::Real) => Err(ExprError::new(
            "this is a real, where bits are needed",
            span_of(node),
        )
        .hint("convert it with bits(x, width), or declare the port `name: real`")),
        (Some(want), _) => Ok((resolved, want)),
    }
}

fn walk(node: &Node, scope: &Scope) -> Result<(Node, Kind), ExprError> {
    let boxed = Box::new;
    Ok(match node {
        Node::Num(_) | Node::Sized(..) => (node.clone(), Kind::Bits),
        Node::Real(_) => (node.clone(), Kind::Real),
        Node::Name(name, _) => match scope.is_real(name) {
            true => (node.clone(), Kind::Real),
            false => (node.clone(), Kind::Bits),
        },
        Node::Unary(op, a) => match (op, walk(a, scope)?) {
            (op, (x, Kind::Bits)) => (Node::Unary(*op, boxed(x)), Kind::Bits),
            (UnOp::Neg, (x, Kind::Real)) => (
                Node::Binary(BinOp::Xor, boxed(x), boxed(Node::Num(SIGN))),
                Kind::Real,
            ),
            (op, _) => return Err(bits_only(&unary_text(*op), a)),
        },
        Node::Binary(op, a, b) => {
            let ((x, kx), (y, ky)) = (walk(a, scope)?, walk(b, scope)?);
            if (kx, ky) == (Kind::Bits, Kind::Bits) {
                return Ok((Node::Binary(*op, boxed(x), boxed(y)), Kind::Bits));
            }
            let (float, kind) = match op {
                BinOp::Add => (BinOp::FAdd, Kind::Real),
                BinOp::Sub => (BinOp::FSub, Kind::Real),
                BinOp::Mul => (BinOp::FMul, Kind::Real),
                BinOp::Div => (BinOp::FDiv, Kind::Real),
                BinOp::Lt => (BinOp::FLt, Kind::Bits),
                BinOp::Le => (BinOp::FLe, Kind::Bits),
                BinOp::Gt => (BinOp::FGt, Kind::Bits),
                BinOp::Ge => (BinOp::FGe, Kind::Bits),
                BinOp::Eq => (BinOp::FEq, Kind::Bits),
                BinOp::Ne => (BinOp::FNe, Kind::Bits),
                op => {
                    let real = if kx == Kind::Real { a } else { b };
                    return Err(bits_only(&format!("`{}`", binary_text(*op)), real));
                }
            };
            let (x, y) = (operand(x, kx, a)?, operand(y, ky, b)?);
            (Node::Binary(float, boxed(x), boxed(y)), kind)
        }
        Node::Cond(c, a, b) => {
            let (c2, kc) = walk(c, scope)?;
            if kc == Kind::Real {
                return Err(ExprError::new(
                    "a condition must be bits, and this is a real",
                    span_of(c),
                )
                .hint("compare it: `x != 0.0 ? …`"));
            }
            let ((x, kx), (y, ky)) = (walk(a, scope)?, walk(b, scope)?);
            if (kx, ky) == (Kind::Bits, Kind::Bits) {
                (Node::Cond(boxed(c2), boxed(x), boxed(y)), Kind::Bits)
            } else {
                let (x, y) = (operand(x, kx, a)?, operand(y, ky, b)?);
                (Node::Cond(boxed(c2), boxed(x), boxed(y)), Kind::Real)
            }
        }
        Node::Slice(a, hi, lo, span) => match walk(a, scope)? {
            (x, Kind::Bits) => (Node::Slice(boxed(x), *hi, *lo, span.clone()), Kind::Bits),
            _ => {
                return Err(ExprError::new("a real has no bits to slice", span_of(node))
                    .hint("convert it first: bits(x, 16)[3:0]"))
            }
        },
        Node::Concat(parts, span) => (
            Node::Concat(bits_parts(parts, scope)?, span.clone()),
            Kind::Bits,
        ),
        Node::Repeat(count, parts, span) => {
            let count = bits_parts(std::slice::from_ref(&**count), scope)?.remove(0);
            (
                Node::Repeat(boxed(count), bits_parts(parts, scope)?, span.clone()),
                Kind::Bits,
            )
        }
        Node::Call(func, args, span) => call(*func, args, span, scope)?,
    })
}

/// The parts of `{…}`, which must be bits.
fn bits_parts(parts: &[Node], scope: &Scope) -> Result<Vec<Node>, ExprError> {
    parts
        .iter()
        .map(|part| match walk(part, scope)? {
            (x, Kind::Bits) => Ok(x),
            _ => Err(bits_only("`{…}`", part)),
        })
        .collect()
}

fn call(
    func: Func,
    args: &[Node],
    span: &Range<usize>,
    scope: &Scope,
) -> Result<(Node, Kind), ExprError> {
    let walked = args
        .iter()
        .map(|a| walk(a, scope))
        .collect::<Result<Vec<_>, _>>()?;
    let any_real = walked.iter().any(|(_, k)| *k == Kind::Real);
    let reals = || -> Result<Vec<Node>, ExprError> {
        walked
            .iter()
            .zip(args)
            .map(|((x, k), a)| operand(x.clone(), *k, a))
            .collect()
    };
    let call = |args: Vec<Node>| Node::Call(func, args, span.clone());
    let binary = |op, mut xs: Vec<Node>| {
        let b = xs.pop().expect("two arguments");
        let a = xs.pop().expect("two arguments");
        Node::Binary(op, Box::new(a), Box::new(b))
    };
    let bits_args = || walked.iter().map(|(x, _)| x.clone()).collect::<Vec<_>>();
    Ok(match func {
        Func::Real => match walked[0].clone() {
            (x, Kind::Real) => (x, Kind::Real),
            (x, Kind::Bits) => {
                let op = match super::signed::is_signed(&x, scope) {
                    true => UnOp::RealOfSigned,
                    false => UnOp::RealOfUnsigned,
                };
                (Node::Unary(op, Box::new(x)), Kind::Real)
            }
        },
        Func::Bits | Func::Sbits => {
            let x = match &walked[0] {
                (x, Kind::Real) => x.clone(),
                _ => {
                    return Err(ExprError::new(
                        format!("{} converts a real, and this is bits", func.usage()),
                        span_of(&args[0]),
                    )
                    .hint("take bits with a slice instead: x[7:0]"))
                }
            };
            let w = width(func, &walked[1].0, span, scope)?;
            match func {
                Func::Bits => (Node::Unary(UnOp::BitsOfReal(w), Box::new(x)), Kind::Bits),
                _ => {
                    // Signed, so that comparisons and `/` see its sign.
                    let value = Node::Unary(UnOp::SignedBitsOfReal(w), Box::new(x));
                    let width = Node::Num(u64::from(w));
                    (
                        Node::Call(Func::Signed, vec![value, width], span.clone()),
                        Kind::Bits,
                    )
                }
            }
        }
        Func::Floor | Func::Ceil => {
            let op = match func {
                Func::Floor => UnOp::Floor,
                _ => UnOp::Ceil,
            };
            let x = match walked[0].clone() {
                (x, Kind::Real) => x,
                (x, Kind::Bits) if plain(&x) => to_real(x, &args[0])?,
                _ => {
                    return Err(ExprError::new(
                        format!("{} rounds a real, and this is bits", func.usage()),
                        span_of(&args[0]),
                    )
                    .hint("bits are whole already; convert with real(x) if a real is meant"))
                }
            };
            (Node::Unary(op, Box::new(x)), Kind::Real)
        }
        Func::Min if any_real => (binary(BinOp::FMin, reals()?), Kind::Real),
        Func::Max if any_real => (binary(BinOp::FMax, reals()?), Kind::Real),
        Func::Abs if any_real => {
            let x = reals()?.remove(0);
            (
                Node::Binary(BinOp::And, Box::new(x), Box::new(Node::Num(!SIGN))),
                Kind::Real,
            )
        }
        Func::Clamp => {
            let mut xs = if any_real { reals()? } else { bits_args() };
            let hi = xs.pop().expect("three arguments");
            let lo = xs.pop().expect("three arguments");
            let x = xs.pop().expect("three arguments");
            let node = match any_real {
                true => binary(BinOp::FMin, vec![binary(BinOp::FMax, vec![x, lo]), hi]),
                false => {
                    let max = Node::Call(Func::Max, vec![x, lo], span.clone());
                    Node::Call(Func::Min, vec![max, hi], span.clone())
                }
            };
            let kind = if any_real { Kind::Real } else { Kind::Bits };
            (node, kind)
        }
        _ if any_real => {
            let (_, real) = walked
                .iter()
                .zip(args)
                .find(|((_, k), _)| *k == Kind::Real)
                .expect("one is real");
            return Err(bits_only(func.usage(), real));
        }
        _ => (call(bits_args()), Kind::Bits),
    })
}

/// The constant width of `bits(x, w)` or `sbits(x, w)`.
fn width(func: Func, w: &Node, span: &Range<usize>, scope: &Scope) -> Result<u8, ExprError> {
    match Program::from_node(w, scope)?.constant() {
        Some(w @ 1..=64) => Ok(w as u8),
        Some(w) => Err(ExprError::new(
            format!("width {w} is not in 1..=64"),
            span.clone(),
        )),
        None => Err(ExprError::new(
            format!("the width of {} must be a constant", func.usage()),
            span.clone(),
        )),
    }
}

/// An operand of a real operation: a real, or a plain number taken as one.
fn operand(x: Node, kind: Kind, original: &Node) -> Result<Node, ExprError> {
    match kind {
        Kind::Real => Ok(x),
        Kind::Bits => to_real(x, original),
    }
}

/// A plain number as a real; anything else of bits is an error.
fn to_real(x: Node, original: &Node) -> Result<Node, ExprError> {
    match x {
        Node::Num(v) => Ok(Node::Real(v as f64)),
        Node::Unary(UnOp::Neg, a) if matches!(*a, Node::Num(_)) => {
            let Node::Num(v) = *a else { unreachable!() };
            Ok(Node::Real(-(v as f64)))
        }
        _ => Err(
            ExprError::new("this is bits, where a real is needed", span_of(original))
                .hint("convert it with real(x)"),
        ),
    }
}

/// Whether `node` is a plain number, which may stand for a real.
fn plain(node: &Node) -> bool {
    match node {
        Node::Num(_) => true,
        Node::Unary(UnOp::Neg, a) => matches!(**a, Node::Num(_)),
        _ => false,
    }
}

/// The error for a real operand of something only bits have.
fn bits_only(what: &str, real: &Node) -> ExprError {
    ExprError::new(
        format!("{what} takes bits, and this is {}", Kind::Real.name()),
        span_of(real),
    )
    .hint("convert it first with bits(x, width), or compare it: x != 0.0")
}

fn unary_text(op: UnOp) -> String {
    match op {
        UnOp::Not => "`~`".into(),
        UnOp::LogNot => "`!`".into(),
        UnOp::Clog2 => "clog2(x)".into(),
        other => format!("{other:?}"),
    }
}

fn binary_text(op: BinOp) -> &'static str {
    match op {
        BinOp::Rem => "%",
        BinOp::Shl => "<<",
        BinOp::Shr => ">>",
        BinOp::Sar => ">>>",
        BinOp::And => "&",
        BinOp::Or => "|",
        BinOp::Xor => "^",
        BinOp::LogAnd => "&&",
        BinOp::LogOr => "||",
        _ => "this operator",
    }
}

/// Where `node` is written, as far as its names, calls and brackets tell
/// (numbers carry no position); `0..0` if nothing does.
pub(super) fn span_of(node: &Node) -> Range<usize> {
    fn join(node: &Node, at: &mut Option<Range<usize>>) {
        let mut add = |s: &Range<usize>| {
            *at = Some(match at.take() {
                Some(r) => r.start.min(s.start)..r.end.max(s.end),
                None => s.clone(),
            })
        };
        match node {
            Node::Name(_, s) | Node::Call(_, _, s) | Node::Concat(_, s) | Node::Repeat(_, _, s) => {
                add(s)
            }
            Node::Slice(a, _, _, s) => {
                add(s);
                join(a, at);
            }
            Node::Unary(_, a) => join(a, at),
            Node::Binary(_, a, b) => {
                join(a, at);
                join(b, at);
            }
            Node::Cond(c, a, b) => {
                join(c, at);
                join(a, at);
                join(b, at);
            }
            Node::Num(_) | Node::Real(_) | Node::Sized(..) => {}
        }
    }
    let mut at = None;
    join(node, &mut at);
    at.unwrap_or(0..0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        let mut s = Scope::new();
        s.input("v", 64);
        s.mark_real("v");
        s.input("a", 8);
        s.input("n", 8);
        s.mark_signed("n");
        s.constant("HALF", 0.5f64.to_bits());
        s.mark_real("HALF");
        s.constant("K", 3);
        s
    }

    /// `text`'s value with v = -2.75, a = 200, n = -3; reals as `f64`.
    fn eval(text: &str) -> (u64, Kind) {
        let p = Program::from_node_as(
            &super::super::parse::expression(text).unwrap(),
            &scope(),
            None,
        )
        .unwrap_or_else(|e| panic!("{text}: {e}"));
        (
            p.eval(|i| [(-2.75f64).to_bits(), 200, (-3i64) as u64][i], &[]),
            p.kind(),
        )
    }

    #[test]
    fn every_real_operation_computes_what_ieee_doubles_do() {
        let reals: &[(&str, f64)] = &[
            ("v + 1.5", -1.25),
            ("v - HALF", -3.25),
            ("v * 2", -5.5),
            ("v / 0.5", -5.5),
            ("-v", 2.75),
            ("1 / (v - v)", f64::INFINITY),
            ("-1 / (v - v)", f64::NEG_INFINITY),
            ("floor(v)", -3.0),
            ("ceil(v)", -2.0),
            ("abs(v)", 2.75),
            ("min(v, 1)", -2.75),
            ("max(v, -1)", -1.0),
            ("clamp(v, -1, 1)", -1.0),
            ("clamp(v, -5.5, 1)", -2.75),
            ("real(a)", 200.0),
            ("real(n)", -3.0),
            ("real(a) / 3", 200.0 / 3.0),
            ("a > 100 ? v : 2", -2.75),
            ("a < 100 ? v : 2", 2.0),
            ("2.5e2 + 1_000.0", 1250.0),
            ("6.25E-2", 0.0625),
            ("v", -2.75),
        ];
        for (text, want) in reals {
            let (got, kind) = eval(text);
            assert_eq!(kind, Kind::Real, "{text}");
            assert_eq!(f64::from_bits(got), *want, "{text}");
        }
        let (nan, _) = eval("(v - v) / (v - v)");
        assert!(f64::from_bits(nan).is_nan());
        let bits: &[(&str, u64)] = &[
            ("v < 0", 1),
            ("v <= -2.75", 1),
            ("v > -3", 1),
            ("v >= HALF", 0),
            ("v == -2.75", 1),
            ("v != v", 0),
            ("(v - v) / (v - v) != 0.0", 1),
            ("(v - v) / (v - v) == 0.0", 0),
            ("(v - v) / (v - v) < 1", 0),
            ("bits(v, 8)", 0),
            ("bits(-v, 8)", 2),
            ("bits(v * -1000, 8)", 255),
            ("bits((v - v) / (v - v), 8)", 0),
            ("bits(1e30, 64)", u64::MAX),
            ("sbits(v, 8)", (-2i64) as u64),
            ("sbits(v * 1000, 8)", (-128i64) as u64),
            ("sbits(v, 8) < 0", 1),
            ("sbits(-v * 1000, 8)", 127),
            ("bits(real(a) * 1.5, 10)", 300),
            ("clamp(a, 10, 100)", 100),
            ("clamp(n, -2, 5)", (-2i64) as u64),
            ("bits(floor(v), 4)", 0),
            ("K + 1", 4),
        ];
        for (text, want) in bits {
            let (got, kind) = eval(text);
            assert_eq!(kind, Kind::Bits, "{text}");
            assert_eq!(got, *want, "{text}");
        }
    }

    #[test]
    fn mixing_reals_with_bits_is_a_located_error_that_says_how_to_convert() {
        let err = |text: &str, want: Option<Kind>| {
            let node = super::super::parse::expression(text).unwrap();
            Program::from_node_as(&node, &scope(), want).unwrap_err()
        };
        let cases: &[(&str, &str, std::ops::Range<usize>, &str)] = &[
            (
                "v + a",
                "this is bits, where a real is needed",
                4..5,
                "real(x)",
            ),
            (
                "v % 2",
                "`%` takes bits, and this is a real",
                0..1,
                "bits(x, width)",
            ),
            (
                "1 + (v << 2)",
                "`<<` takes bits, and this is a real",
                5..6,
                "bits(x, width)",
            ),
            (
                "~v",
                "`~` takes bits, and this is a real",
                1..2,
                "bits(x, width)",
            ),
            (
                "v[3:0]",
                "a real has no bits to slice",
                0..6,
                "bits(x, 16)[3:0]",
            ),
            (
                "{a, v}",
                "`{…}` takes bits, and this is a real",
                4..5,
                "bits(x, width)",
            ),
            (
                "v ? 1 : 2",
                "a condition must be bits, and this is a real",
                0..1,
                "x != 0.0",
            ),
            (
                "popcount(v)",
                "popcount(x) takes bits, and this is a real",
                9..10,
                "bits(x, width)",
            ),
            (
                "bits(a, 8)",
                "bits(x, width) converts a real, and this is bits",
                5..6,
                "x[7:0]",
            ),
            (
                "floor(a)",
                "floor(x) rounds a real, and this is bits",
                6..7,
                "real(x)",
            ),
            (
                "bits(v, a)",
                "the width of bits(x, width) must be a constant",
                0..10,
                "",
            ),
            ("sbits(v, 65)", "width 65 is not in 1..=64", 0..12, ""),
            (
                "a > 1 ? v : a",
                "this is bits, where a real is needed",
                12..13,
                "real(x)",
            ),
        ];
        for (text, message, span, hint) in cases {
            let e = err(text, None);
            assert_eq!(
                (e.message.as_str(), e.span.clone()),
                (*message, span.clone()),
                "{text}"
            );
            assert!(e.hint.unwrap_or_default().contains(hint), "{text}");
        }
        let e = err("v * 2", Some(Kind::Bits));
        assert_eq!(
            (e.message.as_str(), e.span.clone()),
            ("this is a real, where bits are needed", 0..1)
        );
        assert!(e.hint.unwrap().contains("bits(x, width)"));
        let e = err("a + 1", Some(Kind::Real));
        assert_eq!(e.message, "this is bits, where a real is needed");
        assert_eq!(
            Program::compile("clamp(v, 1)", &scope())
                .unwrap_err()
                .message,
            "clamp(x, lo, hi) takes three arguments, not 2"
        );
        // A plain number is a real where one is needed.
        let node = super::super::parse::expression("-3").unwrap();
        let p = Program::from_node_as(&node, &scope(), Some(Kind::Real)).unwrap();
        assert_eq!(p.constant().map(f64::from_bits), Some(-3.0));
    }
}
