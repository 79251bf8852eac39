//! How large an elaborated circuit may grow: estimated before and while it
//! is built, so that a circuit too large for this machine is a located
//! error instead of the allocator killing the process.
//!
//! A component is estimated at [`COMPONENT_BYTES`] plus [`PORT_BYTES`] per
//! port (measured: about 2.3 KiB a component of a few ports, loaded, and
//! as much again to run it), against half of the memory this process may
//! use: the memory available (`MemAvailable`) or, if lower, its address
//! space limit (`ulimit -v`). `--max-components` sets a limit of its own.

/// The estimated memory of one component, loaded and running.
pub const COMPONENT_BYTES: u64 = 4096;
/// And of each of its ports.
pub const PORT_BYTES: u64 = 256;

/// The budget of one elaboration.
#[derive(Clone, Debug)]
pub struct Budget {
    /// Bytes the circuit may take.
    pub bytes: u64,
    /// Components it may have, if the user set a limit.
    pub components: Option<usize>,
    /// Bytes and components used so far.
    pub used: u64,
    pub count: usize,
    /// Whether it was exceeded (elaboration stops).
    pub exceeded: bool,
}

impl Budget {
    /// Half of what this process may use, with an optional component limit.
    pub fn for_this_machine(components: Option<usize>) -> Self {
        Budget {
            bytes: usable_memory() / 2,
            components,
            used: 0,
            count: 0,
            exceeded: false,
        }
    }

    /// The cost of a component with `ports` ports.
    pub fn cost(ports: usize) -> u64 {
        COMPONENT_BYTES + PORT_BYTES * ports as u64
    }

    /// Whether `more` bytes in `components` more components fit.
    pub fn fits(&self, more: u64, components: usize) -> bool {
        self.used.saturating_add(more) <= self.bytes
            && self
                .components
                .is_none_or(|max| self.count.saturating_add(components) <= max)
    }

    /// Count a component with `ports` ports.
    pub fn take(&mut self, ports: usize) {
        self.used = self.used.saturating_add(Self::cost(ports));
        self.count += 1;
    }

    /// What the refusal says: the estimated size and the limit.
    pub fn refusal(&self, more: u64, components: usize) -> (String, String) {
        let count = self.count.saturating_add(components);
        let bytes = self.used.saturating_add(more);
        match self.components {
            Some(max) if count > max => (
                format!("the circuit would have {} components, more than the limit of {}", compact(count as f64), compact(max as f64)),
                "reduce the arrays, or raise the limit with --max-components".to_string(),
            ),
            _ => (
                format!(
                    "the circuit would need about {} of memory ({} components), more than the {} it may use here",
                    bytes_text(bytes),
                    compact(count as f64),
                    bytes_text(self.bytes)
                ),
                "reduce the arrays (`count`), or run on a machine with more memory".to_string(),
            ),
        }
    }
}

/// `1234567` → `1.2 M`.
fn compact(v: f64) -> String {
    match v {
        v if v >= 1e9 => format!("{:.1} G", v / 1e9),
        v if v >= 1e6 => format!("{:.1} M", v / 1e6),
        v if v >= 1e4 => format!("{:.0} k", v / 1e3),
        v => format!("{v:.0}"),
    }
}

fn bytes_text(b: u64) -> String {
    let b = b as f64;
    match b {
        b if b >= (1u64 << 40) as f64 => format!("{:.1} TiB", b / (1u64 << 40) as f64),
        b if b >= (1u64 << 30) as f64 => format!("{:.1} GiB", b / (1u64 << 30) as f64),
        b => format!("{:.0} MiB", b / (1u64 << 20) as f64),
    }
}

/// The memory this process may use: what the system has available, or its
/// address-space limit if that is lower (16 GiB if neither can be read).
fn usable_memory() -> u64 {
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        });
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("Max address space"))?;
            line.split_whitespace().nth(3)?.parse::<u64>().ok()
        });
    match (available, limit) {
        (Some(a), Some(l)) => a.min(l),
        (Some(a), None) => a,
        (None, Some(l)) => l,
        (None, None) => 16 << 30,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_counts_components_and_ports() {
        let mut b = Budget {
            bytes: 10 * Budget::cost(2),
            components: Some(8),
            used: 0,
            count: 0,
            exceeded: false,
        };
        assert!(b.fits(8 * Budget::cost(2), 8));
        assert!(!b.fits(0, 9), "the component limit");
        b.take(2);
        assert!(!b.fits(10 * Budget::cost(2), 1), "the bytes");
        let (message, hint) = b.refusal(0, 20);
        assert!(
            message.contains("21 components, more than the limit of 8"),
            "{message}"
        );
        assert!(hint.contains("--max-components"));
        b.components = None;
        let (message, _) = b.refusal(1 << 40, 20_000_000);
        assert!(
            message.contains("about 1.0 TiB") && message.contains("20.0 M components"),
            "{message}"
        );
        assert!(usable_memory() > 1 << 20);
    }
}
