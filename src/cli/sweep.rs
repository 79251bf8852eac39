//! `sweep`: one circuit over a grid of parameters and seeds, the runs in
//! parallel, one row per run to CSV or JSON, with a progress bar of runs
//! and a one-line summary.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::output::{labelled, not_an_input, say};
use super::{EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_RUN_FAILED};
use crate::registry::Registry;
use crate::sweep::ranks::{self, Ranks};
use crate::sweep::{table, Axis, Done, Grid, Sweep, SweepError};

/// Runs per job in one round of a sweep over MPI ranks: between rounds the
/// ranks agree whether to stop; within one, a job idles once its last run
/// is done (about one run in this many).
const ROUND_PER_JOB: u64 = 16;

/// The grid as given on the command line.
pub(super) struct GridArgs<'a> {
    pub params: &'a [String],
    pub seeds: u64,
    pub seed: u64,
}

/// Where the table goes and what is said on the way.
pub(super) struct Report<'a> {
    pub output: Option<&'a Path>,
    pub quiet: bool,
}

pub(super) fn sweep(
    registry: &Registry,
    mut sweep: Sweep,
    grid: GridArgs<'_>,
    report: Report<'_>,
) -> i32 {
    let ranks = match Ranks::join() {
        Ok(ranks) => ranks,
        Err(message) => {
            say("error", &message);
            return EXIT_BAD_INPUT;
        }
    };
    let root = ranks.is_root();
    sweep.share = (ranks.rank(), ranks.size());
    if ranks.size() > 1 && sweep.jobs.is_none() {
        // The ranks on one machine share its cores.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        sweep.jobs = Some((cores / ranks::local_ranks()).max(1) as usize);
    }
    // Every rank reads the same grid; one says what is wrong with it.
    let axes: Result<Vec<Axis>, _> = grid.params.iter().map(|p| Axis::parse(p)).collect();
    sweep.grid = match axes.and_then(|axes| Grid::new(axes, grid.seeds, grid.seed)) {
        Ok(grid) => grid,
        Err(e) => {
            if root {
                say("error", &e.to_string());
            }
            return EXIT_BAD_INPUT;
        }
    };
    let checked = sweep.check(registry).map_err(|e| refusal(&e));
    let checked = checked.and_then(|checked| match report.output.filter(|_| root) {
        Some(out) => writable(out, &checked.inputs).map(|()| checked),
        None => Ok(checked),
    });
    // A rank that cannot start stops them all (on another machine a file
    // may be missing); rank 0's reason is said, or else each rank's own.
    let bad_root = ranks.any(root && checked.is_err());
    if ranks.any(checked.is_err()) {
        if let Err(reason) = &checked {
            if root || !bad_root {
                eprint!("{reason}");
            }
        }
        return EXIT_BAD_INPUT;
    }
    let Ok(checked) = checked else {
        return EXIT_BAD_INPUT;
    };
    let (stop, interrupted) = super::live::on_interrupt();
    let done = Arc::new(AtomicU64::new(0));
    sweep.stop = Some(stop);
    sweep.done = Some(Arc::clone(&done));
    let runs = sweep.indices().count() as u64;
    let bar = super::live::Bar::start(runs, "runs", done, report.quiet || !root);
    let started = std::time::Instant::now();
    // Over several ranks, in rounds, after each of which the ranks agree
    // whether to stop (a failure under --fail-fast on any of them). Every
    // rank has as many rounds: they are as long on all.
    let jobs = ranks.max(checked.jobs as u64);
    let round = (ranks.size() > 1).then_some(ROUND_PER_JOB * jobs);
    let result = super::live::with_model_panic_hook(|| {
        sweep.run_in_rounds(registry, checked.clone(), round, |stop| ranks.any(stop))
    });
    bar.finish();
    let (rows, failed_fast, stopped, broke) = match result {
        Ok(done) => (done.rows, done.failed_fast, done.interrupted, false),
        Err(e) => {
            eprint!("{}", labelled("error", &e.to_string()));
            (Vec::new(), false, true, true)
        }
    };
    let (failed_fast, stopped) = (ranks.any(failed_fast), ranks.any(stopped));
    // Runs that could not start (no threads) fail the sweep: exit 1.
    let broke = if ranks.any(broke) { EXIT_RUN_FAILED } else { 0 };
    let Some(rows) = ranks.gather(rows, &sweep.grid) else {
        // Rank 0 writes the table and says how the sweep went.
        let interrupted = stopped && interrupted.load(Ordering::Relaxed);
        return exit_status(failed_fast, interrupted).max(broke);
    };
    let done = Done {
        rows,
        checked,
        interrupted: stopped,
        failed_fast,
        // Until the last rank's rows arrived.
        elapsed: started.elapsed(),
    };
    let text = match report.output {
        Some(out) if out.extension().is_some_and(|e| e == "json") => table::json(
            &sweep.grid,
            &table::About {
                circuit: &done.checked.name,
                cycles: done.checked.cycles,
            },
            &done.rows,
        ),
        _ => table::csv(&sweep.grid, &done.rows),
    };
    let written = match report.output {
        Some(out) => match std::fs::write(out, text) {
            Ok(()) => 0,
            Err(e) => {
                say("error", &format!("cannot write {}: {e}", out.display()));
                EXIT_RUN_FAILED
            }
        },
        None => super::output::emit(&text).err().unwrap_or(0),
    };
    if !report.quiet {
        eprintln!(
            "{}",
            summary_line(&sweep.grid, &done, report.output, ranks.size())
        );
    }
    if done.failed_fast {
        if let Some(f) = done.rows.iter().find_map(|r| r.failure.as_ref()) {
            say("error", &format!("--fail-fast: {}", f.message));
        }
    }
    let interrupted = done.interrupted && interrupted.load(Ordering::Relaxed);
    if interrupted {
        eprintln!(
            "interrupted after {} of {} runs; the table holds every finished run",
            done.rows.len(),
            sweep.grid.runs()
        );
    }
    exit_status(done.failed_fast, interrupted)
        .max(written)
        .max(broke)
}

