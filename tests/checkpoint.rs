//! Checkpoints: a run restored from the checkpoint of cycle C computes and
//! traces exactly the uninterrupted run's cycles from C on, whichever code
//! generator and worker count saved it and whichever restores it; the file
//! is the same whoever saved it; bad files are refused, never a panic.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use cspsim::checkpoint::{Checkpoint, Schedule};
use cspsim::engine::{self, Checkpointing, Codegen, RunOptions};
use cspsim::trace::Trace;

/// Cycles each circuit runs here, and the cycle its checkpoint is of.
const CYCLES: u64 = 60;
const AT: u64 = 23;

/// Each traced signal's values from cycle `AT` on.
type Tail = Vec<(String, Vec<u64>)>;

/// A run of the circuit at `path` for `CYCLES` cycles: restored from
/// `restore` if given, saving at `AT` if `save`; the trace's samples from
/// `AT` on and the checkpoints saved (or the run's error).
fn run(
    path: &Path,
    (codegen, threads): (Codegen, usize),
    restore: Option<Checkpoint>,
    save: bool,
) -> Result<(Tail, Vec<Checkpoint>), String> {
    let circuit = common::load_path(path);
    let saved = Arc::new(Mutex::new(Vec::new()));
    let sink = {
        let saved = Arc::clone(&saved);
        move |c: Checkpoint| {
            saved.lock().unwrap().push(c);
            Ok(())
        }
    };
    let options = RunOptions {
        cycles: Some(CYCLES),
        threads: Some(threads),
        codegen,
        restore: restore.map(Arc::new),
        checkpoints: save.then(|| Checkpointing {
            schedule: Schedule {
                every: None,
                at: vec![AT],
            },
            sink: Arc::new(sink),
        }),
        ..RunOptions::default()
    };
    let buf = common::SharedBuf::default();
    let patterns = circuit.trace.clone();
    let trace = Trace::vcd(&circuit, &patterns, buf.clone()).expect("header written");
    let period = trace.plan.period;
    engine::run(circuit, &options, Some(trace)).map_err(|e| e.to_string())?;
    let waves = common::parse_vcd(&buf.text(), period);
    assert_eq!(waves.cycles as u64, CYCLES, "{}", path.display());
    let tail = waves
        .signals
        .into_iter()
        .map(|(name, values)| (name, values[AT as usize..].to_vec()))
        .collect();
    let saved = std::mem::take(&mut *saved.lock().unwrap());
    Ok((tail, saved))
}

/// Whether the circuit has a component whose model cannot save its state.
fn unsupported(path: &Path) -> Option<String> {
    let circuit = common::load_path(path);
    let c = circuit.components.iter().find(|c| c.model == "process")?;
    Some(c.path.clone())
}

#[test]
fn every_circuit_continues_bit_exactly_from_a_checkpoint() {
    const COMPILED_ONE: (Codegen, usize) = (Codegen::Compiled, 1);
    const INTERPRETED_TWO: (Codegen, usize) = (Codegen::Interpret, 2);
    let mut checked = 0;
    for path in common::all_circuits() {
        let name = path.display().to_string();
        if let Some(component) = unsupported(&path) {
            let why = run(&path, COMPILED_ONE, None, true).expect_err(&name);
            assert!(
                why.contains(&format!("`{component}`")) && why.contains("cannot be checkpointed"),
                "{name}: {why}"
            );
            continue;
        }
        let (full, mut saved) =
            run(&path, COMPILED_ONE, None, true).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(saved.len(), 1, "{name}: one checkpoint, at cycle {AT}");
        let checkpoint = saved.remove(0);
        assert_eq!(checkpoint.cycle, AT);
        // The same file from the other code generator and worker count.
        let (_, other) =
            run(&path, INTERPRETED_TWO, None, true).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            other[0].to_text(),
            checkpoint.to_text(),
            "{name}: the saved states differ"
        );
        // Through its text, restored on each code generator and worker count.
        let read =
            Checkpoint::parse(&checkpoint.to_text()).unwrap_or_else(|e| panic!("{name}: {e}"));
        for how in [INTERPRETED_TWO, COMPILED_ONE] {
            let (tail, _) = run(&path, how, Some(read.clone()), false)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                tail, full,
                "{name} restored with {how:?}: the trace is not the full trace's tail"
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} circuits checked");
}

/// The text of the checkpoint of `circuits/NAME.ron` at cycle `AT`.
fn checkpoint_text(name: &str) -> String {
    let path = common::circuits_dir().join(format!("{name}.ron"));
    let (_, saved) = run(&path, (Codegen::Compiled, 1), None, true).unwrap();
    saved[0].to_text()
}

