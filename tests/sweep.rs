//! `cspsim sweep`: the table is the same for any number of jobs, every
//! row is what `cspsim run` gives with its seed and parameters, failed runs
//! are rows, and bad grids are refused before any run starts.

mod common;

use std::path::{Path, PathBuf};

use common::{cspsim, text};
use serde_json::Value;

const CIRCUIT: &str = "circuits/detector_readout.ron";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cspsim-sweep-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A sweep of `detector_readout` over FIFO depths and rates, collecting
/// the readout count, the drop counter and one pixel's hits; `extra`
/// arguments after.
fn sweep(extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "sweep",
        CIRCUIT,
        "--param",
        "fifo_depth=1,8",
        "--param",
        "rate=0.04:0.12:0.04",
        "--seeds",
        "2",
        "--cycles",
        "300",
        "--collect",
        "readouts.q",
        "--collect",
        "fifo.dropped",
        "--collect",
        "pix0.hit",
        "-q",
    ];
    args.extend_from_slice(extra);
    cspsim(&args)
}

fn rows(csv_text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

#[test]
fn the_table_is_the_same_for_any_number_of_jobs_threads_and_code_generation() {
    let one = sweep(&["-j", "1"]);
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
    let table = text(&one.stdout);
    let (header, rows) = rows(&table);
    assert_eq!(rows.len(), 12, "2 depths × 3 rates × 2 seeds");
    assert_eq!(
        header[..9],
        [
            "run",
            "fifo_depth",
            "rate",
            "seed",
            "status",
            "cycles",
            "failed_cycle",
            "component",
            "message"
        ]
    );
    assert!(header.contains(&"pix0.hit.ones".to_string()), "{header:?}");
    assert_eq!(rows[2][2], "0.08", "the rate's values as written");
    for other in [
        &["-j", "2"][..],
        &["-j", "2", "--threads", "2"],
        &["-j", "1", "--codegen", "interpret"],
        &["-j", "2", "--engine", "threads"],
    ] {
        let out = sweep(other);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{other:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stdout), table, "{other:?}");
    }
    let seeds: std::collections::HashSet<&str> = rows.iter().map(|r| r[3].as_str()).collect();
    assert_eq!(seeds.len(), 12, "each run its own seed");
    let other_seed = sweep(&["--seed", "1"]);
    assert_ne!(text(&other_seed.stdout), table, "the sweep's seed matters");
}

/// What `cspsim run --json` reports for a row's seed and parameters.
fn run_alone(row: &Value) -> (Option<i32>, Value) {
    let seed = row["seed"].to_string();
    let depth = format!("fifo_depth={}", row["params"]["fifo_depth"]);
    let rate = format!("rate={}", row["params"]["rate"]);
    let out = cspsim(&[
        "run",
        CIRCUIT,
        "--seed",
        &seed,
        "--param",
        &depth,
        "--param",
        &rate,
        "--cycles",
        "300",
        "--json",
        "--stats",
        "--trace",
        "readouts.q",
        "--trace",
        "fifo.dropped",
        "--trace",
        "pix0.hit",
    ]);
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

#[test]
fn every_row_is_what_cspsim_run_gives_with_its_seed_and_parameters() {
    let dir = scratch("reproduce");
    let table = dir.join("t.json");
    let out = sweep(&["-o", table.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&table).unwrap()).unwrap();
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["circuit"], "detector_readout");
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 12);
    // docs/json.md shows every field there is.
    let docs = std::fs::read_to_string("docs/json.md").unwrap();
    let sample = docs.split("## `sweep -o x.json`").nth(1).unwrap();
    let sample = sample
        .split("```json")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let sample: Value = serde_json::from_str(sample).unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&doc), keys(&sample));
    let failed = runs.iter().find(|r| r["status"] == "failed").unwrap();
    assert_eq!(keys(failed), keys(&sample["runs"][0]));
    assert_eq!(
        keys(&failed["failure"]),
        keys(&sample["runs"][0]["failure"])
    );
    assert_eq!(
        keys(&failed["signals"]["pix0.hit"]),
        keys(&sample["runs"][0]["signals"]["pix0.hit"])
    );
    let (mut ok, mut failed) = (0, 0);
    for row in runs {
        let (code, alone) = run_alone(row);
        match row["status"].as_str().unwrap() {
            "ok" => {
                ok += 1;
                assert_eq!(code, Some(0));
                assert_eq!(alone["cycles"], row["cycles"]);
                for (signal, got) in row["signals"].as_object().unwrap() {
                    let name = format!("detector_readout.{signal}");
                    assert_eq!(alone["signals"][&name], got["last"], "{signal} in {row}");
                    let net = alone["stats"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|n| n["net"] == *signal)
                        .unwrap_or_else(|| panic!("{signal} in {alone}"));
                    for stat in ["min", "max", "mean"] {
                        assert_eq!(net[stat], got[stat], "{signal}.{stat}");
                    }
                    if signal == "pix0.hit" {
                        let density = net["ones_density"].as_f64().unwrap();
                        let cycles = net["cycles"].as_f64().unwrap();
                        assert_eq!(
                            Some((density * cycles).round() as u64),
                            got["ones"].as_u64(),
                            "cycles at 1"
                        );
                    }
                }
            }
            "failed" => {
                failed += 1;
                assert_eq!(code, Some(1));
                let failure = &row["failure"];
                assert_eq!(failure["component"], "no_loss");
                assert_eq!(alone["failure"]["cycle"], failure["cycle"], "{row}");
                assert_eq!(alone["failure"]["message"], failure["message"]);
            }
            other => panic!("status {other}"),
        }
    }
    assert!(
        ok > 0 && failed > 0,
        "both kinds of row: {ok} ok, {failed} failed"
    );
}

