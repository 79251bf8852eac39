//! `register`: a D flip-flop bank with optional enable and synchronous reset.

use crate::lower::Lowering;
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::ParamDecl;
use crate::value::PortType;

const D: usize = 0;
const EN: usize = 1;
const RST: usize = 2;

struct Register {
    init: u64,
}

impl Model for Register {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::none()
    }

    fn lower(&self) -> Option<Lowering> {
        let mut l = Lowering::new();
        let t = &mut l.tick;
        let (d, en, rst, q) = (t.input(D), t.input(EN), t.input(RST), t.output(0));
        let next = t.select(en, d, q);
        let init = t.constant(self.init);
        let next = t.select(rst, init, next);
        t.set_output(0, next);
        Some(l)
    }

    fn reset(&mut self, io: &Io<'_>) {
        io.set(0, self.init);
    }
    #[inline(always)]
    fn tick(&mut self, io: &Io<'_>) {
        if io.get_bool(RST) {
            io.set(0, self.init);
        } else if io.get_bool(EN) {
            io.set(0, io.get(D));
        }
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new("register", "a register with optional enable and synchronous reset", |p, _| {
        let width = p.width("width")?;
        let init = p.bits("init", width.into())?;
        let ty = PortType::Bits(width);
        let ports = Interface::new()
            .input("d", ty)
            .optional_input("en", PortType::Bits(1), 1)
            .optional_input("rst", PortType::Bits(1), 0)
            .registered("q", ty);
        Ok((ports, Box::new(Register { init })))
    })
    .doc(
        "Inputs: d (Bits(width)); en (Bits(1), optional, default 1); rst (Bits(1), optional, default 0).\n\
         Outputs: q (Bits(width), registered).\n\
         At each clock edge: q <= init if rst, else d if en, else q.",
    )
    .param(ParamDecl::width("width of d and q"))
    .param(ParamDecl::int("init", i64::MIN.into(), u64::MAX.into(), "value after reset").default(0))
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    #[test]
    fn loads_on_enable_and_resets_synchronously() {
        let mut tb = Testbench::new("register", params! { "width" => 8, "init" => 5 }).unwrap();
        assert_eq!(tb.get("q"), 5);
        tb.set("d", 42);
        tb.step();
        assert_eq!(tb.get("q"), 42);
        tb.set("en", 0);
        tb.set("d", 7);
        tb.step();
        assert_eq!(tb.get("q"), 42, "holds while en = 0");
        tb.set("rst", 1);
        tb.step();
        assert_eq!(tb.get("q"), 5, "reset wins over everything");
    }
}
