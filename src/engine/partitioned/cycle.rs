//! The partitioned engine's cycle loops: what a worker does in each phase
//! of a cycle, under which fault guard, and the lead worker's duties
//! (trace sample, progress, stop requests).

use std::cell::Cell;
use std::ops::Range;
use std::sync::atomic::Ordering::Relaxed;

use super::super::fault::{guard, FaultKind, Phase};
use super::super::native::{Code, Cycles, WorkerCode};
use super::super::RunOptions;
use super::layout::{Group, Shared, Step, Worker};
use crate::batch::{Batch, BatchIo};
use crate::trace::Tracer;

/// The views a group's calls get, made once per run: index with [`view`].
pub(super) type Views<'a> = [BatchIo<'a>; 4];

/// The view reading inputs of parity `read` and writing outputs of parity `write`.
pub(super) fn view(read: usize, write: usize) -> usize {
    2 * read + write
}

/// Which group and member runs, and in which kind of call, so that a
/// panic names the component.
#[derive(Default)]
pub(super) struct Running {
    pub(super) group: Cell<usize>,
    pub(super) member: Cell<usize>,
    pub(super) tick: Cell<bool>,
    /// The compiled component whose check failed, if that is what stopped.
    pub(super) native: Cell<Option<usize>>,
}

impl Running {
    /// Group `g` starts running (at its first member, until it says otherwise).
    pub(super) fn enter(&self, g: usize) {
        self.group.set(g);
        self.member.set(0);
        self.native.set(None);
    }

    /// The component running.
    pub(super) fn component(&self, groups: &[Group]) -> usize {
        match self.native.get() {
            Some(c) => c,
            None => groups[self.group.get()].members[self.member.get()],
        }
    }
}

/// Worker 0's extra duties: tracing, progress, stopping.
pub(super) struct Lead<'a> {
    pub(super) tracer: Option<Tracer>,
    /// The slot of each traced net, for each parity.
    pub(super) row: [Vec<u32>; 2],
    pub(super) options: &'a RunOptions,
}

/// The views of a worker's groups over the slots, recording the member
/// running in `running`.
pub(super) fn views<'a>(
    groups: &'a [Group],
    sh: &'a Shared,
    running: &'a Running,
) -> Vec<Views<'a>> {
    groups
        .iter()
        .map(|g| {
            let io = |read, write| g.wiring.io(&sh.slots, read, write, &running.member);
            [io(0, 0), io(0, 1), io(1, 0), io(1, 1)]
        })
        .collect()
}

/// The run of a lone worker (several run in stretches: see
/// [`super::stretch`]); returns the cycles completed: evaluated and traced
/// (a cycle whose clock edge failed counts, as its values are in the trace).
pub(super) fn work(
    w: &mut Worker,
    (code, cycle): (Option<&WorkerCode>, Option<Cycles>),
    sh: &Shared,
    (start, end): (u64, u64),
    lead: Option<&mut Lead<'_>>,
) -> u64 {
    if let Some(cycle) = cycle {
        let failure = |component, read| match code {
            Some(code) => code.failure(component, &sh.slots, read),
            None => "a compiled check failed".to_string(),
        };
        let copied: &[Range<usize>] = &w.copied;
        return compiled_cycles(cycle, (start, end), &[copied], (sh, &failure), lead)
            .unwrap_or(end);
    }
    let running = Running::default();
    let views = views(&w.groups, sh, &running);
    let mut run = Run {
        batches: &mut w.batches,
        groups: &w.groups,
        steps: &w.steps,
        views: &views,
        running: &running,
        code,
        sh,
        worker: 0,
    };
    run.alone((start, end), &w.copied, lead)
}

/// The parities cycle `t` reads and writes.
pub(super) fn parities(t: u64) -> (usize, usize) {
    let read = (t % 2) as usize;
    (read, 1 - read)
}

/// A worker's batches with their views and schedule, for one run.
pub(super) struct Run<'a> {
    pub(super) batches: &'a mut [Box<dyn Batch>],
    pub(super) groups: &'a [Group],
    pub(super) steps: &'a [Step],
    pub(super) views: &'a [Views<'a>],
    pub(super) running: &'a Running,
    /// The worker's compiled code, if any.
    pub(super) code: Option<&'a WorkerCode>,
    pub(super) sh: &'a Shared,
    /// The worker's number: its party at the barrier.
    pub(super) worker: usize,
}

