//! From lowered components to units of code: which components share one
//! loop, where their state lives, and how each per-member quantity (a slot,
//! a constant, a component index) is found for member `k`. This is the ABI
//! between the engine's slot layout, the state arena and the generated
//! code; it knows no Cranelift and no model.
//!
//! Components whose bodies differ only in constants (an array of one
//! model, `${…}` parameters aside) form one *shape group*. A group of
//! [`LOOP_MIN`] or more members runs as one loop over the members; a smaller
//! one is emitted member by member, every address an immediate. Per member,
//! a quantity is a [`Column`]: the same for all, an affine function of `k`,
//! or a table. A group's state is struct-of-arrays in its worker's arena:
//! state word `j` of member `k` at word `state[j] + k`; array `a` of member
//! `k` at `arrays[a].0 + k * (len + 1)`, the extra word a scratch element
//! that out-of-range stores write (and loads never return).

use std::collections::HashMap;

use super::facts::{Facts, Ports};
use crate::lower::{Body, FailureText, Inst, Lowering};

/// Members below this many are emitted one by one (no loop).
pub(crate) const LOOP_MIN: usize = 16;

/// A component ready to be compiled: its lowering and its wiring.
pub(crate) struct Lowered {
    /// Its index in the circuit.
    pub component: usize,
    /// What it computes.
    pub lowering: Lowering,
    /// The slot of each input, per parity read.
    pub ins: [Vec<u32>; 2],
    /// The slot of each output, per parity written.
    pub outs: [Vec<u32>; 2],
    /// Each output's mask.
    pub masks: Vec<u64>,
    /// Each input's mask (its width).
    pub in_masks: Vec<u64>,
    /// The largest value each input can have: its mask, or less where its
    /// driver can give no more (see [`super::wires`]).
    pub in_bounds: Vec<u64>,
    /// The largest value each output can hold: its mask, or less.
    pub out_bounds: Vec<u64>,
    /// For each input, its value if nothing drives it (it never changes).
    pub constants: Vec<Option<u64>>,
    /// The phase of its evaluation and of its tick (`usize::MAX`: none).
    pub phases: (usize, usize),
    /// Where the tick's instructions start in `lowering.eval`, if it is
    /// fused into it (see [`fuse`]): then `lowering.tick` is empty and both
    /// run in the evaluation's phase, each member ticking right after its
    /// evaluation.
    pub ticks_from: Option<usize>,
    /// Whether each output's slot must be written: false for a
    /// combinational output that nothing reads (no component, no trace,
    /// not its own bodies), whose value the code keeps in a register.
    pub stored: Vec<bool>,
}

impl Lowered {
    /// The body of `kind`.
    pub(crate) fn body(&self, kind: Kind) -> &Body {
        match kind {
            Kind::Eval => &self.lowering.eval,
            Kind::Tick => &self.lowering.tick,
        }
    }
}

/// `lowering` with its tick appended to its evaluation, and the position of
/// the tick's first instruction. One body runs both: a tick's read of an
/// output the evaluation set is that value, in a register, and the tick's
/// outputs are written to the other parity.
pub(crate) fn fuse(mut lowering: Lowering) -> (Lowering, usize) {
    let tick = std::mem::take(&mut lowering.tick);
    let from = lowering.eval.append(&tick);
    (lowering, from)
}

/// A per-member quantity of a unit, for member `k`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Column {
    /// The same for every member.
    Same(u64),
    /// `first + k * step`, wrapping.
    Affine {
        /// Member 0's value.
        first: u64,
        /// The difference between neighbours.
        step: u64,
    },
    /// Anything else: one value per member.
    Table(Box<[u64]>),
}

impl Column {
    /// The column holding `values`, in its cheapest form.
    pub fn of(values: &[u64]) -> Column {
        match values {
            [] => Column::Same(0),
            [v] => Column::Same(*v),
            [first, second, ..] => {
                let step = second.wrapping_sub(*first);
                let affine = values
                    .iter()
                    .enumerate()
                    .all(|(k, &v)| v == first.wrapping_add(step.wrapping_mul(k as u64)));
                match (affine, step) {
                    (true, 0) => Column::Same(*first),
                    (true, step) => Column::Affine {
                        first: *first,
                        step,
                    },
                    (false, _) => Column::Table(values.into()),
                }
            }
        }
    }

