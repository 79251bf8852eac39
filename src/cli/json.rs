//! `--json`: what `run` and `check` report, as data for scripts. The
//! schemas are documented in `docs/json.md`; each report carries
//! `"schema": 1`, raised when a field changes meaning or goes away.

use std::path::Path;

use serde_json::{json, Map, Value};

use crate::circuit::HierarchyNode;
use crate::engine::{RunError, RunSummary};
use crate::netlist::{Elaborated, LoadError};
use crate::sweep::table::finite;
use crate::trace::{FinalValue, NetStats};

/// The version of the reports' layout.
const SCHEMA: u32 = 1;

/// How a run ended, for [`run_report`].
pub(super) struct RunEnd<'a> {
    pub circuit: &'a str,
    pub result: &'a Result<RunSummary, RunError>,
    pub interrupted: bool,
    pub trace: Option<&'a Path>,
    pub signals: Vec<(String, FinalValue)>,
    pub stats: Option<&'a [NetStats]>,
}

/// `run --json`: the summary, every traced signal's value in the last
/// completed cycle, and a failure as data.
pub(super) fn run_report(end: RunEnd<'_>) -> String {
    let mut report = Map::new();
    report.insert("schema".into(), json!(SCHEMA));
    report.insert("circuit".into(), json!(end.circuit));
    let status = match (end.result, end.interrupted) {
        (Ok(_), true) => "interrupted",
        (Ok(_), false) => "completed",
        (Err(_), _) => "failed",
    };
    report.insert("status".into(), json!(status));
    if let Ok(s) = end.result {
        report.insert("cycles".into(), json!(s.cycles));
        report.insert("components".into(), json!(s.components));
        report.insert("engine".into(), json!(s.engine.to_string()));
        report.insert("threads".into(), json!(s.threads));
        report.insert("one_thread_cycles".into(), json!(s.one_thread_cycles));
        if let Some(x) = s.exchanged {
            report.insert(
                "exchanged_per_cycle".into(),
                json!({"messages": x.messages, "bytes": x.bytes}),
            );
        }
        report.insert("seconds".into(), json!(s.elapsed.as_secs_f64()));
        report.insert("cycles_per_second".into(), json!(s.cycles_per_second()));
        report.insert(
            "compiled".into(),
            match s.compiled {
                Some(c) => json!({
                    "components": c.lowered,
                    "seconds": c.compile_time.as_secs_f64(),
                }),
                None => Value::Null,
            },
        );
    }
    report.insert(
        "trace".into(),
        end.trace
            .map_or(Value::Null, |p| json!(p.display().to_string())),
    );
    let mut signals = Map::new();
    for (name, value) in end.signals {
        let value = match value {
            FinalValue::Bits(v) => json!(v),
            FinalValue::Real(x) => finite(x),
        };
        signals.insert(name, value);
    }
    report.insert("signals".into(), Value::Object(signals));
    if let Some(stats) = end.stats {
        let nets: Vec<Value> = stats
            .iter()
            .map(|s| {
                json!({
                    "net": s.name,
                    "type": s.ty.to_string(),
                    "cycles": s.cycles,
                    "changes": s.changes,
                    "toggles": s.toggles,
                    "activity": s.activity(),
                    "ones_density": s.ones_density(),
                    "min": finite(s.min),
                    "max": finite(s.max),
                    "mean": finite(s.mean),
                })
            })
            .collect();
        report.insert("stats".into(), Value::Array(nets));
    }
    report.insert(
        "failure".into(),
        match end.result {
            Err(e) => failure(e),
            Ok(_) => Value::Null,
        },
    );
    to_text(&Value::Object(report))
}

