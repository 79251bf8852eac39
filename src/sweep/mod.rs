//! Sweeps: one circuit run over a [`Grid`] of parameters and seeds, the
//! runs in parallel on a rayon pool, each run's collected signals kept as
//! a [`Row`]. The rows come back in grid order whatever the number of jobs,
//! and each run's seed derives from the sweep's seed and the run's index,
//! so a sweep's table is the same on any number of cores; and any row is
//! reproduced alone by `cspsim run --seed SEED --param …` with its values.
//!
//! ```no_run
//! use cspsim::sweep::{Axis, Grid, Sweep};
//! let grid = Grid::new(vec![Axis::parse("fifo_depth=2,4,8").unwrap()], 5, 0).unwrap();
//! let mut sweep = Sweep::new("circuits/detector_readout.ron", grid);
//! sweep.collect = vec!["readouts.q".into()];
//! let done = sweep.run(&cspsim::Registry::standard()).unwrap();
//! print!("{}", cspsim::sweep::table::csv(&sweep.grid, &done.rows));
//! ```

pub mod grid;
pub mod ranks;
pub mod table;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

pub use grid::{Axis, Grid, GridError, RunPoint};

use crate::engine::{self, RunError, RunOptions};
use crate::netlist::{self, LoadError, LoadOptions};
use crate::params::ParamValue;
use crate::registry::Registry;
use crate::trace::{FinalValue, LastRow, StatsOut, Trace, TracePlan, VarSource};
use crate::value::PortType;
use crate::Circuit;

/// A sweep to run.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The circuit file.
    pub circuit: PathBuf,
    /// How to load it: composite model directories, fixed parameters, the
    /// component limit. Its seed is not used (each run has its own).
    pub load: LoadOptions,
    /// The runs.
    pub grid: Grid,
    /// Signals to collect (`hits.q`, `col[*].fifo.dropped`).
    pub collect: Vec<String>,
    /// How each run runs: engine, code generation, cycles, and its worker
    /// threads (`None`: the cores the parallel runs leave it).
    pub run: RunOptions,
    /// Runs at once (`None`: one per core).
    pub jobs: Option<usize>,
    /// Stop at the first run that fails.
    pub fail_fast: bool,
    /// Set to stop: runs under way stop, and no new one starts.
    pub stop: Option<Arc<AtomicBool>>,
    /// Counts the runs finished, as they finish.
    pub done: Option<Arc<AtomicU64>>,
    /// `(k, n)`: run only the runs whose index is `k` modulo `n` (one
    /// rank's share of a sweep over `n` ranks); `(0, 1)` runs them all.
    pub share: (u64, u64),
}

/// Why a sweep cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The grid is malformed.
    #[error(transparent)]
    Grid(#[from] GridError),
    /// The circuit does not load at one of the grid's points.
    #[error("{error}\n(at {point})")]
    Load {
        /// The point, as `name=value, …`.
        point: String,
        /// Why.
        error: LoadError,
    },
    /// A collected pattern selects nothing at one of the grid's points.
    #[error("--collect `{pattern}` selects no signal{at} (signals are named component.port, e.g. `{example}.*`)")]
    Collect {
        /// The pattern.
        pattern: String,
        /// ` at name=value, …`, or nothing when the grid has one point.
        at: String,
        /// A component to show in the example.
        example: String,
    },
    /// The circuit file cannot be swept.
    #[error("{0}")]
    Circuit(String),
    /// The rayon pool could not start.
    #[error("could not start the sweep's threads: {0}")]
    Pool(#[from] rayon::ThreadPoolBuildError),
}

/// What the grid's circuit is, once every point has loaded.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The circuit's name.
    pub name: String,
    /// The files it reads, at any point (outputs must not overwrite them).
    pub inputs: Vec<PathBuf>,
    /// Cycles per run.
    pub cycles: u64,
    /// Runs at once.
    pub jobs: usize,
    /// Worker threads per run.
    pub workers: usize,
}

/// What checking one point of the grid found.
struct Point {
    inputs: Vec<PathBuf>,
    workers: usize,
    cycles: u64,
    name: String,
}

/// One run's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The run: its index, point and seed.
    pub run: RunPoint,
    /// Cycles completed.
    pub cycles: u64,
    /// How it failed, if it did.
    pub failure: Option<Failure>,
    /// The collected signals, in trace order.
    pub signals: Vec<Collected>,
}

