//! Graphviz DOT for a circuit (`cspsim graph`): one node per component,
//! grouped into nested clusters by hierarchy (`col[3]` holds `col[3].pix[0]`
//! …), one edge per connection. Registered outputs are drawn solid and
//! blue, combinational ones dashed and grey; the edges and components of
//! every combinational loop are red and bold.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Write};

use crate::circuit::{Circuit, PortRef};
use crate::graph::CombLoop;

/// Components above which edges carry no port labels (they would be unreadable).
const LABELLED_EDGES_UP_TO: usize = 200;

/// A cluster: its child clusters and its components.
#[derive(Default)]
struct Cluster {
    children: BTreeMap<String, Cluster>,
    components: Vec<usize>,
}

/// Write `circuit` as DOT, highlighting `loops`.
pub fn write(circuit: &Circuit, loops: &[CombLoop], out: &mut impl Write) -> io::Result<()> {
    let looped: HashSet<(PortRef, PortRef)> = loops
        .iter()
        .flat_map(|l| l.edges.iter().map(|e| (e.driver, e.reader)))
        .collect();
    let in_loop: HashSet<usize> = looped
        .iter()
        .flat_map(|(d, r)| [d.component, r.component])
        .collect();
    writeln!(out, "digraph {} {{", quote(&circuit.name))?;
    writeln!(out, "  rankdir=LR;")?;
    writeln!(out, "  compound=true;")?;
    // Ranks over the whole graph, not per cluster: large hierarchies lay out
    // in reasonable time and every node stays inside its cluster.
    writeln!(out, "  newrank=true;")?;
    writeln!(
        out,
        "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f7f7f7\", fontname=\"Helvetica\", fontsize=10];"
    )?;
    writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=8];")?;
    let mut root = Cluster::default();
    for (c, comp) in circuit.components.iter().enumerate() {
        let mut cluster = &mut root;
        let parts: Vec<&str> = comp.path.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            cluster = cluster.children.entry((*part).to_string()).or_default();
        }
        cluster.components.push(c);
    }
    write_cluster(circuit, &root, "", 1, &in_loop, out)?;
    let labelled = circuit.components.len() <= LABELLED_EDGES_UP_TO;
    for (d, comp) in circuit.components.iter().enumerate() {
        for (o, readers) in comp.readers.iter().enumerate() {
            let driver = PortRef {
                component: d,
                port: o,
            };
            let registered = circuit.is_registered(d, o);
            for r in readers {
                let mut attrs = Vec::new();
                if labelled {
                    let from = &comp.interface.outputs()[o].name;
                    let to = &circuit.components[r.component].interface.inputs()[r.port].name;
                    attrs.push(format!("label={}", quote(&format!("{from}→{to}"))));
                }
                if looped.contains(&(driver, *r)) {
                    attrs.push("color=red, penwidth=2.5, style=bold".into());
                } else if registered {
                    attrs.push("color=\"#1f5fa8\"".into());
                } else {
                    attrs.push("color=\"#777777\", style=dashed".into());
                }
                writeln!(out, "  c{d} -> c{} [{}];", r.component, attrs.join(", "))?;
            }
        }
    }
    writeln!(out, "}}")
}

fn write_cluster(
    circuit: &Circuit,
    cluster: &Cluster,
    path: &str,
    depth: usize,
    in_loop: &HashSet<usize>,
    out: &mut impl Write,
) -> io::Result<()> {
    let indent = "  ".repeat(depth);
    for &c in &cluster.components {
        let comp = &circuit.components[c];
        let name = comp.path.rsplit('.').next().unwrap_or(&comp.path);
        let colour = if in_loop.contains(&c) {
            ", color=red, penwidth=2, fillcolor=\"#ffe0e0\""
        } else {
            ""
        };
        writeln!(
            out,
            "{indent}c{c} [label={}, tooltip={}{colour}];",
            quote(&format!("{name}\n{}", comp.model)),
            quote(&comp.path)
        )?;
    }
    for (name, child) in &cluster.children {
        let full = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        writeln!(
            out,
            "{indent}subgraph {} {{",
            quote(&format!("cluster_{full}"))
        )?;
        writeln!(
            out,
            "{indent}  label={}; style=\"rounded\"; color=\"#999999\"; fontname=\"Helvetica\"; fontsize=10;",
            quote(name)
        )?;
        write_cluster(circuit, child, &full, depth + 1, in_loop, out)?;
        writeln!(out, "{indent}}}")?;
    }
    Ok(())
}

/// A DOT string literal.
fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_for_dot() {
        assert_eq!(quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}
