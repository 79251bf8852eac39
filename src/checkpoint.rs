//! Checkpoints: the complete state of a run at the start of a cycle, saved
//! to a file and restored later, so that a long run can be resumed.
//!
//! A run restored from the checkpoint of cycle `C` computes exactly what the
//! uninterrupted run computes from cycle `C` on, on any worker count and
//! code generator (its trace is the tail of the full trace, from `C`).
//!
//! # The state
//! - **Registered outputs.** Every registered output's value at the start
//!   of cycle `C` (combinational outputs are recomputed from them).
//! - **Each model's state.** What [`Model::save`](crate::Model::save)
//!   returns: everything besides its registered outputs that its next
//!   cycles depend on (a memory's words, a FIFO's queue, a random
//!   generator's position). A model that cannot save its state makes a
//!   checkpoint an error that names it, never a silent skip.
//!
//! # The file (format version 1)
//! A RON document:
//! ```text
//! (
//!     format: "cspsim-checkpoint",
//!     version: 1,
//!     circuit: "counters",            // the circuit's name
//!     fingerprint: "9f0c…",           // components, ports and wiring
//!     cycle: 1000,                    // the next cycle to run
//!     components: [
//!         (path: "c", model: "counter", registered: [232], state: "()"),
//!         …
//!     ],
//! )
//! ```
//! One entry per component, in the circuit's order. `registered` holds its
//! registered outputs in port order (a real as its IEEE bits); `state` is
//! the model's own state as RON text. A file of another format version,
//! another circuit, or cut short is refused with a message saying what
//! does not match; nothing is restored from it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::circuit::{Circuit, Source};

/// The format version this build writes and reads.
pub const VERSION: u32 = 1;

/// The `format` field of every checkpoint file.
const FORMAT: &str = "cspsim-checkpoint";

/// A model's own state, as [`Model::save`](crate::Model::save) returns it:
/// any serde value, kept as RON text.
///
/// ```
/// use cspsim::checkpoint::ModelState;
/// let state = ModelState::of(&(3u64, vec![1u64, 2])).unwrap();
/// assert_eq!(state.read::<(u64, Vec<u64>)>().unwrap(), (3, vec![1, 2]));
/// assert!(state.read::<u64>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ModelState(String);

impl ModelState {
    /// The state `value`. `None` only if it does not serialise (a map with
    /// non-string keys, say), which is the model author's mistake.
    pub fn of<T: Serialize>(value: &T) -> Option<ModelState> {
        ron::to_string(value).ok().map(ModelState)
    }

    /// The state of a model with none besides its registered outputs.
    pub fn none() -> Option<ModelState> {
        Some(ModelState("()".into()))
    }

    /// The state as the value it was made from.
    pub fn read<T: DeserializeOwned>(&self) -> Result<T, String> {
        ron::from_str(&self.0).map_err(|e| format!("`{}`: {e}", shorten(&self.0)))
    }

    /// The RON text.
    pub fn text(&self) -> &str {
        &self.0
    }

    /// The state whose RON text is `text` (as another process sent it).
    pub(crate) fn from_text(text: String) -> ModelState {
        ModelState(text)
    }
}

/// The first characters of `s`, for a message.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// One component's part of a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentState {
    /// Its path.
    pub path: String,
    /// Its model.
    pub model: String,
    /// Its registered outputs' values, in port order.
    pub registered: Vec<u64>,
    /// Its model's own state.
    pub state: ModelState,
}

/// The state of a whole circuit at the start of a cycle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Always `cspsim-checkpoint`.
    pub format: String,
    /// The format version ([`VERSION`]).
    pub version: u32,
    /// The circuit's name.
    pub circuit: String,
    /// What identifies the circuit: its components, ports and wiring.
    pub fingerprint: String,
    /// The next cycle to run.
    pub cycle: u64,
    /// Every component, in the circuit's order.
    pub components: Vec<ComponentState>,
}

/// Why a checkpoint could not be made, read or restored.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A model cannot save its state.
    #[error("component `{path}` (model `{model}`) cannot be checkpointed: its model does not save its state (a Rust model implements `Model::save` and `Model::restore` for it)")]
    Unsupported {
        /// The component.
        path: String,
        /// Its model.
        model: String,
    },
    /// The engine or options cannot checkpoint.
    #[error("{0}")]
    Engine(String),
    /// The file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not a checkpoint this build reads, or not of this circuit.
    #[error("{path}: {why}")]
    Invalid {
        /// The file (empty for one in memory).
        path: PathBuf,
        /// What does not match.
        why: String,
    },
}

/// Which cycles a run saves a checkpoint at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    /// Every this many cycles (counted from cycle 0).
    pub every: Option<u64>,
    /// At these cycles.
    pub at: Vec<u64>,
}

impl Schedule {
    /// Whether a checkpoint is due at the start of cycle `cycle` (never at 0).
    pub fn due(&self, cycle: u64) -> bool {
        cycle > 0
            && (self.every.is_some_and(|n| n > 0 && cycle.is_multiple_of(n))
                || self.at.contains(&cycle))
    }

