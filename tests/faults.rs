//! A component that panics stops the run cleanly in every engine: the error
//! names the component, its model, the phase and the cycle; every thread is
//! released; the VCD holds every completed cycle. Stopping and thread limits
//! behave the same way.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use common::{parse_vcd, run_traced};
use cspsim::engine::{Codegen, Engine, Phase, RunError, RunOptions, Spread};
use cspsim::{params, Interface, Io, Model, ModelInfo, ParamDecl, PortType, Registry};

/// A test-only model: a counter that panics when it reaches `at`, in eval
/// or at the clock edge; with a combinational output `y` unless `comb` is false.
struct Panicker {
    at: u64,
    in_tick: bool,
    comb: bool,
    count: u64,
}

impl Model for Panicker {
    fn reset(&mut self, io: &Io<'_>) {
        io.set(0, 0);
    }
    fn eval(&mut self, io: &Io<'_>) {
        if !self.in_tick && self.count == self.at {
            panic!("deliberate failure at {}", self.count);
        }
        if self.comb {
            io.set(1, self.count);
        }
    }
    fn tick(&mut self, io: &Io<'_>) {
        if self.in_tick && self.count == self.at {
            panic!("deliberate failure at {}", self.count);
        }
        self.count += 1;
        io.set(0, self.count);
    }
}

fn registry() -> Registry {
    let mut r = Registry::standard();
    r.register(
        ModelInfo::new("panicker", "panics at cycle `at`", |p, _| {
            let comb = p.bool("comb")?;
            let mut ports = Interface::new().registered("q", PortType::Bits(32));
            if comb {
                ports = ports.combinational("y", PortType::Bits(32));
            }
            let model = Panicker {
                at: p.int("at")? as u64,
                in_tick: p.bool("in_tick")?,
                comb,
                count: 0,
            };
            Ok((ports, Box::new(model) as Box<dyn Model>))
        })
        .param(ParamDecl::int("at", 0, 1 << 40, "cycle of the failure"))
        .param(
            ParamDecl::bool("in_tick", "fail at the clock edge instead of in eval").default(false),
        )
        .param(ParamDecl::bool("comb", "have the combinational output `y`").default(true)),
    );
    r
}

fn circuit(at: u64, in_tick: bool) -> cspsim::Circuit {
    let text = format!(
        r#"Circuit(
            name: "faulty",
            cycles: 50,
            components: {{
                "cnt": Component(model: "counter", params: {{"width": 8}}),
                "bad": Component(model: "panicker", params: {{"at": {at}, "in_tick": {in_tick}}}),
                "reg": Component(model: "register", params: {{"width": 32}}),
            }},
            nets: {{ "bad.y": ["reg.d"] }},
        )"#
    );
    cspsim::netlist::load_str(&text, "faulty.ron", None, &registry(), 0)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn engines() -> Vec<RunOptions> {
    use Spread::{Adaptive, Alternate, OneThread, Threads};
    [
        (Engine::Partitioned, 1, Codegen::Compiled, Adaptive),
        (Engine::Partitioned, 1, Codegen::Interpret, Adaptive),
        (Engine::Partitioned, 2, Codegen::Compiled, Threads),
        (Engine::Partitioned, 2, Codegen::Interpret, Threads),
        (Engine::Partitioned, 2, Codegen::Compiled, OneThread),
        (Engine::Partitioned, 2, Codegen::Interpret, OneThread),
        (Engine::Partitioned, 2, Codegen::Compiled, Alternate),
        (Engine::Partitioned, 2, Codegen::Interpret, Alternate),
        (Engine::Partitioned, 2, Codegen::Compiled, Adaptive),
        (Engine::Threads, 1, Codegen::Compiled, Adaptive),
    ]
    .into_iter()
    .map(|(engine, threads, codegen, spread)| RunOptions {
        engine,
        threads: Some(threads),
        codegen,
        spread,
        ..RunOptions::default()
    })
    .collect()
}

