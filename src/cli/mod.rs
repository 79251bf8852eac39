//! The command line: `run`, `sweep`, `check`, `graph`, `diff`, `models`, `describe`,
//! `completions`, `man`. A crate with its
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

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::engine::{Codegen, Engine, RunOptions};
use crate::netlist::{self, LoadError, LoadOptions};
use crate::params::ParamValue;
use crate::registry::Registry;
use crate::Circuit;

mod check;
mod checkpoint;
mod describe;
mod diff;
mod json;
mod live;
mod models;
mod output;
mod run;
mod sweep;

pub use check::check_report;
use output::emit;
pub use output::flush;
pub use run::summary_line;
use run::TraceFormat;

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
    /// When to colour messages: on a terminal unless NO_COLOR is set
    /// (auto), always, or never.
    #[arg(long, global = true, value_enum, default_value_t = output::ColorChoice::Auto)]
    color: output::ColorChoice,
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

fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(crate::process::remote::timeout_from_secs)
        .ok_or_else(|| format!("`{text}` is not a number of seconds above 0"))
}

#[derive(Subcommand)]
enum Command {
    /// Run a circuit, optionally writing a VCD trace.
    Run {
        /// The circuit file (RON); `-` reads it from standard input.
        circuit: PathBuf,
        /// Cycles to run (default: the circuit's `cycles`).
        #[arg(long)]
        cycles: Option<u64>,
        /// Write a VCD trace here; `-` writes it to standard output.
        #[arg(long, value_name = "OUT.vcd")]
        vcd: Option<PathBuf>,
        /// Write an FST trace here (GTKWave's compressed format; smaller and
        /// faster to open than VCD).
        #[arg(long, value_name = "OUT.fst", conflicts_with = "vcd")]
        fst: Option<PathBuf>,
        /// Write no GTKWave save file beside the trace (by default `x.vcd`
        /// and `x.fst` get `x.gtkw`, which opens them pre-arranged).
        #[arg(long)]
        no_gtkw: bool,
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
        /// No progress bar and no summary line (errors still go to standard error).
        #[arg(long, short)]
        quiet: bool,
        /// Print the summary, each traced signal's final value and any
        /// failure as JSON on standard output (see docs/json.md).
        #[arg(long)]
        json: bool,
        /// Print per-net statistics of the traced signals (toggles, changes,
        /// ones-density, min, max, mean), busiest first; in the JSON with --json.
        #[arg(long)]
        stats: bool,
        /// Run components one by one, not in batches of the same model
        /// (same results; to measure what batching gains).
        #[arg(long)]
        no_batch: bool,
        /// Compile the components that lower to machine code when the run
        /// starts, or interpret every component (same results).
        #[arg(long, value_enum, default_value_t = Codegen::Compiled)]
        codegen: Codegen,
        /// Seconds each child of `--engine processes` has to answer one
        /// frame before it counts as hung (default 10; a `process`
        /// component has its own `timeout` parameter).
        #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
        child_timeout: Option<std::time::Duration>,
        #[command(flatten)]
        checkpoints: checkpoint::CheckpointArgs,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Run a circuit over a grid of parameters and seeds, runs in parallel;
    /// one row per run (collected signals' final values and statistics,
    /// any failure) as CSV, or JSON for `-o x.json` (see docs/json.md).
    Sweep {
        /// The circuit file (RON).
        circuit: PathBuf,
        /// A swept parameter (repeatable): `NAME=START:STOP:STEP` (both
        /// ends included), `NAME=A,B,C`, or `NAME=VALUE`.
        #[arg(long = "param", value_name = "NAME=VALUES")]
        params: Vec<String>,
        /// Runs per point of the grid, each with its own seed.
        #[arg(long, default_value_t = 1)]
        seeds: u64,
        /// The sweep's seed; run i's seed derives from it and i (the
        /// table's `seed` column, for `cspsim run --seed`).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Cycles per run (default: the circuit's `cycles`).
        #[arg(long)]
        cycles: Option<u64>,
        /// Signals whose final value and statistics each run records
        /// (repeatable): `hits.q`, `'col[*].fifo.dropped'`.
        #[arg(long = "collect", value_name = "PATTERN")]
        collect: Vec<String>,
        /// Write the table here (`.json`: JSON; otherwise CSV); default
        /// and `-`: CSV on standard output.
        #[arg(long, short, value_name = "OUT.csv")]
        output: Option<PathBuf>,
        /// Runs at once (default: one per core).
        #[arg(long, short, value_parser = clap::value_parser!(u64).range(1..=1024))]
        jobs: Option<u64>,
        /// Worker threads per run (default: the cores the parallel runs leave).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
        threads: Option<u64>,
        /// Stop at the first run that fails (exit 1); by default a failed
        /// run is a row with its failure, and the sweep goes on.
        #[arg(long)]
        fail_fast: bool,
        /// The engine of each run.
        #[arg(long, value_enum, default_value_t = Engine::Partitioned)]
        engine: Engine,
        /// Compile what lowers to machine code, or interpret everything.
        #[arg(long, value_enum, default_value_t = Codegen::Compiled)]
        codegen: Codegen,
        /// No progress bar and no summary line.
        #[arg(long, short)]
        quiet: bool,
        /// Look for composite models in DIR first (repeatable).
        #[arg(long = "models", value_name = "DIR")]
        models: Vec<PathBuf>,
        /// Refuse circuits of more components than this.
        #[arg(long, value_name = "N")]
        max_components: Option<usize>,
    },
    /// Check a circuit: validation, size, hierarchy, the longest
    /// combinational path and every combinational loop.
    Check {
        /// The circuit file (RON); `-` reads it from standard input.
        circuit: PathBuf,
        /// Print the report as JSON (see docs/json.md).
        #[arg(long)]
        json: bool,
        /// Also show how `--engine mpi` divides the circuit over R ranks:
        /// components per rank, and the nets that cross (cut nets).
        #[arg(long, value_name = "R", value_parser = clap::value_parser!(u64).range(1..=65536))]
        ranks: Option<u64>,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Write the circuit as a Graphviz DOT graph (render with `dot -Tsvg`).
    Graph {
        /// The circuit file (RON); `-` reads it from standard input.
        circuit: PathBuf,
        /// Write here instead of standard output.
        #[arg(long, short, value_name = "OUT.dot")]
        output: Option<PathBuf>,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Compare two traces (VCD or FST) signal by signal (exit 0 if they match, 1 if not).
    Diff {
        /// The first trace.
        a: PathBuf,
        /// The second trace.
        b: PathBuf,
        /// Relative tolerance for real values.
        #[arg(long, default_value_t = 1e-9)]
        tolerance: f64,
        /// Rename signals in both traces before comparing (repeatable, in
        /// order): `--map '^tb\.dut\.=top.'` (a regex, and its
        /// replacement, which may use `$1`).
        #[arg(long = "map", value_name = "REGEX=REPLACEMENT")]
        maps: Vec<String>,
        /// Compare only the signals in this scope, after renaming
        /// (repeatable), e.g. `--scope top`.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
    },
    /// List the available models: the primitives and the composite models found.
    Models {
        /// Look for composite models in DIR first (repeatable); `./models`
        /// is always searched.
        #[arg(long = "models", value_name = "DIR")]
        models: Vec<PathBuf>,
    },
    /// Serve one model over standard input and output, as a child process
    /// of a circuit (docs/process-protocol.md): the `command` of a `process`
    /// component, and every child of `--engine processes` (which names the
    /// model in its handshake, so MODEL is left out).
    Serve {
        /// The model (a primitive, standard or this program's own).
        model: Option<String>,
        /// A parameter of the model (repeatable), e.g. `--param width=8`.
        #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
        params: Vec<(String, ParamValue)>,
    },
    /// Print a shell completion script: `cspsim completions bash > /etc/bash_completion.d/cspsim`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `cspsim man | man -l -`.
    Man,
    /// Show a model's ports, parameters and behaviour (a primitive, or a
    /// composite model on the model path).
    Describe {
        /// The model's name.
        model: String,
        /// Look for composite models in DIR first (repeatable).
        #[arg(long = "models", value_name = "DIR")]
        models: Vec<PathBuf>,
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
    output::set_color(cli.color);
    match cli.command {
        Command::Run {
            circuit,
            cycles,
            vcd,
            fst,
            no_gtkw,
            engine,
            threads,
            trace,
            seed,
            quiet,
            json,
            stats,
            no_batch,
            codegen,
            child_timeout,
            checkpoints,
            load,
        } => {
            let (mut ranks, mut rank) = (None, 0);
            if engine == Engine::Mpi {
                match run::join_ranks() {
                    Ok((link, r)) => (ranks, rank) = (Some(link), r),
                    Err(message) => {
                        output::say("error", &message);
                        return EXIT_BAD_INPUT;
                    }
                }
            }
            let link = ranks.clone();
            let options = RunOptions {
                engine,
                threads: threads.map(|t| t as usize),
                cycles,
                one_by_one: no_batch,
                codegen,
                processes: crate::engine::ProcessOptions {
                    program: None,
                    timeout: child_timeout,
                },
                ranks,
                ..RunOptions::default()
            };
            let mut load = load_options(load, seed);
            load.keep_specs = engine == Engine::Processes;
            let code = run::run(
                &registry,
                &circuit,
                &load,
                options,
                run::Outputs {
                    trace: vcd
                        .as_deref()
                        .map(|p| (p, TraceFormat::Vcd))
                        .or(fst.as_deref().map(|p| (p, TraceFormat::Fst))),
                    patterns: &trace,
                    quiet,
                    json,
                    stats,
                    save_file: !no_gtkw,
                    rank,
                    checkpoints: &checkpoints,
                },
            );
            // A rank that stops before its run began would leave the others
            // waiting for it: it ends them all.
            match link {
                Some(link) if code != 0 && !link.started() => {
                    link.lock().abort(code);
                    code
                }
                _ => code,
            }
        }
        Command::Sweep {
            circuit,
            params,
            seeds,
            seed,
            cycles,
            collect,
            output,
            jobs,
            threads,
            fail_fast,
            engine,
            codegen,
            quiet,
            models,
            max_components,
        } => {
            if engine == Engine::Mpi {
                output::say(
                    "error",
                    "a sweep splits its runs over the MPI ranks itself: start it with `mpirun -n R cspsim sweep`, each run on another engine",
                );
                return EXIT_BAD_INPUT;
            }
            let mut sweep = crate::sweep::Sweep::new(circuit, crate::sweep::Grid::default());
            sweep.load = LoadOptions {
                model_dirs: models,
                max_components,
                keep_specs: engine == Engine::Processes,
                ..LoadOptions::default()
            };
            sweep.collect = collect;
            sweep.run = RunOptions {
                engine,
                threads: threads.map(|t| t as usize),
                cycles,
                codegen,
                ..RunOptions::default()
            };
            sweep.jobs = jobs.map(|j| j as usize);
            sweep.fail_fast = fail_fast;
            let output = sweep::output_path(output);
            sweep::sweep(
                &registry,
                sweep,
                sweep::GridArgs {
                    params: &params,
                    seeds,
                    seed,
                },
                sweep::Report {
                    output: output.as_deref(),
                    quiet,
                },
            )
        }
        Command::Check {
            circuit,
            json,
            ranks,
            load,
        } => check::check(
            &registry,
            &circuit,
            &load_options(load, 0),
            (json, ranks.map(|r| r as usize)),
        ),
        Command::Graph {
            circuit,
            output,
            load,
        } => check::graph(
            &registry,
            &circuit,
            output.as_deref(),
            &load_options(load, 0),
        ),
        Command::Diff {
            a,
            b,
            tolerance,
            maps,
            scopes,
        } => diff::diff(&a, &b, tolerance, &diff::Selection { maps, scopes }),
        Command::Models { models: dirs } => models::list(&registry, dirs),
        Command::Serve { model, params } => serve(&registry, model.as_deref(), &params),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "cspsim",
                &mut script,
            );
            emit(&String::from_utf8_lossy(&script)).err().unwrap_or(0)
        }
        Command::Man => {
            let mut page = Vec::new();
            match clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut page)
            {
                Ok(()) => emit(&String::from_utf8_lossy(&page)).err().unwrap_or(0),
                Err(e) => {
                    output::say("error", &e.to_string());
                    EXIT_RUN_FAILED
                }
            }
        }
        Command::Describe {
            model,
            models: dirs,
        } => describe::describe(&registry, &model, &dirs),
    }
}

/// `cspsim serve`: exit 0 when the parent says finish, 2 for an unknown
/// model, 1 if the protocol breaks (its reason on standard error).
fn serve(registry: &Registry, model: Option<&str>, params: &[(String, ParamValue)]) -> i32 {
    let served = match model {
        None => crate::process::serve_from_handshake(registry),
        Some(name) => match registry.get(name) {
            Some(info) => crate::process::serve(info, params),
            None => {
                eprintln!("error: no model `{name}`; `cspsim models` lists them");
                return EXIT_BAD_INPUT;
            }
        },
    };
    match served {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: cspsim serve: {e}");
            EXIT_RUN_FAILED
        }
    }
}

fn load_options(args: LoadArgs, seed: u64) -> LoadOptions {
    LoadOptions {
        seed,
        model_dirs: args.models,
        params: args.params,
        max_components: args.max_components,
        open_inputs: false,
        keep_specs: false,
    }
}

pub(crate) fn report(e: &LoadError) -> i32 {
    if !output::silent() {
        eprint!("{}", e.render(output::color()));
    }
    EXIT_BAD_INPUT
}

pub(crate) fn load(
    registry: &Registry,
    path: &Path,
    options: &LoadOptions,
) -> Result<Circuit, i32> {
    netlist::load_file_with(path, registry, options).map_err(|e| report(&e))
}
