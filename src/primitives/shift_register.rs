//! `shift_register`: a chain of registers — a delay line of `length` cycles.

use std::collections::VecDeque;

use crate::lower::{Binary, Lowering};
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::ParamDecl;
use crate::value::PortType;

const D: usize = 0;
const EN: usize = 1;

struct ShiftRegister {
    stages: VecDeque<u64>,
}

impl Model for ShiftRegister {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::of(&self.stages)
    }

    fn restore(&mut self, state: &crate::model::ModelState, _io: &Io<'_>) -> Result<(), String> {
        let stages: VecDeque<u64> = state.read()?;
        if stages.len() != self.stages.len() {
            return Err(format!(
                "{} saved stages for {}",
                stages.len(),
                self.stages.len()
            ));
        }
        self.stages = stages;
        Ok(())
    }

    /// The lowering keeps the stages in a ring, oldest at `oldest`, in the
    /// reverse order of `stages` (newest first).
    fn unlower(&mut self, state: &[u64], arrays: &[Vec<u64>]) {
        let (ring, oldest) = (&arrays[0], state[0] as usize);
        let n = ring.len();
        // Ring order from the oldest is oldest → newest; `stages` is newest first.
        self.stages = (0..n).map(|i| ring[(oldest + n - 1 - i) % n]).collect();
    }

    /// A ring of `length` words and the index of the oldest: an enabled
    /// edge overwrites the oldest with `d`, and the next oldest is `q`.
    fn lower(&self) -> Option<Lowering> {
        let mut l = Lowering::new();
        let n = self.stages.len() as u64;
        let ring = l.array(self.stages.iter().rev().copied().collect());
        let oldest = l.state_word(0);
        let t = &mut l.tick;
        let (d, en, q) = (t.input(D), t.input(EN), t.output(0));
        let at = t.load(oldest);
        let old = t.load_at(ring, at);
        let word = t.select(en, d, old);
        t.store_at(ring, at, word);
        let after = t.binary_const(Binary::Add, at, 1);
        let wraps = t.binary_const(Binary::Eq, after, n);
        let zero = t.constant(0);
        let after = t.select(wraps, zero, after);
        let at = t.select(en, after, at);
        t.store(oldest, at);
        let out = t.load_at(ring, at);
        let out = t.select(en, out, q);
        t.set_output(0, out);
        Some(l)
    }

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
        let ty = PortType::Bits(p.width("width")?);
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
