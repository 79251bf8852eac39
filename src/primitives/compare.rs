//! `compare`: a comparator giving one bit.

use crate::lower::{Binary, Lowering};
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::ParamDecl;
use crate::value::PortType;

const OPS: [&str; 6] = ["eq", "ne", "lt", "le", "gt", "ge"];

struct Compare {
    op: usize,
    /// XOR-ing the sign bit turns a signed order into an unsigned one.
    flip: u64,
}

impl Model for Compare {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::none()
    }

    fn lower(&self) -> Option<Lowering> {
        let mut l = Lowering::new();
        let e = &mut l.eval;
        let (a, b) = (e.input(0), e.input(1));
        let a = e.binary_const(Binary::Xor, a, self.flip);
        let b = e.binary_const(Binary::Xor, b, self.flip);
        let op = [
            Binary::Eq,
            Binary::Ne,
            Binary::Lt,
            Binary::Le,
            Binary::Gt,
            Binary::Ge,
        ];
        let y = e.binary(op[self.op.min(5)], a, b);
        e.set_output(0, y);
        Some(l)
    }

    fn reset(&mut self, _io: &Io<'_>) {}
    #[inline(always)]
    fn eval(&mut self, io: &Io<'_>) {
        let (a, b) = (io.get(0) ^ self.flip, io.get(1) ^ self.flip);
        let y = match self.op {
            0 => a == b,
            1 => a != b,
            2 => a < b,
            3 => a <= b,
            4 => a > b,
            _ => a >= b,
        };
        io.set(0, u64::from(y));
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new(
        "compare",
        "comparator: eq ne lt le gt ge, signed or unsigned",
        |p, _| {
            let width = p.width("width")?;
            let op_name = p.str("op")?;
            let op = OPS.iter().position(|o| *o == op_name).unwrap_or(0);
            let flip = if p.bool("signed")? {
                1 << (width - 1)
            } else {
                0
            };
            let ty = PortType::Bits(width);
            let ports = Interface::new()
                .input("a", ty)
                .input("b", ty)
                .combinational("y", PortType::Bits(1));
            Ok((ports, Box::new(Compare { op, flip })))
        },
    )
    .doc("Inputs: a, b (Bits(width)). Outputs: y = (a OP b) (Bits(1), combinational).")
    .param(ParamDecl::width("width of a and b"))
    .param(ParamDecl::choice("op", &OPS, "the comparison").default("eq"))
    .param(ParamDecl::bool("signed", "compare as two's complement").default(false))
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    fn cmp(op: &str, signed: bool, a: u64, b: u64) -> u64 {
        let mut tb = Testbench::new(
            "compare",
            params! { "width" => 8, "op" => op, "signed" => signed },
        )
        .unwrap();
        tb.set("a", a);
        tb.set("b", b);
        tb.get("y")
    }

    #[test]
    fn every_comparison_signed_and_unsigned() {
        let table = [
            ("eq", [0, 1, 0]),
            ("ne", [1, 0, 1]),
            ("lt", [1, 0, 0]),
            ("le", [1, 1, 0]),
            ("gt", [0, 0, 1]),
            ("ge", [0, 1, 1]),
        ];
        for (op, want) in table {
            assert_eq!(
                [
                    cmp(op, false, 1, 2),
                    cmp(op, false, 2, 2),
                    cmp(op, false, 3, 2)
                ],
                want,
                "{op}"
            );
        }
        assert_eq!(cmp("lt", false, 0xff, 1), 0, "255 > 1 unsigned");
        assert_eq!(cmp("lt", true, 0xff, 1), 1, "-1 < 1 signed");
    }
}
