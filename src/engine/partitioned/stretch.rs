//! Several workers' run, in stretches of cycles (see [`super::adapt`]): in
//! each, either every partition runs on its own thread, phase by phase
//! between barriers, or the lead thread runs them all, one after the other
//! in each phase, while the others wait. Stretches begin and end at a
//! barrier, where the lead publishes the next one.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Instant;

use super::adapt::{Adapt, Mode, Policy};
use super::checkpoint::Saver;
use super::cycle::{compiled_cycles, lead_duties, parities, views, Lead, Run, Running};
use super::layout::{Shared, Worker};
use crate::engine::native::{Cycles, WorkerCode};
use crate::engine::Spread;

/// The stretch the lead published.
#[derive(Default)]
pub(super) struct Control {
    /// 0: threads, 1: one thread, 2: the run is over.
    mode: AtomicU8,
    start: AtomicU64,
    end: AtomicU64,
}

const DONE: u8 = 2;

impl Control {
    fn publish(&self, mode: Option<Mode>, (start, end): (u64, u64)) {
        let code = match mode {
            Some(Mode::Threads) => 0,
            Some(Mode::One) => 1,
            None => DONE,
        };
        self.mode.store(code, Relaxed);
        self.start.store(start, Relaxed);
        self.end.store(end, Relaxed);
    }
}

/// A worker's share of the run: its partition, its code, and the control.
pub(super) struct Crew<'a> {
    pub pool: &'a [Mutex<Worker>],
    pub codes: Vec<Option<&'a WorkerCode>>,
    /// A whole cycle of every part, compiled, for one thread.
    pub cycle: Option<Cycles>,
    /// Which phases end with a barrier on threads (see [`barriers`](super::cycle::barriers)).
    pub waits: Vec<bool>,
    pub sh: &'a Shared,
    pub control: &'a Control,
}

