//! The command line: `run`, `check`, `graph`, `diff`, `models`, `describe`. A crate with its
//! own models calls [`main`] with its registry to get the same tool:
//!
//! ```no_run
//! let mut registry = cspsim::Registry::standard();
//! // registry.register(my_model::info());
//! std::process::exit(cspsim::cli::main(registry));
//! ```
//!
//! Exit status: 0 success, 2 bad input (circuit or usage), 1 failure during
//! the run, 130 interrupted.

use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::engine::{self, Codegen, Engine, RunError, RunOptions, RunSummary};
use crate::netlist::{self, LoadError, LoadOptions};
use crate::params::ParamValue;
use crate::registry::Registry;
use crate::trace::{self, Trace};
use crate::Circuit;

/// Exit status for bad input.
pub const EXIT_BAD_INPUT: i32 = 2;
/// Exit status for a failure during the run.
pub const EXIT_RUN_FAILED: i32 = 1;
/// Exit status when interrupted.
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Parser)]
#[command(
    name = "cspsim",
    version,
    about = "Simulate RON circuits as communicating processes; write VCD for GTKWave"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where composite models are found and which circuit parameters to override.
#[derive(clap::Args, Clone, Default)]
struct LoadArgs {
    /// Look for composite models in DIR first (repeatable); `models/` beside
    /// the circuit and in the current directory are always searched.
    #[arg(long = "models", value_name = "DIR")]
    models: Vec<PathBuf>,
    /// Override a circuit parameter (repeatable), e.g. `--param rows=32`.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    params: Vec<(String, ParamValue)>,
    /// Refuse circuits of more components than this (besides the limit
    /// this machine's memory sets).
    #[arg(long, value_name = "N")]
    max_components: Option<usize>,
}

/// `NAME=VALUE`, the value written as in RON (`32`, `0.5`, `true`, `"text"`);
/// anything else is taken as a string.
fn parse_param(text: &str) -> Result<(String, ParamValue), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))?;
    let name = name.trim();
    if !netlist::is_identifier(name) {
        return Err(format!("`{name}` is not a parameter name"));
    }
    let value = ron::from_str::<ParamValue>(value.trim())
        .unwrap_or_else(|_| ParamValue::Str(value.to_string()));
    Ok((name.to_string(), value))
}

