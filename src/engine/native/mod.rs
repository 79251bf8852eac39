//! The compiled engine's code: lowered components (see [`crate::lower`])
//! become native functions when the circuit loads, one per worker, phase,
//! kind (evaluation or clock edge) and cycle parity. The partitioned engine
//! calls them where it would call the components' batches; components that
//! do not lower stay batches, called by the engine between the native
//! functions, so generated code never calls Rust and nothing unwinds
//! through it. When every component lowers, one more function per parity
//! runs a whole cycle of every worker's components on one thread.
//!
//! The pipeline: [`plan`] groups components into units and lays out their
//! state; [`codegen`] builds each function's Cranelift IR; [`jit`] compiles
//! and links them, and holds every `unsafe` of this module.

#[cfg(feature = "jit")]
mod codegen;
pub(crate) mod facts;
#[cfg(feature = "jit")]
mod jit;
pub(crate) mod plan;
#[cfg(feature = "jit")]
mod wires;

use std::collections::HashMap;

#[cfg(feature = "jit")]
pub(crate) use jit::Code;
pub(crate) use plan::{Kind, Lowered};

use crate::model::{Io, Slot};
use plan::{FailureSite, Unit};

/// One worker's compiled code, with the memory it addresses.
pub(crate) struct WorkerCode {
    /// Per phase, for evaluations and for clock edges, the code for each
    /// parity read (none where no lowered component works).
    pub steps: Vec<[Option<[Code; 2]>; 2]>,
    /// How to report each check that can fail.
    failures: HashMap<usize, FailureSite>,
    /// The code's state: written only by the code (see [`jit`]).
    arena: Vec<u64>,
    /// Where each component's state lies in it.
    places: HashMap<usize, plan::Place>,
    /// The units, whose tables the code reads.
    _units: Vec<((usize, Kind), Vec<Unit>)>,
}

impl WorkerCode {
    /// `component`'s state words and arrays as the code left them, if it
    /// is compiled here. Only while none of this worker's code runs.
    pub fn state_of(&self, component: usize) -> Option<(Vec<u64>, Vec<Vec<u64>>)> {
        let place = self.places.get(&component)?;
        // The code writes the arena through the address it was generated
        // with (this buffer's, exposed then); the engine reads it only at a
        // barrier or on the thread that ran the code, so every write
        // happened before these reads.
        let arena = &self.arena;
        let state = place.state.iter().map(|&s| arena[s]).collect();
        let arrays = place
            .arrays
            .iter()
            .map(|&(at, len)| arena[at..at + len].to_vec())
            .collect();
        Some((state, arrays))
    }

    /// Whether `component` has a compiled check here.
    pub fn fails(&self, component: usize) -> bool {
        self.failures.contains_key(&component)
    }

    /// The message of `component`'s failed check in the cycle reading
    /// parity `read` of `slots`.
    pub fn failure(&self, component: usize, slots: &[Slot], read: usize) -> String {
        match self.failures.get(&component) {
            Some(site) => {
                let io = Io::new(slots, &site.ins[read], &[], &[]);
                (site.text)(&io)
            }
            None => "a compiled check failed".to_string(),
        }
    }
}

/// The compiled code of a whole run. Dropping it frees the code, so it must
/// outlive every call (the engine keeps it for the run).
pub(crate) struct Native {
    /// Per worker.
    pub workers: Vec<WorkerCode>,
    /// Whole cycles of every worker's components, where every component
    /// lowered.
    pub cycle: Option<Cycles>,
    /// Components lowered and compiled.
    pub lowered: usize,
    // Declared last: dropped after the memory above is no longer used.
    #[cfg(feature = "jit")]
    _jit: jit::Jit,
}

/// A whole cycle of every worker's components (every evaluation, in level
/// order, then every tick), for each parity read; and two cycles in one
/// call, parity 0 then 1, for runs with nothing to do between cycles (no
/// trace to sample, no registered slot to copy forward). A failed check in
/// `two` returns `1 + component + (c << 32)`, `c` the cycle (0 or 1).
#[derive(Clone, Copy)]
pub(crate) struct Cycles {
    pub one: [Code; 2],
    pub two: Code,
}

/// Compiled code; without the `jit` feature there is none.
#[cfg(not(feature = "jit"))]
#[derive(Clone, Copy)]
pub(crate) enum Code {}

