//! `run`: load, trace, run with a progress bar, and summarise.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::output::{emit, not_an_input};
use super::{load, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_RUN_FAILED};
use crate::engine::{self, RunError, RunOptions, RunSummary};
use crate::netlist::LoadOptions;
use crate::registry::Registry;
use crate::trace::{self, LastRow, StatsOut, Trace, TracePlan};
use crate::Circuit;

/// What a run writes besides its results.
pub(super) struct Outputs<'a> {
    /// The trace file and its format.
    pub trace: Option<(&'a Path, TraceFormat)>,
    /// Signals to trace (none: the circuit's `trace`).
    pub patterns: &'a [String],
    /// No progress bar, no summary line.
    pub quiet: bool,
    /// The report as JSON on standard output.
    pub json: bool,
    /// Per-net statistics on standard output (in the JSON with `json`).
    pub stats: bool,
    /// A GTKWave save file beside the trace.
    pub save_file: bool,
    /// This process's MPI rank (`--engine mpi`): only rank 0 traces and
    /// speaks once the circuit has loaded.
    pub rank: usize,
    /// Checkpoints to save, and one to restore.
    pub checkpoints: &'a super::checkpoint::CheckpointArgs,
}

pub(super) fn run(
    registry: &Registry,
    path: &Path,
    load_options: &LoadOptions,
    mut options: RunOptions,
    outputs: Outputs<'_>,
) -> i32 {
    let Outputs {
        trace: mut out,
        patterns,
        mut quiet,
        mut json,
        mut stats,
        save_file,
        rank,
        checkpoints,
    } = outputs;
    let vcd = out.map(|(path, _)| path);
    if json && vcd.is_some_and(is_stdout) {
        super::output::say(
            "error",
            "--json and --vcd - both write to standard output; write the trace to a file",
        );
        return EXIT_BAD_INPUT;
    }
    let circuit = match load(registry, path, load_options) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if rank != 0 {
        // Rank 0 says everything, once, and writes the trace and the report.
        super::output::set_silent();
        (out, quiet, json, stats) = (None, true, false, false);
    }
    let written = match checkpoints.apply(&circuit, &mut options) {
        Ok(written) => written,
        Err(message) => {
            super::output::say("error", &message);
            return EXIT_BAD_INPUT;
        }
    };
    let vcd = out.map(|(path, _)| path);
    let patterns = if patterns.is_empty() {
        circuit.trace.clone()
    } else {
        patterns.to_vec()
    };
    let cycles = options.cycles.unwrap_or(circuit.cycles);
    let clock = &circuit.clock;
    let (period, _) = trace::written_clock(clock.period, clock.scale, clock.unit);
    if out.is_some() {
        // Refused before the trace file is made.
        if let Err(e) = engine::trace_fits(cycles, period) {
            super::output::say("error", &e.to_string());
            return EXIT_BAD_INPUT;
        }
    }
    let save = match out.filter(|_| save_file) {
        Some((out, _)) => match save_file_path(out, &circuit.inputs) {
            Ok(save) => save,
            Err(message) => {
                super::output::say("error", &message);
                return EXIT_BAD_INPUT;
            }
        },
        None => None,
    };
    let trace = match out {
        None => None,
        Some((out, format)) => match open_trace(&circuit, &patterns, out, format) {
            Ok(t) => Some(t),
            Err((code, message)) => {
                super::output::say("error", &message);
                return code;
            }
        },
    };
    if let (Some(trace), Some((out, _)), Some(save)) = (&trace, out, &save) {
        write_save_file(save, &trace.plan, out, cycles);
    }
    let (last, stats) = (json.then(LastRow::default), stats.then(StatsOut::default));
    let (trace, plan) = match with_taps(&circuit, &patterns, trace, last.as_ref(), stats.as_ref()) {
        Ok(traced) => traced,
        Err(message) => {
            super::output::say("error", &message);
            return EXIT_BAD_INPUT;
        }
    };
    let name = circuit.name.clone();
    let progress = Arc::new(AtomicU64::new(0));
    let (stop, interrupted) = super::live::on_interrupt();
    options.progress = Some(Arc::clone(&progress));
    options.stop = Some(stop);
    // A restored run counts its cycles from the saved one.
    let first = options.restore.as_ref().map_or(0, |c| c.cycle);
    let bar = super::live::Bar::start(cycles.saturating_sub(first), "cycles", progress, quiet);
    let result = super::live::with_model_panic_hook(|| engine::run(circuit, &options, trace));
    bar.finish();
    let interrupted = interrupted.load(Ordering::Relaxed);
    let mut code = conclude(&result, interrupted, cycles, quiet, (&name, out, period));
    if let Some(said) = written.and_then(|w| w.summary()).filter(|_| !quiet) {
        eprintln!("{said}");
    }
    let stats = stats.map(|s| s.sorted());
    let report = match (last, &stats) {
        (Some(last), _) => Some(super::json::run_report(super::json::RunEnd {
            circuit: &name,
            result: &result,
            interrupted,
            trace: vcd,
            signals: last.values(&plan),
            stats: stats.as_deref(),
        })),
        (None, Some(stats)) => Some(trace::stats_table(stats)),
        (None, None) => None,
    };
    if let Some(Err(failed)) = report.map(|r| emit(&r)) {
        code = code.max(failed);
    }
    code
}