/// 130 if interrupted, 1 if `--fail-fast` stopped the sweep, else 0.
fn exit_status(failed_fast: bool, interrupted: bool) -> i32 {
    if interrupted {
        EXIT_INTERRUPTED
    } else if failed_fast {
        EXIT_RUN_FAILED
    } else {
        0
    }
}

/// An error unless the table can go to `out`: not over an input, and a
/// file that can be made (found now, not after the runs).
fn writable(out: &Path, inputs: &[PathBuf]) -> Result<(), String> {
    not_an_input(out, inputs, "the sweep's table").map_err(|m| labelled("error", &m))?;
    std::fs::File::create(out)
        .map(drop)
        .map_err(|e| labelled("error", &format!("cannot create {}: {e}", out.display())))
}

/// Why the sweep cannot start, as it is printed.
fn refusal(e: &SweepError) -> String {
    match e {
        SweepError::Load { point, error } => format!(
            "{}{}",
            error.render(super::output::color()),
            labelled("note", &format!("the circuit was loaded at {point}"))
        ),
        other => labelled("error", &other.to_string()),
    }
}

/// `detector_readout: 15 runs (5 points × 3 seeds) of 400 cycles in 1.2 s:
/// 12.5 runs/s on 2 jobs × 1 thread; 2 failed; table in hits.csv`.
pub fn summary_line(grid: &Grid, done: &Done, output: Option<&Path>, ranks: u64) -> String {
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let runs = done.rows.len() as u64;
    let secs = done.elapsed.as_secs_f64().max(1e-9);
    let failed = done.rows.iter().filter(|r| r.failure.is_some()).count();
    let failed = match failed {
        0 => String::new(),
        n => format!("; {n} failed (see the status column)"),
    };
    let out = output.map_or(String::new(), |p| format!("; table in {}", p.display()));
    let ranks = match ranks {
        1 => String::new(),
        n => format!("{n} ranks × "),
    };
    format!(
        "{}: {} ({} × {}) of {} in {:.3?}: {:.1} runs/s on {ranks}{} × {}{failed}{out}",
        done.checked.name,
        plural(runs, "run", "runs"),
        plural(grid.points(), "point", "points"),
        plural(grid.seeds, "seed", "seeds"),
        plural(done.checked.cycles, "cycle", "cycles"),
        done.elapsed,
        runs as f64 / secs,
        plural(done.checked.jobs as u64, "job", "jobs"),
        plural(done.checked.workers as u64, "thread", "threads"),
    )
}

/// Where a sweep's table goes by default: standard output.
pub(super) fn output_path(output: Option<PathBuf>) -> Option<PathBuf> {
    output.filter(|p| p.as_os_str() != "-")
}
