//! Batches: components of one model type stored contiguously and run in one
//! call, so that an array of identical models costs one dynamic call per
//! phase instead of one per component, and the model's code is inlined into
//! a loop over contiguous state.
//!
//! Every [`Model`] can be batched; nothing is asked of its author. A model
//! may also override [`Model::eval_batch`] or [`Model::tick_batch`] with a
//! loop of its own over `&mut [Self]` and a [`BatchIo`].

use std::any::Any;
use std::cell::Cell;

pub use crate::io::BatchIo;
use crate::io::Slot;
use crate::model::Model;
pub use crate::model::{Batch, Batchable};

/// The wiring of one batch, laid out flat: see [`BatchIo`]. Slots are given
/// for each of two parities (the engine keeps two copies of registered
/// outputs, read and written alternately); where both parities name the same
/// slots for every member, one list serves both, which keeps the wiring a
/// batch touches per cycle small.
pub(crate) struct Wiring {
    /// Slot of every member's inputs, member after member, per parity
    /// (parity 1 empty while it equals parity 0).
    ins: [Vec<u32>; 2],
    /// Slot of every member's outputs, likewise.
    outs: [Vec<u32>; 2],
    /// The output masks every member shares.
    masks: Box<[u64]>,
    /// Inputs per member.
    inputs: usize,
    members: usize,
    /// One more than the largest slot index in `ins` and `outs`.
    slots_needed: usize,
}

impl Wiring {
    /// No members yet; each will have `inputs` inputs and outputs masked by `masks`.
    pub fn new(inputs: usize, masks: Box<[u64]>) -> Self {
        Wiring {
            ins: [Vec::new(), Vec::new()],
            outs: [Vec::new(), Vec::new()],
            masks,
            inputs,
            members: 0,
            slots_needed: 0,
        }
    }

    /// Add a member reading slots `ins` and writing slots `outs`, each given per parity.
    pub fn push(&mut self, ins: [&[u32]; 2], outs: [&[u32]; 2]) {
        for p in 0..2 {
            assert_eq!(
                ins[p].len(),
                self.inputs,
                "a batch's members have one shape"
            );
            assert_eq!(
                outs[p].len(),
                self.masks.len(),
                "a batch's members have one shape"
            );
        }
        let max = ins.iter().chain(&outs).flat_map(|l| l.iter()).max();
        self.slots_needed = self.slots_needed.max(max.map_or(0, |&m| m as usize + 1));
        push_pair(&mut self.ins, ins);
        push_pair(&mut self.outs, outs);
        self.members += 1;
    }

    /// The output masks every member shares.
    pub fn masks(&self) -> &[u64] {
        &self.masks
    }

    /// The view a batch call gets over `slots`, reading inputs of parity
    /// `read` and writing outputs of parity `write`.
    pub fn io<'a>(
        &'a self,
        slots: &'a [Slot],
        read: usize,
        write: usize,
        at: &'a Cell<usize>,
    ) -> BatchIo<'a> {
        // What makes `BatchIo`'s unchecked slot accesses sound.
        assert!(
            self.slots_needed <= slots.len(),
            "a member's slot is out of range"
        );
        let (ins, outs) = (pick(&self.ins, read), pick(&self.outs, write));
        // SAFETY: `push` keeps either parity's `ins` at `members * inputs`
        // entries and its `outs` at `members * masks.len()` (`pick` gives
        // parity 0 only while parity 1 is empty, that is equal to it), and
        // the assertion above puts every index in them in `slots`.
        unsafe { BatchIo::from_parts(slots, ins, outs, &self.masks, self.inputs, self.members, at) }
    }
}

/// Append one member's slots of both parities to `lists`; parity 1 is
/// stored only once some member's differ (until then it equals parity 0).
fn push_pair(lists: &mut [Vec<u32>; 2], new: [&[u32]; 2]) {
    let split = !lists[1].is_empty() || new[0] != new[1];
    if split && lists[1].is_empty() {
        lists[1] = lists[0].clone();
    }
    lists[0].extend_from_slice(new[0]);
    if split {
        lists[1].extend_from_slice(new[1]);
    }
}

/// The list of parity `p`.
fn pick(lists: &[Vec<u32>; 2], p: usize) -> &[u32] {
    if p == 1 && !lists[1].is_empty() {
        &lists[1]
    } else {
        &lists[0]
    }
}

impl<M: Model> Batchable for M {
    fn new_batch(&self) -> Box<dyn Batch> {
        Box::new(Typed::<M>(Vec::new()))
    }
}

/// The batch of model type `M`: `M`'s code is called statically, in a loop.
struct Typed<M>(Vec<M>);

