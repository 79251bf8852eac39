//! `counter`: a wrapping up/down counter with optional enable and reset.

use crate::batch::BatchIo;
use crate::lower::{Binary, Lowering};
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::ParamDecl;
use crate::value::PortType;

const EN: usize = 0;
const RST: usize = 1;

struct Counter {
    start: u64,
    step: u64,
}

impl Model for Counter {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::none()
    }

    fn lower(&self) -> Option<Lowering> {
        let mut l = Lowering::new();
        let t = &mut l.tick;
        let (en, rst, q) = (t.input(EN), t.input(RST), t.output(0));
        let next = t.binary_const(Binary::Add, q, self.step);
        let next = t.select(en, next, q);
        let start = t.constant(self.start);
        let next = t.select(rst, start, next);
        t.set_output(0, next);
        Some(l)
    }

    fn reset(&mut self, io: &Io<'_>) {
        io.set(0, self.start);
    }
    #[inline(always)]
    fn tick(&mut self, io: &Io<'_>) {
        if io.get_bool(RST) {
            io.set(0, self.start);
        } else if io.get_bool(EN) {
            io.set(0, io.output(0).wrapping_add(self.step));
        }
    }
    /// Every member's `rst` and `en` gathered in one pass, no view per member.
    fn tick_batch(batch: &mut [Self], io: &BatchIo<'_>) {
        let controls = io.input_column(RST).zip(io.input_column(EN));
        for ((k, counter), (rst, en)) in batch.iter_mut().enumerate().zip(controls) {
            if rst & 1 != 0 {
                io.set(k, 0, counter.start);
            } else if en & 1 != 0 {
                io.set(k, 0, io.output(k, 0).wrapping_add(counter.step));
            }
        }
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new(
        "counter",
        "a wrapping counter with optional enable and reset",
        |p, _| {
            let width = p.width("width")?;
            let start = p.bits("start", width.into())?;
            let step = p.bits("step", width.into())?;
            let ports = Interface::new()
                .optional_input("en", PortType::Bits(1), 1)
                .optional_input("rst", PortType::Bits(1), 0)
                .registered("q", PortType::Bits(width));
            Ok((ports, Box::new(Counter { start, step })))
        },
    )
    .doc(
        "Inputs: en (Bits(1), optional, default 1); rst (Bits(1), optional, default 0).\n\
         Outputs: q (Bits(width), registered), starting at `start`.\n\
         At each clock edge: q <= start if rst, else q + step (mod 2^width) if en, else q.\n\
         A negative step counts down.",
    )
    .param(ParamDecl::width("width of q"))
    .param(
        ParamDecl::int(
            "start",
            i64::MIN.into(),
            u64::MAX.into(),
            "value after reset",
        )
        .default(0),
    )
    .param(
        ParamDecl::int(
            "step",
            i64::MIN.into(),
            u64::MAX.into(),
            "added each enabled cycle",
        )
        .default(1),
    )
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    #[test]
    fn counts_wraps_holds_and_resets() {
        let mut tb = Testbench::new("counter", params! { "width" => 3, "start" => 6 }).unwrap();
        let mut seen = vec![];
        for _ in 0..4 {
            seen.push(tb.get("q"));
            tb.step();
        }
        assert_eq!(seen, vec![6, 7, 0, 1]);
        tb.set("en", 0);
        tb.step();
        assert_eq!(tb.get("q"), 2);
        tb.set("rst", 1);
        tb.step();
        assert_eq!(tb.get("q"), 6);
    }

    #[test]
    fn negative_steps_count_down() {
        let mut tb = Testbench::new("counter", params! { "width" => 8, "step" => -1 }).unwrap();
        tb.step();
        assert_eq!(tb.get("q"), 255);
    }
}