    /// Member `k`'s value.
    pub fn at(&self, k: usize) -> u64 {
        match self {
            Column::Same(v) => *v,
            Column::Affine { first, step } => first.wrapping_add(step.wrapping_mul(k as u64)),
            Column::Table(t) => t[k],
        }
    }

    /// The largest value of the first `members` members.
    pub(crate) fn max(&self, members: usize) -> u64 {
        (0..members).map(|k| self.at(k)).max().unwrap_or(0)
    }
}

/// Evaluation or clock edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    /// [`Lowering::eval`].
    Eval,
    /// [`Lowering::tick`].
    Tick,
}

/// One body over the members of a shape group: what the code generator
/// turns into a loop, or into straight-line code per member.
pub(crate) struct Unit {
    /// The instructions (constants as placeholders: see `consts`).
    pub body: Body,
    /// Where a tick's instructions start in `body` (0 for a tick's unit,
    /// the body's length for an evaluation's): their outputs are written to
    /// the other parity (see [`fuse`]).
    pub ticks_from: usize,
    /// What is known of each instruction's value, for every member.
    pub facts: Facts,
    /// The largest value each instruction can compute from the ports'
    /// widths alone, where the body indexes an array (else empty): what
    /// array accesses stay in range by, whatever is known of the wires.
    pub widths: Vec<u64>,
    /// How many members.
    pub members: usize,
    /// One loop over the members, or each member's code in turn.
    pub looped: bool,
    /// The value of each constant of `body`, in order.
    pub consts: Vec<Column>,
    /// The slot of input `i`, per parity read: `ins[parity][i]`.
    pub ins: [Vec<Column>; 2],
    /// The slot of output `o`, per parity: `outs[parity][o]`.
    pub outs: [Vec<Column>; 2],
    /// Each output's mask.
    pub masks: Vec<u64>,
    /// Whether each output's slot is written (for any member).
    pub stored: Vec<bool>,
    /// Arena word of state word `j` of member 0 (member `k`: `+ k`).
    pub state: Vec<u64>,
    /// Arena word of element 0 of each array of member 0, and its length
    /// (member `k`'s: `+ k * (len + 1)`).
    pub arrays: Vec<(u64, u64)>,
    /// Each member's component index.
    pub components: Column,
}

/// What a lowered check needs to say why it failed.
pub(crate) struct FailureSite {
    /// Makes the message from the component's inputs.
    pub text: FailureText,
    /// The component's input slots, per parity read.
    pub ins: [Vec<u32>; 2],
}

/// Everything one worker's compiled code needs.
pub(crate) struct Plan {
    /// The state arena's initial contents.
    pub arena: Vec<u64>,
    /// The units of each phase and kind, in a fixed order.
    pub units: Vec<((usize, Kind), Vec<Unit>)>,
    /// How to report a failed check, by component.
    pub failures: HashMap<usize, FailureSite>,
    /// Where each lowered component's state lies in the arena.
    pub places: HashMap<usize, Place>,
}

/// One component's state in the arena: the offset of each state word, and
/// of each array's element 0 with its length.
pub(crate) struct Place {
    pub state: Vec<usize>,
    pub arrays: Vec<(usize, usize)>,
}

/// Make `body`'s reads of undriven inputs constants, which the code
/// generator then folds (an unconnected enable disappears).
fn fold_constant_inputs(body: &mut Body, constants: &[Option<u64>]) {
    body.map_insts(|inst| match inst {
        Inst::Input(i) => match constants.get(i as usize).copied().flatten() {
            Some(v) => Inst::Const(v),
            None => inst,
        },
        other => other,
    });
}

