//! The compiled engine's code: lowered components (see [`crate::lower`])
//! become native functions when the circuit loads, one per worker, phase,
//! kind (evaluation or clock edge) and cycle parity. The partitioned engine
//! calls them where it would call the components' batches; components that
//! do not lower stay batches, called by the engine between the native
//! functions, so generated code never calls Rust and nothing unwinds
//! through it.
//!
//! The pipeline: [`plan`] groups components into units and lays out their
//! state; [`codegen`] builds each function's Cranelift IR; [`jit`] compiles
//! and links them, and holds every `unsafe` of this module.

#[cfg(feature = "jit")]
mod codegen;
#[cfg(feature = "jit")]
mod jit;
pub(crate) mod plan;

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
    /// Or a whole cycle's code, for each parity read.
    pub cycle: Option<[Code; 2]>,
    /// How to report each check that can fail.
    failures: HashMap<usize, FailureSite>,
    /// The code's state: read and written only by the code (see [`jit`]).
    _arena: Vec<u64>,
    /// The units, whose tables the code reads.
    _units: Vec<((usize, Kind), Vec<Unit>)>,
}

impl WorkerCode {
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
    /// Components lowered and compiled.
    pub lowered: usize,
    // Declared last: dropped after the memory above is no longer used.
    #[cfg(feature = "jit")]
    _jit: jit::Jit,
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
        _modes: (bool, bool),
    ) -> Result<Native, String> {
        Err("this cspsim is built without the `jit` feature".into())
    }

    /// Compile each worker's lowered components: `lowered[w]` for worker
    /// `w`, whose schedule has `phases` phases, over `slots` slots. Shapes
    /// are grouped into loops unless `one_by_one`. With `whole_cycle` (one
    /// worker, every component lowered), one function per parity runs a
    /// whole cycle instead of one per phase. Why not, if this machine
    /// cannot generate code.
    #[cfg(feature = "jit")]
    pub fn compile(
        lowered: Vec<Vec<Lowered>>,
        phases: usize,
        slots: &[Slot],
        (one_by_one, whole_cycle): (bool, bool),
    ) -> Result<Native, String> {
        use codegen::Frame;
        let mut jit = jit::Jit::new()?;
        let count = lowered.iter().map(Vec::len).sum();
        let frame = |kind: Kind, read: usize| Frame {
            read,
            write: match kind {
                Kind::Eval => read,
                Kind::Tick => 1 - read,
            },
            whole_cycle,
        };
        let mut pending = Vec::new();
        for members in lowered {
            let plan = plan::plan(members, slots.len(), one_by_one);
            let mut arena = plan.arena;
            // The arena's buffer does not move from here on (never resized).
            let address = arena.as_mut_ptr() as u64;
            let mut ids = Vec::new();
            let mut cycle = None;
            if whole_cycle {
                // Every evaluation in level order, then every tick: a valid
                // order for one worker (ticks read only final values and
                // write only the other parity), whose ticks come after
                // everything the cycle's trace shows.
                let ordered = |kind: Kind| plan.units.iter().filter(move |((_, k), _)| *k == kind);
                let [p0, p1] = [0, 1].map(|read| {
                    let parts: Vec<(&[Unit], Frame)> = ordered(Kind::Eval)
                        .chain(ordered(Kind::Tick))
                        .map(|((_, kind), units)| (units.as_slice(), frame(*kind, read)))
                        .collect();
                    jit.add(address, &parts)
                });
                cycle = Some([p0?, p1?]);
            } else {
                for ((phase, kind), units) in &plan.units {
                    let [p0, p1] =
                        [0, 1].map(|read| jit.add(address, &[(units, frame(*kind, read))]));
                    ids.push((*phase, *kind, [p0?, p1?]));
                }
            }
            pending.push((ids, cycle, arena, plan.units, plan.failures));
        }
        jit.finalize()?;
        let workers = pending
            .into_iter()
            .map(|(ids, cycle, arena, units, failures)| {
                let mut steps = vec![[None, None]; phases];
                for (phase, kind, [p0, p1]) in ids {
                    steps[phase][kind as usize] = Some([jit.code(p0), jit.code(p1)]);
                }
                WorkerCode {
                    steps,
                    cycle: cycle.map(|[p0, p1]| [jit.code(p0), jit.code(p1)]),
                    failures,
                    _arena: arena,
                    _units: units,
                }
            })
            .collect();
        Ok(Native {
            workers,
            lowered: count,
            _jit: jit,
        })
    }
}