/// How a run failed.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// `failed` (a check such as `assert`), `panicked`, or `error`.
    pub kind: &'static str,
    /// The cycle it failed in, where one did.
    pub cycle: Option<u64>,
    /// The component, where one did.
    pub component: Option<String>,
    /// The whole message, as `cspsim run` prints it.
    pub message: String,
}

/// A collected signal's final value and statistics over a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Collected {
    /// `component.port`.
    pub name: String,
    /// Its type.
    pub ty: PortType,
    /// Its value in the last completed cycle.
    pub last: FinalValue,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean value.
    pub mean: f64,
    /// Cycles at 1, for a one-bit signal.
    pub ones: Option<u64>,
}

/// A finished (or stopped) sweep.
#[derive(Clone, Debug)]
pub struct Done {
    /// The rows of the runs that finished, in grid order.
    pub rows: Vec<Row>,
    /// What the circuit was.
    pub checked: Checked,
    /// Whether the sweep was stopped (by `stop`) before every run finished.
    pub interrupted: bool,
    /// Whether `fail_fast` stopped it.
    pub failed_fast: bool,
    /// Wall time of the runs (checking the grid excluded).
    pub elapsed: Duration,
}

impl Sweep {
    /// A sweep of the circuit in `circuit` over `grid`, collecting nothing,
    /// with default options.
    pub fn new(circuit: impl Into<PathBuf>, grid: Grid) -> Self {
        Sweep {
            circuit: circuit.into(),
            load: LoadOptions::default(),
            grid,
            collect: Vec::new(),
            run: RunOptions::default(),
            jobs: None,
            fail_fast: false,
            stop: None,
            done: None,
            share: (0, 1),
        }
    }

    /// The indices of the runs this sweep runs (its share of the grid).
    pub fn indices(&self) -> impl Iterator<Item = u64> {
        let (k, n) = (self.share.0, self.share.1.max(1));
        (k..self.grid.runs()).step_by(n as usize)
    }

    /// Load the circuit at every point of the grid (in parallel), so that
    /// a bad value anywhere is found before any run starts.
    pub fn check(&self, registry: &Registry) -> Result<Checked, SweepError> {
        if self.circuit.as_os_str() == "-" {
            return Err(SweepError::Circuit(
                "a sweep loads its circuit once per run; give it a file, not standard input"
                    .to_string(),
            ));
        }
        let jobs = self.jobs();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build()?;
        let points = self.grid.points();
        let first_seed = self.grid.run(0).seed;
        let loaded: Vec<Result<Point, SweepError>> = pool.install(|| {
            (0..points)
                .into_par_iter()
                .map(|p| self.check_point(registry, p, first_seed))
                .collect()
        });
        let mut inputs = Vec::new();
        let (mut name, mut cycles, mut fit) = (String::new(), 0, usize::MAX);
        // The first bad point in grid order, whatever order they loaded in.
        for point in loaded {
            let point = point?;
            inputs.extend(point.inputs);
            fit = fit.min(point.workers);
            (name, cycles) = (point.name, cycles.max(point.cycles));
        }
        inputs.sort();
        inputs.dedup();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let at_once = (jobs as u64).min(self.indices().count() as u64).max(1) as usize;
        let workers = self
            .run
            .threads
            .unwrap_or_else(|| fit.min(cores / at_once).max(1));
        Ok(Checked {
            name,
            inputs,
            cycles,
            jobs,
            workers,
        })
    }

    /// Check the grid, then run every run; a run that fails is a row with
    /// its failure, and the others go on (unless `fail_fast`).
    pub fn run(&self, registry: &Registry) -> Result<Done, SweepError> {
        let checked = self.check(registry)?;
        self.run_checked(registry, checked)
    }

    /// Run every run of a grid [`check`](Self::check) found good.
    pub fn run_checked(&self, registry: &Registry, checked: Checked) -> Result<Done, SweepError> {
        self.run_in_rounds(registry, checked, None, |stop| stop)
    }

