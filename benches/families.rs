//! The reference circuit families of `circuits/bench/` at K = 16, 256 and
//! 4096: counters, LFSRs with an XOR reduction, an add/xor/shift register
//! chain, and a pixel array with a round-robin readout. For each: load time;
//! simulated cycles/s on 1 worker, one component at a time (what batching
//! gains), 2 workers, the default worker count, with everything traced to
//! VCD and to FST, and on the thread-per-component engine. Then the same
//! circuits on the peers, in the same run (`benches/peers/`: SystemC with one
//! SC_METHOD per component, Icarus Verilog, Verilator on one thread), and
//! the ratios. A peer whose tools are missing is left out, with a note.
//!
//! `cargo bench --bench families` (add `-- --quick` for a short run, which
//! measures the peers at K = 16 only; `-- --family NAME`, repeated, for
//! those families only; `-- --up-to K` for the sizes up to K; `-- --no-peers`
//! for cspsim's own table only).

mod common;
mod peers;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{median, rate, BusyCore, LineCounter};
use cspsim::engine::{self, Codegen, Engine, RunOptions, Spread};
use cspsim::netlist::{self, LoadOptions};
use cspsim::trace::Trace;
use cspsim::{Circuit, Registry};
use peers::{Peer, Scratch, PEERS};

/// The sizes measured: K components (for the pixels, W = √K).
const SIZES: [usize; 3] = [16, 256, 4096];

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
    codegen: Codegen,
    spread: Spread,
}

#[derive(Clone)]
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
        // The threads engine's figure includes starting a thread per
        // component: enough cycles that this does not dominate it.
        let fewest = if setup.engine == Engine::Threads {
            200
        } else {
            20
        };
        let cycles = (budget / components).clamp(fewest, 2_000_000);
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
                codegen: setup.codegen,
                spread: setup.spread,
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

/// Per-round ratios of one setup's speed to another's.
struct Ratios {
    median: f64,
    worst: f64,
}

impl Bench {
    /// `b`'s speed over `a`'s in rounds of one run each, in turn: the
    /// median and the worst round. A round's two runs are seconds apart,
    /// so a change of load falls on both; the worst round shows what a
    /// user can meet, which a best round would hide.
    fn versus(&self, path: &Path, options: &LoadOptions, (a, b): (&Setup, &Setup)) -> Ratios {
        let once = Bench {
            runs: 1,
            ..self.clone()
        };
        let mut ratios: Vec<f64> = (0..self.runs)
            .map(|_| {
                let first = once.speed(path, options, a).0;
                once.speed(path, options, b).0 / first
            })
            .collect();
        ratios.sort_by(f64::total_cmp);
        Ratios {
            median: ratios[ratios.len() / 2],
            worst: ratios[0],
        }
    }
}

