//! Choosing, while a run goes, whether its partitions run on their own
//! threads or all on one: whichever is faster now. On a quiet machine with
//! enough work per phase, threads win; on a small circuit, or when another
//! process holds a core (the barrier then waits for a descheduled thread,
//! which made two workers 10–50× slower than one), one thread wins.
//!
//! Both ways compute the same values (a phase's partitions never read what
//! each other write in it), so the choice is free to change at any cycle
//! boundary. The run goes in *stretches* of cycles: a probe of each mode
//! (one thread first, so that the probe of threads has a time to beat),
//! then a longer stretch of the faster, then probes again, as the load on
//! the machine changes.
//!
//! A stretch on threads is *watched*: where it falls behind the pace one
//! thread had in its last probe, it is cut short at the next cycle and
//! one thread takes over. A probe can win by luck (the other process
//! descheduled for the millisecond it lasts) and the load can come back at
//! any time; without the watch, the stretch that follows then ran at a
//! third of one thread's speed for up to half a second.

use std::time::Duration;

/// How a stretch runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// Each partition on its own thread, with barriers between phases.
    Threads,
    /// Every partition on the lead thread, one after the other, no barriers.
    One,
}

/// How the stretches are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Policy {
    /// By measuring both modes as the run goes.
    Adaptive,
    /// Always this mode, in one stretch.
    Fixed(Mode),
    /// Short stretches of each mode in turn, every one on threads cut
    /// short after [`ALTERNATE_CUT`] cycles: for tests that hold every
    /// way of running stretches to the same results.
    Alternate,
}

/// Cycles in the first probes, before any timing is known.
const FIRST_PROBE: u64 = 32;
/// What a probe aims to last: long enough to time, short enough to repeat.
const PROBE: Duration = Duration::from_millis(1);
/// A stretch of the faster mode lasts this many times its probes.
const EXPLOIT: f64 = 50.0;
/// Nor longer than this, so that a change of load is noticed.
const LONGEST: Duration = Duration::from_millis(500);
/// A stretch on threads is cut when its cycles have taken this many times
/// what one thread took for as many in its last probe (threads must keep
/// ahead: cutting costs little, as one thread is what a user would have
/// run anyway, while a tolerance of a quarter let threads run at 0.8× of
/// one thread's speed) ...
const BEHIND: f64 = 1.05;
/// ... and at least this long (shorter times are mostly noise).
const WATCHED_AFTER: Duration = Duration::from_micros(200);
/// Cycles between two looks at the clock while watching.
const WATCH_EVERY: u64 = 8;
/// The cycles of a stretch on threads under [`Policy::Alternate`]: its
/// length, and where it is cut.
const ALTERNATE_THREADS: u64 = 7;
const ALTERNATE_CUT: u64 = 3;
/// The cycles of a stretch on one thread under [`Policy::Alternate`].
const ALTERNATE_ONE: u64 = 5;

/// The decisions of one run.
#[derive(Debug)]
pub(super) struct Adapt {
    policy: Policy,
    /// Cycles in a probe.
    probe: u64,
    /// The time per cycle measured in each mode's last probe (or cut stretch).
    threads: Option<Duration>,
    one: Option<Duration>,
    /// What the next stretch is.
    next: Stretch,
    /// How many stretches each mode has been chosen in a row (the
    /// exploiting stretch doubles with each, up to [`LONGEST`]).
    streak: u32,
    last_choice: Option<Mode>,
    /// Cycles run in each mode, for the summary.
    pub cycles_threads: u64,
    pub cycles_one: u64,
    /// Stretches on threads cut short, for the tests.
    pub cuts: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stretch {
    ProbeOne,
    ProbeThreads,
    Exploit(Mode),
}

impl Adapt {
    /// A run that chooses its stretches by `policy`.
    pub fn new(policy: Policy) -> Self {
        Adapt {
            policy,
            probe: FIRST_PROBE,
            threads: None,
            one: None,
            next: Stretch::ProbeOne,
            streak: 0,
            last_choice: None,
            cycles_threads: 0,
            cycles_one: 0,
            cuts: 0,
        }
    }

