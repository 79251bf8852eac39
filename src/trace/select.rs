//! Trace selection: which signals a run records. Signals are named
//! `component.port` (inputs and outputs) plus `clock`; a pattern with `*`
//! and `?` wildcards selects the signals whose name matches it, and a
//! pattern matching a component's path selects all of that component's ports.

use wildmatch::WildMatch;

use crate::circuit::Component;

/// One selected port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    /// Input `i`.
    Input(usize),
    /// Output `o`.
    Output(usize),
}

/// The signals a trace records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Whether the `clock` signal is traced.
    pub clock: bool,
    /// Selected ports, by component, in port order (outputs first).
    pub ports: Vec<(usize, Port)>,
}

impl Selection {
    /// Whether nothing at all is selected.
    pub fn is_empty(&self) -> bool {
        !self.clock && self.ports.is_empty()
    }
}

/// The signals of `components` selected by `patterns`, and the patterns
/// (by index) that selected nothing.
pub fn select(components: &[Component], patterns: &[String]) -> (Selection, Vec<usize>) {
    let compiled: Vec<WildMatch> = patterns.iter().map(|p| WildMatch::new(p)).collect();
    let mut used = vec![false; patterns.len()];
    let mut matches = |name: &str, path: &str| {
        let mut any = false;
        for (k, p) in compiled.iter().enumerate() {
            if p.matches(name) || p.matches(path) {
                used[k] = true;
                any = true;
            }
        }
        any
    };
    let mut selection = Selection {
        clock: matches("clock", "clock"),
        ports: Vec::new(),
    };
    // `component.port`, built in one reused buffer (circuits have 10⁵ ports).
    let mut name = String::new();
    for (c, comp) in components.iter().enumerate() {
        let outputs = comp.interface.outputs().iter().map(|p| &p.name);
        let inputs = comp.interface.inputs().iter().map(|p| &p.name);
        let ports = outputs
            .enumerate()
            .map(|(o, n)| (Port::Output(o), n))
            .chain(inputs.enumerate().map(|(i, n)| (Port::Input(i), n)));
        for (port, port_name) in ports {
            name.clear();
            name.push_str(&comp.path);
            name.push('.');
            name.push_str(port_name);
            if matches(&name, &comp.path) {
                selection.ports.push((c, port));
            }
        }
    }
    let unused = (0..patterns.len()).filter(|&k| !used[k]).collect();
    (selection, unused)
}
