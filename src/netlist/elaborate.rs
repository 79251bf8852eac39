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

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::diagnostic::{line_col, Diagnostic, ErrorKind, SourceText};
use super::endpoint::{self, Endpoint, Index, Part};
use super::library::{Composite, EntrySpans, Library, Located};
use super::locate::quoted_after;
use super::schema::ComponentDecl;
use super::values::{signed, Env, Template, INDEX};
use crate::circuit::{Component, HierarchyNode, PortRef, Source};
use crate::expr::parse::Node;
use crate::expr::{ExprError, Program, Scope};
use crate::model::BuildContext;
use crate::params::{ParamError, ParamValue};
use crate::registry::{closest, Registry};
use crate::value::PortType;

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

    /// Build one declaration (all elements of an array).
    #[allow(clippy::too_many_arguments)]
    fn declare(
        &mut self,
        body: &Body,
        prefix: &str,
        env: &Env,
        name: &str,
        decl: &ComponentDecl,
        span: Option<Range<usize>>,
        locals: &mut Locals,
        record: bool,
    ) -> (Option<Entity>, Option<HierarchyNode>) {
        let file = body.file;
        if !super::is_identifier(name) {
            self.report(
                Diagnostic::new(
                    ErrorKind::BadComponentName,
                    format!("`{name}` is not a valid component name"),
                )
                .in_file(file)
                .at(span)
                .hint("use letters, digits and `_`, starting with a letter or `_`"),
            );
            return (None, None);
        }
        if let Some(&first) = locals.by_name.get(name) {
            let first_line = locals.entities[first]
                .span
                .as_ref()
                .map(|s| format!(" (line {})", line_col(&self.files[file].text, s.start).0))
                .unwrap_or_default();
            self.report(
                Diagnostic::new(
                    ErrorKind::BadComponentName,
                    format!("component `{name}` is declared twice"),
                )
                .in_file(file)
                .at(span)
                .hint(format!(
                    "the first declaration{first_line} is kept; rename one of them"
                )),
            );
            return (None, None);
        }
        let text = &self.files[file].text;
        let model_span = span
            .as_ref()
            .and_then(|s| quoted_after(text, &decl.model, s.end))
            .or_else(|| span.clone());
        let count = match &decl.count {
            None => None,
            Some(c) => match self.count(c, env, file, &span) {
                Some(n) => Some(n),
                None => return (None, None),
            },
        };
        let kind = if self.registry.get(&decl.model).is_some() {
            None
        } else {
            match self.library.find(&decl.model, body.dir) {
                Some(path) => {
                    let loaded = self.library.load(
                        &decl.model,
                        &path,
                        &mut self.files,
                        &mut self.diagnostics,
                    );
                    match loaded {
                        Some(c) => Some(c),
                        None => return (None, None),
                    }
                }
                None => {
                    let hint = match self.registry.closest(&decl.model) {
                        Some(c) => format!("did you mean `{c}`? `cspsim models` lists every model"),
                        None => format!(
                            "`cspsim models` lists the primitive models; a composite model is a file `{}.ron` in `models/` or a directory given with --models",
                            decl.model
                        ),
                    };
                    self.report(
                        Diagnostic::new(
                            ErrorKind::UnknownModel,
                            format!(
                                "component `{}`: unknown model `{}`",
                                shown(prefix, name, count.is_some()),
                                decl.model
                            ),
                        )
                        .in_file(file)
                        .at(model_span)
                        .hint(hint),
                    );
                    return (None, None);
                }
            }
        };
        let indexed = count.is_some();
        let mut templates = Vec::with_capacity(decl.params.0.len());
        for (param, value) in &decl.params.0 {
            match Template::compile(value, env, indexed) {
                Ok(t) => templates.push((param.clone(), t)),
                Err(e) => {
                    let written = substituted(value);
                    let at = self.param_value_span(file, &span, param, written, &e.span);
                    let hint = e.hint.clone().unwrap_or_else(|| "parameter expressions are written ${expression} over the enclosing parameters and, in arrays, the index i".to_string());
                    self.report(
                        Diagnostic::new(
                            ErrorKind::BadParameter,
                            format!(
                                "component `{}`: parameter `{param}`: {}",
                                shown(prefix, name, indexed),
                                e.message
                            ),
                        )
                        .in_file(file)
                        .at(at)
                        .hint(hint),
                    );
                    return (None, None);
                }
            }
        }
        let n = count.unwrap_or(1);
        let mut elements = Vec::with_capacity(n);
        let mut node = record.then(|| HierarchyNode {
            name: match count {
                Some(n) => format!("{name}[{n}]"),
                None => name.to_string(),
            },
            model: decl.model.clone(),
            children: Vec::new(),
        });
        let plain: Option<Vec<(String, ParamValue)>> =
            templates.iter().all(|(_, t)| t.is_plain()).then(|| {
                templates
                    .iter()
                    .map(|(p, t)| (p.clone(), t.instantiate(0)))
                    .collect()
            });
        let separator = if prefix.is_empty() { "" } else { "." };
        // An array too large for the budget is refused before it is built:
        // from the least a component costs, or, for a composite, from what
        // its first element cost.
        let least = super::budget::Budget::cost(0).saturating_mul(n as u64);
        if kind.is_none() && !self.budget.fits(least, n) {
            self.too_large(file, &span, least, n);
            return (None, node);
        }
        let before = (self.budget.used, self.budget.count);
        let mut failed = false;
        for k in 0..n {
            if k == 1 {
                let rest = (n - 1) as u64;
                let bytes = (self.budget.used - before.0).saturating_mul(rest);
                let count = (self.budget.count - before.1).saturating_mul(n - 1);
                if !self.budget.fits(bytes, count) {
                    self.too_large(file, &span, bytes, count);
                    return (None, node);
                }
            }
            let path = match count {
                Some(_) => format!("{prefix}{separator}{name}[{k}]"),
                None => format!("{prefix}{separator}{name}"),
            };
            let params = match &plain {
                Some(p) => p.clone(),
                None => templates
                    .iter()
                    .map(|(p, t)| (p.clone(), t.instantiate(k as u64)))
                    .collect(),
            };
            let built = match &kind {
                None => self
                    .primitive(
                        file,
                        body.dir,
                        &path,
                        &decl.model,
                        &params,
                        &span,
                        &model_span,
                    )
                    .map(Instance::Primitive),
                Some(composite) => {
                    let children = if k == 0 {
                        node.as_mut().map(|n| &mut n.children)
                    } else {
                        None
                    };
                    self.composite(composite, &path, params, file, &span, children)
                        .map(|p| Instance::Composite(Box::new(p)))
                }
            };
            match built {
                Some(instance) => elements.push(instance),
                // The other elements are still built, so that a mistake in
                // every one is reported once with its count; the budget
                // stops a runaway.
                None if self.budget.exceeded => return (None, node),
                None => failed = true,
            }
        }
        if failed {
            return (None, node);
        }
        let entity = Entity {
            model: decl.model.clone(),
            span,
            array: count.is_some(),
            elements,
        };
        (Some(entity), node)
    }

    /// Report, once, that `bytes` more in `components` more components
    /// exceed the budget, at the declaration `span`; elaboration stops.
    fn too_large(
        &mut self,
        file: usize,
        span: &Option<Range<usize>>,
        bytes: u64,
        components: usize,
    ) {
        if self.budget.exceeded {
            return;
        }
        self.budget.exceeded = true;
        let (message, hint) = self.budget.refusal(bytes, components);
        self.report(
            Diagnostic::new(ErrorKind::TooLarge, message)
                .in_file(file)
                .at(span.clone())
                .hint(hint),
        );
    }

    /// Where, inside the file, a parameter's value (or the part of it `inner` covers) is.
    fn param_value_span(
        &self,
        file: usize,
        decl: &Option<Range<usize>>,
        param: &str,
        written: Option<&str>,
        inner: &Range<usize>,
    ) -> Option<Range<usize>> {
        let text = &self.files[file].text;
        let param_span = decl.as_ref().and_then(|s| quoted_after(text, param, s.end));
        let located = written.and_then(|v| {
            param_span
                .as_ref()
                .and_then(|p| quoted_after(text, v, p.end))
                .and_then(|v| inside(&Some(v), inner))
        });
        located.or(param_span).or_else(|| decl.clone())
    }

    /// Evaluate an array size.
    fn count(
        &mut self,
        value: &ParamValue,
        env: &Env,
        file: usize,
        span: &Option<Range<usize>>,
    ) -> Option<usize> {
        let text = &self.files[file].text;
        let field = span.as_ref().and_then(|s| {
            super::locate::find_field(&text[s.end..], "count").map(|k| s.end + k..s.end + k + 5)
        });
        let result = match value {
            ParamValue::Int(n) => Ok(*n),
            ParamValue::Str(s) => {
                let inner = s
                    .trim()
                    .strip_prefix("${")
                    .and_then(|t| t.strip_suffix('}'))
                    .unwrap_or(s);
                let offset = s.find(inner).unwrap_or(0);
                env.integer(inner).map_err(|e| {
                    let at = field
                        .as_ref()
                        .and_then(|f| quoted_after(text, s, f.end))
                        .and_then(|q| {
                            inside(&Some(q), &(e.span.start + offset..e.span.end + offset))
                        });
                    (e.message, e.hint, at)
                })
            }
            other => Err((format!("is {}", other.kind_name()), None, None)),
        };
        match result {
            Ok(n) if (1..=MAX_COUNT).contains(&n) => Some(n as usize),
            Ok(n) => {
                self.report(
                    Diagnostic::new(
                        ErrorKind::BadIndex,
                        format!("array size {n} is out of range"),
                    )
                    .in_file(file)
                    .at(field.or_else(|| span.clone()))
                    .hint(format!("`count` is between 1 and {MAX_COUNT}")),
                );
                None
            }
            Err((message, hint, at)) => {
                self.report(
                    Diagnostic::new(ErrorKind::BadIndex, format!("`count`: {message}"))
                        .in_file(file)
                        .at(at.or(field).or_else(|| span.clone()))
                        .hint(hint.unwrap_or_else(|| "`count` is an integer or an expression over the parameters, e.g. count: \"rows * 2\"".to_string())),
                );
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn primitive(
        &mut self,
        file: usize,
        dir: Option<&Path>,
        path: &str,
        model: &str,
        params: &[(String, ParamValue)],
        span: &Option<Range<usize>>,
        model_span: &Option<Range<usize>>,
    ) -> Option<usize> {
        if self.budget.exceeded {
            return None;
        }
        let info = self.registry.get(model)?;
        let ctx = BuildContext {
            path: path.to_string(),
            seed: self.seed,
            dir: dir.map(Path::to_path_buf),
            reads: self.reads.clone(),
        };
        let (interface, behaviour) = match info.build(params, &ctx) {
            Ok(b) => b,
            Err(e) => {
                let d = self.param_error(file, path, info.name, &e, span);
                self.report(d);
                return None;
            }
        };
        if let Some(problem) = interface.problem() {
            self.report(
                Diagnostic::new(
                    ErrorKind::BadModel,
                    format!(
                        "model `{}` declares its ports wrongly: {problem}",
                        info.name
                    ),
                )
                .in_file(file)
                .at(model_span.clone())
                .hint("this is a bug in the model, not in the circuit"),
            );
            return None;
        }
        let n_out = interface.outputs().len();
        let n_in = interface.inputs().len();
        if !self
            .budget
            .fits(super::budget::Budget::cost(n_in + n_out), 1)
        {
            self.too_large(file, span, super::budget::Budget::cost(n_in + n_out), 1);
            return None;
        }
        self.budget.take(n_in + n_out);
        self.components.push(Component {
            path: path.to_string(),
            model: info.name.to_string(),
            interface,
            behaviour,
            inputs: vec![Source::Constant(u64::MAX); n_in],
            readers: vec![Vec::new(); n_out],
        });
        self.origins.push(Origin {
            file,
            span: span.clone(),
            context: Rc::clone(&self.context),
        });
        Some(self.components.len() - 1)
    }

    fn param_error(
        &self,
        file: usize,
        path: &str,
        model: &str,
        e: &ParamError,
        span: &Option<Range<usize>>,
    ) -> Diagnostic {
        let text = &self.files[file].text;
        let param_span = span
            .as_ref()
            .and_then(|s| quoted_after(text, e.param_name(), s.end));
        let at = match e {
            ParamError::Missing { .. } => span.clone(),
            ParamError::InValue {
                name,
                value,
                span: inner,
                ..
            } => self.param_value_span(file, span, name, Some(value), inner),
            _ => param_span.or_else(|| span.clone()),
        };
        let hint = match e {
            ParamError::Unknown { name: p, known } => {
                unknown_param_hint(p, known.iter().copied(), model, true)
            }
            ParamError::InValue {
                hint: Some(hint), ..
            } => hint.clone(),
            _ => format!("`cspsim describe {model}` documents its parameters"),
        };
        Diagnostic::new(
            ErrorKind::BadParameter,
            format!("component `{path}` ({model}): {e}"),
        )
        .in_file(file)
        .at(at)
        .hint(hint)
    }

    /// Instantiate a composite model at `path`.
    fn composite(
        &mut self,
        composite: &Rc<Composite>,
        path: &str,
        given: Vec<(String, ParamValue)>,
        file: usize,
        span: &Option<Range<usize>>,
        tree: Option<&mut Vec<HierarchyNode>>,
    ) -> Option<Ports> {
        let def = &composite.def;
        if self.active.contains(&composite.name) {
            let chain = [
                self.active.as_slice(),
                std::slice::from_ref(&composite.name),
            ]
            .concat()
            .join(" → ");
            self.report(
                Diagnostic::new(
                    ErrorKind::BadCompositeModel,
                    format!(
                        "composite model `{}` contains itself: {chain}",
                        composite.name
                    ),
                )
                .in_file(file)
                .at(span.clone())
                .hint("a composite model cannot instantiate itself, directly or through others"),
            );
            return None;
        }
        if def.components.0.is_empty() {
            let text = &self.files[composite.file].text;
            let at =
                super::locate::find_field(text, "components").map(|k| k..k + "components".len());
            self.report(
                Diagnostic::new(
                    ErrorKind::BadCompositeModel,
                    format!("composite model `{}` has no components", composite.name),
                )
                .in_file(composite.file)
                .at(at)
                .hint("a composite model is built of components: `components: { \"name\": Component(model: \"counter\") }`"),
            );
            return None;
        }
        if self.active.len() >= MAX_COMPOSITE_DEPTH {
            self.report(
                Diagnostic::new(
                    ErrorKind::BadCompositeModel,
                    format!(
                        "composite models nest more than {MAX_COMPOSITE_DEPTH} deep here (`{}` inside {})",
                        composite.name,
                        self.active.last().map_or("", String::as_str)
                    ),
                )
                .in_file(file)
                .at(span.clone())
                .hint("flatten the hierarchy: a composite may use another, but not in a chain this long"),
            );
            return None;
        }
        let mut values: Vec<(String, ParamValue)> = def.params.0.clone();
        for (name, value) in given {
            let Some(slot) = values.iter_mut().find(|(n, _)| *n == name) else {
                let known = def.params.0.iter().map(|(n, _)| n.as_str());
                let hint = unknown_param_hint(&name, known, &composite.name, false);
                let at = span
                    .as_ref()
                    .and_then(|s| quoted_after(&self.files[file].text, &name, s.end));
                self.report(
                    Diagnostic::new(
                        ErrorKind::BadParameter,
                        format!(
                            "component `{path}` ({}): unknown parameter `{name}`",
                            composite.name
                        ),
                    )
                    .in_file(file)
                    .at(at.or_else(|| span.clone()))
                    .hint(hint),
                );
                return None;
            };
            match coerce(&slot.1, value) {
                Ok(v) => slot.1 = v,
                Err(message) => {
                    let at = span
                        .as_ref()
                        .and_then(|s| quoted_after(&self.files[file].text, &name, s.end));
                    self.report(
                        Diagnostic::new(
                            ErrorKind::BadParameter,
                            format!(
                                "component `{path}` ({}): parameter `{name}` {message}",
                                composite.name
                            ),
                        )
                        .in_file(file)
                        .at(at.or_else(|| span.clone()))
                        .hint(format!(
                            "its default in {} is {}",
                            self.files[composite.file].name, slot.1
                        )),
                    );
                    return None;
                }
            }
        }
        let env = Env::new(values);
        let outer = Rc::clone(&self.context);
        let mut frames = outer.to_vec();
        frames.push(Frame {
            path: path.to_string(),
            model: composite.name.clone(),
            file,
            span: span.clone(),
        });
        self.context = Rc::from(frames);
        self.active.push(composite.name.clone());
        let body = Body {
            file: composite.file,
            dir: composite.dir.as_deref(),
            components: &def.components.0,
            nets: &def.nets.0,
            located: &composite.located,
        };
        let mut locals = self.scope(&body, path, &env, tree);
        let ports = self.ports(composite, path, &env, &mut locals);
        self.active.pop();
        self.context = outer;
        ports
    }

    /// The ports of a composite instance whose inside is `locals`.
    fn ports(
        &mut self,
        composite: &Composite,
        path: &str,
        env: &Env,
        locals: &mut Locals,
    ) -> Option<Ports> {
        let def = &composite.def;
        let file = composite.file;
        let mut ports = Ports {
            path: path.to_string(),
            model: composite.name.clone(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            by_name: HashMap::new(),
        };
        let mut ok = true;
        for (k, (key, targets)) in def.inputs.0.iter().enumerate() {
            let spans = composite.located.inputs.get(k).cloned().unwrap_or_default();
            let Some(elements) = self.port_elements(file, key, &spans, env) else {
                ok = false;
                continue;
            };
            for (port_name, values, scope) in elements {
                let mut inner = Vec::new();
                let mut ty: Option<(PortType, String)> = None;
                for (t, text) in targets.iter().enumerate() {
                    let span = spans.values.get(t).cloned().flatten();
                    let Some(found) = self.endpoint(file, locals, text, &span, &scope, &values)
                    else {
                        ok = false;
                        continue;
                    };
                    for port in found {
                        match port {
                            Port::Input(refs, mark) => {
                                if let Some((e, el, p)) = mark {
                                    mark_connected(locals, e, el, p);
                                }
                                for r in refs {
                                    let t =
                                        self.components[r.component].interface.inputs()[r.port].ty;
                                    let name = self.components[r.component].input_name(r.port);
                                    match &ty {
                                        Some((first, first_name)) if *first != t => {
                                            self.report(
                                                Diagnostic::new(ErrorKind::TypeMismatch, format!("input port `{port_name}` of `{}` feeds `{first_name}` ({first}) and `{name}` ({t})", composite.name))
                                                    .in_file(file)
                                                    .at(span.clone())
                                                    .hint("every inner input a port drives has the port's type"),
                                            );
                                            ok = false;
                                        }
                                        Some(_) => {}
                                        None => ty = Some((t, name)),
                                    }
                                    self.mentioned.insert(r);
                                    inner.push(r);
                                }
                            }
                            Port::Output(o) => {
                                let name = self.components[o.component].output_name(o.port);
                                self.report(
                                    Diagnostic::new(ErrorKind::WrongDirection, format!("input port `{port_name}` maps to `{name}`, which is an output"))
                                        .in_file(file)
                                        .at(span.clone())
                                        .hint("an input port lists the inner inputs it drives; outputs go in `outputs`"),
                                );
                                ok = false;
                            }
                        }
                    }
                }
                ports
                    .by_name
                    .insert(port_name.clone(), PortIx::In(ports.inputs.len()));
                ports.inputs.push(InPort {
                    name: port_name,
                    targets: inner,
                    connected: false,
                });
            }
        }
        for (k, (key, target)) in def.outputs.0.iter().enumerate() {
            let spans = composite
                .located
                .outputs
                .get(k)
                .cloned()
                .unwrap_or_default();
            let Some(elements) = self.port_elements(file, key, &spans, env) else {
                ok = false;
                continue;
            };
            let span = spans.values.first().cloned().flatten();
            for (port_name, values, scope) in elements {
                let Some(found) = self.endpoint(file, locals, target, &span, &scope, &values)
                else {
                    ok = false;
                    continue;
                };
                match found.as_slice() {
                    [Port::Output(o)] => {
                        ports
                            .by_name
                            .insert(port_name.clone(), PortIx::Out(ports.outputs.len()));
                        ports.outputs.push((port_name, *o));
                    }
                    _ => {
                        self.report(
                            Diagnostic::new(ErrorKind::WrongDirection, format!("output port `{port_name}` of `{}` must name exactly one inner output", composite.name))
                                .in_file(file)
                                .at(span.clone())
                                .hint("write \"name\": \"inner.output\", with an index for arrays, e.g. \"hit[n]\": \"pix[i].hit\""),
                        );
                        ok = false;
                    }
                }
            }
        }
        if ports.by_name.len() != ports.inputs.len() + ports.outputs.len() {
            self.report(
                Diagnostic::new(
                    ErrorKind::BadCompositeModel,
                    format!(
                        "composite model `{}` declares a port name twice",
                        composite.name
                    ),
                )
                .in_file(file)
                .hint("every port name (and array element) is unique among inputs and outputs"),
            );
            ok = false;
        }
        ok.then_some(ports)
    }

    /// The elements of a composite port declaration `name` or `name[N]`:
    /// each element's name, its index value and the scope binding `i`.
    fn port_elements(
        &mut self,
        file: usize,
        key: &str,
        spans: &EntrySpans,
        env: &Env,
    ) -> Option<Vec<(String, Vec<u64>, Scope)>> {
        let at = |e: &ExprError| inside(&spans.key, &e.span);
        let part = match endpoint::parse_part(key) {
            Ok(p) => p,
            Err(e) => {
                self.report(
                    Diagnostic::new(
                        ErrorKind::BadCompositeModel,
                        format!("port `{key}`: {}", e.message),
                    )
                    .in_file(file)
                    .at(at(&e).or_else(|| spans.key.clone()))
                    .hint("a port is declared as \"name\" or, for an array, \"name[size]\""),
                );
                return None;
            }
        };
        let mut scope = env.scope().clone();
        scope.input(INDEX, 64);
        match &part.index {
            None => Some(vec![(part.name, vec![0], scope)]),
            Some(Index::One(size)) => {
                match Program::from_node(size, env.scope()).map(|p| p.constant()) {
                    Ok(Some(n)) if (1..=MAX_COUNT).contains(&signed(n)) => Some(
                        (0..n)
                            .map(|k| (format!("{}[{k}]", part.name), vec![k], scope.clone()))
                            .collect(),
                    ),
                    Ok(_) => {
                        self.report(
                            Diagnostic::new(
                                ErrorKind::BadIndex,
                                format!("port array `{key}` has a size out of range"),
                            )
                            .in_file(file)
                            .at(spans.key.clone())
                            .hint(format!("a port array has 1 to {MAX_COUNT} elements")),
                        );
                        None
                    }
                    Err(e) => {
                        self.report(
                            Diagnostic::new(
                                ErrorKind::BadIndex,
                                format!("port `{key}`: {}", e.message),
                            )
                            .in_file(file)
                            .at(at(&e).or_else(|| spans.key.clone()))
                            .hint(e.hint.unwrap_or_else(|| {
                                "the size is an expression over the model's parameters".into()
                            })),
                        );
                        None
                    }
                }
            }
            Some(_) => {
                self.report(
                    Diagnostic::new(
                        ErrorKind::BadIndex,
                        format!(
                            "port `{key}`: a port array is declared with its size, `{}[N]`",
                            part.name
                        ),
                    )
                    .in_file(file)
                    .at(spans.key.clone())
                    .hint("ranges and `*` are for nets"),
                );
                None
            }
        }
    }

    /// A composite child's required inputs that nothing in this scope drives.
    fn unconnected_ports(&mut self, file: usize, locals: &Locals) {
        for entity in &locals.entities {
            for element in &entity.elements {
                let Instance::Composite(ports) = element else {
                    continue;
                };
                for input in ports.inputs.iter().filter(|p| !p.connected) {
                    let required = input.targets.iter().any(|r| {
                        self.components[r.component].interface.inputs()[r.port]
                            .default
                            .is_none()
                    });
                    if !required {
                        continue;
                    }
                    for r in &input.targets {
                        self.mentioned.insert(*r);
                    }
                    self.report(
                        Diagnostic::new(
                            ErrorKind::UnconnectedInput,
                            format!(
                                "input `{}.{}` ({}) is not connected",
                                ports.path, input.name, ports.model
                            ),
                        )
                        .in_file(file)
                        .at(entity.span.clone())
                        .hint(format!(
                            "drive it from an output in `nets`, e.g. \"other.y\": [\"{}.{}\"]",
                            ports.path.rsplit('.').next().unwrap_or(&ports.path),
                            input.name
                        )),
                    );
                }
            }
        }
    }

    /// Resolve one net entry: every binding of the driver's indices, each
    /// driving every reader.
    fn net(
        &mut self,
        file: usize,
        locals: &mut Locals,
        env: &Env,
        driver_text: &str,
        readers: &[String],
        spans: &EntrySpans,
    ) {
        let at = |span: &Option<Range<usize>>, e: &ExprError| inside(span, &e.span);
        let bindings = match endpoint::parse(driver_text) {
            Ok(d) if locals.broken.contains(&d.component.name) => None,
            Ok(d) => self.bindings(file, locals, env, d, &spans.key),
            Err(e) => {
                self.report(
                    Diagnostic::new(ErrorKind::BadEndpoint, e.message.clone())
                        .in_file(file)
                        .at(at(&spans.key, &e).or_else(|| spans.key.clone()))
                        .hint(e.hint.unwrap_or_default()),
                );
                None
            }
        };
        let Some(bindings) = bindings else {
            // The driver is in error: its readers are not "unconnected" too.
            for text in readers {
                if let Ok(ep) = endpoint::parse(text) {
                    self.mention_all(locals, &ep);
                }
            }
            return;
        };
        let (names, driver, combos) = bindings;
        let mut scope = env.scope().clone();
        for name in &names {
            scope.input(name, 64);
        }
        let mut parsed_readers = Vec::with_capacity(readers.len());
        for (r, text) in readers.iter().enumerate() {
            let span = spans.values.get(r).cloned().flatten();
            match endpoint::parse(text) {
                Ok(ep) => parsed_readers.push((ep, text, span)),
                Err(e) => self.report(
                    Diagnostic::new(ErrorKind::BadEndpoint, e.message.clone())
                        .in_file(file)
                        .at(at(&span, &e).or(span))
                        .hint(e.hint.unwrap_or_default()),
                ),
            }
        }
        for values in &combos {
            let Some(found) = self.resolve(
                file,
                locals,
                &driver,
                driver_text,
                &spans.key,
                &scope,
                values,
            ) else {
                for (ep, ..) in &parsed_readers {
                    self.mention_all(locals, ep);
                }
                return;
            };
            let output = match found.as_slice() {
                [Port::Output(o)] => *o,
                [Port::Input(..)] => {
                    self.report(
                        Diagnostic::new(
                            ErrorKind::WrongDirection,
                            format!("`{driver_text}` is an input, so it cannot drive a net"),
                        )
                        .in_file(file)
                        .at(spans.key.clone())
                        .hint("a net is written \"driver.output\": [\"reader.input\", ...]"),
                    );
                    return;
                }
                _ => {
                    self.report(
                        Diagnostic::new(ErrorKind::BadIndex, format!("`{driver_text}` names several outputs"))
                            .in_file(file)
                            .at(spans.key.clone())
                            .hint("a range in the driver binds `i` (or the name you give): each element drives its own net"),
                    );
                    return;
                }
            };
            for (ep, text, span) in &parsed_readers {
                if locals.broken.contains(&ep.component.name) {
                    continue;
                }
                let Some(found) = self.resolve(file, locals, ep, text, span, &scope, values) else {
                    continue;
                };
                for port in found {
                    match port {
                        Port::Input(refs, mark) => {
                            if let Some((e, el, p)) = mark {
                                mark_connected(locals, e, el, p);
                            }
                            for r in refs {
                                self.connect(file, output, r, span.clone());
                            }
                        }
                        Port::Output(o) => {
                            let name = self.components[o.component].output_name(o.port);
                            self.report(
                                Diagnostic::new(ErrorKind::WrongDirection, format!("`{name}` is an output, so it cannot read a net"))
                                    .in_file(file)
                                    .at(span.clone())
                                    .hint(format!("only inputs can be listed after \"{driver_text}\"; every output drives its own net")),
                            );
                        }
                    }
                }
            }
        }
    }

    /// The index variables a driver binds, the driver with its bound indices
    /// replaced by those variables, and every combination of their values.
    #[allow(clippy::type_complexity)]
    fn bindings(
        &mut self,
        file: usize,
        locals: &Locals,
        env: &Env,
        mut driver: Endpoint,
        span: &Option<Range<usize>>,
    ) -> Option<(Vec<String>, Endpoint, Vec<Vec<u64>>)> {
        let mut names: Vec<String> = Vec::new();
        let mut ranges: Vec<Range<u64>> = Vec::new();
        let entity = match locals.by_name.get(&driver.component.name) {
            Some(&e) => e,
            None => {
                self.unknown_component(file, locals, &driver.component, span);
                return None;
            }
        };
        for part_no in 0..2 {
            let part = if part_no == 0 {
                &mut driver.component
            } else {
                &mut driver.port
            };
            let (name, range) = match part.index.take() {
                Some(Index::One(Node::Name(n, s))) if !env.contains(&n) && !names.contains(&n) => {
                    let len = if part_no == 0 {
                        locals.entities[entity].elements.len()
                    } else {
                        self.port_array_len(locals, Some(entity), &part.name)
                    };
                    part.index = Some(Index::One(Node::Name(n.clone(), s)));
                    (n, 0..len as u64)
                }
                Some(Index::All) => {
                    let len = if part_no == 0 {
                        locals.entities[entity].elements.len()
                    } else {
                        self.port_array_len(locals, Some(entity), &part.name)
                    };
                    let n = fresh(&names);
                    part.index = Some(Index::One(Node::Name(n.clone(), 0..0)));
                    (n, 0..len as u64)
                }
                Some(Index::Range(from, to)) => {
                    let eval = |node: &Node| {
                        Program::from_node(node, env.scope()).map(|p| p.eval(|_| 0, &[]))
                    };
                    let (a, b) = match (eval(&from), eval(&to)) {
                        (Ok(a), Ok(b)) => (a, b),
                        (Err(e), _) | (_, Err(e)) => {
                            self.report(
                                Diagnostic::new(
                                    ErrorKind::BadIndex,
                                    format!("range in `{}`: {}", part.describe(), e.message),
                                )
                                .in_file(file)
                                .at(span.clone())
                                .hint(e.hint.unwrap_or_else(|| {
                                    "a range is written [from..to], `to` excluded".into()
                                })),
                            );
                            return None;
                        }
                    };
                    // Checked as a reader's range is: forwards, and inside the array.
                    let len = if part_no == 0 {
                        locals.entities[entity].elements.len()
                    } else {
                        self.port_array_len(locals, Some(entity), &part.name)
                    } as u64;
                    let problem = if backwards(a, b) {
                        Some((
                            format!("the range {}..{} is backwards", signed(a), signed(b)),
                            "write [from..to] with from ≤ to; `to` is excluded".to_string(),
                        ))
                    } else if b > len {
                        Some((
                            format!("`{}[{}]` does not exist", part.name, signed(b - 1)),
                            format!(
                                "`{}` has {len} elements (0 to {})",
                                part.name,
                                len.saturating_sub(1)
                            ),
                        ))
                    } else {
                        None
                    };
                    if let Some((message, hint)) = problem {
                        self.report(
                            Diagnostic::new(
                                ErrorKind::BadIndex,
                                format!("range in `{}`: {message}", part.describe()),
                            )
                            .in_file(file)
                            .at(span.clone())
                            .hint(hint),
                        );
                        return None;
                    }
                    let n = fresh(&names);
                    part.index = Some(Index::One(Node::Name(n.clone(), 0..0)));
                    (n, a..b)
                }
                other => {
                    part.index = other;
                    continue;
                }
            };
            names.push(name);
            ranges.push(range);
        }
        let mut combos: Vec<Vec<u64>> = vec![Vec::new()];
        for range in &ranges {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    range.clone().map(move |v| {
                        let mut c = c.clone();
                        c.push(v);
                        c
                    })
                })
                .collect();
        }
        Some((names, driver, combos))
    }

    /// Mark every input `ep` could name as mentioned, without resolving its indices.
    fn mention_all(&mut self, locals: &Locals, ep: &Endpoint) {
        let Some(&e) = locals.by_name.get(&ep.component.name) else {
            return;
        };
        let base = &ep.port.name;
        let matches = |name: &str| match ep.port.index {
            None => name == base,
            Some(_) => name
                .strip_prefix(base.as_str())
                .is_some_and(|r| r.starts_with('[')),
        };
        for instance in &locals.entities[e].elements {
            match instance {
                Instance::Primitive(c) => {
                    for (i, p) in self.components[*c].interface.inputs().iter().enumerate() {
                        if matches(&p.name) {
                            self.mentioned.insert(PortRef {
                                component: *c,
                                port: i,
                            });
                        }
                    }
                }
                Instance::Composite(p) => {
                    for input in p.inputs.iter().filter(|i| matches(&i.name)) {
                        self.mentioned.extend(input.targets.iter().copied());
                    }
                }
            }
        }
    }

    /// The length of port array `base` on an entity's first element.
    fn port_array_len(&self, locals: &Locals, entity: Option<usize>, base: &str) -> usize {
        let Some(first) = entity.and_then(|e| locals.entities[e].elements.first()) else {
            return 0;
        };
        let has = |name: &str| match first {
            Instance::Primitive(c) => {
                let iface = &self.components[*c].interface;
                iface.input_index(name).is_some() || iface.output_index(name).is_some()
            }
            Instance::Composite(p) => p.by_name.contains_key(name),
        };
        // Elements 0..len exist: search for len in O(log len) lookups, as
        // this runs for every connection to the array.
        let has_element = |k: usize| has(&format!("{base}[{k}]"));
        if !has_element(0) {
            return 0;
        }
        let (mut present, mut absent) = (0, 1);
        while has_element(absent) {
            present = absent;
            absent *= 2;
        }
        while absent - present > 1 {
            let mid = present + (absent - present) / 2;
            if has_element(mid) {
                present = mid;
            } else {
                absent = mid;
            }
        }
        absent
    }

    fn unknown_component(
        &mut self,
        file: usize,
        locals: &Locals,
        part: &Part,
        span: &Option<Range<usize>>,
    ) {
        let hint = match closest(&part.name, locals.by_name.keys().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "declare it in `components`".to_string(),
        };
        let at = inside(span, &part.span);
        self.report(
            Diagnostic::new(
                ErrorKind::UnknownComponent,
                format!("unknown component `{}`", part.name),
            )
            .in_file(file)
            .at(at.or_else(|| span.clone()))
            .hint(hint),
        );
    }

    /// Parse and resolve an endpoint in a port map.
    fn endpoint(
        &mut self,
        file: usize,
        locals: &Locals,
        text: &str,
        span: &Option<Range<usize>>,
        scope: &Scope,
        values: &[u64],
    ) -> Option<Vec<Port>> {
        match endpoint::parse(text) {
            Ok(ep) => {
                if locals.broken.contains(&ep.component.name) {
                    return None;
                }
                self.resolve(file, locals, &ep, text, span, scope, values)
            }
            Err(e) => {
                let at = inside(span, &e.span);
                self.report(
                    Diagnostic::new(ErrorKind::BadEndpoint, e.message.clone())
                        .in_file(file)
                        .at(at.or_else(|| span.clone()))
                        .hint(e.hint.unwrap_or_default()),
                );
                None
            }
        }
    }

    /// The ports `ep` names, with the index variables in `scope` (inputs) at `values`.
    #[allow(clippy::too_many_arguments)]
    fn resolve(
        &mut self,
        file: usize,
        locals: &Locals,
        ep: &Endpoint,
        text: &str,
        span: &Option<Range<usize>>,
        scope: &Scope,
        values: &[u64],
    ) -> Option<Vec<Port>> {
        let Some(&e) = locals.by_name.get(&ep.component.name) else {
            self.unknown_component(file, locals, &ep.component, span);
            return None;
        };
        let entity = &locals.entities[e];
        let len = entity.elements.len() as u64;
        let located = |part: &Part| inside(span, &part.span);
        let elements: Vec<u64> = match self.indices(&ep.component, scope, values, len, entity.array)
        {
            Ok(list) => list,
            Err((message, hint)) => {
                self.report(
                    Diagnostic::new(
                        ErrorKind::BadIndex,
                        format!("`{}`: {message}", super::load::shorten(text)),
                    )
                    .in_file(file)
                    .at(located(&ep.component).or_else(|| span.clone()))
                    .hint(hint),
                );
                return None;
            }
        };
        let mut found = Vec::new();
        for el in elements {
            let instance = &entity.elements[el as usize];
            let port_names: Vec<String> = match &ep.port.index {
                None => vec![ep.port.name.clone()],
                Some(_) => {
                    let len = self.port_array_len(locals, Some(e), &ep.port.name) as u64;
                    match self.indices(&ep.port, scope, values, len, true) {
                        Ok(list) => list
                            .into_iter()
                            .map(|k| format!("{}[{k}]", ep.port.name))
                            .collect(),
                        Err((message, hint)) => {
                            let hint = if len == 0 {
                                format!(
                                    "`{}` ({}) has no port array `{}`",
                                    ep.component.name, entity.model, ep.port.name
                                )
                            } else {
                                hint
                            };
                            self.report(
                                Diagnostic::new(
                                    ErrorKind::BadIndex,
                                    format!("`{}`: {message}", super::load::shorten(text)),
                                )
                                .in_file(file)
                                .at(located(&ep.port).or_else(|| span.clone()))
                                .hint(hint),
                            );
                            return None;
                        }
                    }
                }
            };
            for port in port_names {
                match self.port(instance, &port, (e, el as usize)) {
                    Some(p) => found.push(p),
                    None => {
                        let path = self.instance_path(instance);
                        let listing = self.port_listing(instance, &port);
                        self.report(
                            Diagnostic::new(
                                ErrorKind::UnknownPort,
                                format!(
                                    "component `{path}` ({}) has no port `{port}`",
                                    entity.model
                                ),
                            )
                            .in_file(file)
                            .at(located(&ep.port).or_else(|| span.clone()))
                            .hint(listing),
                        );
                        return None;
                    }
                }
            }
        }
        Some(found)
    }

    /// The element numbers an index selects in an array of `len`.
    fn indices(
        &self,
        part: &Part,
        scope: &Scope,
        values: &[u64],
        len: u64,
        array: bool,
    ) -> Result<Vec<u64>, (String, String)> {
        let what = if array { "elements" } else { "element" };
        let eval = |node: &Node| {
            Program::from_node(node, scope)
                .map(|p| p.eval(|k| values[k], &[]))
                .map_err(|e| (e.message, e.hint.unwrap_or_default()))
        };
        let check = |k: u64| {
            if k < len {
                Ok(k)
            } else {
                Err((
                    format!("`{}[{}]` does not exist", part.name, signed(k)),
                    format!(
                        "`{}` has {len} {what} (0 to {})",
                        part.name,
                        len.saturating_sub(1)
                    ),
                ))
            }
        };
        match &part.index {
            None if array && len > 0 => Err((
                format!("`{}` is an array of {len}", part.name),
                format!(
                    "name one element or several: `{0}[0]`, `{0}[i]`, `{0}[*]`",
                    part.name
                ),
            )),
            None => Ok(vec![0]),
            Some(_) if !array => Err((
                format!("`{}` is not an array", part.name),
                "only components declared with `count` (and port arrays) take an index".to_string(),
            )),
            Some(Index::One(node)) => Ok(vec![check(eval(node)?)?]),
            Some(Index::All) => Ok((0..len).collect()),
            Some(Index::Range(from, to)) => {
                let (a, b) = (eval(from)?, eval(to)?);
                if backwards(a, b) {
                    return Err((
                        format!("the range {a}..{b} is backwards"),
                        "write [from..to] with from ≤ to; `to` is excluded".into(),
                    ));
                }
                if b > len {
                    check(b - 1)?;
                }
                Ok((a..b).collect())
            }
        }
    }

    fn instance_path(&self, instance: &Instance) -> String {
        match instance {
            Instance::Primitive(c) => self.components[*c].path.clone(),
            Instance::Composite(p) => p.path.clone(),
        }
    }

    /// "did you mean …? inputs: …; outputs: …" for a port that does not exist.
    fn port_listing(&self, instance: &Instance, port: &str) -> String {
        let (inputs, outputs): (Vec<String>, Vec<String>) = match instance {
            Instance::Primitive(c) => {
                let iface = &self.components[*c].interface;
                (
                    iface.inputs().iter().map(|p| p.name.clone()).collect(),
                    iface.outputs().iter().map(|p| p.name.clone()).collect(),
                )
            }
            Instance::Composite(p) => (
                p.inputs.iter().map(|i| i.name.clone()).collect(),
                p.outputs.iter().map(|o| o.0.clone()).collect(),
            ),
        };
        let guess = closest(port, inputs.iter().chain(&outputs).map(String::as_str))
            .map(|g| format!("did you mean `{g}`? "))
            .unwrap_or_default();
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                summarize(v)
            }
        };
        format!(
            "{guess}inputs: {}; outputs: {}",
            list(&inputs),
            list(&outputs)
        )
    }

    /// Port `name` of an instance (element `at` of entity `at.0`).
    fn port(&mut self, instance: &Instance, name: &str, at: (usize, usize)) -> Option<Port> {
        match instance {
            Instance::Primitive(c) => {
                let iface = &self.components[*c].interface;
                if let Some(o) = iface.output_index(name) {
                    return Some(Port::Output(PortRef {
                        component: *c,
                        port: o,
                    }));
                }
                let i = iface.input_index(name)?;
                let r = PortRef {
                    component: *c,
                    port: i,
                };
                self.mentioned.insert(r);
                Some(Port::Input(vec![r], None))
            }
            Instance::Composite(p) => match *p.by_name.get(name)? {
                PortIx::Out(o) => Some(Port::Output(p.outputs[o].1)),
                PortIx::In(i) => {
                    for r in &p.inputs[i].targets {
                        self.mentioned.insert(*r);
                    }
                    Some(Port::Input(
                        p.inputs[i].targets.clone(),
                        Some((at.0, at.1, i)),
                    ))
                }
            },
        }
    }

    /// Connect `driver` to `reader`, checking type and single driver.
    fn connect(
        &mut self,
        file: usize,
        driver: PortRef,
        reader: PortRef,
        span: Option<Range<usize>>,
    ) {
        let driver_name = self.components[driver.component].output_name(driver.port);
        let reader_name = self.components[reader.component].input_name(reader.port);
        let out_ty = self.components[driver.component].interface.outputs()[driver.port].ty;
        let in_ty = self.components[reader.component].interface.inputs()[reader.port].ty;
        if out_ty != in_ty {
            self.report(
                Diagnostic::new(
                    ErrorKind::TypeMismatch,
                    format!("`{driver_name}` is {out_ty} but `{reader_name}` is {in_ty}"),
                )
                .in_file(file)
                .at(span)
                .hint("widths and types must match; use `slice` or `concat` to change a width"),
            );
            return;
        }
        if let Source::Driver(existing) = self.components[reader.component].inputs[reader.port] {
            let other = self.components[existing.component].output_name(existing.port);
            let first_line = self
                .input_spans
                .get(&reader)
                .map(|(f, s)| {
                    let line = line_col(&self.files[*f].text, s.start).0;
                    if *f == file {
                        format!(" (line {line})")
                    } else {
                        format!(" ({} line {line})", self.files[*f].name)
                    }
                })
                .unwrap_or_default();
            let message = if existing == driver {
                format!("`{reader_name}` is connected twice to `{driver_name}`")
            } else {
                format!("`{reader_name}` has two drivers: `{other}` and `{driver_name}`")
            };
            self.report(
                Diagnostic::new(ErrorKind::MultipleDrivers, message)
                    .in_file(file)
                    .at(span)
                    .hint(format!("an input is driven by exactly one output; it is already connected to `{other}`{first_line}")),
            );
            return;
        }
        self.components[reader.component].inputs[reader.port] = Source::Driver(driver);
        self.components[driver.component].readers[driver.port].push(reader);
        if let Some(span) = span {
            self.input_spans.insert(reader, (file, span));
        }
    }
}

