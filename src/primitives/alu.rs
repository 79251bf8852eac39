//! `alu`: an arithmetic-logic unit whose operation is chosen by an input.

use crate::lower::{Binary, Body, Lowering, Unary};
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::ParamDecl;
use crate::value::{mask, PortType};

const A: usize = 0;
const B: usize = 1;
const OP: usize = 2;
const Y: usize = 0;
const ZERO: usize = 1;
const CARRY: usize = 2;

struct Alu {
    width: u32,
}

impl Alu {
    /// (y before masking, carry).
    fn compute(&self, a: u64, b: u64, op: u64) -> (u64, bool) {
        let w = self.width;
        match op {
            0 => {
                let sum = u128::from(a) + u128::from(b);
                (sum as u64, (sum >> w) & 1 == 1)
            }
            1 => (a.wrapping_sub(b), a < b),
            2 => (a & b, false),
            3 => (a | b, false),
            4 => (a ^ b, false),
            5 => {
                if b >= u64::from(w) {
                    (0, b == u64::from(w) && a & 1 == 1)
                } else {
                    (a << b, b > 0 && (a >> (u64::from(w) - b)) & 1 == 1)
                }
            }
            6 => {
                if b >= u64::from(w) {
                    (0, b == u64::from(w) && (a >> (w - 1)) & 1 == 1)
                } else {
                    (a >> b, b > 0 && (a >> (b - 1)) & 1 == 1)
                }
            }
            7 => (u64::from(a == b), false),
            8 => (u64::from(a < b), false),
            _ => (0, false),
        }
    }
}