/// Whether `a` and `b` can share a unit: bodies of one shape, state and
/// arrays of one size, ports of one wiring shape and width, the same phases.
fn same_shape(a: &Lowered, b: &Lowered) -> bool {
    let (x, y) = (&a.lowering, &b.lowering);
    x.eval.same_shape(&y.eval)
        && x.tick.same_shape(&y.tick)
        && x.state.len() == y.state.len()
        && x.arrays.len() == y.arrays.len()
        && x.arrays
            .iter()
            .zip(&y.arrays)
            .all(|(p, q)| p.len() == q.len())
        && a.masks == b.masks
        && a.in_masks == b.in_masks
        && a.phases == b.phases
        && a.ticks_from == b.ticks_from
}

/// A hash of what [`same_shape`] compares (part of it).
fn shape_hash(m: &Lowered) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    m.lowering.eval.shape_hash(&mut h);
    m.lowering.tick.shape_hash(&mut h);
    (m.lowering.state.len(), m.lowering.arrays.len(), m.phases).hash(&mut h);
    m.masks.hash(&mut h);
    h.finish()
}

/// `lowered` (one worker's components, in index order) in shape groups
/// (each component its own, if `one_by_one`), their undriven inputs made
/// constants.
pub(crate) fn group(lowered: Vec<Lowered>, one_by_one: bool) -> Vec<Vec<Lowered>> {
    let mut groups: Vec<Vec<Lowered>> = Vec::new();
    let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
    for mut member in lowered {
        fold_constant_inputs(&mut member.lowering.eval, &member.constants);
        fold_constant_inputs(&mut member.lowering.tick, &member.constants);
        let candidates = index.entry(shape_hash(&member)).or_default();
        let found = candidates
            .iter()
            .copied()
            .find(|&g| !one_by_one && same_shape(&groups[g][0], &member));
        match found {
            Some(g) => groups[g].push(member),
            None => {
                candidates.push(groups.len());
                groups.push(vec![member]);
            }
        }
    }
    groups
}

/// Make one worker's shape `groups` (see [`group`]) units, and lay out
/// their state. Every slot index must be below `slots`.
pub(crate) fn plan(groups: Vec<Vec<Lowered>>, slots: usize) -> Plan {
    let mut arena = Vec::new();
    let mut units: HashMap<(usize, Kind), Vec<Unit>> = HashMap::new();
    let mut failures = HashMap::new();
    let mut places = HashMap::new();
    for group in groups {
        let (state, arrays) = lay_out(&group, &mut arena);
        for (k, m) in group.iter().enumerate() {
            let place = Place {
                state: state.iter().map(|&s| s as usize + k).collect(),
                arrays: arrays
                    .iter()
                    .map(|&(at, len)| ((at + k as u64 * (len + 1)) as usize, len as usize))
                    .collect(),
            };
            places.insert(m.component, place);
        }
        let (eval_phase, tick_phase) = group[0].phases;
        for (kind, phase) in [(Kind::Eval, eval_phase), (Kind::Tick, tick_phase)] {
            if phase == usize::MAX || group[0].body(kind).is_empty() {
                continue;
            }
            let made = self::units(&group, kind, (&state, &arrays), slots);
            units.entry((phase, kind)).or_default().extend(made);
        }
        for m in group {
            if let Some(text) = m.lowering.failure {
                failures.insert(m.component, FailureSite { text, ins: m.ins });
            }
        }
    }
    let mut units: Vec<_> = units.into_iter().collect();
    units.sort_by_key(|(at, _)| *at);
    Plan {
        arena,
        units,
        failures,
        places,
    }
}

/// The largest element of each array of `members` (of one shape) that no
/// body of theirs stores to (a ROM's contents), else `u64::MAX`.
pub(crate) fn array_bounds(members: &[Lowered]) -> Vec<u64> {
    let first = &members[0].lowering;
    let stored = |a: usize| {
        [&first.eval, &first.tick]
            .iter()
            .flat_map(|b| b.insts())
            .any(|i| matches!(*i, Inst::StoreAt(x, ..) if x.0 as usize == a))
    };
    (0..first.arrays.len())
        .map(|a| match stored(a) {
            true => u64::MAX,
            false => members
                .iter()
                .flat_map(|m| m.lowering.arrays[a].iter().copied())
                .max()
                .unwrap_or(0),
        })
        .collect()
}

