//! A reusable barrier that spins briefly, then parks. Spinning keeps the
//! per-phase handoff cheap when every worker has a core; parking keeps a
//! busy machine from collapsing (a pure spin barrier burns the time slice
//! the late worker needs).
//!
//! Each party announces its arrival in a counter of its own, on a cache
//! line of its own, and waits until every other's has caught up. With two
//! workers a round then costs one cache line's trip each way, both at
//! once; a shared arrival counter cost three trips one after the other
//! (each arrival's increment, then the waiter's read of the release), in
//! a line the waiters' spinning kept pulling away.

use std::hint::spin_loop;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use crossbeam_utils::CachePadded;

/// Spins before parking (a `pause` each: some hundred microseconds here).
const SPINS: u32 = 1 << 12;

/// A barrier for `n` parties, numbered `0..n`, reusable across rounds.
pub struct Barrier {
    /// The rounds each party has arrived at, on a line of its own.
    arrived: Box<[CachePadded<AtomicU64>]>,
    /// Parties parked (or about to park): an arrival wakes them only if
    /// there are any, so a round where all spun costs no syscall.
    sleepers: CachePadded<AtomicUsize>,
    lock: Mutex<()>,
    wake: Condvar,
}

impl Barrier {
    /// A barrier for `n` parties.
    pub fn new(n: usize) -> Self {
        Barrier {
            arrived: (0..n)
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect(),
            sleepers: CachePadded::new(AtomicUsize::new(0)),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        }
    }

    /// Party `me` waits until all `n` parties have called `wait` in this
    /// round (each party calls it once a round). Every write made before
    /// `wait` is visible to every party after it.
    #[inline]
    pub fn wait(&self, me: usize) {
        if self.arrived.len() > 1 {
            self.wait_for_others(me, SPINS);
        }
    }

    /// [`wait`](Self::wait) for a party that knows the others are far
    /// from arriving: it parks at once, leaving its core to them (and to
    /// whatever else the machine runs) instead of spinning first.
    pub fn wait_parked(&self, me: usize) {
        if self.arrived.len() > 1 {
            self.wait_for_others(me, 0);
        }
    }

    #[inline(never)]
    fn wait_for_others(&self, me: usize, spins: u32) {
        let mine = &self.arrived[me];
        // Only `me` writes its counter: a plain increment.
        let round = mine.load(Ordering::Relaxed) + 1;
        // SeqCst with the sleepers' increment below: either the load of
        // `sleepers` sees a sleeper, or that sleeper sees this arrival.
        mine.store(round, Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.wake.notify_all();
        }
        // Others may be a round ahead already (they passed this one once
        // `me` arrived), never behind by more than one.
        let here = |p: &CachePadded<AtomicU64>, order| p.load(order) >= round;
        // The first party not seen to have arrived yet.
        let mut first = 0;
        let mut pending = |order| {
            while first < self.arrived.len() && (first == me || here(&self.arrived[first], order)) {
                first += 1;
            }
            first < self.arrived.len()
        };
        for _ in 0..spins {
            if !pending(Ordering::Acquire) {
                return;
            }
            spin_loop();
        }
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        while pending(Ordering::SeqCst) {
            guard = self.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` parties, 200 rounds: each counts itself in, meets the others
    /// (party 0 through `wait`, the others through `first`), checks that
    /// all have counted, and meets them again. Within a timeout: a party
    /// that fails its check leaves the others waiting for it.
    fn in_step(n: usize, first: fn(&Barrier, usize)) {
        within_a_timeout(move || {
            let barrier = Barrier::new(n);
            let counter = AtomicU64::new(0);
            std::thread::scope(|s| {
                for me in 0..n {
                    let (barrier, counter) = (&barrier, &counter);
                    s.spawn(move || {
                        for round in 1..=200u64 {
                            counter.fetch_add(1, Ordering::Relaxed);
                            match me {
                                0 => barrier.wait(me),
                                _ => first(barrier, me),
                            }
                            assert!(counter.load(Ordering::Relaxed) >= round * n as u64);
                            barrier.wait(me);
                        }
                    });
                }
            });
            assert_eq!(counter.load(Ordering::Relaxed), 200 * n as u64);
        });
    }

    #[test]
    fn no_thread_passes_before_all_arrive() {
        in_step(3, Barrier::wait);
    }

    /// `body` on its own thread, failing (not hanging) if it takes more
    /// than half a minute: a lost wake-up is a failure with a message.
    fn within_a_timeout(body: impl FnOnce() + Send + 'static) {
        let (done, finished) = std::sync::mpsc::channel();
        let worker = std::thread::spawn(move || {
            body();
            let _ = done.send(());
        });
        match finished.recv_timeout(std::time::Duration::from_secs(30)) {
            Ok(()) => worker.join().expect("the body passed"),
            // The body panicked (its sender is gone): report its panic.
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                if let Err(panic) = worker.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("the barrier hung: a parked thread was never woken, or a thread failed")
            }
        }
    }

    #[test]
    fn threads_that_parked_are_woken() {
        // One thread arrives late every round, only once the two others
        // have stopped spinning and parked (no timing assumed): a lost
        // wake-up fails the timeout.
        within_a_timeout(|| {
            let barrier = Barrier::new(3);
            let rounds = AtomicU64::new(0);
            std::thread::scope(|s| {
                for t in 0..3 {
                    let (barrier, rounds) = (&barrier, &rounds);
                    s.spawn(move || {
                        for _ in 0..10 {
                            if t == 0 {
                                while barrier.sleepers.load(Ordering::Acquire) < 2 {
                                    std::thread::yield_now();
                                }
                                rounds.fetch_add(1, Ordering::Relaxed);
                            }
                            barrier.wait(t);
                        }
                    });
                }
            });
            assert_eq!(rounds.load(Ordering::Relaxed), 10);
            assert_eq!(barrier.sleepers.load(Ordering::Relaxed), 0);
        });
    }

    #[test]
    fn a_party_that_parks_at_once_passes_with_the_others() {
        in_step(2, Barrier::wait_parked);
    }

    #[test]
    fn no_thread_passes_before_all_arrive_within_a_timeout() {
        within_a_timeout(|| {
            let barrier = Barrier::new(2);
            std::thread::scope(|s| {
                for me in 0..2 {
                    let barrier = &barrier;
                    s.spawn(move || {
                        for _ in 0..1000 {
                            barrier.wait(me);
                        }
                    });
                }
            });
        });
    }
}
