//! Declarations: one component entry becomes its instances — the array
//! size (`count`), the size budget checked before and while an array is
//! built, primitive components built from the registry, and the
//! diagnostics for their parameters.

use std::ops::Range;
use std::path::Path;
use std::rc::Rc;

use super::{inside, Body, Elaborator, Entity, Instance, Locals, Origin, MAX_COUNT};
use crate::circuit::{Component, HierarchyNode, Source};
use crate::model::BuildContext;
use crate::netlist::diagnostic::{line_col, Diagnostic, ErrorKind};
use crate::netlist::locate::quoted_after;
use crate::netlist::schema::ComponentDecl;
use crate::netlist::values::{Env, Template};
use crate::params::{ParamError, ParamValue};
use crate::suggest::closest;

impl<'a> Elaborator<'a> {
    /// Build one declaration (all elements of an array).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn declare(
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
        if !crate::netlist::is_identifier(name) {
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
        let least = crate::netlist::budget::Budget::cost(0).saturating_mul(n as u64);
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
            crate::netlist::locate::find_field(&text[s.end..], "count")
                .map(|k| s.end + k..s.end + k + 5)
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
            .fits(crate::netlist::budget::Budget::cost(n_in + n_out), 1)
        {
            self.too_large(
                file,
                span,
                crate::netlist::budget::Budget::cost(n_in + n_out),
                1,
            );
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
            spec: self.keep_specs.then(|| {
                Box::new(crate::circuit::BuildSpec {
                    params: params.to_vec(),
                    dir: dir.map(Path::to_path_buf),
                    seed: self.seed,
                })
            }),
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
}

/// The hint for an unknown parameter `name` of `model`, which takes
/// `known`; `describe` when `cspsim describe` documents the model.
pub(super) fn unknown_param_hint<'a>(
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
