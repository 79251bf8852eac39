//! The elaborated circuit: every component built, every input resolved to
//! its driver, the combinational schedule computed. Produced by the netlist
//! loader, consumed by an engine. A `Circuit` value has passed every check,
//! including the combinational-loop check, so it cannot deadlock.

use crate::model::{Interface, Model, Timing};

/// A port of a component: `component` indexes [`Circuit::components`],
/// `port` indexes that component's inputs or outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortRef {
    /// Component index.
    pub component: usize,
    /// Input or output index within the component.
    pub port: usize,
}

/// Where an input's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The output of a component (the net's driver).
    Driver(PortRef),
    /// Nothing drives this optional input; it reads this constant.
    Constant(u64),
}

/// One component of the circuit.
pub struct Component {
    /// Unique path name.
    pub path: String,
    /// The model's name.
    pub model: String,
    /// Ports.
    pub interface: Interface,
    /// Behaviour; engines take it out to run it.
    pub behaviour: Box<dyn Model>,
    /// For each input, where its value comes from.
    pub inputs: Vec<Source>,
    /// For each output, the inputs it drives.
    pub readers: Vec<Vec<PortRef>>,
    /// How it was built, kept when the circuit was loaded with
    /// [`LoadOptions::keep_specs`](crate::netlist::LoadOptions::keep_specs):
    /// what a child process needs to build it again.
    pub spec: Option<Box<BuildSpec>>,
}

/// What a component was built from: its model's parameters as elaboration
/// resolved them, the directory its files are relative to, and the seed.
#[derive(Clone, Debug, PartialEq)]
pub struct BuildSpec {
    /// The parameters, `${…}` templates resolved.
    pub params: Vec<(String, crate::params::ParamValue)>,
    /// The directory of the file that declares the component.
    pub dir: Option<std::path::PathBuf>,
    /// The run's seed.
    pub seed: u64,
}

impl Component {
    /// `path.port` for output `o`.
    pub fn output_name(&self, o: usize) -> String {
        format!("{}.{}", self.path, self.interface.outputs()[o].name)
    }

    /// `path.port` for input `i`.
    pub fn input_name(&self, i: usize) -> String {
        format!("{}.{}", self.path, self.interface.inputs()[i].name)
    }
}

/// Clock period and the trace's timescale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clock {
    /// Cycle length in timescale units.
    pub period: u64,
    /// Timescale magnitude: 1, 10 or 100.
    pub scale: u32,
    /// Timescale unit.
    pub unit: vcd::TimescaleUnit,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            period: 10,
            scale: 1,
            unit: vcd::TimescaleUnit::NS,
        }
    }
}

/// One declaration in the design hierarchy, as `check` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HierarchyNode {
    /// The declared name, with the array size: `pix[64]`.
    pub name: String,
    /// The model.
    pub model: String,
    /// The inner declarations of a composite (of its first element, for arrays).
    pub children: Vec<HierarchyNode>,
}

/// A loaded, checked circuit, ready to run.
pub struct Circuit {
    /// The circuit's name (the VCD's top scope).
    pub name: String,
    /// Clock and timescale.
    pub clock: Clock,
    /// Cycles to run unless told otherwise.
    pub cycles: u64,
    /// Trace selection: glob patterns over signal names (`alu.*`).
    pub trace: Vec<String>,
    /// The components: primitives only, with hierarchical paths
    /// (`col[3].pix[7]`); composite models are flattened away.
    pub components: Vec<Component>,
    /// The declarations, composite models expanded.
    pub hierarchy: Vec<HierarchyNode>,
    /// Components with combinational outputs, grouped by dependency level:
    /// everything in level `n` depends only on registered outputs and levels `< n`.
    pub levels: Vec<Vec<usize>>,
    /// Every file the circuit was built from: the circuit's own, its
    /// composite models', and those its models read (memory contents,
    /// stimulus). No output of a run may overwrite one.
    pub inputs: Vec<std::path::PathBuf>,
    /// The ports of composite instances, which elaboration flattened away,
    /// by the inner ports they stand for (what a
    /// [`Simulation`](crate::simulation::Simulation) pokes and peeks for them).
    pub composite_ports: Vec<CompositePort>,
}

/// A port of a composite instance: `col[3].ready` stands for the inner
/// output `col[3].fifo_state.y`, say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompositePort {
    /// `instance.port`.
    pub name: String,
    /// What it stands for.
    pub inner: InnerPorts,
}

/// The inner ports a composite port stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InnerPorts {
    /// An input port: the inner inputs it drives.
    Input(Vec<PortRef>),
    /// An output port: the inner output it shows.
    Output(PortRef),
}

impl Circuit {
    /// Each model used and how many components it has, most first (then
    /// by name).
    pub fn model_counts(&self) -> Vec<(&str, usize)> {
        let mut by_model: std::collections::BTreeMap<&str, usize> = Default::default();
        for comp in &self.components {
            *by_model.entry(comp.model.as_str()).or_default() += 1;
        }
        let mut models: Vec<(&str, usize)> = by_model.into_iter().collect();
        models.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        models
    }

    /// The number of nets with at least one reader.
    pub fn connected_nets(&self) -> usize {
        self.components
            .iter()
            .flat_map(|c| c.readers.iter())
            .filter(|r| !r.is_empty())
            .count()
    }

    /// The total number of outputs (every output is a potential net).
    pub fn outputs(&self) -> usize {
        self.components
            .iter()
            .map(|c| c.interface.outputs().len())
            .sum()
    }

    /// The total number of ports.
    pub fn ports(&self) -> usize {
        self.components
            .iter()
            .map(|c| c.interface.inputs().len() + c.interface.outputs().len())
            .sum()
    }

    /// The longest chain of combinational components.
    pub fn depth(&self) -> usize {
        self.levels.len()
    }

    /// Whether output `o` of component `c` is registered.
    pub fn is_registered(&self, c: usize, o: usize) -> bool {
        self.components[c].interface.outputs()[o].timing == Timing::Registered
    }
}
