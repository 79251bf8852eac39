//! `Simulation`, whole circuits from Rust: every example circuit's trace is
//! the engines', byte for byte; pokes, peeks and stepping behave as
//! documented; mistakes are typed errors with a did-you-mean; a failing
//! `assert` ends the run as `cspsim run` does.

mod common;

use common::{all_circuits, run_traced, SharedBuf};
use cspsim::engine::RunOptions;
use cspsim::netlist::LoadOptions;
use cspsim::simulation::{SimError, Simulation};
use cspsim::Registry;

fn engine_trace(path: &std::path::Path, options: &LoadOptions) -> (String, u64) {
    let circuit = cspsim::netlist::load_file_with(path, &Registry::standard(), options).unwrap();
    let cycles = circuit.cycles;
    let (result, vcd) = run_traced(circuit, &RunOptions::default());
    let completed = match result {
        Ok(summary) => summary.cycles,
        Err(cspsim::engine::RunError::ComponentFailed { completed, .. }) => completed,
        Err(e) => panic!("{}: {e}", path.display()),
    };
    assert!(completed <= cycles);
    (vcd, cycles)
}

#[test]
fn every_example_circuit_traces_as_the_engines_do() {
    for path in all_circuits() {
        let options = LoadOptions::default();
        let (want, cycles) = engine_trace(&path, &options);
        let mut sim = Simulation::from_file(&path, &options).unwrap();
        let buf = SharedBuf::default();
        sim.trace_vcd(&[], buf.clone()).unwrap();
        sim.step(cycles)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        sim.finish_trace().unwrap();
        assert_eq!(sim.cycle(), cycles);
        assert!(buf.text() == want, "{}: the traces differ", path.display());
    }
}

#[test]
fn a_failing_assert_ends_the_run_with_the_trace_cspsim_run_writes() {
    let path = common::circuits_dir().join("detector_readout.ron");
    let options = LoadOptions {
        params: vec![("fifo_depth".into(), 1.into())],
        ..LoadOptions::default()
    };
    let (want, cycles) = engine_trace(&path, &options);
    let mut sim = Simulation::from_file(&path, &options).unwrap();
    let buf = SharedBuf::default();
    sim.trace_vcd(&[], buf.clone()).unwrap();
    let e = sim.step(cycles).unwrap_err();
    let SimError::Fault {
        path: ref component,
        cycle,
        ref how,
        ..
    } = e
    else {
        panic!("{e}");
    };
    assert_eq!(
        (component.as_str(), cycle, how.as_str()),
        ("no_loss", 134, "failed")
    );
    assert!(
        e.to_string().starts_with(
            "cycle 134: component `no_loss` (model `assert`) failed: the readout FIFO overflowed"
        ),
        "{e}"
    );
    assert_eq!(sim.cycle(), 134, "the failing cycle is not completed");
    assert!(
        matches!(sim.step(1), Err(SimError::Fault { cycle: 134, .. })),
        "the run stays ended"
    );
    sim.finish_trace().unwrap();
    assert!(
        buf.text() == want,
        "the trace holds what `cspsim run` keeps"
    );
    sim.reset().unwrap();
    assert_eq!(sim.cycle(), 0);
    sim.step(10).unwrap();
}

const COUNTING: &str = r#"Circuit(components: {
    "gen": Component(model: "expr", params: {
        "inputs": ["en: 1", "step: 8"],
        "registers": ["count: 16 init 7 = en ? count + step : count"],
        "outputs": ["wide: 1 = count > 50"],
    }),
    "dbl": Component(model: "expr", params: {"inputs": ["x: 16"], "outputs": ["y: 17 = x << 1"]}),
    "level": Component(model: "add", params: {"real": true}),
}, nets: {"gen.count": ["dbl.x"]})"#;

#[test]
fn pokes_peeks_and_steps_follow_the_cycle() {
    let mut sim = Simulation::from_text(COUNTING, &LoadOptions::default()).unwrap();
    assert_eq!(
        sim.peek("gen.count").unwrap(),
        7,
        "the initial value after reset"
    );
    assert_eq!(
        sim.peek("dbl.y").unwrap(),
        14,
        "combinational values follow"
    );
    assert_eq!(
        sim.peek("gen.en").unwrap(),
        0,
        "an unconnected input's default"
    );
    sim.poke("gen.step", 10).unwrap();
    sim.step(3).unwrap();
    assert_eq!(sim.peek("gen.count").unwrap(), 7, "not enabled");
    sim.poke("gen.en", 1).unwrap();
    assert_eq!(
        sim.peek("gen.count").unwrap(),
        7,
        "registered: the poke shows at the edge"
    );
    sim.step(1).unwrap();
    assert_eq!((sim.cycle(), sim.peek("gen.count").unwrap()), (4, 17));
    assert_eq!(sim.peek("dbl.x").unwrap(), 17, "an input shows its driver");
    let reached = sim
        .run_until(100, |s| s.peek("gen.wide").unwrap() == 1)
        .unwrap();
    assert!(reached);
    assert_eq!((sim.cycle(), sim.peek("gen.count").unwrap()), (8, 57));
    assert!(
        !sim.run_until(3, |_| false).unwrap(),
        "not reached in 3 cycles"
    );
    assert_eq!(sim.cycle(), 11);
    sim.poke_real("level.a", 1.5).unwrap();
    sim.poke_real("level.b", 0.25).unwrap();
    assert_eq!(sim.peek_real("level.y").unwrap(), 1.75);
}

