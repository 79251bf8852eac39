//! The peers, measured on the same circuits in the same run as cspsim: the
//! four families of `circuits/bench/` written in Verilog (`families.v`, run
//! by Icarus Verilog and by Verilator) and in SystemC with one SC_METHOD per
//! component (`systemc_families.cpp`). Each run prints the family's result
//! net, which [`cspsim_result`] reads from cspsim for the cross-check in
//! `tests/peers_agree.rs`.
//!
//! Install the peers with `apt-get install iverilog verilator libsystemc-dev`;
//! a peer whose tools are missing is reported as unavailable.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cspsim::engine::{self, RunOptions};
use cspsim::netlist::{self, LoadOptions};
use cspsim::params::ParamValue;
use cspsim::trace::read::Waveform;
use cspsim::trace::Trace;
use cspsim::Registry;

/// A simulator cspsim is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// Icarus Verilog 11: an event-driven interpreter (`iverilog`, `vvp`).
    Icarus,
    /// SystemC 2.3, one SC_METHOD per component.
    SystemC,
    /// Verilator 5, one thread: the design compiled to C++.
    Verilator,
}

pub const PEERS: [Peer; 3] = [Peer::SystemC, Peer::Icarus, Peer::Verilator];

/// The families: circuit file, size parameter (none for a circuit of one
/// size), and the net whose value every simulator reports (`{last}` is K − 1).
pub const FAMILIES: [(&str, &str, &str); 6] = [
    ("counters", "k", "c[{last}].q"),
    ("lfsrs", "k", "x.y"),
    ("chain", "k", "s[{last}].q"),
    ("pixels", "w", "hits.q"),
    ("expr_pixels", "w", "hits.q"),
    ("cpu8_loop", "", "acc.q"),
];

/// The sizes K a family is measured at, of those given: a family without a
/// size parameter has one size, K = 1 (one processor).
pub fn sizes(family: &str, sizes: &[usize]) -> Vec<usize> {
    match FAMILIES.iter().find(|f| f.0 == family) {
        Some((_, "", _)) => vec![1],
        _ => sizes.to_vec(),
    }
}

fn sources() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/peers")
}

/// Whether `program` runs (`program --version`, or `-V` for iverilog).
fn runs(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success() || !o.stdout.is_empty())
}

impl Peer {
    pub fn name(self) -> &'static str {
        match self {
            Peer::Icarus => "Icarus Verilog",
            Peer::SystemC => "SystemC SC_METHOD",
            Peer::Verilator => "Verilator (1 thread)",
        }
    }

    /// Whether this machine has the peer's tools.
    pub fn available(self) -> bool {
        match self {
            Peer::Icarus => runs("iverilog", "-V") && runs("vvp", "-V"),
            Peer::SystemC => {
                runs("g++", "--version") && Path::new("/usr/include/systemc.h").exists()
            }
            Peer::Verilator => runs("verilator", "--version"),
        }
    }

    /// Build `family` with K components (for the pixels, K = W × W pixels) in `dir`.
    pub fn build(self, family: &str, k: usize, dir: &Path) -> Result<Built, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let start = Instant::now();
        let src = sources();
        let mut built = Built {
            peer: self,
            family: family.to_string(),
            k,
            dir: dir.to_path_buf(),
            build_time: Duration::ZERO,
            startup: Duration::ZERO,
        };
        match self {
            Peer::Icarus => run(Command::new("iverilog")
                .args(["-g2005", "-o"])
                .arg(dir.join("sim.vvp"))
                .arg(format!("-DFAMILY={family}"))
                .arg(format!("-DK={k}"))
                .arg(src.join("icarus_tb.v"))
                .arg(src.join("families.v")))?,
            // One program runs every family and size (given as arguments):
            // built once per directory.
            Peer::SystemC if dir.join("sim").exists() => String::new(),
            Peer::SystemC => run(Command::new("g++")
                .args(["-O2", "-std=c++17", "-o"])
                .arg(dir.join("sim"))
                .arg(src.join("systemc_families.cpp"))
                .arg("-lsystemc"))?,
            Peer::Verilator => run(Command::new("verilator")
                .args([
                    "--cc",
                    "--exe",
                    "--build",
                    "-O3",
                    "-Wno-fatal",
                    "-Wno-lint",
                    "-Wno-style",
                ])
                .args([
                    "--prefix",
                    "Vfamily",
                    "--top-module",
                    family,
                    "--unroll-count",
                    "1000000",
                ])
                .arg(format!("-GK={k}"))
                .args(["-CFLAGS", "-O2", "-j", "2", "-o", "sim", "--Mdir"])
                .arg(dir)
                .arg(src.join("families.v"))
                .arg(src.join("verilator_main.cpp")))?,
        };
        built.build_time = start.elapsed();
        if self == Peer::Icarus {
            // vvp's own start-up (loading and elaborating the design), to subtract.
            let mut startups: Vec<Duration> = (0..3)
                .map(|_| built.run(0).map(|r| r.wall))
                .collect::<Result<_, _>>()?;
            startups.sort();
            built.startup = startups[1];
        }
        Ok(built)
    }
}