impl<M: Model> Batch for Typed<M> {
    fn push(&mut self, model: Box<dyn Model>) {
        let model: Box<dyn Any> = model;
        match model.downcast::<M>() {
            Ok(m) => self.0.push(*m),
            Err(_) => unreachable!("components are batched by model type"),
        }
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn reset(&mut self, io: &BatchIo<'_>) {
        for (k, m) in self.0.iter_mut().enumerate() {
            m.reset(&io.member(k));
        }
    }

    fn eval(&mut self, io: &BatchIo<'_>) {
        M::eval_batch(&mut self.0, io);
    }

    fn tick(&mut self, io: &BatchIo<'_>) {
        M::tick_batch(&mut self.0, io);
    }

    fn lower(&self, k: usize) -> Option<crate::lower::Lowering> {
        self.0[k].lower()
    }

    fn save(&self, k: usize) -> Option<crate::model::ModelState> {
        self.0[k].save()
    }

    fn restore(
        &mut self,
        k: usize,
        state: &crate::model::ModelState,
        io: &BatchIo<'_>,
    ) -> Result<(), String> {
        self.0[k].restore(state, &io.member(k))
    }

    fn unlower(&mut self, k: usize, state: &[u64], arrays: &[Vec<u64>]) {
        self.0[k].unlower(state, arrays)
    }
}

/// The model type of a component, for grouping.
pub(crate) fn type_of(model: &dyn Model) -> std::any::TypeId {
    let any: &dyn Any = model;
    any.type_id()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering::Relaxed;

    use super::*;
    use crate::io::Io;

    struct Count(u64);
    impl Model for Count {
        fn reset(&mut self, io: &Io<'_>) {
            io.set(0, self.0);
        }
        fn tick(&mut self, io: &Io<'_>) {
            io.set(0, io.output(0) + io.get(0));
        }
    }
    struct Other;
    impl Model for Other {
        fn reset(&mut self, _io: &Io<'_>) {}
    }

    #[test]
    fn members_run_over_their_own_slots() {
        let models: Vec<Box<dyn Model>> = vec![Box::new(Count(10)), Box::new(Count(20))];
        let mut batch = models[0].new_batch();
        for m in models {
            batch.push(m);
        }
        assert_eq!(batch.len(), 2);
        // Slots: 0, 1 outputs; 2, 3 inputs (steps 1 and 5).
        let slots: Vec<Slot> = [0, 0, 1, 5].into_iter().map(Slot::new).collect();
        let mut wiring = Wiring::new(1, vec![u64::MAX].into());
        wiring.push([&[2], &[2]], [&[0], &[0]]);
        wiring.push([&[3], &[3]], [&[1], &[1]]);
        let at = Cell::new(usize::MAX);
        let io = wiring.io(&slots, 0, 0, &at);
        batch.reset(&io);
        batch.tick(&io);
        batch.tick(&io);
        let values: Vec<u64> = slots
            .iter()
            .map(|s| s.load(std::sync::atomic::Ordering::Relaxed))
            .collect();
        assert_eq!(values, vec![12, 30, 1, 5]);
        assert_eq!(at.get(), 1, "the last member run is recorded");
    }

    #[test]
    fn parity_one_is_stored_only_where_it_differs() {
        let mut w = Wiring::new(1, vec![u64::MAX].into());
        w.push([&[5], &[5]], [&[0], &[0]]);
        w.push([&[6], &[6]], [&[1], &[9]]);
        w.push([&[7], &[8]], [&[2], &[2]]);
        let at = Cell::new(0);
        let slots: Vec<Slot> = (0..10).map(Slot::new).collect();
        let read = |p: usize| {
            let io = w.io(&slots, p, p, &at);
            (0..3).map(|k| io.get(k, 0)).collect::<Vec<_>>()
        };
        assert_eq!((read(0), read(1)), (vec![5, 6, 7], vec![5, 6, 8]));
        for p in 0..2 {
            let io = w.io(&slots, p, p, &at);
            (0..3).for_each(|k| io.set(k, 0, 100 + k as u64));
        }
        let values: Vec<u64> = slots.iter().map(|s| s.load(Relaxed)).collect();
        assert_eq!(values, vec![100, 101, 102, 3, 4, 5, 6, 7, 8, 101]);
    }

    #[test]
    fn columns_gather_and_scatter_every_member() {
        // Two inputs and two outputs per member; output 1 is 4 bits wide.
        let mut w = Wiring::new(2, vec![u64::MAX, 0xf].into());
        w.push([&[6, 7], &[6, 7]], [&[0, 1], &[0, 1]]);
        w.push([&[8, 9], &[8, 9]], [&[2, 3], &[2, 3]]);
        let slots: Vec<Slot> = (0..10).map(Slot::new).collect();
        let at = Cell::new(0);
        let io = w.io(&slots, 0, 0, &at);
        assert_eq!(io.input_column(0).collect::<Vec<_>>(), vec![6, 8]);
        assert_eq!(io.input_column(1).collect::<Vec<_>>(), vec![7, 9]);
        io.set_output_column(1, &[0x13, 0x25]);
        let values: Vec<u64> = slots.iter().take(4).map(|s| s.load(Relaxed)).collect();
        assert_eq!(values, vec![0, 3, 2, 5]);
        assert_eq!(
            (io.output(0, 1), io.output(1, 1)),
            (3, 5),
            "outputs read back"
        );
        io.set_output_each(1, [0x3a, 0x4b]);
        io.set_output_each(0, (100..).take(1));
        let values: Vec<u64> = slots.iter().take(4).map(|s| s.load(Relaxed)).collect();
        assert_eq!(values, vec![100, 0xa, 2, 0xb], "masked; as many as given");
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn wiring_refuses_slots_it_does_not_reach() {
        let mut w = Wiring::new(1, vec![u64::MAX].into());
        w.push([&[1], &[1]], [&[0], &[4]]);
        let slots: Vec<Slot> = (0..4).map(Slot::new).collect();
        let _ = w.io(&slots, 0, 0, &Cell::new(0));
    }

    #[test]
    fn types_are_told_apart() {
        assert_eq!(type_of(&Count(1)), type_of(&Count(2)));
        assert_ne!(type_of(&Count(1)), type_of(&Other));
    }
}
