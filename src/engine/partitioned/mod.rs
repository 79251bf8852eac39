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
//! Compiled code may tick a component in its evaluation's phase instead,
//! right after evaluating it, where its inputs are final then and its tick
//! cannot fail (see `fusable`): ticks write only the other parity, so no
//! one in the phase sees the difference.
//!
//! At the start of a cycle, each worker copies its own registered slots
//! forward to the other parity, so that a registered output a tick does not
//! set keeps its value. So a circuit without combinational logic needs
//! one barrier per cycle. With one worker the barriers cost nothing, no
//! thread is started, and a whole cycle (in fact the whole run, until a
//! fault) runs under one fault guard instead of one per phase.
//!
//! The engine's parts: [`layout`] (slots, workers, schedules), [`cycle`]
//! (the cycle loops) and, here, the run: build, reset, compile, run.

mod adapt;
pub(super) mod checkpoint;
mod cycle;
mod layout;
pub(super) mod ranked;
mod stretch;

use std::ops::Range;
use std::sync::atomic::Ordering::Relaxed;

use super::fault::{guard, Phase};
use super::native::{Lowered, Native};
use super::{finish_trace, Codegen, Compiled, Outcome, RunError, RunOptions};
use crate::circuit::Circuit;
use crate::trace::Tracer;
use cycle::{work, Lead, Running};
use layout::{build, Shared, Wired, Worker, NEVER};
use std::sync::Mutex;
use stretch::{Control, Crew};

/// Where a run starts, and which checkpoints it saves.
#[derive(Default)]
pub(super) struct Start<'a> {
    /// The state to start from (the run's cycle 0 is its cycle).
    pub restore: Option<&'a crate::checkpoint::Checkpoint>,
    /// When to save, and where to.
    pub save: Option<(&'a crate::checkpoint::Schedule, checkpoint::Sink<'a>)>,
    /// Every component's path and model, for messages.
    pub names: &'a [(String, String)],
}

impl Start<'_> {
    /// The absolute cycle of the run's cycle 0.
    pub fn first(&self) -> u64 {
        self.restore.map_or(0, |c| c.cycle)
    }
}