/// Run a command; its stderr is the error if it fails.
fn run(command: &mut Command) -> Result<String, String> {
    let out = command
        .env("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1")
        .output()
        .map_err(|e| format!("{command:?}: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
        return Err(format!(
            "{command:?} failed ({}):\n{}",
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A family built for one peer.
pub struct Built {
    pub peer: Peer,
    pub family: String,
    pub k: usize,
    dir: PathBuf,
    /// How long the build took (Verilator's C++ compile is most of it).
    pub build_time: Duration,
    /// Icarus's start-up, subtracted from its runs.
    startup: Duration,
}

/// One run of a built family.
pub struct PeerRun {
    /// The result net after the run's rising edges.
    pub result: u64,
    /// Seconds of simulation, start-up excluded.
    pub seconds: f64,
    /// Wall time of the whole process.
    pub wall: Duration,
}

impl Built {
    /// Clock the family for `cycles` rising edges.
    pub fn run(&self, cycles: u64) -> Result<PeerRun, String> {
        let start = Instant::now();
        let stdout = match self.peer {
            Peer::Icarus => run(Command::new("vvp")
                .arg("-n")
                .arg(self.dir.join("sim.vvp"))
                .arg(format!("+cycles={cycles}")))?,
            Peer::SystemC => run(Command::new(self.dir.join("sim"))
                .arg(&self.family)
                .arg(self.k.to_string())
                .arg(cycles.to_string()))?,
            Peer::Verilator => run(Command::new(self.dir.join("sim")).arg(cycles.to_string()))?,
        };
        let wall = start.elapsed();
        let field = |name: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
                .ok_or_else(|| format!("no `{name}` in the output of {:?}:\n{stdout}", self.peer))
        };
        let result = field("result ")? as u64;
        let seconds = match self.peer {
            Peer::Icarus => wall.saturating_sub(self.startup).as_secs_f64(),
            _ => field("seconds ")?,
        };
        Ok(PeerRun {
            result,
            seconds,
            wall,
        })
    }

    /// The cycles that take about `seconds` to simulate.
    pub fn cycles_for(&self, seconds: f64) -> Result<u64, String> {
        let mut cycles = 64u64;
        loop {
            let r = self.run(cycles)?;
            if r.seconds >= seconds / 4.0 || cycles >= 1 << 40 {
                return Ok(((cycles as f64 * seconds / r.seconds.max(1e-9)) as u64).max(1));
            }
            cycles *= 8;
        }
    }

    /// Simulated cycles/s in one run of `cycles`.
    pub fn speed(&self, cycles: u64) -> Result<f64, String> {
        Ok(cycles as f64 / self.run(cycles)?.seconds.max(1e-9))
    }
}

/// The family's circuit file and its load options for K components.
pub fn circuit(family: &str, k: usize) -> (PathBuf, LoadOptions) {
    let (_, param, _) = FAMILIES.iter().find(|f| f.0 == family).expect("a family");
    let value = if *param == "w" { k.isqrt() } else { k };
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("circuits/bench/{family}.ron"));
    let params = match *param {
        "" => Vec::new(),
        name => vec![(name.to_string(), ParamValue::Int(value as i128))],
    };
    let options = LoadOptions {
        params,
        ..LoadOptions::default()
    };
    (path, options)
}

/// cspsim's value of the family's result net after `edges` rising edges
/// (the value traced at cycle `edges`).
pub fn cspsim_result(family: &str, k: usize, edges: u64) -> u64 {
    let (path, options) = circuit(family, k);
    let (_, _, net) = FAMILIES.iter().find(|f| f.0 == family).expect("a family");
    let net = net.replace("{last}", &(k - 1).to_string());
    let circuit = netlist::load_file_with(&path, &Registry::standard(), &options)
        .unwrap_or_else(|e| panic!("{e}"));
    let vcd = SharedBuffer::default();
    let trace = Trace::vcd(&circuit, &[net], vcd.clone()).expect("trace");
    let options = RunOptions {
        cycles: Some(edges + 1),
        ..RunOptions::default()
    };
    engine::run(circuit, &options, Some(trace)).expect("runs");
    let bytes = vcd.0.lock().unwrap().clone();
    let waveform = Waveform::read(bytes.as_slice()).expect("a valid VCD");
    let signal = waveform.signals.values().next().expect("the traced net");
    let (_, last) = signal.changes.last().expect("a value");
    last.as_u64().expect("a 0/1 value")
}

/// A `Write` into a shared vector.
#[derive(Clone, Default)]
struct SharedBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A scratch directory for builds, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("cspsim-peers-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Scratch(dir)
    }
    /// Where `peer` builds `family` at size `k`: one directory for all of
    /// SystemC's, whose one program takes the family and size as arguments.
    pub fn dir(&self, peer: Peer, family: &str, k: usize) -> PathBuf {
        match peer {
            Peer::SystemC => self.0.join("SystemC"),
            _ => self.0.join(format!("{peer:?}-{family}-{k}")),
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
