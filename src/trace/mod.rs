//! Tracing: which signals are recorded ([`select`], [`TracePlan`]), the
//! writers that record them ([`VcdWriter`]), and the [`Tracer`] that moves
//! sampled rows to a writer thread so that formatting and I/O stay off the
//! simulation threads; [`gtkw`] save files that open a trace pre-arranged.

pub mod diff;
mod fst;
pub mod gtkw;
mod last;
mod plan;
pub mod read;
pub mod read_fst;
mod select;
mod stats;
mod tap;
mod vcd;

use std::io;
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Receiver, Sender};

pub use self::fst::FstWriter;
pub use self::vcd::VcdWriter;
pub use last::{FinalValue, LastRow};
pub use plan::{written_clock, Scope, TracePlan, Var, VarSource};
pub use select::{select, Port, Selection};
pub use stats::{table as stats_table, NetStats, StatsOut};
pub use tap::Tap;

/// Something that records a run cycle by cycle.
pub trait TraceSink: Send {
    /// Record the next cycle's row (the values of the plan's row nets).
    fn cycle(&mut self, values: &[u64]) -> io::Result<()>;
    /// The first row is of cycle `cycle`, not 0 (a run restored from a
    /// checkpoint): times count from there.
    fn start_at(&mut self, _cycle: u64) {}
    /// The run is over: close the trace and flush it.
    fn finish(&mut self) -> io::Result<()>;
    /// What is safely written so far (after an error: what the trace holds).
    fn held(&self) -> Held {
        Held::default()
    }
}

/// What a trace holds once written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Held {
    /// Whole cycles written.
    pub cycles: u64,
    /// The bytes of the file that hold them (a file cut there ends at a
    /// cycle boundary), where the format allows it.
    pub bytes: Option<u64>,
}

/// A trace that could not be written, and what it holds.
#[derive(Debug, thiserror::Error)]
#[error("{error}; the trace holds the first {} cycles", held.cycles)]
pub struct TraceFailure {
    /// Why.
    pub error: io::Error,
    /// What was written before it.
    pub held: Held,
}

/// A trace to take during a run: what to sample and where it goes.
pub struct Trace {
    /// The layout.
    pub plan: TracePlan,
    /// The writer.
    pub sink: Box<dyn TraceSink>,
}

impl Trace {
    /// A VCD trace of the signals of `circuit` that `patterns` select,
    /// written to `out` (buffer it: the header is many small writes; value changes go
    /// out in blocks of 64 KiB). Writes the header now.
    pub fn vcd(
        circuit: &crate::Circuit,
        patterns: &[String],
        out: impl io::Write + Send + 'static,
    ) -> io::Result<Self> {
        let plan = TracePlan::new(circuit, patterns);
        let sink = VcdWriter::new(out, &plan)?;
        Ok(Trace {
            plan,
            sink: Box::new(sink),
        })
    }

    /// An FST trace of the signals `patterns` select, written to `path`.
    pub fn fst(
        circuit: &crate::Circuit,
        patterns: &[String],
        path: &std::path::Path,
    ) -> io::Result<Self> {
        let plan = TracePlan::new(circuit, patterns);
        let sink = FstWriter::create(path, &plan)?;
        Ok(Trace {
            plan,
            sink: Box::new(sink),
        })
    }
}

/// Rows sampled per block handed to the writer thread (at least one row).
const BLOCK_VALUES: usize = 1 << 14;

struct Block {
    values: Vec<u64>,
    rows: usize,
}

/// The simulation side of a trace: fill rows with [`row`](Tracer::row);
/// full blocks go to a writer thread through a bounded channel.
pub struct Tracer {
    nets: Vec<crate::circuit::PortRef>,
    width: usize,
    rows_per_block: usize,
    block: Block,
    full: Option<Sender<Block>>,
    empty: Receiver<Block>,
    writer: Option<JoinHandle<Result<(), TraceFailure>>>,
    broken: bool,
}

impl Tracer {
    /// Start a writer thread for `trace`.
    pub fn spawn(trace: Trace) -> io::Result<Self> {
        let width = trace.plan.row.len();
        let rows_per_block = (BLOCK_VALUES / width.max(1)).max(1);
        let (full_tx, full_rx) = bounded::<Block>(4);
        let (empty_tx, empty_rx) = bounded::<Block>(8);
        for _ in 0..4 {
            let _ = empty_tx.try_send(Block {
                values: Vec::with_capacity(rows_per_block * width),
                rows: 0,
            });
        }
        let nets = trace.plan.row.clone();
        let mut sink = trace.sink;
        let writer = std::thread::Builder::new()
            .name("trace-writer".into())
            .spawn(move || -> Result<(), TraceFailure> {
                let failed = |error, sink: &dyn TraceSink| TraceFailure {
                    error,
                    held: sink.held(),
                };
                for mut block in full_rx {
                    for r in 0..block.rows {
                        // On an error, returning drops the return channel,
                        // which tells the simulation to stop.
                        let row = &block.values[r * width..(r + 1) * width];
                        sink.cycle(row).map_err(|e| failed(e, &*sink))?;
                    }
                    block.values.clear();
                    block.rows = 0;
                    let _ = empty_tx.try_send(block);
                }
                sink.finish().map_err(|e| failed(e, &*sink))
            })?;
        Ok(Tracer {
            nets,
            width,
            rows_per_block,
            block: Block {
                values: Vec::with_capacity(rows_per_block * width),
                rows: 0,
            },
            full: Some(full_tx),
            empty: empty_rx,
            writer: Some(writer),
            broken: false,
        })
    }

    /// The nets sampled into each row, in order.
    pub fn nets(&self) -> &[crate::circuit::PortRef] {
        &self.nets
    }

    /// The next cycle's row, to fill with the row nets' values.
    #[inline]
    pub fn row(&mut self) -> &mut [u64] {
        if self.block.rows == self.rows_per_block {
            self.send();
        }
        let start = self.block.values.len();
        self.block.values.resize(start + self.width, 0);
        self.block.rows += 1;
        &mut self.block.values[start..]
    }

    /// Take back the last row (its cycle did not complete).
    pub fn discard_last_row(&mut self) {
        if self.block.rows > 0 {
            self.block.rows -= 1;
            self.block.values.truncate(self.block.rows * self.width);
        }
    }

    fn send(&mut self) {
        let fresh = self.empty.recv().unwrap_or_else(|_| {
            self.broken = true;
            Block {
                values: Vec::with_capacity(self.rows_per_block * self.width),
                rows: 0,
            }
        });
        let full = std::mem::replace(&mut self.block, fresh);
        if let Some(tx) = &self.full {
            if tx.send(full).is_err() {
                self.broken = true;
            }
        }
    }

    /// Whether the writer has failed (the run should stop; [`finish`](Self::finish) says why).
    #[inline]
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Send what is left, close the trace and wait for the writer.
    pub fn finish(mut self) -> Result<(), TraceFailure> {
        if self.block.rows > 0 {
            self.send();
        }
        self.full = None;
        match self.writer.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(TraceFailure {
                error: io::Error::other("the trace writer panicked"),
                held: Held::default(),
            }),
            None => Ok(()),
        }
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        self.full = None;
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}
