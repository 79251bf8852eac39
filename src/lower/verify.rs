//! Checks that a [`Lowering`] is well formed before code is generated from
//! it: each broken invariant has its own message, naming the body and the
//! instruction. The code generator relies on every one of them.

use super::{Body, Inst, Lowering};

/// Why a lowering was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{body} instruction {index} ({inst:?}): {problem}")]
pub struct VerifyError {
    /// `eval` or `tick`.
    pub body: &'static str,
    /// The instruction's position.
    pub index: usize,
    /// The instruction.
    pub inst: Inst,
    /// What is wrong with it.
    pub problem: String,
}

/// Check `lowering` for a component with `inputs` inputs and outputs that
/// are registered where `registered` says so:
/// - every operand names an earlier instruction that computes a value;
/// - every port, state word and array exists;
/// - `eval` sets combinational outputs only, and `tick` registered ones
///   only (what the engine's schedule relies on: nobody in a phase writes
///   what another component of the phase reads);
/// - a body that can fail has a failure message to give.
pub fn verify(lowering: &Lowering, inputs: usize, registered: &[bool]) -> Result<(), VerifyError> {
    for (name, body) in [("eval", &lowering.eval), ("tick", &lowering.tick)] {
        check_body(name, body, lowering, (inputs, registered))?;
    }
    Ok(())
}

fn check_body(
    name: &'static str,
    body: &Body,
    lowering: &Lowering,
    (inputs, registered): (usize, &[bool]),
) -> Result<(), VerifyError> {
    let outputs = registered.len();
    let insts = body.insts();
    for (index, inst) in insts.iter().enumerate() {
        let refuse = |problem: String| VerifyError {
            body: name,
            index,
            inst: *inst,
            problem,
        };
        for operand in inst.operands() {
            let at = operand.0 as usize;
            if at >= index {
                return Err(refuse(format!(
                    "reads v{at}, which is not computed before it"
                )));
            }
            if !insts[at].has_value() {
                return Err(refuse(format!("reads v{at}, which computes no value")));
            }
        }
        let problem = match *inst {
            Inst::Input(i) if i as usize >= inputs => {
                Some(format!("the component has {inputs} inputs"))
            }
            Inst::Output(o) | Inst::SetOutput(o, _) if o as usize >= outputs => {
                Some(format!("the component has {outputs} outputs"))
            }
            Inst::Load(s) | Inst::Store(s, _) if s.0 as usize >= lowering.state.len() => Some(
                format!("the component has {} state words", lowering.state.len()),
            ),
            Inst::LoadAt(a, _) | Inst::StoreAt(a, ..) if a.0 as usize >= lowering.arrays.len() => {
                Some(format!(
                    "the component has {} arrays",
                    lowering.arrays.len()
                ))
            }
            Inst::SetOutput(o, _) if registered[o as usize] != (name == "tick") => Some(format!(
                "{name} sets a {} output",
                if name == "tick" {
                    "combinational"
                } else {
                    "registered"
                }
            )),
            Inst::FailIf(_) if lowering.failure.is_none() => {
                Some("a check that can fail needs a failure message (Lowering::on_failure)".into())
            }
            _ => None,
        };
        if let Some(problem) = problem {
            return Err(refuse(problem));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::{Binary, Val};

    #[test]
    fn each_broken_invariant_is_named() {
        let mut l = Lowering::new();
        let x = l.eval.input(0);
        l.eval.set_output(0, x);
        assert_eq!(verify(&l, 1, &[false]), Ok(()));
        assert_eq!(
            verify(&l, 0, &[false]).unwrap_err().problem,
            "the component has 0 inputs"
        );
        assert_eq!(verify(&l, 1, &[]).unwrap_err().index, 1);
        assert_eq!(
            verify(&l, 1, &[true]).unwrap_err().problem,
            "eval sets a registered output"
        );

        let mut l = Lowering::new();
        l.tick.push(Inst::Binary(Binary::Add, Val(0), Val(0)));
        let e = verify(&l, 0, &[]).unwrap_err();
        assert_eq!(
            (e.body, e.problem.as_str()),
            ("tick", "reads v0, which is not computed before it")
        );

        let mut l = Lowering::new();
        let s = crate::lower::StateId(0);
        l.tick.load(s);
        assert!(verify(&l, 0, &[])
            .unwrap_err()
            .problem
            .contains("0 state words"));

        let mut l = Lowering::new();
        let c = l.tick.constant(1);
        l.tick.fail_if(c);
        assert!(verify(&l, 0, &[])
            .unwrap_err()
            .problem
            .contains("failure message"));
        let l = l.on_failure(|_| "no".into());
        assert_eq!(verify(&l, 0, &[]), Ok(()));

        let mut l = Lowering::new();
        let c = l.tick.constant(1);
        l.tick.fail_if(c);
        l.tick.push(Inst::Unary(crate::lower::Unary::Not, Val(1)));
        let l = l.on_failure(|_| "no".into());
        assert!(verify(&l, 0, &[])
            .unwrap_err()
            .problem
            .contains("computes no value"));
    }
}
