//! Helpers shared by the benchmarks: medians and readable rates.
#![allow(dead_code)]

use std::time::Duration;

/// The median of `times` (sorts them).
pub fn median(times: &mut [Duration]) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64()
}

/// `1234567.0` → `1.23 M`.
pub fn rate(v: f64) -> String {
    if v >= 1e9 {
        format!("{:.2} G", v / 1e9)
    } else if v >= 1e6 {
        format!("{:.1} M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// A `Write` that discards bytes and counts lines (one VCD value change or
/// timestamp per line).
#[derive(Clone, Default)]
pub struct LineCounter(pub std::sync::Arc<std::sync::atomic::AtomicU64>);

impl std::io::Write for LineCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let lines = bytecount::count(buf, b'\n') as u64;
        self.0
            .fetch_add(lines, std::sync::atomic::Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