#[test]
fn a_panic_in_eval_names_component_model_and_cycle_and_keeps_earlier_cycles() {
    for options in engines() {
        let (result, vcd) = run_traced(circuit(7, false), &options);
        let err = result.expect_err("the run fails");
        let RunError::ComponentPanicked {
            path,
            model,
            fault,
            completed,
            ..
        } = &err
        else {
            panic!("{err}");
        };
        assert_eq!((path.as_str(), model.as_str()), ("bad", "panicker"));
        assert_eq!(
            (fault.cycle, fault.phase, *completed),
            (7, Phase::Eval, 7),
            "{:?}",
            options.engine
        );
        assert_eq!(
            err.to_string(),
            "component `bad` (model `panicker`) panicked during evaluation of cycle 7: deliberate failure at 7"
        );
        let w = parse_vcd(&vcd, 10);
        assert_eq!(
            w.cycles, 7,
            "{:?}: cycles 0..=6 are in the trace",
            options.engine
        );
        assert_eq!(w.get("faulty.cnt.q"), &[0, 1, 2, 3, 4, 5, 6]);
    }
}

#[test]
fn a_panic_at_the_clock_edge_keeps_the_cycle_it_happened_in() {
    for options in engines() {
        let (result, vcd) = run_traced(circuit(3, true), &options);
        let Err(RunError::ComponentPanicked {
            fault, completed, ..
        }) = result
        else {
            panic!("expected a fault");
        };
        assert_eq!(
            (fault.cycle, fault.phase, completed),
            (3, Phase::Tick, 4),
            "{:?}",
            options.engine
        );
        assert_eq!(
            parse_vcd(&vcd, 10).cycles,
            4,
            "{:?}: cycle 3 was evaluated and traced",
            options.engine
        );
    }
}

#[test]
fn a_panic_at_reset_is_reported_before_cycle_zero() {
    struct BadReset;
    impl Model for BadReset {
        fn reset(&mut self, _io: &Io<'_>) {
            panic!("cannot reset");
        }
    }
    let mut r = Registry::standard();
    r.register(ModelInfo::new("bad_reset", "fails at reset", |_, _| {
        Ok((
            Interface::new().registered("q", PortType::Bits(1)),
            Box::new(BadReset) as Box<dyn Model>,
        ))
    }));
    for options in engines() {
        let text = r#"(components: {"x": (model: "bad_reset"), "c": (model: "counter")})"#;
        let c = cspsim::netlist::load_str(text, "r.ron", None, &r, 0).unwrap();
        let (result, vcd) = run_traced(c, &options);
        let Err(RunError::ComponentPanicked {
            fault, completed, ..
        }) = result
        else {
            panic!("expected a fault");
        };
        assert_eq!((fault.phase, fault.cycle, completed), (Phase::Reset, 0, 0));
        assert_eq!(parse_vcd(&vcd, 10).cycles, 0);
    }
}

#[test]
fn a_stop_request_ends_the_run_with_completed_cycles_traced() {
    for mut options in engines() {
        options.stop = Some(Arc::new(AtomicBool::new(true)));
        let (result, vcd) = run_traced(common::load("counter_compare"), &options);
        let summary = result.expect("a stopped run is not an error");
        assert!(summary.stopped);
        assert_eq!(
            summary.cycles, 1,
            "{:?} stops after the cycle in progress",
            options.engine
        );
        assert_eq!(parse_vcd(&vcd, 10).cycles, 1);
    }
}

#[test]
fn the_threads_engine_refuses_circuits_beyond_the_thread_limit() {
    let options = RunOptions {
        engine: Engine::Threads,
        thread_limit: Some(8),
        ..RunOptions::default()
    };
    let err =
        cspsim::engine::run(common::load("alu_datapath"), &options, None).expect_err("refused");
    assert!(matches!(
        err,
        RunError::TooManyThreads {
            components: 9,
            limit: 8
        }
    ));
    assert!(
        err.to_string().contains("use --engine partitioned"),
        "{err}"
    );
    // At most what the kernel allows (a fifth of the memory maps, half the
    // threads), and enough for the examples on any ordinary host.
    let limit = cspsim::engine::thread_limit();
    let read = |path: &str| -> usize {
        std::fs::read_to_string(path).map_or(usize::MAX, |t| t.trim().parse().unwrap_or(usize::MAX))
    };
    assert!(limit >= 1000, "a sensible limit from /proc: {limit}");
    assert!(limit <= read("/proc/sys/vm/max_map_count") / 5, "{limit}");
    assert!(limit <= read("/proc/sys/kernel/threads-max") / 2, "{limit}");
}

#[test]
fn the_test_model_works_in_a_testbench_before_it_fails() {
    let mut tb =
        cspsim::Testbench::with_registry(&registry(), "panicker", params! { "at" => 2 }).unwrap();
    assert_eq!(tb.get("y"), 0);
    tb.step();
    assert_eq!((tb.get("q"), tb.get("y")), (1, 1));
}

