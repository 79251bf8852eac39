//! Every engine, every thread count, compiled or interpreted, produces the
//! same VCD, byte for byte, on every circuit in `circuits/`.

mod common;

use common::{all_circuits, load_path, run_traced};
use cspsim::engine::{Codegen, Engine, RunOptions, Spread};

fn configurations() -> Vec<(Engine, Option<usize>, Codegen, Spread)> {
    use Spread::{Adaptive, Alternate, OneThread, Threads};
    vec![
        (Engine::Partitioned, Some(1), Codegen::Interpret, Adaptive),
        (Engine::Partitioned, Some(1), Codegen::Compiled, Adaptive),
        (Engine::Partitioned, Some(2), Codegen::Compiled, Threads),
        (Engine::Partitioned, Some(2), Codegen::Interpret, Threads),
        (Engine::Partitioned, Some(2), Codegen::Compiled, OneThread),
        (Engine::Partitioned, Some(2), Codegen::Interpret, OneThread),
        (Engine::Partitioned, Some(2), Codegen::Compiled, Alternate),
        (Engine::Partitioned, Some(3), Codegen::Interpret, Alternate),
        (Engine::Partitioned, Some(3), Codegen::Compiled, Adaptive),
        (Engine::Partitioned, None, Codegen::Compiled, Adaptive),
        (Engine::Threads, None, Codegen::Compiled, Adaptive),
    ]
}

#[test]
fn every_engine_and_thread_count_writes_the_same_vcd() {
    let circuits = all_circuits();
    assert!(circuits.len() >= 3, "the examples are there");
    for path in circuits {
        let mut reference: Option<String> = None;
        // Thousands of OS threads per cycle are slow in a debug build: large
        // circuits are compared over fewer cycles.
        let cycles = (load_path(&path).components.len() > 1000).then_some(40);
        for (engine, threads, codegen, spread) in configurations() {
            let options = RunOptions {
                engine,
                threads,
                cycles,
                codegen,
                spread,
                ..RunOptions::default()
            };
            let (result, vcd) = run_traced(load_path(&path), &options);
            let summary = result.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(summary.engine, engine);
            assert!(
                vcd.contains("$enddefinitions"),
                "{}: a VCD was written",
                path.display()
            );
            match &reference {
                None => reference = Some(vcd),
                Some(r) => assert!(
                    *r == vcd,
                    "{}: {engine} with {threads:?} threads ({spread:?}), {codegen}, differs from the interpreted partitioned engine with 1",
                    path.display()
                ),
            }
        }
    }
}

#[test]
fn engines_agree_over_many_cycles_with_everything_traced() {
    let path = common::circuits_dir().join("alu_datapath.ron");
    let mut outputs = Vec::new();
    for (engine, threads, codegen, spread) in configurations() {
        let options = RunOptions {
            engine,
            threads,
            cycles: Some(5000),
            codegen,
            spread,
            ..RunOptions::default()
        };
        let (result, vcd) =
            common::run_with_patterns(load_path(&path), &options, &["*".to_string()]);
        assert_eq!(result.expect("runs").cycles, 5000);
        outputs.push(vcd);
    }
    assert!(outputs.windows(2).all(|w| w[0] == w[1]));
}

/// Two workers changing course every few cycles, each stretch on threads
/// cut short by the lead after its third cycle: every worker stops where
/// the lead cut, and the values are those of one worker. One thread runs
/// 5 cycles, then threads 3 of their 7: 8 + 5 + 3 + ... of 100 cycles, 64
/// on one thread (44 if the cuts were not kept).
#[test]
fn stretches_on_threads_cut_short_end_where_the_lead_cut_them() {
    let run = |threads, spread| {
        common::within(60, move || {
            let path = common::circuits_dir().join("alu_datapath.ron");
            let options = RunOptions {
                threads: Some(threads),
                cycles: Some(100),
                spread,
                ..RunOptions::default()
            };
            let (result, vcd) =
                common::run_with_patterns(load_path(&path), &options, &["*".to_string()]);
            (result.expect("runs"), vcd)
        })
    };
    let (one, reference) = run(1, Spread::Adaptive);
    assert_eq!(one.cycles, 100);
    let (two, vcd) = run(2, Spread::Alternate);
    assert_eq!((two.threads, two.cycles), (2, 100));
    assert_eq!(two.one_thread_cycles, 64, "cut after 3 cycles on threads");
    assert!(vcd == reference, "the same values as one worker");
}