#[derive(Subcommand)]
enum Command {
    /// Run a circuit, optionally writing a VCD trace.
    Run {
        /// The circuit file (RON).
        circuit: PathBuf,
        /// Cycles to run (default: the circuit's `cycles`).
        #[arg(long)]
        cycles: Option<u64>,
        /// Write a VCD trace here.
        #[arg(long, value_name = "OUT.vcd")]
        vcd: Option<PathBuf>,
        /// Write an FST trace here (GTKWave's compressed format; smaller and
        /// faster to open than VCD).
        #[arg(long, value_name = "OUT.fst", conflicts_with = "vcd")]
        fst: Option<PathBuf>,
        /// The engine.
        #[arg(long, value_enum, default_value_t = Engine::Partitioned)]
        engine: Engine,
        /// Worker threads for the partitioned engine (default: chosen from the circuit's size and the cores).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
        threads: Option<u64>,
        /// Signals to trace (`cnt.*`, `*.q`); repeat for more. Default: the circuit's `trace`.
        #[arg(long, value_name = "PATTERN")]
        trace: Vec<String>,
        /// Seed for models with randomness.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
        /// Run components one by one, not in batches of the same model
        /// (same results; to measure what batching gains).
        #[arg(long)]
        no_batch: bool,
        /// Compile the components that lower to machine code when the run
        /// starts, or interpret every component (same results).
        #[arg(long, value_enum, default_value_t = Codegen::Compiled)]
        codegen: Codegen,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Check a circuit: validation, size, hierarchy, the longest
    /// combinational path and every combinational loop.
    Check {
        /// The circuit file (RON).
        circuit: PathBuf,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Write the circuit as a Graphviz DOT graph (render with `dot -Tsvg`).
    Graph {
        /// The circuit file (RON).
        circuit: PathBuf,
        /// Write here instead of standard output.
        #[arg(long, short, value_name = "OUT.dot")]
        output: Option<PathBuf>,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Compare two VCD files signal by signal (exit 0 if they match, 1 if not).
    Diff {
        /// The first VCD.
        a: PathBuf,
        /// The second VCD.
        b: PathBuf,
        /// Relative tolerance for real values.
        #[arg(long, default_value_t = 1e-9)]
        tolerance: f64,
    },
    /// List the available models.
    Models,
    /// Show a model's ports, parameters and behaviour.
    Describe {
        /// The model's name.
        model: String,
    },
}

/// Run the command line with `registry` on the process's arguments; returns the exit status.
pub fn main(registry: Registry) -> i32 {
    main_from(registry, std::env::args_os())
}

/// Run the command line with `registry` on `args` (the first is the program name).
pub fn main_from<I, T>(registry: Registry, args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_BAD_INPUT } else { 0 };
        }
    };
    match cli.command {
        Command::Run {
            circuit,
            cycles,
            vcd,
            fst,
            engine,
            threads,
            trace,
            seed,
            quiet,
            no_batch,
            codegen,
            load,
        } => {
            let options = RunOptions {
                engine,
                threads: threads.map(|t| t as usize),
                cycles,
                one_by_one: no_batch,
                codegen,
                ..RunOptions::default()
            };
            let load = load_options(load, seed);
            run(
                &registry,
                &circuit,
                &load,
                options,
                vcd.as_deref()
                    .map(|p| (p, TraceFormat::Vcd))
                    .or(fst.as_deref().map(|p| (p, TraceFormat::Fst))),
                &trace,
                quiet,
            )
        }
        Command::Check { circuit, load } => check(&registry, &circuit, &load_options(load, 0)),
        Command::Graph {
            circuit,
            output,
            load,
        } => graph(
            &registry,
            &circuit,
            output.as_deref(),
            &load_options(load, 0),
        ),
        Command::Diff { a, b, tolerance } => diff(&a, &b, tolerance),
        Command::Models => {
            use std::fmt::Write as _;
            let width = registry.iter().map(|m| m.name.len()).max().unwrap_or(0);
            let mut text = String::new();
            for m in registry.iter() {
                let _ = writeln!(text, "{:width$}  {}", m.name, m.summary);
            }
            emit(&text).err().unwrap_or(0)
        }
        Command::Describe { model } => describe(&registry, &model),
    }
}

fn load_options(args: LoadArgs, seed: u64) -> LoadOptions {
    LoadOptions {
        seed,
        model_dirs: args.models,
        params: args.params,
        max_components: args.max_components,
    }
}

fn report(e: &LoadError) -> i32 {
    eprint!("{}", e.render(std::io::stderr().is_terminal()));
    EXIT_BAD_INPUT
}

fn load(registry: &Registry, path: &Path, options: &LoadOptions) -> Result<Circuit, i32> {
    netlist::load_file_with(path, registry, options).map_err(|e| report(&e))
}

fn check(registry: &Registry, path: &Path, options: &LoadOptions) -> i32 {
    let elaborated = match netlist::elaborate_file(path, registry, options) {
        Ok(e) => e,
        Err(e) => return report(&e),
    };
    if let Err(code) = emit(&check_report(&elaborated.circuit, &elaborated.loops)) {
        return code;
    }
    match elaborated.checked() {
        Ok(_) => 0,
        Err(e) => report(&e),
    }
}

