//! `run --json` and `check --json`, parsed as a script parses them: the
//! fields of `docs/json.md`, final values equal to the trace's last cycle,
//! failures and diagnostics as data.

mod common;

use common::cspsim;

use std::process::Output;

use serde_json::Value;

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cspsim-json");
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

#[test]
fn a_run_reports_its_summary_and_every_traced_signals_final_value() {
    let vcd = temp("detector.vcd");
    let out = cspsim(&[
        "run",
        "circuits/detector_readout.ron",
        "--json",
        "--vcd",
        vcd.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let report = json(&out);
    assert_eq!(report["schema"], 1);
    assert_eq!(report["status"], "completed");
    assert_eq!(report["circuit"], "detector_readout");
    assert_eq!(report["cycles"], 400);
    assert_eq!(report["components"], 10);
    assert_eq!(report["engine"], "partitioned");
    assert!(report["compiled"]["components"].as_u64().unwrap() > 0);
    assert!(report["seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(report["failure"], Value::Null);
    assert_eq!(report["trace"], vcd.to_str().unwrap());
    // The summary line still goes to standard error.
    assert!(String::from_utf8_lossy(&out.stderr).contains("400 cycles × 10 components"));
    // Each signal's value is the trace's in the last cycle.
    let waves = common::parse_vcd(&std::fs::read_to_string(&vcd).unwrap(), 10);
    let signals = report["signals"].as_object().unwrap();
    let traced: Vec<&String> = waves.signals.keys().collect();
    let reported: Vec<&String> = signals.keys().collect();
    assert_eq!(reported.len(), traced.len(), "{reported:?}\n{traced:?}");
    for (name, value) in signals {
        let last = *waves.get(name).last().unwrap();
        match value.as_u64() {
            Some(bits) => assert_eq!(bits, last, "{name}"),
            None => assert_eq!(value.as_f64().unwrap(), f64::from_bits(last), "{name}"),
        }
    }
    assert!(signals["detector_readout.pix0.charge"].is_f64());
    // Without a trace file, the same values.
    let out = cspsim(&["run", "circuits/detector_readout.ron", "--json", "-q"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty());
    assert_eq!(json(&out)["signals"], report["signals"]);
}

#[test]
fn a_failure_is_data_with_its_component_cycle_and_completed_cycles() {
    let out = cspsim(&[
        "run",
        "circuits/detector_readout.ron",
        "--param",
        "fifo_depth=1",
        "--json",
        "-q",
        "--trace",
        "fifo.dropped",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(report["status"], "failed");
    let failure = &report["failure"];
    assert_eq!(failure["kind"], "failed");
    assert_eq!(failure["component"], "no_loss");
    assert_eq!(failure["model"], "assert");
    assert_eq!(failure["cycle"], 134);
    assert_eq!(failure["completed_cycles"], 135);
    assert!(failure["reason"].as_str().unwrap().contains("dropped = 1"));
    assert_eq!(report["signals"]["detector_readout.fifo.dropped"], 1);
    // JSON and a trace on standard output would mix.
    let out = cspsim(&["run", "circuits/cpu8.ron", "--json", "--vcd", "-"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_reports_sizes_hierarchy_paths_loops_and_located_diagnostics() {
    let out = cspsim(&["check", "circuits/detector64.ron", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let report = json(&out);
    assert_eq!(report["ok"], true);
    assert_eq!(report["components"], 4419);
    assert_eq!(
        report["models"][0],
        serde_json::json!({"model": "pixel", "count": 4096})
    );
    assert_eq!(report["hierarchy"][0]["name"], "col[64]");
    assert_eq!(report["hierarchy"][0]["children"][0]["name"], "pix[64]");
    assert_eq!(report["longest_path"][0], "col[0].ready.y");
    assert_eq!(report["loops"], serde_json::json!([]));

    let out = cspsim(&["check", "docs/loop.ron", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    assert_eq!(report["ok"], false);
    assert_eq!(
        report["loops"][0],
        serde_json::json!(["add.y", "sel.in[0]", "sel.y", "add.b", "add.y"])
    );
    let d = &report["diagnostics"][0];
    assert_eq!(d["kind"], "CombinationalLoop");
    assert_eq!(
        (d["file"].as_str(), d["line"].as_u64()),
        (Some("docs/loop.ron"), Some(14))
    );

    let out = cspsim(&["check", "docs/bad.ron", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    assert_eq!(report["circuit"], Value::Null);
    let d = &report["diagnostics"][0];
    assert_eq!(d["message"], "component `c`: unknown model `countr`");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(2), Some(16))
    );
    assert!(d["hint"].as_str().unwrap().contains("counter"));
}

/// `--stats` counts each traced net's activity: the same toggles, changes,
/// ones, minimum, maximum and mean as computed here from the trace itself;
/// as a table, or in the JSON.
#[test]
fn stats_count_each_nets_activity_as_the_trace_shows_it() {
    let vcd = temp("stats.vcd");
    let out = cspsim(&[
        "run",
        "circuits/alu_datapath.ron",
        "--stats",
        "--json",
        "-q",
        "--vcd",
        vcd.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let stats = report["stats"].as_array().expect("stats in the JSON");
    let waves = common::parse_vcd(&std::fs::read_to_string(&vcd).unwrap(), 10);
    assert!(stats.len() >= 8, "{stats:?}");
    let mut busiest = u64::MAX;
    for net in stats {
        let name = format!("alu_datapath.{}", net["net"].as_str().unwrap());
        let values = waves.get(&name);
        let changes = values.windows(2).filter(|w| w[0] != w[1]).count() as u64;
        let toggles: u32 = values.windows(2).map(|w| (w[0] ^ w[1]).count_ones()).sum();
        let ones: u32 = values.iter().map(|v| v.count_ones()).sum();
        assert_eq!(net["cycles"], 60, "{name}");
        assert_eq!(net["changes"], changes, "{name}");
        assert_eq!(net["toggles"], u64::from(toggles), "{name}");
        let width = net["type"].as_str().unwrap();
        let bits: f64 = width
            .trim_start_matches("Bits(")
            .trim_end_matches(')')
            .parse()
            .unwrap();
        let density = net["ones_density"].as_f64().unwrap();
        assert!(
            (density - f64::from(ones) / (bits * 60.0)).abs() < 1e-12,
            "{name}"
        );
        let max = values.iter().max().copied().unwrap() as f64;
        let mean = values.iter().sum::<u64>() as f64 / 60.0;
        assert_eq!(net["max"].as_f64().unwrap(), max, "{name}");
        assert!(
            (net["mean"].as_f64().unwrap() - mean).abs() < 1e-9,
            "{name}"
        );
        // Busiest first.
        assert!(changes <= busiest, "{name} is out of order");
        busiest = changes;
    }
    // Without --json, a table on standard output.
    let out = cspsim(&["run", "circuits/alu_datapath.ron", "--stats", "-q"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("net "), "{table}");
    assert!(
        table.contains("toggles") && table.contains("alu.y"),
        "{table}"
    );
}