/// The trace to run with and the layout its taps see: the file trace, if
/// any, with the taps `--json` (`last`) and `--stats` ask for; without a
/// file, a trace of the taps alone, or none.
fn with_taps(
    circuit: &Circuit,
    patterns: &[String],
    trace: Option<Trace>,
    last: Option<&LastRow>,
    stats: Option<&StatsOut>,
) -> Result<(Option<Trace>, TracePlan), String> {
    let plan = match &trace {
        Some(trace) => trace.plan.clone(),
        None => {
            if last.is_some() || stats.is_some() {
                check_patterns(circuit, patterns)?;
            }
            TracePlan::new(circuit, patterns)
        }
    };
    let mut taps = Vec::new();
    taps.extend(last.map(LastRow::tap));
    taps.extend(stats.map(|s| s.tap(circuit, &plan)));
    let trace = match trace {
        Some(trace) => Some(trace.tapped(taps)),
        None if !taps.is_empty() => Some(Trace::taps_only(plan.clone(), taps)),
        None => None,
    };
    Ok((trace, plan))
}

/// Say how the run ended, on standard error; the exit status.
fn conclude(
    result: &Result<RunSummary, RunError>,
    interrupted: bool,
    cycles: u64,
    quiet: bool,
    (name, out, period): (&str, Option<(&Path, TraceFormat)>, u64),
) -> i32 {
    let vcd = out.map(|(path, _)| path);
    match result {
        Ok(summary) => {
            if let Some(note) = &summary.note {
                super::output::say("note", &note.to_string());
            }
            // On standard error: standard output stays for data (`--vcd -`).
            if !quiet {
                eprintln!("{}", summary_line(name, summary, vcd));
            }
            if interrupted {
                if !super::output::silent() {
                    eprintln!("interrupted after {} of {cycles} cycles; the trace holds every completed cycle", summary.cycles);
                }
                return EXIT_INTERRUPTED;
            }
            0
        }
        Err(e) => {
            super::output::say("error", &e.to_string());
            match e {
                RunError::ComponentPanicked { completed, .. }
                | RunError::ComponentFailed { completed, .. } => {
                    if let Some(out) = vcd {
                        eprintln!(
                            "the trace {} holds the {completed} completed cycles",
                            trace_name(out)
                        );
                    }
                    // Ctrl-C while a child process was answering ends its
                    // cycle with this error: the user asked for the stop.
                    if interrupted {
                        return EXIT_INTERRUPTED;
                    }
                    EXIT_RUN_FAILED
                }
                RunError::TooManyThreads { .. }
                | RunError::TooManyProcesses(_)
                | RunError::TimeOverflow { .. }
                | RunError::Checkpoint(_) => EXIT_BAD_INPUT,
                RunError::Trace(failure) => {
                    if let Some((path, format)) = out.filter(|(path, _)| !is_stdout(path)) {
                        keep_whole_cycles(path, format, &failure.held, period);
                    }
                    EXIT_RUN_FAILED
                }
                RunError::Spawn(_) | RunError::Processes(_) | RunError::Ranks(_) => EXIT_RUN_FAILED,
            }
        }
    }
}

