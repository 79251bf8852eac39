//! Loading and elaborating large circuits, then compiling them: time and
//! live heap at three sizes, to show they grow linearly. The circuit is
//! `circuits/pipeline16.ron` with `stages` overridden: each stage is a
//! composite of an `expr` and a `register`, so this exercises composite
//! models, arrays, index-pattern nets and parameter expressions. The compile
//! time is what the compiled engine spends lowering and generating code
//! before the first cycle, on one worker and on the default count.
//!
//! `cargo bench --bench load` (add `-- --quick` for a short run).

use std::alloc::System;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cspsim::engine::{self, RunOptions};
use cspsim::netlist::{self, LoadOptions};
use cspsim::params::ParamValue;
use cspsim::Registry;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 3 } else { 7 };
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("circuits/pipeline16.ron");
    let registry = Registry::standard();
    println!("Load and elaborate `pipeline16.ron --param stages=N` (2N + 1 components); medians of {runs} runs.\n");
    println!("| components | load time | per component | live heap | per component | compile, 1 worker | compile, default workers |");
    println!("|---|---|---|---|---|---|---|");
    for stages in [500i128, 5_000, 50_000] {
        let options = LoadOptions {
            params: vec![("stages".into(), ParamValue::Int(stages))],
            ..LoadOptions::default()
        };
        let mut times: Vec<Duration> = Vec::new();
        let mut heap = 0usize;
        let mut components = 0usize;
        for _ in 0..runs {
            let region = Region::new(GLOBAL);
            let start = Instant::now();
            let circuit = netlist::load_file_with(&path, &registry, &options)
                .unwrap_or_else(|e| panic!("{e}"));
            times.push(start.elapsed());
            let stats = region.change();
            heap = (stats.bytes_allocated as i128 + stats.bytes_reallocated as i128
                - stats.bytes_deallocated as i128)
                .max(0) as usize;
            components = circuit.components.len();
            drop(circuit);
        }
        times.sort();
        let median = times[times.len() / 2];
        let compile = |threads: Option<usize>| {
            let mut times: Vec<Duration> = (0..runs)
                .map(|_| {
                    let circuit = netlist::load_file_with(&path, &registry, &options)
                        .unwrap_or_else(|e| panic!("{e}"));
                    let run = RunOptions {
                        cycles: Some(1),
                        threads,
                        ..RunOptions::default()
                    };
                    let summary = engine::run(circuit, &run, None).expect("runs");
                    summary.compiled.expect("compiled").compile_time
                })
                .collect();
            times.sort();
            times[times.len() / 2].as_secs_f64() * 1e3
        };
        println!(
            "| {components} | {:.1} ms | {:.2} µs | {:.1} MiB | {:.2} KiB | {:.1} ms | {:.1} ms |",
            median.as_secs_f64() * 1e3,
            median.as_secs_f64() * 1e6 / components as f64,
            heap as f64 / (1 << 20) as f64,
            heap as f64 / 1024.0 / components as f64,
            compile(Some(1)),
            compile(None),
        );
    }
}
