//! cspsim: hardware simulation built on communicating sequential processes.
pub mod circuit;
pub mod cli;
pub mod engine;
pub mod graph;
pub mod model;
pub mod netlist;
pub mod params;
pub mod primitives;
pub mod registry;
pub mod testbench;
pub mod trace;
pub mod value;

pub use circuit::Circuit;
pub use model::{BuildContext, Interface, Io, Model, ModelInfo, Timing};
pub use params::{ParamDecl, ParamError, ParamValue, Params};
pub use registry::Registry;
pub use testbench::Testbench;
pub use value::PortType;
