//! `clock_enable`: one pulse every `n` cycles, to run parts of a circuit in
//! a slower clock domain through their enable inputs.

use crate::lower::{Binary, Lowering};
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::{ParamDecl, ParamError};
use crate::value::PortType;

struct ClockEnable {
    n: u64,
    phase: u64,
    count: u64,
}

impl Model for ClockEnable {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::of(&self.count)
    }

    fn restore(&mut self, state: &crate::model::ModelState, _io: &Io<'_>) -> Result<(), String> {
        self.count = state.read()?;
        Ok(())
    }

    fn unlower(&mut self, state: &[u64], _arrays: &[Vec<u64>]) {
        self.count = state[0];
    }

    fn lower(&self) -> Option<Lowering> {
        let mut l = Lowering::new();
        let count = l.state_word(self.count);
        let t = &mut l.tick;
        let c = t.load(count);
        let c = t.binary_const(Binary::Add, c, 1);
        let wraps = t.binary_const(Binary::Eq, c, self.n);
        let zero = t.constant(0);
        let c = t.select(wraps, zero, c);
        t.store(count, c);
        let en = t.binary_const(Binary::Eq, c, self.phase);
        t.set_output(0, en);
        Some(l)
    }

    fn reset(&mut self, io: &Io<'_>) {
        self.count = 0;
        io.set(0, u64::from(self.phase == 0));
    }
    #[inline(always)]
    fn tick(&mut self, io: &Io<'_>) {
        self.count = (self.count + 1) % self.n;
        io.set(0, u64::from(self.count == self.phase));
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new(
        "clock_enable",
        "a one-cycle pulse every n cycles",
        |p, _| {
            let n = p.int("n")? as u64;
            let phase = p.int("phase")? as u64;
            if phase >= n {
                return Err(ParamError::invalid(
                    "phase",
                    format!("{phase} must be below n = {n}"),
                ));
            }
            let ports = Interface::new().registered("en", PortType::Bits(1));
            Ok((ports, Box::new(ClockEnable { n, phase, count: 0 })))
        },
    )
    .doc("Outputs: en (Bits(1), registered): 1 in cycles phase, phase + n, phase + 2n, …, else 0.")
    .param(ParamDecl::int("n", 1, u32::MAX.into(), "cycles between pulses").default(2))
    .param(ParamDecl::int("phase", 0, u32::MAX.into(), "cycle of the first pulse").default(0))
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    #[test]
    fn pulses_every_n_cycles_from_the_phase() {
        let mut tb = Testbench::new("clock_enable", params! { "n" => 3, "phase" => 1 }).unwrap();
        let mut seen = Vec::new();
        for _ in 0..7 {
            seen.push(tb.get("en"));
            tb.step();
        }
        assert_eq!(seen, [0, 1, 0, 0, 1, 0, 0]);
        crate::test_support::assert_err_contains(
            Testbench::new("clock_enable", params! { "n" => 3, "phase" => 3 }),
            "`phase`: 3 must be below n = 3",
        );
        let mut every = Testbench::new("clock_enable", params! { "n" => 1 }).unwrap();
        every.step();
        assert_eq!(every.get("en"), 1);
    }
}
