//! `sweep`: one circuit over a grid of parameters and seeds, the runs in
//! parallel, one row per run to CSV or JSON, with a progress bar of runs
//! and a one-line summary.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::output::{not_an_input, say};
use super::{EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_RUN_FAILED};
use crate::registry::Registry;
use crate::sweep::{table, Axis, Done, Grid, Sweep, SweepError};

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
    let axes: Result<Vec<Axis>, _> = grid.params.iter().map(|p| Axis::parse(p)).collect();
    sweep.grid = match axes.and_then(|axes| Grid::new(axes, grid.seeds, grid.seed)) {
        Ok(grid) => grid,
        Err(e) => {
            say("error", &e.to_string());
            return EXIT_BAD_INPUT;
        }
    };
    let checked = match sweep.check(registry) {
        Ok(checked) => checked,
        Err(e) => return refuse(&e),
    };
    if let Some(out) = report.output {
        if let Err(message) = not_an_input(out, &checked.inputs, "the sweep's table") {
            say("error", &message);
            return EXIT_BAD_INPUT;
        }
        // Found unwritable now, not after the runs.
        if let Err(e) = std::fs::File::create(out) {
            say("error", &format!("cannot create {}: {e}", out.display()));
            return EXIT_BAD_INPUT;
        }
    }
    let (stop, interrupted) = super::live::on_interrupt();
    let done = Arc::new(AtomicU64::new(0));
    sweep.stop = Some(stop);
    sweep.done = Some(Arc::clone(&done));
    let runs = sweep.grid.runs();
    let bar = super::live::Bar::start(runs, "runs", done, report.quiet);
    let result = super::live::with_model_panic_hook(|| sweep.run(registry));
    bar.finish();
    let done = match result {
        Ok(done) => done,
        Err(e) => return refuse(&e),
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
    let mut code = match report.output {
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
        eprintln!("{}", summary_line(&sweep.grid, &done, report.output));
    }
    if done.failed_fast {
        if let Some(f) = done.rows.iter().find_map(|r| r.failure.as_ref()) {
            say("error", &format!("--fail-fast: {}", f.message));
        }
        code = code.max(EXIT_RUN_FAILED);
    }
    if done.interrupted && interrupted.load(Ordering::Relaxed) {
        eprintln!(
            "interrupted after {} of {runs} runs; the table holds every finished run",
            done.rows.len()
        );
        code = EXIT_INTERRUPTED;
    }
    code
}

/// Report why the sweep cannot start: exit 2.
fn refuse(e: &SweepError) -> i32 {
    match e {
        SweepError::Load { point, error } => {
            eprint!("{}", error.render(super::output::color()));
            say("note", &format!("the circuit was loaded at {point}"));
        }
        other => say("error", &other.to_string()),
    }
    EXIT_BAD_INPUT
}

/// `detector_readout: 15 runs (5 points × 3 seeds) of 400 cycles in 1.2 s:
/// 12.5 runs/s on 2 jobs × 1 thread; 2 failed; table in hits.csv`.
pub fn summary_line(grid: &Grid, done: &Done, output: Option<&Path>) -> String {
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let runs = done.rows.len() as u64;
    let secs = done.elapsed.as_secs_f64().max(1e-9);
    let failed = done.rows.iter().filter(|r| r.failure.is_some()).count();
    let failed = match failed {
        0 => String::new(),
        n => format!("; {n} failed (see the status column)"),
    };
    let out = output.map_or(String::new(), |p| format!("; table in {}", p.display()));
    format!(
        "{}: {} ({} × {}) of {} in {:.3?}: {:.1} runs/s on {} × {}{failed}{out}",
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
