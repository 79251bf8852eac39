//! `check` and `graph`: what a circuit is, in text and as a drawing.

use std::io::{BufWriter, Write};
use std::path::Path;

use super::output::{emit, not_an_input};
use super::{report, EXIT_BAD_INPUT, EXIT_RUN_FAILED};
use crate::netlist::{self, LoadOptions};
use crate::registry::Registry;
use crate::Circuit;

pub(super) fn check(
    registry: &Registry,
    path: &Path,
    options: &LoadOptions,
    (json, ranks): (bool, Option<usize>),
) -> i32 {
    let elaborated = match netlist::elaborate_file(path, registry, options) {
        Ok(e) => e,
        Err(e) if json => {
            return emit(&super::json::check_failure(&e))
                .err()
                .unwrap_or(EXIT_BAD_INPUT)
        }
        Err(e) => return report(&e),
    };
    if json {
        let mut partial = super::json::check_report(&elaborated);
        if let Some(r) = ranks {
            let report = crate::engine::rank_report(&elaborated.circuit, r);
            partial["ranks"] = serde_json::json!({
                "components": report.components,
                "cut_nets": report.cut,
                "combinational_cut_nets": report.combinational,
                "exchanges_per_cycle": report.exchanges,
            });
        }
        let checked = elaborated.checked().err();
        let text = super::json::with_diagnostics(partial, checked.as_ref());
        return match (emit(&text), checked) {
            (Err(code), _) => code,
            (Ok(()), Some(_)) => EXIT_BAD_INPUT,
            (Ok(()), None) => 0,
        };
    }
    let mut text = check_report(&elaborated.circuit, &elaborated.loops);
    if let Some(r) = ranks {
        text.push_str(&format!(
            "{}\n",
            crate::engine::rank_report(&elaborated.circuit, r)
        ));
    }
    if let Err(code) = emit(&text) {
        return code;
    }
    match elaborated.checked() {
        Ok(_) => 0,
        Err(e) => report(&e),
    }
}

/// What `check` prints: size, models, hierarchy, longest combinational
/// path, loops.
pub fn check_report(c: &Circuit, loops: &[crate::graph::CombLoop]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} components, {} nets, {} ports",
        c.name,
        c.components.len(),
        c.connected_nets(),
        c.ports()
    );
    let list: Vec<String> = c
        .model_counts()
        .iter()
        .map(|(m, n)| format!("{n} {m}"))
        .collect();
    let _ = writeln!(out, "models: {}", list.join(", "));
    if c.hierarchy
        .iter()
        .any(|n| !n.children.is_empty() || n.name.ends_with(']'))
    {
        let _ = writeln!(out, "hierarchy:");
        hierarchy_lines(&c.hierarchy, 1, &mut out);
    }
    if loops.is_empty() {
        let path = crate::graph::longest_path(&c.components, &c.levels);
        match (c.depth(), path.is_empty()) {
            (0, _) => {
                let _ = writeln!(out, "no combinational logic");
            }
            (_, true) => {
                let _ = writeln!(
                    out,
                    "longest combinational path: 1 component (no combinational output feeds another)"
                );
            }
            (_, false) => {
                let _ = writeln!(
                    out,
                    "longest combinational path: {} components: {}",
                    path.len() + 1,
                    crate::graph::describe_path(&path, &c.components)
                );
            }
        }
        let _ = writeln!(out, "no combinational loops");
    } else {
        let _ = writeln!(out, "{} combinational loop(s):", loops.len());
        for (k, l) in loops.iter().enumerate() {
            let _ = writeln!(out, "  {}: {}", k + 1, l.describe(&c.components));
        }
    }
    out
}

fn hierarchy_lines(nodes: &[crate::circuit::HierarchyNode], depth: usize, out: &mut String) {
    use std::fmt::Write as _;
    let width = nodes.iter().map(|n| n.name.len()).max().unwrap_or(0);
    for n in nodes {
        let _ = writeln!(out, "{}{:width$}  {}", "  ".repeat(depth), n.name, n.model);
        hierarchy_lines(&n.children, depth + 1, out);
    }
}

pub(super) fn graph(
    registry: &Registry,
    path: &Path,
    output: Option<&Path>,
    options: &LoadOptions,
) -> i32 {
    let elaborated = match netlist::elaborate_file(path, registry, options) {
        Ok(e) => e,
        Err(e) => return report(&e),
    };
    if let Some(out) = output {
        if let Err(message) = not_an_input(out, &elaborated.circuit.inputs, "the graph") {
            super::output::say("error", &message);
            return EXIT_BAD_INPUT;
        }
    }
    let written = match output {
        Some(out) => std::fs::File::create(out).and_then(|f| {
            let mut w = BufWriter::new(f);
            crate::dot::write(&elaborated.circuit, &elaborated.loops, &mut w)?;
            w.flush()
        }),
        None => {
            let mut w = BufWriter::new(std::io::stdout().lock());
            crate::dot::write(&elaborated.circuit, &elaborated.loops, &mut w)
                .and_then(|_| w.flush())
        }
    };
    if let Err(e) = written {
        let to = output.map_or("standard output".to_string(), |p| p.display().to_string());
        super::output::say("error", &format!("cannot write {to}: {e}"));
        return EXIT_RUN_FAILED;
    }
    for l in &elaborated.loops {
        super::output::say(
            "warning",
            &format!(
                "combinational loop (drawn in red): {}",
                l.describe(&elaborated.circuit.components)
            ),
        );
    }
    0
}
