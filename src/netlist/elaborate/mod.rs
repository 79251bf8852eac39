//! Elaboration: a circuit body and the composite models it uses become one
//! flat list of primitive components with resolved connections.
//!
//! Each scope (the circuit, or one composite instance) builds its
//! components — arrays element by element, composites recursively under the
//! instance's path — then resolves its nets. A composite instance is seen
//! from outside only through its ports: an input port stands for the inner
//! inputs it drives, an output port for the inner output that drives it. So
//! after elaboration no composite remains, only primitives and wires, and
//! the engines never know hierarchy existed; it lives on in the paths
//! (`col[3].pix[7]`), which the tracer nests into VCD scopes.
//!
//! This module holds the elaborator's state and the scope walk; the jobs
//! are in its children: [`declare`] builds declarations (arrays, primitives,
//! the size budget), [`composite`] instantiates composite models and maps
//! their ports, [`nets`] resolves nets and connects them, and [`resolve`]
//! turns a written endpoint into the ports it names.

mod composite;
mod declare;
mod nets;
mod resolve;

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::diagnostic::{line_col, Diagnostic, SourceText};
use super::library::{Library, Located};
use super::schema::ComponentDecl;
use super::values::Env;
use crate::circuit::{Component, HierarchyNode, PortRef};
use crate::registry::Registry;

/// The largest array a circuit may declare.
pub const MAX_COUNT: i128 = 1 << 24;

/// The deepest composite models may nest (elaboration recurses once per level).
pub const MAX_COMPOSITE_DEPTH: usize = 64;

/// A composite instance on the way down, for notes in diagnostics.
#[derive(Clone, Debug)]
struct Frame {
    path: String,
    model: String,
    file: usize,
    span: Option<Range<usize>>,
}

/// Where a primitive component was declared.
#[derive(Clone, Debug)]
pub struct Origin {
    /// File index.
    pub file: usize,
    /// The declaration's name in that file.
    pub span: Option<Range<usize>>,
    context: Rc<[Frame]>,
}

/// Where the text being elaborated lives.
pub struct Body<'f> {
    /// File index.
    pub file: usize,
    /// Its directory.
    pub dir: Option<&'f Path>,
    /// Component declarations.
    pub components: &'f [(String, ComponentDecl)],
    /// Nets.
    pub nets: &'f [(String, Vec<String>)],
    /// Where they are written.
    pub located: &'f Located,
}

/// A composite instance's ports, seen from outside.
struct Ports {
    path: String,
    model: String,
    inputs: Vec<InPort>,
    outputs: Vec<(String, PortRef)>,
    by_name: HashMap<String, PortIx>,
}

struct InPort {
    name: String,
    targets: Vec<PortRef>,
    connected: bool,
}

#[derive(Clone, Copy)]
enum PortIx {
    In(usize),
    Out(usize),
}

enum Instance {
    Primitive(usize),
    Composite(Box<Ports>),
}

/// A declared name in a scope: one instance or an array of them.
struct Entity {
    model: String,
    span: Option<Range<usize>>,
    array: bool,
    /// Empty when the declaration had an error (already reported).
    elements: Vec<Instance>,
}

#[derive(Default)]
struct Locals {
    entities: Vec<Entity>,
    by_name: HashMap<String, usize>,
    /// Names whose declaration failed: nets naming them are not checked.
    broken: HashSet<String>,
}

/// A resolved endpoint element.
enum Port {
    Output(PortRef),
    /// Inner inputs; `mark` is the composite port to mark connected.
    Input(Vec<PortRef>, Option<(usize, usize, usize)>),
}

/// The elaborator's state: everything built so far and every problem found.
pub struct Elaborator<'a> {
    registry: &'a Registry,
    seed: u64,
    library: Library,
    /// Files diagnostics point into (the circuit first).
    pub files: Vec<SourceText>,
    /// The flat component list.
    pub components: Vec<Component>,
    /// Where each component was declared.
    pub origins: Vec<Origin>,
    /// Problems found.
    pub diagnostics: Vec<Diagnostic>,
    /// Where each connected input is named.
    pub input_spans: HashMap<PortRef, (usize, Range<usize>)>,
    /// Inputs whose connection was attempted or whose absence is reported:
    /// no second "not connected" report for them.
    pub mentioned: HashSet<PortRef>,
    context: Rc<[Frame]>,
    active: Vec<String>,
    /// How large the circuit may grow.
    pub budget: super::budget::Budget,
    /// The files models read.
    pub reads: crate::model::FilesRead,
    /// The ports of every composite instance, by the inner ports they stand for.
    pub composite_ports: Vec<crate::circuit::CompositePort>,
    /// Leave required inputs that nothing drives open at 0, unreported
    /// ([`LoadOptions::open_inputs`](crate::netlist::LoadOptions::open_inputs)).
    pub open_inputs: bool,
    /// Keep each component's [`BuildSpec`](crate::circuit::BuildSpec).
    pub keep_specs: bool,
}

