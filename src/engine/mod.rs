//! Engines execute a circuit. They share models, netlist, graph and tracer,
//! keep the cycle semantics of DESIGN.md, and must produce identical values
//! and identical traces for every circuit and thread count.
//!
//! - [`Engine::Partitioned`] (default): components grouped onto worker
//!   threads, evaluated in dependency order over shared value slots.
//! - [`Engine::Threads`]: one OS thread per component, a channel per
//!   connection — the literal CSP picture, and the reference.
//! - [`Engine::Processes`]: one OS process per component, pipes as
//!   channels (see [`crate::process`]).
//! - [`Engine::Mpi`]: the components partitioned over ranks (MPI
//!   processes, or threads standing in for them: see [`exchange`]), each
//!   rank running its part as the partitioned engine would.

mod barrier;
pub mod exchange;
mod fault;
#[cfg(feature = "mpi")]
pub mod mpi;
mod native;
mod partition;
mod partitioned;
mod processes;
mod threads;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::circuit::Circuit;
use crate::trace::Trace;

pub(crate) use fault::guard;
pub use fault::{
    in_model_call, note_panic_location, with_model_panic_hook, Fault, FaultKind, Phase,
};
pub use partition::{rank_report, RankReport};
pub use processes::ProcessOptions;
pub use threads::thread_limit;

/// Which engine runs the circuit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// Components grouped onto worker threads, run in dependency order.
    #[default]
    Partitioned,
    /// One OS thread per component, channels as wires.
    Threads,
    /// One OS process per component (`cspsim serve`), pipes as wires.
    Processes,
    /// The components partitioned over MPI ranks (`mpirun -n R`), or over
    /// the ranks of [`RunOptions::ranks`].
    Mpi,
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Engine::Partitioned => "partitioned",
            Engine::Threads => "threads",
            Engine::Processes => "processes",
            Engine::Mpi => "mpi",
        })
    }
}

/// How the partitioned engine runs the components that lower (see
/// [`crate::lower`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Codegen {
    /// Compiled to machine code when the run starts; components that do not
    /// lower, and machines without a code generator, are interpreted.
    #[default]
    Compiled,
    /// Every component through its `eval` and `tick`.
    Interpret,
}

impl std::fmt::Display for Codegen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Codegen::Compiled => "compiled",
            Codegen::Interpret => "interpret",
        })
    }
}

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The engine.
    pub engine: Engine,
    /// Worker threads for the partitioned engine; `None` chooses from the
    /// circuit's size and the machine's cores.
    pub threads: Option<usize>,
    /// Cycles to run; `None` uses the circuit's own count.
    pub cycles: Option<u64>,
    /// Updated with the number of completed cycles as the run goes.
    pub progress: Option<Arc<AtomicU64>>,
    /// Set to stop the run early; completed cycles are kept.
    pub stop: Option<Arc<AtomicBool>>,
    /// Override of the thread-per-component engine's limit on threads.
    pub thread_limit: Option<usize>,
    /// Run components one by one instead of in batches of the same model
    /// (partitioned engine; to measure what batching gains).
    pub one_by_one: bool,
    /// Compile what lowers, or interpret everything (partitioned engine).
    pub codegen: Codegen,
    /// How several workers of the partitioned engine share the cores.
    pub spread: Spread,
    /// The processes engine's children.
    pub processes: ProcessOptions,
    /// This process's rank, for [`Engine::Mpi`].
    pub ranks: Option<exchange::Link>,
    /// Start from this state instead of cycle 0 (see [`crate::checkpoint`]):
    /// the run goes on to the same last cycle as a run from cycle 0
    /// ([`cycles`](Self::cycles) still counts from 0), and its trace starts at
    /// the checkpoint's cycle.
    pub restore: Option<Arc<crate::checkpoint::Checkpoint>>,
    /// Save checkpoints as the run goes.
    pub checkpoints: Option<Checkpointing>,
}

/// Which checkpoints a run saves, and what takes them.
#[derive(Clone)]
pub struct Checkpointing {
    /// When.
    pub schedule: crate::checkpoint::Schedule,
    /// Takes each checkpoint (writes it to a file, say); an error stops
    /// the run.
    pub sink: Arc<dyn Fn(crate::checkpoint::Checkpoint) -> Result<(), String> + Send + Sync>,
}

