//! A compiled expression as lowered instructions (see [`crate::lower`]): the
//! stack program becomes straight-line SSA, operator for operator, with the
//! semantics of [`BinOp::apply`] and [`UnOp::apply`].

use super::parse::{BinOp, UnOp};
use super::{Op, Program};
use crate::lower::{Binary, Body, Unary, Val};

impl Program {
    /// Append this expression to `body`, reading input `i` as `inputs[i]`
    /// and local `l` as `locals[l]`; the value of the expression.
    ///
    /// # Panics
    /// If the program reads an input or local beyond the slices given.
    pub fn lower(&self, body: &mut Body, inputs: &[Val], locals: &[Val]) -> Val {
        let mut stack: Vec<Val> = Vec::with_capacity(self.depth);
        let pop = |stack: &mut Vec<Val>| stack.pop().expect("a compiled program is balanced");
        for op in &self.ops {
            let v = match *op {
                Op::Input(i) => inputs[i as usize],
                Op::Local(i) => locals[i as usize],
                Op::Const(c) => body.constant(c),
                Op::Unary(u) => {
                    let a = pop(&mut stack);
                    unary(body, u, a)
                }
                Op::Slice(shift, mask) => {
                    let a = pop(&mut stack);
                    let shifted = body.binary_const(Binary::Shr, a, u64::from(shift));
                    body.binary_const(Binary::And, shifted, mask)
                }
                Op::BinaryInput(b, i) => {
                    let a = pop(&mut stack);
                    binary(body, b, a, inputs[i as usize])
                }
                Op::BinaryConst(b, c) => {
                    let a = pop(&mut stack);
                    let c = body.constant(c);
                    binary(body, b, a, c)
                }
                Op::Binary(b) => {
                    let y = pop(&mut stack);
                    let x = pop(&mut stack);
                    binary(body, b, x, y)
                }
                Op::Select => {
                    let otherwise = pop(&mut stack);
                    let then = pop(&mut stack);
                    let condition = pop(&mut stack);
                    body.select(condition, then, otherwise)
                }
            };
            stack.push(v);
        }
        pop(&mut stack)
    }
}

fn unary(body: &mut Body, op: UnOp, a: Val) -> Val {
    match op {
        UnOp::Not => body.unary(Unary::Not, a),
        UnOp::LogNot => body.unary(Unary::IsZero, a),
        UnOp::Neg => body.unary(Unary::Neg, a),
        UnOp::Clog2 => {
            // 64 - clz(a - 1), with a - 1 saturating at 0.
            let one = body.constant(1);
            let below = body.binary(Binary::Sub, a, one);
            let zero = body.constant(0);
            let is_zero = body.unary(Unary::IsZero, a);
            let below = body.select(is_zero, zero, below);
            let lz = body.unary(Unary::Clz, below);
            let width = body.constant(64);
            body.binary(Binary::Sub, width, lz)
        }
        UnOp::Popcount => body.unary(Unary::Popcount, a),
        UnOp::Parity => {
            let ones = body.unary(Unary::Popcount, a);
            body.binary_const(Binary::And, ones, 1)
        }
        UnOp::Clz(w) => {
            // The 64-bit count of the low w bits, less the 64 - w above them.
            let low = body.binary_const(Binary::And, a, crate::value::mask(u32::from(w)));
            let lz = body.unary(Unary::Clz, low);
            body.binary_const(Binary::Sub, lz, 64 - u64::from(w))
        }
        UnOp::Ctz(64) => body.unary(Unary::Ctz, a),
        UnOp::Ctz(w) => {
            // A bit at w stops the count there when the low w bits are 0.
            let low = body.binary_const(Binary::And, a, crate::value::mask(u32::from(w)));
            let stop = body.binary_const(Binary::Or, low, 1 << w);
            body.unary(Unary::Ctz, stop)
        }
        UnOp::Reverse(w) => {
            let reversed = body.unary(Unary::Reverse, a);
            body.binary_const(Binary::Shr, reversed, 64 - u64::from(w))
        }
        UnOp::SignExtend(w) => {
            // (low ^ m) - m, m the sign bit: the low w bits, sign-extended.
            let low = body.binary_const(Binary::And, a, crate::value::mask(u32::from(w)));
            let m = 1u64 << (w - 1);
            let flipped = body.binary_const(Binary::Xor, low, m);
            body.binary_const(Binary::Sub, flipped, m)
        }
        UnOp::Abs => {
            let negative = body.binary_const(Binary::Shr, a, 63);
            let minus = body.unary(Unary::Neg, a);
            body.select(negative, minus, a)
        }
        UnOp::RealOfUnsigned => body.unary(Unary::FloatOfUnsigned, a),
        UnOp::RealOfSigned => body.unary(Unary::FloatOfSigned, a),
        UnOp::Floor => body.unary(Unary::Floor, a),
        UnOp::Ceil => body.unary(Unary::Ceil, a),
        UnOp::BitsOfReal(w) => {
            let v = body.unary(Unary::UnsignedOfFloat, a);
            if w == 64 {
                return v;
            }
            let top = body.constant(crate::value::mask(u32::from(w)));
            let over = body.binary(Binary::Gt, v, top);
            body.select(over, top, v)
        }
        UnOp::SignedBitsOfReal(w) => {
            let v = body.unary(Unary::SignedOfFloat, a);
            if w == 64 {
                return v;
            }
            let shift = 64 - u32::from(w);
            let low = body.constant((i64::MIN >> shift) as u64);
            let high = body.constant((i64::MAX >> shift) as u64);
            let under = signed_less(body, v, low);
            let v = body.select(under, low, v);
            let over = signed_less(body, high, v);
            body.select(over, high, v)
        }
    }
}

