//! The `cspsim` command, run as a user runs it: outputs, files and exit
//! statuses (0 success, 2 bad input, 1 failure during the run).

mod common;

use common::{cspsim, text};

use std::process::{Command, Output};

/// The command failed with exit code 2 and said `needle` on stderr.
fn assert_usage_error(out: &Output, needle: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(needle), "wanted {needle:?} in: {stderr}");
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cspsim-cli");
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

#[test]
fn run_writes_a_vcd_and_a_summary_line() {
    let vcd = temp("counter.vcd");
    let out = cspsim(&[
        "run",
        "circuits/counter_compare.ron",
        "--vcd",
        vcd.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // The summary goes to standard error: standard output is for data.
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let summary = text(&out.stderr);
    assert!(
        summary.starts_with("counter_compare: 40 cycles × 3 components in "),
        "{summary}"
    );
    // Every component is compiled: the run did not fall back to interpreting.
    assert!(
        summary.contains("cycles/s") && summary.contains("(partitioned, 1 thread, 3 compiled in "),
        "{summary}"
    );
    let w = common::parse_vcd(&std::fs::read_to_string(&vcd).unwrap(), 10);
    assert_eq!(w.cycles, 40);
    assert_eq!(w.get("counter_compare.cnt.q")[12], 2);
}

#[test]
fn run_options_change_cycles_engine_threads_and_trace() {
    let vcd = temp("alu.vcd");
    let v = vcd.to_str().unwrap();
    let out = cspsim(&[
        "run",
        "circuits/alu_datapath.ron",
        "--cycles",
        "25",
        "--engine",
        "threads",
        "--trace",
        "alu.*",
        "--trace",
        "op.q",
        "--vcd",
        v,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("25 cycles × 9 components"));
    assert!(text(&out.stderr).contains("(threads, 9 threads)"));
    let w = common::parse_vcd(&std::fs::read_to_string(&vcd).unwrap(), 10);
    assert_eq!(w.cycles, 25);
    let mut names: Vec<&String> = w.signals.keys().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "alu_datapath.alu.a",
            "alu_datapath.alu.b",
            "alu_datapath.alu.carry",
            "alu_datapath.alu.op",
            "alu_datapath.alu.y",
            "alu_datapath.alu.zero",
            "alu_datapath.op.q"
        ]
    );
    let out = cspsim(&[
        "run",
        "circuits/alu_datapath.ron",
        "--threads",
        "2",
        "--seed",
        "7",
    ]);
    assert_eq!(out.status.code(), Some(0));
    // 60 cycles: the first 32 on two threads, the rest on one or two as
    // measured.
    let summary = text(&out.stderr);
    assert!(
        summary.contains("(partitioned, 2 threads") && summary.contains(", 9 compiled in "),
        "{summary}"
    );
    let out = cspsim(&["run", "circuits/alu_datapath.ron", "--codegen", "interpret"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("(partitioned, 1 thread)"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn every_example_circuit_checks_and_runs() {
    for path in common::all_circuits() {
        let p = path.to_str().unwrap();
        let out = cspsim(&["check", p]);
        assert_eq!(out.status.code(), Some(0), "{p}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("no combinational loops"));
        let out = cspsim(&["run", p, "-q"]);
        assert_eq!(out.status.code(), Some(0), "{p}: {}", text(&out.stderr));
    }
}

#[test]
fn check_prints_size_models_hierarchy_and_the_longest_combinational_path() {
    let out = cspsim(&["check", "circuits/cpu8.ron"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("cpu8: 9 components, 18 nets, 49 ports\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("models: 3 register, 2 mux, 1 alu, 1 expr, 1 ram, 1 rom"),
        "{stdout}"
    );
    assert!(
        stdout.contains("longest combinational path: 6 components: imem.rdata -> ctrl.instr -> ctrl.addr -> dmem.addr"),
        "{stdout}"
    );

    let out = cspsim(&["check", "circuits/detector64.ron", "--param", "cols=8"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("detector64: 555 components,"),
        "64 × 8 pixels, 8 columns: {stdout}"
    );
    assert!(
        stdout.contains("hierarchy:\n  col[8]   pixel_column\n    pix[64]  pixel\n"),
        "{stdout}"
    );

    let out = cspsim(&["check", "circuits/detector64.ron", "--param", "colz=8"]);
    assert_usage_error(&out, "did you mean `cols`?");
}

#[test]
fn check_prints_every_loop_and_graph_draws_it_red() {
    let out = cspsim(&["check", "docs/loop.ron"]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "1 combinational loop(s):\n  1: add.y -> sel.in[0] -> sel.y -> add.b -> add.y"
        ),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("docs/loop.ron:14:19"),
        "{}",
        text(&out.stderr)
    );

    let out = cspsim(&["graph", "docs/loop.ron"]);
    assert_eq!(out.status.code(), Some(0));
    let dot = text(&out.stdout);
    assert!(dot.starts_with("digraph \"loop\" {"), "{dot}");
    let edge = |from: &str, to: &str| {
        let id = |name: &str| {
            let line = dot
                .lines()
                .find(|l| l.contains(&format!("tooltip=\"{name}\"")))
                .unwrap();
            line.trim().split(' ').next().unwrap().to_string()
        };
        let prefix = format!("  {} -> {} [", id(from), id(to));
        dot.lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("{prefix}\n{dot}"))
            .to_string()
    };
    assert!(
        edge("add", "sel").contains("color=red"),
        "loop edges are red"
    );
    assert!(edge("sel", "add").contains("color=red"));
    assert!(
        edge("add", "acc").contains("style=dashed"),
        "combinational, not in the loop"
    );
    assert!(
        edge("acc", "sel").contains("#1f5fa8") && !edge("acc", "sel").contains("dashed"),
        "registered"
    );
    assert!(text(&out.stderr).contains("warning: combinational loop"));
}

#[test]
fn graph_groups_components_by_hierarchy() {
    let out_file = temp("pipeline.dot");
    let out = cspsim(&[
        "graph",
        "circuits/pipeline16.ron",
        "--param",
        "stages=2",
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dot = std::fs::read_to_string(&out_file).unwrap();
    for cluster in ["stage[0]", "stage[1]"] {
        let open = format!("subgraph \"cluster_{cluster}\" {{");
        let at = dot
            .find(&open)
            .unwrap_or_else(|| panic!("{open} in\n{dot}"));
        let inside = &dot[at..at + dot[at..].find("  }").unwrap()];
        assert!(
            inside.contains(&format!("tooltip=\"{cluster}.f\"")),
            "{inside}"
        );
        assert!(
            inside.contains(&format!("tooltip=\"{cluster}.r\"")),
            "{inside}"
        );
    }
    assert_eq!(
        dot.matches(" -> ").count(),
        4,
        "src→f0, f0→r0, r0→f1, f1→r1"
    );
    // Ranks over the whole graph keep large hierarchies fast to lay out.
    assert!(dot.contains("  newrank=true;"), "{dot}");
}

/// Graphviz lays out the largest example, every component inside its
/// cluster. Skipped without `dot`, unless `CSPSIM_REQUIRE_PEERS` is set (CI
/// installs graphviz).
#[test]
fn graphviz_renders_the_64_by_64_detector() {
    if Command::new("dot").arg("-V").output().is_err() {
        assert!(
            std::env::var_os("CSPSIM_REQUIRE_PEERS").is_none(),
            "dot is required here"
        );
        common::skip("dot not found (apt-get install graphviz)");
        return;
    }
    let graph = temp("d64.dot");
    let out = cspsim(&[
        "graph",
        "circuits/detector64.ron",
        "-o",
        graph.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rendered = Command::new("dot")
        .arg("-Tsvg")
        .arg(&graph)
        .output()
        .expect("dot runs");
    assert!(rendered.status.success(), "{}", text(&rendered.stderr));
    let svg = text(&rendered.stdout);
    // One cluster per column, and every pixel drawn.
    assert_eq!(svg.matches("<title>cluster_col[").count(), 64);
    assert_eq!(svg.matches("pixel</text>").count(), 4096);
}

#[test]
fn models_dirs_and_parameters_reach_the_loader() {
    let dir = temp("models-dir");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("twice.ron"),
        r#"Model(params: {"w": 8}, inputs: {"a": ["d.a"]}, outputs: {"y": "d.y"},
            components: {"d": Component(model: "add", params: {"width": "${w}"})}, nets: {})"#,
    )
    .unwrap();
    let circuit = temp("uses-twice.ron");
    std::fs::write(
        &circuit,
        r#"Circuit(params: {"w": 4}, cycles: 5,
            components: {"c": Component(model: "counter", params: {"width": "${w}"}),
                         "t": Component(model: "twice", params: {"w": "${w}"})},
            nets: {"c.q": ["t.a", "t.d.b"]})"#,
    )
    .unwrap();
    let out = cspsim(&["check", circuit.to_str().unwrap()]);
    assert_usage_error(&out, "unknown model `twice`");
    let out = cspsim(&[
        "check",
        circuit.to_str().unwrap(),
        "--models",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("an endpoint has exactly one `.`"),
        "inner components are reached only through ports: {}",
        text(&out.stderr)
    );
}

#[test]
fn bad_circuits_exit_2_with_located_errors() {
    let bad = temp("bad.ron");
    std::fs::write(&bad, "(components: {\n  \"c\": (model: \"countr\"),\n})").unwrap();
    for command in ["check", "run"] {
        let out = cspsim(&[command, bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        let err = text(&out.stderr);
        assert!(err.contains("bad.ron:2:16"), "{err}");
        assert!(
            err.contains("unknown model `countr`") && err.contains("did you mean `counter`"),
            "{err}"
        );
        assert!(
            err.contains('^'),
            "the source line is shown with a caret: {err}"
        );
    }
    let out = cspsim(&["run", "no/such/file.ron"]);
    assert_usage_error(&out, "cannot read the circuit");
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(cspsim(&[]).status.code(), Some(2));
    assert_eq!(cspsim(&["run"]).status.code(), Some(2));
    assert_eq!(
        cspsim(&["run", "circuits/counter_compare.ron", "--engine", "magic"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        cspsim(&["run", "circuits/counter_compare.ron", "--threads", "0"])
            .status
            .code(),
        Some(2)
    );
    let out = cspsim(&[
        "run",
        "circuits/counter_compare.ron",
        "--vcd",
        "/nonexistent/dir/x.vcd",
    ]);
    assert_usage_error(&out, "cannot create /nonexistent/dir/x.vcd");
    let out = cspsim(&[
        "run",
        "circuits/counter_compare.ron",
        "--vcd",
        temp("n.vcd").to_str().unwrap(),
        "--trace",
        "nope.*",
    ]);
    assert_usage_error(&out, "`nope.*` selects no signal");
    assert_eq!(cspsim(&["--help"]).status.code(), Some(0));
}

#[test]
fn models_and_describe_document_every_model() {
    let out = cspsim(&["models"]);
    let list = text(&out.stdout);
    for model in [
        "const", "register", "counter", "add", "sub", "mul", "alu", "not", "and", "or", "xor",
        "mux", "compare", "slice", "concat",
    ] {
        assert!(
            list.lines().any(|l| l.starts_with(model)),
            "{model} missing from:\n{list}"
        );
        let out = cspsim(&["describe", model]);
        assert_eq!(out.status.code(), Some(0), "{model}");
        let doc = text(&out.stdout);
        assert!(
            doc.contains("Parameters:") && doc.contains("\nPorts"),
            "{model}:\n{doc}"
        );
    }
    let doc = text(&cspsim(&["describe", "register"]).stdout);
    assert!(
        doc.contains("en         Bits(1), optional (reads 1 if unconnected)"),
        "{doc}"
    );
    assert!(doc.contains("q          Bits(32) registered"), "{doc}");
    let out = cspsim(&["describe", "registr"]);
    assert_usage_error(&out, "did you mean `register`");
}

#[test]
fn a_failing_component_exits_1_through_the_library_entry_point() {
    struct Boom;
    impl cspsim::Model for Boom {
        fn reset(&mut self, io: &cspsim::Io<'_>) {
            io.set(0, 0);
        }
        fn tick(&mut self, _io: &cspsim::Io<'_>) {
            panic!("boom");
        }
    }
    let mut registry = cspsim::Registry::standard();
    registry.register(cspsim::ModelInfo::new(
        "boom",
        "fails at the first edge",
        |_, _| {
            Ok((
                cspsim::Interface::new().registered("q", cspsim::PortType::Bits(1)),
                Box::new(Boom) as Box<dyn cspsim::Model>,
            ))
        },
    ));
    let circuit = temp("boom.ron");
    std::fs::write(&circuit, r#"(components: {"b": (model: "boom")})"#).unwrap();
    let vcd = temp("boom.vcd");
    let code = cspsim::cli::main_from(
        registry,
        [
            "cspsim",
            "run",
            circuit.to_str().unwrap(),
            "--vcd",
            vcd.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(
        common::parse_vcd(&std::fs::read_to_string(&vcd).unwrap(), 10).cycles,
        1,
        "cycle 0 was traced"
    );
}

#[test]
fn diff_compares_two_traces() {
    let (a, b, c) = (temp("d_a.vcd"), temp("d_b.vcd"), temp("d_c.vcd"));
    let path = |p: &std::path::PathBuf| p.to_str().unwrap().to_string();
    assert_eq!(
        cspsim(&["run", "circuits/alu_datapath.ron", "--vcd", &path(&a)])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        cspsim(&[
            "run",
            "circuits/alu_datapath.ron",
            "--engine",
            "threads",
            "--vcd",
            &path(&b)
        ])
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        cspsim(&[
            "run",
            "circuits/alu_datapath.ron",
            "--cycles",
            "30",
            "--vcd",
            &path(&c)
        ])
        .status
        .code(),
        Some(0)
    );
    let out = cspsim(&["diff", &path(&a), &path(&b)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout).trim(), "waveforms match (32 signals)");
    let out = cspsim(&["diff", &path(&a), &path(&c)]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a shorter run ends earlier: {}",
        text(&out.stdout)
    );
    let out = cspsim(&["diff", &path(&a), "no/such.vcd"]);
    assert_usage_error(&out, "cannot read no/such.vcd");
}

#[test]
fn a_failing_assert_exits_1_with_the_cycle_and_values() {
    let circuit = temp("assert.ron");
    std::fs::write(
        &circuit,
        r#"Circuit(
    components: {
        "cnt": Component(model: "counter", params: {"width": 8}),
        "chk": Component(model: "assert", params: {"inputs": ["count: 8"], "condition": "count != 5"}),
    },
    nets: { "cnt.q": ["chk.count"] },
)"#,
    )
    .unwrap();
    let vcd = temp("assert.vcd");
    let out = cspsim(&[
        "run",
        circuit.to_str().unwrap(),
        "--vcd",
        vcd.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("cycle 5: component `chk` (model `assert`) failed: assertion `count != 5` failed: count = 5"),
        "{err}"
    );
    assert!(
        !err.contains("panic"),
        "a failure is not reported as a panic: {err}"
    );
    assert!(err.contains("holds the 6 completed cycles"), "{err}");
}

/// `--fst` writes the same waveforms as `--vcd`, as GTKWave's own `fst2vcd`
/// reads them, on every example circuit. Needs `fst2vcd` (Debian package
/// `gtkwave`): skipped without it, unless `CSPSIM_REQUIRE_FST2VCD` is set, as
/// CI does.
#[test]
fn fst_traces_hold_the_same_waveforms_as_vcd() {
    let have_fst2vcd = Command::new("fst2vcd").arg("--help").output().is_ok();
    if !have_fst2vcd {
        assert!(
            std::env::var_os("CSPSIM_REQUIRE_FST2VCD").is_none(),
            "fst2vcd is required (apt-get install gtkwave)"
        );
        common::skip("fst2vcd not found (apt-get install gtkwave)");
        return;
    }
    for path in common::all_circuits() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let (vcd, fst) = (temp(&format!("{name}.vcd")), temp(&format!("{name}.fst")));
        let p = path.to_str().unwrap();
        for (flag, out) in [("--vcd", &vcd), ("--fst", &fst)] {
            let run = cspsim(&["run", p, "-q", flag, out.to_str().unwrap()]);
            assert_eq!(run.status.code(), Some(0), "{p}: {}", text(&run.stderr));
        }
        let converted = Command::new("fst2vcd")
            .arg(&fst)
            .output()
            .expect("fst2vcd runs");
        assert!(converted.status.success(), "{name}: fst2vcd failed");
        let back = temp(&format!("{name}.fst.vcd"));
        std::fs::write(&back, &converted.stdout).unwrap();
        let diff = cspsim(&["diff", vcd.to_str().unwrap(), back.to_str().unwrap()]);
        assert_eq!(
            diff.status.code(),
            Some(0),
            "{name}: {}{}",
            text(&diff.stdout),
            text(&diff.stderr)
        );
    }
}

#[test]
fn vcd_and_fst_together_are_refused() {
    let out = cspsim(&[
        "run",
        "circuits/counter_compare.ron",
        "--vcd",
        "a.vcd",
        "--fst",
        "a.fst",
    ]);
    assert_usage_error(&out, "cannot be used with");
}

#[test]
fn an_unwritable_fst_file_is_a_clear_error() {
    let out = cspsim(&[
        "run",
        "circuits/counter_compare.ron",
        "--fst",
        "/nonexistent-dir/out.fst",
    ]);
    assert_usage_error(&out, "cannot create /nonexistent-dir/out.fst");
}

/// Standard output that cannot be written (a full disk; a closed pipe)
/// is an error message and exit status 1 from every command, not a panic.
#[test]
fn an_unwritable_standard_output_is_an_error_not_a_panic() {
    let commands: [&[&str]; 5] = [
        &["check", "circuits/detector64.ron"],
        &["run", "circuits/alu_datapath.ron", "-q", "--vcd", "-"],
        &["models"],
        &["describe", "bus"],
        &["graph", "circuits/pipeline16.ron"],
    ];
    for args in commands {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full exists on Linux");
        let out = Command::new(env!("CARGO_BIN_EXE_cspsim"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(full)
            .output()
            .expect("the binary runs");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("No space left on device") && !stderr.contains("panicked"),
            "{args:?}: {stderr}"
        );
    }
    // A closed pipe: the reader is gone before the first write.
    let mut child = Command::new(env!("CARGO_BIN_EXE_cspsim"))
        .args(["describe", "pixel"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("it ends");
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Composite models are found from the circuit's real directory, however
/// its path is written: `models/` beside the parent of `circuits/` is found
/// from inside `circuits/` too.
#[test]
fn models_are_found_above_a_relative_circuit_path() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("circuits");
    for (cwd, circuit) in [
        (dir.clone(), "detector64.ron"),
        (dir.join("bench"), "../detector64.ron"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_cspsim"))
            .args(["check", circuit])
            .current_dir(&cwd)
            .output()
            .expect("the binary runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{circuit}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stdout).contains("4419 components"));
    }
}

/// `diff` on a file that is not a VCD says so (it said "line 0: … at line
/// 1"), and on an FST file says how to read it.
#[test]
fn diff_says_when_a_file_is_not_a_vcd() {
    let out = cspsim(&["diff", "README.md", "README.md"]);
    assert_usage_error(&out, "README.md: it is not a VCD trace");
    assert!(!text(&out.stderr).contains("line 0"));
    // A file that starts as an FST but is not one.
    let broken = temp("broken.fst");
    std::fs::write(&broken, b"\0 not an FST").unwrap();
    let out = cspsim(&["diff", broken.to_str().unwrap(), broken.to_str().unwrap()]);
    assert_usage_error(&out, "it is not a valid FST trace");
}

/// `diff` reads FST (through wellen) as well as VCD: every example's FST
/// trace matches its VCD trace, port arrays and all.
#[test]
fn diff_reads_fst_traces() {
    for circuit in [
        "logic_gates",
        "detector_readout",
        "alu_datapath",
        "pipeline16",
    ] {
        let path = format!("circuits/{circuit}.ron");
        let (vcd, fst) = (
            temp(&format!("{circuit}.vcd")),
            temp(&format!("{circuit}.fst")),
        );
        for (flag, out) in [("--vcd", &vcd), ("--fst", &fst)] {
            let run = cspsim(&["run", &path, "-q", "--no-gtkw", flag, out.to_str().unwrap()]);
            assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
        }
        let out = cspsim(&["diff", vcd.to_str().unwrap(), fst.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{circuit}: {}",
            text(&out.stdout)
        );
        assert!(
            text(&out.stdout).starts_with("waveforms match"),
            "{}",
            text(&out.stdout)
        );
    }
    // And a difference in an FST is found.
    let (a, b) = (temp("short.fst"), temp("long.fst"));
    for (out, cycles) in [(&a, "30"), (&b, "40")] {
        let run = cspsim(&[
            "run",
            "circuits/counter_compare.ron",
            "-q",
            "--cycles",
            cycles,
            "--fst",
            out.to_str().unwrap(),
        ]);
        assert_eq!(run.status.code(), Some(0));
    }
    let out = cspsim(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("the first has 30 cycles, the second 40"),
        "{}",
        text(&out.stdout)
    );
}

/// `--map` renames and `--scope` selects, so that a trace with another
/// top scope and extra signals (as another simulator's testbench writes
/// it) lines up with cspsim's.
#[test]
fn diff_maps_names_and_selects_scopes() {
    let ours = temp("ours.vcd");
    let run = cspsim(&[
        "run",
        "circuits/counter_compare.ron",
        "-q",
        "--no-gtkw",
        "--vcd",
        ours.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0));
    let text_of = std::fs::read_to_string(&ours).unwrap();
    let theirs = temp("theirs.vcd");
    std::fs::write(
        &theirs,
        text_of.replace(
            "$scope module counter_compare $end",
            "$scope module tb $end\n$var wire 1 ~ stimulus_done $end",
        ),
    )
    .unwrap();
    let (o, t) = (ours.to_str().unwrap(), theirs.to_str().unwrap());
    let out = cspsim(&["diff", o, t]);
    assert_eq!(out.status.code(), Some(1), "different names differ");
    let out = cspsim(&[
        "diff",
        o,
        t,
        "--map",
        r"^tb\.=counter_compare.",
        "--scope",
        "counter_compare.cnt",
        "--scope",
        "counter_compare.hit",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("waveforms match (6 signals)"),
        "{}",
        text(&out.stdout)
    );
    // The extra signal is outside the scopes; without them it is a difference.
    let out = cspsim(&["diff", o, t, "--map", r"^tb\.=counter_compare."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("counter_compare.stimulus_done"),
        "{}",
        text(&out.stdout)
    );
    // Bad rules are usage errors.
    assert_usage_error(
        &cspsim(&["diff", o, t, "--map", "(=x"]),
        "not a regular expression",
    );
    assert_usage_error(
        &cspsim(&["diff", o, t, "--map", "nothing"]),
        "is not REGEX=REPLACEMENT",
    );
    assert_usage_error(
        &cspsim(&["diff", o, t, "--map", r"\.(a|b)$=.x"]),
        "makes both",
    );
    assert_usage_error(
        &cspsim(&["diff", o, t, "--scope", "nowhere"]),
        "no signal of either trace",
    );
}

/// `-q` silences the summary; `-` reads the circuit from standard input and
/// writes the VCD to standard output, the same trace as into a file.
#[test]
fn quiet_runs_and_standard_streams() {
    let out = cspsim(&["run", "circuits/counter_compare.ron", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "{}",
        text(&out.stderr)
    );

    let file = temp("streams.vcd");
    let out = cspsim(&[
        "run",
        "circuits/counter_compare.ron",
        "-q",
        "--vcd",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let circuit = std::fs::read("circuits/counter_compare.ron").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cspsim"))
        .args(["run", "-", "--vcd", "-"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&circuit).unwrap();
    }
    let out = child.wait_with_output().expect("it ends");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), std::fs::read_to_string(&file).unwrap());
    assert!(
        text(&out.stderr).contains("; trace on standard output"),
        "{}",
        text(&out.stderr)
    );

    let out = cspsim(&["run", "circuits/counter_compare.ron", "--fst", "-"]);
    assert_usage_error(&out, "an FST trace needs a file");
}

/// The small inconsistencies a user noticed: plurals, a run of no cycles,
/// the range of `dead_time`, ports of a model with required parameters.
#[test]
fn summaries_and_descriptions_say_what_is_true() {
    let out = cspsim(&["run", "circuits/counter_compare.ron", "--cycles", "0"]);
    let summary = text(&out.stderr);
    assert!(
        summary.contains("0 cycles × 3 components in ") && summary.contains(": no cycles run ("),
        "{summary}"
    );
    let out = cspsim(&["run", "circuits/counter_compare.ron", "--cycles", "1"]);
    assert!(
        text(&out.stderr).contains(": 1 cycle × 3 components in "),
        "{}",
        text(&out.stderr)
    );
    let one = temp("one.ron");
    std::fs::write(&one, r#"(components: {"c": (model: "counter")})"#).unwrap();
    let out = cspsim(&["run", one.to_str().unwrap(), "--cycles", "2"]);
    assert!(
        text(&out.stderr).contains("2 cycles × 1 component in "),
        "{}",
        text(&out.stderr)
    );
    let pixel = text(&cspsim(&["describe", "pixel"]).stdout);
    assert!(
        pixel.contains("dead_time") && pixel.contains("0..=4294967295"),
        "{pixel}"
    );
    let bus = text(&cspsim(&["describe", "bus"]).stdout);
    assert!(
        bus.contains("Ports with default parameters and masters = 2:"),
        "{bus}"
    );
    assert!(
        bus.contains("out  gnt[1]") && !bus.contains("missing"),
        "{bus}"
    );
}

/// `models` lists the composite models on the model path with their doc,
/// and `describe` shows a composite's parameters, typed ports and parts.
#[test]
fn models_and_describe_know_composite_models() {
    let list = text(&cspsim(&["models"]).stdout);
    assert!(list.contains("\ncomposite models:\n"), "{list}");
    assert!(
        list.contains("pixel_column    detector column: pixels -> round-robin bus -> FIFO"),
        "{list}"
    );
    let out = cspsim(&["describe", "pixel_column"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc = text(&out.stdout);
    for line in [
        "pixel_column — composite model (models/pixel_column.ron)",
        "  rows       default 64",
        "  in   pop        Bits(1) → fifo.pop",
        "  out  word       Bits(18) ← fifo.dout",
        "  pix[rows]  pixel",
    ] {
        assert!(doc.contains(line), "{line:?} in:\n{doc}");
    }
    // --models puts a directory first: its stage model is the misspelt one.
    let doc = text(&cspsim(&["describe", "pipeline_stage", "--models", "docs/typo"]).stdout);
    assert!(
        doc.contains("docs/typo/pipeline_stage.ron") && doc.contains("unknown name `kk`"),
        "{doc}"
    );
    let out = cspsim(&["describe", "pixel_colum"]);
    assert_usage_error(&out, "unknown model `pixel_colum`");
}

/// Completions and the manual page come from the command-line definition:
/// the bash script is valid bash and knows the options; the page is roff.
#[test]
fn completions_and_the_manual_page_are_generated() {
    let out = cspsim(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    let script = text(&out.stdout);
    assert!(
        script.contains("--no-gtkw") && script.contains("--codegen"),
        "{script}"
    );
    let file = temp("cspsim.bash");
    std::fs::write(&file, &script).unwrap();
    let checked = Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
        .expect("bash runs");
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = cspsim(&["completions", shell]);
        assert!(
            out.status.success() && text(&out.stdout).contains("cspsim"),
            "{shell}"
        );
    }
    let page = text(&cspsim(&["man"]).stdout);
    assert!(
        page.contains(".TH cspsim 1") && page.contains("completions"),
        "{page}"
    );
    assert_usage_error(&cspsim(&["completions", "tcsh"]), "invalid value");
}

/// `--color always` styles run-time errors as load errors are styled;
/// `NO_COLOR` and `--color never` (and a pipe) leave them plain.
#[test]
fn colour_is_chosen_by_flag_and_no_color() {
    let styled = "\x1b[1m\x1b[38;5;9merror\x1b[0m\x1b[1m: ";
    let run = [
        "run",
        "circuits/detector_readout.ron",
        "--param",
        "fifo_depth=1",
        "-q",
    ];
    let out = cspsim(&[&run[..], &["--color", "always"]].concat());
    assert!(
        text(&out.stderr).starts_with(styled),
        "{:?}",
        text(&out.stderr)
    );
    let out = cspsim(&["check", "docs/bad.ron", "--color", "always"]);
    assert!(
        text(&out.stderr).contains(styled),
        "{:?}",
        text(&out.stderr)
    );
    for args in [&[&run[..], &["--color", "never"]].concat(), &run.to_vec()] {
        let out = Command::new(env!("CARGO_BIN_EXE_cspsim"))
            .args(args)
            .env("NO_COLOR", "1")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(
            text(&out.stderr).starts_with("error: cycle 134"),
            "{:?}",
            text(&out.stderr)
        );
    }
}

/// `--no-batch` reaches the engine: a model that records the largest batch
/// it is ticked in sees four members without it and one with it.
#[test]
fn no_batch_runs_one_component_at_a_time() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static LARGEST: AtomicUsize = AtomicUsize::new(0);
    struct Probe;
    impl cspsim::Model for Probe {
        fn reset(&mut self, io: &cspsim::Io<'_>) {
            io.set(0, 0);
        }
        fn tick(&mut self, io: &cspsim::Io<'_>) {
            LARGEST.fetch_max(1, Ordering::Relaxed);
            io.set(0, io.output(0) ^ 1);
        }
        fn tick_batch(batch: &mut [Self], io: &cspsim::batch::BatchIo<'_>) {
            LARGEST.fetch_max(batch.len(), Ordering::Relaxed);
            for (k, m) in batch.iter_mut().enumerate() {
                m.tick(&io.member(k));
            }
        }
    }
    let registry = || {
        let mut registry = cspsim::Registry::standard();
        registry.register(cspsim::ModelInfo::new(
            "probe",
            "records its batch size",
            |_, _| {
                Ok((
                    cspsim::Interface::new().registered("q", cspsim::PortType::Bits(1)),
                    Box::new(Probe) as Box<dyn cspsim::Model>,
                ))
            },
        ));
        registry
    };
    let circuit = temp("probes.ron");
    std::fs::write(
        &circuit,
        r#"(cycles: 5, components: {"p": (model: "probe", count: 4)})"#,
    )
    .unwrap();
    let run = |extra: &[&str]| {
        LARGEST.store(0, Ordering::Relaxed);
        let args = [
            &["cspsim", "run", circuit.to_str().unwrap(), "-q"][..],
            extra,
        ]
        .concat();
        assert_eq!(cspsim::cli::main_from(registry(), args), 0);
        LARGEST.load(Ordering::Relaxed)
    };
    assert_eq!(run(&[]), 4, "the four probes run as one batch");
    assert_eq!(run(&["--no-batch"]), 1, "one at a time");
}

/// `--seed` reaches the models: the same seed gives the same trace, another
/// seed another trace.
#[test]
fn the_seed_option_reaches_the_models() {
    let trace = |seed: &str| {
        let vcd = temp(&format!("seed{seed}.vcd"));
        let out = cspsim(&[
            "run",
            "circuits/detector_readout.ron",
            "-q",
            "--no-gtkw",
            "--seed",
            seed,
            "--vcd",
            vcd.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        std::fs::read_to_string(vcd).unwrap()
    };
    assert_eq!(trace("7"), trace("7"));
    assert_ne!(trace("7"), trace("8"));
    assert_ne!(trace("0"), trace("8"));
}

#[test]
fn check_ranks_shows_how_the_mpi_engine_divides_a_circuit() {
    let out = cspsim(&["check", "circuits/detector_readout.ron", "--ranks", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("2 ranks:\n  rank 0: 6 components\n  rank 1: 4 components\n  cut nets: 2 (0 registered, 2 combinational); 2 exchanges per cycle"),
        "{said}"
    );
    let out = cspsim(&["check", "circuits/detector64.ron", "--ranks", "3", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let per_rank: Vec<u64> = json["ranks"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert_eq!(per_rank.len(), 3);
    assert_eq!(per_rank.iter().sum::<u64>(), 4419);
    assert!(json["ranks"]["cut_nets"].as_u64().unwrap() > 0);
    let out = cspsim(&["check", "circuits/detector64.ron", "--ranks", "0"]);
    assert_eq!(out.status.code(), Some(2));
}

#[cfg(not(feature = "mpi"))]
#[test]
fn the_mpi_engine_in_a_build_without_mpi_says_how_to_get_it() {
    let out = cspsim(&["run", "circuits/counter_compare.ron", "--engine", "mpi"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--features mpi"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_sweep_refuses_the_mpi_engine_for_its_runs() {
    let out = cspsim(&["sweep", "circuits/counter_compare.ron", "--engine", "mpi"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("mpirun -n R cspsim sweep"),
        "{}",
        text(&out.stderr)
    );
}
