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

/// Another tenant's work on one core while it lives: a busy loop in a
/// child process, pinned to the last core with `taskset` where there is
/// one. Dropping it ends the child.
pub struct BusyCore(std::process::Child);

impl BusyCore {
    pub fn start() -> Option<BusyCore> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let last = (cores - 1).to_string();
        let pinned = std::process::Command::new("taskset")
            .args(["-c", &last, "sh", "-c", "while :; do :; done"])
            .spawn();
        let child = pinned.or_else(|_| {
            std::process::Command::new("sh")
                .args(["-c", "while :; do :; done"])
                .spawn()
        });
        child.ok().map(BusyCore)
    }
}

impl Drop for BusyCore {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
