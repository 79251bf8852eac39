//! Components as OS processes: a Python model through the `process` model
//! computes what the cspsim models beside it compute; every way a child can
//! misbehave stops the run at its cycle with what it did, keeps the trace's
//! completed cycles, exits 1 and leaves no process behind; `cspsim serve`
//! serves a standard model; and the processes engine refuses what the
//! machine's limits cannot hold.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{cspsim, parse_vcd, skip, text};

fn have_python() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cspsim-process-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Run `tests/process/counter.ron` in `mode`; (exit code, stderr, VCD, the child's pid).
fn run_mode(mode: &str, extra: &[&str]) -> (i32, String, String, Option<u32>) {
    let dir = scratch(mode);
    let vcd = dir.join("t.vcd");
    let pidfile = dir.join("pid");
    let _ = std::fs::remove_file(&pidfile);
    let mode_param = format!("mode={mode}");
    let mut args = vec![
        "run",
        "tests/process/counter.ron",
        "--param",
        &mode_param,
        "--no-gtkw",
        "--vcd",
    ];
    let vcd_arg = vcd.to_string_lossy().into_owned();
    args.push(&vcd_arg);
    args.extend_from_slice(extra);
    let out = Command::new(env!("CARGO_BIN_EXE_cspsim"))
        .args(&args)
        .env("PIDFILE", &pidfile)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let pid = std::fs::read_to_string(&pidfile)
        .ok()
        .and_then(|s| s.trim().parse().ok());
    let trace = std::fs::read_to_string(&vcd).unwrap_or_default();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stderr),
        trace,
        pid,
    )
}

/// Whether process `pid` still exists (running, or a zombie nobody reaped).
fn exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn a_python_model_computes_what_the_cspsim_models_beside_it_compute() {
    if !have_python() {
        return skip("python3 is not installed");
    }
    let (code, stderr, vcd, pid) = run_mode("ok", &[]);
    assert_eq!(code, 0, "{stderr}");
    let waves = parse_vcd(&vcd, 10);
    assert_eq!(waves.cycles, 40);
    let q = waves.get("py_counter.py.q");
    assert_eq!(q, waves.get("py_counter.ref.q"), "registered: the counter");
    assert!(q.iter().any(|&v| v > 5), "it counted");
    assert_eq!(
        waves.get("py_counter.py.sum"),
        waves.get("py_counter.add.y"),
        "combinational: the sum, in the same cycle"
    );
    // The model's prints went to stderr, not into the frames; the child is gone.
    let pid = pid.expect("the model wrote its pid");
    assert!(!exists(pid), "the child {pid} was reaped");
}

#[test]
fn every_misbehaviour_stops_the_run_at_its_cycle_and_leaves_nothing_behind() {
    if !have_python() {
        return skip("python3 is not installed");
    }
    let cases = [
        ("exit", "exited with status 3"),
        ("segv", "was killed by signal 11 (SIGSEGV"),
        ("hang", "did not answer within 1 s"),
        (
            "stdout",
            "wrote 68 65 6c 6c 6f 20 66 72 6f 6d 20 74 68 65 20 6d 6f 64 65 6c 0a (\"hello from the model\\n\")",
        ),
        ("raise", "ZeroDivisionError: integer division or modulo by zero (at models.py:"),
        ("fail", "cycle 5: component `py` (model `process`) failed: the reading is too hot"),
    ];
    for (mode, what) in cases {
        let (code, stderr, vcd, pid) = run_mode(mode, &[]);
        assert_eq!(code, 1, "{mode}: {stderr}");
        assert!(stderr.contains("component `py`"), "{mode}: {stderr}");
        assert!(stderr.contains("cycle 5"), "{mode}: {stderr}");
        assert!(stderr.contains(what), "{mode}: {stderr}");
        if matches!(mode, "exit" | "segv" | "hang" | "stdout") {
            // What it said last is in the message.
            assert!(
                stderr.contains("  | about to misbehave in mode"),
                "{mode}: {stderr}"
            );
        }
        // The clock edge of cycle 5 failed: cycles 0..=5 are in the trace.
        assert!(
            stderr.contains("holds the 6 completed cycles"),
            "{mode}: {stderr}"
        );
        assert_eq!(parse_vcd(&vcd, 10).cycles, 6, "{mode}");
        let pid = pid.expect("the model wrote its pid");
        assert!(!exists(pid), "{mode}: the child {pid} is left behind");
    }
}

#[test]
fn ports_that_differ_from_the_programs_are_a_load_error_at_the_port_list() {
    if !have_python() {
        return skip("python3 is not installed");
    }
    let (code, stderr, _, pid) = run_mode("ports", &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("parameter `outputs`: the circuit declares the outputs [q: 8, sum: 9], but `python3 models.py ports 5` declares [q: 16, sum: 9]"),
        "{stderr}"
    );
    assert!(stderr.contains("counter.ron:14:13"), "{stderr}");
    assert!(!exists(pid.unwrap()));
}

fn circuit_with(command: &str, outputs: &str) -> String {
    format!(
        r#"Circuit(name: "t", cycles: 10, components: {{
            "p": Component(model: "process", params: {{"command": {command}, "outputs": {outputs}}}),
        }}, nets: {{}})"#
    )
}

