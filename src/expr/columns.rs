//! Evaluating one expression for many components at once, column by column.
//!
//! An array of `expr` components usually runs the same expression with
//! different constants (`(x + ${k}) ^ (x << 1)` in every pipeline stage).
//! Interpreting it member by member pays the dispatch of every op for every
//! member; here the programs are merged once into one list of column
//! operations, each a tight loop over all members, so the dispatch is paid
//! once per op per batch and the loops compile to straight-line, often
//! vectorised, code.
//!
//! Programs merge when they have the same ops, constants aside: a constant
//! that differs between members becomes a column of its own.

use super::parse::{BinOp, UnOp};
use super::{Op, Program};

/// Where an operand comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Arg {
    /// A column of the value stack.
    Stack(usize),
    /// An input column.
    Input(usize),
    /// An earlier output's column.
    Local(usize),
    /// A constant that differs between members: one of `Columns::consts`.
    Consts(usize),
    /// A constant shared by every member.
    Scalar(u64),
}

/// One column operation; the first field is the stack column written.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Instr {
    Unary(usize, UnOp, Arg),
    Slice(usize, Arg, u32, u64),
    Binary(usize, BinOp, Arg, Arg),
    Select(usize, Arg, Arg, Arg),
}

/// Programs of one shape compiled to column operations over their members.
#[derive(Clone, Debug)]
pub struct Columns {
    instrs: Vec<Instr>,
    /// Constants that differ between members, one column each.
    consts: Vec<Vec<u64>>,
    /// The value stack, one column per depth.
    stack: Vec<Vec<u64>>,
    result: Arg,
    members: usize,
}

/// An operand resolved for one operation.
#[derive(Clone, Copy)]
enum Val<'a> {
    /// The column being written (an in-place update).
    Same,
    Col(&'a [u64]),
    Scalar(u64),
}

impl Columns {
    /// Merge `programs`, one per member; `None` unless they all have the
    /// same ops, constants aside.
    pub fn new(programs: &[&Program]) -> Option<Columns> {
        let first = *programs.first()?;
        if !programs.iter().all(|p| same_shape(p, first)) {
            return None;
        }
        let members = programs.len();
        let mut consts: Vec<Vec<u64>> = Vec::new();
        // A constant at op `j`: a scalar if every member agrees.
        let mut constant = |j: usize| {
            let values: Vec<u64> = programs
                .iter()
                .map(|p| match p.ops[j] {
                    Op::Const(v) | Op::BinaryConst(_, v) => v,
                    _ => unreachable!("same shape"),
                })
                .collect();
            if values.iter().all(|&v| v == values[0]) {
                Arg::Scalar(values[0])
            } else {
                consts.push(values);
                Arg::Consts(consts.len() - 1)
            }
        };
        let mut stack: Vec<Arg> = Vec::new();
        let mut instrs = Vec::new();
        let pop = |stack: &mut Vec<Arg>| stack.pop().expect("a compiled program is balanced");
        for (j, op) in first.ops.iter().enumerate() {
            let instr = match *op {
                Op::Input(i) => {
                    stack.push(Arg::Input(i as usize));
                    continue;
                }
                Op::Local(i) => {
                    stack.push(Arg::Local(i as usize));
                    continue;
                }
                Op::Const(_) => {
                    stack.push(constant(j));
                    continue;
                }
                Op::Unary(u) => {
                    let a = pop(&mut stack);
                    Instr::Unary(stack.len(), u, a)
                }
                Op::Slice(shift, mask) => {
                    let a = pop(&mut stack);
                    Instr::Slice(stack.len(), a, shift, mask)
                }
                Op::BinaryInput(b, i) => {
                    let a = pop(&mut stack);
                    Instr::Binary(stack.len(), b, a, Arg::Input(i as usize))
                }
                Op::BinaryConst(b, _) => {
                    let a = pop(&mut stack);
                    Instr::Binary(stack.len(), b, a, constant(j))
                }
                Op::Binary(b) => {
                    let y = pop(&mut stack);
                    let x = pop(&mut stack);
                    Instr::Binary(stack.len(), b, x, y)
                }
                Op::Select => {
                    let otherwise = pop(&mut stack);
                    let then = pop(&mut stack);
                    let condition = pop(&mut stack);
                    Instr::Select(stack.len(), condition, then, otherwise)
                }
            };
            let (Instr::Unary(dst, ..)
            | Instr::Slice(dst, ..)
            | Instr::Binary(dst, ..)
            | Instr::Select(dst, ..)) = instr;
            instrs.push(instr);
            stack.push(Arg::Stack(dst));
        }
        let result = pop(&mut stack);
        Some(Columns {
            instrs,
            consts,
            stack: vec![vec![0; members]; first.depth],
            result,
            members,
        })
    }