/// The part `inner` (a range within the string's text) of the string
/// literal written at `quoted` (quotes included); never empty.
fn inside(quoted: &Option<Range<usize>>, inner: &Range<usize>) -> Option<Range<usize>> {
    let text_start = quoted.as_ref()?.start + 1;
    Some(text_start + inner.start..text_start + inner.end.max(inner.start + 1))
}

/// The hint for an unknown parameter `name` of `model`, which takes
/// `known`; `describe` when `cspsim describe` documents the model.
fn unknown_param_hint<'a>(
    name: &str,
    known: impl IntoIterator<Item = &'a str>,
    model: &str,
    describe: bool,
) -> String {
    let known: Vec<&str> = known.into_iter().collect();
    match closest(name, known.iter().copied()) {
        Some(c) if describe => {
            format!("did you mean `{c}`? `cspsim describe {model}` lists its parameters")
        }
        Some(c) => format!("did you mean `{c}`?"),
        None if known.is_empty() => format!("`{model}` takes no parameters"),
        None => format!("`{model}` takes: {}", known.join(", ")),
    }
}

/// A declaration's name under `prefix`, as a message shows it: `stage[0].f`, `pix[…]`.
fn shown(prefix: &str, name: &str, array: bool) -> String {
    let name = if array {
        format!("{name}[…]")
    } else {
        name.to_string()
    };
    if prefix.is_empty() {
        name
    } else {
        format!("{prefix}.{name}")
    }
}

