//! Checkpoints: a run restored from the checkpoint of cycle C computes and
//! traces exactly the uninterrupted run's cycles from C on, whichever code
//! generator and worker count saved it and whichever restores it; the file
//! is the same whoever saved it; bad files are refused, never a panic.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use cspsim::checkpoint::{Checkpoint, Schedule};
use cspsim::engine::{self, Checkpointing, Codegen, RunOptions};
use cspsim::netlist::LoadOptions;
use cspsim::simulation::Simulation;
use cspsim::trace::Trace;

/// Cycles each circuit runs here, and the cycle its checkpoint is of.
const CYCLES: u64 = 60;
const AT: u64 = 23;

/// Each traced signal's values from cycle `AT` on.
type Tail = Vec<(String, Vec<u64>)>;

/// An engine setup to save or restore on.
#[derive(Clone, Copy, Debug)]
enum How {
    /// The partitioned engine with this code generator and worker count.
    Partitioned(Codegen, usize),
    /// The mpi engine on this many ranks (threads standing in for them).
    Ranks(usize),
    /// The thread-per-component engine.
    Threads,
    /// The processes engine (a `cspsim serve` child per component).
    Processes,
}

const COMPILED_ONE: How = How::Partitioned(Codegen::Compiled, 1);
const INTERPRETED_TWO: How = How::Partitioned(Codegen::Interpret, 2);
/// The setups that save and restore what `COMPILED_ONE` does.
const OTHERS: [How; 5] = [
    INTERPRETED_TWO,
    How::Ranks(2),
    How::Ranks(3),
    How::Threads,
    How::Processes,
];