    /// The next stretch: its mode and length in cycles.
    pub fn next(&self) -> (Mode, u64) {
        match self.policy {
            Policy::Fixed(mode) => return (mode, u64::MAX),
            Policy::Alternate => {
                return match self.next {
                    Stretch::ProbeThreads => (Mode::Threads, ALTERNATE_THREADS),
                    _ => (Mode::One, ALTERNATE_ONE),
                }
            }
            Policy::Adaptive => {}
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

    /// Whether the stretch on threads running now, `done` cycles in and
    /// `elapsed()` after it started, is to end after the cycle it starts
    /// now: it has fallen behind one thread's pace. The clock is read only
    /// every few cycles.
    pub fn cut(&self, done: u64, elapsed: impl FnOnce() -> Duration) -> bool {
        match self.policy {
            Policy::Fixed(_) => false,
            Policy::Alternate => done + 1 == ALTERNATE_CUT,
            Policy::Adaptive => {
                let Some(one) = self.one else { return false };
                if done == 0 || !done.is_multiple_of(WATCH_EVERY) {
                    return false;
                }
                let elapsed = elapsed();
                elapsed >= WATCHED_AFTER && elapsed > one.mul_f64(BEHIND * done as f64)
            }
        }
    }

    /// The stretch just run took `elapsed` for `cycles` cycles; `cut`:
    /// it was on threads and cut short by [`cut`](Self::cut).
    pub fn record(&mut self, cycles: u64, elapsed: Duration, cut: bool) {
        let (mode, _) = self.next();
        match mode {
            Mode::Threads => self.cycles_threads += cycles,
            Mode::One => self.cycles_one += cycles,
        }
        self.cuts += u64::from(cut);
        let per_cycle = Duration::from_secs_f64(elapsed.as_secs_f64() / cycles.max(1) as f64);
        self.next = match (self.policy, self.next) {
            (Policy::Fixed(_), next) => next,
            (Policy::Alternate, Stretch::ProbeThreads) => Stretch::ProbeOne,
            (Policy::Alternate, _) => Stretch::ProbeThreads,
            (Policy::Adaptive, Stretch::ProbeOne) => {
                self.one = Some(per_cycle);
                Stretch::ProbeThreads
            }
            (Policy::Adaptive, Stretch::ProbeThreads) => {
                self.threads = Some(per_cycle);
                let one = self.one.unwrap_or(per_cycle);
                // Probes of about PROBE from now on, in the faster mode.
                let fast = one.min(per_cycle);
                let cycles = PROBE.as_secs_f64() / fast.as_secs_f64().max(1e-12);
                self.probe = (cycles as u64).clamp(16, 1 << 20);
                let choice = if !cut && per_cycle < one {
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
            // Threads fell behind: one thread for a stretch, before
            // probing again.
            (Policy::Adaptive, Stretch::Exploit(Mode::Threads)) if cut => {
                self.threads = Some(per_cycle);
                self.streak = 0;
                self.last_choice = Some(Mode::One);
                Stretch::Exploit(Mode::One)
            }
            (Policy::Adaptive, Stretch::Exploit(_)) => Stretch::ProbeOne,
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
        let mut a = Adapt::new(Policy::Adaptive);
        assert_eq!(a.next(), (Mode::One, 32), "one thread first");
        // One thread: 1 µs a cycle; threads: 2 µs (a busy core).
        a.record(32, ms(0.032), false);
        assert_eq!(a.next(), (Mode::Threads, 32));
        a.record(32, ms(0.064), false);
        let (mode, first) = a.next();
        assert_eq!(mode, Mode::One);
        // Probes of 1 ms on the faster mode, 1,000 cycles; both probes
        // (3 ms) are a fiftieth of the stretch of the faster.
        assert_eq!(a.probe, 1000);
        assert!((140_000..=160_000).contains(&first), "{first}");
        a.record(first, ms(first as f64 / 1000.0), false);
        assert_eq!(a.next(), (Mode::One, 1000), "probe again");
        a.record(1000, ms(1.0), false);
        a.record(1000, ms(2.0), false);
        let (mode, second) = a.next();
        assert_eq!(mode, Mode::One);
        assert!(
            second > first * 19 / 10,
            "the same choice again: twice as long"
        );
        for _ in 0..10 {
            let (_, n) = a.next();
            a.record(n, ms(n as f64 / 1000.0), false);
            a.record(1000, ms(1.0), false);
            a.record(1000, ms(2.0), false);
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
        let mut a = Adapt::new(Policy::Adaptive);
        a.record(32, ms(0.032), false);
        a.record(32, ms(0.016), false);
        assert_eq!(a.next().0, Mode::Threads);
    }

    /// One thread took 1 µs a cycle in its probe; threads won theirs.
    fn exploiting_threads() -> Adapt {
        let mut a = Adapt::new(Policy::Adaptive);
        a.record(32, ms(0.032), false);
        a.record(32, ms(0.016), false);
        assert_eq!(a.next().0, Mode::Threads);
        a
    }

    #[test]
    fn threads_falling_behind_one_threads_pace_are_cut_and_one_thread_takes_over() {
        let a = exploiting_threads();
        // 800 cycles on threads in 0.83 ms: within one thread's 0.8 ms
        // × 1.05, not cut; in 0.85 ms, cut.
        assert!(!a.cut(800, || ms(0.83)));
        assert!(a.cut(800, || ms(0.85)));
        // The clock is read only every 8 cycles, and only once it has
        // something to say.
        assert!(!a.cut(801, || panic!("the clock is not read")));
        assert!(!a.cut(0, || panic!("the clock is not read")));
        assert!(!a.cut(8, || ms(0.1)), "too early to tell");
        let mut a = a;
        let (_, planned) = a.next();
        a.record(800, ms(1.1), true);
        assert_eq!(a.cuts, 1);
        let (mode, length) = a.next();
        assert_eq!(mode, Mode::One, "one thread after the cut");
        assert!(length > 0 && length < planned * 4, "{length}");
        a.record(length, ms(length as f64 / 1000.0), false);
        assert_eq!(a.next().0, Mode::One, "then probes, one thread first");
    }

    #[test]
    fn a_probe_of_threads_cut_short_loses_whatever_its_pace() {
        let mut a = Adapt::new(Policy::Adaptive);
        assert!(!a.cut(800, || ms(100.0)), "no pace to keep yet");
        a.record(32, ms(0.032), false);
        assert_eq!(a.next().0, Mode::Threads);
        assert!(a.cut(800, || ms(1.1)));
        a.record(800, ms(0.5), true);
        assert_eq!(a.next().0, Mode::One);
    }

    #[test]
    fn a_fixed_mode_is_one_stretch_never_cut() {
        let mut a = Adapt::new(Policy::Fixed(Mode::Threads));
        assert_eq!(a.next(), (Mode::Threads, u64::MAX));
        assert!(!a.cut(800, || ms(1e6)));
        a.record(5, ms(1.0), false);
        assert_eq!(a.next(), (Mode::Threads, u64::MAX));
        assert_eq!(a.cycles_threads, 5);
    }

    #[test]
    fn alternating_runs_short_stretches_of_each_and_cuts_every_one_on_threads() {
        let mut a = Adapt::new(Policy::Alternate);
        assert_eq!(a.next(), (Mode::One, ALTERNATE_ONE));
        a.record(ALTERNATE_ONE, ms(1.0), false);
        assert_eq!(a.next(), (Mode::Threads, ALTERNATE_THREADS));
        // Cut at the start of its last cycle.
        assert!(!a.cut(ALTERNATE_CUT - 2, || ms(0.0)));
        assert!(a.cut(ALTERNATE_CUT - 1, || ms(0.0)));
        a.record(ALTERNATE_CUT, ms(1.0), true);
        assert_eq!(a.next(), (Mode::One, ALTERNATE_ONE));
    }
}
