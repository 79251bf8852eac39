//! `edge_detect`: one-cycle pulses on rising and falling edges of a bit.

use crate::lower::{Binary, Lowering, Unary};
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::value::PortType;

const RISE: usize = 0;
const FALL: usize = 1;
const ANY: usize = 2;

struct EdgeDetect {
    previous: u64,
}

impl Model for EdgeDetect {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::of(&self.previous)
    }

    fn restore(&mut self, state: &crate::model::ModelState, _io: &Io<'_>) -> Result<(), String> {
        self.previous = state.read()?;
        Ok(())
    }

    fn unlower(&mut self, state: &[u64], _arrays: &[Vec<u64>]) {
        self.previous = state[0];
    }

    fn lower(&self) -> Option<Lowering> {
        let mut l = Lowering::new();
        let previous = l.state_word(self.previous);
        let e = &mut l.eval;
        let (a, prev) = (e.input(0), e.load(previous));
        let (not_a, not_prev) = (e.unary(Unary::Not, a), e.unary(Unary::Not, prev));
        let rise = e.binary(Binary::And, a, not_prev);
        let fall = e.binary(Binary::And, not_a, prev);
        let any = e.binary(Binary::Xor, a, prev);
        e.set_output(RISE, rise);
        e.set_output(FALL, fall);
        e.set_output(ANY, any);
        let a = l.tick.input(0);
        l.tick.store(previous, a);
        Some(l)
    }

    fn reset(&mut self, _io: &Io<'_>) {
        self.previous = 0;
    }
    #[inline(always)]
    fn eval(&mut self, io: &Io<'_>) {
        let a = io.get(0);
        io.set(RISE, a & !self.previous);
        io.set(FALL, !a & self.previous);
        io.set(ANY, a ^ self.previous);
    }
    #[inline(always)]
    fn tick(&mut self, io: &Io<'_>) {
        self.previous = io.get(0);
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new(
        "edge_detect",
        "pulses on rising and falling edges of a bit",
        |_, _| {
            let bit = PortType::Bits(1);
            let ports = Interface::new()
                .input("a", bit)
                .combinational("rise", bit)
                .combinational("fall", bit)
                .combinational("any", bit)
                .clocked(true);
            Ok((ports, Box::new(EdgeDetect { previous: 0 })))
        },
    )
    .doc(
        "Inputs: a (Bits(1)). Outputs (combinational, compared with a's value in the previous\n\
         cycle, 0 before cycle 0): rise = a & !prev, fall = !a & prev, any = a ^ prev.",
    )
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    #[test]
    fn pulses_for_one_cycle_on_each_edge() {
        let mut tb = Testbench::new("edge_detect", params! {}).unwrap();
        let mut seen = Vec::new();
        for a in [0, 1, 1, 0, 0, 1] {
            tb.set("a", a);
            seen.push((tb.get("rise"), tb.get("fall"), tb.get("any")));
            tb.step();
        }
        assert_eq!(
            seen,
            [
                (0, 0, 0),
                (1, 0, 1),
                (0, 0, 0),
                (0, 1, 1),
                (0, 0, 0),
                (1, 0, 1)
            ]
        );
    }
}