#[test]
fn mistakes_are_typed_errors() {
    let mut sim = Simulation::from_text(COUNTING, &LoadOptions::default()).unwrap();
    let e = sim.peek("gen.cuont").unwrap_err();
    assert!(
        matches!(e, SimError::UnknownPort { ref suggestion, .. } if suggestion.as_deref() == Some("gen.count")),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "no port `gen.cuont`; did you mean `gen.count`?"
    );
    let e = sim.poke("dbl.x", 1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`dbl.x` is driven by `gen.count`; only an unconnected input can be poked"
    );
    let e = sim.poke("gen.step", 256).unwrap_err();
    assert_eq!(e.to_string(), "`gen.step` is Bits(8): 256 does not fit");
    let e = sim.poke("gen.count", 1).unwrap_err();
    assert!(matches!(e, SimError::NotAnInput { .. }), "{e}");
    let e = sim.poke("level.a", 1).unwrap_err();
    assert_eq!(e.to_string(), "`level.a` is Real; use poke_real");
    let e = sim.peek_real("gen.count").unwrap_err();
    assert!(matches!(e, SimError::WrongType { .. }), "{e}");
    assert!(matches!(
        sim.peek("nothing"),
        Err(SimError::UnknownPort { .. })
    ));
    let e = Simulation::from_text(
        "Circuit(components: {\"c\": Component(model: \"countr\")})",
        &LoadOptions::default(),
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("did you mean `counter`?"), "{e}");
    sim.step(1).unwrap();
    let e = sim.trace_vcd(&[], std::io::sink()).unwrap_err();
    assert!(e.to_string().contains("before the first step"), "{e}");
}

/// The study loop of the README: hits against rate, from Rust alone.
#[test]
fn a_study_loop_over_rates_needs_only_simulation() {
    let path = common::circuits_dir().join("detector_readout.ron");
    let mut readouts = Vec::new();
    for rate in [0.02, 0.04, 0.06, 0.08, 0.10] {
        let options = LoadOptions {
            params: vec![("rate".into(), rate.into())],
            ..LoadOptions::default()
        };
        let mut sim = Simulation::from_file(&path, &options).unwrap();
        sim.step(400).unwrap();
        readouts.push(sim.peek("readouts.q").unwrap());
    }
    assert!(
        readouts.windows(2).all(|w| w[0] < w[1]),
        "more light, more hits: {readouts:?}"
    );
}

/// A composite model's integration test, through its own ports.
#[test]
fn a_composite_model_is_tested_through_its_ports() {
    let params = cspsim::params! { "rows" => 4 };
    let mut sim = Simulation::of_model("pixel_column", &params, &LoadOptions::default()).unwrap();
    // Its pixels fire on their own; wait for a word.
    assert!(sim
        .run_until(2000, |s| s.peek("dut.ready").unwrap() == 1)
        .unwrap());
    let word = sim.peek("dut.word").unwrap();
    assert_eq!(
        word,
        sim.peek("dut.fifo.dout").unwrap(),
        "a port shows its inner output"
    );
    assert_eq!(sim.peek("dut.fifo.pop").unwrap(), 0, "not popped");
    sim.poke("dut.pop", 1).unwrap();
    assert_eq!(
        sim.peek("dut.fifo.pop").unwrap(),
        1,
        "a port pokes its inner inputs"
    );
    assert_eq!(sim.peek("dut.pop").unwrap(), 1);
    let before = sim.peek("dut.fifo.count").unwrap();
    sim.step(1).unwrap();
    assert!(sim.peek("dut.fifo.count").unwrap() <= before, "popped");
    let e = sim.poke("dut.word", 1).unwrap_err();
    assert!(matches!(e, SimError::NotAnInput { .. }), "{e}");
    let e = sim.peek("dut.redy").unwrap_err();
    assert_eq!(
        e.to_string(),
        "no port `dut.redy`; did you mean `dut.ready`?"
    );
}

/// A composite input port that drives nothing is an error to poke or
/// peek, not a panic.
#[test]
fn a_composite_port_that_drives_nothing_is_an_error() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cspsim-sim-unused");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("idle.ron"),
        r#"Model(inputs: {"x": []}, outputs: {"y": "c.q"}, components: {"c": Component(model: "counter")})"#,
    )
    .unwrap();
    let options = LoadOptions {
        model_dirs: vec![dir],
        ..LoadOptions::default()
    };
    let mut sim = Simulation::of_model("idle", &[], &options).unwrap();
    assert!(matches!(sim.poke("dut.x", 1), Err(SimError::Unused { .. })));
    let e = sim.peek("dut.x").unwrap_err();
    assert_eq!(
        e.to_string(),
        "`dut.x` is a composite input port that drives nothing"
    );
    sim.step(3).unwrap();
    assert_eq!(sim.peek("dut.y").unwrap(), 3);
}