    /// Run this sweep's share in rounds of `round` runs (`None`: one round
    /// of all). After each round, on the calling thread, `sync` is told
    /// whether this process stops and answers whether every process does;
    /// across MPI ranks, it asks them all, so a failure under `fail_fast`
    /// stops every rank at its next round. Every rank has the same number
    /// of rounds (the last may be empty), so each calls `sync` as often.
    pub fn run_in_rounds(
        &self,
        registry: &Registry,
        checked: Checked,
        round: Option<u64>,
        mut sync: impl FnMut(bool) -> bool,
    ) -> Result<Done, SweepError> {
        let pool = match rayon::ThreadPoolBuilder::new()
            .num_threads(checked.jobs)
            .build()
        {
            Ok(pool) => pool,
            Err(e) => {
                // The other ranks are in their first round: stop them too.
                let _ = sync(true);
                return Err(e.into());
            }
        };
        let stop = self.stop.clone().unwrap_or_default();
        let failed_fast = AtomicBool::new(false);
        let started = Instant::now();
        let indices: Vec<u64> = self.indices().collect();
        // The largest share any rank has.
        let most = self.grid.runs().div_ceil(self.share.1.max(1)).max(1);
        let round = round.unwrap_or(most).max(1);
        let mut rows: Vec<Option<Row>> = Vec::with_capacity(indices.len());
        for r in 0..most.div_ceil(round) {
            let from = (r * round).min(indices.len() as u64) as usize;
            let to = ((r + 1) * round).min(indices.len() as u64) as usize;
            let part: Vec<Option<Row>> = pool.install(|| {
                indices[from..to]
                    .par_iter()
                    .map(|&index| {
                        if stop.load(Ordering::Relaxed) {
                            return None;
                        }
                        let run = self.grid.run(index);
                        let row = self.run_one(registry, &run, checked.workers, &stop)?;
                        if self.fail_fast && row.failure.is_some() {
                            failed_fast.store(true, Ordering::Relaxed);
                            stop.store(true, Ordering::Relaxed);
                        }
                        if let Some(done) = &self.done {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Some(row)
                    })
                    .collect()
            });
            rows.extend(part);
            if sync(stop.load(Ordering::Relaxed)) {
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
        let elapsed = started.elapsed();
        let failed_fast = failed_fast.load(Ordering::Relaxed);
        let rows: Vec<Row> = rows.into_iter().flatten().collect();
        let interrupted = !failed_fast && rows.len() != indices.len();
        Ok(Done {
            rows,
            checked,
            interrupted,
            failed_fast,
            elapsed,
        })
    }

    /// Load the circuit at point `p`, and check the collected patterns there.
    fn check_point(&self, registry: &Registry, p: u64, seed: u64) -> Result<Point, SweepError> {
        let params = self.grid.point(p);
        let circuit = self
            .load(registry, &params, seed)
            .map_err(|error| SweepError::Load {
                point: describe(&params),
                error,
            })?;
        self.check_collect(&circuit, &params)?;
        Ok(Point {
            workers: engine::default_workers(&circuit),
            cycles: self.run.cycles.unwrap_or(circuit.cycles),
            inputs: circuit.inputs,
            name: circuit.name,
        })
    }

    fn jobs(&self) -> usize {
        self.jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1)
    }

    fn load(
        &self,
        registry: &Registry,
        params: &[(String, ParamValue)],
        seed: u64,
    ) -> Result<Circuit, LoadError> {
        let mut options = self.load.clone();
        options.seed = seed;
        options.params.extend_from_slice(params);
        netlist::load_file_with(&self.circuit, registry, &options)
    }

    fn check_collect(
        &self,
        circuit: &Circuit,
        params: &[(String, ParamValue)],
    ) -> Result<(), SweepError> {
        let (_, unused) = crate::trace::select(&circuit.components, &self.collect);
        match unused.first() {
            Some(&k) => Err(SweepError::Collect {
                pattern: self.collect[k].clone(),
                at: if self.grid.points() > 1 {
                    format!(" at {}", describe(params))
                } else {
                    String::new()
                },
                example: circuit
                    .components
                    .first()
                    .map_or("cnt".to_string(), |c| c.path.clone()),
            }),
            None => Ok(()),
        }
    }

    /// One run; `None` if `stop` stopped it before its last cycle.
    fn run_one(
        &self,
        registry: &Registry,
        run: &RunPoint,
        workers: usize,
        stop: &Arc<AtomicBool>,
    ) -> Option<Row> {
        let failed = |failure: Failure| Row {
            run: run.clone(),
            cycles: 0,
            failure: Some(failure),
            signals: Vec::new(),
        };
        let circuit = match self.load(registry, &run.params, run.seed) {
            Ok(circuit) => circuit,
            // Checked already; a data file that changed since, say.
            Err(e) => {
                return Some(failed(Failure {
                    kind: "error",
                    cycle: None,
                    component: None,
                    message: e.to_string(),
                }))
            }
        };
        let plan = TracePlan::new(&circuit, &self.collect);
        let (last, stats) = (LastRow::default(), StatsOut::default());
        let trace = (!self.collect.is_empty())
            .then(|| Trace::taps_only(plan.clone(), vec![last.tap(), stats.tap(&circuit, &plan)]));
        let options = RunOptions {
            threads: Some(workers),
            stop: Some(Arc::clone(stop)),
            progress: None,
            ..self.run.clone()
        };
        let result = engine::run(circuit, &options, trace);
        let (cycles, failure) = match result {
            Ok(summary) if summary.stopped => return None,
            Ok(summary) => (summary.cycles, None),
            Err(e) => (completed(&e), Some(failure(&e))),
        };
        Some(Row {
            run: run.clone(),
            cycles,
            failure,
            signals: collected(&plan, &last, &stats.in_row_order(), cycles, &self.collect),
        })
    }
}

/// `rate=0.01, threshold=80`, or `the only point` for a grid without axes.
pub fn describe(params: &[(String, ParamValue)]) -> String {
    if params.is_empty() {
        return "the grid's only point".to_string();
    }
    params
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn completed(e: &RunError) -> u64 {
    match e {
        RunError::ComponentPanicked { completed, .. }
        | RunError::ComponentFailed { completed, .. } => *completed,
        RunError::Trace(failure) => failure.held.cycles,
        _ => 0,
    }
}

/// The `kind` of a [`Failure`] named `name` (as it travelled between ranks).
#[cfg(feature = "mpi")]
pub(crate) fn failure_kind(name: &str) -> &'static str {
    ["failed", "panicked"]
        .into_iter()
        .find(|k| *k == name)
        .unwrap_or("error")
}

fn failure(e: &RunError) -> Failure {
    let (kind, cycle, component) = match e {
        RunError::ComponentFailed { path, cycle, .. } => {
            ("failed", Some(*cycle), Some(path.clone()))
        }
        RunError::ComponentPanicked { path, fault, .. } => {
            ("panicked", Some(fault.cycle), Some(path.clone()))
        }
        _ => ("error", None, None),
    };
    Failure {
        kind,
        cycle,
        component,
        message: e.to_string(),
    }
}

/// Each collected signal, in the order of the patterns that select them
/// (and in trace order for one pattern): its last value with the
/// statistics of the net it shows.
fn collected(
    plan: &TracePlan,
    last: &LastRow,
    stats: &[crate::trace::NetStats],
    cycles: u64,
    patterns: &[String],
) -> Vec<Collected> {
    let finals = last.values(plan);
    let vars = plan
        .scopes
        .iter()
        .flat_map(|s| s.vars.iter().map(move |v| (s, v)));
    let patterns: Vec<wildmatch::WildMatch> = patterns
        .iter()
        .map(|p| wildmatch::WildMatch::new(p))
        .collect();
    let rank = |path: &str, name: &str| {
        patterns
            .iter()
            .position(|p| p.matches(name) || p.matches(path))
            .unwrap_or(usize::MAX)
    };
    let mut signals: Vec<(usize, Collected)> = vars
        .zip(finals)
        .map(|((scope, var), (_, value))| {
            let one_bit = var.ty == PortType::Bits(1);
            let (min, max, mean, ones) = match var.source {
                VarSource::Row(k) => match stats.get(k) {
                    Some(s) => (s.min, s.max, s.mean, s.ones),
                    None => (0.0, 0.0, 0.0, 0),
                },
                VarSource::Constant(v) => {
                    let x = match var.ty {
                        PortType::Real => f64::from_bits(v),
                        PortType::Bits(_) => v as f64,
                    };
                    (x, x, x, u64::from(v.count_ones()) * cycles)
                }
            };
            let name = format!("{}.{}", scope.path, var.name);
            let signal = Collected {
                ty: var.ty,
                last: value,
                min,
                max,
                mean,
                ones: one_bit.then_some(ones),
                name,
            };
            (rank(&scope.path, &signal.name), signal)
        })
        .collect();
    // Stable: trace order within a pattern.
    signals.sort_by_key(|(rank, _)| *rank);
    signals.into_iter().map(|(_, s)| s).collect()
}
