//! Sweeps and partitions over MPI ranks (the `mpi` feature; `cargo test
//! --features mpi --test mpi`). Sweeps: under `mpirun -n R` the table rank 0
//! writes is the one a single process writes, byte for byte, for R = 2 and
//! 3; a failure on any rank stops every rank with `--fail-fast`; a bad grid
//! is refused once; Ctrl-C to `mpirun` writes every rank's finished rows.
//! Partitions (`--engine mpi`): every example circuit, the 64×64 detector
//! included, writes the single process's VCD on 1, 2 and 3 ranks; a failed
//! check on rank 1 stops both ranks after the same cycle, named with its
//! rank; Ctrl-C keeps the trace.
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

/// Send `mpirun` Ctrl-C once the run has begun: when rank 0 has made
/// `output` (just before it listens for Ctrl-C), and a moment more. On a
/// loaded machine MPI can take seconds to start, so a fixed wait is not
/// enough.
fn interrupt_once_started(child: &std::process::Child, output: &Path) {
    let started = std::time::Instant::now();
    while !output.exists() && started.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
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
    interrupt_once_started(&child, &table);
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

/// `cspsim run CIRCUIT --vcd OUT ARGS`, alone or (with `ranks`) under
/// `mpirun` with `--engine mpi`; the output, and the VCD.
fn run_to_vcd(circuit: &Path, ranks: Option<usize>, out: &Path, args: &[&str]) -> (Output, String) {
    let mut all = vec![
        "run",
        circuit.to_str().unwrap(),
        "--vcd",
        out.to_str().unwrap(),
    ];
    all.extend(args);
    let output = match ranks {
        None => {
            all.extend(["--threads", "1"]);
            cspsim(&all)
        }
        Some(r) => {
            all.extend(["--engine", "mpi"]);
            mpirun(r, &all)
        }
    };
    let vcd = std::fs::read_to_string(out).unwrap_or_default();
    (output, vcd)
}

#[test]
fn every_circuit_on_one_two_and_three_ranks_writes_the_single_process_vcd() {
    if !have_mpirun() {
        return;
    }
    let dir = scratch("partitions");
    for circuit in common::all_circuits() {
        let name = circuit.file_stem().unwrap().to_str().unwrap().to_string();
        // The detector for its whole 1,000 cycles; the rest for 300.
        let cycles: &[&str] = if name == "detector64" {
            &[]
        } else {
            &["--cycles", "300"]
        };
        let (alone, reference) =
            run_to_vcd(&circuit, None, &dir.join(format!("{name}.vcd")), cycles);
        assert_eq!(
            alone.status.code(),
            Some(0),
            "{name}: {}",
            text(&alone.stderr)
        );
        assert!(reference.contains("$enddefinitions"), "{name}");
        for ranks in [1, 2, 3] {
            let out = dir.join(format!("{name}.{ranks}.vcd"));
            let (output, vcd) = run_to_vcd(&circuit, Some(ranks), &out, cycles);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{name} on {ranks} ranks: {}",
                text(&output.stderr)
            );
            assert!(vcd == reference, "{name} on {ranks} ranks: the VCD differs");
            let said = text(&output.stderr);
            assert_eq!(
                said.matches("component-cycles/s").count(),
                1,
                "rank 0 alone sums up: {said}"
            );
            assert!(said.contains(&format!("(mpi, {ranks} rank")), "{said}");
        }
    }
}

#[test]
fn a_failed_check_on_rank_one_stops_both_ranks_after_its_cycle() {
    if !have_mpirun() {
        return;
    }
    let dir = scratch("fault");
    let circuit = Path::new(env!("CARGO_MANIFEST_DIR")).join("circuits/detector_readout.ron");
    let args = ["--param", "fifo_depth=1"];
    let (alone, reference) = run_to_vcd(&circuit, None, &dir.join("alone.vcd"), &args);
    assert_eq!(alone.status.code(), Some(1));
    let (output, vcd) = run_to_vcd(&circuit, Some(2), &dir.join("two.vcd"), &args);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let said = text(&output.stderr);
    let expected = text(&alone.stderr).replace("(model `assert`)", "(model `assert`) on rank 1");
    let first = expected.lines().next().unwrap();
    assert!(first.contains("cycle 134: component `no_loss`"), "{first}");
    assert_eq!(
        said.matches(first).count(),
        1,
        "said once, by rank 0: {said}"
    );
    assert!(said.contains("holds the 135 completed cycles"), "{said}");
    assert!(
        !said.contains("MPI_ABORT"),
        "a run that began ends normally: {said}"
    );
    assert!(vcd == reference, "the trace keeps the same cycles");
}

