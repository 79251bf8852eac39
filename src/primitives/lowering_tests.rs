//! Every standard model's lowering computes what its own `eval` and `tick`
//! do: both run side by side on random inputs for many cycles, the
//! lowering through the reference evaluator of [`crate::lower`].

use std::sync::atomic::Ordering::Relaxed;

use crate::lower::{verify::verify, Evaluation};
use crate::model::{BuildContext, Io, Slot, Timing};
use crate::params::ParamValue;
use crate::{params, Registry};

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

/// Run `model` with `params` both ways for `cycles` cycles, comparing every
/// output after each evaluation and each clock edge.
fn agree(model: &str, params: Vec<(String, ParamValue)>, cycles: usize) {
    let registry = Registry::standard();
    let info = registry.get(model).expect("a standard model");
    let ctx = BuildContext::new("dut");
    let (ports, mut behaviour) = info.build(&params, &ctx).expect("valid parameters");
    let (n_in, n_out) = (ports.inputs().len(), ports.outputs().len());
    let masks = ports.output_masks();
    let slots: Vec<Slot> = (0..n_in + n_out).map(|_| Slot::new(0)).collect();
    let ins: Vec<u32> = (0..n_in as u32).collect();
    let outs: Vec<u32> = (n_in as u32..(n_in + n_out) as u32).collect();
    let io = Io::new(&slots, &ins, &outs, &masks);
    behaviour.reset(&io);
    let lowering = behaviour
        .lower()
        .unwrap_or_else(|| panic!("{model} {params:?} lowers"));
    let registered: Vec<bool> = ports
        .outputs()
        .iter()
        .map(|o| o.timing == Timing::Registered)
        .collect();
    verify(&lowering, n_in, &registered).unwrap_or_else(|e| panic!("{model}: {e}"));
    let mut state = lowering.state.clone();
    let mut arrays = lowering.arrays.clone();
    let mut outputs: Vec<u64> = (0..n_out).map(|o| io.output(o)).collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ model.len() as u64);
    let (evaluates, clocked) = (ports.has_combinational(), ports.is_clocked());
    for cycle in 0..cycles {
        // One-bit inputs are 1 three times in seven (a reset once in 13
        // cycles); wider ones are often small, so that addresses hit.
        let inputs: Vec<u64> = ports
            .inputs()
            .iter()
            .map(|p| {
                let r = rng.next();
                match p.ty {
                    crate::PortType::Bits(1) if p.name == "rst" => u64::from(r.is_multiple_of(13)),
                    crate::PortType::Bits(1) => u64::from(r % 7 < 3),
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
        if evaluates {
            behaviour.eval(&io);
            assert!(lowering.eval.run(&mut memory));
        }
        for (o, decl) in ports.outputs().iter().enumerate() {
            if matches!(decl.timing, Timing::Combinational(_)) {
                assert_eq!(
                    memory.outputs[o],
                    io.output(o),
                    "{model}: output {} in cycle {cycle} with inputs {inputs:?}",
                    decl.name
                );
            }
        }
        if clocked {
            let failed =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| behaviour.tick(&io)))
                    .is_err();
            assert_eq!(
                !lowering.tick.run(&mut memory),
                failed,
                "{model}: failure in cycle {cycle}"
            );
            if failed {
                let text = (lowering.failure.as_ref().expect("a message"))(&io);
                assert!(text.contains("failed"), "{text}");
                return;
            }
        }
        for (o, decl) in ports.outputs().iter().enumerate() {
            assert_eq!(
                memory.outputs[o],
                io.output(o),
                "{model}: output {} after cycle {cycle} with inputs {inputs:?}",
                decl.name
            );
        }
    }
}

#[test]
fn every_standard_lowering_agrees_with_its_model() {
    let cases: Vec<(&str, Vec<(String, ParamValue)>)> = vec![
        (
            "counter",
            params! {"width" => 5, "start" => 3, "step" => -2},
        ),
        ("counter", params! {"width" => 64, "step" => 7}),
        ("register", params! {"width" => 12, "init" => 9}),
        ("const", params! {"width" => 8, "value" => 3}),
        ("add", params! {"width" => 7}),
        ("sub", params! {"width" => 64}),
        ("mul", params! {"width" => 33}),
        ("add", params! {"real" => true}),
        ("mul", params! {"real" => true}),
        ("alu", params! {"width" => 8}),
        ("alu", params! {"width" => 64}),
        ("alu", params! {"width" => 1}),
        ("not", params! {"width" => 9}),
        ("and", params! {"width" => 8, "n" => 3}),
        ("or", params! {"width" => 16, "n" => 1}),
        ("xor", params! {"width" => 32, "n" => 37}),
        ("mux", params! {"width" => 8, "n" => 5}),
        ("mux", params! {"width" => 64, "n" => 64}),
        (
            "compare",
            params! {"width" => 8, "op" => "lt", "signed" => true},
        ),
        ("compare", params! {"width" => 16, "op" => "ge"}),
        ("compare", params! {"width" => 4, "op" => "ne"}),
        (
            "slice",
            params! {"in_width" => 32, "lsb" => 5, "width" => 7},
        ),
        ("concat", params! {"widths" => vec![3, 5, 8]}),
        ("lfsr", params! {"width" => 16}),
        (
            "lfsr",
            params! {"width" => 12, "form" => "fibonacci", "seed" => 5},
        ),
        ("shift_register", params! {"width" => 8, "length" => 3}),
        ("shift_register", params! {"width" => 8, "length" => 1}),
        ("edge_detect", params! {}),
        ("clock_enable", params! {"n" => 5, "phase" => 2}),
        ("arbiter", params! {"masters" => 5}),
        ("arbiter", params! {"masters" => 64}),
        (
            "bus",
            params! {"masters" => 4, "addr_width" => 8, "data_width" => 16},
        ),
        ("bus", params! {"masters" => 3, "arbitration" => "priority"}),
        ("bus", params! {"masters" => 64}),
        (
            "ram",
            params! {"width" => 8, "depth" => 10, "init" => vec![1, 2, 3]},
        ),
        (
            "ram",
            params! {"width" => 8, "depth" => 16, "read" => "registered"},
        ),
        (
            "rom",
            params! {"width" => 8, "depth" => 5, "init" => vec![9, 8, 7, 6, 5]},
        ),
        ("fifo", params! {"width" => 8, "depth" => 3}),
        ("fifo", params! {"width" => 8, "depth" => 1}),
        (
            "stimulus",
            params! {"width" => 8, "values" => vec![5, 6, 7]},
        ),
        (
            "stimulus",
            params! {"width" => 8, "values" => vec![5, 6, 7], "repeat" => true},
        ),
        ("hit_pixel", params! {"seed" => 7, "threshold" => 300}),
        (
            "expr",
            params! {
                "inputs" => vec!["a: 8", "b: 8"],
                "registers" => vec!["acc: 16 = acc + y", "n: 3 = n + 1"],
                "outputs" => vec!["y: 9 = a + b", "z: 1 = y > acc[7:0] && n != 3"],
            },
        ),
        (
            "expr",
            params! {"inputs" => vec!["d: 32"], "registers" => vec!["q: 32 = (d + 3) ^ (d << 1)"]},
        ),
        (
            "assert",
            params! {"inputs" => vec!["a: 4"], "condition" => "a != 9", "skip" => 2},
        ),
    ];
    for (model, params) in cases {
        agree(model, params, 400);
    }
}
