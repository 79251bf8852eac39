//! The last cycle's values of a trace's signals, kept by a [`Tap`]: what
//! `run --json` reports as each signal's final value.

use std::sync::{Arc, Mutex};

use super::plan::{TracePlan, VarSource};
use super::tap::Tap;
use crate::value::PortType;

/// A traced signal's value at the end of a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FinalValue {
    /// A `Bits` signal.
    Bits(u64),
    /// A `Real` signal.
    Real(f64),
}

/// Where the last row goes when the run is over.
#[derive(Clone, Default)]
pub struct LastRow(Arc<Mutex<Option<Vec<u64>>>>);

impl LastRow {
    /// Every signal of `plan` with its value in the last row recorded, in
    /// trace order (`top.path.port`); empty if no cycle was recorded.
    pub fn values(&self, plan: &TracePlan) -> Vec<(String, FinalValue)> {
        let guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let Some(row) = guard.as_ref() else {
            return Vec::new();
        };
        let mut values = Vec::new();
        for scope in &plan.scopes {
            for var in &scope.vars {
                let bits = match var.source {
                    VarSource::Row(k) => row.get(k).copied().unwrap_or(0),
                    VarSource::Constant(v) => v,
                };
                let value = match var.ty {
                    PortType::Real => FinalValue::Real(f64::from_bits(bits)),
                    PortType::Bits(_) => FinalValue::Bits(bits),
                };
                values.push((format!("{}.{}.{}", plan.top, scope.path, var.name), value));
            }
        }
        values
    }
}

/// The tap that keeps the last row, and hands it to its [`LastRow`] when
/// dropped.
struct KeepLast {
    row: Vec<u64>,
    recorded: bool,
    out: LastRow,
}

impl Tap for KeepLast {
    fn row(&mut self, values: &[u64]) {
        self.row.clear();
        self.row.extend_from_slice(values);
        self.recorded = true;
    }
}

impl Drop for KeepLast {
    // However the run ends (a fault, a full disk), what was recorded is kept.
    fn drop(&mut self) {
        if self.recorded {
            let mut out = self.out.0.lock().unwrap_or_else(|e| e.into_inner());
            *out = Some(std::mem::take(&mut self.row));
        }
    }
}

impl LastRow {
    /// A tap that keeps the last row for [`values`](Self::values).
    pub fn tap(&self) -> Box<dyn Tap> {
        Box::new(KeepLast {
            row: Vec::new(),
            recorded: false,
            out: self.clone(),
        })
    }
}
