//! Sweeps over MPI ranks (the `mpi` feature; `cargo test --features mpi
//! --test mpi`): under `mpirun -n R` the table rank 0 writes is the one a
//! single process writes, byte for byte, for R = 2 and 3; a failure on any
//! rank stops every rank with `--fail-fast`; a bad grid is refused once;
//! Ctrl-C to `mpirun` writes every rank's finished rows.
//! Skipped without `mpirun`, unless `CSPSIM_REQUIRE_MPI` is set, as CI does.
#![cfg(feature = "mpi")]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{cspsim, text};

const GRID: &[&str] = &[
    "sweep",
    "circuits/detector_readout.ron",
    "--param",
    "fifo_depth=1,2,16",
    "--param",
    "rate=0.04:0.12:0.04",
    "--seeds",
    "3",
    "--cycles",
    "1000",
    "--collect",
    "readouts.q",
    "--collect",
    "pix*.hit",
    "-q",
];

fn have_mpirun() -> bool {
    let found = Command::new("mpirun").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CSPSIM_REQUIRE_MPI").is_none(),
            "mpirun is required here (CSPSIM_REQUIRE_MPI)"
        );
        common::skip("no mpirun (apt-get install openmpi-bin)");
    }
    found
}

/// `cspsim ARGS` on `ranks` MPI ranks.
fn mpirun(ranks: usize, args: &[&str]) -> Output {
    Command::new("mpirun")
        .args([
            "--allow-run-as-root",
            "--oversubscribe",
            "-n",
            &ranks.to_string(),
        ])
        .arg(env!("CARGO_BIN_EXE_cspsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("mpirun runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cspsim-mpi-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_rank_count_writes_the_table_one_process_writes() {
    if !have_mpirun() {
        return;
    }
    let one = cspsim(GRID);
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
    let table = text(&one.stdout);
    assert_eq!(table.lines().count(), 1 + 27);
    assert!(table.contains(",failed,"), "failures travel too");
    let dir = scratch("tables");
    for ranks in [2, 3] {
        let out = mpirun(ranks, GRID);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{ranks} ranks: {}",
            text(&out.stderr)
        );
        assert_eq!(
            text(&out.stdout),
            table,
            "{ranks} ranks, CSV on standard output"
        );
        let json = dir.join(format!("{ranks}.json"));
        let mut args = GRID.to_vec();
        args.extend(["-o", json.to_str().unwrap()]);
        assert_eq!(mpirun(ranks, &args).status.code(), Some(0));
        let alone = dir.join("1.json");
        args.pop();
        args.push(alone.to_str().unwrap());
        assert_eq!(cspsim(&args).status.code(), Some(0));
        assert_eq!(
            std::fs::read(&json).unwrap(),
            std::fs::read(&alone).unwrap(),
            "{ranks} ranks, JSON"
        );
    }
    let mut args = GRID.to_vec();
    args.pop(); // the summary line
    let out = mpirun(2, &args);
    let said = text(&out.stderr);
    assert!(
        said.contains("27 runs (9 points × 3 seeds)") && said.contains("on 2 ranks × "),
        "{said}"
    );
    assert_eq!(said.matches("27 runs").count(), 1, "rank 0 alone sums up");
}

#[test]
fn a_failure_on_one_rank_stops_every_rank_with_fail_fast() {
    if !have_mpirun() {
        return;
    }
    // 64 runs: the FIFO of 1 (run 1, rank 1's first) overflows; the rest
    // pass. Rank 0 stops after its first round of 16 runs, not its 32.
    let mut depths = vec!["16", "1"];
    depths.extend(["16"; 62]);
    let depths = format!("fifo_depth={}", depths.join(","));
    let args = [
        "sweep",
        "circuits/detector_readout.ron",
        "--param",
        &depths,
        "--cycles",
        "1000",
        "-j",
        "1",
        "--fail-fast",
        "-q",
    ];
    let out = mpirun(2, &args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(said.contains("--fail-fast: cycle"), "{said}");
    let table = text(&out.stdout);
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert!(
        rows.iter()
            .any(|l| l.starts_with("1,1,") && l.contains(",failed,")),
        "{table}"
    );
    let on_rank_0 = rows
        .iter()
        .filter(|l| l.split(',').next().unwrap().parse::<u64>().unwrap() % 2 == 0);
    assert_eq!(
        on_rank_0.count(),
        16,
        "rank 0 stopped after a round: {table}"
    );
}

#[test]
fn a_bad_grid_is_refused_once_on_every_rank() {
    if !have_mpirun() {
        return;
    }
    let out = mpirun(
        3,
        &[
            "sweep",
            "circuits/detector_readout.ron",
            "--param",
            "fifo_dept=1,2",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out.stderr);
    assert_eq!(
        said.matches("did you mean `fifo_depth`?").count(),
        1,
        "{said}"
    );
    let out = mpirun(
        2,
        &[
            "sweep",
            "circuits/detector_readout.ron",
            "--param",
            "fifo_depth=4:1:1",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr).matches("the range is empty").count(), 1);
}

#[test]
fn ctrl_c_to_mpirun_writes_every_ranks_finished_rows() {
    if !have_mpirun() {
        return;
    }
    let dir = scratch("interrupt");
    let table = dir.join("t.csv");
    let child = Command::new("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "-n", "2"])
        .arg(env!("CARGO_BIN_EXE_cspsim"))
        .args([
            "sweep",
            "circuits/detector_readout.ron",
            "--param",
            "fifo_depth=16",
        ])
        .args([
            "--seeds",
            "100000",
            "--cycles",
            "1000",
            "-q",
            "--collect",
            "readouts.q",
        ])
        .args(["-o", table.to_str().unwrap()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("the table holds every finished run"),
        "{}",
        text(&out.stderr)
    );
    let written = std::fs::read_to_string(&table).unwrap();
    let rows: Vec<&str> = written.lines().skip(1).collect();
    assert!(
        !rows.is_empty() && rows.len() < 100_000,
        "{} rows",
        rows.len()
    );
    let ranks: std::collections::HashSet<u64> = rows
        .iter()
        .map(|r| r.split(',').next().unwrap().parse::<u64>().unwrap() % 2)
        .collect();
    assert_eq!(ranks.len(), 2, "rows from both ranks");
    assert!(
        rows.iter().all(|r| r.contains(",ok,1000,")),
        "only finished runs"
    );
}