#[test]
fn a_failed_run_is_a_row_and_the_sweep_goes_on_unless_fail_fast() {
    let out = sweep(&["-j", "1"]);
    let (_, all) = rows(&text(&out.stdout));
    let failed: Vec<&Vec<String>> = all.iter().filter(|r| r[4] == "failed").collect();
    assert!(!failed.is_empty(), "a FIFO of 1 overflows");
    for row in &failed {
        assert_eq!(row[1], "1", "only the shallow FIFO fails: {row:?}");
        assert_eq!(row[7], "no_loss");
        let cycle: u64 = row[6].parse().unwrap();
        assert_eq!(
            row[5],
            (cycle + 1).to_string(),
            "the failing cycle is completed"
        );
        assert!(row[8].contains("the readout FIFO overflowed"), "{row:?}");
    }
    assert_eq!(out.status.code(), Some(0), "failures are results");
    let fast = sweep(&["-j", "1", "--fail-fast"]);
    assert_eq!(fast.status.code(), Some(1));
    assert!(
        text(&fast.stderr).contains("--fail-fast: cycle"),
        "{}",
        text(&fast.stderr)
    );
    let (_, some) = rows(&text(&fast.stdout));
    assert!(some.len() < all.len(), "stopped early: {} rows", some.len());
    assert_eq!(some.last().unwrap()[4], "failed");
    assert_eq!(some[..], all[..some.len()], "the rows before are the same");
}