/// `a < b` as two's complement numbers: unsigned, with the sign bits flipped.
fn signed_less(body: &mut Body, a: Val, b: Val) -> Val {
    let x = body.binary_const(Binary::Xor, a, 1 << 63);
    let y = body.binary_const(Binary::Xor, b, 1 << 63);
    body.binary(Binary::Lt, x, y)
}

/// The magnitude of `a` as a two's complement number, and its sign (0 or 1).
fn magnitude(body: &mut Body, a: Val) -> (Val, Val) {
    let negative = body.binary_const(Binary::Shr, a, 63);
    let minus = body.unary(Unary::Neg, a);
    (body.select(negative, minus, a), negative)
}

/// The signed operators, from unsigned ones.
fn signed_binary(body: &mut Body, op: BinOp, a: Val, b: Val) -> Val {
    match op {
        BinOp::SLt => signed_less(body, a, b),
        BinOp::SGt => signed_less(body, b, a),
        BinOp::SLe => {
            let greater = signed_less(body, b, a);
            body.unary(Unary::IsZero, greater)
        }
        BinOp::SGe => {
            let less = signed_less(body, a, b);
            body.unary(Unary::IsZero, less)
        }
        BinOp::SMin | BinOp::SMax => {
            let less = signed_less(body, a, b);
            match op {
                BinOp::SMin => body.select(less, a, b),
                _ => body.select(less, b, a),
            }
        }
        BinOp::SDiv | BinOp::SRem => {
            // On the magnitudes, then the sign: the quotient's from both,
            // the remainder's from the dividend (truncation towards zero).
            let (ua, sa) = magnitude(body, a);
            let (ub, sb) = magnitude(body, b);
            let (unsigned, sign) = match op {
                BinOp::SDiv => (
                    body.binary(Binary::Div, ua, ub),
                    body.binary(Binary::Xor, sa, sb),
                ),
                _ => (body.binary(Binary::Rem, ua, ub), sa),
            };
            let minus = body.unary(Unary::Neg, unsigned);
            body.select(sign, minus, unsigned)
        }
        BinOp::Sar => {
            // The logical shift, with the sign filled in above it; all sign
            // for shifts of 64 or more.
            let fill = {
                let sign = body.binary_const(Binary::Shr, a, 63);
                let zero = body.constant(0);
                body.binary(Binary::Sub, zero, sign)
            };
            let shifted = body.binary(Binary::Shr, a, b);
            let sixty_four = body.constant(64);
            let up = body.binary(Binary::Sub, sixty_four, b);
            let high = body.binary(Binary::Shl, fill, up);
            let within = body.binary(Binary::Or, shifted, high);
            let beyond = body.binary_const(Binary::Ge, b, 64);
            body.select(beyond, fill, within)
        }
        _ => unreachable!("not a signed operator"),
    }
}