    /// The number of members.
    pub fn members(&self) -> usize {
        self.members
    }

    /// Evaluate for every member: `inputs[i][m]` is member `m`'s input `i`,
    /// `locals[k][m]` its earlier output `k`; member `m`'s value goes to
    /// `out[m]`, masked by `mask`. Every column has one entry per member.
    pub fn eval(&mut self, inputs: &[Vec<u64>], locals: &[Vec<u64>], out: &mut [u64], mask: u64) {
        assert_eq!(out.len(), self.members);
        let last = self.instrs.len().wrapping_sub(1);
        let mut written = false;
        for (j, &instr) in self.instrs.iter().enumerate() {
            let (Instr::Unary(dst, ..)
            | Instr::Slice(dst, ..)
            | Instr::Binary(dst, ..)
            | Instr::Select(dst, ..)) = instr;
            // The last operation, when it computes the result, writes it
            // straight to `out`, masked: one pass fewer over the members.
            let to_out = j == last && self.result == Arg::Stack(dst);
            // Take the written column out, so operands can borrow the rest.
            let mut column = if to_out {
                Vec::new()
            } else {
                std::mem::take(&mut self.stack[dst])
            };
            let (target, m, same) = if to_out {
                (&mut *out, mask, None)
            } else {
                (&mut column[..], u64::MAX, Some(dst))
            };
            let val = |arg| self.operand(arg, same, inputs, locals);
            match instr {
                Instr::Unary(_, u, a) => unary(u, target, val(a), m),
                Instr::Slice(_, a, shift, sm) => map1(target, val(a), |x| (x >> shift) & sm & m),
                Instr::Binary(_, b, x, y) => binary(b, target, val(x), val(y), m),
                Instr::Select(_, c, t, o) => select(target, val(c), val(t), val(o), m),
            }
            if to_out {
                written = true;
            } else {
                self.stack[dst] = column;
            }
        }
        if !written {
            map1(out, self.operand(self.result, None, inputs, locals), |x| {
                x & mask
            });
        }
    }

    /// Where `arg`'s values are; `Same` if it is stack column `dst`, the one
    /// being written.
    fn operand<'a>(
        &'a self,
        arg: Arg,
        dst: Option<usize>,
        inputs: &'a [Vec<u64>],
        locals: &'a [Vec<u64>],
    ) -> Val<'a> {
        match arg {
            Arg::Stack(s) if Some(s) == dst => Val::Same,
            Arg::Stack(s) => Val::Col(&self.stack[s]),
            Arg::Input(i) => Val::Col(&inputs[i]),
            Arg::Local(k) => Val::Col(&locals[k]),
            Arg::Consts(c) => Val::Col(&self.consts[c]),
            Arg::Scalar(v) => Val::Scalar(v),
        }
    }
}

/// Whether `a` and `b` have the same ops, constants aside.
fn same_shape(a: &Program, b: &Program) -> bool {
    a.ops.len() == b.ops.len()
        && a.ops.iter().zip(&b.ops).all(|(x, y)| match (x, y) {
            (Op::Const(_), Op::Const(_)) => true,
            (Op::BinaryConst(p, _), Op::BinaryConst(q, _)) => p == q,
            _ => x == y,
        })
}

/// `column[m] = f(a[m])`.
#[inline(always)]
fn map1(column: &mut [u64], a: Val<'_>, f: impl Fn(u64) -> u64) {
    match a {
        Val::Same => column.iter_mut().for_each(|d| *d = f(*d)),
        Val::Col(x) => {
            let x = &x[..column.len()];
            column.iter_mut().zip(x).for_each(|(d, x)| *d = f(*x));
        }
        Val::Scalar(x) => column.fill(f(x)),
    }
}

