//! The wire slots and the views a model gets of them: [`Io`] over one
//! component's ports, [`BatchIo`] over a batch's members. This module sits
//! below both the model trait, whose methods take these views, and the
//! batch runner, which builds them: `model` needs nothing from `batch`, and
//! only `batch` depends on `model`.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// One wire value. Atomic so that worker threads can share slots; every
/// access is `Relaxed`, which compiles to plain loads and stores — the
/// engines order phases with barriers or channels.
pub type Slot = AtomicU64;

/// A component's view of its ports during one call.
///
/// Inputs and outputs are numbered in the order the
/// [`Interface`](crate::Interface) declares them. Values written with
/// [`set`](Io::set) are masked to the port's width.
pub struct Io<'a> {
    slots: &'a [Slot],
    ins: &'a [u32],
    outs: &'a [u32],
    masks: &'a [u64],
}

impl<'a> Io<'a> {
    /// A view reading input `i` from `slots[ins[i]]` and writing output `o`
    /// to `slots[outs[o]]` under `masks[o]`. Engines and test harnesses
    /// build these.
    ///
    /// # Panics
    /// If an index in `ins` or `outs` is out of `slots`, or `masks` and
    /// `outs` differ in length.
    pub fn new(slots: &'a [Slot], ins: &'a [u32], outs: &'a [u32], masks: &'a [u64]) -> Self {
        let max = ins.iter().chain(outs).max().map_or(0, |&m| m as usize + 1);
        assert!(max <= slots.len(), "a port's slot is out of range");
        assert_eq!(masks.len(), outs.len(), "one mask per output");
        Io {
            slots,
            ins,
            outs,
            masks,
        }
    }

    /// [`Io::new`] without its checks.
    ///
    /// # Safety
    /// Every index in `ins` and `outs` is `< slots.len()`, and
    /// `masks.len() == outs.len()`.
    #[inline]
    pub(crate) unsafe fn new_unchecked(
        slots: &'a [Slot],
        ins: &'a [u32],
        outs: &'a [u32],
        masks: &'a [u64],
    ) -> Self {
        Io {
            slots,
            ins,
            outs,
            masks,
        }
    }

    /// The slot at `index`, an entry of `ins` or `outs`.
    #[inline(always)]
    fn slot(&self, index: u32) -> &Slot {
        // SAFETY: every entry of `ins` and `outs` is in range (the
        // invariant of the constructors). Checked indexing cost a tenth of
        // a counter's tick.
        unsafe { self.slots.get_unchecked(index as usize) }
    }

    /// The value of input `i` (a `Bits` value, or the raw bits of a `Real`).
    #[inline]
    pub fn get(&self, i: usize) -> u64 {
        self.slot(self.ins[i]).load(Relaxed)
    }

    /// Every input's value, in port order (for models with arrays of
    /// inputs: cheaper than calling [`get`](Self::get) for each).
    #[inline]
    pub fn inputs(&self) -> impl Iterator<Item = u64> + '_ {
        self.ins.iter().map(|&s| self.slot(s).load(Relaxed))
    }

    /// Input `i` as a boolean (non-zero is true).
    #[inline]
    pub fn get_bool(&self, i: usize) -> bool {
        self.get(i) != 0
    }

    /// Input `i` of type `Real`.
    #[inline]
    pub fn get_real(&self, i: usize) -> f64 {
        f64::from_bits(self.get(i))
    }

    /// Set output `o`; the value is masked to the port's width.
    #[inline]
    pub fn set(&self, o: usize, value: u64) {
        let slot = self.slot(self.outs[o]);
        // SAFETY: `masks.len() == outs.len()`, and `outs[o]` was in bounds.
        slot.store(value & unsafe { self.masks.get_unchecked(o) }, Relaxed);
    }

    /// Set output `o` of type `Real`.
    #[inline]
    pub fn set_real(&self, o: usize, value: f64) {
        self.slot(self.outs[o]).store(value.to_bits(), Relaxed);
    }

    /// The value output `o` holds now (what this component last set).
    #[inline]
    pub fn output(&self, o: usize) -> u64 {
        self.slot(self.outs[o]).load(Relaxed)
    }

    /// The number of inputs.
    #[inline]
    pub fn num_inputs(&self) -> usize {
        self.ins.len()
    }

    /// The number of outputs.
    #[inline]
    pub fn num_outputs(&self) -> usize {
        self.outs.len()
    }
}

/// The wiring of a batch's members: member `k`'s inputs are
/// `ins[k * inputs..][..inputs]`, its outputs likewise, and all members share
/// output masks (the engine only batches components of the same shape).
pub struct BatchIo<'a> {
    slots: &'a [Slot],
    ins: &'a [u32],
    outs: &'a [u32],
    masks: &'a [u64],
    inputs: usize,
    outputs: usize,
    members: usize,
    at: &'a Cell<usize>,
}

impl<'a> BatchIo<'a> {
    /// A view of `members` members, each with `inputs` inputs and
    /// `masks.len()` outputs, laid out as the type's docs say; `at` records
    /// the member running. `Wiring::io` (in `crate::batch`) builds these.
    ///
    /// # Safety
    /// `ins.len() == members * inputs`, `outs.len() == members * masks.len()`,
    /// and every index in `ins` and `outs` is `< slots.len()`.
    #[inline]
    pub(crate) unsafe fn from_parts(
        slots: &'a [Slot],
        ins: &'a [u32],
        outs: &'a [u32],
        masks: &'a [u64],
        inputs: usize,
        members: usize,
        at: &'a Cell<usize>,
    ) -> Self {
        BatchIo {
            slots,
            ins,
            outs,
            masks,
            inputs,
            outputs: masks.len(),
            members,
            at,
        }
    }