impl Crew<'_> {
    /// The lead's run of `cycles` cycles: the cycles completed, and the
    /// decisions taken.
    /// Between stretches, `saver` saves the checkpoints that are due.
    pub fn lead(
        &self,
        cycles: u64,
        lead: &mut Lead<'_>,
        mut saver: Option<&mut Saver<'_>>,
    ) -> (u64, Adapt) {
        let sh = self.sh;
        let mut adapt = Adapt::new(match lead.options.spread {
            Spread::Adaptive => Policy::Adaptive,
            Spread::Threads => Policy::Fixed(Mode::Threads),
            Spread::OneThread => Policy::Fixed(Mode::One),
            Spread::Alternate => Policy::Alternate,
        });
        let mut t = 0u64;
        let completed = loop {
            let (mode, length) = adapt.next();
            let end = t.saturating_add(length).min(cycles);
            let end = saver.as_ref().map_or(end, |s| s.stretch_end(t, end));
            self.control.publish(Some(mode), (t, end));
            sh.barrier.wait(0);
            let started = Instant::now();
            let stopped = match mode {
                Mode::Threads => {
                    let cut = |done| adapt.cut(done, || started.elapsed());
                    self.threads(0, t, Some((lead, &cut)))
                }
                Mode::One => self.one((t, end), lead),
            };
            sh.barrier.wait(0);
            // Where the lead cut the stretch short, everyone stopped there.
            let stopped_at = self.control.end.load(Relaxed);
            adapt.record(stopped_at - t, started.elapsed(), stopped_at < end);
            t = stopped_at;
            if stopped.is_none() {
                // Every worker waits at the next stretch's barrier.
                if let Some(saver) = saver.as_deref_mut() {
                    let mut guards: Vec<_> = (self.pool.iter())
                        .map(|w| w.lock().unwrap_or_else(|e| e.into_inner()))
                        .collect();
                    if !saver.at(t, guards.iter_mut().map(|g| &mut **g), &self.codes, sh) {
                        break t;
                    }
                }
            }
            match stopped {
                Some(completed) => break completed,
                None if t >= cycles => break cycles,
                None => {}
            }
        };
        self.control.publish(None, (t, t));
        sh.barrier.wait(0);
        (completed, adapt)
    }

    /// A follower's run: worker `w`'s part of every stretch on threads.
    /// Through a stretch on one thread it parks at once, leaving its core
    /// to the lead (a spinning follower could take the lead's core where
    /// another process holds the other).
    pub fn follow(&self, w: usize) {
        let sh = self.sh;
        loop {
            sh.barrier.wait(w);
            let start = self.control.start.load(Relaxed);
            match self.control.mode.load(Relaxed) {
                DONE => return,
                0 => {
                    self.threads(w, start, None);
                    sh.barrier.wait(w);
                }
                _ => sh.barrier.wait_parked(w),
            }
        }
    }

    /// Worker `w`'s partition for the stretch from cycle `start` on, between
    /// barriers; the cycles completed if the run stops in it. The lead
    /// (with `lead`) may cut the stretch short: where `cut(cycles done)`
    /// says so, it moves the stretch's end to the end of the cycle it
    /// starts, before that cycle's last barrier, and every worker reads
    /// the end again after each cycle's last barrier.
    fn threads(
        &self,
        w: usize,
        start: u64,
        mut lead: Option<(&mut Lead<'_>, &dyn Fn(u64) -> bool)>,
    ) -> Option<u64> {
        let sh = self.sh;
        let mut guard = self.pool[w].lock().unwrap_or_else(|e| e.into_inner());
        let worker = &mut *guard;
        let running = Running::default();
        let views = views(&worker.groups, sh, &running);
        let mut run = Run {
            batches: &mut worker.batches,
            groups: &worker.groups,
            steps: &worker.steps,
            views: &views,
            running: &running,
            code: self.codes[w],
            sh,
            worker: w,
        };
        let mut t = start;
        while t < self.control.end.load(Relaxed) {
            if let Some((_, cut)) = &lead {
                if t + 1 < self.control.end.load(Relaxed) && cut(t - start) {
                    self.control.end.store(t + 1, Relaxed);
                }
            }
            for range in &worker.copied {
                sh.copy_forward(range, parities(t).0);
            }
            let lead = lead.as_mut().map(|(lead, _)| &mut **lead);
            run.finish_cycle(t, 0, (false, false), &self.waits, lead);
            if let Some(completed) = sh.stop_after(t) {
                return Some(completed);
            }
            t += 1;
        }
        None
    }

    /// Every partition on this thread for the cycles `start..end`: in each
    /// phase, each partition's part in turn (what they do in a phase is
    /// independent, so the order changes nothing); the cycles completed if
    /// the run stops in them.
    fn one(&self, (start, end): (u64, u64), lead: &mut Lead<'_>) -> Option<u64> {
        let sh = self.sh;
        let mut guards: Vec<_> = self
            .pool
            .iter()
            .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
            .collect();
        if let Some(cycle) = self.cycle {
            // Every component compiled: a whole cycle of every part in one call.
            let copied: Vec<&[std::ops::Range<usize>]> =
                guards.iter().map(|g| g.copied.as_slice()).collect();
            let failure = |component, read| {
                let code = self.codes.iter().flatten().find(|c| c.fails(component));
                code.map_or_else(
                    || "a compiled check failed".to_string(),
                    |c| c.failure(component, &sh.slots, read),
                )
            };
            return compiled_cycles(cycle, (start, end), &copied, (sh, &failure), Some(lead));
        }
        let runnings: Vec<Running> = guards.iter().map(|_| Running::default()).collect();
        let mut parts: Vec<_> = guards
            .iter_mut()
            .map(|g| {
                let w = &mut **g;
                (&mut w.batches, &w.groups, &w.steps, &w.copied)
            })
            .collect();
        let copied: Vec<_> = parts.iter().map(|(.., copied)| *copied).collect();
        let all_views: Vec<_> = parts
            .iter()
            .zip(&runnings)
            .map(|((_, groups, ..), running)| views(groups, sh, running))
            .collect();
        let mut runs: Vec<Run<'_>> = parts
            .iter_mut()
            .zip(&all_views)
            .zip(&runnings)
            .zip(&self.codes)
            .map(
                |((((batches, groups, steps, _), views), running), code)| Run {
                    batches: batches.as_mut_slice(),
                    groups,
                    steps,
                    views,
                    running,
                    code: *code,
                    sh,
                    worker: 0,
                },
            )
            .collect();
        let phases = runs.first().map_or(0, |r| r.steps.len());
        let mut faulted = vec![(false, false); runs.len()];
        for t in start..end {
            for range in copied.iter().copied().flatten() {
                sh.copy_forward(range, parities(t).0);
            }
            faulted.fill((false, false));
            for phase in 0..phases {
                if phase == phases - 1 {
                    lead_duties(lead, sh, t, parities(t).0);
                }
                for (run, faulted) in runs.iter_mut().zip(&mut faulted) {
                    run.phase(t, phase, faulted);
                }
            }
            if let Some(completed) = sh.stop_after(t) {
                return Some(completed);
            }
        }
        None
    }
}