    /// The first cycle after `cycle` at which one is due, if any.
    pub fn next_after(&self, cycle: u64) -> Option<u64> {
        let every = self
            .every
            .filter(|&n| n > 0)
            .and_then(|n| (cycle / n).checked_add(1)?.checked_mul(n));
        let at = self.at.iter().copied().filter(|&c| c > cycle).min();
        match (every, at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.every.is_none() && self.at.is_empty()
    }
}

/// A checkpoint's file in `dir`: `<circuit>-<cycle>.ckpt.ron`, the cycle
/// padded so that the files sort in order.
pub fn file_name(dir: &Path, circuit: &str, cycle: u64) -> PathBuf {
    dir.join(format!("{circuit}-{cycle:012}.ckpt.ron"))
}

/// What identifies `circuit` for its checkpoints: every component's path,
/// model and ports, and where every input comes from (FNV-1a, hex).
pub fn fingerprint(circuit: &Circuit) -> String {
    let mut h = Fnv::default();
    for comp in &circuit.components {
        h.str(&comp.path);
        h.str(&comp.model);
        for p in comp.interface.inputs() {
            h.str(&p.name);
            h.str(&format!("{:?}", p.ty));
        }
        for p in comp.interface.outputs() {
            h.str(&p.name);
            h.str(&format!(
                "{:?}{}",
                p.ty,
                p.timing == crate::Timing::Registered
            ));
        }
        for src in &comp.inputs {
            match *src {
                Source::Driver(d) => h.str(&format!("d{}.{}", d.component, d.port)),
                Source::Constant(v) => h.str(&format!("c{v}")),
            }
        }
    }
    format!("{:016x}", h.0)
}

#[derive(Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn str(&mut self, s: &str) {
        for b in s.bytes().chain([0xff]) {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl Checkpoint {
    /// A checkpoint of the circuit called `circuit` with `fingerprint`
    /// at `cycle`, with no components yet.
    pub fn header(circuit: &str, fingerprint: &str, cycle: u64) -> Self {
        Checkpoint {
            format: FORMAT.into(),
            version: VERSION,
            circuit: circuit.into(),
            fingerprint: fingerprint.into(),
            cycle,
            components: Vec::new(),
        }
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        let config = ron::ser::PrettyConfig::new()
            .depth_limit(2)
            .struct_names(false);
        let mut text = ron::ser::to_string_pretty(self, config)
            .expect("a checkpoint is plain data and serialises");
        text.push('\n');
        text
    }

    /// Write it to `path`, through a temporary file renamed into place (a
    /// run stopped while writing leaves the previous file whole).
    pub fn write(&self, path: &Path) -> Result<(), CheckpointError> {
        let io = |error| CheckpointError::Io {
            path: path.to_path_buf(),
            error,
        };
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        std::fs::write(&partial, self.to_text()).map_err(io)?;
        std::fs::rename(&partial, path).map_err(io)
    }

    /// Read the checkpoint at `path`.
    pub fn read(path: &Path) -> Result<Self, CheckpointError> {
        let text = std::fs::read_to_string(path).map_err(|error| CheckpointError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        Self::parse(&text).map_err(|why| CheckpointError::Invalid {
            path: path.to_path_buf(),
            why,
        })
    }

    /// A checkpoint from its text; why it is not one this build reads.
    pub fn parse(text: &str) -> Result<Self, String> {
        // The header first, so that another version is named as such
        // rather than as whatever field it changed.
        #[derive(Deserialize)]
        struct Header {
            /// Empty where absent (RON spells an `Option` as `Some(…)`).
            #[serde(default)]
            format: String,
            /// 0 where absent.
            #[serde(default)]
            version: u32,
        }
        let header = |h: &Header| {
            if !h.format.is_empty() && h.format != FORMAT {
                return Err("this is not a cspsim checkpoint".to_string());
            }
            match Some(h.version).filter(|&v| v != 0 && v != VERSION) {
                Some(v) => Err(format!(
                    "checkpoint format version {v}; this cspsim reads version {VERSION}"
                )),
                None => Ok(()),
            }
        };
        if let Ok(h) = ron::from_str::<Header>(text) {
            header(&h)?;
        }
        let checkpoint: Checkpoint = ron::from_str(text).map_err(|e| {
            format!(
                "not a readable checkpoint (cut short or corrupt?): {}:{}: {}",
                e.span.start.line, e.span.start.col, e.code
            )
        })?;
        if checkpoint.format != FORMAT || checkpoint.version != VERSION {
            return Err(format!(
                "a `{}` file of version {}; this cspsim reads `{FORMAT}` version {VERSION}",
                checkpoint.format, checkpoint.version
            ));
        }
        Ok(checkpoint)
    }

    /// Whether it is a checkpoint of `circuit`; what differs if not.
    pub fn check(&self, circuit: &Circuit) -> Result<(), String> {
        if self.components.len() != circuit.components.len() {
            return Err(format!(
                "it is of circuit `{}` with {} components; this is `{}` with {}",
                self.circuit,
                self.components.len(),
                circuit.name,
                circuit.components.len()
            ));
        }
        for (saved, comp) in self.components.iter().zip(&circuit.components) {
            if saved.path != comp.path || saved.model != comp.model {
                return Err(format!(
                    "it holds component `{}` (model `{}`) where this circuit has `{}` (model `{}`)",
                    saved.path, saved.model, comp.path, comp.model
                ));
            }
            let registered = comp
                .interface
                .outputs()
                .iter()
                .filter(|o| o.timing == crate::Timing::Registered)
                .count();
            if saved.registered.len() != registered {
                return Err(format!(
                    "component `{}` has {} registered outputs in it, {registered} in this circuit",
                    saved.path,
                    saved.registered.len()
                ));
            }
        }
        if self.fingerprint != fingerprint(circuit) {
            return Err(format!(
                "it is of another version of circuit `{}`: the same components, but other ports or wiring",
                self.circuit
            ));
        }
        Ok(())
    }
}

/// `message` about component `path` of `model`, for a restore that failed.
pub(crate) fn restore_failed(path: &str, model: &str, message: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "component `{path}` (model `{model}`) could not take its saved state: {message}"
    );
    s
}
