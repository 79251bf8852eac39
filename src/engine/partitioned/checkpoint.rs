//! Checkpoints in the partitioned engine (see [`crate::checkpoint`]):
//! restoring a saved state after reset, before code is generated (so a
//! lowering holds the restored state), and saving the state at the start of
//! a cycle, between stretches of cycles, when no worker runs.

use std::sync::atomic::Ordering::Relaxed;

use super::cycle::{parities, Running};
use super::layout::{Group, Shared, Wired, Worker};
use super::Start;
use crate::batch::Batch;
use crate::checkpoint::{Checkpoint, CheckpointError, Schedule};
use crate::engine::fault::guard;
use crate::engine::native::WorkerCode;
use crate::engine::RunError;
use crate::model::ModelState;

/// One component's saved state: registered outputs, in port order, and
/// its model's own state (`None`: the model cannot save it).
pub(crate) type Saved = (Vec<u64>, Option<ModelState>);

/// Where the states go: called with the cycle (counted from the run's
/// first) and every component's state, by index; an error stops the run.
pub(crate) type Sink<'a> = &'a (dyn Fn(u64, Vec<Saved>) -> Result<(), String> + Sync);

/// A run's checkpoint saving.
pub(super) struct Saver<'a> {
    schedule: &'a Schedule,
    /// The absolute cycle of the run's cycle 0.
    first: u64,
    /// Each component's output slots per parity, and which are registered.
    outputs: Vec<([Vec<u32>; 2], Vec<bool>)>,
    sink: Sink<'a>,
    /// Why saving failed, which stopped the run.
    pub(crate) failed: Option<String>,
}

impl<'a> Saver<'a> {
    pub(super) fn new(schedule: &'a Schedule, first: u64, wired: &[Wired], sink: Sink<'a>) -> Self {
        let outputs = wired
            .iter()
            .map(|w| (w.outs.clone(), w.registered.clone()))
            .collect();
        Saver {
            schedule,
            first,
            outputs,
            sink,
            failed: None,
        }
    }

    /// The end of the stretch that starts at run cycle `t`, at most `end`:
    /// the next cycle a checkpoint is due.
    pub(super) fn stretch_end(&self, t: u64, end: u64) -> u64 {
        let next = self.schedule.next_after(self.first + t);
        next.map_or(end, |c| (c - self.first).min(end))
    }

    /// Whether a checkpoint is due at the start of run cycle `t`.
    pub(super) fn due(&self, t: u64) -> bool {
        self.schedule.due(self.first + t)
    }

    /// Save the state at the start of run cycle `t` if a checkpoint is due
    /// then; whether the run goes on.
    pub(super) fn at<'w>(
        &mut self,
        t: u64,
        workers: impl Iterator<Item = &'w mut Worker>,
        codes: &[Option<&WorkerCode>],
        sh: &Shared,
    ) -> bool {
        if !self.due(t) {
            return true;
        }
        let lists: Vec<_> = (workers.enumerate())
            .map(|(w, worker)| self.collect(t, (&mut worker.batches, &worker.groups), codes[w], sh))
            .collect();
        let states = self.merge(lists);
        self.deliver(t, states)
    }

    /// The states, by component, of one worker's `groups` at the start of
    /// run cycle `t`; their compiled members' state is first taken back
    /// from `code`.
    pub(super) fn collect(
        &self,
        t: u64,
        (batches, groups): (&mut [Box<dyn Batch>], &[Group]),
        code: Option<&WorkerCode>,
        sh: &Shared,
    ) -> Vec<(usize, Saved)> {
        let read = parities(t).0;
        let mut states = Vec::new();
        for (batch, group) in batches.iter_mut().zip(groups) {
            for (k, &c) in group.members.iter().enumerate() {
                if let Some((state, arrays)) = code.and_then(|code| code.state_of(c)) {
                    batch.unlower(k, &state, &arrays);
                }
                let (outs, registered) = &self.outputs[c];
                let values = registered
                    .iter()
                    .zip(&outs[read])
                    .filter(|(r, _)| **r)
                    .map(|(_, &s)| sh.slots[s as usize].load(Relaxed))
                    .collect();
                states.push((c, (values, batch.save(k))));
            }
        }
        states
    }

    /// Hand every component's state at the start of run cycle `t` to the
    /// sink; whether the run goes on (if not, [`failed`](Self::failed) says why).
    pub(super) fn deliver(&mut self, t: u64, states: Vec<Saved>) -> bool {
        match (self.sink)(self.first + t, states) {
            Ok(()) => true,
            Err(why) => {
                self.failed = Some(why);
                false
            }
        }
    }

    /// Every component's state from its worker's list (see
    /// [`collect`](Self::collect)), one list per worker.
    pub(super) fn merge(&self, lists: impl IntoIterator<Item = Vec<(usize, Saved)>>) -> Vec<Saved> {
        let mut states: Vec<Saved> = vec![(Vec::new(), None); self.outputs.len()];
        for (c, saved) in lists.into_iter().flatten() {
            if let Some(slot) = states.get_mut(c) {
                *slot = saved;
            }
        }
        states
    }
}

/// After reset, before the first cycle: refuse to save checkpoints of a
/// circuit with a model that cannot save its state, and restore the state
/// the run starts from.
pub(super) fn prepare(
    pool: &mut [Worker],
    sh: &Shared,
    wired: &[Wired],
    start: &Start<'_>,
) -> Result<(), RunError> {
    if let Some(c) = start.save.and(unsupported(pool)) {
        let (path, model) = start.names[c].clone();
        return Err(RunError::Checkpoint(
            CheckpointError::Unsupported { path, model }.to_string(),
        ));
    }
    if let Some(saved) = start.restore {
        restore(pool, sh, wired, saved).map_err(|(c, why)| {
            let (path, model) = &start.names[c];
            RunError::Checkpoint(crate::checkpoint::restore_failed(path, model, &why))
        })?;
    }
    Ok(())
}

/// The first component whose model cannot save its state, if any.
fn unsupported(pool: &[Worker]) -> Option<usize> {
    pool.iter().find_map(|w| {
        w.batches.iter().zip(&w.groups).find_map(|(batch, group)| {
            (0..group.members.len())
                .find(|&k| batch.save(k).is_none())
                .map(|k| group.members[k])
        })
    })
}

/// Set every component's registered outputs (parity 0) and own state from
/// `checkpoint`, after reset; the component that refused, and why.
fn restore(
    pool: &mut [Worker],
    sh: &Shared,
    wired: &[Wired],
    checkpoint: &Checkpoint,
) -> Result<(), (usize, String)> {
    let running = Running::default();
    for w in pool {
        for (batch, group) in w.batches.iter_mut().zip(&w.groups) {
            let masks = group.wiring.masks();
            for &c in &group.members {
                let saved = &checkpoint.components[c].registered;
                let registered = wired[c].registered.iter().enumerate().filter(|(_, r)| **r);
                for ((o, _), &v) in registered.zip(saved) {
                    sh.slots[wired[c].outs[0][o] as usize].store(v & masks[o], Relaxed);
                }
            }
            let io = group.wiring.io(&sh.slots, 0, 0, &running.member);
            for (k, &c) in group.members.iter().enumerate() {
                let state = &checkpoint.components[c].state;
                match guard(|| batch.restore(k, state, &io)) {
                    Ok(Ok(())) => {}
                    Ok(Err(why)) | Err((_, why)) => return Err((c, why)),
                }
            }
        }
    }
    Ok(())
}
