//! Sweep throughput: `cspsim sweep` on every core against the shell loop a
//! user would otherwise write, one `cspsim run` per run of the same grid
//! (in turn, and with one run per core at once, as `xargs -P` would).
//! Rounds alternate between the three, and each keeps its best.
//!
//! `cargo bench --bench sweep` (add `-- --quick` for a short run).

use std::process::Command;
use std::time::{Duration, Instant};

use cspsim::sweep::grid::run_seed;

const CIRCUIT: &str = "circuits/detector_readout.ron";
const DEPTHS: [u32; 2] = [4, 16];

fn cspsim() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cspsim"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

/// The sweep of `seeds` seeds per depth, `cycles` each.
fn sweep(seeds: u64, cycles: u64) -> Duration {
    let started = Instant::now();
    let status = cspsim()
        .args([
            "sweep",
            CIRCUIT,
            "--param",
            "fifo_depth=4,16",
            "--collect",
            "readouts.q",
        ])
        .args([
            "--seeds",
            &seeds.to_string(),
            "--cycles",
            &cycles.to_string(),
        ])
        .args(["-q", "-o", "/dev/null"])
        .status()
        .expect("cspsim runs");
    assert!(status.success());
    started.elapsed()
}

/// The same runs, one `cspsim run` each, `at_once` at a time.
fn shell_loop(seeds: u64, cycles: u64, at_once: usize) -> Duration {
    let runs: Vec<(u32, u64)> = DEPTHS
        .iter()
        .flat_map(|&d| (0..seeds).map(move |s| (d, s)))
        .enumerate()
        .map(|(index, (depth, _))| (depth, run_seed(0, index as u64)))
        .collect();
    let started = Instant::now();
    for chunk in runs.chunks(at_once) {
        let children: Vec<_> = chunk
            .iter()
            .map(|(depth, seed)| {
                cspsim()
                    .args(["run", CIRCUIT, "--param", &format!("fifo_depth={depth}")])
                    .args(["--seed", &seed.to_string(), "--cycles", &cycles.to_string()])
                    .args(["--trace", "readouts.q", "--stats", "-q"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("cspsim runs")
            })
            .collect();
        for mut child in children {
            // A failed run (the FIFO of 4 may overflow) is a result too.
            let _ = child.wait();
        }
    }
    started.elapsed()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (rounds, seeds) = if quick { (1, 4) } else { (5, 50) };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "Sweep throughput: {} runs of {CIRCUIT} (fifo_depth 4 and 16 × {seeds} seeds), best of {rounds} alternated rounds, on {cores} cores. Runs/s; the sweep's ratio to each.\n",
        DEPTHS.len() as u64 * seeds
    );
    println!(
        "| cycles per run | sweep | shell loop | ratio | shell loop, {cores} at once | ratio |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for cycles in [1_000u64, 100_000] {
        let (mut a, mut b, mut c) = (Duration::MAX, Duration::MAX, Duration::MAX);
        for _ in 0..rounds {
            a = a.min(sweep(seeds, cycles));
            b = b.min(shell_loop(seeds, cycles, 1));
            c = c.min(shell_loop(seeds, cycles, cores));
        }
        let runs = (DEPTHS.len() as u64 * seeds) as f64;
        let rate = |d: Duration| runs / d.as_secs_f64();
        println!(
            "| {cycles} | {:.1} | {:.1} | {:.2}× | {:.1} | {:.2}× |",
            rate(a),
            rate(b),
            b.as_secs_f64() / a.as_secs_f64(),
            rate(c),
            c.as_secs_f64() / a.as_secs_f64()
        );
    }
}