#[test]
fn bad_grids_are_refused_before_any_run_starts() {
    let dir = scratch("bad");
    let table = dir.join("t.csv");
    for (param, says) in [
        ("rate=0.5:0.1:0.1", "the range is empty"),
        ("fifo_depth=1:8:0", "the step is 0"),
        ("fifo_dept=1,2", "did you mean `fifo_depth`?"),
        ("fifo_depth=1,2.5", "expected integer"),
        ("fifo_depth=a:b:1", "`a` is not a number"),
        ("fifo_depth", "is not NAME=VALUES"),
    ] {
        let out = cspsim(&[
            "sweep",
            CIRCUIT,
            "--param",
            param,
            "-o",
            table.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{param}");
        assert!(
            text(&out.stderr).contains(says),
            "{param}: {}",
            text(&out.stderr)
        );
        assert!(!table.exists(), "{param}: no table");
    }
    let out = cspsim(&[
        "sweep",
        CIRCUIT,
        "--param",
        "fifo_depth=1,2",
        "--param",
        "fifo_depth=3",
    ]);
    assert!(text(&out.stderr).contains("given twice"));
    let out = cspsim(&["sweep", CIRCUIT, "--seeds", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let out = cspsim(&["sweep", CIRCUIT, "--collect", "nothing.here"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--collect `nothing.here` selects no signal"));
    let out = cspsim(&["sweep", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not standard input"));
    assert!(!table.exists());
}

#[test]
fn the_table_never_overwrites_an_input() {
    let dir = scratch("input");
    let circuit = dir.join("c.ron");
    std::fs::copy(CIRCUIT, &circuit).unwrap();
    let before = std::fs::read(&circuit).unwrap();
    let out = cspsim(&[
        "sweep",
        circuit.to_str().unwrap(),
        "-o",
        circuit.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("would overwrite"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read(&circuit).unwrap(), before);
}

#[test]
fn the_summary_line_counts_runs_points_seeds_and_failures() {
    let out = cspsim(&[
        "sweep",
        CIRCUIT,
        "--param",
        "fifo_depth=1,16",
        "--seeds",
        "3",
        "--cycles",
        "200",
        "-j",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let said = text(&out.stderr);
    assert!(
        said.starts_with("detector_readout: 6 runs (2 points × 3 seeds) of 200 cycles in "),
        "{said}"
    );
    assert!(said.contains("runs/s on 2 jobs × 1 thread; "), "{said}");
    assert!(said.contains("failed (see the status column)"), "{said}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_writes_the_rows_finished_so_far() {
    let dir = scratch("interrupt");
    let table = dir.join("t.csv");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cspsim"))
        .args([
            "sweep",
            CIRCUIT,
            "--param",
            "fifo_depth=16",
            "--seeds",
            "100000",
            "--cycles",
            "1000",
        ])
        .args([
            "-j",
            "1",
            "-q",
            "--collect",
            "readouts.q",
            "-o",
            table.to_str().unwrap(),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .spawn()
        .unwrap();
    // Long enough to check the grid and finish some runs.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let (_, rows) = rows(&std::fs::read_to_string(&table).unwrap());
    assert!(
        !rows.is_empty() && rows.len() < 100_000,
        "{} rows",
        rows.len()
    );
    for (k, row) in rows.iter().enumerate() {
        assert_eq!(row[0], k.to_string(), "the first runs, in order");
        assert_eq!(
            (row[3].as_str(), row[4].as_str()),
            ("ok", "1000"),
            "only finished runs"
        );
    }
}

#[test]
fn a_sweep_runs_from_rust_with_a_users_own_registry() {
    use cspsim::sweep::{table, Axis, Grid, Sweep};
    let grid = Grid::new(vec![Axis::parse("fifo_depth=2,16").unwrap()], 2, 5).unwrap();
    let mut sweep = Sweep::new(Path::new(env!("CARGO_MANIFEST_DIR")).join(CIRCUIT), grid);
    sweep.collect = vec!["readouts.q".into()];
    sweep.run.cycles = Some(100);
    let done = sweep.run(&cspsim::Registry::standard()).unwrap();
    assert_eq!(done.rows.len(), 4);
    assert!(!done.interrupted && !done.failed_fast);
    let row = &done.rows[3];
    assert_eq!(row.run.params[0].1, cspsim::ParamValue::Int(16));
    assert_eq!(row.run.seed, cspsim::sweep::grid::run_seed(5, 3));
    assert_eq!(row.signals[0].name, "readouts.q");
    let csv = table::csv(&sweep.grid, &done.rows);
    assert_eq!(csv.lines().count(), 5);
}

/// Started by an MPI launcher among several ranks, a build without MPI
/// refuses: each rank would run the whole sweep into the same file.
#[cfg(not(feature = "mpi"))]
#[test]
fn a_build_without_mpi_refuses_to_be_one_of_several_ranks() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cspsim"))
        .args(["sweep", CIRCUIT, "--cycles", "10"])
        .env("OMPI_COMM_WORLD_SIZE", "2")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("built without MPI"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "no table");
}
