//! Checking a model's lowering against the model itself: both run side by
//! side on random inputs, the lowering through the reference evaluator,
//! and every output is compared after each evaluation and clock edge. What
//! a model author calls from a unit test:
//!
//! ```
//! # use cspsim::{params, Registry};
//! let counter = Registry::standard().get("counter").unwrap().clone();
//! cspsim::lower::check(&counter, params! { "width" => 8, "step" => 3 }, 500).unwrap();
//! ```

use std::sync::atomic::Ordering::Relaxed;

use super::{verify::verify, Evaluation};
use crate::model::{BuildContext, Io, ModelInfo, Slot, Timing};
use crate::params::ParamValue;
use crate::PortType;

/// A small, fixed random sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Run `model` built with `params` for `cycles` cycles both ways: through
/// its `eval` and `tick`, and through its lowering. Inputs are random (a
/// one-bit input is 1 three cycles in seven, one named `rst` one in 13;
/// wider ones are often small, so that addresses hit). Returns the first
/// difference, a lowering that [`verify`] refuses, or a model that does not
/// lower. A check that fails (the model's [`fail`](crate::model::fail))
/// must fail in the same cycle both ways; the run ends there.
pub fn check(
    model: &ModelInfo,
    params: Vec<(String, ParamValue)>,
    cycles: usize,
) -> Result<(), String> {
    let name = model.name;
    let (ports, mut behaviour) = model
        .build(&params, &BuildContext::new("dut"))
        .map_err(|e| format!("{name}: {e}"))?;
    let (n_in, n_out) = (ports.inputs().len(), ports.outputs().len());
    let masks = ports.output_masks();
    let slots: Vec<Slot> = (0..n_in + n_out).map(|_| Slot::new(0)).collect();
    let ins: Vec<u32> = (0..n_in as u32).collect();
    let outs: Vec<u32> = (n_in as u32..(n_in + n_out) as u32).collect();
    let io = Io::new(&slots, &ins, &outs, &masks);
    behaviour.reset(&io);
    let lowering = behaviour
        .lower()
        .ok_or_else(|| format!("{name} does not lower"))?;
    let registered: Vec<bool> = ports
        .outputs()
        .iter()
        .map(|o| o.timing == Timing::Registered)
        .collect();
    verify(&lowering, n_in, &registered).map_err(|e| format!("{name}: {e}"))?;
    let mut state = lowering.state.clone();
    let mut arrays = lowering.arrays.clone();
    let mut outputs: Vec<u64> = (0..n_out).map(|o| io.output(o)).collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ name.len() as u64);
    let (evaluates, clocked) = (ports.has_combinational(), ports.is_clocked());
    for cycle in 0..cycles {
        let inputs: Vec<u64> = ports
            .inputs()
            .iter()
            .map(|p| {
                let r = rng.next();
                match p.ty {
                    PortType::Bits(1) if p.name == "rst" => u64::from(r.is_multiple_of(13)),
                    PortType::Bits(1) => u64::from(r % 7 < 3),
                    ty if r.is_multiple_of(5) => r & ty.mask() & 7,
                    ty => r & ty.mask(),
                }
            })
            .collect();
        for (i, &v) in inputs.iter().enumerate() {
            slots[i].store(v, Relaxed);
        }
        let mut memory = Evaluation {
            inputs: &inputs,
            outputs: &mut outputs,
            masks: &masks,
            state: &mut state,
            arrays: &mut arrays,
        };
        let compare = |memory: &Evaluation<'_>, after: &str, only_comb: bool| {
            for (o, decl) in ports.outputs().iter().enumerate() {
                let comb = matches!(decl.timing, Timing::Combinational(_));
                if (comb || !only_comb) && memory.outputs[o] != io.output(o) {
                    return Err(format!(
                        "{name}: output `{}` {after} cycle {cycle} with inputs {inputs:?}: {} lowered, {} by the model",
                        decl.name,
                        memory.outputs[o],
                        io.output(o)
                    ));
                }
            }
            Ok(())
        };
        if evaluates {
            behaviour.eval(&io);
            if !lowering.eval.run(&mut memory) {
                return Err(format!(
                    "{name}: the lowered evaluation failed in cycle {cycle}"
                ));
            }
        }
        compare(&memory, "in", true)?;
        if clocked {
            let call = std::panic::AssertUnwindSafe(|| behaviour.tick(&io));
            let failed = std::panic::catch_unwind(call).is_err();
            if lowering.tick.run(&mut memory) == failed {
                return Err(format!(
                    "{name}: in cycle {cycle} the {} fails and the other does not",
                    if failed { "model" } else { "lowering" }
                ));
            }
            if failed {
                return Ok(());
            }
        }
        compare(&memory, "after", false)?;
    }
    Ok(())
}
