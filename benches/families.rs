//! The reference circuit families of `circuits/bench/` at K = 16, 256 and
//! 4096: counters, LFSRs with an XOR reduction, an add/xor/shift register
//! chain, and a pixel array with a round-robin readout. For each: load time;
//! simulated cycles/s on 1 worker, one component at a time (what batching
//! gains), 2 workers, the default worker count, with everything traced to
//! VCD and to FST, and on the thread-per-component engine. Then the ratios
//! to the peers' figures in `../shared/MEASUREMENTS.md` (their best, so the
//! ratios are the least favourable to cspsim).
//!
//! `cargo bench --bench families` (add `-- --quick` for a short run).

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{median, rate, LineCounter};
use cspsim::engine::{self, Engine, RunOptions};
use cspsim::netlist::{self, LoadOptions};
use cspsim::params::ParamValue;
use cspsim::trace::Trace;
use cspsim::{Circuit, Registry};

/// A family: its file, the parameter that sizes it, and the values giving
/// K = 16, 256 and 4096.
const FAMILIES: [(&str, &str, [i128; 3]); 4] = [
    ("counters", "k", [16, 256, 4096]),
    ("lfsrs", "k", [16, 256, 4096]),
    ("chain", "k", [16, 256, 4096]),
    ("pixels", "w", [4, 16, 64]),
];

/// The peers' best component-cycles/s at K = 16, 256, 4096, VCD off
/// (MEASUREMENTS.md): SystemC SC_METHOD, Icarus Verilog, Verilator 1 thread.
const SC_METHOD: [f64; 3] = [48e6, 50e6, 34e6];
const ICARUS: [f64; 3] = [7e6, 7.5e6, 7.5e6];
const VERILATOR: [f64; 3] = [0.87e9, 4e9, 3.2e9];

#[derive(Clone, Copy, PartialEq)]
enum Tracing {
    Off,
    Vcd,
    Fst,
}

struct Setup {
    engine: Engine,
    threads: Option<usize>,
    one_by_one: bool,
    tracing: Tracing,
}

struct Bench {
    registry: Registry,
    runs: usize,
    budget: u64,
    fst: PathBuf,
}

impl Bench {
    fn load(&self, path: &Path, options: &LoadOptions) -> Circuit {
        netlist::load_file_with(path, &self.registry, options).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Median cycles/s of `setup`, and VCD lines written per second when traced to VCD.
    fn speed(&self, path: &Path, options: &LoadOptions, setup: &Setup) -> (f64, f64) {
        let components = self.load(path, options).components.len() as u64;
        let mut budget = self.budget;
        if setup.tracing != Tracing::Off {
            budget /= 8;
        }
        if setup.engine == Engine::Threads {
            budget /= 400;
        }
        let cycles = (budget / components).clamp(20, 2_000_000);
        let runs = if setup.engine == Engine::Threads {
            self.runs.min(3)
        } else {
            self.runs
        };
        let (mut times, mut lines) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let circuit = self.load(path, options);
            let everything = ["*".to_string()];
            let counter = LineCounter::default();
            let trace = match setup.tracing {
                Tracing::Off => None,
                Tracing::Vcd => Some(Trace::vcd(&circuit, &everything, counter.clone())),
                Tracing::Fst => Some(Trace::fst(&circuit, &everything, &self.fst)),
            }
            .transpose()
            .expect("trace header");
            let options = RunOptions {
                engine: setup.engine,
                threads: setup.threads,
                cycles: Some(cycles),
                one_by_one: setup.one_by_one,
                ..RunOptions::default()
            };
            let summary = engine::run(circuit, &options, trace).expect("runs");
            times.push(summary.elapsed);
            let written = counter.0.load(Ordering::Relaxed) as f64;
            lines.push(Duration::from_secs_f64(
                summary.elapsed.as_secs_f64() / written.max(1.0),
            ));
        }
        (cycles as f64 / median(&mut times), 1.0 / median(&mut lines))
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let bench = Bench {
        registry: Registry::standard(),
        runs: if quick { 1 } else { 5 },
        budget: if quick { 4_000_000 } else { 40_000_000 },
        fst: std::env::temp_dir().join(format!("cspsim-bench-{}.fst", std::process::id())),
    };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("circuits/bench");
    let setup = |engine, threads, one_by_one, tracing| Setup {
        engine,
        threads,
        one_by_one,
        tracing,
    };
    let p = Engine::Partitioned;
    let best = setup(p, Some(1), false, Tracing::Off);
    let columns = [
        setup(p, Some(1), true, Tracing::Off),
        setup(p, Some(2), false, Tracing::Off),
        setup(p, None, false, Tracing::Off),
        setup(p, Some(1), false, Tracing::Vcd),
        setup(p, Some(1), false, Tracing::Fst),
        setup(Engine::Threads, None, false, Tracing::Off),
        setup(Engine::Threads, None, false, Tracing::Vcd),
    ];
    println!(
        "Medians of {} runs of about {} component-cycles each (1/8 of that traced, 1/400 on the threads engine).\n",
        bench.runs, bench.budget
    );
    println!("| family | K | components | load | cycles/s, 1 worker | K × cycles/s | one by one | 2 workers | default workers | VCD of all | VCD lines/s | FST of all | threads engine, comp.-cycles/s | threads + VCD, cycles/s |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut peers = Vec::new();
    for (family, param, sizes) in FAMILIES {
        let path = dir.join(format!("{family}.ron"));
        for (size_index, value) in sizes.into_iter().enumerate() {
            let options = LoadOptions {
                params: vec![(param.to_string(), ParamValue::Int(value))],
                ..LoadOptions::default()
            };
            let mut loads = Vec::new();
            let mut components = 0;
            for _ in 0..bench.runs {
                let start = Instant::now();
                components = bench.load(&path, &options).components.len();
                loads.push(start.elapsed());
            }
            let load = median(&mut loads);
            let k = [16.0, 256.0, 4096.0][size_index];
            let (base, _) = bench.speed(&path, &options, &best);
            let rates: Vec<(f64, f64)> = columns
                .iter()
                .map(|s| bench.speed(&path, &options, s))
                .collect();
            let workers = engine::default_workers(&bench.load(&path, &options));
            println!(
                "| {family} | {k} | {components} | {:.1} ms | {} | {} | {:.2}× | {:.2}× | {:.2}× ({workers}) | {} | {} | {} | {} | {} |",
                load * 1e3,
                rate(base),
                rate(base * k),
                base / rates[0].0,
                rates[1].0 / base,
                rates[2].0 / base,
                rate(rates[3].0),
                rate(rates[3].1),
                rate(rates[4].0),
                rate(rates[5].0 * components as f64),
                rate(rates[6].0),
            );
            peers.push((family, k, base * k, rates[2].0 * k, workers, size_index));
        }
    }
    let _ = std::fs::remove_file(&bench.fst);
    println!("\nAgainst the peers' best figures on this kind of machine (MEASUREMENTS.md), tracing off; 1 worker, and the default engine (its worker count in brackets):\n");
    println!(
        "| family | K | K × cycles/s, 1 worker | × SystemC SC_METHOD | × Icarus | ÷ Verilator (1 thread) | default engine | × SystemC SC_METHOD | × Icarus |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (family, k, one, default, workers, i) in peers {
        println!(
            "| {family} | {k} | {} | {:.1}× | {:.0}× | {:.2} | {} ({workers}) | {:.1}× | {:.0}× |",
            rate(one),
            one / SC_METHOD[i],
            one / ICARUS[i],
            one / VERILATOR[i],
            rate(default),
            default / SC_METHOD[i],
            default / ICARUS[i],
        );
    }
}