impl Run<'_> {
    /// Run step `phase`'s evaluations (if `evals`), then its ticks (if
    /// `ticks`), recording in `running` which component runs.
    #[inline(always)]
    pub(super) fn calls(
        &mut self,
        phase: usize,
        (evals, ticks): (bool, bool),
        (read, write): (usize, usize),
    ) {
        let (step, running) = (&self.steps[phase], self.running);
        if evals {
            running.tick.set(false);
            if let Some(code) = step.native[0] {
                self.native(code[read], read);
            }
            for &g in &step.evals {
                running.enter(g as usize);
                self.batches[g as usize].eval(&self.views[g as usize][view(read, read)]);
            }
        }
        if ticks {
            running.tick.set(true);
            if let Some(code) = step.native[1] {
                self.native(code[read], read);
            }
            for &g in &step.ticks {
                running.enter(g as usize);
                self.batches[g as usize].tick(&self.views[g as usize][view(read, write)]);
            }
        }
    }

    /// Run compiled code reading parity `read`; a check it reports failed
    /// stops the run as the component's own `fail` would.
    #[inline(always)]
    pub(super) fn native(&self, code: Code, read: usize) {
        let slots = self.sh.slots.as_ptr().cast::<u64>().cast_mut();
        // SAFETY: `code` was generated for this slot array (`compile`), and
        // its `Native` outlives the run; the worker runs it in the phase
        // its components belong to, so the barriers order its slot accesses
        // as they order the batches' (see `native::jit`). Writing through
        // the pointer is allowed as `AtomicU64` is an `UnsafeCell`.
        let status = unsafe { code.call(slots) };
        if status != 0 {
            let component = (status - 1) as usize;
            self.running.native.set(Some(component));
            let message = self.code.map_or_else(
                || "a compiled check failed".to_string(),
                |code| code.failure(component, &self.sh.slots, read),
            );
            crate::model::fail(message);
        }
    }

    /// Run phases `from..` of cycle `t`, each under its own guard and ended
    /// by a barrier where `waits` says (by phase; every phase if it has
    /// none: see [`barriers`]); `faulted` says whether an evaluation, or a
    /// tick, of this cycle has failed already (see [`phase`](Self::phase)).
    pub(super) fn finish_cycle(
        &mut self,
        t: u64,
        from: usize,
        mut faulted: (bool, bool),
        waits: &[bool],
        mut lead: Option<&mut Lead<'_>>,
    ) {
        let sh = self.sh;
        let last = self.steps.len() - 1;
        for phase in from..self.steps.len() {
            if phase == last {
                if let Some(lead) = lead.as_deref_mut() {
                    lead_duties(lead, sh, t, parities(t).0);
                }
            }
            self.phase(t, phase, &mut faulted);
            if waits.get(phase).copied().unwrap_or(true) {
                sh.barrier.wait(self.worker);
            }
        }
    }

    /// Run `phase` of cycle `t` under a guard, given whether an evaluation,
    /// or a tick, of this cycle has failed already, and record what fails
    /// now. A failed evaluation skips the rest of the cycle; a failed tick
    /// skips the cycle's other ticks.
    pub(super) fn phase(
        &mut self,
        t: u64,
        phase: usize,
        (eval_faulted, tick_faulted): &mut (bool, bool),
    ) {
        let (evals, ticks) = (!*eval_faulted, !(*eval_faulted || *tick_faulted));
        if (evals || ticks) && !self.steps[phase].is_idle() {
            if let Err(fault) = guard(|| self.calls(phase, (evals, ticks), parities(t))) {
                // A faulting evaluation skips this phase's ticks too.
                let tick = self.fault(t, fault);
                (*eval_faulted, *tick_faulted) = (*eval_faulted || !tick, true);
            }
        }
    }

    /// The run of a worker that is alone: no barriers, so the cycles run
    /// under one guard instead of one per phase (a seventh of a cycle of
    /// 16 counters). A fault ends the guard; the faulting cycle is then
    /// finished as [`finish_cycle`](Self::finish_cycle) would have.
    pub(super) fn alone(
        &mut self,
        (start, end): (u64, u64),
        copied: &[Range<usize>],
        mut lead: Option<&mut Lead<'_>>,
    ) -> u64 {
        let sh = self.sh;
        let last = self.steps.len() - 1;
        // The cycle and phase running.
        let at = Cell::new((start, 0));
        let result = guard(|| {
            for t in start..end {
                for range in copied {
                    sh.copy_forward(range, parities(t).0);
                }
                for phase in 0..self.steps.len() {
                    at.set((t, phase));
                    if phase == last {
                        if let Some(lead) = lead.as_deref_mut() {
                            lead_duties(lead, sh, t, parities(t).0);
                        }
                    }
                    self.calls(phase, (true, true), parities(t));
                }
                if sh.halt.load(Relaxed) <= t {
                    return t + 1;
                }
            }
            end
        });
        let fault = match result {
            Ok(completed) => return completed,
            Err(fault) => fault,
        };
        let (t, phase) = at.get();
        let tick = self.fault(t, fault);
        self.finish_cycle(t, phase + 1, (!tick, true), &[], lead);
        sh.stop_after(t).unwrap_or(t + 1)
    }

    /// Record that the call `running` names failed in cycle `t`; whether it was a tick.
    pub(super) fn fault(&self, t: u64, (kind, message): (FaultKind, String)) -> bool {
        let tick = self.running.tick.get();
        let phase = if tick { Phase::Tick } else { Phase::Eval };
        let component = self.running.component(self.groups);
        self.sh.fault(t, phase, (component, kind, message));
        tick
    }
}

