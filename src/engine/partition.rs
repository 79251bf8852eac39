//! How the partitioned engine divides a circuit: the phase in which each
//! clocked component ticks, and which worker owns each component. Shared by
//! every engine that runs components in phases over shared slots.

use std::collections::HashMap;

use crate::circuit::{Circuit, Source};

/// The combinational level of each component (`usize::MAX`: it is not
/// evaluated).
pub(crate) fn levels_of(circuit: &Circuit) -> Vec<usize> {
    let mut level_of = vec![usize::MAX; circuit.components.len()];
    for (l, level) in circuit.levels.iter().enumerate() {
        for &c in level {
            level_of[c] = l;
        }
    }
    level_of
}

/// The first phase in which each component's inputs are final: after the
/// levels of the combinational outputs it reads (0 if it reads none).
pub(crate) fn inputs_final(circuit: &Circuit, level_of: &[usize]) -> Vec<usize> {
    circuit
        .components
        .iter()
        .map(|comp| {
            comp.inputs
                .iter()
                .filter_map(|src| match *src {
                    Source::Driver(d) if !circuit.is_registered(d.component, d.port) => {
                        Some(level_of[d.component] + 1)
                    }
                    _ => None,
                })
                .fold(0, usize::max)
        })
        .collect()
}

/// The phase in which each clocked component ticks: the first in which its
/// inputs are final (see [`inputs_final`]) and its own evaluation is done.
/// `usize::MAX` if it has no clock.
pub(crate) fn tick_phases(circuit: &Circuit, level_of: &[usize]) -> Vec<usize> {
    let ready = inputs_final(circuit, level_of);
    circuit
        .components
        .iter()
        .enumerate()
        .map(|(c, comp)| {
            if !comp.interface.is_clocked() {
                return usize::MAX;
            }
            let own = level_of[c].wrapping_add(1); // 0 when not evaluated
            own.max(ready[c])
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

/// Assign components to `ranks` ranks: the components, in elaboration
/// order (which keeps a composite instance and an array's neighbours
/// together), are cut into contiguous blocks of about equal cost, and each
/// cut is then moved, within a window, to where the fewest nets cross it;
/// a combinational net counts four times a registered one, as it costs an
/// exchange within the cycle rather than one after its clock edge.
pub(crate) fn rank_blocks(circuit: &Circuit, ranks: usize) -> Vec<usize> {
    let n = circuit.components.len();
    let ranks = ranks.clamp(1, n.max(1));
    let cost = |c: usize| 8 + circuit.components[c].inputs.len();
    // `crossing[b]`: the weight of the nets that a cut before component `b` cuts.
    let mut crossing = vec![0i64; n + 2];
    for (lo, hi, weight) in net_spans(circuit) {
        crossing[lo + 1] += weight;
        crossing[hi + 1] -= weight;
    }
    for b in 1..crossing.len() {
        crossing[b] += crossing[b - 1];
    }
    let total: usize = (0..n).map(cost).sum();
    let window = (n / (8 * ranks)).max(1);
    let mut cuts = Vec::with_capacity(ranks);
    let (mut c, mut before) = (0, 0);
    for k in 1..ranks {
        let target = total * k / ranks;
        while c < n && before + cost(c) / 2 < target {
            before += cost(c);
            c += 1;
        }
        // Leave at least one component on each side of every cut.
        let lowest = cuts.last().map_or(1, |&last: &usize| last + 1);
        let highest = n - (ranks - k);
        let ideal = c.clamp(lowest, highest);
        let from = ideal.saturating_sub(window).max(lowest);
        let to = (ideal + window).min(highest);
        let best = (from..=to)
            .min_by_key(|&b| (crossing[b], b.abs_diff(ideal)))
            .unwrap_or(ideal);
        cuts.push(best);
    }
    let mut owner = vec![0; n];
    let mut rank = 0;
    for (i, o) in owner.iter_mut().enumerate() {
        while rank < cuts.len() && i >= cuts[rank] {
            rank += 1;
        }
        *o = rank;
    }
    owner
}

/// Each net's span in component order: its driver's and its readers'
/// lowest and highest index, and its weight as a cut (4 when combinational).
fn net_spans(circuit: &Circuit) -> Vec<(usize, usize, i64)> {
    let mut span: HashMap<(usize, usize), (usize, usize)> = HashMap::new();
    for (c, comp) in circuit.components.iter().enumerate() {
        for src in &comp.inputs {
            if let Source::Driver(d) = *src {
                let (lo, hi) = span
                    .entry((d.component, d.port))
                    .or_insert((d.component, d.component));
                (*lo, *hi) = ((*lo).min(c), (*hi).max(c));
            }
        }
    }
    let mut spans: Vec<_> = span
        .into_iter()
        .map(|((c, o), (lo, hi))| {
            let weight = if circuit.is_registered(c, o) { 1 } else { 4 };
            (lo, hi, weight)
        })
        .collect();
    spans.sort_unstable();
    spans
}

/// How a circuit divides over ranks: what `cspsim check --ranks` prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RankReport {
    /// Components on each rank.
    pub components: Vec<usize>,
    /// Nets read on another rank than their driver's.
    pub cut: usize,
    /// Of those, the combinational ones (each phase that has some costs an
    /// exchange within the cycle).
    pub combinational: usize,
    /// Exchanges of values per cycle: one per level with combinational cut
    /// nets, and one after the clock edge if registered ones cross (besides
    /// one all-reduce that agrees on faults and stops).
    pub exchanges: usize,
}

impl std::fmt::Display for RankReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ranks = self.components.len();
        writeln!(f, "{ranks} rank{}:", if ranks == 1 { "" } else { "s" })?;
        for (r, n) in self.components.iter().enumerate() {
            writeln!(
                f,
                "  rank {r}: {n} component{}",
                if *n == 1 { "" } else { "s" }
            )?;
        }
        write!(
            f,
            "  cut nets: {} ({} registered, {} combinational); {} exchange{} per cycle",
            self.cut,
            self.cut - self.combinational,
            self.combinational,
            self.exchanges,
            if self.exchanges == 1 { "" } else { "s" }
        )
    }
}