#[test]
fn a_missing_or_unrunnable_program_is_a_load_error_at_the_command() {
    let dir = scratch("missing");
    let script = dir.join("not_executable.sh");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    for (command, what) in [
        (
            r#"["./no_such_model.py"]"#,
            "no_such_model.py` does not exist",
        ),
        (
            r#"["no-such-program-cspsim"]"#,
            "program `no-such-program-cspsim` is not found on PATH",
        ),
        (r#"["./not_executable.sh"]"#, "is not executable"),
        (r#"[]"#, "is empty"),
    ] {
        let file = dir.join("c.ron");
        std::fs::write(&file, circuit_with(command, r#"["q: 8"]"#)).unwrap();
        let out = cspsim(&["check", file.to_str().unwrap()]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert!(err.contains("parameter `command`"), "{command}: {err}");
        assert!(err.contains(what), "{command}: {err}");
        assert!(err.contains("c.ron:2:"), "{command}: located: {err}");
    }
    // Port declarations are checked and located inside their string.
    let file = dir.join("c.ron");
    std::fs::write(&file, circuit_with(r#"["sh"]"#, r#"["q: 8 from x"]"#)).unwrap();
    let err = text(&cspsim(&["check", file.to_str().unwrap()]).stderr);
    assert!(err.contains("`x` is not an input"), "{err}");
}

#[test]
fn cspsim_serve_runs_a_standard_model_as_a_child() {
    let dir = scratch("serve");
    let file = dir.join("c.ron");
    let exe = env!("CARGO_BIN_EXE_cspsim");
    let circuit = format!(
        r#"Circuit(name: "t", cycles: 30, components: {{
            "child": Component(model: "process", params: {{
                "command": ["{exe}", "serve", "lfsr", "--param", "width=16", "--param", "seed=44257"],
                "inputs": ["en: 1"],
                "outputs": ["q: 16"],
            }}),
            "here": Component(model: "lfsr", params: {{"width": 16, "seed": 44257}}),
            "slow": Component(model: "clock_enable", params: {{"n": 2}}),
        }}, nets: {{"slow.en": ["child.en", "here.en"]}}, trace: ["*"])"#
    );
    std::fs::write(&file, circuit).unwrap();
    let vcd = dir.join("t.vcd");
    let out = cspsim(&[
        "run",
        file.to_str().unwrap(),
        "--vcd",
        vcd.to_str().unwrap(),
        "--no-gtkw",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let waves = parse_vcd(&std::fs::read_to_string(&vcd).unwrap(), 10);
    let q = waves.get("t.child.q");
    assert_eq!(q, waves.get("t.here.q"));
    assert!(q.windows(2).any(|w| w[0] != w[1]), "it moved");
    // An unknown model is refused at once.
    let out = cspsim(&["serve", "no_such_model"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no model `no_such_model`"));
}

#[test]
fn the_processes_engine_refuses_what_the_open_file_limit_cannot_hold() {
    let exe = env!("CARGO_BIN_EXE_cspsim");
    // 33 components need 99 pipes; 40 open files cannot hold them, even raised.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 40 && exec '{exe}' run circuits/pipeline16.ron --engine processes"
        ))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "the processes engine runs one process per component: 33 components need 99 open files"
        ),
        "{err}"
    );
    assert!(err.contains("--engine partitioned"), "{err}");
}

#[test]
fn the_processes_engine_reports_a_failed_check_as_the_other_engines_do() {
    let run = |engine: &str| {
        let out = cspsim(&[
            "run",
            "circuits/detector_readout.ron",
            "--param",
            "fifo_depth=1",
            "--cycles",
            "400",
            "--engine",
            engine,
        ]);
        (
            out.status.code(),
            text(&out.stderr).lines().next().map(str::to_string),
        )
    };
    let (code, first) = run("processes");
    assert_eq!(code, Some(1));
    let first = first.unwrap();
    assert!(first.contains("the readout FIFO overflowed"), "{first}");
    assert_eq!((code, Some(first)), run("partitioned"));
}

#[test]
fn ctrl_c_stops_a_run_waiting_for_a_child_and_ends_the_child() {
    if !have_python() {
        return skip("python3 is not installed");
    }
    let dir = scratch("ctrlc");
    let pidfile = dir.join("pid");
    let vcd = dir.join("t.vcd");
    let run = Command::new(env!("CARGO_BIN_EXE_cspsim"))
        .args([
            "run",
            "tests/process/counter.ron",
            "--param",
            "mode=hang",
            "--param",
            "timeout=60",
            "--no-gtkw",
            "--vcd",
            vcd.to_str().unwrap(),
        ])
        .env("PIDFILE", &pidfile)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the child hangs (the timeout is 1 s), then interrupt.
    let started = std::time::Instant::now();
    while !pidfile.exists() && started.elapsed().as_secs() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: a plain kill(2) of the process we started.
    unsafe { libc::kill(run.id() as i32, libc::SIGINT) };
    let out = run.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(!exists(pid), "the child {pid} is left behind");
}