#[test]
fn ctrl_c_to_mpirun_keeps_the_trace_of_a_partitioned_run() {
    if !have_mpirun() {
        return;
    }
    let dir = scratch("partition-interrupt");
    let vcd = dir.join("long.vcd");
    let child = Command::new("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "-n", "2"])
        .arg(env!("CARGO_BIN_EXE_cspsim"))
        .args(["run", "circuits/detector64.ron", "--engine", "mpi", "-q"])
        .args(["--cycles", "100000000", "--vcd", vcd.to_str().unwrap()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    interrupt_once_started(&child, &vcd);
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let said = text(&out.stderr);
    let completed: u64 = said
        .split("interrupted after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    let trace = std::fs::read_to_string(&vcd).unwrap();
    let waves = common::parse_vcd(&trace, 10);
    assert_eq!(
        waves.cycles as u64, completed,
        "every completed cycle, no more"
    );
}

#[test]
fn the_fst_of_two_ranks_is_the_single_process_fst() {
    if !have_mpirun() {
        return;
    }
    let dir = scratch("fst");
    let (one, two) = (dir.join("one.fst"), dir.join("two.fst"));
    let args = [
        "run",
        "circuits/detector64.ron",
        "--cycles",
        "300",
        "-q",
        "--fst",
    ];
    let mut alone = args.to_vec();
    alone.extend([one.to_str().unwrap(), "--threads", "1"]);
    assert_eq!(cspsim(&alone).status.code(), Some(0));
    let mut ranked = args.to_vec();
    ranked.extend([two.to_str().unwrap(), "--engine", "mpi"]);
    let out = mpirun(2, &ranked);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(std::fs::read(&one).unwrap() == std::fs::read(&two).unwrap());
}

/// `mpirun -n ranks cspsim ARGS`, killed (and the test failed) if it has
/// not ended within a minute: what a hang would look like.
fn mpirun_within_a_minute(ranks: usize, args: &[&str]) -> Output {
    let mut child = Command::new("mpirun")
        .args([
            "--allow-run-as-root",
            "--oversubscribe",
            "-n",
            &ranks.to_string(),
        ])
        .arg(env!("CARGO_BIN_EXE_cspsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("mpirun starts");
    let started = std::time::Instant::now();
    while child.try_wait().expect("mpirun runs").is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{args:?} on {ranks} ranks hangs");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().expect("mpirun ends")
}

#[test]
fn a_mistake_only_rank_0_sees_ends_every_rank_instead_of_hanging() {
    if !have_mpirun() {
        return;
    }
    // Only rank 0 opens the trace, so only it finds that the pattern selects nothing.
    let out = mpirun_within_a_minute(
        2,
        &[
            "run",
            "circuits/detector64.ron",
            "--engine",
            "mpi",
            "--json",
            "--trace",
            "nothing*",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("selects no signal"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn two_ranks_save_the_checkpoint_one_process_saves_and_continue_from_it() {
    if !have_mpirun() {
        return;
    }
    let dir = scratch("checkpoints");
    let circuit = common::circuits_dir().join("detector_readout.ron");
    let (alone, one) = (dir.join("alone"), dir.join("ranks"));
    let at = |into: &Path| -> Vec<String> {
        let args = [
            "--cycles",
            "200",
            "--checkpoint-at",
            "120",
            "--checkpoint-dir",
        ];
        let dir = into.to_str().unwrap();
        args.iter().chain([&dir]).map(|s| s.to_string()).collect()
    };
    let (at_alone, at_ranks) = (at(&alone), at(&one));
    let (out, full) = run_to_vcd(&circuit, None, &dir.join("full.vcd"), &strs(&at_alone));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (out, _) = run_to_vcd(&circuit, Some(2), &dir.join("saved.vcd"), &strs(&at_ranks));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let file = "detector_readout-000000000120.ckpt.ron";
    let read = |d: &Path| std::fs::read_to_string(d.join(file)).unwrap();
    assert_eq!(read(&one), read(&alone), "two ranks saved another state");
    // Restored on 3 ranks: the trace is the full trace's tail.
    let checkpoint = one.join(file);
    let restore = ["--cycles", "200", "--restore", checkpoint.to_str().unwrap()];
    let (out, tail) = run_to_vcd(&circuit, Some(3), &dir.join("tail.vcd"), &restore);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (full, tail) = (common::parse_vcd(&full, 10), common::parse_vcd(&tail, 10));
    assert_eq!(tail.cycles, 200);
    for (name, values) in &full.signals {
        assert_eq!(&tail.get(name)[120..], &values[120..], "{name}");
    }
}
