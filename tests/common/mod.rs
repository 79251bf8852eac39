//! Helpers shared by the integration tests: loading circuits, running them
//! into an in-memory VCD, and reading a VCD back cycle by cycle.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cspsim::engine::{self, RunError, RunOptions, RunSummary};
use cspsim::trace::Trace;
use cspsim::{Circuit, Registry};

/// The repository's `circuits/` directory.
pub fn circuits_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("circuits")
}

/// Every example circuit, sorted: `circuits/*.ron`, then the benchmark
/// circuits `circuits/bench/*.ron` at their default size.
pub fn all_circuits() -> Vec<PathBuf> {
    let ron_files = |dir: PathBuf| {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("the directory exists")
            .map(|e| e.expect("readable entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "ron"))
            .collect();
        v.sort();
        v
    };
    let mut all = ron_files(circuits_dir());
    all.extend(ron_files(circuits_dir().join("bench")));
    all
}

/// Load a circuit from `circuits/NAME.ron` with the standard models.
pub fn load(name: &str) -> Circuit {
    load_path(&circuits_dir().join(format!("{name}.ron")))
}

pub fn load_path(path: &Path) -> Circuit {
    cspsim::netlist::load_file(path, &Registry::standard(), 0).unwrap_or_else(|e| panic!("{e}"))
}

/// A `Write` whose bytes can be read after the writer is gone.
#[derive(Clone, Default)]
pub struct SharedBuf(pub Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedBuf {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("VCD is UTF-8")
    }
}

/// Run `circuit` tracing everything it selects; the result and the VCD text.
pub fn run_traced(
    circuit: Circuit,
    options: &RunOptions,
) -> (Result<RunSummary, RunError>, String) {
    let patterns = circuit.trace.clone();
    run_with_patterns(circuit, options, &patterns)
}

pub fn run_with_patterns(
    circuit: Circuit,
    options: &RunOptions,
    patterns: &[String],
) -> (Result<RunSummary, RunError>, String) {
    let buf = SharedBuf::default();
    let trace = Trace::vcd(&circuit, patterns, buf.clone()).expect("header written");
    let result = engine::run(circuit, options, Some(trace));
    (result, buf.text())
}

/// What `body` returns, run on its own thread; a panic (not a hang) if it
/// takes more than `seconds`: for runs whose threads could wait for each
/// other forever if the engine broke.
pub fn within<T: Send + 'static>(seconds: u64, body: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, finished) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = done.send(body());
    });
    match finished.recv_timeout(std::time::Duration::from_secs(seconds)) {
        Ok(value) => value,
        // The body panicked (its sender is gone): report its panic.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the body sends before it returns"),
        },
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("still running after {seconds} s: the run hung")
        }
    }
}

/// Run the circuit `load` makes on `ranks` thread ranks; each rank's result,
/// and rank 0's VCD.
pub fn on_ranks(
    load: impl Fn() -> Circuit + Sync,
    ranks: usize,
    options: &RunOptions,
) -> (Vec<Result<RunSummary, RunError>>, String) {
    let buf = SharedBuf::default();
    let results = cspsim::engine::exchange::in_threads(ranks, |link| {
        let circuit = load();
        let rank = link.rank();
        let trace = (rank == 0).then(|| {
            let patterns = circuit.trace.clone();
            Trace::vcd(&circuit, &patterns, buf.clone()).expect("header written")
        });
        let options = RunOptions {
            engine: cspsim::engine::Engine::Mpi,
            ranks: Some(link),
            ..options.clone()
        };
        engine::run(circuit, &options, trace)
    });
    (results, buf.text())
}

/// A VCD read back: each signal's value at every cycle.
pub struct Waves {
    pub cycles: usize,
    /// Full names (`top.comp.port`) → value per cycle (Real as f64 bits).
    pub signals: BTreeMap<String, Vec<u64>>,
}

impl Waves {
    pub fn get(&self, name: &str) -> &[u64] {
        self.signals.get(name).unwrap_or_else(|| {
            panic!(
                "no signal {name}; have {:?}",
                self.signals.keys().collect::<Vec<_>>()
            )
        })
    }
}

/// Read a VCD with the library's strict reader (undeclared identifiers and
/// timestamps going back are errors) and sample every signal at each cycle
/// start. The last timestamp marks the end of the last cycle.
pub fn parse_vcd(text: &str, period: u64) -> Waves {
    let waveform = cspsim::trace::read::Waveform::from_text(text)
        .unwrap_or_else(|e| panic!("invalid VCD: {e}"));
    let signals = waveform.sample(period);
    Waves {
        cycles: (waveform.end / period) as usize,
        signals,
    }
}

/// Say that a test is skipped, where the test summary shows it: straight
/// to standard error, past the harness's capture of `eprintln!`.
pub fn skip(why: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {}: {why}",
        std::thread::current().name().unwrap_or("a test")
    );
}

/// Run the `cspsim` binary on `args` from the project's root.
pub fn cspsim(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_cspsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