/// What `check` prints: size, models, hierarchy, longest combinational
/// path, loops.
pub fn check_report(c: &Circuit, loops: &[crate::graph::CombLoop]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} components, {} nets, {} ports",
        c.name,
        c.components.len(),
        c.connected_nets(),
        c.ports()
    );
    let mut by_model: std::collections::BTreeMap<&str, usize> = Default::default();
    for comp in &c.components {
        *by_model.entry(comp.model.as_str()).or_default() += 1;
    }
    let mut models: Vec<(&str, usize)> = by_model.into_iter().collect();
    models.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let list: Vec<String> = models.iter().map(|(m, n)| format!("{n} {m}")).collect();
    let _ = writeln!(out, "models: {}", list.join(", "));
    if c.hierarchy
        .iter()
        .any(|n| !n.children.is_empty() || n.name.ends_with(']'))
    {
        let _ = writeln!(out, "hierarchy:");
        hierarchy_lines(&c.hierarchy, 1, &mut out);
    }
    if loops.is_empty() {
        let path = crate::graph::longest_path(&c.components, &c.levels);
        match (c.depth(), path.is_empty()) {
            (0, _) => {
                let _ = writeln!(out, "no combinational logic");
            }
            (_, true) => {
                let _ = writeln!(
                    out,
                    "longest combinational path: 1 component (no combinational output feeds another)"
                );
            }
            (_, false) => {
                let _ = writeln!(
                    out,
                    "longest combinational path: {} components: {}",
                    path.len() + 1,
                    crate::graph::describe_path(&path, &c.components)
                );
            }
        }
        let _ = writeln!(out, "no combinational loops");
    } else {
        let _ = writeln!(out, "{} combinational loop(s):", loops.len());
        for (k, l) in loops.iter().enumerate() {
            let _ = writeln!(out, "  {}: {}", k + 1, l.describe(&c.components));
        }
    }
    out
}

fn hierarchy_lines(nodes: &[crate::circuit::HierarchyNode], depth: usize, out: &mut String) {
    use std::fmt::Write as _;
    let width = nodes.iter().map(|n| n.name.len()).max().unwrap_or(0);
    for n in nodes {
        let _ = writeln!(out, "{}{:width$}  {}", "  ".repeat(depth), n.name, n.model);
        hierarchy_lines(&n.children, depth + 1, out);
    }
}

fn graph(registry: &Registry, path: &Path, output: Option<&Path>, options: &LoadOptions) -> i32 {
    let elaborated = match netlist::elaborate_file(path, registry, options) {
        Ok(e) => e,
        Err(e) => return report(&e),
    };
    if let Some(out) = output {
        if let Err(message) = not_an_input(out, &elaborated.circuit.inputs, "the graph") {
            eprintln!("error: {message}");
            return EXIT_BAD_INPUT;
        }
    }
    let written = match output {
        Some(out) => std::fs::File::create(out).and_then(|f| {
            let mut w = BufWriter::new(f);
            crate::dot::write(&elaborated.circuit, &elaborated.loops, &mut w)?;
            w.flush()
        }),
        None => {
            let mut w = BufWriter::new(std::io::stdout().lock());
            crate::dot::write(&elaborated.circuit, &elaborated.loops, &mut w)
                .and_then(|_| w.flush())
        }
    };
    if let Err(e) = written {
        let to = output.map_or("standard output".to_string(), |p| p.display().to_string());
        eprintln!("error: cannot write {to}: {e}");
        return EXIT_RUN_FAILED;
    }
    for l in &elaborated.loops {
        eprintln!(
            "warning: combinational loop (drawn in red): {}",
            l.describe(&elaborated.circuit.components)
        );
    }
    0
}