/// `column[m] = f(a[m], b[m])`, one loop per kind of operand pair.
#[inline(always)]
fn map2(column: &mut [u64], a: Val<'_>, b: Val<'_>, f: impl Fn(u64, u64) -> u64) {
    let n = column.len();
    match (a, b) {
        (Val::Same, Val::Col(y)) => {
            let y = &y[..n];
            column.iter_mut().zip(y).for_each(|(d, y)| *d = f(*d, *y));
        }
        (Val::Same, Val::Scalar(y)) => column.iter_mut().for_each(|d| *d = f(*d, y)),
        (Val::Same, Val::Same) => column.iter_mut().for_each(|d| *d = f(*d, *d)),
        (Val::Col(x), Val::Col(y)) => {
            let (x, y) = (&x[..n], &y[..n]);
            column
                .iter_mut()
                .zip(x.iter().zip(y))
                .for_each(|(d, (x, y))| *d = f(*x, *y));
        }
        (Val::Col(x), Val::Scalar(y)) => {
            let x = &x[..n];
            column.iter_mut().zip(x).for_each(|(d, x)| *d = f(*x, y));
        }
        (Val::Col(x), Val::Same) => {
            let x = &x[..n];
            column.iter_mut().zip(x).for_each(|(d, x)| *d = f(*x, *d));
        }
        (Val::Scalar(x), Val::Col(y)) => {
            let y = &y[..n];
            column.iter_mut().zip(y).for_each(|(d, y)| *d = f(x, *y));
        }
        (Val::Scalar(x), Val::Same) => column.iter_mut().for_each(|d| *d = f(x, *d)),
        (Val::Scalar(x), Val::Scalar(y)) => column.fill(f(x, y)),
    }
}

/// `column[m] = op(a[m]) & mask`, with the operator fixed outside the loop.
fn unary(op: UnOp, column: &mut [u64], a: Val<'_>, mask: u64) {
    macro_rules! each {
        ($($v:ident)*) => {
            match op {
                $(UnOp::$v => map1(column, a, |x| UnOp::$v.apply(x) & mask),)*
                // The width is fixed outside the loop too.
                UnOp::Clz(w) => map1(column, a, |x| UnOp::Clz(w).apply(x) & mask),
                UnOp::Ctz(w) => map1(column, a, |x| UnOp::Ctz(w).apply(x) & mask),
                UnOp::Reverse(w) => map1(column, a, |x| UnOp::Reverse(w).apply(x) & mask),
                UnOp::SignExtend(w) => map1(column, a, |x| UnOp::SignExtend(w).apply(x) & mask),
                UnOp::BitsOfReal(w) => map1(column, a, |x| UnOp::BitsOfReal(w).apply(x) & mask),
                UnOp::SignedBitsOfReal(w) => {
                    map1(column, a, |x| UnOp::SignedBitsOfReal(w).apply(x) & mask)
                }
            }
        };
    }
    each!(Not LogNot Neg Clog2 Popcount Parity Abs RealOfUnsigned RealOfSigned Floor Ceil)
}

/// `column[m] = op(a[m], b[m]) & mask`, with the operator fixed outside the loop.
fn binary(op: BinOp, column: &mut [u64], a: Val<'_>, b: Val<'_>, mask: u64) {
    macro_rules! each {
        ($($v:ident)*) => {
            match op {
                $(BinOp::$v => map2(column, a, b, |x, y| BinOp::$v.apply(x, y) & mask),)*
            }
        };
    }
    each!(Mul Div Rem Add Sub Shl Shr Lt Le Gt Ge Eq Ne And Xor Or LogAnd LogOr Min Max Sar SLt SLe SGt SGe SDiv SRem SMin SMax FAdd FSub FMul FDiv FLt FLe FGt FGe FEq FNe FMin FMax)
}

