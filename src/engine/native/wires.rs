//! What each wire between compiled components can carry: the largest value
//! each lowered component's inputs and outputs can hold, from what their
//! drivers compute rather than from port widths alone. An ALU whose
//! operation comes from a decoder that gives only 0 or 1 then compiles to
//! an adder and a subtractor: the compares with the other operation codes
//! are decided (see [`super::facts`]) and the rest of its code goes.
//!
//! The bounds are a fixed point over the circuit: an output holds at most
//! the larger of its value now (after reset, or a restore) and of what its
//! bodies can set it to, given its inputs' bounds; an input holds at most
//! its driver output's bound, or its width's mask where the driver is not
//! lowered here (a batch, another rank, nothing). The components of one
//! shape group (see `plan::group`: an array, say) share their bounds, the
//! largest over them, as their code does: the search visits groups, not
//! members. An output whose
//! bound keeps growing is widened to its mask, so the search ends; if it
//! still takes too long, nothing is narrowed. Array accesses never rest on
//! these bounds (see `plan::Unit::widths`): only which code is emitted does.

use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;

use super::facts::{bounds, Ports};
use super::plan::{Column, Kind, Lowered};
use crate::lower::Inst;
use crate::model::Slot;

/// Growths of one output's bound before it is widened to its mask.
const WIDEN_AFTER: u32 = 3;

/// Visits per node, on average, before the search gives up.
const VISITS_PER_NODE: usize = 16;

/// Set every component's `in_bounds` and `out_bounds`, in every worker's
/// shape groups (`groups[worker][group]`), from what its drivers can give,
/// over `slots` (whose values are the components' now).
pub(crate) fn narrow(groups: &mut [Vec<Vec<Lowered>>], slots: &[Slot]) {
    // Each node's input and output bounds.
    let found: Vec<(Vec<u64>, Vec<u64>)> = {
        let all: Vec<&[Lowered]> = groups.iter().flatten().map(Vec::as_slice).collect();
        let nodes = nodes(&all, slots.len());
        let Some(outputs) = fixed_point(&nodes, slots) else {
            return;
        };
        let inputs: Vec<Vec<u64>> = nodes.iter().map(|n| n.inputs(&outputs)).collect();
        inputs.into_iter().zip(outputs).collect()
    };
    for (group, (ins, outs)) in groups.iter_mut().flatten().zip(&found) {
        for m in group {
            m.in_bounds.clone_from(ins);
            m.out_bounds.clone_from(outs);
        }
    }
}

/// Where an input of a node's members comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A constant, at most this.
    Constant(u64),
    /// Output `o` of node `n`.
    Driver(usize, usize),
    /// Anything the width allows.
    Open,
}

/// A shape group, analysed as one: its members, their bodies' constants as
/// columns, and each input's sources (over the members).
struct Node<'a> {
    members: &'a [Lowered],
    consts: [Vec<Column>; 2],
    arrays: Vec<u64>,
    sources: Vec<Vec<Source>>,
}

impl Node<'_> {
    /// The first member, whose bodies have the group's shape.
    fn first(&self) -> &Lowered {
        &self.members[0]
    }

    /// Each input's bound, given every node's output bounds.
    fn inputs(&self, outputs: &[Vec<u64>]) -> Vec<u64> {
        let m = self.first();
        (0..m.in_masks.len())
            .map(|i| {
                let mask = m.in_masks[i];
                let source = |s: &Source| match *s {
                    Source::Constant(v) => v,
                    Source::Driver(n, o) => outputs[n][o].min(mask),
                    Source::Open => mask,
                };
                self.sources[i].iter().map(source).max().unwrap_or(0)
            })
            .collect()
    }
}

