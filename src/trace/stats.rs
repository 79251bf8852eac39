//! Per-net activity, as SST users read it and power estimates start from:
//! for every traced net, its toggles (bits that changed, cycle to cycle),
//! the fraction of cycles it changed, its ones-density, and its minimum,
//! maximum and mean. Counters a model keeps are its output ports (a FIFO's
//! `count`, `dropped`; a bus's `valid`), so their statistics are these: a
//! FIFO's occupancy is its `count`'s maximum and mean, a bus's utilisation
//! its `valid`'s ones-density.

use std::sync::{Arc, Mutex};

use super::plan::TracePlan;
use super::tap::Tap;
use crate::value::PortType;
use crate::Circuit;

/// One net's activity over a run.
#[derive(Clone, Debug, PartialEq)]
pub struct NetStats {
    /// The net, named by its driver (`component.port`).
    pub name: String,
    /// Its type.
    pub ty: PortType,
    /// Cycles observed.
    pub cycles: u64,
    /// Cycles in which its value differed from the cycle before.
    pub changes: u64,
    /// Bits that flipped, summed over cycles (0 for reals).
    pub toggles: u64,
    /// Bits at 1, summed over cycles (0 for reals).
    pub ones: u64,
    /// Smallest value (reals as numbers).
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean value.
    pub mean: f64,
}

impl NetStats {
    /// Fraction of cycles (after the first) in which the net changed.
    pub fn activity(&self) -> f64 {
        self.changes as f64 / self.cycles.saturating_sub(1).max(1) as f64
    }

    /// Fraction of bit-cycles at 1: for a one-bit net, the fraction of
    /// cycles it was 1; `None` for a real.
    pub fn ones_density(&self) -> Option<f64> {
        match self.ty {
            PortType::Bits(w) => {
                Some(self.ones as f64 / (f64::from(w) * self.cycles.max(1) as f64))
            }
            PortType::Real => None,
        }
    }
}

/// Running totals of one row entry.
#[derive(Clone)]
struct Totals {
    changes: u64,
    toggles: u64,
    ones: u64,
    min: f64,
    max: f64,
    sum: f64,
}

/// Where the statistics go when the run is over.
#[derive(Clone, Default)]
pub struct StatsOut(Arc<Mutex<Vec<NetStats>>>);

impl StatsOut {
    /// The statistics, busiest first (most changes, then most toggles,
    /// then by name); empty before the run ends.
    pub fn sorted(&self) -> Vec<NetStats> {
        let mut stats = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        stats.sort_by(|a, b| {
            b.changes
                .cmp(&a.changes)
                .then(b.toggles.cmp(&a.toggles))
                .then(a.name.cmp(&b.name))
        });
        stats
    }
}

impl StatsOut {
    /// The statistics in the order of the trace's row (entry `k` is the
    /// net of [`VarSource::Row(k)`](super::VarSource::Row)); empty before
    /// the run ends.
    pub fn in_row_order(&self) -> Vec<NetStats> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The tap counting the activity of every net of a trace's row.
struct Collect {
    names: Vec<String>,
    types: Vec<PortType>,
    totals: Vec<Totals>,
    prev: Vec<u64>,
    cycles: u64,
    out: StatsOut,
}

impl Tap for Collect {
    fn row(&mut self, values: &[u64]) {
        for (k, (&v, t)) in values.iter().zip(&mut self.totals).enumerate() {
            let x = match self.types[k] {
                PortType::Real => f64::from_bits(v),
                PortType::Bits(_) => v as f64,
            };
            if self.cycles > 0 && v != self.prev[k] {
                t.changes += 1;
                if let PortType::Bits(_) = self.types[k] {
                    t.toggles += u64::from((v ^ self.prev[k]).count_ones());
                }
            }
            if let PortType::Bits(_) = self.types[k] {
                t.ones += u64::from(v.count_ones());
            }
            t.min = t.min.min(x);
            t.max = t.max.max(x);
            t.sum += x;
            self.prev[k] = v;
        }
        self.cycles += 1;
    }
}

impl Drop for Collect {
    // However the run ends, the cycles observed are counted.
    fn drop(&mut self) {
        let cycles = self.cycles;
        let stats = self
            .names
            .iter()
            .zip(&self.types)
            .zip(&self.totals)
            .map(|((name, ty), t)| NetStats {
                name: name.clone(),
                ty: *ty,
                cycles,
                changes: t.changes,
                toggles: t.toggles,
                ones: t.ones,
                min: if cycles == 0 { 0.0 } else { t.min },
                max: if cycles == 0 { 0.0 } else { t.max },
                mean: t.sum / cycles.max(1) as f64,
            })
            .collect();
        *self.out.0.lock().unwrap_or_else(|e| e.into_inner()) = stats;
    }
}

impl StatsOut {
    /// A tap counting the activity of each net in `plan`'s row, named by
    /// its driver in `circuit`.
    pub fn tap(&self, circuit: &Circuit, plan: &TracePlan) -> Box<dyn Tap> {
        let names = plan
            .row
            .iter()
            .map(|r| circuit.components[r.component].output_name(r.port))
            .collect();
        let start = Totals {
            changes: 0,
            toggles: 0,
            ones: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: 0.0,
        };
        Box::new(Collect {
            names,
            types: plan.row_types.clone(),
            totals: vec![start; plan.row.len()],
            prev: vec![0; plan.row.len()],
            cycles: 0,
            out: self.clone(),
        })
    }
}

/// The statistics as a table, busiest first.
pub fn table(stats: &[NetStats]) -> String {
    use std::fmt::Write as _;
    let width = stats.iter().map(|s| s.name.len()).max().unwrap_or(3).max(3);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:width$}  {:>6}  {:>10}  {:>8}  {:>7}  {:>12}  {:>12}  {:>12}",
        "net", "type", "toggles", "changed", "ones", "min", "max", "mean"
    );
    for s in stats {
        let ty = match s.ty {
            PortType::Bits(w) => format!("{w}b"),
            PortType::Real => "real".to_string(),
        };
        let ones = s
            .ones_density()
            .map_or("-".to_string(), |d| format!("{:.1}%", 100.0 * d));
        let _ = writeln!(
            out,
            "{:width$}  {ty:>6}  {:>10}  {:>7.1}%  {ones:>7}  {:>12}  {:>12}  {:>12}",
            s.name,
            s.toggles,
            100.0 * s.activity(),
            number(s.min),
            number(s.max),
            number(s.mean),
        );
    }
    out
}

/// A value for the table: integers as integers, others with 4 significant digits.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x:.4}")
    }
}
