//! GTKWave save files beside every trace: they name exactly the signals
//! the trace holds, as GTKWave names them, in balanced groups; they are
//! written for VCD and FST, by the command line and by the Testbench, and
//! never over a trace, an input or a save file someone arranged by hand.

mod common;

use common::{cspsim, text};

use std::collections::BTreeSet;
use std::path::PathBuf;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cspsim-gtkw-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Every variable of a VCD header as GTKWave names it: scopes joined by
/// dots, the bit range appended to the name (`top.cnt.q[7:0]`).
fn vcd_signals(vcd: &str) -> BTreeSet<String> {
    let mut scopes: Vec<&str> = Vec::new();
    let mut names = BTreeSet::new();
    for line in vcd
        .lines()
        .take_while(|l| !l.starts_with("$enddefinitions"))
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["$scope", _, name, "$end"] => scopes.push(name),
            ["$upscope", "$end"] => {
                scopes.pop();
            }
            ["$var", _, _, _, name, rest @ ..] => {
                let range = rest.first().filter(|r| r.starts_with('[')).unwrap_or(&"");
                names.insert(format!("{}.{name}{range}", scopes.join(".")));
            }
            _ => {}
        }
    }
    names
}

/// What a save file shows: its signals, and its groups as (name, closed),
/// after checking that every group that opens closes, in order.
struct Shown {
    signals: Vec<String>,
    groups: Vec<(String, bool)>,
    flags: Vec<(String, u32)>,
}

fn shown(save: &str) -> Shown {
    let mut shown = Shown {
        signals: Vec::new(),
        groups: Vec::new(),
        flags: Vec::new(),
    };
    let mut open: Vec<(String, bool)> = Vec::new();
    let mut flags = 0u32;
    for line in save.lines() {
        if let Some(hex) = line.strip_prefix('@') {
            flags = u32::from_str_radix(hex, 16).expect("flags are hex");
        } else if let Some(name) = line.strip_prefix('-') {
            let closed = flags & (1 << 22) != 0;
            if flags & (1 << 23) != 0 {
                open.push((name.to_string(), closed));
                shown.groups.push((name.to_string(), closed));
            } else if flags & (1 << 24) != 0 {
                assert_eq!(
                    open.pop(),
                    Some((name.to_string(), closed)),
                    "unbalanced group"
                );
            }
        } else if !line.starts_with('[') && !line.starts_with('*') && !line.is_empty() {
            shown.signals.push(line.to_string());
            shown.flags.push((line.to_string(), flags));
        }
    }
    assert!(open.is_empty(), "groups left open: {open:?}");
    shown
}

