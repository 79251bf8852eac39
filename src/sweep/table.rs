//! A sweep's rows as a table: CSV, one line per run, or JSON (schema in
//! `docs/json.md`). Columns: `run`, each swept parameter, `seed`, `status`
//! (`ok`, `failed`, `panicked`, `error`), `cycles` completed,
//! `failed_cycle`, `component` and `message` of a failure, then for each
//! collected signal its final value and `.min`, `.max`, `.mean`, and for a
//! one-bit signal `.ones` (cycles at 1). A signal that only some runs have
//! (an array sized by a swept parameter) has empty cells in the others.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::{Collected, Grid, Row};
use crate::params::ParamValue;
use crate::trace::FinalValue;

/// The signal names of `rows`, in order of first appearance, and whether
/// each is one bit wide.
fn signal_columns(rows: &[Row]) -> Vec<(&str, bool)> {
    let mut seen = HashMap::new();
    let mut names = Vec::new();
    for row in rows {
        for s in &row.signals {
            seen.entry(s.name.as_str()).or_insert_with(|| {
                names.push((s.name.as_str(), s.ones.is_some()));
            });
        }
    }
    names
}

/// The rows as CSV, with a header line.
pub fn csv(grid: &Grid, rows: &[Row]) -> String {
    let signals = signal_columns(rows);
    let mut header: Vec<String> = vec!["run".into()];
    header.extend(grid.axes.iter().map(|a| a.name.clone()));
    header.extend(
        [
            "seed",
            "status",
            "cycles",
            "failed_cycle",
            "component",
            "message",
        ]
        .map(String::from),
    );
    for (name, one_bit) in &signals {
        header.push(name.to_string());
        for stat in ["min", "max", "mean"] {
            header.push(format!("{name}.{stat}"));
        }
        if *one_bit {
            header.push(format!("{name}.ones"));
        }
    }
    let mut out = ::csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail.
    let _ = out.write_record(&header);
    for row in rows {
        let mut record: Vec<String> = vec![row.run.index.to_string()];
        record.extend(row.run.params.iter().map(|(_, v)| cell(v)));
        let failure = row.failure.as_ref();
        record.push(row.run.seed.to_string());
        record.push(failure.map_or("ok", |f| f.kind).to_string());
        record.push(row.cycles.to_string());
        record.push(
            failure
                .and_then(|f| f.cycle)
                .map_or(String::new(), |c| c.to_string()),
        );
        record.push(
            failure
                .and_then(|f| f.component.clone())
                .unwrap_or_default(),
        );
        record.push(failure.map_or(String::new(), |f| f.message.clone()));
        let by_name: HashMap<&str, &Collected> =
            row.signals.iter().map(|s| (s.name.as_str(), s)).collect();
        for (name, one_bit) in &signals {
            match by_name.get(name) {
                Some(s) => {
                    record.push(match s.last {
                        FinalValue::Bits(v) => v.to_string(),
                        FinalValue::Real(x) => x.to_string(),
                    });
                    record.extend([s.min, s.max, s.mean].map(|x| x.to_string()));
                    if *one_bit {
                        record.push(s.ones.map_or(String::new(), |n| n.to_string()));
                    }
                }
                None => record.extend((0..3 + usize::from(*one_bit) + 1).map(|_| String::new())),
            }
        }
        let _ = out.write_record(&record);
    }
    let bytes = out.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A parameter value in a CSV cell: numbers and booleans as written,
/// strings without quotes.
fn cell(v: &ParamValue) -> String {
    match v {
        ParamValue::Str(s) => s.clone(),
        ParamValue::Real(x) => x.to_string(),
        other => other.to_string(),
    }
}

/// What the JSON table says about the sweep besides its rows.
pub struct About<'a> {
    /// The circuit's name.
    pub circuit: &'a str,
    /// Cycles per run.
    pub cycles: u64,
}