/// Which phases of a cycle end with a barrier, for workers running `pool`
/// on threads, `traced` or not. A barrier is left out where the next phase
/// does nothing on any worker: the one after that orders the same writes
/// and reads. Except before the last phase when `traced`: the lead samples
/// the trace there, so every worker's values must be final before it, and
/// must stay until it is done. The last phase always ends with one.
pub(super) fn barriers<'w>(
    pool: impl Iterator<Item = &'w Worker> + Clone,
    traced: bool,
) -> Vec<bool> {
    let phases = pool.clone().next().map_or(0, |w| w.steps.len());
    let idle = |p: usize| pool.clone().all(|w| w.steps[p].is_idle());
    (0..phases)
        .map(|p| p + 1 == phases || (traced && p + 2 == phases) || !idle(p + 1))
        .collect()
}

/// Cycles `start..end` of a circuit whose every component is compiled into
/// `cycles`, on one thread: one call a cycle (every evaluation, then every
/// tick), then the trace sample (which the ticks do not change, as they
/// write the other parity). `copied` are the registered slots to copy
/// forward; `failure(component, parity)` says why a check failed. Compiled
/// code cannot panic; a check that fails does so at a clock edge, so its
/// cycle is traced. The cycles completed, if the run stops in these.
///
/// Where nothing happens between two cycles (no trace, nothing to copy,
/// no look at progress or stop requests due), the two run in one call.
pub(super) fn compiled_cycles(
    cycles: Cycles,
    (start, end): (u64, u64),
    copied: &[&[Range<usize>]],
    (sh, failure): (&Shared, &dyn Fn(usize, usize) -> String),
    mut lead: Option<&mut Lead<'_>>,
) -> Option<u64> {
    let slots = sh.slots.as_ptr().cast::<u64>().cast_mut();
    let copying = copied.iter().any(|c| !c.is_empty());
    let tracing = lead.as_ref().is_some_and(|l| l.tracer.is_some());
    let in_twos = !copying && !tracing;
    let mut t = start;
    while t < end {
        let read = parities(t).0;
        if in_twos && read == 0 && t + 1 < end && !t.is_multiple_of(HOUSEKEEPING) {
            // SAFETY: as below; the function runs cycle `t`, then `t + 1`.
            let status = unsafe { cycles.two.call(slots) };
            if status != 0 {
                let (at, component) = (t + (status >> 32), (status as u32 - 1) as usize);
                let message = failure(component, parities(at).0);
                sh.fault(at, Phase::Tick, (component, FaultKind::Failed, message));
                return Some(at + 1);
            }
            // Nothing is due at `t` or `t + 1` (not a multiple of
            // `HOUSEKEEPING`, and no trace): the lead has nothing to do.
            t += 2;
            continue;
        }
        for range in copied.iter().copied().flatten() {
            sh.copy_forward(range, read);
        }
        // SAFETY: as in `Run::native`: the code was generated for these
        // slots, its `Native` outlives the run, and no other thread runs
        // any part of the circuit meanwhile.
        let status = unsafe { cycles.one[read].call(slots) };
        if status != 0 {
            let component = (status - 1) as usize;
            let message = failure(component, read);
            sh.fault(t, Phase::Tick, (component, FaultKind::Failed, message));
        }
        if let Some(lead) = lead.as_deref_mut() {
            lead_duties(lead, sh, t, read);
        }
        if status != 0 || sh.halt.load(Relaxed) <= t {
            return Some(t + 1);
        }
        t += 1;
    }
    None
}

/// Sample the trace row (unless an evaluation failed), report progress,
/// and ask to stop at the end of cycle `t` if the user or the tracer wants.
#[inline(always)]
pub(super) fn lead_duties(lead: &mut Lead<'_>, sh: &Shared, t: u64, read: usize) {
    if let (Some(tracer), false) = (lead.tracer.as_mut(), sh.eval_failed.load(Relaxed) <= t) {
        for (v, &s) in tracer.row().iter_mut().zip(&lead.row[read]) {
            *v = sh.slots[s as usize].load(Relaxed);
        }
    }
    // Progress and stop requests every few cycles (from the first: a stop
    // asked before the run ends it after cycle 0): a short cycle of
    // compiled code costs less than looking at them.
    if t.is_multiple_of(HOUSEKEEPING) {
        lead.options.report_progress(t + 1);
        let broken = lead.tracer.as_ref().is_some_and(Tracer::is_broken);
        if broken || lead.options.stop_requested() {
            sh.halt.fetch_min(t, Relaxed);
        }
    }
}

/// Cycles between the lead's looks at progress and stop requests.
const HOUSEKEEPING: u64 = 64;