/// The shape groups `all` as nodes, over `slots` slots.
fn nodes<'a>(all: &[&'a [Lowered]], slots: usize) -> Vec<Node<'a>> {
    // The node and output writing each slot.
    let mut writer: Vec<Option<(usize, usize)>> = vec![None; slots];
    for (n, group) in all.iter().enumerate() {
        for m in group.iter() {
            for outs in &m.outs {
                for (o, &s) in outs.iter().enumerate() {
                    writer[s as usize] = Some((n, o));
                }
            }
        }
    }
    all.iter()
        .map(|&members| {
            let first = &members[0];
            let consts = [Kind::Eval, Kind::Tick].map(|kind| {
                // Constant `k` of member `j` at `k * members + j`.
                let count = first.body(kind).constants().count();
                let mut values = vec![0; count * members.len()];
                for (j, m) in members.iter().enumerate() {
                    for (k, v) in m.body(kind).constants().enumerate() {
                        values[k * members.len() + j] = v;
                    }
                }
                values.chunks(members.len()).map(Column::of).collect()
            });
            let sources = (0..first.in_masks.len())
                .map(|i| {
                    let mut sources: Vec<Source> = Vec::new();
                    let mut constant: Option<u64> = None;
                    for m in members {
                        let source = match (m.constants[i], writer[m.ins[0][i] as usize]) {
                            (Some(v), _) => {
                                constant = Some(constant.map_or(v, |c| c.max(v)));
                                continue;
                            }
                            (None, Some((n, o))) => Source::Driver(n, o),
                            (None, None) => Source::Open,
                        };
                        if !sources.contains(&source) {
                            sources.push(source);
                        }
                    }
                    sources.extend(constant.map(Source::Constant));
                    sources
                })
                .collect();
            Node {
                members,
                consts,
                arrays: super::plan::array_bounds(members),
                sources,
            }
        })
        .collect()
}