/// The rows as a JSON document (`docs/json.md`).
pub fn json(grid: &Grid, about: &About<'_>, rows: &[Row]) -> String {
    let axes: Map<String, Value> = grid
        .axes
        .iter()
        .map(|a| {
            (
                a.name.clone(),
                Value::Array(a.values.iter().map(value).collect()),
            )
        })
        .collect();
    let runs: Vec<Value> = rows.iter().map(row_json).collect();
    let doc = json!({
        "schema": 1,
        "circuit": about.circuit,
        "cycles": about.cycles,
        "seed": grid.seed,
        "seeds": grid.seeds,
        "axes": axes,
        "runs": runs,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

fn row_json(row: &Row) -> Value {
    let params: Map<String, Value> = row
        .run
        .params
        .iter()
        .map(|(n, v)| (n.clone(), value(v)))
        .collect();
    let signals: Map<String, Value> = row
        .signals
        .iter()
        .map(|s| {
            let last = match s.last {
                FinalValue::Bits(v) => json!(v),
                FinalValue::Real(x) => finite(x),
            };
            let mut stats = json!({
                "last": last,
                "min": finite(s.min),
                "max": finite(s.max),
                "mean": finite(s.mean),
            });
            if let Some(ones) = s.ones {
                stats["ones"] = json!(ones);
            }
            (s.name.clone(), stats)
        })
        .collect();
    let failure = row.failure.as_ref().map_or(Value::Null, |f| {
        json!({"kind": f.kind, "cycle": f.cycle, "component": f.component, "message": f.message})
    });
    json!({
        "run": row.run.index,
        "params": params,
        "seed": row.run.seed,
        "status": row.failure.as_ref().map_or("ok", |f| f.kind),
        "cycles": row.cycles,
        "failure": failure,
        "signals": signals,
    })
}

/// A number; JSON has no NaN or infinities, so those are strings.
pub(crate) fn finite(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        json!(x.to_string())
    }
}

/// A parameter value as JSON.
fn value(v: &ParamValue) -> Value {
    match v {
        ParamValue::Int(i) => i64::try_from(*i).map_or_else(|_| json!(i.to_string()), |i| json!(i)),
        ParamValue::Real(x) => finite(*x),
        ParamValue::Bool(b) => json!(b),
        ParamValue::Str(s) => json!(s),
        ParamValue::List(items) => Value::Array(items.iter().map(value).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::{Axis, Failure, RunPoint};
    use crate::value::PortType;

    fn row(index: u64, depth: i128, signals: Vec<Collected>, failure: Option<Failure>) -> Row {
        Row {
            run: RunPoint {
                index,
                params: vec![("depth".into(), ParamValue::Int(depth))],
                seed: 40 + index,
            },
            cycles: 10,
            failure,
            signals,
        }
    }

    fn signal(name: &str, last: u64, one_bit: bool) -> Collected {
        Collected {
            name: name.into(),
            ty: if one_bit {
                PortType::Bits(1)
            } else {
                PortType::Bits(8)
            },
            last: FinalValue::Bits(last),
            min: 0.0,
            max: last as f64,
            mean: 2.5,
            ones: one_bit.then_some(4),
        }
    }

    #[test]
    fn csv_has_a_column_per_parameter_and_statistic_and_blanks_for_missing_signals() {
        let grid = Grid::new(vec![Axis::parse("depth=2,4").unwrap()], 1, 0).unwrap();
        let failure = Failure {
            kind: "failed",
            cycle: Some(7),
            component: Some("no_loss".into()),
            message: "cycle 7: it, failed".into(),
        };
        let rows = vec![
            row(0, 2, vec![signal("c.q", 9, false)], None),
            row(
                1,
                4,
                vec![signal("c.q", 3, false), signal("d.hit", 1, true)],
                Some(failure),
            ),
        ];
        assert_eq!(
            csv(&grid, &rows),
            "run,depth,seed,status,cycles,failed_cycle,component,message,c.q,c.q.min,c.q.max,c.q.mean,d.hit,d.hit.min,d.hit.max,d.hit.mean,d.hit.ones\n\
             0,2,40,ok,10,,,,9,0,9,2.5,,,,,\n\
             1,4,41,failed,10,7,no_loss,\"cycle 7: it, failed\",3,0,3,2.5,1,0,1,2.5,4\n"
        );
    }

    #[test]
    fn json_nests_parameters_signals_and_failures() {
        let grid = Grid::new(vec![Axis::parse("depth=2").unwrap()], 1, 3).unwrap();
        let rows = vec![row(0, 2, vec![signal("d.hit", 1, true)], None)];
        let doc: Value = serde_json::from_str(&json(
            &grid,
            &About {
                circuit: "x",
                cycles: 10,
            },
            &rows,
        ))
        .unwrap();
        assert_eq!(doc["axes"]["depth"], json!([2]));
        assert_eq!(doc["seed"], json!(3));
        let run = &doc["runs"][0];
        assert_eq!(run["params"]["depth"], json!(2));
        assert_eq!(run["status"], json!("ok"));
        assert_eq!(run["failure"], Value::Null);
        assert_eq!(run["signals"]["d.hit"]["ones"], json!(4));
        assert_eq!(run["signals"]["d.hit"]["last"], json!(1));
    }
}