/// Regression: a worker that finished a cycle early used to see a fault
/// raised in the *next* cycle, leave, and strand the others at a barrier.
#[test]
fn faults_at_any_cycle_and_phase_never_strand_a_thread() {
    for at in 0..25 {
        for in_tick in [false, true] {
            for options in engines() {
                let (result, vcd) = run_traced(circuit(at, in_tick), &options);
                let Err(RunError::ComponentPanicked {
                    fault, completed, ..
                }) = result
                else {
                    panic!("expected a fault at {at}");
                };
                assert_eq!(fault.cycle, at);
                assert_eq!(completed, at + u64::from(in_tick));
                assert_eq!(parse_vcd(&vcd, 10).cycles as u64, completed);
            }
        }
    }
}

/// A clock edge that fails in an early phase (the panicker ticks in the
/// first, having no combinational output) still lets the later phases'
/// evaluations run, so the failing cycle is traced whole: `inc2`, at the
/// second level, is evaluated after the fault. The one-worker engine runs
/// a cycle under one guard and must finish it the same way.
#[test]
fn a_clock_edge_fault_in_an_early_phase_keeps_later_evaluations() {
    for at in 0..6 {
        let text = format!(
            r#"Circuit(
                name: "edge",
                components: {{
                    "cnt": Component(model: "counter", params: {{"width": 8}}),
                    "bad": Component(model: "panicker",
                        params: {{"at": {at}, "in_tick": true, "comb": false}}),
                    "inc": Component(model: "expr", params: {{"inputs": ["a: 8"], "outputs": ["y: 8 = a + 1"]}}),
                    "inc2": Component(model: "expr", params: {{"inputs": ["a: 8"], "outputs": ["y: 8 = a + 1"]}}),
                    "reg": Component(model: "register", params: {{"width": 8}}),
                }},
                nets: {{ "cnt.q": ["inc.a"], "inc.y": ["inc2.a"], "inc2.y": ["reg.d"] }},
            )"#
        );
        for options in engines() {
            let circuit = cspsim::netlist::load_str(&text, "edge.ron", None, &registry(), 0)
                .unwrap_or_else(|e| panic!("{e}"));
            let (result, vcd) = run_traced(circuit, &options);
            let Err(RunError::ComponentPanicked {
                fault, completed, ..
            }) = result
            else {
                panic!("expected a fault at {at}");
            };
            let what = format!("{:?} {:?} at {at}", options.engine, options.threads);
            assert_eq!(
                (fault.cycle, fault.phase, completed),
                (at, Phase::Tick, at + 1),
                "{what}"
            );
            let w = parse_vcd(&vcd, 10);
            assert_eq!(w.cycles as u64, at + 1, "{what}");
            let want: Vec<u64> = (2..at + 3).collect();
            assert_eq!(w.get("edge.inc2.y"), want, "{what}");
        }
    }
}

#[test]
fn the_threads_engine_refuses_at_the_machines_own_limit_without_spawning() {
    let limit = cspsim::engine::thread_limit();
    let mut text = String::from("(components: {");
    for i in 0..limit {
        text.push_str(&format!("\"c{i}\": (model: \"counter\"),"));
    }
    text.push_str("})");
    let circuit =
        cspsim::netlist::load_str(&text, "big.ron", None, &Registry::standard(), 0).unwrap();
    let options = RunOptions {
        engine: Engine::Threads,
        ..RunOptions::default()
    };
    let err = cspsim::engine::run(circuit, &options, None).expect_err("refused");
    assert!(
        matches!(err, RunError::TooManyThreads { components, .. } if components == limit),
        "{err}"
    );
}

