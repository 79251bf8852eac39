//! The partitioned engine's layout: the slot array (a slot per net, two
//! per registered output, one per cycle parity), the workers with their
//! batches and per-phase schedules, and the state every worker shares.

use std::any::TypeId;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::super::barrier::Barrier;
use super::super::fault::{Fault, FaultKind, Faults, Phase};
use super::super::native::Code;
use super::super::partition::{inputs_final, levels_of, owners, tick_phases};
use crate::batch::{type_of, Batch, Wiring};
use crate::circuit::{Circuit, Source};
use crate::model::{Slot, Timing};
use crate::trace::Tracer;

/// Components of one model type and shape, at one level and tick phase of
/// one worker, run as a batch: how they are wired.
pub(super) struct Group {
    pub(super) wiring: Wiring,
    /// Global index of each member.
    pub(super) members: Vec<usize>,
    /// The phase of its members' evaluation and of their tick (`usize::MAX`: none).
    pub(super) phases: (usize, usize),
    /// The first phase in which every member's inputs are final: where it
    /// is not after the evaluation's, compiled code may tick each member
    /// right after evaluating it.
    pub(super) ready: usize,
}

/// What a worker does in one phase of a cycle: native code first (that of
/// the lowered components, for each parity read), then batches.
#[derive(Clone, Default)]
pub(super) struct Step {
    /// Code of the evaluations, and of the ticks.
    pub(super) native: [Option<[Code; 2]>; 2],
    /// Groups to evaluate.
    pub(super) evals: Vec<u32>,
    /// Groups to tick.
    pub(super) ticks: Vec<u32>,
}

impl Step {
    /// Whether the step does nothing.
    pub(super) fn is_idle(&self) -> bool {
        self.evals.is_empty() && self.ticks.is_empty() && self.native.iter().all(Option::is_none)
    }
}

/// The components one worker owns, in batches, with its schedule.
pub(super) struct Worker {
    /// Each group's batch (`batches[g]` runs `groups[g]`).
    pub(super) batches: Vec<Box<dyn Batch>>,
    pub(super) groups: Vec<Group>,
    /// One step per phase (the same number of phases for every worker).
    pub(super) steps: Vec<Step>,
    /// This worker's registered slots (of parity 0; parity 1 is `parity` further).
    pub(super) registered: Range<usize>,
    /// Those that are copied forward every cycle: all but the outputs of
    /// compiled components that their tick sets every cycle (the others
    /// are copied once, before cycle 0).
    pub(super) copied: Vec<Range<usize>>,
}

/// No fault or stop yet.
pub(super) const NEVER: u64 = u64::MAX;

/// State shared by all workers.
pub(super) struct Shared {
    pub(super) slots: Vec<Slot>,
    /// The distance between a registered slot's two copies.
    pub(super) parity: usize,
    pub(super) barrier: Barrier,
    /// The first cycle with a fault in any phase: stop at its end.
    pub(super) failed: AtomicU64,
    /// The first cycle with a fault before its trace sample: it is not traced.
    pub(super) eval_failed: AtomicU64,
    /// The cycle at whose end to stop (a stop request, a broken trace).
    pub(super) halt: AtomicU64,
    pub(super) faults: Faults,
}

impl Shared {
    pub(super) fn fault(
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
    pub(super) fn stop_after(&self, t: u64) -> Option<u64> {
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
    pub(super) fn copy_forward(&self, range: &Range<usize>, from: usize) {
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

/// A component's slots and constant inputs, for compiling it.
pub(super) struct Wired {
    /// The slot of each input, per parity read.
    pub(super) ins: [Vec<u32>; 2],
    /// The slot of each output, per parity written.
    pub(super) outs: [Vec<u32>; 2],
    /// Each input's value if nothing drives it.
    pub(super) constants: Vec<Option<u64>>,
    /// Whether each output is registered.
    pub(super) registered: Vec<bool>,
    /// Each input's mask.
    pub(super) in_masks: Vec<u64>,
}

impl Wired {
    /// The slots (parity 0) of the registered outputs that `sets` says a
    /// tick may leave unset.
    pub(super) fn unset(&self, sets: impl Fn(usize) -> bool) -> Vec<u32> {
        let registered = self.registered.iter().enumerate().filter(|(_, r)| **r);
        registered
            .filter(|&(o, _)| !sets(o))
            .map(|(o, _)| self.outs[0][o])
            .collect()
    }
}

/// Assign components to workers (balanced per phase, unless `given` says
/// which worker owns each), lay out the slots, and hand out the models;
/// each component's slots, by index.
pub(super) fn build(
    circuit: Circuit,
    (workers, given): (usize, Option<Vec<usize>>),
    one_by_one: bool,
    tracer: Option<&Tracer>,
) -> (Vec<Worker>, Shared, [Vec<u32>; 2], Vec<Wired>) {
    let n = circuit.components.len();
    let levels = circuit.levels.len();
    let level_of = levels_of(&circuit);
    let tick_phase = tick_phases(&circuit, &level_of);
    let ready = inputs_final(&circuit, &level_of);
    let owner = given.unwrap_or_else(|| owners(&circuit, &level_of, &tick_phase, workers));
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
                ready: 0,
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
        group.ready = group.ready.max(ready[c]);
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
