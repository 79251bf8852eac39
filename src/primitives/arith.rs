//! `add`, `sub`, `mul`: two-input arithmetic on Bits (wrapping) or Real.

use crate::lower::{Binary, Lowering};
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::ParamDecl;
use crate::value::PortType;

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
}

impl Op {
    fn lowered(self, real: bool) -> Binary {
        match (self, real) {
            (Op::Add, false) => Binary::Add,
            (Op::Sub, false) => Binary::Sub,
            (Op::Mul, false) => Binary::Mul,
            (Op::Add, true) => Binary::FAdd,
            (Op::Sub, true) => Binary::FSub,
            (Op::Mul, true) => Binary::FMul,
        }
    }
    fn bits(self, a: u64, b: u64) -> u64 {
        match self {
            Op::Add => a.wrapping_add(b),
            Op::Sub => a.wrapping_sub(b),
            Op::Mul => a.wrapping_mul(b),
        }
    }
    fn real(self, a: f64, b: f64) -> f64 {
        match self {
            Op::Add => a + b,
            Op::Sub => a - b,
            Op::Mul => a * b,
        }
    }
}

struct Bits(Op);
struct Real(Op);

/// `y = a op b`, with `op` as lowered.
fn lower(op: Binary) -> Lowering {
    let mut l = Lowering::new();
    let e = &mut l.eval;
    let (a, b) = (e.input(0), e.input(1));
    let y = e.binary(op, a, b);
    e.set_output(0, y);
    l
}

impl Model for Bits {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::none()
    }

    fn lower(&self) -> Option<Lowering> {
        Some(lower(self.0.lowered(false)))
    }
    fn reset(&mut self, _io: &Io<'_>) {}
    #[inline(always)]
    fn eval(&mut self, io: &Io<'_>) {
        io.set(0, self.0.bits(io.get(0), io.get(1)));
    }
}

impl Model for Real {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::none()
    }

    fn lower(&self) -> Option<Lowering> {
        Some(lower(self.0.lowered(true)))
    }
    fn reset(&mut self, _io: &Io<'_>) {}
    #[inline(always)]
    fn eval(&mut self, io: &Io<'_>) {
        io.set_real(0, self.0.real(io.get_real(0), io.get_real(1)));
    }
}

fn info(name: &'static str, summary: &'static str, doc: &'static str, op: Op) -> ModelInfo {
    ModelInfo::new(name, summary, move |p, _| {
        let real = p.bool("real")?;
        let ty = if real {
            PortType::Real
        } else {
            PortType::Bits(p.width("width")?)
        };
        let ports = Interface::new()
            .input("a", ty)
            .input("b", ty)
            .combinational("y", ty);
        let model: Box<dyn Model> = if real {
            Box::new(Real(op))
        } else {
            Box::new(Bits(op))
        };
        Ok((ports, model))
    })
    .doc(doc)
    .param(ParamDecl::width("width of a, b and y"))
    .param(ParamDecl::bool("real", "make a, b and y Real").default(false))
}

pub fn infos() -> Vec<ModelInfo> {
    vec![
        info(
            "add",
            "a + b",
            "Inputs: a, b. Outputs: y = a + b (combinational), modulo 2^width for Bits.",
            Op::Add,
        ),
        info(
            "sub",
            "a - b",
            "Inputs: a, b. Outputs: y = a - b (combinational), modulo 2^width for Bits.",
            Op::Sub,
        ),
        info(
            "mul",
            "a * b",
            "Inputs: a, b. Outputs: y = a * b (combinational), the low width bits for Bits.",
            Op::Mul,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    fn bits(model: &str, a: u64, b: u64) -> u64 {
        let mut tb = Testbench::new(model, params! { "width" => 8 }).unwrap();
        tb.set("a", a);
        tb.set("b", b);
        tb.get("y")
    }

    #[test]
    fn bits_arithmetic_wraps_at_the_width() {
        assert_eq!(bits("add", 200, 100), 44);
        assert_eq!(bits("sub", 1, 2), 255);
        assert_eq!(bits("mul", 16, 17), 16);
        assert_eq!(bits("mul", 7, 6), 42);
    }

    #[test]
    fn real_arithmetic() {
        for (model, want) in [("add", 3.75), ("sub", -1.25), ("mul", 3.125)] {
            let mut tb = Testbench::new(model, params! { "real" => true }).unwrap();
            tb.set_real("a", 1.25);
            tb.set_real("b", 2.5);
            approx::assert_relative_eq!(tb.get_real("y"), want);
        }
    }
}