/// An `assert` in the circuit fails the run as a failure (not a panic) in
/// every engine, at the same cycle, with the values, and the trace keeps the
/// failing cycle.
#[test]
fn a_failing_assert_stops_every_engine_at_the_same_cycle() {
    let text = r#"Circuit(
    components: {
        "cnt": Component(model: "counter", params: {"width": 8}),
        "chk": Component(model: "assert", params: {
            "inputs": ["count: 8"],
            "condition": "count < 13",
            "message": "the counter passed 12",
        }),
    },
    nets: { "cnt.q": ["chk.count"] },
    cycles: 100,
)"#;
    for options in engines() {
        let (engine, threads) = (options.engine, options.threads.unwrap_or(0));
        let circuit =
            cspsim::netlist::load_str(text, "assert.ron", None, &Registry::standard(), 0).unwrap();
        let (result, vcd) = run_traced(circuit, &options);
        let Err(RunError::ComponentFailed {
            path,
            model,
            cycle,
            message,
            completed,
            ..
        }) = result
        else {
            panic!("{engine:?}/{threads}: {result:?}");
        };
        assert_eq!(
            (path.as_str(), model.as_str(), cycle),
            ("chk", "assert", 13)
        );
        assert_eq!(
            message,
            "the counter passed 12 (assertion `count < 13` failed): count = 13 (0xd)"
        );
        assert_eq!(completed, 14, "cycles 0..=13 are in the trace");
        let waves = parse_vcd(&vcd, 10);
        assert_eq!(waves.cycles, 14, "{engine:?}/{threads}");
        assert_eq!(waves.get("circuit.cnt.q")[13], 13);
    }
}

/// Untraced, a lone compiled worker runs two cycles a call: a check that
/// fails in the first or the second of the two stops the run at its own
/// cycle, with its values, as the interpreter does.
#[test]
fn a_failing_compiled_check_untraced_names_its_own_cycle() {
    for limit in [12u64, 13, 70] {
        let text = format!(
            r#"Circuit(
    components: {{
        "cnt": Component(model: "counter", params: {{"width": 8}}),
        "chk": Component(model: "assert", params: {{"inputs": ["count: 8"], "condition": "count < {limit}"}}),
    }},
    nets: {{ "cnt.q": ["chk.count"] }},
    cycles: 100,
)"#
        );
        let mut outcomes = Vec::new();
        for codegen in [Codegen::Interpret, Codegen::Compiled] {
            let circuit =
                cspsim::netlist::load_str(&text, "assert.ron", None, &Registry::standard(), 0)
                    .unwrap();
            let options = RunOptions {
                threads: Some(1),
                codegen,
                ..RunOptions::default()
            };
            let result = cspsim::engine::run(circuit, &options, None);
            let Err(RunError::ComponentFailed {
                cycle,
                message,
                completed,
                ..
            }) = result
            else {
                panic!("{codegen}: {result:?}");
            };
            assert_eq!((cycle, completed), (limit, limit + 1), "{codegen}");
            assert!(message.contains(&format!("count = {limit}")), "{message}");
            outcomes.push(message);
        }
        assert_eq!(outcomes[0], outcomes[1]);
    }
}

/// Six counters, then the panicker and the register reading it: split over
/// two ranks, the panicker is on rank 1.
fn on_rank_one(at: u64, in_tick: bool) -> cspsim::Circuit {
    let text = format!(
        r#"Circuit(
            name: "faulty",
            cycles: 50,
            components: {{
                "cnt": Component(model: "counter", count: 6, params: {{"width": 8}}),
                "bad": Component(model: "panicker", params: {{"at": {at}, "in_tick": {in_tick}}}),
                "reg": Component(model: "register", params: {{"width": 32}}),
            }},
            nets: {{ "bad.y": ["reg.d"] }},
        )"#
    );
    cspsim::netlist::load_str(&text, "faulty.ron", None, &registry(), 0)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A panic on rank 1 stops both ranks after the same cycle as one process
/// stops; the error names the rank, and rank 0's trace is the one process's.
#[test]
fn a_panic_on_rank_one_stops_every_rank_as_one_process_stops() {
    for (at, in_tick) in [(7, false), (3, true)] {
        let single = RunOptions {
            threads: Some(1),
            ..RunOptions::default()
        };
        let (expected, reference) = run_traced(on_rank_one(at, in_tick), &single);
        let expected = expected.expect_err("fails").to_string();
        for codegen in [Codegen::Compiled, Codegen::Interpret] {
            let options = RunOptions {
                codegen,
                ..RunOptions::default()
            };
            let (results, vcd) = common::on_ranks(|| on_rank_one(at, in_tick), 2, &options);
            for result in results {
                let err = result.expect_err("every rank fails");
                let RunError::ComponentPanicked {
                    rank, completed, ..
                } = &err
                else {
                    panic!("{err}");
                };
                assert_eq!(*rank, Some(1));
                assert_eq!(*completed, at + u64::from(in_tick));
                assert_eq!(
                    err.to_string(),
                    expected.replace("(model `panicker`)", "(model `panicker`) on rank 1")
                );
            }
            assert!(
                vcd == reference,
                "{at} {in_tick} {codegen}: the trace differs"
            );
        }
    }
}