/// `column[m] = (c[m] != 0 ? t[m] : o[m]) & mask`.
fn select(column: &mut [u64], c: Val<'_>, t: Val<'_>, o: Val<'_>, mask: u64) {
    let at = |v: Val<'_>, column: &[u64], m: usize| match v {
        Val::Same => column[m],
        Val::Col(x) => x[m],
        Val::Scalar(x) => x,
    };
    // Both sides read, then one picked: no branch on the data, which a
    // condition that varies between members would mispredict.
    for m in 0..column.len() {
        let (then, otherwise) = (at(t, column, m), at(o, column, m));
        column[m] = if at(c, column, m) != 0 {
            then
        } else {
            otherwise
        } & mask;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Scope;

    fn scope() -> Scope {
        let mut s = Scope::new();
        s.input("a", 16);
        s.input("b", 16);
        s.local("l", 16);
        s
    }

    /// Every member's column result equals its own program's `eval`.
    fn agrees(texts: &[String]) -> Columns {
        let programs: Vec<Program> = texts
            .iter()
            .map(|t| Program::compile(t, &scope()).unwrap())
            .collect();
        let refs: Vec<&Program> = programs.iter().collect();
        let mut columns = Columns::new(&refs).expect("same shape");
        let n = texts.len();
        let a: Vec<u64> = (0..n as u64).map(|m| m * 37 + 5).collect();
        let b: Vec<u64> = (0..n as u64).map(|m| (m * 11) % 7).collect();
        let l: Vec<u64> = (0..n as u64).map(|m| m ^ 0x55).collect();
        let mut out = vec![0; n];
        columns.eval(
            &[a.clone(), b.clone()],
            std::slice::from_ref(&l),
            &mut out,
            0xffff,
        );
        for m in 0..n {
            let want = programs[m].eval(|i| [a[m], b[m]][i], &[l[m]]) & 0xffff;
            assert_eq!(out[m], want, "member {m}: {}", texts[m]);
        }
        columns
    }

    #[test]
    fn columns_agree_with_the_interpreter_on_every_operator() {
        let ops = [
            "*", "/", "%", "+", "-", "<<", ">>", "<", "<=", ">", ">=", "==", "!=", "&", "^", "|",
            "&&", "||",
        ];
        for op in ops {
            // Operand pairs of every kind: input, local, stack, constant.
            for form in [
                "a OP b",
                "a OP K",
                "K OP a",
                "(a + 1) OP (b + 2)",
                "(a + 1) OP b",
                "l OP (b ^ 3)",
                "(a OP b) OP (a OP K)",
            ] {
                let texts: Vec<String> = (0..9)
                    .map(|m| form.replace("OP", op).replace('K', &(m % 4).to_string()))
                    .collect();
                agrees(&texts);
            }
        }
        for text in [
            "popcount(a)",
            "parity(b + 1)",
            "clz(a)",
            "ctz(b)",
            "ctz(b, 3)",
            "reverse(a)",
            "min(a, b)",
            "max(l, 3)",
            "~a",
            "!b",
            "-a",
            "a[7:2]",
            "(a + b)[3]",
            "b ? a : l",
            "a > 9 ? 1 : b + 1",
        ] {
            agrees(&vec![text.to_string(); 5]);
        }
        agrees(&["a".into(), "a".into()]);
        agrees(&["7".into(), "7".into()]);
    }

    #[test]
    fn constants_that_differ_become_columns_and_shared_ones_scalars() {
        let texts: Vec<String> = (0..4).map(|m| format!("(a + {m}) ^ (a << 1)")).collect();
        let columns = agrees(&texts);
        assert_eq!(columns.consts, vec![vec![0, 1, 2, 3]]);
        assert_eq!(columns.instrs.len(), 3, "{:?}", columns.instrs);
    }

    #[test]
    fn programs_of_different_shapes_do_not_merge() {
        let p = Program::compile("a + 1", &scope()).unwrap();
        let q = Program::compile("a - 1", &scope()).unwrap();
        let r = Program::compile("a + b", &scope()).unwrap();
        assert!(Columns::new(&[&p, &q]).is_none());
        assert!(Columns::new(&[&p, &r]).is_none());
        assert!(Columns::new(&[&p, &p]).is_some());
    }
}
