//! Input arrays in expressions. An input declared `in[8]: 4` is eight
//! inputs, `in[0]` to `in[7]` (ports of those names). An expression reads
//! an element as `in[3]` (then `in[3][1:0]` slices it), and reduces the
//! whole array with `sum(in)`, `and(in)`, `or(in)`, `xor(in)`, `min(in)` or
//! `max(in)`. Before an expression compiles, this pass rewrites those into
//! plain names and operators, balanced (`(in[0] + in[1]) + (in[2] +
//! in[3])`), so nothing downstream (the compiler, the columns, the
//! lowering) knows arrays.

use std::ops::Range;

use super::functions::Func;
use super::parse::{BinOp, Node};
use super::{ExprError, Scope};

/// `node` with every array element and reduction written out.
pub(super) fn expand(node: &Node, scope: &Scope) -> Result<Node, ExprError> {
    let again = |n: &Node| expand(n, scope).map(Box::new);
    Ok(match node {
        Node::Name(name, span) => {
            if let Some(n) = scope.array_len(name) {
                return Err(whole_array(name, n, span.clone()));
            }
            node.clone()
        }
        Node::Slice(inner, hi, lo, span) => match &**inner {
            Node::Name(name, name_span) if scope.array_len(name).is_some() => {
                let n = scope.array_len(name).unwrap_or(0);
                let at = name_span.start..span.end;
                if hi != lo {
                    return Err(ExprError::new(
                        format!("`{name}` is an array: an element is `{name}[k]`"),
                        at,
                    )
                    .hint("slice an element's bits as in[3][1:0]"));
                }
                if *hi >= n {
                    return Err(ExprError::new(
                        format!("`{name}` has {n} elements: `{name}[{hi}]` is past its end"),
                        at,
                    ));
                }
                Node::Name(format!("{name}[{hi}]"), at)
            }
            _ => Node::Slice(again(inner)?, *hi, *lo, span.clone()),
        },
        Node::Call(func, args, span) => match (func, args.as_slice()) {
            (f, [Node::Name(name, _)]) if scope.array_len(name).is_some() => {
                reduce(*f, name, scope.array_len(name).unwrap_or(0), span)?
            }
            _ => Node::Call(
                *func,
                args.iter()
                    .map(|a| expand(a, scope))
                    .collect::<Result<_, _>>()?,
                span.clone(),
            ),
        },
        Node::Unary(op, a) => Node::Unary(*op, again(a)?),
        Node::Binary(op, a, b) => Node::Binary(*op, again(a)?, again(b)?),
        Node::Cond(c, a, b) => Node::Cond(again(c)?, again(a)?, again(b)?),
        Node::Concat(parts, span) => Node::Concat(
            parts
                .iter()
                .map(|p| expand(p, scope))
                .collect::<Result<_, _>>()?,
            span.clone(),
        ),
        Node::Repeat(count, parts, span) => Node::Repeat(
            again(count)?,
            parts
                .iter()
                .map(|p| expand(p, scope))
                .collect::<Result<_, _>>()?,
            span.clone(),
        ),
        Node::Num(_) | Node::Real(_) | Node::Sized(..) => node.clone(),
    })
}

/// `f(name)` over the `n` elements of array `name`, as a balanced tree.
fn reduce(f: Func, name: &str, n: u32, span: &Range<usize>) -> Result<Node, ExprError> {
    let combine: fn(Node, Node, &Range<usize>) -> Node = match f {
        Func::Sum => |a, b, _| Node::Binary(BinOp::Add, Box::new(a), Box::new(b)),
        Func::And => |a, b, _| Node::Binary(BinOp::And, Box::new(a), Box::new(b)),
        Func::Or => |a, b, _| Node::Binary(BinOp::Or, Box::new(a), Box::new(b)),
        Func::Xor => |a, b, _| Node::Binary(BinOp::Xor, Box::new(a), Box::new(b)),
        Func::Min => |a, b, s| Node::Call(Func::Min, vec![a, b], s.clone()),
        Func::Max => |a, b, s| Node::Call(Func::Max, vec![a, b], s.clone()),
        _ => {
            return Err(ExprError::new(
                format!("`{name}` is an array of {n} inputs: this function takes one value"),
                span.clone(),
            )
            .hint("reduce an array with sum, and, or, xor, min or max; read an element as in[3]"))
        }
    };
    let mut level: Vec<Node> = (0..n)
        .map(|k| Node::Name(format!("{name}[{k}]"), span.clone()))
        .collect();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        let mut items = level.into_iter();
        while let Some(a) = items.next() {
            next.push(match items.next() {
                Some(b) => combine(a, b, span),
                None => a,
            });
        }
        level = next;
    }
    level
        .pop()
        .ok_or_else(|| ExprError::new(format!("`{name}` has no elements"), span.clone()))
}

