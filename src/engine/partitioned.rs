//! The partitioned engine: components grouped onto a few worker threads,
//! evaluated in dependency order over plain value slots.
//!
//! Every net has one slot in a shared array. Per cycle:
//! 1. for each combinational level, each worker evaluates its components of
//!    that level, then all workers meet at a barrier;
//! 2. worker 0 samples the traced slots into the trace row;
//! 3. each worker ticks its clocked components; registered outputs are
//!    written to a staging copy of the slots so that no tick sees another's
//!    new value; barrier;
//! 4. each worker commits its own range of registered slots; barrier.
//!
//! With one worker the barriers cost nothing and no thread is started.

use std::any::TypeId;
use std::cell::Cell;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use super::barrier::Barrier;
use super::fault::{guard, Fault, FaultKind, Faults, Phase};
use super::{finish_trace, Outcome, RunError, RunOptions};
use crate::batch::{type_of, Batch, BatchIo, Wiring};
use crate::circuit::{Circuit, Source};
use crate::model::{Slot, Timing};
use crate::trace::Tracer;

/// Components of one model type and shape at one level of one worker,
/// run as a batch.
struct Group {
    batch: Box<dyn Batch>,
    wiring: Wiring,
    /// Global index of each member.
    members: Vec<usize>,
}

/// The components one worker owns, in batches, with its schedule.
struct Worker {
    groups: Vec<Group>,
    /// Groups per combinational level (same number of levels for every worker).
    levels: Vec<Vec<u32>>,
    /// Clocked groups.
    ticks: Vec<u32>,
    /// This worker's registered slots, committed after the clock edge.
    registered: Range<usize>,
}

impl Worker {
    /// Call `f` on each listed group; on a panic, the faulting component and message.
    fn call(
        &mut self,
        list: &[u32],
        cur: &[Slot],
        out: &[Slot],
        f: impl Fn(&mut dyn Batch, &BatchIo<'_>),
    ) -> Result<(), (usize, FaultKind, String)> {
        let (group, member) = (Cell::new(0usize), Cell::new(0usize));
        let groups = &mut self.groups;
        guard(|| {
            for &g in list {
                group.set(g as usize);
                let Group { batch, wiring, .. } = &mut groups[g as usize];
                f(batch.as_mut(), &wiring.io(cur, out, &member));
            }
        })
        .map_err(|(kind, message)| (groups[group.get()].members[member.get()], kind, message))
    }
}

/// State shared by all workers.
struct Shared {
    cur: Vec<Slot>,
    next: Vec<Slot>,
    barrier: Barrier,
    /// A fault in any phase: stop at the end of the cycle.
    failed: AtomicBool,
    /// A fault before the trace sample: the cycle is not in the trace.
    eval_failed: AtomicBool,
    halt: AtomicBool,
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
            self.eval_failed.store(true, Relaxed);
        }
        self.failed.store(true, Relaxed);
    }
}

