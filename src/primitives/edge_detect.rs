//! `edge_detect`: one-cycle pulses on rising and falling edges of a bit.

use crate::model::{Interface, Io, Model, ModelInfo};
use crate::value::PortType;

const RISE: usize = 0;
const FALL: usize = 1;
const ANY: usize = 2;

struct EdgeDetect {
    previous: u64,
}

impl Model for EdgeDetect {
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