#[test]
fn a_save_file_names_every_traced_signal_and_nothing_else() {
    for circuit in [
        "circuits/cpu8.ron",
        "circuits/detector_readout.ron",
        "circuits/logic_gates.ron",
    ] {
        let dir = temp_dir("every");
        let vcd = dir.join("trace.vcd");
        let out = cspsim(&["run", circuit, "-q", "--vcd", vcd.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let save = std::fs::read_to_string(dir.join("trace.gtkw")).expect("trace.gtkw is written");
        let shown = shown(&save);
        let in_trace = vcd_signals(&std::fs::read_to_string(&vcd).unwrap());
        let in_save: BTreeSet<String> = shown.signals.iter().cloned().collect();
        assert_eq!(in_save, in_trace, "{circuit}");
        assert_eq!(
            shown.signals.len(),
            in_save.len(),
            "{circuit}: a signal shown twice"
        );
        assert!(
            save.contains(&format!(
                "[dumpfile] \"{}\"",
                vcd.canonicalize().unwrap().display()
            )),
            "{save}"
        );
    }
}

#[test]
fn clock_first_vectors_in_hex_reals_analog_and_a_group_per_component() {
    let dir = temp_dir("layout");
    let vcd = dir.join("d.vcd");
    let out = cspsim(&[
        "run",
        "circuits/detector_readout.ron",
        "-q",
        "--trace",
        "*",
        "--vcd",
        vcd.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = shown(&std::fs::read_to_string(dir.join("d.gtkw")).unwrap());
    assert_eq!(shown.signals[0], "detector_readout.clock");
    let flags = |name: &str| {
        shown
            .flags
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} is not shown"))
            .1
    };
    // Hex and right-justified; binary; real, analog step.
    assert_eq!(flags("detector_readout.fifo.dout[13:0]"), 0x22);
    assert_eq!(flags("detector_readout.pix0.hit"), 0x28);
    assert_eq!(flags("detector_readout.pix0.charge"), 0x48020);
    let groups: Vec<&str> = shown.groups.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(groups[..4], ["pix0", "pix1", "pix2", "pix3"]);
    assert!(
        shown.groups.iter().all(|(_, closed)| !closed),
        "a small circuit is all open"
    );
}

#[test]
fn arrays_larger_than_a_screen_are_collapsed_groups() {
    let dir = temp_dir("arrays");
    let vcd = dir.join("d64.vcd");
    let out = cspsim(&[
        "run",
        "circuits/detector64.ron",
        "-q",
        "--cycles",
        "3",
        "--trace",
        "*",
        "--vcd",
        vcd.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = shown(&std::fs::read_to_string(dir.join("d64.gtkw")).unwrap());
    let group = |name: &str| shown.groups.iter().find(|(n, _)| n == name).cloned();
    // The 64 columns are one collapsed group of collapsed columns; a
    // 64-port array is a collapsed group; a lone component is open.
    assert_eq!(group("col[0..63]"), Some(("col[0..63]".into(), true)));
    assert_eq!(group("col[5]"), Some(("col[5]".into(), true)));
    assert_eq!(group("gnt[0..63]"), Some(("gnt[0..63]".into(), true)));
    assert_eq!(group("tag"), Some(("tag".into(), false)));
}

#[test]
fn fst_traces_get_one_too_and_no_gtkw_writes_none() {
    let dir = temp_dir("fst");
    let fst = dir.join("c.fst");
    let out = cspsim(&[
        "run",
        "circuits/cpu8.ron",
        "-q",
        "--fst",
        fst.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let save = std::fs::read_to_string(dir.join("c.gtkw")).unwrap();
    assert!(save.contains("c.fst\""), "{save}");
    assert!(shown(&save).signals.contains(&"cpu8.pc.q[7:0]".to_string()));

    let vcd = dir.join("quiet.vcd");
    let out = cspsim(&[
        "run",
        "circuits/cpu8.ron",
        "-q",
        "--no-gtkw",
        "--vcd",
        vcd.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(vcd.exists() && !dir.join("quiet.gtkw").exists());
}

#[test]
fn a_save_file_never_replaces_a_hand_arranged_one_a_trace_or_an_input() {
    let dir = temp_dir("keep");
    let vcd = dir.join("mine.vcd");
    let mine = dir.join("mine.gtkw");
    std::fs::write(&mine, "[dumpfile] \"mine.vcd\"\n@28\nmy.signal\n").unwrap();
    let out = cspsim(&[
        "run",
        "circuits/cpu8.ron",
        "-q",
        "--vcd",
        vcd.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("kept"), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&mine).unwrap(),
        "[dumpfile] \"mine.vcd\"\n@28\nmy.signal\n"
    );
    // Its own save file is rewritten on the next run.
    let vcd = dir.join("again.vcd");
    for _ in 0..2 {
        let out = cspsim(&[
            "run",
            "circuits/cpu8.ron",
            "-q",
            "--vcd",
            vcd.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    }
    // A trace named .gtkw would be its own save file.
    let out = cspsim(&[
        "run",
        "circuits/cpu8.ron",
        "-q",
        "--vcd",
        dir.join("t.gtkw").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--no-gtkw"),
        "{}",
        text(&out.stderr)
    );
    // The save file beside a trace never overwrites a file the circuit
    // reads (here its program), and nothing is written.
    let program = std::fs::read_to_string("circuits/fib.hex").unwrap();
    std::fs::write(dir.join("prog.gtkw"), &program).unwrap();
    let circuit = std::fs::read_to_string("circuits/cpu8.ron").unwrap();
    std::fs::write(
        dir.join("cpu8.ron"),
        circuit.replace("fib.hex", "prog.gtkw"),
    )
    .unwrap();
    let trace = dir.join("prog.vcd");
    let out = cspsim(&[
        "run",
        dir.join("cpu8.ron").to_str().unwrap(),
        "-q",
        "--vcd",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("would overwrite"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("prog.gtkw")).unwrap(),
        program
    );
    assert!(!trace.exists());
}

#[test]
fn a_testbench_recording_gets_a_save_file() {
    let dir = temp_dir("bench");
    let vcd = dir.join("counter.vcd");
    let mut tb = cspsim::Testbench::new(
        "counter",
        vec![("width".into(), cspsim::ParamValue::Int(4))],
    )
    .unwrap();
    tb.record_vcd_file(&vcd).unwrap();
    tb.step_n(5);
    tb.finish_vcd().unwrap();
    let save = std::fs::read_to_string(dir.join("counter.gtkw")).expect("counter.gtkw");
    let shown = shown(&save);
    let in_trace = vcd_signals(&std::fs::read_to_string(&vcd).unwrap());
    assert_eq!(
        shown.signals.iter().cloned().collect::<BTreeSet<_>>(),
        in_trace
    );
    assert_eq!(shown.signals[0], "testbench.clock");
}