impl Model for Alu {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::none()
    }

    fn lower(&self) -> Option<Lowering> {
        use Binary::*;
        let mut l = Lowering::new();
        let e = &mut l.eval;
        let w = u64::from(self.width);
        let (a, b, op) = (e.input(A), e.input(B), e.input(OP));
        let zero = e.constant(0);
        let one = e.constant(1);
        let bit = |e: &mut Body, v, at| {
            let shifted = e.binary(Shr, v, at);
            e.binary(And, shifted, one)
        };
        // 0 add: carry is bit `width` of the sum (the wrap when 64 bits wide).
        let sum = e.binary(Add, a, b);
        let add_carry = if w == 64 {
            e.binary(Lt, sum, a)
        } else {
            e.binary_const(Shr, sum, w)
        };
        // 1 sub: borrow.
        let diff = e.binary(Sub, a, b);
        let borrow = e.binary(Lt, a, b);
        let (and, or, xor) = (e.binary(And, a, b), e.binary(Or, a, b), e.binary(Xor, a, b));
        // 5 shl and 6 shr: the last bit shifted out.
        let wide = e.binary_const(Ge, b, w);
        let exact = e.binary_const(Eq, b, w);
        let moved = e.binary_const(Ne, b, 0);
        let width = e.constant(w);
        let shl = e.binary(Shl, a, b);
        let shl = e.select(wide, zero, shl);
        let from_top = e.binary(Sub, width, b);
        let out_left = bit(e, a, from_top);
        let out_left = e.binary(And, moved, out_left);
        let low = e.binary(And, a, one);
        let at_width = e.binary(And, exact, low);
        let shl_carry = e.select(wide, at_width, out_left);
        let shr = e.binary(Shr, a, b);
        let shr = e.select(wide, zero, shr);
        let below = e.binary(Sub, b, one);
        let out_right = bit(e, a, below);
        let out_right = e.binary(And, moved, out_right);
        let top = e.binary_const(Shr, a, w - 1);
        let top = e.binary(And, top, one);
        let at_width = e.binary(And, exact, top);
        let shr_carry = e.select(wide, at_width, out_right);
        let eq = e.binary(Eq, a, b);
        let results = [
            (sum, add_carry),
            (diff, borrow),
            (and, zero),
            (or, zero),
            (xor, zero),
            (shl, shl_carry),
            (shr, shr_carry),
            (eq, zero),
            (borrow, zero),
        ];
        let (mut y, mut carry) = (zero, zero);
        for (code, (value, c)) in results.into_iter().enumerate().rev() {
            let this = e.binary_const(Eq, op, code as u64);
            y = e.select(this, value, y);
            carry = e.select(this, c, carry);
        }
        let y = e.binary_const(And, y, mask(self.width));
        e.set_output(Y, y);
        let is_zero = e.unary(Unary::IsZero, y);
        e.set_output(ZERO, is_zero);
        e.set_output(CARRY, carry);
        Some(l)
    }

    fn reset(&mut self, _io: &Io<'_>) {}
    #[inline(always)]
    fn eval(&mut self, io: &Io<'_>) {
        let (y, carry) = self.compute(io.get(A), io.get(B), io.get(OP));
        let y = y & mask(self.width);
        io.set(Y, y);
        io.set(ZERO, u64::from(y == 0));
        io.set(CARRY, u64::from(carry));
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new(
        "alu",
        "arithmetic-logic unit: add sub and or xor shl shr eq lt",
        |p, _| {
            let width = p.width("width")?;
            let ty = PortType::Bits(width);
            let ports = Interface::new()
                .input("a", ty)
                .input("b", ty)
                .input("op", PortType::Bits(4))
                .combinational("y", ty)
                .combinational("zero", PortType::Bits(1))
                .combinational("carry", PortType::Bits(1));
            Ok((
                ports,
                Box::new(Alu {
                    width: width.into(),
                }),
            ))
        },
    )
    .doc(
        "Inputs: a, b (Bits(width)); op (Bits(4)).\n\
         Outputs (combinational): y (Bits(width)); zero = (y == 0); carry (Bits(1)).\n\
         op: 0 add (carry = carry out), 1 sub (carry = borrow, a < b), 2 and, 3 or, 4 xor,\n\
         5 shl by b (carry = last bit shifted out), 6 shr by b (likewise), 7 eq (y = a == b),\n\
         8 lt (y = a < b, unsigned). Other codes give y = 0, carry = 0.",
    )
    .param(ParamDecl::width("width of a, b and y"))
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    fn alu(op: u64, a: u64, b: u64) -> (u64, u64, u64) {
        let mut tb = Testbench::new("alu", params! { "width" => 8 }).unwrap();
        tb.set("op", op);
        tb.set("a", a);
        tb.set("b", b);
        (tb.get("y"), tb.get("zero"), tb.get("carry"))
    }

    #[test]
    fn every_operation_and_its_flags() {
        assert_eq!(alu(0, 200, 100), (44, 0, 1), "add carries out");
        assert_eq!(alu(0, 1, 2), (3, 0, 0));
        assert_eq!(alu(1, 5, 5), (0, 1, 0), "sub to zero");
        assert_eq!(alu(1, 1, 2), (255, 0, 1), "sub borrows");
        assert_eq!(alu(2, 0b1100, 0b1010), (0b1000, 0, 0));
        assert_eq!(alu(3, 0b1100, 0b1010), (0b1110, 0, 0));
        assert_eq!(alu(4, 0b1100, 0b1010), (0b0110, 0, 0));
        assert_eq!(
            alu(5, 0b1100_0001, 1),
            (0b1000_0010, 0, 1),
            "shl carries the top bit"
        );
        assert_eq!(alu(5, 1, 8), (0, 1, 1));
        assert_eq!(alu(5, 1, 9), (0, 1, 0));
        assert_eq!(alu(6, 0b0000_0011, 1), (1, 0, 1), "shr carries the low bit");
        assert_eq!(alu(7, 9, 9), (1, 0, 0));
        assert_eq!(alu(8, 3, 9), (1, 0, 0));
        assert_eq!(alu(8, 9, 3), (0, 1, 0));
        assert_eq!(alu(15, 9, 3), (0, 1, 0), "unused codes give zero");
    }

    #[test]
    fn add_carries_at_full_width() {
        let mut tb = Testbench::new("alu", params! { "width" => 64 }).unwrap();
        tb.set("a", u64::MAX);
        tb.set("b", 1);
        assert_eq!((tb.get("y"), tb.get("carry")), (0, 1));
    }
}