/// Worker 0's extra duties: tracing, progress, stopping.
struct Lead<'a> {
    tracer: Option<Tracer>,
    row: Vec<u32>,
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
    let (mut pool, shared, row) = build(circuit, workers, options.one_by_one, tracer.as_ref());
    let levels = pool[0].levels.len();
    let mut lead = Lead {
        tracer,
        row,
        options,
    };
    let (first, rest) = pool.split_at_mut(1);
    let completed = std::thread::scope(|s| -> Result<u64, RunError> {
        let mut starts = Vec::new();
        for worker in rest.iter_mut() {
            let (go, wait) = crossbeam_channel::bounded::<()>(1);
            let shared = &shared;
            std::thread::Builder::new()
                .name("cspsim-worker".into())
                .spawn_scoped(s, move || {
                    if wait.recv().is_ok() {
                        work(worker, shared, cycles, levels, None);
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
            &shared,
            cycles,
            levels,
            Some(&mut lead),
        ))
    })?;
    Ok(Outcome {
        cycles: completed,
        threads: workers,
        fault: shared.faults.first(),
        trace: finish_trace(lead.tracer),
    })
}

/// One worker's run; returns the cycles completed: evaluated and traced
/// (a cycle whose clock edge failed counts, as its values are in the trace).
fn work(
    w: &mut Worker,
    sh: &Shared,
    cycles: u64,
    levels: usize,
    mut lead: Option<&mut Lead<'_>>,
) -> u64 {
    let all: Vec<u32> = (0..w.groups.len() as u32).collect();
    if let Err(e) = w.call(&all, &sh.cur, &sh.cur, |m, io| m.reset(io)) {
        sh.fault(0, Phase::Reset, e);
    }
    commit(
        &sh.cur[w.registered.clone()],
        &sh.next[w.registered.clone()],
    );
    sh.barrier.wait();
    // Flags are read only between two barriers, where no model code runs
    // anywhere: a faster worker cannot set them for a later cycle yet.
    let reset_failed = sh.failed.load(Relaxed);
    sh.barrier.wait();
    if reset_failed {
        return 0;
    }
    for t in 0..cycles {
        let mut faulted = false;
        for l in 0..levels {
            if !faulted && !w.levels[l].is_empty() {
                let list = std::mem::take(&mut w.levels[l]);
                if let Err(e) = w.call(&list, &sh.cur, &sh.cur, |m, io| m.eval(io)) {
                    sh.fault(t, Phase::Eval, e);
                    faulted = true;
                }
                w.levels[l] = list;
            }
            sh.barrier.wait();
        }
        if let Some(lead) = lead.as_deref_mut() {
            if let (Some(tracer), false) = (lead.tracer.as_mut(), sh.eval_failed.load(Relaxed)) {
                for (v, &s) in tracer.row().iter_mut().zip(&lead.row) {
                    *v = sh.cur[s as usize].load(Relaxed);
                }
            }
            lead.options.report_progress(t + 1);
            let broken = lead.tracer.as_ref().is_some_and(Tracer::is_broken);
            if broken || lead.options.stop_requested() {
                sh.halt.store(true, Relaxed);
            }
        }
        if !faulted && !w.ticks.is_empty() {
            let list = std::mem::take(&mut w.ticks);
            if let Err(e) = w.call(&list, &sh.cur, &sh.next, |m, io| m.tick(io)) {
                sh.fault(t, Phase::Tick, e);
            }
            w.ticks = list;
        }
        sh.barrier.wait();
        commit(
            &sh.next[w.registered.clone()],
            &sh.cur[w.registered.clone()],
        );
        let (eval_failed, stop) = (
            sh.eval_failed.load(Relaxed),
            sh.failed.load(Relaxed) || sh.halt.load(Relaxed),
        );
        sh.barrier.wait();
        if eval_failed {
            return t;
        }
        if stop {
            return t + 1;
        }
    }
    cycles
}

/// Copy a worker's registered slots from `from` to `to`, as one `memcpy`
/// (a slot-by-slot atomic copy took a quarter of the time of 4,096 counters).
///
/// Called only between two barriers, where no model code runs and no other
/// worker touches this worker's registered slots: the barriers order these
/// plain accesses with every atomic access before and after.
fn commit(from: &[Slot], to: &[Slot]) {
    assert_eq!(from.len(), to.len());
    // SAFETY: `from` and `to` are different arrays (`cur` and `next`) of
    // equal length, so the copy stays in bounds and does not overlap;
    // `AtomicU64` has the layout of `u64`; and by the barriers no other
    // thread accesses these slots during the copy, so it races with nothing.
    // Writing through the pointer is allowed because `AtomicU64` is an
    // `UnsafeCell` (as with `AtomicU64::as_ptr`).
    unsafe {
        std::ptr::copy_nonoverlapping(
            from.as_ptr().cast::<u64>(),
            to.as_ptr().cast_mut().cast::<u64>(),
            from.len(),
        );
    }
}

/// Assign components to workers, lay out the slots, and hand out the models.
fn build(
    circuit: Circuit,
    workers: usize,
    one_by_one: bool,
    tracer: Option<&Tracer>,
) -> (Vec<Worker>, Shared, Vec<u32>) {
    let n = circuit.components.len();
    let mut owner = vec![0usize; n];
    let mut level_of = vec![usize::MAX; n];
    for (l, level) in circuit.levels.iter().enumerate() {
        for (k, &c) in level.iter().enumerate() {
            owner[c] = k * workers / level.len();
            level_of[c] = l;
        }
    }
    let unleveled: Vec<usize> = (0..n).filter(|&c| level_of[c] == usize::MAX).collect();
    for (k, &c) in unleveled.iter().enumerate() {
        owner[c] = k * workers / unleveled.len();
    }
    let mut by_worker: Vec<Vec<usize>> = vec![Vec::new(); workers];
    for c in 0..n {
        by_worker[owner[c]].push(c);
    }

    // Registered slots grouped per worker (so each commits one range),
    // then combinational slots, then constants; groups padded to a cache line.
    let mut out_slot: Vec<Vec<u32>> = circuit
        .components
        .iter()
        .map(|c| vec![0; c.interface.outputs().len()])
        .collect();
    let mut next = 0usize;
    let pad = |n: usize| n.div_ceil(8) * 8;
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
    let mut constants = Vec::new();
    let ins: Vec<Box<[u32]>> = circuit
        .components
        .iter()
        .map(|comp| {
            comp.inputs
                .iter()
                .map(|src| match *src {
                    Source::Driver(p) => out_slot[p.component][p.port],
                    Source::Constant(v) => {
                        constants.push((next, v));
                        next += 1;
                        (next - 1) as u32
                    }
                })
                .collect()
        })
        .collect();
    let row: Vec<u32> = tracer
        .map(|t| {
            t.nets()
                .iter()
                .map(|p| out_slot[p.component][p.port])
                .collect()
        })
        .unwrap_or_default();

    let cur: Vec<Slot> = (0..next).map(|_| Slot::new(0)).collect();
    let next_slots: Vec<Slot> = (0..next).map(|_| Slot::new(0)).collect();
    for (s, v) in constants {
        cur[s].store(v, Relaxed);
    }

    // One batch per worker, level, model type and shape (inputs, output
    // masks, clocked); or one per component when batching is off.
    let levels = circuit.levels.len();
    let mut pool: Vec<Worker> = registered
        .into_iter()
        .map(|registered| Worker {
            groups: Vec::new(),
            levels: vec![Vec::new(); levels],
            ticks: Vec::new(),
            registered,
        })
        .collect();
    type Key = (usize, usize, TypeId, usize, Vec<u64>, bool, usize);
    let mut group_of: HashMap<Key, u32> = HashMap::new();
    for (c, (comp, ins)) in circuit.components.into_iter().zip(ins).enumerate() {
        let masks = comp.interface.output_masks();
        let clocked = comp.interface.is_clocked();
        let outs = &out_slot[c];
        let single = if one_by_one { c } else { 0 };
        let key = (
            owner[c],
            level_of[c],
            type_of(comp.behaviour.as_ref()),
            ins.len(),
            masks.clone(),
            clocked,
            single,
        );
        let w = &mut pool[owner[c]];
        let g = *group_of.entry(key).or_insert_with(|| {
            let g = w.groups.len() as u32;
            w.groups.push(Group {
                batch: comp.behaviour.new_batch(),
                wiring: Wiring::new(ins.len(), masks.into_boxed_slice()),
                members: Vec::new(),
            });
            if let Some(level) = w.levels.get_mut(level_of[c]) {
                level.push(g);
            }
            if clocked {
                w.ticks.push(g);
            }
            g
        });
        let group = &mut w.groups[g as usize];
        group.wiring.push(&ins, outs);
        group.members.push(c);
        group.batch.push(comp.behaviour);
    }
    let shared = Shared {
        cur,
        next: next_slots,
        barrier: Barrier::new(workers),
        failed: AtomicBool::new(false),
        eval_failed: AtomicBool::new(false),
        halt: AtomicBool::new(false),
        faults: Faults::default(),
    };
    (pool, shared, row)
}
