//! The partitioned engine: components grouped onto a few worker threads,
//! evaluated in dependency order over plain value slots.
//!
//! Every net has a slot in one shared array; a registered output has two,
//! one per cycle parity: in cycle `t` everyone reads the copy of parity
//! `t % 2` and clock edges write the other, so no tick sees another's new
//! value. A cycle is a series of phases, each ended by a barrier:
//! - phase `l < L` (one per combinational level): each worker evaluates its
//!   components of level `l`, and ticks the clocked components whose inputs
//!   are final by then (those reading only registered outputs, constants
//!   and levels `< l`);
//! - phase `L`: worker 0 samples the traced slots, then every worker ticks
//!   the rest of its clocked components.
//!
//! At the start of a cycle, each worker copies its own registered slots
//! forward to the other parity, so that a registered output a tick does not
//! set keeps its value. So a circuit without combinational logic needs
//! one barrier per cycle. With one worker the barriers cost nothing, no
//! thread is started, and a whole cycle (in fact the whole run, until a
//! fault) runs under one fault guard instead of one per phase.

use std::any::TypeId;
use std::cell::Cell;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::barrier::Barrier;
use super::fault::{guard, Fault, FaultKind, Faults, Phase};
use super::native::{Code, Lowered, Native, WorkerCode};
use super::partition::{owners, tick_phases};
use super::{finish_trace, Codegen, Compiled, Outcome, RunError, RunOptions};
use crate::batch::{type_of, Batch, BatchIo, Wiring};
use crate::circuit::{Circuit, Source};
use crate::model::{Slot, Timing};
use crate::trace::Tracer;

/// Components of one model type and shape, at one level and tick phase of
/// one worker, run as a batch: how they are wired.
struct Group {
    wiring: Wiring,
    /// Global index of each member.
    members: Vec<usize>,
    /// The phase of its members' evaluation and of their tick (`usize::MAX`: none).
    phases: (usize, usize),
}

/// What a worker does in one phase of a cycle: native code first (that of
/// the lowered components, for each parity read), then batches.
#[derive(Clone, Default)]
struct Step {
    /// Code of the evaluations, and of the ticks.
    native: [Option<[Code; 2]>; 2],
    /// Groups to evaluate.
    evals: Vec<u32>,
    /// Groups to tick.
    ticks: Vec<u32>,
}

impl Step {
    /// Whether the step does nothing.
    fn is_idle(&self) -> bool {
        self.evals.is_empty() && self.ticks.is_empty() && self.native.iter().all(Option::is_none)
    }
}

/// The components one worker owns, in batches, with its schedule.
struct Worker {
    /// Each group's batch (`batches[g]` runs `groups[g]`).
    batches: Vec<Box<dyn Batch>>,
    groups: Vec<Group>,
    /// One step per phase (the same number of phases for every worker).
    steps: Vec<Step>,
    /// This worker's registered slots (of parity 0; parity 1 is `parity` further).
    registered: Range<usize>,
    /// Those that are copied forward every cycle: all but the outputs of
    /// compiled components that their tick sets every cycle (the others
    /// are copied once, before cycle 0).
    copied: Vec<Range<usize>>,
}

/// The views a group's calls get, made once per run: index with [`view`].
type Views<'a> = [BatchIo<'a>; 4];

/// The view reading inputs of parity `read` and writing outputs of parity `write`.
fn view(read: usize, write: usize) -> usize {
    2 * read + write
}

/// Which group and member runs, and in which kind of call, so that a
/// panic names the component.
#[derive(Default)]
struct Running {
    group: Cell<usize>,
    member: Cell<usize>,
    tick: Cell<bool>,
    /// The compiled component whose check failed, if that is what stopped.
    native: Cell<Option<usize>>,
}

impl Running {
    /// Group `g` starts running (at its first member, until it says otherwise).
    fn enter(&self, g: usize) {
        self.group.set(g);
        self.member.set(0);
        self.native.set(None);
    }

    /// The component running.
    fn component(&self, groups: &[Group]) -> usize {
        match self.native.get() {
            Some(c) => c,
            None => groups[self.group.get()].members[self.member.get()],
        }
    }
}

