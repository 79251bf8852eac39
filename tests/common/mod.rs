//! Helpers shared by the integration tests: loading circuits, running them
//! into an in-memory VCD, and reading a VCD back cycle by cycle.
#![allow(dead_code)]

use std::collections::HashMap;
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

/// Every example circuit, sorted.
pub fn all_circuits() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(circuits_dir())
        .expect("circuits/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    v.sort();
    v
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

/// A VCD read back: each signal's value at every cycle.
pub struct Waves {
    pub period: u64,
    pub cycles: usize,
    /// Full names (`top.comp.port`) → value per cycle (Real as f64 bits).
    pub signals: HashMap<String, Vec<u64>>,
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

/// Parse a VCD with the `vcd` crate and sample every signal at each cycle
/// start (t × period). The last timestamp marks the end of the last cycle.
pub fn parse_vcd(text: &str, period: u64) -> Waves {
    use vcd::{Command, ScopeItem, Value};
    let mut parser = vcd::Parser::new(text.as_bytes());
    let header = parser.parse_header().expect("valid VCD header");
    let mut names: HashMap<vcd::IdCode, Vec<String>> = HashMap::new();
    fn walk(items: &[ScopeItem], prefix: &str, names: &mut HashMap<vcd::IdCode, Vec<String>>) {
        for item in items {
            match item {
                ScopeItem::Scope(s) => walk(&s.items, &format!("{prefix}{}.", s.identifier), names),
                ScopeItem::Var(v) => names
                    .entry(v.code)
                    .or_default()
                    .push(format!("{prefix}{}", v.reference)),
                _ => {}
            }
        }
    }
    walk(&header.items, "", &mut names);
    let mut current: HashMap<vcd::IdCode, u64> = HashMap::new();
    let mut samples: HashMap<vcd::IdCode, Vec<u64>> = HashMap::new();
    let mut cycle = 0u64;
    let mut last_time = 0u64;
    let bits = |v: &vcd::Vector| {
        v.iter()
            .fold(0u64, |acc, b| acc << 1 | u64::from(b == Value::V1))
    };
    for command in parser {
        match command.expect("valid VCD body") {
            Command::Timestamp(t) => {
                assert!(
                    t >= last_time,
                    "timestamps must not go back: {t} after {last_time}"
                );
                while cycle * period < t {
                    for id in names.keys() {
                        samples
                            .entry(*id)
                            .or_default()
                            .push(*current.get(id).expect("every var is dumped at #0"));
                    }
                    cycle += 1;
                }
                last_time = t;
            }
            Command::ChangeScalar(id, v) => {
                assert!(names.contains_key(&id), "undeclared id {id}");
                current.insert(id, u64::from(v == Value::V1));
            }
            Command::ChangeVector(id, v) => {
                assert!(names.contains_key(&id), "undeclared id {id}");
                current.insert(id, bits(&v));
            }
            Command::ChangeReal(id, v) => {
                assert!(names.contains_key(&id), "undeclared id {id}");
                current.insert(id, v.to_bits());
            }
            _ => {}
        }
    }
    let mut signals = HashMap::new();
    for (id, list) in names {
        for name in list {
            signals.insert(name, samples.get(&id).cloned().unwrap_or_default());
        }
    }
    Waves {
        period,
        cycles: cycle as usize,
        signals,
    }
}
