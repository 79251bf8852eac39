//! The graph of combinational dependencies between components: dependency
//! levels for the schedulers, and loop detection for `check`.
//!
//! There is an edge A → B when a combinational output of A drives an input
//! that one of B's combinational outputs depends on. Registered outputs
//! break chains. A cycle in this graph is a combinational loop — in process
//! terms, a ring of processes each waiting for the next — so a circuit whose
//! graph is acyclic cannot deadlock. Evaluation is per component: all of a
//! component's combinational outputs are computed in one call, once every
//! input any of them depends on is known.

use std::collections::VecDeque;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::circuit::{Component, PortRef, Source};
use crate::model::Timing;

/// One combinational edge: `driver` (an output) feeds `reader` (an input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    /// The driving output.
    pub driver: PortRef,
    /// The input it feeds.
    pub reader: PortRef,
}

/// A combinational loop, as the edges around it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CombLoop {
    /// Edges in order; the last one's reader is the first one's driver's component.
    pub edges: Vec<Edge>,
}

impl CombLoop {
    /// The loop as a path of port names: `a.y -> b.a -> b.y -> a.a -> a.y`.
    pub fn describe(&self, components: &[Component]) -> String {
        self.ports(components).join(" -> ")
    }

    /// The ports along the loop, the first repeated at the end.
    pub fn ports(&self, components: &[Component]) -> Vec<String> {
        let mut names = path_ports(&self.edges, components);
        if let Some(first) = self.edges.first() {
            names.push(components[first.driver.component].output_name(first.driver.port));
        }
        names
    }
}

/// The longest chain of combinational dependencies, as its edges (empty
/// when no combinational output feeds another). `levels` is the schedule.
pub fn longest_path(components: &[Component], levels: &[Vec<usize>]) -> Vec<Edge> {
    let incoming = incoming(components);
    let mut length = vec![0usize; components.len()];
    let mut via: Vec<Option<Edge>> = vec![None; components.len()];
    for &c in levels.iter().flatten() {
        for e in &incoming[c] {
            let d = e.driver.component;
            if length[d] + 1 > length[c] {
                length[c] = length[d] + 1;
                via[c] = Some(*e);
            }
        }
    }
    let Some(mut at) = (0..components.len()).max_by_key(|&c| (length[c], std::cmp::Reverse(c)))
    else {
        return Vec::new();
    };
    let mut path = Vec::new();
    while let Some(e) = via[at] {
        path.push(e);
        at = e.driver.component;
    }
    path.reverse();
    path
}

/// A chain of edges as port names: `a.y -> b.a -> b.y -> c.x`.
pub fn describe_path(path: &[Edge], components: &[Component]) -> String {
    path_ports(path, components).join(" -> ")
}

/// The ports along a chain of edges: each edge's driver, then its reader.
pub fn path_ports(path: &[Edge], components: &[Component]) -> Vec<String> {
    path.iter()
        .flat_map(|e| {
            [
                components[e.driver.component].output_name(e.driver.port),
                components[e.reader.component].input_name(e.reader.port),
            ]
        })
        .collect()
}

/// Combinational edges into each component, by component index.
fn incoming(components: &[Component]) -> Vec<Vec<Edge>> {
    components
        .iter()
        .enumerate()
        .map(|(b, comp)| {
            comp.interface
                .combinational_inputs()
                .into_iter()
                .filter_map(|i| match comp.inputs[i] {
                    Source::Driver(driver)
                        if matches!(
                            components[driver.component].interface.outputs()[driver.port].timing,
                            Timing::Combinational(_)
                        ) =>
                    {
                        Some(Edge {
                            driver,
                            reader: PortRef {
                                component: b,
                                port: i,
                            },
                        })
                    }
                    _ => None,
                })
                .collect()
        })
        .collect()
}

/// Group the components that have combinational outputs into dependency
/// levels, or return every combinational loop (one per strongly connected
/// group of components).
pub fn schedule(components: &[Component]) -> Result<Vec<Vec<usize>>, Vec<CombLoop>> {
    let incoming = incoming(components);
    let n = components.len();
    let mut pending: Vec<usize> = incoming.iter().map(Vec::len).collect();
    let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (b, edges) in incoming.iter().enumerate() {
        for e in edges {
            outgoing[e.driver.component].push(b);
        }
    }
    let is_comb = |c: usize| components[c].interface.has_combinational();
    let mut level = vec![0usize; n];
    let mut queue: VecDeque<usize> = (0..n).filter(|&c| is_comb(c) && pending[c] == 0).collect();
    let mut levels: Vec<Vec<usize>> = Vec::new();
    let mut done = 0;
    while let Some(a) = queue.pop_front() {
        done += 1;
        if levels.len() <= level[a] {
            levels.resize_with(level[a] + 1, Vec::new);
        }
        levels[level[a]].push(a);
        for &b in &outgoing[a] {
            level[b] = level[b].max(level[a] + 1);
            pending[b] -= 1;
            if pending[b] == 0 {
                queue.push_back(b);
            }
        }
    }
    if done == (0..n).filter(|&c| is_comb(c)).count() {
        for l in &mut levels {
            l.sort_unstable();
        }
        return Ok(levels);
    }
    Err(find_loops(&incoming, &pending))
}

/// The loops among components still `pending` after a topological sort.
fn find_loops(incoming: &[Vec<Edge>], pending: &[usize]) -> Vec<CombLoop> {
    let stuck: Vec<usize> = (0..pending.len()).filter(|&c| pending[c] > 0).collect();
    let mut graph: DiGraph<usize, Edge> = DiGraph::new();
    let mut node = vec![None; pending.len()];
    for &c in &stuck {
        node[c] = Some(graph.add_node(c));
    }
    for &b in &stuck {
        for e in &incoming[b] {
            if let (Some(from), Some(to)) = (node[e.driver.component], node[b]) {
                graph.add_edge(from, to, *e);
            }
        }
    }
    let mut loops = Vec::new();
    for scc in tarjan_scc(&graph) {
        // Start at the lowest component so the reported path is stable.
        let start = *scc
            .iter()
            .min_by_key(|n| graph[**n])
            .expect("an SCC is never empty");
        let self_loop = graph.find_edge(start, start);
        if scc.len() == 1 && self_loop.is_none() {
            continue;
        }
        let in_scc = |n: NodeIndex| scc.contains(&n);
        loops.push(CombLoop {
            edges: shortest_cycle(&graph, start, in_scc),
        });
    }
    loops.sort_by_key(|l| l.edges.first().map(|e| e.driver.component));
    loops
}

/// The shortest cycle through `start`, staying inside the nodes `keep` accepts.
fn shortest_cycle(
    graph: &DiGraph<usize, Edge>,
    start: NodeIndex,
    keep: impl Fn(NodeIndex) -> bool,
) -> Vec<Edge> {
    use petgraph::visit::EdgeRef;
    let mut came_from: Vec<Option<petgraph::graph::EdgeIndex>> = vec![None; graph.node_count()];
    let mut queue = VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        for e in graph.edges(n) {
            let t = e.target();
            if !keep(t) || came_from[t.index()].is_some() {
                continue;
            }
            came_from[t.index()] = Some(e.id());
            if t == start {
                let mut path = Vec::new();
                let mut at = start;
                loop {
                    let id =
                        came_from[at.index()].expect("every node on the path has a predecessor");
                    path.push(graph[id]);
                    at = graph.edge_endpoints(id).expect("edge exists").0;
                    if at == start {
                        break;
                    }
                }
                path.reverse();
                return path;
            }
            queue.push_back(t);
        }
    }
    Vec::new()
}