/// No fault or stop yet.
const NEVER: u64 = u64::MAX;

/// State shared by all workers.
struct Shared {
    slots: Vec<Slot>,
    /// The distance between a registered slot's two copies.
    parity: usize,
    barrier: Barrier,
    /// The first cycle with a fault in any phase: stop at its end.
    failed: AtomicU64,
    /// The first cycle with a fault before its trace sample: it is not traced.
    eval_failed: AtomicU64,
    /// The cycle at whose end to stop (a stop request, a broken trace).
    halt: AtomicU64,
    faults: Faults,
}

impl Shared {
    fn fault(
        &self,
        cycle: u64,
        phase: Phase,
        (component, kind, message): (usize, FaultKind, String),
    ) {
        self.faults.report(Fault {
            cycle,
            phase,
            component,
            kind,
            message,
        });
        if phase != Phase::Tick {
            self.eval_failed.fetch_min(cycle, Relaxed);
        }
        self.failed.fetch_min(cycle, Relaxed);
    }

    /// The cycles completed if the run stops after cycle `t`: every worker
    /// decides from the same facts, as faults and stops are recorded with
    /// their cycle, so what others do in cycle `t + 1` after the barrier
    /// cannot change the decision about cycle `t`.
    fn stop_after(&self, t: u64) -> Option<u64> {
        if self.eval_failed.load(Relaxed) <= t {
            Some(t)
        } else if self.failed.load(Relaxed) <= t || self.halt.load(Relaxed) <= t {
            Some(t + 1)
        } else {
            None
        }
    }

    /// Copy registered slots `range` from parity `from` to the other.
    ///
    /// Called by the worker owning `range` at the start of a cycle, before
    /// any tick. Nobody else accesses those slots of the other parity in
    /// this cycle (they read parity `from`), and the barrier that ended the
    /// last cycle orders this copy after every read of them there.
    fn copy_forward(&self, range: &Range<usize>, from: usize) {
        let (src, dst) = if from == 0 {
            (range.start, range.start + self.parity)
        } else {
            (range.start + self.parity, range.start)
        };
        let len = range.len();
        assert!(src.max(dst) + len <= self.slots.len());
        // SAFETY: both ranges are in bounds (checked above) and disjoint
        // (they are `parity >= len` apart); `AtomicU64` has the layout of
        // `u64`; and, as above, no other thread accesses the destination
        // during the copy, and the source is only read. Writing through
        // the pointer is allowed because `AtomicU64` is an `UnsafeCell`
        // (as with `AtomicU64::as_ptr`). Plain copies instead of slot-by-
        // slot atomic ones: those took a quarter of the time of 4,096
        // counters, and a sixth of 16.
        unsafe {
            let base = self.slots.as_ptr().cast::<u64>();
            let (from, to) = (base.add(src), base.add(dst).cast_mut());
            if len > SHORT_COPY {
                std::ptr::copy_nonoverlapping(from, to, len);
                return;
            }
            // A call to `memcpy` costs more than copying a few slots (an
            // eighth of a cycle of 16 counters): blocks of four, inline.
            let blocks = len / 4;
            for b in 0..blocks {
                let block = std::ptr::read_unaligned(from.add(4 * b).cast::<[u64; 4]>());
                std::ptr::write_unaligned(to.add(4 * b).cast::<[u64; 4]>(), block);
            }
            for i in 4 * blocks..len {
                to.add(i).write(from.add(i).read());
            }
        }
    }
}

/// Registered ranges up to this many slots are copied forward slot by slot.
const SHORT_COPY: usize = 64;

/// Worker 0's extra duties: tracing, progress, stopping.
struct Lead<'a> {
    tracer: Option<Tracer>,
    /// The slot of each traced net, for each parity.
    row: [Vec<u32>; 2],
    options: &'a RunOptions,
}

