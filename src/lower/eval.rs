//! Running a [`Body`] directly, one instruction after another: the
//! reference the code generator is tested against, and a way to test a
//! model's lowering against its own `eval` and `tick` without compiling.

use super::{Body, Inst};

/// The memory a body runs over.
pub struct Evaluation<'a> {
    /// This cycle's inputs.
    pub inputs: &'a [u64],
    /// The outputs' values, read and written.
    pub outputs: &'a mut [u64],
    /// Each output's mask, applied when it is set (all ones if empty).
    pub masks: &'a [u64],
    /// The state words.
    pub state: &'a mut [u64],
    /// The arrays.
    pub arrays: &'a mut [Vec<u64>],
}

impl Body {
    /// Run the body over `memory`. Returns `false` if an [`Inst::FailIf`]
    /// failed (the instructions after it have not run).
    ///
    /// # Panics
    /// If the body reads a port, state word or array that `memory` does not
    /// have, or a value not computed before (a body that
    /// [`verify`](super::verify::verify) refuses).
    pub fn run(&self, memory: &mut Evaluation<'_>) -> bool {
        let mut values = vec![0u64; self.insts.len()];
        for (k, inst) in self.insts.iter().enumerate() {
            let v = |x: super::Val| values[x.0 as usize];
            values[k] = match *inst {
                Inst::Const(c) => c,
                Inst::Input(i) => memory.inputs[i as usize],
                Inst::Output(o) => memory.outputs[o as usize],
                Inst::SetOutput(o, x) => {
                    let mask = memory.masks.get(o as usize).copied().unwrap_or(u64::MAX);
                    memory.outputs[o as usize] = v(x) & mask;
                    0
                }
                Inst::Load(s) => memory.state[s.0 as usize],
                Inst::Store(s, x) => {
                    memory.state[s.0 as usize] = v(x);
                    0
                }
                Inst::LoadAt(a, i) => {
                    let array = &memory.arrays[a.0 as usize];
                    usize::try_from(v(i))
                        .ok()
                        .and_then(|i| array.get(i))
                        .copied()
                        .unwrap_or(0)
                }
                Inst::StoreAt(a, i, x) => {
                    let value = v(x);
                    let array = &mut memory.arrays[a.0 as usize];
                    if let Some(slot) = usize::try_from(v(i)).ok().and_then(|i| array.get_mut(i)) {
                        *slot = value;
                    }
                    0
                }
                Inst::Unary(op, x) => op.apply(v(x)),
                Inst::Binary(op, x, y) => op.apply(v(x), v(y)),
                Inst::Select(c, x, y) => {
                    if v(c) != 0 {
                        v(x)
                    } else {
                        v(y)
                    }
                }
                Inst::FailIf(c) => {
                    if v(c) != 0 {
                        return false;
                    }
                    0
                }
            };
        }
        true
    }

    /// Run over `inputs`, `outputs` (unmasked) and `state`, with no arrays;
    /// the outputs afterwards.
    pub fn eval_with(&self, inputs: &[u64], outputs: &[u64], state: &mut [u64]) -> Vec<u64> {
        let mut outputs = outputs.to_vec();
        self.run(&mut Evaluation {
            inputs,
            outputs: &mut outputs,
            masks: &[],
            state,
            arrays: &mut [],
        });
        outputs
    }
}