#[cfg(not(feature = "jit"))]
impl Code {
    /// Never called: no value exists.
    ///
    /// # Safety
    /// Trivially safe: there is no code to run.
    pub unsafe fn call(self, _slots: *mut u64) -> u64 {
        match self {}
    }
}

impl Native {
    /// Without a code generator there is nothing to compile.
    #[cfg(not(feature = "jit"))]
    pub fn compile(
        _lowered: Vec<Vec<Lowered>>,
        _phases: usize,
        _slots: &[Slot],
        _modes: (bool, bool, bool),
    ) -> Result<Native, String> {
        Err("this cspsim is built without the `jit` feature".into())
    }

    /// Compile each worker's lowered components: `lowered[w]` for worker
    /// `w`, whose schedule has `phases` phases, over `slots` slots. Shapes
    /// are grouped into loops unless `one_by_one`. With `whole_cycle` (every
    /// component lowered), also [`Native::cycle`]; with `per_phase`, a
    /// function per worker, phase and kind. Why not, if this machine cannot
    /// generate code.
    #[cfg(feature = "jit")]
    pub fn compile(
        lowered: Vec<Vec<Lowered>>,
        phases: usize,
        slots: &[Slot],
        (one_by_one, whole_cycle, per_phase): (bool, bool, bool),
    ) -> Result<Native, String> {
        use codegen::Frame;
        let mut jit = jit::Jit::new()?;
        let count = lowered.iter().map(Vec::len).sum();
        let frame = |read: usize, arena: u64, whole_cycle: bool| Frame {
            read,
            whole_cycle,
            cycle: 0,
            arena,
        };
        // Each worker's plan, with the address of its arena (whose buffer
        // does not move from here on: it is never resized).
        let mut groups: Vec<Vec<Vec<Lowered>>> = lowered
            .into_iter()
            .map(|members| plan::group(members, one_by_one))
            .collect();
        wires::narrow(&mut groups, slots);
        let mut plans: Vec<(plan::Plan, u64)> = groups
            .into_iter()
            .map(|groups| {
                let mut plan = plan::plan(groups, slots.len());
                let address = plan.arena.as_mut_ptr() as u64;
                (plan, address)
            })
            .collect();
        let mut ids = Vec::new();
        for (plan, address) in &plans {
            let mut mine = Vec::new();
            for ((phase, kind), units) in plan.units.iter().filter(|_| per_phase) {
                let [p0, p1] = [0, 1].map(|read| jit.add(&[(units, frame(read, *address, false))]));
                mine.push((*phase, *kind, [p0?, p1?]));
            }
            ids.push(mine);
        }
        let cycle = if whole_cycle {
            // Every evaluation in level order, then every tick: a valid
            // order on one thread (ticks read only final values and write
            // only the other parity), whose ticks come after everything the
            // cycle's trace shows.
            let cycle = |read: usize, cycle: u64| {
                let mut parts: Vec<(usize, Kind, &[Unit], Frame)> = Vec::new();
                for (plan, address) in &plans {
                    for ((phase, kind), units) in &plan.units {
                        let frame = Frame {
                            cycle,
                            ..frame(read, *address, true)
                        };
                        parts.push((*phase, *kind, units.as_slice(), frame));
                    }
                }
                // Kind before phase; workers in order within a phase.
                parts.sort_by_key(|(phase, kind, ..)| (*kind, *phase));
                parts
                    .into_iter()
                    .map(|(.., u, f)| (u, f))
                    .collect::<Vec<(&[Unit], Frame)>>()
            };
            let [p0, p1] = [0, 1].map(|read| jit.add(&cycle(read, 0)));
            let mut both = cycle(0, 0);
            both.extend(cycle(1, 1));
            let two = jit.add(&both);
            Some(([p0?, p1?], two?))
        } else {
            None
        };
        jit.finalize()?;
        let workers = plans
            .drain(..)
            .zip(ids)
            .map(|((plan, _), ids)| {
                let mut steps = vec![[None, None]; phases];
                for (phase, kind, [p0, p1]) in ids {
                    steps[phase][kind as usize] = Some([jit.code(p0), jit.code(p1)]);
                }
                WorkerCode {
                    steps,
                    failures: plan.failures,
                    arena: plan.arena,
                    places: plan.places,
                    _units: plan.units,
                }
            })
            .collect();
        Ok(Native {
            workers,
            cycle: cycle.map(|([p0, p1], two)| Cycles {
                one: [jit.code(p0), jit.code(p1)],
                two: jit.code(two),
            }),
            lowered: count,
            _jit: jit,
        })
    }
}