pub(super) fn run(
    circuit: Circuit,
    cycles: u64,
    workers: usize,
    options: &RunOptions,
    tracer: Option<Tracer>,
) -> Result<Outcome, RunError> {
    let workers = workers.min(circuit.components.len().max(1));
    let (mut pool, shared, row, wired) =
        build(circuit, workers, options.one_by_one, tracer.as_ref());
    reset(&mut pool, &shared);
    // Reset faults end the run before cycle 0; code is made only for a run.
    let reset_failed = shared.failed.load(Relaxed) != NEVER;
    // Lowering and generating code, timed apart from the cycles.
    let compiling = std::time::Instant::now();
    let (native, note) = match options.codegen {
        Codegen::Compiled if !reset_failed => {
            compile(&mut pool, wired, &shared, options.one_by_one)
        }
        _ => (None, None),
    };
    let compiled = native.as_ref().map(|n| Compiled {
        lowered: n.lowered,
        compile_time: compiling.elapsed(),
    });
    let mut lead = Lead {
        tracer,
        row,
        options,
    };
    let cycles_started = std::time::Instant::now();
    let completed = if reset_failed {
        0
    } else {
        let code = |w: usize| native.as_ref().map(|n| &n.workers[w]);
        let (first, rest) = pool.split_at_mut(1);
        std::thread::scope(|s| -> Result<u64, RunError> {
            let mut starts = Vec::new();
            for (w, worker) in rest.iter_mut().enumerate() {
                let (go, wait) = crossbeam_channel::bounded::<()>(1);
                let (shared, code) = (&shared, code(w + 1));
                std::thread::Builder::new()
                    .name("cspsim-worker".into())
                    .spawn_scoped(s, move || {
                        if wait.recv().is_ok() {
                            work(worker, code, shared, cycles, None);
                        }
                    })
                    .map_err(RunError::Spawn)?;
                starts.push(go);
            }
            for go in starts {
                let _ = go.send(());
            }
            Ok(work(
                &mut first[0],
                code(0),
                &shared,
                cycles,
                Some(&mut lead),
            ))
        })?
    };
    // The code is freed only after every worker has stopped calling it.
    drop(native);
    Ok(Outcome {
        cycles: completed,
        threads: workers,
        fault: shared.faults.first(),
        elapsed: Some(cycles_started.elapsed()),
        trace: finish_trace(lead.tracer),
        compiled,
        note,
    })
}

/// Reset every component, worker after worker; a fault is reported as a
/// reset fault of its component.
fn reset(pool: &mut [Worker], sh: &Shared) {
    let running = Running::default();
    for w in pool {
        let result = guard(|| {
            for (g, (batch, group)) in w.batches.iter_mut().zip(&w.groups).enumerate() {
                running.enter(g);
                batch.reset(&group.wiring.io(&sh.slots, 0, 0, &running.member));
            }
        });
        if let Err((kind, message)) = result {
            sh.fault(
                0,
                Phase::Reset,
                (running.component(&w.groups), kind, message),
            );
        }
    }
}

