//! Signed arithmetic, as Verilog has it: a value is signed when it comes
//! from an input or output declared `signed` (`"x: signed 8"`), from
//! `signed(x)` (or `$signed(x)`), or from operators on signed operands, and
//! a plain number takes the other operand's kind. A signed value is held
//! sign-extended to 64 bits, so `<`, `<=`, `>`, `>=`, `/`, `%`, `min`,
//! `max` and `abs` of two signed operands compare and divide as two's
//! complement, and `>>>` of a signed left operand shifts in its sign. Mixed
//! with an unsigned operand, or under an operator that counts bits (`>>`,
//! `popcount`, `clz`, …), a signed value counts by its declared bits (a
//! signed sum, whose width is not declared, by its 64-bit extension); and a
//! result is masked to the width of the port it lands on, as any other.

use super::functions::Func;
use super::parse::{BinOp, Node, UnOp};
use super::Scope;

/// Whether `node` is signed.
pub(super) fn is_signed(node: &Node, scope: &Scope) -> bool {
    match node {
        Node::Name(name, _) => scope.is_signed(name),
        Node::Call(Func::Signed, ..) => true,
        Node::Call(Func::Abs, args, _) => args.first().is_some_and(|a| is_signed(a, scope)),
        Node::Call(Func::Min | Func::Max, args, _) => match args.as_slice() {
            [a, b] => both(a, b, scope),
            _ => false,
        },
        Node::Unary(UnOp::Neg | UnOp::Not, a) => is_signed(a, scope),
        Node::Binary(op, a, b) => match op {
            BinOp::Add
            | BinOp::Sub
            | BinOp::Mul
            | BinOp::Div
            | BinOp::Rem
            | BinOp::And
            | BinOp::Or
            | BinOp::Xor => both(a, b, scope),
            // `>>` is logical, on the declared bits: its result is unsigned.
            BinOp::Shl | BinOp::Sar => is_signed(a, scope),
            _ => false,
        },
        Node::Cond(_, a, b) => both(a, b, scope),
        _ => false,
    }
}

/// Whether `a` and `b` make a signed operation: both signed, or one, and
/// the other a plain number.
pub(super) fn both(a: &Node, b: &Node, scope: &Scope) -> bool {
    // Each side once: `is_signed` walks its operand, so asking twice per
    // level would make a long chain of signed operations exponential.
    let (sa, sb) = (is_signed(a, scope), is_signed(b, scope));
    (sa || plain(a)) && (sb || plain(b)) && (sa || sb)
}

/// Whether `a` and `b` mix a signed operand with an unsigned one: then the
/// signed one counts by its declared bits, not its sign extension.
pub(super) fn mixed(a: &Node, b: &Node, scope: &Scope) -> bool {
    let (sa, sb) = (is_signed(a, scope), is_signed(b, scope));
    (sa || sb) && !((sa || plain(a)) && (sb || plain(b)))
}

/// Whether `node` is a plain number (`5`, `-1`), which takes the other
/// side's kind.
fn plain(node: &Node) -> bool {
    match node {
        Node::Num(_) => true,
        Node::Unary(UnOp::Neg | UnOp::Not, a) => plain(a),
        _ => false,
    }
}

/// The operator to apply for `op` on `a` and `b`: its signed twin when
/// both are signed (or one is, and the other a plain number).
pub(super) fn choose(op: BinOp, a: &Node, b: &Node, scope: &Scope) -> BinOp {
    match (op, both(a, b, scope)) {
        (BinOp::Sar, _) if !is_signed(a, scope) => BinOp::Shr,
        (BinOp::Lt, true) => BinOp::SLt,
        (BinOp::Le, true) => BinOp::SLe,
        (BinOp::Gt, true) => BinOp::SGt,
        (BinOp::Ge, true) => BinOp::SGe,
        (BinOp::Div, true) => BinOp::SDiv,
        (BinOp::Rem, true) => BinOp::SRem,
        (BinOp::Min, true) => BinOp::SMin,
        (BinOp::Max, true) => BinOp::SMax,
        (op, _) => op,
    }
}
