//! Writing, testing and using your own model: a PWM generator.
//!
//! This is the walkthrough from the README. It defines a model, unit-tests
//! it with the `Testbench`, and — as `main` — gives you the whole `cspsim`
//! command line with the model registered:
//!
//! ```text
//! cargo run --example pwm -- run examples/pwm.ron --vcd pwm.vcd
//! cargo test --example pwm
//! ```

use cspsim::lower::{Binary, Lowering};
use cspsim::{Interface, Io, Model, ModelInfo, ParamDecl, PortType, Registry};

/// Output `out` is high for `duty` cycles out of every `period`.
struct Pwm {
    period: u64,
    phase: u64,
}

// Port indices, in the order the interface declares them.
const DUTY: usize = 0; // input
const OUT: usize = 0; // output

impl Model for Pwm {
    fn reset(&mut self, io: &Io<'_>) {
        self.phase = 0;
        io.set(OUT, 0);
    }

    // No `eval`: `out` is registered, so it depends on state only.
    fn tick(&mut self, io: &Io<'_>) {
        self.phase = (self.phase + 1) % self.period;
        io.set(OUT, u64::from(self.phase < io.get(DUTY)));
    }

    // Optional: `tick` as instructions, which the compiled engine turns into
    // machine code when a run starts (without it, the engine calls `tick`).
    fn lower(&self) -> Option<Lowering> {
        let mut l = Lowering::new();
        let phase = l.state_word(self.phase);
        let t = &mut l.tick;
        let next = t.load(phase);
        let next = t.binary_const(Binary::Add, next, 1);
        let next = t.binary_const(Binary::Rem, next, self.period);
        t.store(phase, next);
        let duty = t.input(DUTY);
        let out = t.binary(Binary::Lt, next, duty);
        t.set_output(OUT, out);
        Some(l)
    }
}

/// The model's name, documentation, parameters and constructor.
pub fn pwm_info() -> ModelInfo {
    ModelInfo::new("pwm", "pulse-width modulator", |params, _ctx| {
        let period = params.int("period")? as u64;
        let ports = Interface::new()
            .input("duty", PortType::Bits(16))
            .registered("out", PortType::Bits(1));
        Ok((ports, Box::new(Pwm { period, phase: 0 }) as Box<dyn Model>))
    })
    .doc("Inputs: duty (Bits(16)). Outputs: out (Bits(1), registered): high for `duty` of every `period` cycles.")
    .param(ParamDecl::int("period", 1, 65_535, "cycles per PWM period").default(10))
}

fn main() {
    let mut registry = Registry::standard();
    registry.register(pwm_info());
    std::process::exit(cspsim::cli::main(registry));
}

#[cfg(test)]
mod tests {
    use super::*;
    use cspsim::trace::diff::check_golden;
    use cspsim::{params, Testbench};

    #[test]
    fn high_for_duty_cycles_of_each_period() {
        let mut tb = Testbench::for_model(&pwm_info(), params! { "period" => 4 }).unwrap();
        tb.set("duty", 3);
        let mut wave = Vec::new();
        for _ in 0..8 {
            tb.step();
            wave.push(tb.get("out"));
        }
        assert_eq!(wave, [1, 1, 0, 1, 1, 1, 0, 1]);
    }

    #[test]
    fn its_lowering_computes_what_tick_does() {
        // Both ways side by side on random inputs; the first difference fails.
        cspsim::lower::check(&pwm_info(), params! { "period" => 5 }, 1000).unwrap();
    }

    #[test]
    fn matches_its_golden_waveform() {
        let mut tb = Testbench::for_model(&pwm_info(), params! { "period" => 4 }).unwrap();
        let recording = std::env::temp_dir().join(format!("pwm-{}.vcd", std::process::id()));
        tb.record_vcd_file(&recording).unwrap(); // every port, every cycle
        tb.set("duty", 3);
        tb.step_n(12);
        tb.finish_vcd().unwrap();
        let vcd = std::fs::read_to_string(&recording).unwrap();
        let golden =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pwm.golden.vcd");
        // CSPSIM_BLESS=1 cargo test --example pwm  records or accepts the golden file.
        if let Err(difference) = check_golden(&vcd, &golden, 0.0) {
            panic!("{difference}"); // names the first differing signal and cycle
        }
    }

    #[test]
    fn runs_in_a_circuit() {
        let mut registry = Registry::standard();
        registry.register(pwm_info());
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pwm.ron");
        let circuit =
            cspsim::netlist::load_file(&path, &registry, 0).unwrap_or_else(|e| panic!("{e}"));
        let options = cspsim::engine::RunOptions::default();
        let summary = cspsim::engine::run(circuit, &options, None).unwrap();
        assert_eq!(summary.cycles, 100);
        let compiled = summary.compiled.expect("compiled");
        assert_eq!(compiled.lowered, summary.components, "the pwm compiles too");
    }
}