impl std::fmt::Debug for Checkpointing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointing")
            .field("schedule", &self.schedule)
            .finish_non_exhaustive()
    }
}

/// How the partitioned engine runs several workers' parts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Spread {
    /// Measured as the run goes: each part on its own thread, or all on
    /// one, whichever is faster at the time (a busy core makes threads
    /// wait for each other; so does too little work per phase). A stretch
    /// on threads that falls behind one thread's pace is cut short.
    #[default]
    Adaptive,
    /// Always each part on its own thread.
    Threads,
    /// Always every part on one thread (what the tests use to hold both
    /// ways to the same results).
    OneThread,
    /// Short stretches on threads and on one thread in turn, each on
    /// threads cut short as a slow one is under `Adaptive`: what the tests
    /// use to hold every way a run can change course to the same results.
    Alternate,
}

impl RunOptions {
    fn stop_requested(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    }

    fn report_progress(&self, cycles: u64) {
        if let Some(p) = &self.progress {
            p.store(cycles, Ordering::Relaxed);
        }
    }
}

/// What a run did.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// The engine that ran.
    pub engine: Engine,
    /// Worker threads (partitioned), component threads (threads) or child
    /// processes (processes).
    pub threads: usize,
    /// Cycles in which the partitioned engine ran all its workers' parts on
    /// one thread, having measured that faster then (see
    /// [`RunOptions::threads`]).
    pub one_thread_cycles: u64,
    /// Cycles completed (evaluated and traced).
    pub cycles: u64,
    /// Components simulated.
    pub components: usize,
    /// Wall time of the cycles (loading excluded).
    pub elapsed: Duration,
    /// Whether the run was stopped before its last cycle.
    pub stopped: bool,
    /// What was compiled to machine code, if anything.
    pub compiled: Option<Compiled>,
    /// Something the user should know about how it ran (no code generator
    /// on this machine, say).
    pub note: Option<String>,
    /// What the ranks of [`Engine::Mpi`] sent each other per cycle.
    pub exchanged: Option<Exchanged>,
}

/// The values the ranks of [`Engine::Mpi`] send each other in one cycle,
/// all ranks together (besides one all-reduce of three numbers, which
/// agrees on faults and stops): fixed by the partition, so the same every
/// cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exchanged {
    /// Messages (one per pair of ranks and exchange that has values).
    pub messages: u64,
    /// Bytes of values (8 per net value).
    pub bytes: u64,
}

/// What the compiled engine made of a circuit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Compiled {
    /// Components lowered to machine code (the others were interpreted).
    pub lowered: usize,
    /// Time spent lowering and generating code, before the first cycle.
    pub compile_time: Duration,
}