#[test]
fn bad_checkpoint_files_are_refused_with_what_does_not_match() {
    let text = checkpoint_text("cpu8");
    let cut = &text[..text.len() / 2];
    let why = Checkpoint::parse(cut).unwrap_err();
    assert!(why.contains("cut short or corrupt"), "{why}");
    let later = text.replace("version: 1,", "version: 7,");
    let why = Checkpoint::parse(&later).unwrap_err();
    assert!(
        why.contains("version 7") && why.contains("reads version 1"),
        "{why}"
    );
    let why = Checkpoint::parse("(format: \"something else\")").unwrap_err();
    assert!(why.contains("not a cspsim checkpoint"), "{why}");
    for garbage in ["", "(", "\u{0}\u{ff}", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["] {
        assert!(Checkpoint::parse(garbage).is_err());
    }
    // Another circuit's checkpoint.
    let other = Checkpoint::parse(&checkpoint_text("traffic_light")).unwrap();
    let cpu = common::circuits_dir().join("cpu8.ron");
    let why = run(&cpu, (Codegen::Compiled, 1), Some(other), false).unwrap_err();
    assert!(
        why.contains("does not fit this circuit") && why.contains("traffic_light"),
        "{why}"
    );
    // The same components, other wiring.
    let mut rewired = Checkpoint::parse(&text).unwrap();
    rewired.fingerprint = "0".into();
    let why = run(&cpu, (Codegen::Compiled, 1), Some(rewired), false).unwrap_err();
    assert!(why.contains("another version of circuit `cpu8`"), "{why}");
    // A model's state that it cannot take.
    let mut wrong = Checkpoint::parse(&text).unwrap();
    let memory = wrong
        .components
        .iter_mut()
        .find(|c| c.model == "memory" || c.model == "ram")
        .expect("cpu8 has a memory");
    memory.state = cspsim::checkpoint::ModelState::of(&"nonsense").unwrap();
    let why = run(&cpu, (Codegen::Compiled, 1), Some(wrong), false).unwrap_err();
    assert!(why.contains("could not take its saved state"), "{why}");
}

#[test]
fn the_command_line_saves_restores_and_refuses() {
    let dir = std::env::temp_dir().join(format!("cspsim-checkpoint-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ckpt = dir.join("ckpt");
    let (full, tail) = (dir.join("full.vcd"), dir.join("tail.vcd"));
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out = common::cspsim(&[
        "run",
        "circuits/cpu8.ron",
        "--cycles",
        "100",
        "--vcd",
        &s(&full),
        "--checkpoint-every",
        "40",
        "--checkpoint-dir",
        &s(&ckpt),
    ]);
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    assert!(
        common::text(&out.stderr).contains("wrote 2 checkpoints in"),
        "{}",
        common::text(&out.stderr)
    );
    let file = ckpt.join("cpu8-000000000080.ckpt.ron");
    assert!(file.exists() && ckpt.join("cpu8-000000000040.ckpt.ron").exists());
    let out = common::cspsim(&[
        "run",
        "circuits/cpu8.ron",
        "--cycles",
        "100",
        "--vcd",
        &s(&tail),
        "--restore",
        &s(&file),
        "--threads",
        "2",
        "--codegen",
        "interpret",
    ]);
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    assert!(
        common::text(&out.stderr).contains("20 cycles"),
        "{}",
        common::text(&out.stderr)
    );
    let waves = |p: &Path| common::parse_vcd(&std::fs::read_to_string(p).unwrap(), 10);
    let (full, tail) = (waves(&full), waves(&tail));
    assert_eq!(tail.cycles, 100);
    for (name, values) in &full.signals {
        assert_eq!(&tail.get(name)[80..], &values[80..], "{name}");
    }
    // Bad files: exit 2 with the reason, no panic.
    let cut = dir.join("cut.ckpt.ron");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&cut, &text[..text.len() / 3]).unwrap();
    for (bad, says) in [
        (s(&cut), "cut short or corrupt"),
        (s(&dir.join("missing.ckpt.ron")), "missing.ckpt.ron"),
    ] {
        let out = common::cspsim(&["run", "circuits/cpu8.ron", "--restore", &bad, "-q"]);
        assert_eq!(out.status.code(), Some(2), "{}", common::text(&out.stderr));
        assert!(
            common::text(&out.stderr).contains(says),
            "{}",
            common::text(&out.stderr)
        );
    }
    let out = common::cspsim(&[
        "run",
        "circuits/traffic_light.ron",
        "--restore",
        &s(&file),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        common::text(&out.stderr).contains("of circuit `cpu8`"),
        "{}",
        common::text(&out.stderr)
    );
    let out = common::cspsim(&[
        "run",
        "circuits/cpu8.ron",
        "--checkpoint-dir",
        &s(&ckpt),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = common::cspsim(&[
        "run",
        "circuits/cpu8.ron",
        "--engine",
        "threads",
        "--checkpoint-at",
        "5",
        "--checkpoint-dir",
        &s(&ckpt),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        common::text(&out.stderr).contains("partitioned engine"),
        "{}",
        common::text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_schedule_is_due_at_its_cycles_and_never_at_zero() {
    let s = Schedule {
        every: Some(40),
        at: vec![7, 100],
    };
    let due: Vec<u64> = (0..130).filter(|&c| s.due(c)).collect();
    assert_eq!(due, [7, 40, 80, 100, 120]);
    assert_eq!(s.next_after(0), Some(7));
    assert_eq!(s.next_after(80), Some(100));
    assert_eq!(s.next_after(u64::MAX - 1), None);
    assert!(Schedule::default().is_empty() && !Schedule::default().due(0));
}