fn failure(e: &RunError) -> Value {
    let mut failure = json!({ "message": e.to_string() });
    match e {
        RunError::ComponentPanicked {
            path,
            rank,
            model,
            fault,
            completed,
        } => {
            failure["kind"] = json!("panic");
            if let Some(rank) = rank {
                failure["rank"] = json!(rank);
            }
            failure["component"] = json!(path);
            failure["model"] = json!(model);
            failure["phase"] = json!(fault.phase.to_string());
            failure["cycle"] = json!(fault.cycle);
            failure["reason"] = json!(fault.message);
            failure["completed_cycles"] = json!(completed);
        }
        RunError::ComponentFailed {
            path,
            rank,
            model,
            cycle,
            message,
            completed,
        } => {
            failure["kind"] = json!("failed");
            if let Some(rank) = rank {
                failure["rank"] = json!(rank);
            }
            failure["component"] = json!(path);
            failure["model"] = json!(model);
            failure["cycle"] = json!(cycle);
            failure["reason"] = json!(message);
            failure["completed_cycles"] = json!(completed);
        }
        RunError::Trace(f) => {
            failure["kind"] = json!("trace");
            failure["completed_cycles"] = json!(f.held.cycles);
        }
        RunError::TooManyThreads { .. }
        | RunError::TooManyProcesses(_)
        | RunError::TimeOverflow { .. } => {
            failure["kind"] = json!("refused");
        }
        RunError::Spawn(_) | RunError::Processes(_) => failure["kind"] = json!("spawn"),
        RunError::Ranks(_) => failure["kind"] = json!("ranks"),
        RunError::Checkpoint(_) => failure["kind"] = json!("checkpoint"),
    }
    failure
}

/// `check --json` of a circuit that elaborated: sizes, models, hierarchy,
/// the longest combinational path and the loops; [`with_diagnostics`]
/// completes it with the final check's (the loops, located).
pub(super) fn check_report(elaborated: &Elaborated) -> Value {
    let c = &elaborated.circuit;
    let longest = if elaborated.loops.is_empty() {
        let path = crate::graph::longest_path(&c.components, &c.levels);
        crate::graph::path_ports(&path, &c.components)
    } else {
        Vec::new()
    };
    let loops: Vec<Vec<String>> = elaborated
        .loops
        .iter()
        .map(|l| l.ports(&c.components))
        .collect();
    json!({
        "schema": SCHEMA,
        "ok": true,
        "circuit": c.name,
        "components": c.components.len(),
        "nets": c.connected_nets(),
        "ports": c.ports(),
        "levels": c.depth(),
        "models": c.model_counts().iter().map(|(m, n)| json!({"model": m, "count": n})).collect::<Vec<_>>(),
        "hierarchy": hierarchy(&c.hierarchy),
        "longest_path": longest,
        "loops": loops,
        "diagnostics": [],
    })
}

/// `report` with the diagnostics of the final check, if it failed.
pub(super) fn with_diagnostics(mut report: Value, checked: Option<&LoadError>) -> String {
    if let Some(e) = checked {
        report["ok"] = json!(false);
        report["diagnostics"] = json!(diagnostics(e));
    }
    to_text(&report)
}

/// `check --json` of a circuit that did not elaborate: its diagnostics.
pub(super) fn check_failure(e: &LoadError) -> String {
    to_text(&json!({
        "schema": SCHEMA,
        "ok": false,
        "circuit": Value::Null,
        "diagnostics": diagnostics(e),
    }))
}

fn diagnostics(e: &LoadError) -> Vec<Value> {
    e.diagnostics
        .iter()
        .map(|d| {
            let (file, line, column) = match e.position(d) {
                Some((file, line, column)) => (json!(file), json!(line), json!(column)),
                None => (
                    e.files.get(d.file).map_or(Value::Null, |f| json!(f.name)),
                    Value::Null,
                    Value::Null,
                ),
            };
            json!({
                "severity": "error",
                "kind": format!("{:?}", d.kind),
                "message": d.message,
                "file": file,
                "line": line,
                "column": column,
                "hint": d.hint,
                "notes": d.notes,
            })
        })
        .collect()
}

fn hierarchy(nodes: &[HierarchyNode]) -> Vec<Value> {
    nodes
        .iter()
        .map(|n| json!({"name": n.name, "model": n.model, "children": hierarchy(&n.children)}))
        .collect()
}

fn to_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
    text.push('\n');
    text
}