/// The first string with a `${…}` in a parameter value.
fn substituted(value: &ParamValue) -> Option<&str> {
    match value {
        ParamValue::Str(s) if s.contains("${") => Some(s),
        ParamValue::List(items) => items.iter().find_map(substituted),
        _ => None,
    }
}

fn mark_connected(locals: &mut Locals, entity: usize, element: usize, port: usize) {
    if let Some(Instance::Composite(p)) = locals.entities[entity].elements.get_mut(element) {
        p.inputs[port].connected = true;
    }
}

/// The first of `i`, `j`, `k`, … not yet in `names`.
fn fresh(names: &[String]) -> String {
    ["i", "j", "k", "l", "m", "n"]
        .iter()
        .find(|n| !names.iter().any(|m| m == *n))
        .map_or_else(|| format!("i{}", names.len()), |n| n.to_string())
}

/// A port list, with long arrays shortened: `req[0..63]`.
fn summarize(names: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut k = 0;
    while k < names.len() {
        let base = names[k].split('[').next().unwrap_or("");
        let run = names[k..]
            .iter()
            .take_while(|n| n.starts_with(&format!("{base}[")))
            .count();
        if run > 3 {
            out.push(format!("{base}[0..{run}]"));
            k += run;
        } else {
            out.push(names[k].clone());
            k += 1;
        }
    }
    out.join(", ")
}

/// A composite parameter's given value, checked against its default's kind.
fn coerce(default: &ParamValue, given: ParamValue) -> Result<ParamValue, String> {
    match (default, given) {
        (ParamValue::Real(_), ParamValue::Int(v)) => Ok(ParamValue::Real(v as f64)),
        (d, g) if std::mem::discriminant(d) == std::mem::discriminant(&g) => Ok(g),
        (d, g) => Err(format!(
            "is {} but must be {} like its default",
            g.kind_name(),
            d.kind_name()
        )),
    }
}

/// Whether `a..b` goes backwards, a negative end (a wrapped value, as
/// `0..0 - 1` gives) included.
fn backwards(a: u64, b: u64) -> bool {
    a > b || ((b as i64) < 0 && (a as i64) >= 0)
}