/// Place a group's state and arrays in `arena`, struct-of-arrays, with
/// their initial values; the offsets of member 0's.
fn lay_out(group: &[Lowered], arena: &mut Vec<u64>) -> (Vec<u64>, Vec<(u64, u64)>) {
    let first = &group[0].lowering;
    let state = (0..first.state.len())
        .map(|j| {
            let at = arena.len() as u64;
            arena.extend(group.iter().map(|m| m.lowering.state[j]));
            at
        })
        .collect();
    let arrays = (0..first.arrays.len())
        .map(|a| {
            let at = arena.len() as u64;
            let len = first.arrays[a].len() as u64;
            for m in group {
                arena.extend_from_slice(&m.lowering.arrays[a]);
                arena.push(0); // the scratch element
            }
            (at, len)
        })
        .collect();
    (state, arrays)
}

/// The units running `body` of every member of `group`: loops over runs of
/// members whose every per-member quantity is affine in the member (the
/// common case: an array wired index to index), the short runs between
/// them member by member; or, where that would leave too many members
/// outside loops, one loop over all with tables.
fn units(
    group: &[Lowered],
    kind: Kind,
    (state, arrays): (&[u64], &[(u64, u64)]),
    slots: usize,
) -> Vec<Unit> {
    let quantities = Quantities::of(group, kind);
    let runs = quantities.affine_runs();
    let outside: usize = runs
        .iter()
        .filter(|r| r.len() < LOOP_MIN)
        .map(|r| r.len())
        .sum();
    let runs = if outside > LOOP_MIN.max(group.len() / 8) {
        std::iter::once(0..group.len()).collect()
    } else {
        runs
    };
    runs.into_iter()
        .map(|run| {
            let start = run.start as u64;
            let state: Vec<u64> = state.iter().map(|&s| s + start).collect();
            let arrays: Vec<(u64, u64)> = arrays
                .iter()
                .map(|&(at, len)| (at + start * (len + 1), len))
                .collect();
            unit(group, kind, &quantities, run, (&state, &arrays), slots)
        })
        .collect()
}

/// Every per-member quantity of a group's `kind` bodies, quantity by
/// quantity (each a column of one value per member): the constants, then
/// the input slots of parity 0 and 1, the output slots of parity 0 and 1,
/// and the component index.
struct Quantities {
    columns: Vec<Vec<u64>>,
    consts: usize,
    inputs: usize,
    outputs: usize,
}

impl Quantities {
    fn of(group: &[Lowered], kind: Kind) -> Self {
        let first = &group[0];
        let consts = first.body(kind).constants().count();
        let (inputs, outputs) = (first.ins[0].len(), first.outs[0].len());
        let mut columns: Vec<Vec<u64>> = (0..consts + 2 * (inputs + outputs) + 1)
            .map(|_| Vec::with_capacity(group.len()))
            .collect();
        for m in group {
            let slots = m.ins.iter().chain(&m.outs).flatten().map(|&s| u64::from(s));
            let values = m
                .body(kind)
                .constants()
                .chain(slots)
                .chain([m.component as u64]);
            for (column, v) in columns.iter_mut().zip(values) {
                column.push(v);
            }
        }
        Quantities {
            columns,
            consts,
            inputs,
            outputs,
        }
    }

    /// Cut the members into runs, greedily, in each of which every
    /// quantity is an affine function of the member.
    fn affine_runs(&self) -> Vec<std::ops::Range<usize>> {
        let members = self.columns.last().map_or(0, Vec::len);
        let mut runs = Vec::new();
        let mut start = 0;
        while start < members {
            // Any two members are affine; the steps are their differences.
            let mut end = (start + 2).min(members);
            if end - start == 2 {
                let step = |c: &Vec<u64>| c[start + 1].wrapping_sub(c[start]);
                let steps: Vec<u64> = self.columns.iter().map(step).collect();
                while end < members {
                    let k = (end - start) as u64;
                    let fits = self
                        .columns
                        .iter()
                        .zip(&steps)
                        .all(|(c, step)| c[end] == c[start].wrapping_add(step.wrapping_mul(k)));
                    if !fits {
                        break;
                    }
                    end += 1;
                }
            }
            runs.push(start..end);
            start = end;
        }
        runs
    }