/// Lower every group whose members all lower, and compile them; they leave
/// the workers' batch schedules for native code. Without a code generator,
/// nothing changes and the note says why.
fn compile(
    pool: &mut [Worker],
    wired: Vec<Wired>,
    sh: &Shared,
    one_by_one: bool,
) -> (Option<Native>, Option<String>) {
    let mut wired: Vec<Option<Wired>> = wired.into_iter().map(Some).collect();
    let mut lowered = Vec::with_capacity(pool.len());
    let mut chosen = Vec::with_capacity(pool.len());
    let mut copied = Vec::with_capacity(pool.len());
    for w in pool.iter() {
        let mut mine = Vec::new();
        let mut groups = Vec::new();
        // The registered slots (parity 0) that still need copying forward.
        let mut copy: Vec<u32> = Vec::new();
        for (g, (batch, group)) in w.batches.iter().zip(&w.groups).enumerate() {
            let lowerings: Option<Vec<_>> =
                (0..group.members.len()).map(|k| batch.lower(k)).collect();
            let Some(lowerings) = lowerings else {
                for &c in &group.members {
                    let wires = wired[c].as_ref().expect("one group per component");
                    copy.extend(wires.unset(|_| false));
                }
                continue;
            };
            let checked = lowerings.iter().zip(&group.members).all(|(l, &c)| {
                let wires = wired[c].as_ref().expect("one group per component");
                crate::lower::verify::verify(l, wires.ins[0].len(), &wires.registered).is_ok()
            });
            if !checked {
                debug_assert!(false, "a standard lowering fails verification");
                continue;
            }
            for (lowering, &c) in lowerings.into_iter().zip(&group.members) {
                let sets = |o: usize| {
                    let set = |i: &crate::lower::Inst| matches!(*i, crate::lower::Inst::SetOutput(p, _) if p as usize == o);
                    lowering.tick.insts().iter().any(set)
                };
                let wires = wired[c].take().expect("one group per component");
                copy.extend(wires.unset(sets));
                mine.push(Lowered {
                    component: c,
                    lowering,
                    ins: wires.ins,
                    outs: wires.outs,
                    masks: group.wiring.masks().to_vec(),
                    in_masks: wires.in_masks,
                    constants: wires.constants,
                    phases: group.phases,
                });
            }
            groups.push(g as u32);
        }
        lowered.push(mine);
        chosen.push(groups);
        copied.push(ranges(copy));
    }
    let phases = pool.first().map_or(0, |w| w.steps.len());
    // A lone worker whose every group compiles runs a cycle in one call.
    let whole_cycle = match (&*pool, chosen.as_slice()) {
        ([w], [groups]) => groups.len() == w.groups.len(),
        _ => false,
    };
    let modes = (one_by_one, whole_cycle);
    let native = match Native::compile(lowered, phases, &sh.slots, modes) {
        Ok(native) => native,
        Err(why) => return (None, Some(format!("{why}; running interpreted"))),
    };
    for (((w, groups), code), copied) in
        pool.iter_mut().zip(chosen).zip(&native.workers).zip(copied)
    {
        w.copied = copied;
        for (step, native) in w.steps.iter_mut().zip(&code.steps) {
            step.native = *native;
            step.evals.retain(|g| !groups.contains(g));
            step.ticks.retain(|g| !groups.contains(g));
        }
    }
    (Some(native), None)
}

/// `slots` as ranges of consecutive slots.
fn ranges(mut slots: Vec<u32>) -> Vec<Range<usize>> {
    slots.sort_unstable();
    let mut ranges: Vec<Range<usize>> = Vec::new();
    for s in slots {
        let s = s as usize;
        match ranges.last_mut() {
            Some(r) if r.end == s => r.end = s + 1,
            _ => ranges.push(s..s + 1),
        }
    }
    ranges
}

/// One worker's run; returns the cycles completed: evaluated and traced
/// (a cycle whose clock edge failed counts, as its values are in the trace).
fn work(
    w: &mut Worker,
    code: Option<&WorkerCode>,
    sh: &Shared,
    cycles: u64,
    lead: Option<&mut Lead<'_>>,
) -> u64 {
    let running = Running::default();
    let views: Vec<Views<'_>> = w
        .groups
        .iter()
        .map(|g| {
            let io = |read, write| g.wiring.io(&sh.slots, read, write, &running.member);
            [io(0, 0), io(0, 1), io(1, 0), io(1, 1)]
        })
        .collect();
    let mut run = Run {
        batches: &mut w.batches,
        groups: &w.groups,
        steps: &w.steps,
        views: &views,
        running: &running,
        code,
        sh,
    };
    // Every registered slot holds its value in both parities; from then on
    // only those that a tick may leave unset need copying.
    sh.copy_forward(&w.registered, 0);
    if sh.barrier.is_alone() {
        if let Some(cycle) = code.and_then(|c| c.cycle) {
            return run.alone_compiled(cycle, cycles, &w.copied, lead);
        }
        return run.alone(cycles, &w.copied, lead);
    }
    let mut lead = lead;
    for t in 0..cycles {
        for range in &w.copied {
            sh.copy_forward(range, parities(t).0);
        }
        run.finish_cycle(t, 0, (false, false), lead.as_deref_mut());
        if let Some(completed) = sh.stop_after(t) {
            return completed;
        }
    }
    cycles
}

/// The parities cycle `t` reads and writes.
fn parities(t: u64) -> (usize, usize) {
    let read = (t % 2) as usize;
    (read, 1 - read)
}