impl<'a> Elaborator<'a> {
    /// An elaborator for the circuit in `files[0]`.
    pub fn new(
        registry: &'a Registry,
        seed: u64,
        model_dirs: Vec<PathBuf>,
        circuit: SourceText,
    ) -> Self {
        Elaborator {
            registry,
            seed,
            library: Library::new(model_dirs),
            files: vec![circuit],
            components: Vec::new(),
            origins: Vec::new(),
            diagnostics: Vec::new(),
            input_spans: HashMap::new(),
            mentioned: HashSet::new(),
            context: Rc::from(Vec::new()),
            active: Vec::new(),
            budget: super::budget::Budget::for_this_machine(None),
            reads: crate::model::FilesRead::default(),
            composite_ports: Vec::new(),
            open_inputs: false,
            keep_specs: false,
        }
    }

    /// Report a problem, with the instance path that led to it.
    pub fn report(&mut self, d: Diagnostic) {
        let d = self.with_context(d, &self.context.clone());
        self.diagnostics.push(d);
    }

    fn with_context(&self, mut d: Diagnostic, context: &[Frame]) -> Diagnostic {
        for frame in context.iter().rev() {
            let at = match &frame.span {
                Some(s) => {
                    let file = &self.files[frame.file];
                    let (line, col) = line_col(&file.text, s.start);
                    format!("{}:{line}:{col}", file.name)
                }
                None => self.files[frame.file].name.clone(),
            };
            d = d.note(format!(
                "in `{}` (composite model `{}`), declared at {at}",
                frame.path, frame.model
            ));
        }
        d
    }

    /// Report a problem about a component, in the context it was declared in.
    pub fn report_at_origin(&mut self, component: usize, d: Diagnostic) {
        let origin = self.origins[component].clone();
        let d = d.in_file(origin.file).at(origin.span.clone());
        let d = self.with_context(d, &origin.context);
        self.diagnostics.push(d);
    }

    /// Elaborate `body` under `prefix` with parameters `env`.
    pub fn circuit(&mut self, body: &Body, env: &Env) -> Vec<HierarchyNode> {
        let mut tree = Vec::new();
        self.scope(body, "", env, Some(&mut tree));
        tree
    }

    fn scope(
        &mut self,
        body: &Body,
        prefix: &str,
        env: &Env,
        mut tree: Option<&mut Vec<HierarchyNode>>,
    ) -> Locals {
        let mut locals = Locals::default();
        for (k, (name, decl)) in body.components.iter().enumerate() {
            let span = body.located.components.get(k).cloned().flatten();
            let (entity, node) = self.declare(
                body,
                prefix,
                env,
                name,
                decl,
                span,
                &mut locals,
                tree.is_some(),
            );
            if let (Some(tree), Some(node)) = (tree.as_deref_mut(), node) {
                tree.push(node);
            }
            if let Some(entity) = entity {
                locals.by_name.insert(name.clone(), locals.entities.len());
                locals.entities.push(entity);
            } else {
                locals.broken.insert(name.clone());
            }
        }
        for (n, (driver, readers)) in body.nets.iter().enumerate() {
            let spans = body.located.nets.get(n).cloned().unwrap_or_default();
            self.net(body.file, &mut locals, env, driver, readers, &spans);
        }
        self.unconnected_ports(body.file, &locals);
        locals
    }
}

/// The part `inner` (a range within the string's text) of the string
/// literal written at `quoted` (quotes included); never empty.
fn inside(quoted: &Option<Range<usize>>, inner: &Range<usize>) -> Option<Range<usize>> {
    let text_start = quoted.as_ref()?.start + 1;
    Some(text_start + inner.start..text_start + inner.end.max(inner.start + 1))
}
