//! Concatenation `{a, b[3:0], 4'd9}` and replication `{4{x}}`, Verilog's,
//! and the widths they need: each part's is known where the part is plain
//! (a declared input or output, a slice, a sized literal, a concatenation,
//! or `reverse(x, w)`), and the whole is at most 64 bits. A concatenation
//! compiles to shifts, masks and ors.

use std::ops::Range;

use super::functions::Func;
use super::parse::{BinOp, Node};
use super::{ExprError, Scope, Symbol};

/// The width of `node` where it is plain, else `None`.
pub(super) fn width_of(node: &Node, scope: &Scope) -> Option<u32> {
    match node {
        Node::Name(name, _) => match scope.lookup(name)? {
            Symbol::Input { width, .. } | Symbol::Local { width, .. } => Some(width),
            Symbol::Constant(_) => None,
        },
        Node::Slice(_, hi, lo, _) => Some(hi - lo + 1),
        Node::Sized(_, w) => Some(*w),
        Node::Concat(parts, _) => parts.iter().map(|p| width_of(p, scope)).sum(),
        Node::Repeat(count, parts, _) => {
            let n = constant(count, scope)?;
            let one: u32 = parts
                .iter()
                .map(|p| width_of(p, scope))
                .sum::<Option<u32>>()?;
            u32::try_from(n).ok()?.checked_mul(one)
        }
        Node::Call(Func::Reverse | Func::Signed, args, _) => match args.get(1) {
            Some(w) => constant(w, scope).and_then(|w| u32::try_from(w).ok()),
            None => width_of(&args[0], scope),
        },
        _ => None,
    }
}

/// The value of a plain constant: a number or a named constant.
fn constant(node: &Node, scope: &Scope) -> Option<u64> {
    match node {
        Node::Num(v) | Node::Sized(v, _) => Some(*v),
        Node::Name(name, _) => match scope.lookup(name)? {
            Symbol::Constant(v) => Some(v),
            _ => None,
        },
        _ => None,
    }
}

/// `{parts}` as shifts, masks and ors, most significant part first.
pub(super) fn concat(
    parts: &[Node],
    span: &Range<usize>,
    scope: &Scope,
) -> Result<Node, ExprError> {
    let mut total = 0u32;
    let mut whole: Option<Node> = None;
    for part in parts {
        let Some(width) = width_of(part, scope) else {
            return Err(ExprError::new("a part of `{…}` has no width", span.clone()).hint(
                "each part needs one: a declared input or output, a slice such as x[3:0], or a sized literal such as 4'd9",
            ));
        };
        total = total.saturating_add(width);
        if total > 64 {
            return Err(ExprError::new(
                format!("`{{…}}` is {total} bits wide or more, past 64"),
                span.clone(),
            ));
        }
        let masked = Node::Binary(
            BinOp::And,
            Box::new(part.clone()),
            Box::new(Node::Num(crate::value::mask(width))),
        );
        whole = Some(match whole {
            None => masked,
            Some(high) => Node::Binary(
                BinOp::Or,
                Box::new(Node::Binary(
                    BinOp::Shl,
                    Box::new(high),
                    Box::new(Node::Num(u64::from(width))),
                )),
                Box::new(masked),
            ),
        });
    }
    Ok(whole.unwrap_or(Node::Num(0)))
}

/// `{count{parts}}` as the concatenation of `count` copies of `parts`.
pub(super) fn repeat(
    count: &Node,
    parts: &[Node],
    span: &Range<usize>,
    scope: &Scope,
) -> Result<Node, ExprError> {
    let n = match constant(count, scope) {
        Some(n @ 1..=64) => n as usize,
        Some(n) => {
            return Err(ExprError::new(
                format!("a replication count of {n} is not in 1..=64"),
                span.clone(),
            ))
        }
        None => {
            return Err(ExprError::new(
                "the count of `{n{…}}` must be a number or a constant",
                span.clone(),
            ))
        }
    };
    let copies: Vec<Node> = (0..n).flat_map(|_| parts.iter().cloned()).collect();
    concat(&copies, span, scope)
}