/// How `--engine mpi` divides `circuit` over `ranks` ranks (contiguous
/// blocks of equal cost, each cut moved to where the fewest nets cross it).
pub fn rank_report(circuit: &Circuit, ranks: usize) -> RankReport {
    let owner = rank_blocks(circuit, ranks);
    let level_of = levels_of(circuit);
    let mut components = vec![0; ranks.clamp(1, circuit.components.len().max(1))];
    for &o in &owner {
        components[o] += 1;
    }
    let mut cut = std::collections::BTreeSet::new();
    for (c, comp) in circuit.components.iter().enumerate() {
        for src in &comp.inputs {
            if let Source::Driver(d) = *src {
                if owner[d.component] != owner[c] {
                    cut.insert((d.component, d.port));
                }
            }
        }
    }
    let combinational: Vec<_> = cut
        .iter()
        .filter(|&&(c, o)| !circuit.is_registered(c, o))
        .collect();
    let levels: std::collections::BTreeSet<usize> = combinational
        .iter()
        .map(|&&(c, _)| level_of[c])
        .filter(|&l| l != usize::MAX)
        .collect();
    let registered = cut.len() > combinational.len();
    RankReport {
        components,
        cut: cut.len(),
        combinational: combinational.len(),
        exchanges: levels.len() + usize::from(registered),
    }
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

    #[test]
    fn rank_cuts_move_to_a_registered_net_nearby() {
        // A chain of 12 gates, the seventh a register: the balanced cut
        // (before component 6) would cut a combinational net; one further,
        // the cut crosses the register's output instead.
        let mut components = String::new();
        let mut nets = String::new();
        for k in 0..12 {
            let model = if k == 6 { "register" } else { "not" };
            components.push_str(&format!(
                r#""g{k:02}": Component(model: "{model}", params: {{"width": 8}}),"#
            ));
            if k > 0 {
                let (out, input) = if k == 7 {
                    ("q", "a")
                } else if k == 6 {
                    ("y", "d")
                } else {
                    ("y", "a")
                };
                nets.push_str(&format!(r#""g{:02}.{out}": ["g{k:02}.{input}"],"#, k - 1));
            }
        }
        // The last closes the ring (through the register), crossing every cut.
        nets.push_str(r#""g11.y": ["g00.a"],"#);
        let c = circuit(&format!(
            "Circuit(cycles: 1, components: {{{components}}}, nets: {{{nets}}})"
        ));
        let owner = rank_blocks(&c, 2);
        let first_of_rank_1 = owner.iter().position(|&o| o == 1).unwrap();
        assert_eq!(first_of_rank_1, 7, "{owner:?}");
        assert!(
            owner.windows(2).all(|w| w[0] <= w[1]),
            "contiguous: {owner:?}"
        );
        let report = rank_report(&c, 2);
        assert_eq!(
            (report.cut, report.combinational, report.exchanges),
            (2, 1, 2)
        );
        assert_eq!(report.components, vec![7, 5]);
    }
}
