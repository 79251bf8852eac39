//! `shift_register`: a chain of registers — a delay line of `length` cycles.

use std::collections::VecDeque;

use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::ParamDecl;
use crate::value::PortType;

const D: usize = 0;
const EN: usize = 1;

struct ShiftRegister {
    stages: VecDeque<u64>,
}

impl Model for ShiftRegister {
    fn reset(&mut self, io: &Io<'_>) {
        self.stages.iter_mut().for_each(|s| *s = 0);
        io.set(0, 0);
    }
    #[inline(always)]
    fn tick(&mut self, io: &Io<'_>) {
        if io.get_bool(EN) {
            self.stages.pop_back();
            self.stages.push_front(io.get(D));
            io.set(0, self.stages.back().copied().unwrap_or(0));
        }
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new("shift_register", "delay line: q is d from `length` enabled edges ago", |p, _| {
        let ty = PortType::Bits(p.width("width")? as u8);
        let length = p.usize("length")?;
        let ports = Interface::new()
            .input("d", ty)
            .optional_input("en", PortType::Bits(1), 1)
            .registered("q", ty);
        Ok((
            ports,
            Box::new(ShiftRegister {
                stages: VecDeque::from(vec![0; length]),
            }),
        ))
    })
    .doc(
        "Inputs: d (Bits(width)); en (Bits(1), optional, default 1).\n\
         Outputs: q (Bits(width), registered): the value d had `length` enabled edges ago (0 at first).",
    )
    .param(ParamDecl::width("width of d and q"))
    .param(ParamDecl::int("length", 1, 1 << 20, "number of stages").default(2))
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    #[test]
    fn delays_by_length_and_holds_when_disabled() {
        let mut tb =
            Testbench::new("shift_register", params! { "width" => 8, "length" => 3 }).unwrap();
        let mut out = Vec::new();
        for v in 1..=5 {
            tb.set("d", v);
            out.push(tb.get("q"));
            tb.step();
        }
        assert_eq!(out, [0, 0, 0, 1, 2]);
        tb.set("en", 0);
        tb.step();
        assert_eq!(tb.get("q"), 3);
    }
}