fn whole_array(name: &str, n: u32, span: Range<usize>) -> ExprError {
    ExprError::new(
        format!("`{name}` is an array of {n} inputs, not one value"),
        span,
    )
    .hint(format!(
        "read an element as {name}[0], or reduce it: sum({name}), xor({name}), max({name})"
    ))
}

#[cfg(test)]
mod tests {
    use super::super::parse::{declaration, Shape};
    use super::super::{Program, Scope};

    fn scope() -> Scope {
        let mut s = Scope::new();
        s.input_array("in", 4, 8);
        s.input("b", 8);
        s
    }

    #[test]
    fn elements_and_reductions_compile_to_plain_names() {
        let inputs = [1, 2, 4, 8, 100];
        let eval = |text: &str| {
            Program::compile(text, &scope())
                .unwrap_or_else(|e| panic!("{text}: {e}"))
                .eval(|i| inputs[i], &[])
        };
        assert_eq!(eval("sum(in)"), 15);
        assert_eq!(eval("or(in) | b"), 15 | 100);
        assert_eq!(eval("xor(in) ^ in[3]"), 7);
        assert_eq!(eval("max(in)"), 8);
        assert_eq!(eval("min(b, in[1])"), 2);
        assert_eq!(eval("in[3][3:2]"), 2);
        assert_eq!(eval("and(in)"), 0);
        // Elements past 63 are elements, not bits.
        let mut wide = Scope::new();
        wide.input_array("w", 200, 8);
        let p = Program::compile("w[150] + w[199]", &wide).unwrap();
        assert_eq!(p.eval(|i| i as u64, &[]), 150 + 199);
    }

    #[test]
    fn a_long_chain_of_signed_operations_compiles_at_once() {
        // Deciding signedness once per operand keeps this linear, not 2^40.
        let mut s = Scope::new();
        s.input_array("x", 40, 8);
        for k in 0..40 {
            s.mark_signed(&format!("x[{k}]"));
        }
        let chain: Vec<String> = (0..40).map(|k| format!("x[{k}]")).collect();
        let p = Program::compile(&format!("({}) < 0", chain.join(" + ")), &s).unwrap();
        // -1 forty times is negative.
        assert_eq!(p.eval(|_| 0xff, &[]), 1);
    }

    #[test]
    fn misuse_is_a_located_error_with_a_hint() {
        let err = |text: &str| Program::compile(text, &scope()).unwrap_err();
        let e = err("in + 1");
        assert_eq!(
            (e.message.as_str(), e.span.clone()),
            ("`in` is an array of 4 inputs, not one value", 0..2)
        );
        assert!(e.hint.unwrap().contains("sum(in)"));
        let e = err("b + in[4]");
        assert_eq!(
            (e.message.as_str(), e.span.clone()),
            ("`in` has 4 elements: `in[4]` is past its end", 4..9)
        );
        assert!(err("in[2:1]").message.contains("an element is `in[k]`"));
        assert!(err("popcount(in)").message.contains("takes one value"));
        assert!(err("sum(b)").message.contains("reduces an input array"));
        assert!(err("sum(in, b)").message.contains("takes one argument"));
        let e = declaration("y[2]: 4 = 1", Shape::Definition).unwrap_err();
        assert_eq!(e.message, "only an input can be an array");
        let e = declaration("in[0]: 4", Shape::Port).unwrap_err();
        assert_eq!(e.message, "an array of 0 inputs is not in 1..=4096");
        let e = err("b[64]");
        assert_eq!(
            (e.message.as_str(), e.span.clone()),
            ("bit 64 is beyond bit 63", 1..5)
        );
        let d = declaration("in[8]: signed 4", Shape::Port).unwrap();
        assert_eq!((d.count, d.width, d.signed), (Some(8), 4, true));
    }
}
