//! A reusable barrier that spins briefly, then parks. Spinning keeps the
//! per-level handoff cheap when every worker has a core; parking keeps a
//! busy machine from collapsing (a pure spin barrier burns the time slice
//! the late worker needs).

use std::hint::spin_loop;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// Spins before parking; a few microseconds on this kind of machine.
const SPINS: u32 = 1 << 12;

/// A barrier for `n` threads, reusable across rounds.
pub struct Barrier {
    n: usize,
    arrived: AtomicUsize,
    generation: AtomicUsize,
    /// Threads parked (or about to park): the last to arrive wakes them
    /// only if there are any, so a round where all spun costs no syscall.
    sleepers: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
}

impl Barrier {
    /// A barrier for `n` threads.
    pub fn new(n: usize) -> Self {
        Barrier {
            n,
            arrived: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
            sleepers: AtomicUsize::new(0),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        }
    }

    /// Wait until all `n` threads have called `wait` in this round. Every
    /// write made before `wait` is visible to every thread after it.
    #[inline]
    pub fn wait(&self) {
        if self.n > 1 {
            self.wait_for_others();
        }
    }

    #[inline(never)]
    fn wait_for_others(&self) {
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            self.arrived.store(0, Ordering::Relaxed);
            // SeqCst with the sleepers' increment below: either this load
            // sees a sleeper, or that sleeper sees the new generation.
            self.generation.fetch_add(1, Ordering::SeqCst);
            if self.sleepers.load(Ordering::SeqCst) > 0 {
                let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
                self.wake.notify_all();
            }
            return;
        }
        for _ in 0..SPINS {
            if self.generation.load(Ordering::Acquire) != generation {
                return;
            }
            spin_loop();
        }
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        while self.generation.load(Ordering::SeqCst) == generation {
            guard = self.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn no_thread_passes_before_all_arrive() {
        let barrier = Barrier::new(3);
        let counter = AtomicU64::new(0);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    for round in 1..=200u64 {
                        counter.fetch_add(1, Ordering::Relaxed);
                        barrier.wait();
                        assert!(counter.load(Ordering::Relaxed) >= round * 3);
                        barrier.wait();
                    }
                });
            }
        });
        assert_eq!(counter.load(Ordering::Relaxed), 600);
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
                panic!("the barrier hung: a parked thread was never woken")
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
                            barrier.wait();
                        }
                    });
                }
            });
            assert_eq!(rounds.load(Ordering::Relaxed), 10);
            assert_eq!(barrier.sleepers.load(Ordering::Relaxed), 0);
        });
    }

    #[test]
    fn no_thread_passes_before_all_arrive_within_a_timeout() {
        within_a_timeout(|| {
            let barrier = Barrier::new(2);
            std::thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| {
                        for _ in 0..1000 {
                            barrier.wait();
                        }
                    });
                }
            });
        });
    }
}