/// Every node's output bounds, or `None` if the search takes too long.
fn fixed_point(nodes: &[Node<'_>], slots: &[Slot]) -> Option<Vec<Vec<u64>>> {
    // Start from what the outputs hold now, in either parity.
    let mut outputs: Vec<Vec<u64>> = nodes
        .iter()
        .map(|n| {
            let mut most = vec![0; n.first().masks.len()];
            for m in n.members {
                for outs in &m.outs {
                    for (o, &s) in outs.iter().enumerate() {
                        let now = slots[s as usize].load(Relaxed).min(m.masks[o]);
                        most[o] = most[o].max(now);
                    }
                }
            }
            most
        })
        .collect();
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (r, n) in nodes.iter().enumerate() {
        for source in n.sources.iter().flatten() {
            if let Source::Driver(d, _) = *source {
                if !readers[d].contains(&r) {
                    readers[d].push(r);
                }
            }
        }
    }
    let mut growths: Vec<Vec<u32>> = outputs.iter().map(|o| vec![0; o.len()]).collect();
    let mut queued = vec![true; nodes.len()];
    let mut queue: VecDeque<usize> = (0..nodes.len()).collect();
    let mut visits = VISITS_PER_NODE * nodes.len();
    while let Some(n) = queue.pop_front() {
        queued[n] = false;
        visits = visits.checked_sub(1)?;
        let node = &nodes[n];
        let inputs = node.inputs(&outputs);
        let ports = Ports {
            inputs: &inputs,
            outputs: &outputs[n],
            arrays: &node.arrays,
        };
        let set = set_bounds(node, ports);
        let masks = &node.first().masks;
        let mut grew = false;
        for (o, most) in set.into_iter().enumerate() {
            if most > outputs[n][o] {
                growths[n][o] += 1;
                outputs[n][o] = match growths[n][o] > WIDEN_AFTER {
                    true => masks[o],
                    false => most,
                };
                grew = true;
            }
        }
        if grew {
            for &r in readers[n].iter().chain([&n]) {
                if !queued[r] {
                    queued[r] = true;
                    queue.push_back(r);
                }
            }
        }
    }
    Some(outputs)
}

/// The largest value each output of `node`'s members can be set to by
/// their bodies, with inputs and outputs at most `ports`.
fn set_bounds(node: &Node<'_>, ports: Ports<'_>) -> Vec<u64> {
    let m = node.first();
    let mut most = vec![0; m.masks.len()];
    for (kind, consts) in [Kind::Eval, Kind::Tick].into_iter().zip(&node.consts) {
        let body = m.body(kind);
        let bound = bounds(body, consts, node.members.len(), ports);
        for inst in body.insts() {
            if let Inst::SetOutput(o, x) = *inst {
                let o = o as usize;
                most[o] = most[o].max(bound[x.0 as usize].min(m.masks[o]));
            }
        }
    }
    most
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::{Binary, Lowering};

    /// A component reading `ins` (slot, mask) and writing output slots
    /// `outs` (parity 0, parity 1, mask), computing `lowering`.
    fn component(lowering: Lowering, ins: &[(u32, u64)], outs: &[(u32, u32, u64)]) -> Lowered {
        let in_masks: Vec<u64> = ins.iter().map(|i| i.1).collect();
        let masks: Vec<u64> = outs.iter().map(|o| o.2).collect();
        Lowered {
            component: 0,
            lowering,
            ins: [0, 1].map(|_| ins.iter().map(|i| i.0).collect()),
            outs: [
                outs.iter().map(|o| o.0).collect(),
                outs.iter().map(|o| o.1).collect(),
            ],
            in_bounds: in_masks.clone(),
            out_bounds: masks.clone(),
            in_masks,
            masks,
            constants: vec![None; ins.len()],
            phases: (0, 1),
            ticks_from: None,
            stored: vec![true; outs.len()],
        }
    }

    fn slots(values: &[(usize, u64)]) -> Vec<Slot> {
        let slots: Vec<Slot> = (0..32).map(|_| Slot::new(0)).collect();
        for &(s, v) in values {
            slots[s].store(v, Relaxed);
        }
        slots
    }

    #[test]
    fn bounds_flow_from_drivers_to_readers() {
        // A decoder: 4-bit output `x == 5 ? 1 : 0`, from an input nothing
        // lowered drives; it feeds a compare.
        let mut decoder = Lowering::new();
        let e = &mut decoder.eval;
        let x = e.input(0);
        let is5 = e.binary_const(Binary::Eq, x, 5);
        let (one, zero) = (e.constant(1), e.constant(0));
        let y = e.select(is5, one, zero);
        e.set_output(0, y);
        let mut reader = Lowering::new();
        let a = reader.eval.input(0);
        let big = reader.eval.binary_const(Binary::Ge, a, 2);
        reader.eval.set_output(0, big);
        let mut groups = vec![vec![
            vec![component(decoder, &[(30, 0xff)], &[(10, 10, 0xf)])],
            vec![component(reader, &[(10, 0xf)], &[(11, 11, 1)])],
        ]];
        narrow(&mut groups, &slots(&[(30, 77)]));
        let [decoder, reader] = [&groups[0][0][0], &groups[0][1][0]];
        assert_eq!(decoder.in_bounds, vec![0xff], "undriven: its width");
        assert_eq!(decoder.out_bounds, vec![1]);
        assert_eq!(reader.in_bounds, vec![1]);
        assert_eq!(reader.out_bounds, vec![0], "1 >= 2 never holds");
    }

    #[test]
    fn a_growing_register_widens_and_a_held_one_keeps_its_value() {
        // q <= q + 1 (8 bits), from 0; h <= h, holding 200 now.
        let mut counter = Lowering::new();
        let t = &mut counter.tick;
        let q = t.output(0);
        let next = t.binary_const(Binary::Add, q, 1);
        t.set_output(0, next);
        let mut hold = Lowering::new();
        let h = hold.tick.output(0);
        hold.tick.set_output(0, h);
        let mut groups = vec![
            vec![vec![component(counter, &[], &[(2, 3, 0xff)])]],
            vec![vec![component(hold, &[], &[(4, 5, 0xffff)])]],
        ];
        narrow(&mut groups, &slots(&[(4, 200), (5, 200)]));
        assert_eq!(groups[0][0][0].out_bounds, vec![0xff]);
        assert_eq!(groups[1][0][0].out_bounds, vec![200]);
    }
}