/// After a trace failed mid-run (a full disk): cut a VCD back to the last
/// whole cycle written, and close it with that cycle's end time, so that it
/// reads as a valid trace of those cycles; say what it holds.
fn keep_whole_cycles(path: &Path, format: TraceFormat, held: &trace::Held, period: u64) {
    let cut = match (format, held.bytes) {
        (TraceFormat::Vcd, Some(bytes)) => std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| {
                f.set_len(bytes)?;
                use std::io::Seek;
                f.seek(std::io::SeekFrom::End(0))?;
                writeln!(f, "#{}", held.cycles * period)
            })
            .is_ok(),
        _ => false,
    };
    if cut {
        eprintln!(
            "the trace {} holds the first {} cycles, cut at the end of the last",
            path.display(),
            held.cycles
        );
    } else {
        eprintln!(
            "the trace {} is incomplete: it had {} cycles when writing failed",
            path.display(),
            held.cycles
        );
    }
}

/// The file format of a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TraceFormat {
    Vcd,
    Fst,
}

fn open_trace(
    circuit: &Circuit,
    patterns: &[String],
    out: &Path,
    format: TraceFormat,
) -> Result<Trace, (i32, String)> {
    let bad = |message: String| (EXIT_BAD_INPUT, message);
    check_patterns(circuit, patterns).map_err(bad)?;
    // Writing the header can fail as any write can (a full disk): exit 1.
    let unwritable =
        |to: &str, e: std::io::Error| (EXIT_RUN_FAILED, format!("cannot write {to}: {e}"));
    if is_stdout(out) {
        return match format {
            TraceFormat::Vcd => Trace::vcd(
                circuit,
                patterns,
                BufWriter::with_capacity(1 << 20, std::io::stdout()),
            )
            .map_err(|e| unwritable("to standard output", e)),
            TraceFormat::Fst => Err(bad(
                "an FST trace needs a file (it is written out of order); use `--vcd -` for standard output"
                    .to_string(),
            )),
        };
    }
    not_an_input(out, &circuit.inputs, "the trace").map_err(bad)?;
    let file = std::fs::File::create(out)
        .map_err(|e| bad(format!("cannot create {}: {e}", out.display())))?;
    let trace = match format {
        TraceFormat::Vcd => Trace::vcd(circuit, patterns, BufWriter::with_capacity(1 << 20, file)),
        TraceFormat::Fst => {
            drop(file);
            Trace::fst(circuit, patterns, out)
        }
    };
    trace.map_err(|e| unwritable(&out.display().to_string(), e))
}

/// Where the GTKWave save file beside the trace at `out` goes, if
/// anywhere: never over the trace or an input; not over a save file
/// someone arranged by hand (that one is kept, with a note).
fn save_file_path(out: &Path, inputs: &[PathBuf]) -> Result<Option<PathBuf>, String> {
    if is_stdout(out) {
        return Ok(None);
    }
    let save = trace::gtkw::beside(out);
    if save == out {
        return Err(format!(
            "the trace {} would be overwritten by its GTKWave save file; name it .vcd or .fst, or add --no-gtkw",
            out.display()
        ));
    }
    not_an_input(&save, inputs, "the GTKWave save file")?;
    if !trace::gtkw::may_write(&save) {
        super::output::say(
            "note",
            &format!(
                "kept {}, which cspsim did not write (--no-gtkw silences this)",
                save.display()
            ),
        );
        return Ok(None);
    }
    Ok(Some(save))
}

/// Write the save file `save` for the trace at `out`; a failure is a
/// warning (the trace itself is what matters).
fn write_save_file(save: &Path, plan: &trace::TracePlan, out: &Path, cycles: u64) {
    let dumpfile = out.canonicalize().unwrap_or_else(|_| out.to_path_buf());
    if let Err(e) = std::fs::write(save, trace::gtkw::save_file(plan, &dumpfile, cycles)) {
        super::output::say("warning", &format!("cannot write {}: {e}", save.display()));
    }
}