fn binary(body: &mut Body, op: BinOp, a: Val, b: Val) -> Val {
    let direct = match op {
        BinOp::Mul => Binary::Mul,
        BinOp::Div => Binary::Div,
        BinOp::Rem => Binary::Rem,
        BinOp::Add => Binary::Add,
        BinOp::Sub => Binary::Sub,
        BinOp::Shl => Binary::Shl,
        BinOp::Shr => Binary::Shr,
        BinOp::Lt => Binary::Lt,
        BinOp::Le => Binary::Le,
        BinOp::Gt => Binary::Gt,
        BinOp::Ge => Binary::Ge,
        BinOp::Eq => Binary::Eq,
        BinOp::Ne => Binary::Ne,
        BinOp::And => Binary::And,
        BinOp::Xor => Binary::Xor,
        BinOp::Or => Binary::Or,
        BinOp::Sar
        | BinOp::SLt
        | BinOp::SLe
        | BinOp::SGt
        | BinOp::SGe
        | BinOp::SDiv
        | BinOp::SRem
        | BinOp::SMin
        | BinOp::SMax => return signed_binary(body, op, a, b),
        BinOp::Min | BinOp::Max => {
            let less = body.binary(Binary::Lt, a, b);
            return match op {
                BinOp::Min => body.select(less, a, b),
                _ => body.select(less, b, a),
            };
        }
        BinOp::FAdd => Binary::FAdd,
        BinOp::FSub => Binary::FSub,
        BinOp::FMul => Binary::FMul,
        BinOp::FDiv => Binary::FDiv,
        BinOp::FLt => Binary::FLt,
        BinOp::FLe => Binary::FLe,
        BinOp::FEq => Binary::FEq,
        // The others as these, their operands swapped or their result negated.
        BinOp::FGt => return body.binary(Binary::FLt, b, a),
        BinOp::FGe => return body.binary(Binary::FLe, b, a),
        BinOp::FNe => {
            let equal = body.binary(Binary::FEq, a, b);
            return body.unary(Unary::IsZero, equal);
        }
        BinOp::FMin => {
            let less = body.binary(Binary::FLt, a, b);
            return body.select(less, a, b);
        }
        BinOp::FMax => {
            let greater = body.binary(Binary::FLt, b, a);
            return body.select(greater, a, b);
        }
        BinOp::LogAnd | BinOp::LogOr => {
            let zero = body.constant(0);
            let x = body.binary(Binary::Ne, a, zero);
            let y = body.binary(Binary::Ne, b, zero);
            let op = if op == BinOp::LogAnd {
                Binary::And
            } else {
                Binary::Or
            };
            return body.binary(op, x, y);
        }
    };
    body.binary(direct, a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Scope;

    /// Signed operators, lowered, agree with the interpreter on values
    /// around every sign boundary.
    #[test]
    fn signed_operators_lower_to_what_the_interpreter_computes() {
        let mut scope = Scope::new();
        scope.input("x", 8);
        scope.mark_signed("x");
        scope.input("y", 64);
        scope.mark_signed("y");
        scope.input("u", 8);
        let texts = [
            "x < y",
            "x <= y",
            "x > y",
            "x >= y",
            "x / y",
            "x % y",
            "y / x",
            "y % x",
            "x >>> y",
            "y >>> 3",
            "y >>> u",
            "u >>> 2",
            "abs(x)",
            "abs(y)",
            "min(x, y)",
            "max(x, y)",
            "signed(u) < 0",
            "signed(u, 3)",
            "unsigned(x) >> 1",
            "x - 1 < -100",
            "x == u",
            "x > u",
            "popcount(x)",
            "x >> 3",
            "(u > 1 ? x : u)",
            "max(x, u)",
        ];
        let values = [
            0u64,
            1,
            2,
            3,
            0x7f,
            0x80,
            0xff,
            63,
            64,
            65,
            1 << 63,
            (1 << 63) - 1,
            u64::MAX,
            u64::MAX - 1,
        ];
        for text in texts {
            let program = Program::compile(text, &scope).unwrap();
            let mut body = Body::new();
            let inputs = [body.input(0), body.input(1), body.input(2)];
            let v = program.lower(&mut body, &inputs, &[]);
            body.set_output(0, v);
            for &x in &values {
                for &y in &values {
                    let (x, u) = (x & 0xff, (x ^ y) & 0xff);
                    let want = program.eval(|i| [x, y, u][i], &[]);
                    let got = body.eval_with(&[x, y, u], &[0], &mut [])[0];
                    assert_eq!(got, want, "{text} with x = {x}, y = {y}, u = {u}");
                }
            }
        }
    }

    /// Every operator, lowered and run, agrees with the stack interpreter.
    #[test]
    fn lowered_expressions_compute_what_the_interpreter_does() {
        let mut scope = Scope::new();
        scope.input("a", 64);
        scope.input("b", 64);
        scope.local("l", 64);
        let texts = [
            "a + b",
            "a - b",
            "a * b",
            "a / b",
            "a % b",
            "a << b",
            "a >> b",
            "a < b",
            "a <= b",
            "a > b",
            "a >= b",
            "a == b",
            "a != b",
            "a & b",
            "a ^ b",
            "a | b",
            "a && b",
            "a || b",
            "~a",
            "!a",
            "-a",
            "clog2(a)",
            "popcount(a)",
            "parity(a ^ b)",
            "clz(a)",
            "clz(a[11:0])",
            "clz(a + b, 9)",
            "ctz(a)",
            "ctz(b[20:3])",
            "ctz(a, 1)",
            "reverse(a)",
            "reverse(a[15:0])",
            "reverse(b, 1)",
            "min(a, b)",
            "max(a, l)",
            "{a[7:0], b[3:0], 4'hA}",
            "{4{a[1:0]}} ^ b",
            "a ? b : l",
            "a[7:4] + b[0]",
            "(a + 3) * (l - b)",
            "a + 3 < 7 ? l : b >> 2",
        ];
        let values = [
            0u64,
            1,
            2,
            3,
            5,
            63,
            64,
            65,
            255,
            1 << 40,
            u64::MAX - 1,
            u64::MAX,
        ];
        for text in texts {
            let program = Program::compile(text, &scope).unwrap();
            let mut body = Body::new();
            let inputs = [body.input(0), body.input(1)];
            let local = body.input(2);
            let v = program.lower(&mut body, &inputs, &[local]);
            body.set_output(0, v);
            for &a in &values {
                for &b in &values {
                    let l = a.wrapping_mul(3) ^ b;
                    let want = program.eval(|i| [a, b][i], &[l]);
                    let got = body.eval_with(&[a, b, l], &[0], &mut [])[0];
                    assert_eq!(got, want, "{text} with a = {a}, b = {b}");
                }
            }
        }
    }
}
