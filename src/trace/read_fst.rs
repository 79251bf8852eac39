//! Reading an FST trace (GTKWave's compressed format) into the same
//! [`Waveform`] as a VCD, through `wellen`, the reader of the Surfer
//! waveform viewer.

use std::collections::BTreeMap;
use std::path::Path;

use super::read::{ReadError, Signal, Value, Waveform};

/// Read the FST trace in `path`.
pub fn read_fst(path: &Path) -> Result<Waveform, ReadError> {
    let mut wave = wellen::simple::read(path).map_err(|e| ReadError::NotFst(e.to_string()))?;
    let hierarchy = wave.hierarchy();
    let timescale = hierarchy
        .timescale()
        .map(|t| format!("{} {}", t.factor, unit(t.unit)));
    let vars: Vec<(String, wellen::SignalRef, u32, bool)> = hierarchy
        .iter_vars()
        .map(|v| {
            (
                name(v, hierarchy),
                v.signal_ref(),
                v.length().unwrap_or(64),
                v.is_real(),
            )
        })
        .collect();
    let ids: Vec<wellen::SignalRef> = vars.iter().map(|v| v.1).collect();
    wave.load_signals(&ids);
    let times = wave.time_table().to_vec();
    let mut signals = BTreeMap::new();
    for (name, id, width, real) in vars {
        let Some(signal) = wave.get_signal(id) else {
            continue;
        };
        let mut changes: Vec<(u64, Value)> = Vec::new();
        for (k, value) in signal.iter_changes() {
            let time = times.get(k as usize).copied().unwrap_or(0);
            let value = match value {
                wellen::SignalValue::Real(x) => Value::Real(x),
                other => {
                    let bits = other.to_bit_string().unwrap_or_default();
                    let trimmed = bits.trim_start_matches('0');
                    Value::Bits(if trimmed.is_empty() { "0" } else { trimmed }.to_string())
                }
            };
            // FST may repeat a value; a change is a change.
            if changes.last().is_none_or(|(_, v)| *v != value) {
                changes.push((time, value));
            }
        }
        signals.insert(
            name,
            Signal {
                width,
                real,
                changes,
            },
        );
    }
    Ok(Waveform {
        timescale,
        signals,
        end: times.last().copied().unwrap_or(0),
    })
}

/// A variable's full name as the VCD reader gives it (`top.bus.gnt[0]`,
/// `top.and.in[0]`). wellen reads the index of a one-bit `gnt[0]` as a bit
/// range, and the `[0]` of a vector `in[0] [7:0]` as an element of a scope
/// `in`: both are put back into the name.
fn name(var: &wellen::Var, hierarchy: &wellen::Hierarchy) -> String {
    let mut name = var.full_name(hierarchy).replace(".[", "[");
    if let (Some(1), Some(index)) = (var.length(), var.index()) {
        name.push_str(&format!("[{}]", index.lsb()));
    }
    name
}

fn unit(unit: wellen::TimescaleUnit) -> &'static str {
    use wellen::TimescaleUnit::*;
    match unit {
        ZeptoSeconds => "zs",
        AttoSeconds => "as",
        FemtoSeconds => "fs",
        PicoSeconds => "ps",
        NanoSeconds => "ns",
        MicroSeconds => "us",
        MilliSeconds => "ms",
        Seconds => "s",
        Unknown => "",
    }
}
