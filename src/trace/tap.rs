//! Taps: things that watch every row a trace records, beside (or instead
//! of) a trace file, on the writer thread. `run --json` keeps the last row
//! ([`LastRow`](super::LastRow)); `run --stats` counts each net's activity
//! ([`NetStats`](super::NetStats)). A run without them has no tap at all.

use std::io;

use super::plan::TracePlan;
use super::{Trace, TraceSink};

/// Something that watches rows. Its results leave through a handle it
/// shares with whoever made it, when it is dropped (however the run ends).
pub trait Tap: Send {
    /// The next cycle's row.
    fn row(&mut self, values: &[u64]);
}

/// A sink that shows every row to its taps and passes it on to `inner`.
struct Tapped {
    inner: Option<Box<dyn TraceSink>>,
    taps: Vec<Box<dyn Tap>>,
}

impl TraceSink for Tapped {
    fn cycle(&mut self, values: &[u64]) -> io::Result<()> {
        for tap in &mut self.taps {
            tap.row(values);
        }
        match &mut self.inner {
            Some(inner) => inner.cycle(values),
            None => Ok(()),
        }
    }

    fn start_at(&mut self, cycle: u64) {
        if let Some(inner) = &mut self.inner {
            inner.start_at(cycle);
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Some(inner) => inner.finish(),
            None => Ok(()),
        }
    }

    fn held(&self) -> super::Held {
        self.inner.as_ref().map(|i| i.held()).unwrap_or_default()
    }
}

impl Trace {
    /// This trace, its rows also shown to `taps` (none: unchanged).
    pub fn tapped(self, taps: Vec<Box<dyn Tap>>) -> Self {
        if taps.is_empty() {
            return self;
        }
        Trace {
            plan: self.plan,
            sink: Box::new(Tapped {
                inner: Some(self.sink),
                taps,
            }),
        }
    }

    /// No file: the rows of the signals `plan` lays out, shown to `taps`.
    pub fn taps_only(plan: TracePlan, taps: Vec<Box<dyn Tap>>) -> Self {
        Trace {
            plan,
            sink: Box::new(Tapped { inner: None, taps }),
        }
    }
}