pub(super) fn run(
    circuit: Circuit,
    cycles: u64,
    workers: usize,
    options: &RunOptions,
    (tracer, start): (Option<Tracer>, &Start<'_>),
) -> Result<Outcome, RunError> {
    let workers = workers.min(circuit.components.len().max(1));
    let (mut pool, shared, row, wired) = build(
        circuit,
        (workers, None),
        options.one_by_one,
        tracer.as_ref(),
    );
    reset(&mut pool, &shared);
    // Reset faults end the run before cycle 0; code is made only for a run.
    let reset_failed = shared.failed.load(Relaxed) != NEVER;
    if !reset_failed {
        checkpoint::prepare(&mut pool, &shared, &wired, start)?;
    }
    let mut saver = start
        .save
        .map(|(schedule, sink)| checkpoint::Saver::new(schedule, start.first(), &wired, sink));
    // Lowering and generating code, timed apart from the cycles.
    let compiling = std::time::Instant::now();
    let (native, note) = match options.codegen {
        Codegen::Compiled if !reset_failed => compile(
            &mut pool,
            (wired, Some(&row)),
            &shared,
            (options.one_by_one, false),
        ),
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
    // Every registered slot holds its value in both parities; from then on
    // only those that a tick may leave unset need copying.
    for w in &pool {
        shared.copy_forward(&w.registered, 0);
    }
    let cycles_started = std::time::Instant::now();
    let codes: Vec<_> = (0..workers)
        .map(|w| native.as_ref().map(|n| &n.workers[w]))
        .collect();
    let (completed, one_thread) = if reset_failed {
        (0, 0)
    } else if workers == 1 {
        let cycle = native.as_ref().and_then(|n| n.cycle);
        let mut t = 0;
        let completed = loop {
            let end = saver.as_ref().map_or(cycles, |s| s.stretch_end(t, cycles));
            let done = work(
                &mut pool[0],
                (codes[0], cycle),
                &shared,
                (t, end),
                Some(&mut lead),
            );
            let saved = |s: &mut checkpoint::Saver| s.at(end, pool.iter_mut(), &codes, &shared);
            if done < end || !saver.as_mut().is_none_or(saved) || end == cycles {
                break done;
            }
            t = end;
        };
        (completed, completed)
    } else {
        let waits = cycle::barriers(pool.iter(), lead.tracer.is_some());
        let pool: Vec<Mutex<Worker>> = pool.into_iter().map(Mutex::new).collect();
        let control = Control::default();
        let crew = Crew {
            pool: &pool,
            codes,
            cycle: native.as_ref().and_then(|n| n.cycle),
            waits,
            sh: &shared,
            control: &control,
        };
        std::thread::scope(|s| -> Result<(u64, u64), RunError> {
            let mut starts = Vec::new();
            for w in 1..workers {
                let (go, wait) = crossbeam_channel::bounded::<()>(1);
                let crew = &crew;
                std::thread::Builder::new()
                    .name("cspsim-worker".into())
                    .spawn_scoped(s, move || {
                        if wait.recv().is_ok() {
                            crew.follow(w);
                        }
                    })
                    .map_err(RunError::Spawn)?;
                starts.push(go);
            }
            for go in starts {
                let _ = go.send(());
            }
            let (completed, adapt) = crew.lead(cycles, &mut lead, saver.as_mut());
            Ok((completed, adapt.cycles_one.min(completed)))
        })?
    };
    // The code is freed only after every worker has stopped calling it.
    drop(native);
    if let Some(why) = saver.and_then(|s| s.failed) {
        let _ = finish_trace(lead.tracer);
        return Err(RunError::Checkpoint(why));
    }
    Ok(Outcome {
        cycles: completed,
        threads: workers,
        fault: shared.faults.first(),
        elapsed: Some(cycles_started.elapsed()),
        one_thread,
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
/// the workers' batch schedules for native code. With `phased`, only code
/// per phase is made (a cycle is never one call). Without a code
/// generator, nothing changes and the note says why.
fn compile(
    pool: &mut [Worker],
    (wired, traced): (Vec<Wired>, Option<&[Vec<u32>; 2]>),
    sh: &Shared,
    (one_by_one, phased): (bool, bool),
) -> (Option<Native>, Option<String>) {
    let read = traced.map(|row| read_slots(&wired, row, sh.slots.len()));
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
            let fused = fusable(group, &lowerings);
            for (lowering, &c) in lowerings.into_iter().zip(&group.members) {
                let sets = |o: usize| {
                    let set = |i: &crate::lower::Inst| matches!(*i, crate::lower::Inst::SetOutput(p, _) if p as usize == o);
                    lowering.tick.insts().iter().any(set)
                };
                let wires = wired[c].take().expect("one group per component");
                copy.extend(wires.unset(sets));
                let stored = stored_outputs(&lowering, &wires, (read.as_deref(), fused));
                let (lowering, ticks_from) = match fused {
                    true => {
                        let (lowering, from) = super::native::plan::fuse(lowering);
                        (lowering, Some(from))
                    }
                    false => (lowering, None),
                };
                mine.push(Lowered {
                    component: c,
                    lowering,
                    ins: wires.ins,
                    outs: wires.outs,
                    masks: group.wiring.masks().to_vec(),
                    in_bounds: wires.in_masks.clone(),
                    out_bounds: group.wiring.masks().to_vec(),
                    in_masks: wires.in_masks,
                    constants: wires.constants,
                    phases: match fused {
                        true => (group.phases.0, group.phases.0),
                        false => group.phases,
                    },
                    ticks_from,
                    stored,
                });
            }
            groups.push(g as u32);
        }
        lowered.push(mine);
        chosen.push(groups);
        copied.push(ranges(copy));
    }
    let phases = pool.first().map_or(0, |w| w.steps.len());
    // Where every group compiles, a cycle can run in one call; several
    // workers also need code per phase, for when they run on threads.
    let whole_cycle = !phased
        && pool
            .iter()
            .zip(&chosen)
            .all(|(w, groups)| groups.len() == w.groups.len());
    let modes = (one_by_one, whole_cycle, pool.len() > 1 || !whole_cycle);
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

/// Whether the members of `group`, lowered as `lowerings`, tick in compiled
/// code right after their evaluation, in its phase and loop: where their
/// inputs are final by then, both bodies do something, and the tick cannot
/// fail (so a fault stays in the phase it is reported in).
fn fusable(group: &layout::Group, lowerings: &[crate::lower::Lowering]) -> bool {
    let (eval, _) = group.phases;
    let fails = |body: &crate::lower::Body| {
        body.insts()
            .iter()
            .any(|i| matches!(i, crate::lower::Inst::FailIf(_)))
    };
    eval != usize::MAX
        && group.ready <= eval
        && lowerings
            .iter()
            .all(|l| !l.eval.is_empty() && !l.tick.is_empty() && !fails(&l.tick))
}

/// Whether each output of a lowered component must be written to its
/// slot: every registered output, and each combinational one that another
/// component or the trace reads (`read`: which slots are read; `None`,
/// all of them) or that its own bodies read from the slot (a tick reading
/// what its evaluation set, unless `fused` into one body with it). The
/// others stay in registers.
fn stored_outputs(
    lowering: &crate::lower::Lowering,
    wires: &Wired,
    (read, fused): (Option<&[bool]>, bool),
) -> Vec<bool> {
    use crate::lower::Inst;
    let Some(read) = read else {
        return vec![true; wires.registered.len()];
    };
    let mut stored = wires.registered.clone();
    let slots = wires.outs[0].iter().zip(&wires.outs[1]);
    for (stored, (&a, &b)) in stored.iter_mut().zip(slots) {
        *stored |= read[a as usize] || read[b as usize];
    }
    // What the evaluation sets, which a fused tick has in a register.
    let mut set = vec![false; stored.len()];
    for (body, tick) in [(&lowering.eval, false), (&lowering.tick, true)] {
        let live = crate::engine::native::facts::live(body);
        for (inst, _) in body.insts().iter().zip(live).filter(|(_, l)| *l) {
            match *inst {
                Inst::Output(o) if !(tick && fused && set[o as usize]) => {
                    stored[o as usize] = true;
                }
                Inst::SetOutput(o, _) if !tick => set[o as usize] = true,
                _ => {}
            }
        }
    }
    stored
}

/// Which of `slots` slots anything but their writer reads: the inputs of
/// every component, and the trace's `row`. Compiled code need not write
/// the others (a combinational output nothing reads).
fn read_slots(wired: &[Wired], row: &[Vec<u32>; 2], slots: usize) -> Vec<bool> {
    let mut read = vec![false; slots];
    let inputs = wired.iter().flat_map(|w| w.ins.iter().flatten());
    for &s in inputs.chain(row.iter().flatten()) {
        read[s as usize] = true;
    }
    read
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