/// A run of the circuit at `path` for `CYCLES` cycles: restored from
/// `restore` if given, saving at `AT` if `save`; the trace's samples from
/// `AT` on and the checkpoints saved (or the run's error).
fn run(
    path: &Path,
    how: How,
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
    let patterns = circuit.trace.clone();
    let buf = common::SharedBuf::default();
    let trace = Trace::vcd(&circuit, &patterns, buf.clone()).expect("header written");
    let period = trace.plan.period;
    let (result, vcd) = match how {
        How::Partitioned(codegen, threads) => {
            let options = RunOptions {
                codegen,
                threads: Some(threads),
                ..options
            };
            (engine::run(circuit, &options, Some(trace)), buf.text())
        }
        How::Threads => {
            let options = RunOptions {
                engine: engine::Engine::Threads,
                ..options
            };
            (engine::run(circuit, &options, Some(trace)), buf.text())
        }
        How::Processes => {
            let options = RunOptions {
                engine: engine::Engine::Processes,
                processes: engine::ProcessOptions {
                    program: Some(env!("CARGO_BIN_EXE_cspsim").into()),
                    timeout: None,
                },
                ..options
            };
            let load = LoadOptions {
                keep_specs: true,
                ..LoadOptions::default()
            };
            let circuit =
                cspsim::netlist::load_file_with(path, &cspsim::Registry::standard(), &load)
                    .map_err(|e| e.to_string())?;
            (engine::run(circuit, &options, Some(trace)), buf.text())
        }
        How::Ranks(ranks) => {
            let (mut results, vcd) = common::on_ranks(|| common::load_path(path), ranks, &options);
            (results.remove(0), vcd)
        }
    };
    result.map_err(|e| e.to_string())?;
    let waves = common::parse_vcd(&vcd, period);
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
    let mut checked = 0;
    for path in common::all_circuits() {
        let name = path.display().to_string();
        if let Some(component) = unsupported(&path) {
            for how in OTHERS.into_iter().chain([COMPILED_ONE]) {
                let why = run(&path, how, None, true).expect_err(&name);
                assert!(
                    why.contains(&format!("`{component}`"))
                        && why.contains("cannot be checkpointed"),
                    "{name} on {how:?}: {why}"
                );
            }
            continue;
        }
        let (full, mut saved) =
            run(&path, COMPILED_ONE, None, true).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(saved.len(), 1, "{name}: one checkpoint, at cycle {AT}");
        let checkpoint = saved.remove(0);
        assert_eq!(checkpoint.cycle, AT);
        // The same file from every other engine setup. Thousands of debug
        // children would take minutes: the processes engine runs the
        // smaller circuits.
        let too_many_for_processes = common::load_path(&path).components.len() > 300;
        for how in OTHERS {
            if matches!(how, How::Processes) && too_many_for_processes {
                continue;
            }
            let (_, other) = run(&path, how, None, true).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                other.first().map(Checkpoint::to_text),
                Some(checkpoint.to_text()),
                "{name} saved with {how:?}: the saved states differ"
            );
        }
        // Through its text, restored on every setup.
        let read =
            Checkpoint::parse(&checkpoint.to_text()).unwrap_or_else(|e| panic!("{name}: {e}"));
        for how in OTHERS.into_iter().chain([COMPILED_ONE]) {
            if matches!(how, How::Processes) && too_many_for_processes {
                continue;
            }
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

#[test]
fn a_simulation_takes_and_continues_from_the_checkpoints_run_writes() {
    let mut checked = 0;
    for path in common::all_circuits() {
        let name = path.display().to_string();
        let mut sim = Simulation::from_file(&path, &LoadOptions::default()).unwrap();
        sim.step(AT).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Some(component) = unsupported(&path) {
            let why = sim.checkpoint().expect_err(&name).to_string();
            assert!(why.contains(&format!("`{component}`")), "{name}: {why}");
            continue;
        }
        let (full, saved) =
            run(&path, COMPILED_ONE, None, true).unwrap_or_else(|e| panic!("{name}: {e}"));
        let taken = sim.checkpoint().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            taken.to_text(),
            saved[0].to_text(),
            "{name}: the states differ"
        );
        // Another simulation, some cycles in, continues from it exactly.
        let mut other = Simulation::from_file(&path, &LoadOptions::default()).unwrap();
        other.step(AT / 2).unwrap();
        other
            .restore(&saved[0])
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(other.cycle(), AT);
        let buf = common::SharedBuf::default();
        other.trace_vcd(&[], buf.clone()).unwrap();
        other
            .step(CYCLES - AT)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        other.finish_trace().unwrap();
        let circuit = common::load_path(&path);
        let period = Trace::vcd(&circuit, &circuit.trace, std::io::sink())
            .unwrap()
            .plan
            .period;
        let waves = common::parse_vcd(&buf.text(), period);
        assert_eq!(waves.cycles as u64, CYCLES, "{name}");
        for (signal, values) in &full {
            assert_eq!(
                &waves.get(signal)[AT as usize..],
                &values[..],
                "{name}: {signal}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} circuits checked");
}

#[test]
fn a_simulation_refuses_a_checkpoint_of_another_circuit_and_keeps_its_state() {
    let cpu8 = common::circuits_dir().join("cpu8.ron");
    let saved = Checkpoint::parse(&checkpoint_text("cpu8")).unwrap();
    let lights = common::circuits_dir().join("traffic_light.ron");
    let mut sim = Simulation::from_file(&lights, &LoadOptions::default()).unwrap();
    sim.step(3).unwrap();
    let why = sim.restore(&saved).unwrap_err().to_string();
    assert!(why.contains("of circuit `cpu8`"), "{why}");
    assert_eq!(sim.cycle(), 3, "a refused checkpoint changes nothing");
    // A state its model refuses leaves the simulation reset.
    let mut sim = Simulation::from_file(&cpu8, &LoadOptions::default()).unwrap();
    sim.step(3).unwrap();
    let mut bad = saved.clone();
    let ram = bad
        .components
        .iter_mut()
        .find(|c| c.model == "ram")
        .unwrap();
    ram.state = cspsim::checkpoint::ModelState::of(&"not words").unwrap();
    let ram = ram.path.clone();
    let why = sim.restore(&bad).unwrap_err().to_string();
    assert!(why.contains(&format!("`{ram}`")), "{why}");
    assert_eq!(sim.cycle(), 0);
    // A trace starts at the cycle restored, and only then.
    sim.restore(&saved).unwrap();
    sim.step(1).unwrap();
    let why = sim.trace_vcd(&[], std::io::sink()).unwrap_err().to_string();
    assert!(why.contains("before the first step"), "{why}");
}

/// The text of the checkpoint of `circuits/NAME.ron` at cycle `AT`.
fn checkpoint_text(name: &str) -> String {
    let path = common::circuits_dir().join(format!("{name}.ron"));
    let (_, saved) = run(&path, COMPILED_ONE, None, true).unwrap();
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
    let why = run(&cpu, COMPILED_ONE, Some(other), false).unwrap_err();
    assert!(
        why.contains("does not fit this circuit") && why.contains("traffic_light"),
        "{why}"
    );
    // The same components, other wiring.
    let mut rewired = Checkpoint::parse(&text).unwrap();
    rewired.fingerprint = "0".into();
    let why = run(&cpu, COMPILED_ONE, Some(rewired), false).unwrap_err();
    assert!(why.contains("another version of circuit `cpu8`"), "{why}");
    // A model's state that it cannot take.
    let mut wrong = Checkpoint::parse(&text).unwrap();
    let memory = wrong
        .components
        .iter_mut()
        .find(|c| c.model == "memory" || c.model == "ram")
        .expect("cpu8 has a memory");
    memory.state = cspsim::checkpoint::ModelState::of(&"nonsense").unwrap();
    let why = run(&cpu, COMPILED_ONE, Some(wrong), false).unwrap_err();
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
    // Any engine saves: the same file as the default engine's.
    let threads = dir.join("threads");
    let out = common::cspsim(&[
        "run",
        "circuits/cpu8.ron",
        "--cycles",
        "100",
        "--engine",
        "threads",
        "--checkpoint-every",
        "30",
        "--checkpoint-at",
        "80",
        "--checkpoint-dir",
        &s(&threads),
        "-q",
    ]);
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    let mut saved: Vec<_> = std::fs::read_dir(&threads)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    saved.sort();
    let at = |c: u64| format!("cpu8-{c:012}.ckpt.ron");
    assert_eq!(saved, [at(30), at(60), at(80), at(90)]);
    let again = std::fs::read_to_string(threads.join("cpu8-000000000080.ckpt.ron")).unwrap();
    assert_eq!(again, text);
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

/// Untraced, a lone compiled worker runs two cycles a call wherever
/// nothing is due between them, and workers on threads leave out the
/// barriers before phases that no worker has anything to do in: the state
/// left after 99 cycles (odd, past the looks at progress at 0 and 64) is
/// the interpreter's on one worker, for every circuit whose models can
/// save.
#[test]
fn untraced_runs_leave_the_interpreters_state_one_worker_or_several() {
    use cspsim::engine::Spread;
    for path in common::all_circuits() {
        if unsupported(&path).is_some() {
            continue;
        }
        let saved = |codegen, threads, spread| {
            let saved = Arc::new(Mutex::new(Vec::new()));
            let sink = {
                let saved = Arc::clone(&saved);
                move |c: Checkpoint| {
                    saved.lock().unwrap().push(c.to_text());
                    Ok(())
                }
            };
            let options = RunOptions {
                cycles: Some(120),
                codegen,
                threads: Some(threads),
                spread,
                checkpoints: Some(Checkpointing {
                    schedule: Schedule {
                        every: None,
                        at: vec![99],
                    },
                    sink: Arc::new(sink),
                }),
                ..RunOptions::default()
            };
            let summary = engine::run(common::load_path(&path), &options, None)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let taken = std::mem::take(&mut *saved.lock().unwrap());
            (summary.compiled.map(|c| c.lowered), taken)
        };
        let (_, interpreted) = saved(Codegen::Interpret, 1, Spread::Adaptive);
        assert_eq!(interpreted.len(), 1, "{}", path.display());
        for (codegen, threads, spread) in [
            (Codegen::Compiled, 1, Spread::Adaptive),
            (Codegen::Compiled, 2, Spread::Threads),
            (Codegen::Interpret, 2, Spread::Threads),
            (Codegen::Compiled, 2, Spread::Alternate),
        ] {
            let (lowered, state) = saved(codegen, threads, spread);
            if codegen == Codegen::Compiled {
                assert!(lowered.is_some(), "{}: compiled", path.display());
            }
            assert!(
                state == interpreted,
                "{}: the state after 99 cycles differs, {codegen} on {threads} ({spread:?})",
                path.display()
            );
        }
    }
}
