//! Speed of both engines on every circuit in `circuits/`, with tracing off
//! and on (VCD formatted in full, written to a sink so the disk is not
//! measured). Prints a Markdown table of medians over several runs.
//!
//! `cargo bench --bench engines` (add `-- --quick` for a short run).

use std::path::PathBuf;
use std::time::Duration;

use cspsim::engine::{self, Engine, RunOptions};
use cspsim::trace::Trace;
use cspsim::Registry;

struct Config {
    label: &'static str,
    engine: Engine,
    threads: Option<usize>,
    traced: bool,
}

const CONFIGS: [Config; 5] = [
    Config {
        label: "partitioned, 1 thread",
        engine: Engine::Partitioned,
        threads: Some(1),
        traced: false,
    },
    Config {
        label: "partitioned, 2 threads",
        engine: Engine::Partitioned,
        threads: Some(2),
        traced: false,
    },
    Config {
        label: "partitioned, 1 thread, VCD of everything",
        engine: Engine::Partitioned,
        threads: Some(1),
        traced: true,
    },
    Config {
        label: "threads (one per component)",
        engine: Engine::Threads,
        threads: None,
        traced: false,
    },
    Config {
        label: "threads, VCD of everything",
        engine: Engine::Threads,
        threads: None,
        traced: true,
    },
];

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // Cycles per run: up to a cap, and no more than a budget of
    // component-cycles, so the 4,000-component detector takes seconds too.
    let (runs, fast_cycles, thread_cycles, budget) = if quick {
        (3, 200_000, 5_000, 5_000_000)
    } else {
        (7, 2_000_000, 50_000, 50_000_000)
    };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("circuits");
    let mut circuits: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("circuits/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    circuits.sort();
    let registry = Registry::standard();
    println!("Medians of {runs} runs; cycles per run: {fast_cycles} (partitioned), {thread_cycles} (threads), fewer for large circuits ({budget} component-cycles at most; {} for threads).\n", budget / 25);
    println!("| circuit | components | engine | cycles/s | component-cycles/s |");
    println!("|---|---|---|---|---|");
    for path in &circuits {
        let size = cspsim::netlist::load_file(path, &registry, 0)
            .unwrap_or_else(|e| panic!("{e}"))
            .components
            .len() as u64;
        for config in &CONFIGS {
            let cycles = if config.engine == Engine::Threads {
                thread_cycles.min(budget / 25 / size).max(20)
            } else {
                fast_cycles.min(budget / size).max(100)
            };
            let mut times: Vec<Duration> = Vec::new();
            let mut components = 0;
            let mut name = String::new();
            for _ in 0..runs {
                let circuit = cspsim::netlist::load_file(path, &registry, 0)
                    .unwrap_or_else(|e| panic!("{e}"));
                components = circuit.components.len();
                name = circuit.name.clone();
                let trace = config.traced.then(|| {
                    Trace::vcd(&circuit, &["*".to_string()], std::io::sink()).expect("header")
                });
                let options = RunOptions {
                    engine: config.engine,
                    threads: config.threads,
                    cycles: Some(cycles),
                    ..RunOptions::default()
                };
                let summary = engine::run(circuit, &options, trace).expect("runs");
                times.push(summary.elapsed);
            }
            times.sort();
            let median = times[times.len() / 2].as_secs_f64();
            let cps = cycles as f64 / median;
            let rate = if cps >= 1e5 {
                format!("{:.3} M", cps / 1e6)
            } else if cps >= 1e3 {
                format!("{:.2} k", cps / 1e3)
            } else {
                format!("{cps:.0}")
            };
            println!(
                "| {name} | {components} | {} | {rate} | {:.1} M |",
                config.label,
                cps * components as f64 / 1e6
            );
        }
    }
}