/// The values given after `flag` on the command line.
fn values_of(flag: &str) -> Vec<String> {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .filter(|w| w[0] == flag)
        .map(|w| w[1].clone())
        .collect()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let only = values_of("--family");
    for family in &only {
        assert!(
            peers::FAMILIES.iter().any(|f| f.0 == family),
            "no family `{family}`; the families: {:?}",
            peers::FAMILIES.map(|f| f.0)
        );
    }
    let up_to: usize = values_of("--up-to")
        .last()
        .map_or(usize::MAX, |k| k.parse().expect("--up-to takes a number"));
    let sizes: Vec<usize> = SIZES.into_iter().filter(|&k| k <= up_to).collect();
    let bench = Bench {
        registry: Registry::standard(),
        runs: if quick { 1 } else { 5 },
        budget: if quick { 4_000_000 } else { 40_000_000 },
        fst: std::env::temp_dir().join(format!("cspsim-bench-{}.fst", std::process::id())),
    };
    let setup = |engine, threads, one_by_one, tracing| Setup {
        engine,
        threads,
        one_by_one,
        tracing,
        codegen: Codegen::Compiled,
        spread: Spread::Adaptive,
    };
    let p = Engine::Partitioned;
    let best = setup(p, Some(1), false, Tracing::Off);
    let interpreted = Setup {
        codegen: Codegen::Interpret,
        ..setup(p, Some(1), false, Tracing::Off)
    };
    let two_threads = Setup {
        spread: Spread::Threads,
        ..setup(p, Some(2), false, Tracing::Off)
    };
    let columns = [
        interpreted,
        setup(p, Some(1), true, Tracing::Off),
        two_threads,
        setup(p, Some(1), false, Tracing::Vcd),
        setup(p, Some(1), false, Tracing::Fst),
        setup(Engine::Threads, None, false, Tracing::Off),
        setup(Engine::Threads, None, false, Tracing::Vcd),
    ];
    println!(
        "Medians of {} runs of about {} component-cycles each (1/8 of that traced, 1/400 on the threads engine, but at least 200 cycles).\n",
        bench.runs, bench.budget
    );
    println!("| family | K | components | load | cycles/s, 1 worker | K × cycles/s | interpreted | one by one | 2 workers | default workers | default, a core busy | VCD of all | VCD lines/s | FST of all | threads engine, comp.-cycles/s | threads + VCD, cycles/s |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    let chosen = peers::FAMILIES
        .iter()
        .filter(|f| only.is_empty() || only.iter().any(|o| o == f.0));
    for &(family, _, _) in chosen {
        for k in peers::sizes(family, &sizes) {
            let (path, options) = peers::circuit(family, k);
            let mut loads = Vec::new();
            let mut components = 0;
            for _ in 0..bench.runs {
                let start = Instant::now();
                components = bench.load(&path, &options).components.len();
                loads.push(start.elapsed());
            }
            let load = median(&mut loads);
            let (base, _) = bench.speed(&path, &options, &best);
            let rates: Vec<(f64, f64)> = columns
                .iter()
                .map(|s| bench.speed(&path, &options, s))
                .collect();
            let workers = engine::default_workers(&bench.load(&path, &options));
            // The default against one worker, in turn, on a quiet machine
            // and with another process busy on one core.
            let default = setup(p, None, false, Tracing::Off);
            let quiet = bench.versus(&path, &options, (&best, &default));
            let busy = {
                let _busy = BusyCore::start();
                bench.versus(&path, &options, (&best, &default))
            };
            println!(
                "| {family} | {k} | {components} | {:.1} ms | {} | {} | {:.2}× | {:.2}× | {:.2}× | {:.2}× ({workers}) | {:.2}× (≥ {:.2}×) | {} | {} | {} | {} | {} |",
                load * 1e3,
                rate(base),
                rate(base * k as f64),
                base / rates[0].0,
                base / rates[1].0,
                rates[2].0 / base,
                quiet.median,
                busy.median,
                busy.worst,
                rate(rates[3].0),
                rate(rates[3].1),
                rate(rates[4].0),
                rate(rates[5].0 * components as f64),
                rate(rates[6].0),
            );
            rows.push((family, k, workers));
        }
    }
    let _ = std::fs::remove_file(&bench.fst);
    let once = Bench { runs: 1, ..bench };
    let ours = |family: &str, k: usize| {
        let (path, options) = peers::circuit(family, k);
        let default = setup(p, None, false, Tracing::Off);
        (
            once.speed(&path, &options, &best).0,
            once.speed(&path, &options, &default).0,
        )
    };
    if !std::env::args().any(|a| a == "--no-peers") {
        compare_with_peers(&rows, ours, quick);
    }
}

/// Measure the peers on the same circuits and print cspsim's ratios to them.
/// `rows`: family, K and the default engine's worker count; `ours(family,
/// K)`: one measurement of cspsim's cycles/s on 1 worker and on the default
/// engine. cspsim and the peers run in turn, round after round, and each
/// keeps its best round: on a shared machine, load only ever slows a run
/// down, and a change of load during a row slows both sides alike.
fn compare_with_peers(
    rows: &[(&str, usize, usize)],
    ours: impl Fn(&str, usize) -> (f64, f64),
    quick: bool,
) {
    let available: Vec<Peer> = PEERS.into_iter().filter(|p| p.available()).collect();
    for peer in PEERS.iter().filter(|p| !available.contains(p)) {
        println!(
            "\n{} is not installed: left out (apt-get install iverilog verilator libsystemc-dev).",
            peer.name()
        );
    }
    if available.is_empty() {
        return;
    }
    let (seconds, rounds) = if quick { (0.1, 3) } else { (1.0, 5) };
    println!(
        "\nThe same circuits on the peers, this run: the best of {rounds} rounds in which cspsim and each peer run in turn (each peer for about {seconds} s); K = 16 only with --quick; tracing off. Component-cycles/s (K × cycles/s), and cspsim's ratio to each: 1 worker / the default engine (its workers in brackets).\n"
    );
    let mut head = "| family | K | cspsim, 1 worker | cspsim, default engine |".to_string();
    let mut rule = "|---|---|---|---|".to_string();
    for peer in &available {
        head += &format!(" {} | × |", peer.name());
        rule += "---|---|";
        if *peer == Peer::Verilator {
            head += " Verilator build |";
            rule += "---|";
        }
    }
    println!("{head}\n{rule}");
    let scratch = Scratch::new("bench");
    for &(family, k, workers) in rows {
        if quick && k > 16 {
            continue;
        }
        // Each peer built, with the cycles of about `seconds`; or why not.
        let mut built: Vec<Result<_, String>> = available
            .iter()
            .map(|peer| {
                let built = peer.build(family, k, &scratch.dir(*peer, family, k))?;
                let cycles = built.cycles_for(seconds)?;
                Ok((built, cycles))
            })
            .collect();
        let (mut one, mut default) = (0f64, 0f64);
        let mut theirs = vec![0f64; available.len()];
        for _ in 0..rounds {
            let (o, d) = ours(family, k);
            (one, default) = (one.max(o), default.max(d));
            for (p, b) in built.iter_mut().enumerate() {
                if let Ok((peer, cycles)) = b {
                    match peer.speed(*cycles) {
                        Ok(v) => theirs[p] = theirs[p].max(v),
                        Err(e) => *b = Err(e),
                    }
                }
            }
        }
        let k_f = k as f64;
        let mut cells = String::new();
        for (p, &peer) in available.iter().enumerate() {
            match &built[p] {
                Ok((built, _)) => {
                    cells += &format!(
                        " {} | {} / {} |",
                        rate(theirs[p] * k_f),
                        ratio(one / theirs[p]),
                        ratio(default / theirs[p])
                    );
                    if peer == Peer::Verilator {
                        cells += &format!(" {:.1} s |", built.build_time.as_secs_f64());
                    }
                }
                Err(e) => {
                    eprintln!("{}: {family}, K = {k}: {e}", peer.name());
                    cells += " failed | |";
                    if peer == Peer::Verilator {
                        cells += " |";
                    }
                }
            }
            if peer != Peer::SystemC {
                // SystemC's one program serves every family and size.
                let _ = std::fs::remove_dir_all(scratch.dir(peer, family, k));
            }
        }
        println!(
            "| {family} | {k} | {} | {} ({workers}) |{cells}",
            rate(one * k_f),
            rate(default * k_f)
        );
    }
}

/// `12.345` → `12×`, `0.5` → `0.50×`.
fn ratio(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}×")
    } else {
        format!("{r:.2}×")
    }
}