/// A worker's batches with their views and schedule, for one run.
struct Run<'a> {
    batches: &'a mut [Box<dyn Batch>],
    groups: &'a [Group],
    steps: &'a [Step],
    views: &'a [Views<'a>],
    running: &'a Running,
    /// The worker's compiled code, if any.
    code: Option<&'a WorkerCode>,
    sh: &'a Shared,
}

impl Run<'_> {
    /// Run step `phase`'s evaluations (if `evals`), then its ticks (if
    /// `ticks`), recording in `running` which component runs.
    #[inline(always)]
    fn calls(&mut self, phase: usize, (evals, ticks): (bool, bool), (read, write): (usize, usize)) {
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
    fn native(&self, code: Code, read: usize) {
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
    /// by a barrier; `faulted` says whether an evaluation, or a tick, of
    /// this cycle has failed already. A failed evaluation skips the rest of
    /// the cycle; a failed tick skips the cycle's other ticks.
    fn finish_cycle(
        &mut self,
        t: u64,
        from: usize,
        (mut eval_faulted, mut tick_faulted): (bool, bool),
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
            let (evals, ticks) = (!eval_faulted, !(eval_faulted || tick_faulted));
            if (evals || ticks) && !self.steps[phase].is_idle() {
                if let Err(fault) = guard(|| self.calls(phase, (evals, ticks), parities(t))) {
                    // A faulting evaluation skips this phase's ticks too.
                    let tick = self.fault(t, fault);
                    (eval_faulted, tick_faulted) = (eval_faulted || !tick, true);
                }
            }
            sh.barrier.wait();
        }
    }

    /// The run of a worker that is alone: no barriers, so the cycles run
    /// under one guard instead of one per phase (a seventh of a cycle of
    /// 16 counters). A fault ends the guard; the faulting cycle is then
    /// finished as [`finish_cycle`](Self::finish_cycle) would have.
    fn alone(
        &mut self,
        cycles: u64,
        copied: &[Range<usize>],
        mut lead: Option<&mut Lead<'_>>,
    ) -> u64 {
        let sh = self.sh;
        let last = self.steps.len() - 1;
        // The cycle and phase running.
        let at = Cell::new((0, 0));
        let result = guard(|| {
            for t in 0..cycles {
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
            cycles
        });
        let fault = match result {
            Ok(completed) => return completed,
            Err(fault) => fault,
        };
        let (t, phase) = at.get();
        let tick = self.fault(t, fault);
        self.finish_cycle(t, phase + 1, (!tick, true), lead);
        sh.stop_after(t).unwrap_or(t + 1)
    }

    /// The run of a worker that is alone and whose every component is
    /// compiled into `cycle`: one call a cycle (every evaluation, then every
    /// tick), then the trace sample (which the ticks do not change, as they
    /// write the other parity). Compiled code cannot panic; a check that
    /// fails does so at a clock edge, so its cycle is traced.
    fn alone_compiled(
        &mut self,
        cycle: [Code; 2],
        cycles: u64,
        copied: &[Range<usize>],
        mut lead: Option<&mut Lead<'_>>,
    ) -> u64 {
        let sh = self.sh;
        let slots = sh.slots.as_ptr().cast::<u64>().cast_mut();
        for t in 0..cycles {
            let read = parities(t).0;
            for range in copied {
                sh.copy_forward(range, read);
            }
            // SAFETY: as in `native`: the code was generated for these
            // slots, its `Native` outlives the run, and this worker is alone.
            let status = unsafe { cycle[read].call(slots) };
            if status != 0 {
                let component = (status - 1) as usize;
                let message = self.code.map_or_else(
                    || "a compiled check failed".to_string(),
                    |code| code.failure(component, &sh.slots, read),
                );
                sh.fault(t, Phase::Tick, (component, FaultKind::Failed, message));
            }
            if let Some(lead) = lead.as_deref_mut() {
                lead_duties(lead, sh, t, read);
            }
            if status != 0 || sh.halt.load(Relaxed) <= t {
                return t + 1;
            }
        }
        cycles
    }

    /// Record that the call `running` names failed in cycle `t`; whether it was a tick.
    fn fault(&self, t: u64, (kind, message): (FaultKind, String)) -> bool {
        let tick = self.running.tick.get();
        let phase = if tick { Phase::Tick } else { Phase::Eval };
        let component = self.running.component(self.groups);
        self.sh.fault(t, phase, (component, kind, message));
        tick
    }
}

/// Sample the trace row (unless an evaluation failed), report progress,
/// and ask to stop at the end of cycle `t` if the user or the tracer wants.
#[inline(always)]
fn lead_duties(lead: &mut Lead<'_>, sh: &Shared, t: u64, read: usize) {
    if let (Some(tracer), false) = (lead.tracer.as_mut(), sh.eval_failed.load(Relaxed) <= t) {
        for (v, &s) in tracer.row().iter_mut().zip(&lead.row[read]) {
            *v = sh.slots[s as usize].load(Relaxed);
        }
    }
    lead.options.report_progress(t + 1);
    let broken = lead.tracer.as_ref().is_some_and(Tracer::is_broken);
    if broken || lead.options.stop_requested() {
        sh.halt.fetch_min(t, Relaxed);
    }
}

/// A component's slots and constant inputs, for compiling it.
struct Wired {
    /// The slot of each input, per parity read.
    ins: [Vec<u32>; 2],
    /// The slot of each output, per parity written.
    outs: [Vec<u32>; 2],
    /// Each input's value if nothing drives it.
    constants: Vec<Option<u64>>,
    /// Whether each output is registered.
    registered: Vec<bool>,
    /// Each input's mask.
    in_masks: Vec<u64>,
}

impl Wired {
    /// The slots (parity 0) of the registered outputs that `sets` says a
    /// tick may leave unset.
    fn unset(&self, sets: impl Fn(usize) -> bool) -> Vec<u32> {
        let registered = self.registered.iter().enumerate().filter(|(_, r)| **r);
        registered
            .filter(|&(o, _)| !sets(o))
            .map(|(o, _)| self.outs[0][o])
            .collect()
    }
}

/// Assign components to workers, lay out the slots, and hand out the
/// models; each component's slots, by index.
fn build(
    circuit: Circuit,
    workers: usize,
    one_by_one: bool,
    tracer: Option<&Tracer>,
) -> (Vec<Worker>, Shared, [Vec<u32>; 2], Vec<Wired>) {
    let n = circuit.components.len();
    let levels = circuit.levels.len();
    let mut level_of = vec![usize::MAX; n];
    for (l, level) in circuit.levels.iter().enumerate() {
        for &c in level {
            level_of[c] = l;
        }
    }
    let tick_phase = tick_phases(&circuit, &level_of);
    let owner = owners(&circuit, &level_of, &tick_phase, workers);
    let mut by_worker: Vec<Vec<usize>> = vec![Vec::new(); workers];
    for c in 0..n {
        by_worker[owner[c]].push(c);
    }

    // Registered slots (parity 0) grouped per worker, so that each copies
    // one range; then their parity-1 copies; then combinational slots and
    // constants. Groups padded to a cache line.
    let pad = |n: usize| n.div_ceil(8) * 8;
    let mut out_slot: Vec<Vec<u32>> = circuit
        .components
        .iter()
        .map(|c| vec![0; c.interface.outputs().len()])
        .collect();
    let mut next = 0usize;
    let mut registered = Vec::with_capacity(workers);
    for comps in &by_worker {
        let start = next;
        for &c in comps {
            for (o, decl) in circuit.components[c].interface.outputs().iter().enumerate() {
                if decl.timing == Timing::Registered {
                    out_slot[c][o] = next as u32;
                    next += 1;
                }
            }
        }
        registered.push(start..next);
        next = pad(next);
    }
    let parity = next;
    next *= 2;
    for comps in &by_worker {
        for &c in comps {
            for (o, decl) in circuit.components[c].interface.outputs().iter().enumerate() {
                if decl.timing != Timing::Registered {
                    out_slot[c][o] = next as u32;
                    next += 1;
                }
            }
        }
        next = pad(next);
    }
    // A registered output's slot in parity `p`; others have one slot.
    let at = |c: usize, o: usize, p: usize| {
        let slot = out_slot[c][o];
        if circuit.is_registered(c, o) {
            slot + (p * parity) as u32
        } else {
            slot
        }
    };
    let mut constants = Vec::new();
    let ins: Vec<[Vec<u32>; 2]> = circuit
        .components
        .iter()
        .map(|comp| {
            let mut ins = [Vec::new(), Vec::new()];
            for src in &comp.inputs {
                match *src {
                    Source::Driver(d) => {
                        for (p, ins) in ins.iter_mut().enumerate() {
                            ins.push(at(d.component, d.port, p));
                        }
                    }
                    Source::Constant(v) => {
                        constants.push((next, v));
                        ins[0].push(next as u32);
                        ins[1].push(next as u32);
                        next += 1;
                    }
                }
            }
            ins
        })
        .collect();
    let outs: Vec<[Vec<u32>; 2]> = (0..n)
        .map(|c| [0, 1].map(|p| (0..out_slot[c].len()).map(|o| at(c, o, p)).collect()))
        .collect();
    let row: [Vec<u32>; 2] = [0, 1].map(|p| {
        tracer
            .map(|t| {
                t.nets()
                    .iter()
                    .map(|d| at(d.component, d.port, p))
                    .collect()
            })
            .unwrap_or_default()
    });

    let slots: Vec<Slot> = (0..next).map(|_| Slot::new(0)).collect();
    for (s, v) in constants {
        slots[s].store(v, Relaxed);
    }

    // One batch per worker, level, tick phase, model type and shape
    // (inputs, output masks, clocked); or one per component when batching is off.
    let mut pool: Vec<Worker> = registered
        .into_iter()
        .map(|registered| Worker {
            batches: Vec::new(),
            groups: Vec::new(),
            steps: vec![Step::default(); levels + 1],
            copied: vec![registered.clone()],
            registered,
        })
        .collect();
    type Key = (usize, usize, usize, TypeId, usize, Vec<u64>, usize);
    let mut group_of: HashMap<Key, u32> = HashMap::new();
    let mut wired = Vec::with_capacity(n);
    for (c, ((comp, ins), outs)) in circuit
        .components
        .into_iter()
        .zip(ins)
        .zip(outs)
        .enumerate()
    {
        let constants = comp
            .inputs
            .iter()
            .map(|src| match *src {
                Source::Constant(v) => Some(v),
                Source::Driver(_) => None,
            })
            .collect();
        let masks = comp.interface.output_masks();
        let registered = comp
            .interface
            .outputs()
            .iter()
            .map(|o| o.timing == Timing::Registered)
            .collect();
        let single = if one_by_one { c } else { 0 };
        let key = (
            owner[c],
            level_of[c],
            tick_phase[c],
            type_of(comp.behaviour.as_ref()),
            ins[0].len(),
            masks.clone(),
            single,
        );
        let w = &mut pool[owner[c]];
        let g = *group_of.entry(key).or_insert_with(|| {
            let g = w.groups.len() as u32;
            w.batches.push(comp.behaviour.new_batch());
            w.groups.push(Group {
                wiring: Wiring::new(ins[0].len(), masks.into_boxed_slice()),
                members: Vec::new(),
                phases: (level_of[c], tick_phase[c]),
            });
            if let Some(step) = w.steps.get_mut(level_of[c]) {
                step.evals.push(g);
            }
            if let Some(step) = w.steps.get_mut(tick_phase[c]) {
                step.ticks.push(g);
            }
            g
        });
        let group = &mut w.groups[g as usize];
        group.wiring.push([&ins[0], &ins[1]], [&outs[0], &outs[1]]);
        group.members.push(c);
        w.batches[g as usize].push(comp.behaviour);
        let in_masks = comp
            .interface
            .inputs()
            .iter()
            .map(|i| i.ty.mask())
            .collect();
        wired.push(Wired {
            ins,
            outs,
            constants,
            registered,
            in_masks,
        });
    }
    let shared = Shared {
        slots,
        parity,
        barrier: Barrier::new(workers),
        failed: AtomicU64::new(NEVER),
        eval_failed: AtomicU64::new(NEVER),
        halt: AtomicU64::new(NEVER),
        faults: Faults::default(),
    };
    (pool, shared, row, wired)
}
