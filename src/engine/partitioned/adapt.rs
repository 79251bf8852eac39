//! Choosing, while a run goes, whether its partitions run on their own
//! threads or all on one: whichever is faster now. On a quiet machine with
//! enough work per phase, threads win; on a small circuit, or when another
//! process holds a core (the barrier then waits for a descheduled thread,
//! which made two workers 10–50× slower than one), one thread wins.
//!
//! Both ways compute the same values (a phase's partitions never read what
//! each other write in it), so the choice is free to change at any cycle
//! boundary. The run goes in *stretches* of cycles: a probe of each mode,
//! then a longer stretch of the faster, then probes again, as the load on
//! the machine changes.

use std::time::Duration;

/// How a stretch runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// Each partition on its own thread, with barriers between phases.
    Threads,
    /// Every partition on the lead thread, one after the other, no barriers.
    One,
}

/// Cycles in the first probes, before any timing is known.
const FIRST_PROBE: u64 = 32;
/// What a probe aims to last: long enough to time, short enough to repeat.
const PROBE: Duration = Duration::from_millis(1);
/// A stretch of the faster mode lasts this many times its probes.
const EXPLOIT: f64 = 50.0;
/// Nor longer than this, so that a change of load is noticed.
const LONGEST: Duration = Duration::from_millis(500);

/// The decisions of one run.
#[derive(Debug)]
pub(super) struct Adapt {
    /// Cycles in a probe.
    probe: u64,
    /// The time per cycle measured in each mode's last probe.
    threads: Option<Duration>,
    one: Option<Duration>,
    /// What the next stretch is.
    next: Stretch,
    /// How many stretches each mode has been chosen in a row (the
    /// exploiting stretch doubles with each, up to [`LONGEST`]).
    streak: u32,
    last_choice: Option<Mode>,
    /// The one mode to use, if not adapting.
    fixed: Option<Mode>,
    /// Cycles run in each mode, for the summary.
    pub cycles_threads: u64,
    pub cycles_one: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stretch {
    ProbeThreads,
    ProbeOne,
    Exploit(Mode),
}

impl Adapt {
    /// A run that starts probing with threads, or that keeps to `fixed`.
    pub fn new(fixed: Option<Mode>) -> Self {
        Adapt {
            fixed,
            probe: FIRST_PROBE,
            threads: None,
            one: None,
            next: Stretch::ProbeThreads,
            streak: 0,
            last_choice: None,
            cycles_threads: 0,
            cycles_one: 0,
        }
    }

    /// The next stretch: its mode and length in cycles.
    pub fn next(&self) -> (Mode, u64) {
        if let Some(mode) = self.fixed {
            return (mode, u64::MAX);
        }
        match self.next {
            Stretch::ProbeThreads => (Mode::Threads, self.probe),
            Stretch::ProbeOne => (Mode::One, self.probe),
            Stretch::Exploit(mode) => {
                let (per_cycle, slower) = match (self.threads, self.one) {
                    (Some(t), Some(o)) => (t.min(o), t.max(o)),
                    _ => (PROBE, PROBE),
                };
                // Long enough that the probes, the slower one included,
                // cost little; doubled while the choice stays the same.
                let probes = (slower + per_cycle).mul_f64(self.probe as f64);
                let wanted = probes.mul_f64(EXPLOIT * f64::from(1u32 << self.streak.min(6)));
                let time = wanted.min(LONGEST);
                let cycles = time.as_secs_f64() / per_cycle.as_secs_f64().max(1e-12);
                (mode, (cycles as u64).max(self.probe))
            }
        }
    }

    /// The stretch just run took `elapsed` for `cycles` cycles.
    pub fn record(&mut self, cycles: u64, elapsed: Duration) {
        if let Some(mode) = self.fixed {
            match mode {
                Mode::Threads => self.cycles_threads += cycles,
                Mode::One => self.cycles_one += cycles,
            }
            return;
        }
        let per_cycle = Duration::from_secs_f64(elapsed.as_secs_f64() / cycles.max(1) as f64);
        let (mode, _) = self.next();
        match mode {
            Mode::Threads => self.cycles_threads += cycles,
            Mode::One => self.cycles_one += cycles,
        }
        self.next = match self.next {
            Stretch::ProbeThreads => {
                self.threads = Some(per_cycle);
                Stretch::ProbeOne
            }
            Stretch::ProbeOne => {
                self.one = Some(per_cycle);
                // Probes of about PROBE from now on, in the faster mode.
                let fast = self.threads.unwrap_or(per_cycle).min(per_cycle);
                let cycles = PROBE.as_secs_f64() / fast.as_secs_f64().max(1e-12);
                self.probe = (cycles as u64).clamp(16, 1 << 20);
                let choice = if self.threads.unwrap_or(Duration::MAX) < per_cycle {
                    Mode::Threads
                } else {
                    Mode::One
                };
                self.streak = match self.last_choice {
                    Some(last) if last == choice => self.streak + 1,
                    _ => 0,
                };
                self.last_choice = Some(choice);
                Stretch::Exploit(choice)
            }
            Stretch::Exploit(_) => Stretch::ProbeThreads,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: f64) -> Duration {
        Duration::from_secs_f64(v / 1e3)
    }

    #[test]
    fn probes_both_modes_then_keeps_the_faster_for_longer_and_longer() {
        let mut a = Adapt::new(None);
        assert_eq!(a.next(), (Mode::Threads, 32));
        // Threads: 2 µs a cycle (a busy core); one thread: 1 µs.
        a.record(32, ms(0.064));
        assert_eq!(a.next(), (Mode::One, 32));
        a.record(32, ms(0.032));
        let (mode, first) = a.next();
        assert_eq!(mode, Mode::One);
        // Probes of 1 ms on the faster mode, 1,000 cycles; both probes
        // (3 ms) are a fiftieth of the stretch of the faster.
        assert_eq!(a.probe, 1000);
        assert!((140_000..=160_000).contains(&first), "{first}");
        a.record(first, ms(first as f64 / 1000.0));
        assert_eq!(a.next(), (Mode::Threads, 1000), "probe again");
        a.record(1000, ms(2.0));
        a.record(1000, ms(1.0));
        let (mode, second) = a.next();
        assert_eq!(mode, Mode::One);
        assert!(
            second > first * 19 / 10,
            "the same choice again: twice as long"
        );
        for _ in 0..10 {
            let (_, n) = a.next();
            a.record(n, ms(n as f64 / 1000.0));
            a.record(1000, ms(2.0));
            a.record(1000, ms(1.0));
        }
        assert!(
            a.next().1 <= 500_000,
            "at most half a second: {:?}",
            a.next()
        );
        assert_eq!(a.cycles_threads, 32 + 11 * 1000);
    }

    #[test]
    fn threads_that_win_are_kept() {
        let mut a = Adapt::new(None);
        a.record(32, ms(0.016));
        a.record(32, ms(0.032));
        assert_eq!(a.next().0, Mode::Threads);
    }
}