    /// Member `k`'s view, as its own [`Model::eval`](crate::Model::eval) or
    /// [`Model::tick`](crate::Model::tick) sees it. Also records `k` as the
    /// member running, so that a panic names the right component.
    #[inline]
    pub fn member(&self, k: usize) -> Io<'a> {
        assert!(
            k < self.members,
            "member {k} of a batch of {}",
            self.members
        );
        self.at.set(k);
        // SAFETY: `Wiring::push` keeps `ins.len() == members * inputs` and
        // `outs.len() == members * outputs`, and `k < members`, so both
        // ranges are in bounds. (Checked slicing cost a tenth of a counter's tick.)
        let (ins, outs) = unsafe {
            (
                self.ins
                    .get_unchecked(k * self.inputs..(k + 1) * self.inputs),
                self.outs
                    .get_unchecked(k * self.outputs..(k + 1) * self.outputs),
            )
        };
        // SAFETY: `Wiring::io` checked that every slot index is in `slots`,
        // and `masks` has one entry per output.
        unsafe { Io::new_unchecked(self.slots, ins, outs, self.masks) }
    }

    /// The number of members.
    #[inline]
    pub fn members(&self) -> usize {
        self.members
    }

    /// Member `k`'s input `i`, for batch code that reads members' inputs
    /// directly (column-wise) rather than through [`member`](Self::member).
    #[inline]
    pub fn get(&self, k: usize, i: usize) -> u64 {
        let s = self.ins[k * self.inputs + i] as usize;
        // SAFETY: `Wiring::io` checked that every slot index is in `slots`.
        unsafe { self.slots.get_unchecked(s) }.load(Relaxed)
    }

    /// Member `k`'s output `o` as last set: for a registered output in a
    /// tick, its value this cycle (what [`Io::output`] gives a member).
    #[inline]
    pub fn output(&self, k: usize, o: usize) -> u64 {
        let s = self.outs[k * self.outputs + o] as usize;
        // SAFETY: `Wiring::io` checked that every slot index is in `slots`.
        unsafe { self.slots.get_unchecked(s) }.load(Relaxed)
    }

    /// Set member `k`'s output `o`, masked to the port's width.
    #[inline]
    pub fn set(&self, k: usize, o: usize, value: u64) {
        let s = self.outs[k * self.outputs + o] as usize;
        // SAFETY: `Wiring::io` checked that every slot index is in `slots`.
        unsafe { self.slots.get_unchecked(s) }.store(value & self.masks[o], Relaxed);
    }

    /// Input `i` of every member, in member order (what a column-wise
    /// model gathers; cheaper than [`get`](Self::get) per member).
    #[inline]
    pub fn input_column(&self, i: usize) -> impl Iterator<Item = u64> + '_ {
        assert!(i < self.inputs, "input {i} of {}", self.inputs);
        self.ins
            .chunks_exact(self.inputs)
            // SAFETY: `i < inputs`, the length of every chunk; and
            // `Wiring::io` checked that every slot index is in `slots`.
            .map(move |member| unsafe {
                let s = *member.get_unchecked(i);
                self.slots.get_unchecked(s as usize).load(Relaxed)
            })
    }

    /// Set output `o` of every member from `values`, masked to the port's
    /// width (cheaper than [`set`](Self::set) per member).
    ///
    /// # Panics
    /// If `values` does not have one value per member.
    #[inline]
    pub fn set_output_column(&self, o: usize, values: &[u64]) {
        assert_eq!(values.len(), self.members, "one value per member");
        self.set_output_each(o, values.iter().copied());
    }

    /// Set output `o` of member `k` to the `k`-th of `values`, for every
    /// member (or as many as `values` has), masked to the port's width: a
    /// batch loop that computes its members' outputs in member order can
    /// set them as it goes, without a column or a [`set`](Self::set) per
    /// member. `values` is consumed lazily, member after member.
    #[inline]
    pub fn set_output_each(&self, o: usize, values: impl IntoIterator<Item = u64>) {
        assert!(o < self.outputs, "output {o} of {}", self.outputs);
        let mask = self.masks[o];
        for (member, v) in self.outs.chunks_exact(self.outputs).zip(values) {
            // SAFETY: `o < outputs`, the length of every chunk; and
            // `Wiring::io` checked that every slot index is in `slots`.
            unsafe {
                let s = *member.get_unchecked(o);
                self.slots
                    .get_unchecked(s as usize)
                    .store(v & mask, Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_masks_outputs_and_reads_inputs_through_indices() {
        let slots: Vec<Slot> = (0..4).map(|_| Slot::new(0)).collect();
        slots[2].store(7, Relaxed);
        let io = Io::new(&slots, &[2], &[3], &[0xf]);
        assert_eq!(io.get(0), 7);
        io.set(0, 0x1234);
        assert_eq!(io.output(0), 0x4);
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn io_refuses_a_slot_out_of_range() {
        let slots: Vec<Slot> = (0..4).map(|_| Slot::new(0)).collect();
        let _ = Io::new(&slots, &[2], &[4], &[0xf]);
    }
}