    /// The column of quantity `q` over the members `run`.
    fn column(&self, q: usize, run: &std::ops::Range<usize>) -> Column {
        Column::of(&self.columns[q][run.clone()])
    }
}

/// The unit running `body` of the members `run` of `group`, whose first
/// member's state and arrays are at `state` and `arrays`.
fn unit(
    group: &[Lowered],
    kind: Kind,
    quantities: &Quantities,
    run: std::ops::Range<usize>,
    (state, arrays): (&[u64], &[(u64, u64)]),
    slots: usize,
) -> Unit {
    let members = run.len();
    let q = quantities;
    let consts: Vec<Column> = (0..q.consts).map(|c| q.column(c, &run)).collect();
    let ports = |first: usize, count: usize| -> Vec<Column> {
        (first..first + count)
            .map(|i| {
                let c = q.column(i, &run);
                assert!(c.max(members) < slots as u64, "a slot out of range");
                c
            })
            .collect()
    };
    let (ni, no) = (q.inputs, q.outputs);
    let ins = [ports(q.consts, ni), ports(q.consts + ni, ni)];
    let outs = [
        ports(q.consts + 2 * ni, no),
        ports(q.consts + 2 * ni + no, no),
    ];
    let components = q.column(q.consts + 2 * (ni + no), &run);
    let looped = members >= LOOP_MIN;
    let first = &group[run.start];
    let widest = |of: fn(&Lowered) -> &Vec<u64>| -> Vec<u64> {
        let mut most = of(first).clone();
        for m in &group[run.clone()] {
            most.iter_mut()
                .zip(of(m))
                .for_each(|(a, &b)| *a = (*a).max(b));
        }
        most
    };
    let (inputs, outputs) = (widest(|m| &m.in_bounds), widest(|m| &m.out_bounds));
    let body = first.body(kind);
    let facts = Facts::of(
        body,
        &consts,
        members,
        Ports {
            inputs: &inputs,
            outputs: &outputs,
            arrays: &array_bounds(&group[run.clone()]),
        },
    );
    let indexes = body
        .insts()
        .iter()
        .any(|i| matches!(i, Inst::LoadAt(..) | Inst::StoreAt(..)));
    let widths = match indexes {
        true => {
            let ports = Ports {
                inputs: &first.in_masks,
                outputs: &first.masks,
                arrays: &[],
            };
            super::facts::bounds(body, &consts, members, ports)
        }
        false => Vec::new(),
    };
    let shared = if looped {
        first.body(kind).shape()
    } else {
        first.body(kind).clone()
    };
    let stored = (0..no)
        .map(|o| group[run.clone()].iter().any(|m| m.stored[o]))
        .collect();
    let ticks_from = match kind {
        Kind::Eval => first.ticks_from.unwrap_or(shared.insts().len()),
        Kind::Tick => 0,
    };
    Unit {
        ticks_from,
        facts,
        widths,
        body: shared,
        members,
        looped,
        consts,
        ins,
        outs,
        masks: first.masks.clone(),
        stored,
        state: state.to_vec(),
        arrays: arrays.to_vec(),
        components,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::Binary;

    #[test]
    fn columns_take_their_cheapest_form() {
        assert_eq!(Column::of(&[4, 4, 4]), Column::Same(4));
        assert_eq!(Column::of(&[3, 5, 7]), Column::Affine { first: 3, step: 2 });
        assert_eq!(
            Column::of(&[9, 7, 5]).at(2),
            5,
            "a negative step wraps: {:?}",
            Column::of(&[9, 7, 5])
        );
        assert_eq!(Column::of(&[1, 2, 4]), Column::Table(vec![1, 2, 4].into()));
        assert_eq!(Column::of(&[6]), Column::Same(6));
    }

    fn adder(component: usize, k: u64, slot: u32) -> Lowered {
        let mut l = Lowering::new();
        let s = l.state_word(component as u64 * 10);
        let x = l.tick.input(0);
        let en = l.tick.input(1);
        let y = l.tick.binary_const(Binary::Add, x, k);
        let y = l.tick.select(en, y, x);
        l.tick.store(s, y);
        l.tick.set_output(0, y);
        Lowered {
            component,
            lowering: l,
            ins: [vec![slot, 100 + slot], vec![slot + 50, 100 + slot]],
            outs: [vec![200 + slot], vec![300 + slot]],
            masks: vec![0xff],
            in_masks: vec![0xff, 1],
            in_bounds: vec![0xff, 1],
            out_bounds: vec![0xff],
            constants: vec![None, Some(1)],
            phases: (usize::MAX, 0),
            ticks_from: None,
            stored: vec![true],
        }
    }

    #[test]
    fn shape_groups_share_a_unit_with_columns() {
        let members: Vec<Lowered> = (0..20)
            .map(|c| adder(c, 3 * c as u64 + 1, c as u32 * 2))
            .collect();
        let plan = plan_of(members);
        assert_eq!(plan.units.len(), 1);
        let ((phase, kind), units) = &plan.units[0];
        assert_eq!((*phase, *kind, units.len()), (0, Kind::Tick, 1));
        let u = &units[0];
        assert!(u.looped && u.members == 20);
        // The undriven enable became the constant 1: the body's first
        // constant; then the added constant, affine in the member.
        assert_eq!(
            u.consts,
            vec![Column::Same(1), Column::Affine { first: 1, step: 3 }]
        );
        assert_eq!(u.ins[0][0], Column::Affine { first: 0, step: 2 });
        assert_eq!(u.ins[1][0], Column::Affine { first: 50, step: 2 });
        assert_eq!(
            u.outs[1][0],
            Column::Affine {
                first: 300,
                step: 2
            }
        );
        assert_eq!(u.components, Column::Affine { first: 0, step: 1 });
        // State word 0 of member k at arena word k, holding 10 k.
        assert_eq!(u.state, vec![0]);
        assert_eq!(plan.arena[7], 70);
    }

    #[test]
    fn a_group_is_cut_into_affine_runs_with_irregular_members_apart() {
        // Member 0 reads elsewhere (as a chain's first stage does).
        let mut members: Vec<Lowered> = (0..40).map(|c| adder(c, 7, 10 + c as u32)).collect();
        members[0].ins = [vec![300, 100], vec![350, 100]];
        let plan = plan_of(members);
        let units = &plan.units[0].1;
        let shape: Vec<(usize, bool)> = units.iter().map(|u| (u.members, u.looped)).collect();
        assert_eq!(shape, vec![(2, false), (38, true)]);
        // The loop's member 0 is the group's member 2: its state and slots.
        assert_eq!(units[1].state, vec![2]);
        assert_eq!(units[1].ins[0][0], Column::Affine { first: 12, step: 1 });
        assert_eq!(units[1].components, Column::Affine { first: 2, step: 1 });
        // Wiring without any pattern: one loop over tables.
        let members: Vec<Lowered> = (0..40)
            .map(|c| adder(c, 7, ((c * c) % 97) as u32))
            .collect();
        let units = &plan_of(members).units[0].1;
        assert_eq!(units.len(), 1);
        assert!(matches!(units[0].ins[0][0], Column::Table(_)));
    }

    fn plan_of(members: Vec<Lowered>) -> Plan {
        plan(group(members, false), 400)
    }

    #[test]
    fn arrays_never_stored_to_are_bounded_by_their_contents() {
        let member = |contents: Vec<u64>| {
            let mut m = adder(0, 1, 0);
            let rom = m.lowering.array(contents);
            let ram = m.lowering.array(vec![1, 2]);
            let i = m.lowering.tick.input(0);
            let _word = m.lowering.tick.load_at(rom, i);
            m.lowering.tick.store_at(ram, i, i);
            m
        };
        let members = [member(vec![3, 9, 4]), member(vec![12, 0, 1])];
        assert_eq!(array_bounds(&members), vec![12, u64::MAX]);
    }

    #[test]
    fn small_groups_keep_their_own_bodies() {
        let plan = plan_of(vec![adder(0, 5, 0), adder(1, 6, 2)]);
        let u = &plan.units[0].1[0];
        assert!(!u.looped);
        assert_eq!(u.body.constants().collect::<Vec<_>>(), vec![1, 5]);
    }
}