fn diff(a: &Path, b: &Path, tolerance: f64) -> i32 {
    let read = |path: &Path| -> Result<trace::read::Waveform, String> {
        let mut file = std::fs::File::open(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        // An FST file starts with its header block, of type 0.
        let mut first = [1u8];
        use std::io::{Read, Seek};
        if file.read_exact(&mut first).is_ok() && first[0] == 0 {
            return Err(format!(
                "{} is an FST trace; diff reads VCD: convert it with `fst2vcd {0} > trace.vcd`",
                path.display()
            ));
        }
        file.rewind()
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        trace::read::Waveform::read(std::io::BufReader::new(file))
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    match (read(a), read(b)) {
        (Ok(left), Ok(right)) => {
            let comparison = trace::diff::compare(&left, &right, tolerance);
            let newline = if comparison.is_match() { "\n" } else { "" };
            if let Err(code) = emit(&format!("{comparison}{newline}")) {
                return code;
            }
            if comparison.is_match() {
                0
            } else {
                EXIT_RUN_FAILED
            }
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

fn describe(registry: &Registry, name: &str) -> i32 {
    let Some(info) = registry.get(name) else {
        let hint = registry
            .closest(name)
            .map(|c| format!(" (did you mean `{c}`?)"))
            .unwrap_or_default();
        eprintln!("error: unknown model `{name}`{hint}; `cspsim models` lists them");
        return EXIT_BAD_INPUT;
    };
    use std::fmt::Write as _;
    let mut text = String::new();
    macro_rules! line {
        ($($arg:tt)*) => {{
            let _ = writeln!(text, $($arg)*);
        }};
    }
    line!("{} — {}\n", info.name, info.summary);
    if !info.doc.is_empty() {
        line!("{}\n", info.doc);
    }
    line!("Parameters:");
    if info.params.is_empty() {
        line!("  (none)");
    }
    for p in &info.params {
        let default = p
            .default
            .as_ref()
            .map_or("required".to_string(), |d| format!("default {d}"));
        line!("  {:10} {} ({default}) — {}", p.name, p.kind, p.doc);
    }
    let ctx = crate::BuildContext::new(name);
    match info.build(&[], &ctx) {
        Ok((ports, _)) => {
            line!("\nPorts with default parameters:");
            for p in ports.inputs() {
                let optional = p
                    .default
                    .map(|d| format!(", optional (reads {d} if unconnected)"))
                    .unwrap_or_default();
                line!("  in   {:10} {}{optional}", p.name, p.ty);
            }
            for p in ports.outputs() {
                let timing = match p.timing {
                    crate::Timing::Registered => "registered",
                    crate::Timing::Combinational(_) => "combinational",
                };
                line!("  out  {:10} {} {timing}", p.name, p.ty);
            }
        }
        Err(e) => line!("\nPorts: depend on the parameters ({e}); see the description above."),
    }
    emit(&text).err().unwrap_or(0)
}

fn run(
    registry: &Registry,
    path: &Path,
    load_options: &LoadOptions,
    mut options: RunOptions,
    out: Option<(&Path, TraceFormat)>,
    patterns: &[String],
    quiet: bool,
) -> i32 {
    let vcd = out.map(|(path, _)| path);
    let circuit = match load(registry, path, load_options) {
        Ok(c) => c,
        Err(code) => return code,
    };
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
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    }
    let trace = match out {
        None => None,
        Some((out, format)) => match open_trace(&circuit, &patterns, out, format) {
            Ok(t) => Some(t),
            Err(message) => {
                eprintln!("error: {message}");
                return EXIT_BAD_INPUT;
            }
        },
    };
    let name = circuit.name.clone();
    let progress = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let (stop, interrupted) = (Arc::clone(&stop), Arc::clone(&interrupted));
        // Already installed when main runs twice in one process (tests); the first handler serves.
        let _ = ctrlc::set_handler(move || {
            interrupted.store(true, Ordering::Relaxed);
            stop.store(true, Ordering::Relaxed);
        });
    }
    options.progress = Some(Arc::clone(&progress));
    options.stop = Some(stop);
    let bar = (!quiet && std::io::stderr().is_terminal())
        .then(|| progress_bar(cycles, Arc::clone(&progress)));
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !engine::in_model_call() {
            default_hook(info);
        }
    }));
    let result = engine::run(circuit, &options, trace);
    let _ = std::panic::take_hook();
    if let Some((bar, done, handle)) = bar {
        done.store(true, Ordering::Relaxed);
        let _ = handle.join();
        bar.finish_and_clear();
    }
    match result {
        Ok(summary) => {
            if let Some(note) = &summary.note {
                eprintln!("note: {note}");
            }
            if let Err(code) = emit(&format!("{}\n", summary_line(&name, &summary, vcd))) {
                return code;
            }
            if interrupted.load(Ordering::Relaxed) {
                eprintln!("interrupted after {} of {cycles} cycles; the trace holds every completed cycle", summary.cycles);
                return EXIT_INTERRUPTED;
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                RunError::ComponentPanicked { completed, .. }
                | RunError::ComponentFailed { completed, .. } => {
                    if let Some(out) = vcd {
                        eprintln!(
                            "the trace {} holds the {completed} completed cycles",
                            out.display()
                        );
                    }
                    EXIT_RUN_FAILED
                }
                RunError::TooManyThreads { .. } | RunError::TimeOverflow { .. } => EXIT_BAD_INPUT,
                RunError::Trace(failure) => {
                    if let Some((path, format)) = out {
                        keep_whole_cycles(path, format, &failure.held, period);
                    }
                    EXIT_RUN_FAILED
                }
                RunError::Spawn(_) => EXIT_RUN_FAILED,
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
enum TraceFormat {
    Vcd,
    Fst,
}

fn open_trace(
    circuit: &Circuit,
    patterns: &[String],
    out: &Path,
    format: TraceFormat,
) -> Result<Trace, String> {
    let (_, unused) = trace::select(&circuit.components, patterns);
    if let Some(&k) = unused.first() {
        return Err(format!(
            "trace pattern `{}` selects no signal (signals are named component.port, e.g. `{}.*`)",
            patterns[k],
            circuit
                .components
                .first()
                .map_or("cnt", |c| c.path.as_str())
        ));
    }
    not_an_input(out, &circuit.inputs, "the trace")?;
    let file =
        std::fs::File::create(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let trace = match format {
        TraceFormat::Vcd => Trace::vcd(circuit, patterns, BufWriter::with_capacity(1 << 20, file)),
        TraceFormat::Fst => {
            drop(file);
            Trace::fst(circuit, patterns, out)
        }
    };
    trace.map_err(|e| format!("cannot write {}: {e}", out.display()))
}

type Bar = (
    indicatif::ProgressBar,
    Arc<AtomicBool>,
    std::thread::JoinHandle<()>,
);

fn progress_bar(cycles: u64, progress: Arc<AtomicU64>) -> Bar {
    let bar = indicatif::ProgressBar::new(cycles);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {human_pos}/{human_len} cycles  {elapsed} elapsed, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let done = Arc::new(AtomicBool::new(false));
    let handle = {
        let (bar, done) = (bar.clone(), Arc::clone(&done));
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                bar.set_position(progress.load(Ordering::Relaxed));
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    (bar, done, handle)
}

/// `name: 1000 cycles × 5 components in 1.2 ms: 833 k cycles/s, 4.2 M component-cycles/s (partitioned, 1 thread)`.
pub fn summary_line(name: &str, s: &RunSummary, vcd: Option<&Path>) -> String {
    let cps = s.cycles_per_second();
    let trace = vcd
        .map(|p| format!("; trace {}", p.display()))
        .unwrap_or_default();
    let compiled = s
        .compiled
        .map(|c| format!(", {} compiled in {:.3?}", c.lowered, c.compile_time))
        .unwrap_or_default();
    // Several workers may have found one thread faster for a while.
    let alone = match (s.threads, s.one_thread_cycles, s.cycles) {
        (2.., one, all) if one * 200 >= all && all > 0 => {
            format!(
                " (one for {:.0}% of cycles)",
                100.0 * one as f64 / all as f64
            )
        }
        _ => String::new(),
    };
    format!(
        "{name}: {} cycles × {} components in {:.3?}: {} cycles/s, {} component-cycles/s ({}, {} thread{}{alone}{compiled}){trace}",
        s.cycles,
        s.components,
        s.elapsed,
        si(cps),
        si(cps * s.components as f64),
        s.engine,
        s.threads,
        if s.threads == 1 { "" } else { "s" },
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

/// An error unless `out` is none of `inputs` (the files the circuit was
/// built from): an output never overwrites an input.
fn not_an_input(out: &Path, inputs: &[PathBuf], what: &str) -> Result<(), String> {
    // A file that does not exist yet cannot be an input.
    let Ok(target) = out.canonicalize() else {
        return Ok(());
    };
    match inputs
        .iter()
        .find(|i| i.canonicalize().is_ok_and(|i| i == target))
    {
        Some(input) => Err(format!(
            "{what} would overwrite {}, which the circuit reads; write it elsewhere",
            input.display()
        )),
        None => Ok(()),
    }
}

/// Write `text` to standard output and flush it. A closed pipe or a full
/// disk is an error message and exit status 1, not a panic (`println!`
/// panics on both).
fn emit(text: &str) -> Result<(), i32> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| {
            eprintln!("error: cannot write to standard output: {e}");
            EXIT_RUN_FAILED
        })
}

/// Flush stdout before exiting (the summary line must not be lost).
pub fn flush() {
    let _ = std::io::stdout().flush();
}
