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
    /// For each input, its value if nothing drives it (it never changes).
    pub constants: Vec<Option<u64>>,
    /// The phase of its evaluation and of its tick (`usize::MAX`: none).
    pub phases: (usize, usize),
    /// Whether each output's slot must be written: false for a
    /// combinational output that nothing reads (no component, no trace,
    /// not its own bodies), whose value the code keeps in a register.
    pub stored: Vec<bool>,
}

impl Lowered {
    /// The body of `kind`.
    fn body(&self, kind: Kind) -> &Body {
        match kind {
            Kind::Eval => &self.lowering.eval,
            Kind::Tick => &self.lowering.tick,
        }
    }
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

    /// The largest value over `members` members.
    fn max(&self, members: usize) -> u64 {
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
    /// Which instructions matter: those with an effect and what they read.
    pub live: Vec<bool>,
    /// The largest value each instruction can compute, for every member
    /// (see [`bounds`]).
    pub bounds: Vec<u64>,
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

/// Which instructions of `body` matter: those with an effect, and
/// (backwards) every value they read.
pub(crate) fn live(body: &Body) -> Vec<bool> {
    let insts = body.insts();
    let mut live = vec![false; insts.len()];
    for (k, inst) in insts.iter().enumerate().rev() {
        if !inst.has_value() {
            live[k] = true;
        }
        if live[k] {
            for v in inst.operands() {
                live[v.0 as usize] = true;
            }
        }
    }
    live
}

/// The largest value each instruction of `body` can compute for any of
/// `members` members, from the constants' columns and the ports' widths:
/// what lets the code generator drop a mask that changes nothing, a range
/// check on an index that is always in range, or the test of a shift by 64
/// or more that cannot happen.
pub(crate) fn bounds(
    body: &Body,
    consts: &[Column],
    members: usize,
    (inputs, outputs): (&[u64], &[u64]),
) -> Vec<u64> {
    use crate::lower::{Binary::*, Unary};
    // All ones up to the highest bit of `v`.
    let fill = |v: u64| {
        if v == 0 {
            0
        } else {
            u64::MAX >> v.leading_zeros()
        }
    };
    let mut bound: Vec<u64> = Vec::with_capacity(body.insts().len());
    // The least value each constant has over the members.
    let mut least: Vec<u64> = Vec::with_capacity(body.insts().len());
    let mut constant = 0;
    for inst in body.insts() {
        let b = |v: crate::lower::Val| bound[v.0 as usize];
        least.push(0);
        let value = match *inst {
            Inst::Const(_) => {
                constant += 1;
                let column = &consts[constant - 1];
                if let Some(l) = least.last_mut() {
                    *l = (0..members).map(|k| column.at(k)).min().unwrap_or(0);
                }
                column.max(members)
            }
            Inst::Input(i) => inputs.get(i as usize).copied().unwrap_or(u64::MAX),
            Inst::Output(o) => outputs.get(o as usize).copied().unwrap_or(u64::MAX),
            Inst::Unary(Unary::IsZero, _) => 1,
            Inst::Unary(Unary::Popcount | Unary::Clz | Unary::Ctz, _) => 64,
            Inst::Binary(Eq | Ne | Lt | Le | Gt | Ge | FLt | FLe | FEq, ..) => 1,
            Inst::Binary(And, x, y) => b(x).min(b(y)),
            Inst::Binary(Or | Xor, x, y) => fill(b(x) | b(y)),
            Inst::Binary(Add, x, y) => b(x).saturating_add(b(y)),
            Inst::Binary(Mul, x, y) => b(x).saturating_mul(b(y)),
            Inst::Binary(MulHigh, x, y) => ((u128::from(b(x)) * u128::from(b(y))) >> 64) as u64,
            Inst::Binary(Div | Rem, x, _) => b(x),
            // A shift by 64 or more gives 0, as does one of `b(x)`'s width.
            Inst::Binary(Shr, x, y) => b(x).checked_shr(least[y.0 as usize] as u32).unwrap_or(0),
            Inst::Binary(Shl, x, y) if b(y) < 64 => {
                let shift = b(y) as u32;
                if b(x).leading_zeros() >= shift {
                    b(x) << shift
                } else {
                    u64::MAX
                }
            }
            Inst::Select(_, x, y) => b(x).max(b(y)),
            _ => u64::MAX,
        };
        bound.push(value);
    }
    bound
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

/// Group `lowered` (one worker's components, in index order) into units
/// (each component its own, if `one_by_one`) and lay out their state.
/// Every slot index must be below `slots`.
pub(crate) fn plan(lowered: Vec<Lowered>, slots: usize, one_by_one: bool) -> Plan {
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
    let bounds = bounds(
        first.body(kind),
        &consts,
        members,
        (&first.in_masks, &first.masks),
    );
    let shared = if looped {
        first.body(kind).shape()
    } else {
        first.body(kind).clone()
    };
    let stored = (0..no)
        .map(|o| group[run.clone()].iter().any(|m| m.stored[o]))
        .collect();
    Unit {
        bounds,
        live: live(&shared),
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
            constants: vec![None, Some(1)],
            phases: (usize::MAX, 0),
            stored: vec![true],
        }
    }

    #[test]
    fn shape_groups_share_a_unit_with_columns() {
        let members: Vec<Lowered> = (0..20)
            .map(|c| adder(c, 3 * c as u64 + 1, c as u32 * 2))
            .collect();
        let plan = plan(members, 400, false);
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
        let plan = plan(members, 400, false);
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
        plan(members, 400, false)
    }

    #[test]
    fn bounds_follow_widths_and_constants() {
        let mut b = Body::new();
        let x = b.input(0); // 8 bits
        let k = b.constant(0); // 3, 5, 7 over three members
        let s = b.binary(Binary::Add, x, k);
        let _m = b.binary_const(Binary::And, s, 0xf);
        let _h = b.binary(Binary::Shr, x, k); // by 3 at least
        let _w = b.binary(Binary::Shl, x, k);
        let c = b.binary(Binary::Lt, x, k);
        let _o = b.binary(Binary::Or, x, c);
        let consts = [Column::Affine { first: 3, step: 2 }, Column::Same(0xf)];
        let bounds = bounds(&b, &consts, 3, (&[0xff], &[]));
        assert_eq!(
            bounds,
            vec![0xff, 7, 0xff + 7, 0xf, 0xf, 0xff >> 3, 0xff << 7, 1, 0xff]
        );
    }

    #[test]
    fn small_groups_keep_their_own_bodies_and_effects_decide_liveness() {
        let plan = plan(vec![adder(0, 5, 0), adder(1, 6, 2)], 400, false);
        let u = &plan.units[0].1[0];
        assert!(!u.looped);
        assert_eq!(u.body.constants().collect::<Vec<_>>(), vec![1, 5]);
        let mut b = Body::new();
        let dead = b.input(0);
        let x = b.input(1);
        let _unused = b.binary(Binary::Add, dead, x);
        b.set_output(0, x);
        assert_eq!(live(&b), vec![false, true, false, true]);
    }
}
