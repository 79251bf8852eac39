//! `assert`: a check inside the circuit. When its condition is false at a
//! clock edge the run stops with the cycle and the values it saw.

use crate::expr::Program;
use crate::lower::{Binary, Lowering, Unary, Val};
use crate::model::{fail, Interface, Io, Model, ModelInfo};
use crate::params::{ParamDecl, ParamError};
use crate::value::PortType;

struct Assert {
    condition: Program,
    text: String,
    message: String,
    /// Every input's name and type.
    names: Vec<(String, PortType)>,
    skip: u64,
    cycle: u64,
}

/// What a failed check says: the message or the condition, and every
/// input's value in decimal and hex.
fn failure(names: &[(String, PortType)], text: &str, message: &str, io: &Io<'_>) -> String {
    let values: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, (name, port))| {
            let v = io.get(i);
            // Decimal, and hex where it differs.
            if *port == PortType::Real {
                format!("{name} = {}", f64::from_bits(v))
            } else if v < 10 {
                format!("{name} = {v}")
            } else {
                format!("{name} = {v} (0x{v:x})")
            }
        })
        .collect();
    let what = if message.is_empty() {
        format!("assertion `{text}` failed")
    } else {
        format!("{message} (assertion `{text}` failed)")
    };
    format!("{what}: {}", values.join(", "))
}

impl Model for Assert {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::of(&self.cycle)
    }

    fn restore(&mut self, state: &crate::model::ModelState, _io: &Io<'_>) -> Result<(), String> {
        self.cycle = state.read()?;
        Ok(())
    }

    fn unlower(&mut self, state: &[u64], _arrays: &[Vec<u64>]) {
        self.cycle = state[0];
    }

    fn lower(&self) -> Option<Lowering> {
        let mut l = Lowering::new();
        let cycle = l.state_word(self.cycle);
        let t = &mut l.tick;
        let inputs: Vec<Val> = (0..self.names.len()).map(|i| t.input(i)).collect();
        let holds = self.condition.lower(t, &inputs, &[]);
        let c = t.load(cycle);
        let checked = t.binary_const(Binary::Ge, c, self.skip);
        let broken = t.unary(Unary::IsZero, holds);
        let failed = t.binary(Binary::And, checked, broken);
        t.fail_if(failed);
        let c = t.binary_const(Binary::Add, c, 1);
        t.store(cycle, c);
        let (names, text, message) = (self.names.clone(), self.text.clone(), self.message.clone());
        Some(l.on_failure(move |io| failure(&names, &text, &message, io)))
    }

    fn reset(&mut self, _io: &Io<'_>) {
        self.cycle = 0;
    }

    fn tick(&mut self, io: &Io<'_>) {
        if self.cycle >= self.skip && self.condition.eval(|i| io.get(i), &[]) == 0 {
            fail(failure(&self.names, &self.text, &self.message, io));
        }
        self.cycle += 1;
    }
}

pub fn info() -> ModelInfo {
    let [inputs, constants] = super::expr::input_decls(vec!["cond: 1"]);
    ModelInfo::new(
        "assert",
        "stops the run when its condition is false",
        |p, _| {
            let (scope, input_ports) = super::expr::input_scope(p)?;
            let text = p.str("condition")?;
            let condition = Program::compile(text, &scope)
                .map_err(|e| ParamError::in_value("condition", text, e))?;
            let mut ports = Interface::new().clocked(true);
            for (name, port) in &input_ports {
                ports = ports.input(name.clone(), *port);
            }
            Ok((
                ports,
                Box::new(Assert {
                    condition,
                    text: text.to_string(),
                    message: p.str("message")?.to_string(),
                    names: input_ports,
                    skip: p.int("skip")? as u64,
                    cycle: 0,
                }),
            ))
        },
    )
    .doc(
        "Inputs: as declared by `inputs` (default one input, cond: Bits(1)). No outputs.\n\
         At every clock edge from cycle `skip` on, `condition` (an expression over the inputs\n\
         and `constants`, as in `expr`) must be non-zero. When it is zero the run stops: the\n\
         error names this component, the cycle, the message and every input's value, the\n\
         trace keeps every cycle up to and including the failing one, and `cspsim run` exits\n\
         with status 1.",
    )
    .param(inputs)
    .param(ParamDecl::string("condition", "what must hold").default("cond"))
    .param(ParamDecl::string("message", "said when it does not").default(""))
    .param(ParamDecl::int("skip", 0, i64::MAX.into(), "cycles after reset not checked").default(0))
    .param(constants)
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench, TestbenchError};

    #[test]
    fn a_false_condition_fails_with_the_cycle_and_the_values() {
        let mut tb = Testbench::new(
            "assert",
            params! {
                "inputs" => vec!["count: 8", "full: 1"],
                "condition" => "!(full && count > LIMIT)",
                "constants" => vec!["LIMIT = 3"],
                "message" => "overflow",
            },
        )
        .unwrap();
        tb.set("count", 9);
        tb.step_n(2);
        tb.set("full", 1);
        tb.set("count", 3);
        tb.step();
        tb.set("count", 4);
        let Err(TestbenchError::Failed { cycle, message }) = tb.try_step() else {
            panic!("the assertion held");
        };
        assert_eq!(cycle, 3);
        assert_eq!(
            message,
            "overflow (assertion `!(full && count > LIMIT)` failed): count = 4, full = 1"
        );
    }

    #[test]
    fn the_default_checks_one_bit_after_the_skipped_cycles() {
        let mut tb = Testbench::new("assert", params! { "skip" => 2 }).unwrap();
        tb.step_n(2);
        let e = tb.try_step().unwrap_err();
        assert_eq!(e.to_string(), "cycle 2: assertion `cond` failed: cond = 0");
        let mut tb = Testbench::new("assert", params! {}).unwrap();
        tb.set("cond", 1);
        tb.step_n(5);
        assert_eq!(tb.cycle(), 5);
    }

    #[test]
    fn a_bad_condition_is_refused_at_build() {
        let Err(e) = Testbench::new("assert", params! { "condition" => "cond &" }) else {
            panic!("accepted");
        };
        assert!(e.to_string().contains("parameter `condition`"), "{e}");
    }
}
