//! The FST writer: GTKWave's compressed format through the `fst-writer`
//! crate, with the same scopes, variables and values as the VCD writer.
//! Files are several times smaller than VCD and open faster in GTKWave.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;

use fst_writer::{
    FstBodyWriter, FstFileType, FstInfo, FstScopeType, FstSignalId, FstSignalType, FstVarDirection,
    FstVarType, FstWriteError,
};

use super::plan::{TracePlan, VarSource};
use super::TraceSink;
use crate::value::PortType;

/// Value-change data buffered before a block is compressed and written.
const FLUSH_BYTES: usize = 32 << 20;

/// Writes a trace as FST.
pub struct FstWriter {
    body: Option<FstBodyWriter<BufWriter<File>>>,
    row: Vec<(FstSignalId, PortType)>,
    clock: Option<FstSignalId>,
    constants: Vec<(FstSignalId, PortType, u64)>,
    prev: Vec<u64>,
    period: u64,
    cycle: u64,
    /// The first cycle traced (not 0 after a restore).
    first: u64,
    text: Vec<u8>,
}

fn io_error(e: FstWriteError) -> io::Error {
    match e {
        FstWriteError::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

/// The FST time unit: 10^exponent s.
fn exponent(plan: &TracePlan) -> i8 {
    use vcd::TimescaleUnit::*;
    let unit = match plan.timescale.1 {
        S => 0,
        MS => -3,
        US => -6,
        NS => -9,
        PS => -12,
        FS => -15,
    };
    // The scale is 1, 10 or 100.
    unit + (plan.timescale.0.max(1) as f64).log10().round() as i8
}

impl FstWriter {
    /// Create `path` and write the header for `plan`.
    pub fn create(path: &Path, plan: &TracePlan) -> io::Result<Self> {
        let info = FstInfo {
            start_time: 0,
            timescale_exponent: exponent(plan),
            version: concat!("cspsim ", env!("CARGO_PKG_VERSION")).to_string(),
            date: String::new(),
            file_type: FstFileType::Verilog,
        };
        let mut h = fst_writer::open_fst(path, &info).map_err(io_error)?;
        let bits = |ty: PortType| match ty {
            PortType::Bits(w) => (FstSignalType::bit_vec(u32::from(w)), FstVarType::Wire),
            PortType::Real => (FstSignalType::real(), FstVarType::Real),
        };
        let var = |h: &mut fst_writer::FstHeaderWriter<_>, name: &str, ty, alias| {
            let (signal, kind) = bits(ty);
            // FST keeps the bit range in the name, after a space, as
            // GTKWave's vcd2fst writes it.
            let name = match TracePlan::range(ty) {
                Some((msb, lsb)) => format!("{name} [{msb}:{lsb}]"),
                None => name.to_string(),
            };
            h.var(&name, signal, kind, FstVarDirection::Implicit, alias)
                .map_err(io_error)
        };
        let module = FstScopeType::Module;
        h.scope(&plan.top, "", module).map_err(io_error)?;
        let clock = if plan.clock {
            Some(var(&mut h, "clock", PortType::Bits(1), None)?)
        } else {
            None
        };
        let mut row: Vec<Option<FstSignalId>> = vec![None; plan.row.len()];
        let mut constants = Vec::new();
        let mut open: Vec<&str> = Vec::new();
        for scope in &plan.scopes {
            let parts: Vec<&str> = scope.path.split('.').collect();
            let common = open.iter().zip(&parts).take_while(|(a, b)| a == b).count();
            for _ in common..open.len() {
                h.up_scope().map_err(io_error)?;
            }
            open.truncate(common);
            for part in &parts[common..] {
                h.scope(part, "", module).map_err(io_error)?;
                open.push(part);
            }
            for v in &scope.vars {
                match v.source {
                    // A net read in several places is one signal with aliases.
                    VarSource::Row(k) => {
                        let id = var(&mut h, &v.name, v.ty, row[k])?;
                        row[k] = Some(id);
                    }
                    VarSource::Constant(value) => {
                        let id = var(&mut h, &v.name, v.ty, None)?;
                        constants.push((id, v.ty, value));
                    }
                }
            }
        }
        for _ in 0..open.len() + 1 {
            h.up_scope().map_err(io_error)?;
        }
        // Every row net appears in some scope; a stray one still gets a signal.
        for (k, id) in row.iter_mut().enumerate() {
            if id.is_none() {
                *id = Some(var(&mut h, &format!("net{k}"), plan.row_types[k], None)?);
            }
        }
        let body = h.finish().map_err(io_error)?;
        Ok(FstWriter {
            body: Some(body),
            row: row
                .into_iter()
                .zip(&plan.row_types)
                .map(|(id, ty)| (id.expect("every row net has a signal"), *ty))
                .collect(),
            clock,
            constants,
            prev: vec![0; plan.row.len()],
            period: plan.period,
            cycle: 0,
            first: 0,
            text: Vec::with_capacity(64),
        })
    }
}

/// `v` as the writer wants it: `0`/`1` characters, most significant bit
/// first, for Bits; the 8 bytes of the f64 for Real.
fn encode(text: &mut Vec<u8>, ty: PortType, v: u64) {
    text.clear();
    match ty {
        PortType::Bits(w) => text.extend((0..w).rev().map(|bit| b'0' + ((v >> bit) & 1) as u8)),
        PortType::Real => text.extend_from_slice(&f64::from_bits(v).to_le_bytes()),
    }
}

impl TraceSink for FstWriter {
    fn cycle(&mut self, values: &[u64]) -> io::Result<()> {
        let FstWriter {
            body,
            row,
            clock,
            constants,
            prev,
            period,
            cycle,
            first: start,
            text,
        } = self;
        let body = body
            .as_mut()
            .ok_or_else(|| io::Error::other("the FST trace is already finished"))?;
        let (t, first) = (*cycle * *period, *cycle == *start);
        // Blocks may only end right before a time step.
        if body.size() > FLUSH_BYTES {
            body.flush().map_err(io_error)?;
        }
        body.time_change(t).map_err(io_error)?;
        if let Some(id) = *clock {
            body.signal_change(id, b"1").map_err(io_error)?;
        }
        if first {
            for &(id, ty, v) in constants.iter() {
                encode(text, ty, v);
                body.signal_change(id, text).map_err(io_error)?;
            }
        }
        for ((&v, old), &(id, ty)) in values.iter().zip(prev.iter_mut()).zip(row.iter()) {
            if first || *old != v {
                encode(text, ty, v);
                body.signal_change(id, text).map_err(io_error)?;
                *old = v;
            }
        }
        if let (Some(id), true) = (*clock, *period >= 2) {
            body.time_change(t + *period / 2).map_err(io_error)?;
            body.signal_change(id, b"0").map_err(io_error)?;
        }
        *cycle += 1;
        Ok(())
    }

    fn start_at(&mut self, cycle: u64) {
        self.cycle = cycle;
        self.first = cycle;
    }

    fn held(&self) -> super::Held {
        super::Held {
            cycles: self.cycle,
            bytes: None,
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        let t = self.cycle * self.period;
        if let Some(mut body) = self.body.take() {
            body.time_change(t).map_err(io_error)?;
            body.finish().map_err(io_error)?;
        }
        Ok(())
    }
}