impl RunSummary {
    /// Simulated cycles per second of wall time.
    pub fn cycles_per_second(&self) -> f64 {
        self.cycles as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A component panicked; the run stopped, completed cycles were traced.
    #[error("component `{path}` (model `{model}`){} panicked during {} of cycle {}: {}", on_rank(*.rank), .fault.phase, .fault.cycle, .fault.message)]
    ComponentPanicked {
        /// Its path.
        path: String,
        /// Its rank, under [`Engine::Mpi`].
        rank: Option<usize>,
        /// Its model.
        model: String,
        /// Where and why.
        fault: Fault,
        /// Cycles evaluated and traced before the run stopped.
        completed: u64,
    },
    /// A component stopped the run with [`fail`](crate::model::fail) (an
    /// `assert` whose condition was false); completed cycles were traced.
    #[error("cycle {cycle}: component `{path}` (model `{model}`){} failed: {message}", on_rank(*.rank))]
    ComponentFailed {
        /// Its path.
        path: String,
        /// Its rank, under [`Engine::Mpi`].
        rank: Option<usize>,
        /// Its model.
        model: String,
        /// The cycle whose values failed the check.
        cycle: u64,
        /// What failed, with the values.
        message: String,
        /// Cycles evaluated and traced before the run stopped.
        completed: u64,
    },
    /// The circuit has more components than the machine can hold as threads.
    #[error(
        "the threads engine needs one thread per component: {components} components exceed this machine's limit of {limit} threads; use --engine partitioned"
    )]
    TooManyThreads {
        /// Components in the circuit.
        components: usize,
        /// Threads the machine allows.
        limit: usize,
    },
    /// The trace's times would pass the largest a trace can hold.
    #[error(
        "{cycles} cycles of {period} time units each pass the largest time a trace can hold (2^64 - 1 units); run fewer cycles, or give the clock a coarser timescale"
    )]
    TimeOverflow {
        /// The cycles asked for.
        cycles: u64,
        /// The trace's clock period, in its time units.
        period: u64,
    },
    /// The circuit needs more processes than the machine allows (refused
    /// before any child starts).
    #[error("{0}")]
    TooManyProcesses(String),
    /// The processes engine could not start its children (before any cycle).
    #[error("{0}")]
    Processes(String),
    /// The ranks of [`Engine::Mpi`] could not run together (none given,
    /// different circuits, a rank gone).
    #[error("{0}")]
    Ranks(String),
    /// A thread could not be started.
    #[error("could not start a thread: {0}")]
    Spawn(std::io::Error),
    /// The trace could not be written.
    #[error("could not write the trace: {0}")]
    Trace(crate::trace::TraceFailure),
    /// A checkpoint could not be saved or restored (see [`crate::checkpoint`]).
    #[error("{0}")]
    Checkpoint(String),
}

/// ` on rank N`, for an error under [`Engine::Mpi`].
fn on_rank(rank: Option<usize>) -> String {
    rank.map(|r| format!(" on rank {r}")).unwrap_or_default()
}