/// A batch of many members computes what batches of one compute: every
/// circuit, interpreted, batched and `one_by_one`, writes the same VCD (a
/// batch loop that mixes up its members fails here; one that departs from
/// the model's own `tick` fails in the test below).
#[test]
fn batches_compute_what_components_compute_one_by_one() {
    for path in all_circuits() {
        let run = |one_by_one: bool| {
            let options = RunOptions {
                threads: Some(1),
                codegen: Codegen::Interpret,
                one_by_one,
                cycles: Some(300),
                ..RunOptions::default()
            };
            let (result, vcd) =
                common::run_with_patterns(load_path(&path), &options, &["*".to_string()]);
            result.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            vcd
        };
        assert!(
            run(true) == run(false),
            "{}: batched and one by one differ",
            path.display()
        );
    }
}

/// Counters whose every member differs (start, step), that pause and
/// reset: the batched counter loop the engine runs against the counter's
/// own `tick`, which a Testbench calls, fed the same `en` and `rst`.
#[test]
fn batched_counters_compute_what_each_counter_computes() {
    let counters = r#"Circuit(name: "k", cycles: 60, components: {
        "c": Component(model: "counter", count: 8, params: {"width": 8, "start": "${i * 3}", "step": "${i + 1}"}),
        "pause": Component(model: "clock_enable", params: {"n": 3}),
        "reset": Component(model: "clock_enable", params: {"n": 11}),
    }, nets: {"pause.en": ["c[*].en"], "reset.en": ["c[*].rst"]})"#;
    let circuit =
        cspsim::netlist::load_str(counters, "k.ron", None, &cspsim::Registry::standard(), 0)
            .unwrap_or_else(|e| panic!("{e}"));
    let options = RunOptions {
        codegen: Codegen::Interpret,
        ..RunOptions::default()
    };
    let (result, vcd) = common::run_with_patterns(circuit, &options, &["*".to_string()]);
    result.expect("runs");
    let waves = common::parse_vcd(&vcd, 10);
    for i in 0..8u64 {
        let params =
            cspsim::params! { "width" => 8, "start" => (i * 3) as i64, "step" => (i + 1) as i64 };
        let mut tb = cspsim::Testbench::new("counter", params).unwrap();
        let q = waves.get(&format!("k.c[{i}].q"));
        let (en, rst) = (waves.get("k.pause.en"), waves.get("k.reset.en"));
        for cycle in 0..59 {
            assert_eq!(tb.get("q"), q[cycle], "counter {i}, cycle {cycle}");
            tb.set("en", en[cycle]);
            tb.set("rst", rst[cycle]);
            tb.step();
        }
    }
}

/// The processes engine (one `cspsim serve` child per component) writes
/// the same VCD as the interpreted partitioned engine. The 4,419-process
/// detector is left to `cargo bench --bench engines`: thousands of debug
/// children would take minutes here.
#[test]
fn the_processes_engine_writes_the_same_vcd() {
    let load = |path: &std::path::Path| {
        let options = cspsim::netlist::LoadOptions {
            keep_specs: true,
            ..Default::default()
        };
        cspsim::netlist::load_file_with(path, &cspsim::Registry::standard(), &options)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let mut compared = 0;
    for path in all_circuits() {
        let circuit = load(&path);
        if circuit.components.len() > 300 {
            continue;
        }
        let cycles = Some(circuit.cycles.min(300));
        let reference = RunOptions {
            codegen: Codegen::Interpret,
            cycles,
            ..RunOptions::default()
        };
        let (result, expected) = run_traced(load_path(&path), &reference);
        result.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let options = RunOptions {
            engine: Engine::Processes,
            cycles,
            processes: cspsim::engine::ProcessOptions {
                program: Some(env!("CARGO_BIN_EXE_cspsim").into()),
                timeout: None,
            },
            ..RunOptions::default()
        };
        let (result, vcd) = run_traced(circuit, &options);
        let summary = result.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(summary.engine, Engine::Processes);
        assert_eq!(
            summary.threads, summary.components,
            "one child per component"
        );
        assert!(
            vcd == expected,
            "{}: the processes engine differs from the partitioned engine",
            path.display()
        );
        compared += 1;
    }
    assert!(compared >= 10, "the example circuits were compared");
}
