//! How the partitioned engine divides a circuit: the phase in which each
//! clocked component ticks, and which worker owns each component. Shared by
//! every engine that runs components in phases over shared slots.

use std::collections::HashMap;

use crate::circuit::{Circuit, Source};

/// The phase in which each clocked component ticks: the first in which its
/// inputs are final (after the levels of the combinational outputs it
/// reads) and its own evaluation is done. `usize::MAX` if it has no clock.
pub(crate) fn tick_phases(circuit: &Circuit, level_of: &[usize]) -> Vec<usize> {
    circuit
        .components
        .iter()
        .enumerate()
        .map(|(c, comp)| {
            if !comp.interface.is_clocked() {
                return usize::MAX;
            }
            let own = level_of[c].wrapping_add(1); // 0 when not evaluated
            comp.inputs
                .iter()
                .filter_map(|src| match *src {
                    Source::Driver(d) if !circuit.is_registered(d.component, d.port) => {
                        Some(level_of[d.component] + 1)
                    }
                    _ => None,
                })
                .fold(own, usize::max)
        })
        .collect()
}

/// Assign components to workers: each component belongs to the first phase
/// it works in (its level, or else its tick phase); the components of a
/// phase are cut, in index order, into contiguous blocks of about equal
/// cost (a component costs one, plus one per eight inputs: a wide gate
/// costs more than a counter), so neighbours stay together.
pub(crate) fn owners(
    circuit: &Circuit,
    level_of: &[usize],
    tick_phase: &[usize],
    workers: usize,
) -> Vec<usize> {
    let n = circuit.components.len();
    let first_phase = |c: usize| level_of[c].min(tick_phase[c]);
    let cost = |c: usize| 8 + circuit.components[c].inputs.len();
    let mut by_phase: HashMap<usize, Vec<usize>> = HashMap::new();
    for c in 0..n {
        by_phase.entry(first_phase(c)).or_default().push(c);
    }
    let mut owner = vec![0usize; n];
    for comps in by_phase.values() {
        let total: usize = comps.iter().map(|&c| cost(c)).sum();
        let mut before = 0;
        for &c in comps {
            // The worker whose share holds the middle of this component's cost.
            let middle = before + cost(c) / 2;
            owner[c] = (middle * workers / total.max(1)).min(workers - 1);
            before += cost(c);
        }
    }
    owner
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{netlist, Registry};

    fn circuit(text: &str) -> Circuit {
        netlist::load_str(text, "t.ron", Some("t"), &Registry::standard(), 0).unwrap()
    }

    #[test]
    fn clocked_components_tick_as_soon_as_their_inputs_are_final() {
        // src (registered) -> f (level 0) -> g (level 1) -> r; q reads src;
        // m is a RAM: combinational read at level 0, so it ticks after that.
        let c = circuit(
            r#"Circuit(cycles: 1, components: {
                "src": Component(model: "counter", params: {"width": 8}),
                "f": Component(model: "not", params: {"width": 8}),
                "g": Component(model: "not", params: {"width": 8}),
                "r": Component(model: "register", params: {"width": 8}),
                "q": Component(model: "register", params: {"width": 8}),
                "m": Component(model: "ram", params: {"width": 8}),
            }, nets: {
                "src.q": ["f.a", "q.d", "m.addr", "m.wdata"], "f.y": ["g.a"], "g.y": ["r.d"],
            })"#,
        );
        let mut level_of = vec![usize::MAX; c.components.len()];
        for (l, level) in c.levels.iter().enumerate() {
            for &k in level {
                level_of[k] = l;
            }
        }
        let phase = tick_phases(&c, &level_of);
        let of = |name: &str| phase[c.components.iter().position(|k| k.path == name).unwrap()];
        assert_eq!(
            ["src", "q", "m", "r", "f"].map(of),
            [0, 0, 1, 2, usize::MAX],
            "levels {:?}",
            c.levels
        );
    }

    #[test]
    fn phases_are_cut_into_blocks_of_equal_cost() {
        // 6 LFSRs (one input each) and a 6-input XOR, all working in phase 0.
        let c = circuit(
            r#"Circuit(cycles: 1, components: {
                "l": Component(model: "lfsr", count: 6, params: {"width": 8}),
                "x": Component(model: "xor", params: {"width": 8, "n": 6}),
            }, nets: {"l[i].q": ["x.in[i]"]})"#,
        );
        let level_of: Vec<usize> = (0..c.components.len())
            .map(|k| {
                if c.levels.iter().flatten().any(|&j| j == k) {
                    0
                } else {
                    usize::MAX
                }
            })
            .collect();
        let owner = owners(&c, &level_of, &tick_phases(&c, &level_of), 2);
        let count = |w: usize| owner.iter().filter(|&&o| o == w).count();
        // Costs 9 each for the LFSRs, 14 for the XOR: 68 in all, so the
        // worker with the XOR gets fewer LFSRs.
        assert_eq!((count(0), count(1)), (4, 3), "{owner:?}");
    }
}
