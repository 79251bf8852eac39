//! The mpi engine's logic without MPI: ranks as threads of one process
//! (`engine::exchange::in_threads`), each loading the whole circuit and
//! running its part. On every example circuit, for 2 and 3 ranks, compiled
//! and interpreted, rank 0 writes the single process's VCD, byte for byte.
//! `tests/mpi.rs` runs the same engine under `mpirun`.

mod common;

use common::{all_circuits, load_path, on_ranks};
use cspsim::engine::{self, Codegen, Engine, RunOptions};

#[test]
fn every_circuit_on_two_and_three_ranks_writes_the_single_process_vcd() {
    for path in all_circuits() {
        let cycles = (load_path(&path).components.len() > 1000).then_some(200);
        let single = RunOptions {
            threads: Some(1),
            cycles,
            codegen: Codegen::Interpret,
            ..RunOptions::default()
        };
        let (result, reference) = common::run_traced(load_path(&path), &single);
        let reference_cycles = result.expect("runs on one worker").cycles;
        let compiled = RunOptions {
            codegen: Codegen::Compiled,
            ..single.clone()
        };
        let (result, _) = common::run_traced(load_path(&path), &compiled);
        let lowered = result.expect("runs compiled").compiled.map(|c| c.lowered);
        for ranks in [2, 3] {
            for codegen in [Codegen::Compiled, Codegen::Interpret] {
                let options = RunOptions {
                    cycles,
                    codegen,
                    ..RunOptions::default()
                };
                let (results, vcd) = on_ranks(|| load_path(&path), ranks, &options);
                for (rank, result) in results.into_iter().enumerate() {
                    let summary = result.unwrap_or_else(|e| {
                        panic!("{} on rank {rank} of {ranks}: {e}", path.display())
                    });
                    assert_eq!(
                        (summary.engine, summary.threads, summary.cycles),
                        (Engine::Mpi, ranks, reference_cycles),
                        "{}",
                        path.display()
                    );
                    // What compiles on one process compiles over the ranks.
                    let expected = match codegen {
                        Codegen::Compiled => lowered,
                        Codegen::Interpret => None,
                    };
                    assert_eq!(
                        summary.compiled.map(|c| c.lowered),
                        expected,
                        "{}",
                        path.display()
                    );
                }
                assert!(
                    vcd == reference,
                    "{}: {ranks} ranks, {codegen}, differ from one process",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn ranks_with_different_circuits_refuse_to_run() {
    let options = RunOptions::default();
    let (results, _) = on_ranks(
        || {
            // One rank loads one file, the other another.
            static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let k = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let names = ["alu_datapath", "pipeline16"];
            common::load(names[k % 2])
        },
        2,
        &options,
    );
    for result in results {
        let error = result.expect_err("refused").to_string();
        assert!(error.contains("loaded another circuit"), "{error}");
    }
}

#[test]
fn the_mpi_engine_without_ranks_is_an_error() {
    let options = RunOptions {
        engine: Engine::Mpi,
        ..RunOptions::default()
    };
    let error = engine::run(common::load("pipeline16"), &options, None)
        .expect_err("no ranks")
        .to_string();
    assert!(error.contains("mpirun"), "{error}");
}

#[test]
fn check_reports_the_partition_of_the_detector() {
    let circuit = common::load("detector64");
    let report = engine::rank_report(&circuit, 2);
    assert_eq!(report.components.len(), 2);
    assert_eq!(
        report.components.iter().sum::<usize>(),
        circuit.components.len()
    );
    let (a, b) = (report.components[0], report.components[1]);
    assert!(a.abs_diff(b) * 4 < a + b, "balanced: {report}");
    // The readout's bus arbitrates every column combinationally: the
    // columns of one rank offer their words to the other's bus, and its
    // grants come back, in the cycle (two levels). Only those nets cross.
    assert!(report.cut >= 1 && report.cut <= 100, "{report}");
    assert!(report.combinational <= report.cut, "{report}");
    assert_eq!(report.exchanges, 3, "{report}");
}