/// Run `circuit`, optionally tracing it.
pub fn run(
    circuit: Circuit,
    options: &RunOptions,
    trace: Option<Trace>,
) -> Result<RunSummary, RunError> {
    let names: Vec<(String, String)> = circuit
        .components
        .iter()
        .map(|c| (c.path.clone(), c.model.clone()))
        .collect();
    let total = options.cycles.unwrap_or(circuit.cycles);
    let components = circuit.components.len();
    if let Some(trace) = &trace {
        trace_fits(total, trace.plan.period)?;
    }
    let first = options.restore.as_ref().map_or(0, |c| c.cycle);
    if let Some(saved) = &options.restore {
        saved.check(&circuit).map_err(|why| {
            RunError::Checkpoint(format!("the checkpoint does not fit this circuit: {why}"))
        })?;
        if first > total {
            return Err(RunError::Checkpoint(format!(
                "the checkpoint is of cycle {first}, past the run's last cycle ({total})"
            )));
        }
    }
    let cycles = total - first;
    let fingerprint = options.checkpoints.as_ref().map(|_| {
        (
            crate::checkpoint::fingerprint(&circuit),
            circuit.name.clone(),
        )
    });
    let mut trace = trace;
    if let Some(trace) = &mut trace {
        trace.sink.start_at(first);
    }
    let mut circuit = circuit;
    let children = match options.engine {
        Engine::Processes => processes::start(&mut circuit, options)?.len(),
        _ => 0,
    };
    let tracer = trace
        .map(crate::trace::Tracer::spawn)
        .transpose()
        .map_err(RunError::Spawn)?;
    let started = Instant::now();
    let (mut rank, mut exchanged) = (None, None);
    let sink = |cycle: u64, states: Vec<partitioned::checkpoint::Saved>| {
        let (Some(to), Some((fingerprint, circuit))) = (&options.checkpoints, &fingerprint) else {
            return Ok(());
        };
        let components = names
            .iter()
            .zip(states)
            .map(|((path, model), (registered, state))| {
                let state = state.ok_or_else(|| {
                    let (path, model) = (path.clone(), model.clone());
                    crate::checkpoint::CheckpointError::Unsupported { path, model }.to_string()
                })?;
                Ok(crate::checkpoint::ComponentState {
                    path: path.clone(),
                    model: model.clone(),
                    registered,
                    state,
                })
            });
        let checkpoint = crate::checkpoint::Checkpoint {
            components: components.collect::<Result<_, String>>()?,
            ..crate::checkpoint::Checkpoint::header(circuit, fingerprint, cycle)
        };
        (to.sink)(checkpoint)
    };
    let start = partitioned::Start {
        restore: options.restore.as_deref(),
        save: options.checkpoints.as_ref().map(|c| {
            let sink: partitioned::checkpoint::Sink<'_> = &sink;
            (&c.schedule, sink)
        }),
        names: &names,
    };
    let outcome = match options.engine {
        Engine::Partitioned => {
            let workers = options.threads.unwrap_or_else(|| default_workers(&circuit));
            partitioned::run(circuit, cycles, workers.max(1), options, (tracer, &start))
        }
        Engine::Threads => threads::run(circuit, cycles, options, (tracer, &start)),
        Engine::Processes => {
            // The parent runs the schedule on one worker; the children
            // of a batch compute at once.
            let options = RunOptions {
                codegen: Codegen::Interpret,
                ..options.clone()
            };
            let workers = options.threads.unwrap_or(1).max(1);
            partitioned::run(circuit, cycles, workers, &options, (tracer, &start))
        }
        Engine::Mpi => {
            let link = options.ranks.as_ref().ok_or_else(|| {
                RunError::Ranks(
                    "the mpi engine runs under `mpirun -n R` (in a build with `--features mpi`)"
                        .into(),
                )
            })?;
            let (outcome, fault_rank, sent) =
                partitioned::ranked::run(circuit, cycles, options, (tracer, &start), link)?;
            (rank, exchanged) = (fault_rank, Some(sent));
            Ok(outcome)
        }
    }?;
    // The cycles' time, where the engine measured it (setting up, and
    // generating code, before cycle 0 are not part of it).
    let elapsed = outcome.elapsed.unwrap_or_else(|| started.elapsed());
    options.report_progress(outcome.cycles);
    if let Some(mut fault) = outcome.fault {
        fault.cycle += first;
        let (path, model) = names[fault.component].clone();
        if fault.kind == FaultKind::Failed {
            return Err(RunError::ComponentFailed {
                path,
                rank,
                model,
                cycle: fault.cycle,
                message: fault.message,
                completed: outcome.cycles,
            });
        }
        return Err(RunError::ComponentPanicked {
            path,
            rank,
            model,
            fault,
            completed: outcome.cycles,
        });
    }
    outcome.trace.map_err(RunError::Trace)?;
    Ok(RunSummary {
        engine: options.engine,
        threads: if options.engine == Engine::Processes {
            children
        } else {
            outcome.threads
        },
        one_thread_cycles: outcome.one_thread,
        cycles: outcome.cycles,
        components,
        elapsed,
        stopped: outcome.cycles < cycles,
        compiled: outcome.compiled,
        note: outcome.note,
        exchanged,
    })
}

/// Whether `cycles` cycles of `period` time units fit a trace: the last
/// timestamp is at `cycles × period`, and a falling clock edge half a
/// period later.
pub fn trace_fits(cycles: u64, period: u64) -> Result<(), RunError> {
    match cycles.checked_add(1).and_then(|c| c.checked_mul(period)) {
        Some(_) => Ok(()),
        None => Err(RunError::TimeOverflow { cycles, period }),
    }
}

/// What an engine reports back.
struct Outcome {
    cycles: u64,
    threads: usize,
    fault: Option<Fault>,
    trace: Result<(), crate::trace::TraceFailure>,
    compiled: Option<Compiled>,
    note: Option<String>,
    /// The time of the cycles alone, if the engine measured it.
    elapsed: Option<Duration>,
    /// Cycles run with every partition on one thread.
    one_thread: u64,
}

/// Components per worker below which another worker costs more in
/// synchronisation than it gains.
const COMPONENTS_PER_WORKER: usize = 2048;

/// Worker threads for the partitioned engine: one per core, but no more
/// than the circuit can keep busy.
pub fn default_workers(circuit: &Circuit) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores
        .min(circuit.components.len() / COMPONENTS_PER_WORKER)
        .max(1)
}

/// Finish a trace, if any, after a run.
fn finish_trace(tracer: Option<crate::trace::Tracer>) -> Result<(), crate::trace::TraceFailure> {
    tracer.map_or(Ok(()), crate::trace::Tracer::finish)
}
