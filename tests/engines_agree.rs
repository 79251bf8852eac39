//! Every engine, every thread count, compiled or interpreted, produces the
//! same VCD, byte for byte, on every circuit in `circuits/`.

mod common;

use common::{all_circuits, load_path, run_traced};
use cspsim::engine::{Codegen, Engine, RunOptions, Spread};

fn configurations() -> Vec<(Engine, Option<usize>, Codegen, Spread)> {
    use Spread::{Adaptive, OneThread, Threads};
    vec![
        (Engine::Partitioned, Some(1), Codegen::Interpret, Adaptive),
        (Engine::Partitioned, Some(1), Codegen::Compiled, Adaptive),
        (Engine::Partitioned, Some(2), Codegen::Compiled, Threads),
        (Engine::Partitioned, Some(2), Codegen::Interpret, Threads),
        (Engine::Partitioned, Some(2), Codegen::Compiled, OneThread),
        (Engine::Partitioned, Some(2), Codegen::Interpret, OneThread),
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