/// An error unless every pattern selects some signal of `circuit`.
fn check_patterns(circuit: &Circuit, patterns: &[String]) -> Result<(), String> {
    let (_, unused) = trace::select(&circuit.components, patterns);
    match unused.first() {
        Some(&k) => Err(format!(
            "trace pattern `{}` selects no signal (signals are named component.port, e.g. `{}.*`)",
            patterns[k],
            circuit
                .components
                .first()
                .map_or("cnt", |c| c.path.as_str())
        )),
        None => Ok(()),
    }
}

/// How a trace's destination is named in messages.
fn trace_name(path: &Path) -> String {
    if is_stdout(path) {
        "on standard output".to_string()
    } else {
        path.display().to_string()
    }
}

/// Join the MPI ranks `mpirun` started, for `--engine mpi`: the link, and
/// this process's rank.
#[cfg(feature = "mpi")]
pub(super) fn join_ranks() -> Result<(engine::exchange::Link, usize), String> {
    use engine::exchange::Exchange;
    let rank = engine::mpi::MpiRank::join()?;
    let number = rank.rank();
    Ok((engine::exchange::Link::new(rank), number))
}

/// Without MPI, `--engine mpi` is refused.
#[cfg(not(feature = "mpi"))]
pub(super) fn join_ranks() -> Result<(engine::exchange::Link, usize), String> {
    Err("--engine mpi needs a cspsim built with `--features mpi`, started by `mpirun -n R`".into())
}

/// The path `-`: standard output.
fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// `name: 1000 cycles × 5 components in 1.2 ms: 833 k cycles/s, 4.2 M component-cycles/s (partitioned, 1 thread)`.
pub fn summary_line(name: &str, s: &RunSummary, vcd: Option<&Path>) -> String {
    let cps = s.cycles_per_second();
    let trace = vcd
        .map(|p| format!("; trace {}", trace_name(p)))
        .unwrap_or_default();
    let compiled = s
        .compiled
        .map(|c| format!(", {} compiled in {:.3?}", c.lowered, c.compile_time))
        .unwrap_or_default();
    // Several workers may have found one thread faster for a while.
    let alone = match (s.threads, s.one_thread_cycles, s.cycles) {
        (2.., one, all)
            if one * 200 >= all && all > 0 && s.engine == crate::engine::Engine::Partitioned =>
        {
            format!(
                " (one for {:.0}% of cycles)",
                100.0 * one as f64 / all as f64
            )
        }
        _ => String::new(),
    };
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let exchanged = s
        .exchanged
        .map(|x| {
            format!(
                ", {} message{} and {} bytes a cycle",
                x.messages,
                plural(x.messages as usize),
                x.bytes
            )
        })
        .unwrap_or_default();
    let unit = match s.engine {
        crate::engine::Engine::Processes => "child process",
        crate::engine::Engine::Mpi => "rank",
        _ => "thread",
    };
    let plural_unit = |n: usize| match (n, s.engine) {
        (1, _) => "",
        (_, crate::engine::Engine::Processes) => "es",
        _ => "s",
    };
    let speed = if s.cycles == 0 {
        "no cycles run".to_string()
    } else {
        format!(
            "{} cycles/s, {} component-cycles/s",
            si(cps),
            si(cps * s.components as f64)
        )
    };
    format!(
        "{name}: {} cycle{} × {} component{} in {:.3?}: {speed} ({}, {} {unit}{}{exchanged}{alone}{compiled}){trace}",
        s.cycles,
        if s.cycles == 1 { "" } else { "s" },
        s.components,
        plural(s.components),
        s.elapsed,
        s.engine,
        s.threads,
        plural_unit(s.threads),
    )
}

/// `1234567.0` → `1.23 M`.
fn si(v: f64) -> String {
    let (scale, unit) = match v {
        v if v >= 1e9 => (1e9, " G"),
        v if v >= 1e6 => (1e6, " M"),
        v if v >= 1e3 => (1e3, " k"),
        _ => (1.0, ""),
    };
    format!("{:.3}{unit}", v / scale)
}
