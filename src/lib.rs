//! cspsim: hardware simulation built on communicating sequential processes.
//!
//! Each hardware component is a process ([`Model`]); wires are channels; a
//! netlist loaded from RON ([`netlist`]) connects them; an [`engine`] runs
//! the cycles and a tracer writes VCD for GTKWave ([`trace`]).
//!
//! ```
//! use cspsim::engine::{self, RunOptions};
//! use cspsim::trace::Trace;
//! use cspsim::{netlist, Registry};
//!
//! let text = r#"Circuit(
//!     components: {
//!         "cnt": Component(model: "counter", params: {"width": 4}),
//!         "top": Component(model: "const", params: {"width": 4, "value": 5}),
//!         "hit": Component(model: "compare", params: {"width": 4, "op": "eq"}),
//!     },
//!     nets: { "cnt.q": ["hit.a"], "top.y": ["hit.b"], "hit.y": ["cnt.rst"] },
//! )"#;
//! let circuit = netlist::load_str(text, "inline.ron", Some("demo"), &Registry::standard(), 0)?;
//! assert_eq!(circuit.components.len(), 3);
//!
//! let trace = Trace::vcd(&circuit, &["cnt.q".to_string()], Vec::new())?;
//! let options = RunOptions { cycles: Some(12), ..RunOptions::default() };
//! let summary = engine::run(circuit, &options, Some(trace))?;
//! assert_eq!(summary.cycles, 12);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
pub mod batch;
pub mod checkpoint;
pub mod circuit;
pub mod cli;
pub mod dot;
pub mod engine;
pub mod expr;
pub mod graph;
mod io;
pub mod lower;
pub mod model;
pub mod netlist;
pub mod params;
pub mod primitives;
pub mod process;
pub mod registry;
pub mod simulation;
mod suggest;
pub mod sweep;
pub mod testbench;
pub mod trace;
pub mod value;

pub use circuit::Circuit;
pub use model::{BuildContext, Deps, Interface, Io, Model, ModelInfo, Timing};
pub use params::{ParamDecl, ParamError, ParamValue, Params};
pub use registry::Registry;
pub use testbench::{Testbench, TestbenchError};
pub use value::PortType;

#[cfg(test)]
pub(crate) mod test_support {
    /// A scratch directory of a unit test, removed when dropped.
    pub(crate) struct Scratch(pub std::path::PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A fresh scratch directory named `name` (and the process) in the
    /// system's temporary directory.
    pub(crate) fn scratch(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Scratch(dir)
    }

    /// Fails unless `result` is an error whose message contains `fragment`:
    /// a test that an input is refused says why it must be.
    pub(crate) fn assert_err_contains<T, E: std::fmt::Display>(
        result: Result<T, E>,
        fragment: &str,
    ) {
        match result {
            Ok(_) => panic!("accepted; wanted an error containing {fragment:?}"),
            Err(e) => assert!(
                e.to_string().contains(fragment),
                "wanted {fragment:?} in: {e}"
            ),
        }
    }
}
