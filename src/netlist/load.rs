//! Loading a circuit file: parse the RON, build every component, resolve
//! every net, check types, drivers, connections, trace patterns and
//! combinational loops. Every problem found is reported, each located.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;

use super::diagnostic::{offset_of, Diagnostic, ErrorKind, LoadError};
use super::locate::{quoted_after, Cursor};
use super::schema::{CircuitFile, ClockDecl, ComponentDecl};
use crate::circuit::{Circuit, Clock, Component, PortRef, Source};
use crate::graph;
use crate::model::BuildContext;
use crate::params::ParamError;
use crate::registry::{closest, Registry};

/// Cycles run when neither the circuit nor the caller says.
const DEFAULT_CYCLES: u64 = 100;

/// Load and check the circuit in `path`.
pub fn load_file(path: &Path, registry: &Registry, seed: u64) -> Result<Circuit, LoadError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| LoadError {
        file: file.clone(),
        source: String::new(),
        diagnostics: vec![Diagnostic::new(
            ErrorKind::Io,
            format!("cannot read the circuit: {e}"),
        )],
    })?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    load_str(&text, &file, stem.as_deref(), registry, seed)
}

/// Load and check a circuit from `text`; `file` names it in messages and
/// `default_name` is used when the circuit has no `name`.
pub fn load_str(
    text: &str,
    file: &str,
    default_name: Option<&str>,
    registry: &Registry,
    seed: u64,
) -> Result<Circuit, LoadError> {
    let fail = |diagnostics| LoadError {
        file: file.to_string(),
        source: text.to_string(),
        diagnostics,
    };
    let parsed: CircuitFile = super::schema::parse(text).map_err(|e| {
        let at = offset_of(text, e.span.start.line, e.span.start.col);
        let end = offset_of(text, e.span.end.line, e.span.end.col).max(at);
        fail(vec![Diagnostic::new(ErrorKind::Syntax, e.code.to_string())
            .at(Some(at..end))
            .hint(
                "see the circuit format in the README (`Circuit(components: {...}, nets: {...})`)",
            )])
    })?;
    let mut loader = Loader {
        text,
        file,
        registry,
        seed,
        diagnostics: Vec::new(),
        components: Vec::new(),
        spans: Vec::new(),
        by_name: HashMap::new(),
        broken: Vec::new(),
        input_spans: HashMap::new(),
        mentioned: std::collections::HashSet::new(),
    };
    loader.components(&parsed.components.0);
    loader.nets(&parsed.nets.0);
    loader.unconnected_inputs();
    let clock = loader.clock(&parsed.clock);
    let trace = parsed.trace.unwrap_or_else(|| vec!["*".to_string()]);
    loader.trace_patterns(&trace);
    if loader.components.is_empty() && loader.diagnostics.is_empty() {
        loader.diagnostics.push(
            Diagnostic::new(ErrorKind::BadComponentName, "the circuit has no components")
                .hint("add entries to `components: { \"name\": Component(model: \"counter\") }`"),
        );
    }
    if !loader.diagnostics.is_empty() {
        return Err(fail(loader.diagnostics));
    }
    let levels = match graph::schedule(&loader.components) {
        Ok(levels) => levels,
        Err(loops) => {
            let diagnostics = loops
                .iter()
                .map(|l| {
                    let span = l
                        .edges
                        .first()
                        .and_then(|e| loader.input_spans.get(&e.reader).cloned());
                    Diagnostic::new(
                        ErrorKind::CombinationalLoop,
                        format!("combinational loop: {}", l.describe(&loader.components)),
                    )
                    .at(span)
                    .hint("break the loop with a registered output (a `register` on one of these nets)")
                })
                .collect();
            return Err(fail(diagnostics));
        }
    };
    Ok(Circuit {
        name: parsed
            .name
            .or_else(|| default_name.map(str::to_string))
            .unwrap_or_else(|| "circuit".to_string()),
        clock,
        cycles: parsed.cycles.unwrap_or(DEFAULT_CYCLES),
        trace,
        components: loader.components,
        levels,
    })
}

/// An endpoint resolved to a port, in one direction or the other.
enum Endpoint {
    Input(PortRef),
    Output(PortRef),
}

struct Loader<'a> {
    text: &'a str,
    /// The file's name as given: relative file parameters resolve against its directory.
    file: &'a str,
    registry: &'a Registry,
    seed: u64,
    diagnostics: Vec<Diagnostic>,
    components: Vec<Component>,
    /// Where each component is declared.
    spans: Vec<Option<Range<usize>>>,
    by_name: HashMap<String, usize>,
    /// Components that failed to build: nets naming them are not checked further.
    broken: Vec<String>,
    /// Where each connected input is named in `nets`.
    input_spans: HashMap<PortRef, Range<usize>>,
    /// Inputs named in `nets`: if one is still unconnected, its net had an
    /// error already reported, and a second report would only be noise.
    mentioned: std::collections::HashSet<PortRef>,
}

/// Whether `name` is a valid component or port name: letters, digits and
/// `_`, not starting with a digit.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Loader<'_> {
    fn report(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    fn line_of(&self, span: &Option<Range<usize>>) -> String {
        span.as_ref().map_or_else(String::new, |s| {
            format!(
                " (line {})",
                super::diagnostic::line_col(self.text, s.start).0
            )
        })
    }

    fn components(&mut self, decls: &[(String, ComponentDecl)]) {
        let mut cursor = Cursor::section(self.text, "components");
        for (name, decl) in decls {
            let span = cursor.next_quoted(name);
            if !is_identifier(name) {
                self.report(
                    Diagnostic::new(
                        ErrorKind::BadComponentName,
                        format!("`{name}` is not a valid component name"),
                    )
                    .at(span)
                    .hint("use letters, digits and `_`, starting with a letter or `_`"),
                );
                self.broken.push(name.clone());
                continue;
            }
            if let Some(&first) = self.by_name.get(name) {
                let first_line = self.line_of(&self.spans[first]);
                self.report(
                    Diagnostic::new(
                        ErrorKind::BadComponentName,
                        format!("component `{name}` is declared twice"),
                    )
                    .at(span)
                    .hint(format!(
                        "the first declaration{first_line} is kept; rename one of them"
                    )),
                );
                continue;
            }
            match self.build(name, decl, &span) {
                Some(component) => {
                    self.by_name.insert(name.clone(), self.components.len());
                    self.components.push(component);
                    self.spans.push(span);
                }
                None => self.broken.push(name.clone()),
            }
        }
    }

    fn build(
        &mut self,
        name: &str,
        decl: &ComponentDecl,
        span: &Option<Range<usize>>,
    ) -> Option<Component> {
        let model_span = span
            .as_ref()
            .and_then(|s| quoted_after(self.text, &decl.model, s.end))
            .or_else(|| span.clone());
        let Some(info) = self.registry.get(&decl.model) else {
            let hint = match self.registry.closest(&decl.model) {
                Some(c) => format!("did you mean `{c}`? `cspsim models` lists every model"),
                None => "`cspsim models` lists every model".to_string(),
            };
            self.report(
                Diagnostic::new(
                    ErrorKind::UnknownModel,
                    format!("component `{name}`: unknown model `{}`", decl.model),
                )
                .at(model_span)
                .hint(hint),
            );
            return None;
        };
        let ctx = BuildContext {
            path: name.to_string(),
            seed: self.seed,
            dir: std::path::Path::new(self.file)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map(std::path::Path::to_path_buf),
        };
        let built = info.build(&decl.params.0, &ctx);
        let (interface, behaviour) = match built {
            Ok(b) => b,
            Err(e) => {
                let param_span = span
                    .as_ref()
                    .and_then(|s| quoted_after(self.text, e.param_name(), s.end));
                let at = match &e {
                    ParamError::Missing { .. } => span.clone(),
                    ParamError::InValue {
                        value, span: inner, ..
                    } => param_span
                        .as_ref()
                        .and_then(|p| quoted_after(self.text, value, p.end))
                        .map(|v| {
                            v.start + 1 + inner.start..v.start + 1 + inner.end.max(inner.start + 1)
                        })
                        .or(param_span),
                    _ => param_span.or_else(|| span.clone()),
                };
                let hint = match &e {
                    ParamError::Unknown { name: p, known } => {
                        match closest(p, known.iter().copied()) {
                            Some(c) => format!(
                                "did you mean `{c}`? `cspsim describe {}` lists its parameters",
                                info.name
                            ),
                            None if known.is_empty() => {
                                format!("`{}` takes no parameters", info.name)
                            }
                            None => format!("`{}` takes: {}", info.name, known.join(", ")),
                        }
                    }
                    ParamError::InValue {
                        hint: Some(hint), ..
                    } => hint.clone(),
                    _ => format!("`cspsim describe {}` documents its parameters", info.name),
                };
                self.report(
                    Diagnostic::new(
                        ErrorKind::BadParameter,
                        format!("component `{name}` ({}): {e}", info.name),
                    )
                    .at(at)
                    .hint(hint),
                );
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
                .at(model_span)
                .hint("this is a bug in the model, not in the circuit"),
            );
            return None;
        }
        let n_out = interface.outputs().len();
        let n_in = interface.inputs().len();
        Some(Component {
            path: name.to_string(),
            model: info.name.to_string(),
            interface,
            behaviour,
            inputs: vec![Source::Constant(u64::MAX); n_in],
            readers: vec![Vec::new(); n_out],
        })
    }

    /// Resolve `comp.port`; `None` after reporting (or silently, for a broken component).
    fn endpoint(&mut self, text: &str, span: &Option<Range<usize>>) -> Option<Endpoint> {
        let Some((comp, port)) = text
            .rsplit_once('.')
            .filter(|(c, p)| !c.is_empty() && !p.is_empty())
        else {
            self.report(
                Diagnostic::new(
                    ErrorKind::BadEndpoint,
                    format!("`{text}` is not of the form `component.port`"),
                )
                .at(span.clone())
                .hint("name a port as component.port, e.g. \"cnt.q\""),
            );
            return None;
        };
        if self.broken.iter().any(|b| b == comp) {
            return None;
        }
        let Some(&c) = self.by_name.get(comp) else {
            let hint = match closest(comp, self.by_name.keys().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "declare it in `components`".to_string(),
            };
            self.report(
                Diagnostic::new(
                    ErrorKind::UnknownComponent,
                    format!("unknown component `{comp}` in `{text}`"),
                )
                .at(span.clone())
                .hint(hint),
            );
            return None;
        };
        let component = &self.components[c];
        if let Some(o) = component.interface.output_index(port) {
            return Some(Endpoint::Output(PortRef {
                component: c,
                port: o,
            }));
        }
        if let Some(i) = component.interface.input_index(port) {
            let input = PortRef {
                component: c,
                port: i,
            };
            self.mentioned.insert(input);
            return Some(Endpoint::Input(input));
        }
        let iface = &component.interface;
        let list = |names: Vec<&str>| {
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        };
        let inputs = list(iface.inputs().iter().map(|p| p.name.as_str()).collect());
        let outputs = list(iface.outputs().iter().map(|p| p.name.as_str()).collect());
        let all = iface
            .inputs()
            .iter()
            .map(|p| p.name.as_str())
            .chain(iface.outputs().iter().map(|p| p.name.as_str()));
        let guess = closest(port, all)
            .map(|g| format!("did you mean `{g}`? "))
            .unwrap_or_default();
        let model = component.model.clone();
        self.report(
            Diagnostic::new(
                ErrorKind::UnknownPort,
                format!("component `{comp}` ({model}) has no port `{port}`"),
            )
            .at(span.clone())
            .hint(format!("{guess}inputs: {inputs}; outputs: {outputs}")),
        );
        None
    }

    fn nets(&mut self, nets: &[(String, Vec<String>)]) {
        let mut cursor = Cursor::section(self.text, "nets");
        for (driver_text, readers) in nets {
            let span = cursor.next_quoted(driver_text);
            let driver = match self.endpoint(driver_text, &span) {
                Some(Endpoint::Output(p)) => Some(p),
                Some(Endpoint::Input(_)) => {
                    self.report(
                        Diagnostic::new(
                            ErrorKind::WrongDirection,
                            format!("`{driver_text}` is an input, so it cannot drive a net"),
                        )
                        .at(span)
                        .hint("a net is written \"driver.output\": [\"reader.input\", ...]"),
                    );
                    None
                }
                None => None,
            };
            for reader_text in readers {
                let span = cursor.next_quoted(reader_text);
                let reader = match self.endpoint(reader_text, &span) {
                    Some(Endpoint::Input(p)) => p,
                    Some(Endpoint::Output(_)) => {
                        self.report(
                            Diagnostic::new(ErrorKind::WrongDirection, format!("`{reader_text}` is an output, so it cannot read a net"))
                                .at(span)
                                .hint(format!("only inputs can be listed after \"{driver_text}\"; every output drives its own net")),
                        );
                        continue;
                    }
                    None => continue,
                };
                if let Some(driver) = driver {
                    self.connect(driver, reader, driver_text, reader_text, span);
                }
            }
        }
    }

    fn connect(
        &mut self,
        driver: PortRef,
        reader: PortRef,
        driver_text: &str,
        reader_text: &str,
        span: Option<Range<usize>>,
    ) {
        let out_ty = self.components[driver.component].interface.outputs()[driver.port].ty;
        let in_ty = self.components[reader.component].interface.inputs()[reader.port].ty;
        if out_ty != in_ty {
            self.report(
                Diagnostic::new(
                    ErrorKind::TypeMismatch,
                    format!("`{driver_text}` is {out_ty} but `{reader_text}` is {in_ty}"),
                )
                .at(span)
                .hint("widths and types must match; use `slice` or `concat` to change a width"),
            );
            return;
        }
        if let Source::Driver(existing) = self.components[reader.component].inputs[reader.port] {
            let other = self.components[existing.component].output_name(existing.port);
            let first_line = self.line_of(&self.input_spans.get(&reader).cloned());
            let message = if existing == driver {
                format!("`{reader_text}` is listed twice under `{driver_text}`")
            } else {
                format!("`{reader_text}` has two drivers: `{other}` and `{driver_text}`")
            };
            self.report(
                Diagnostic::new(ErrorKind::MultipleDrivers, message)
                    .at(span)
                    .hint(format!("an input is driven by exactly one output; it is already connected to `{other}`{first_line}")),
            );
            return;
        }
        self.components[reader.component].inputs[reader.port] = Source::Driver(driver);
        self.components[driver.component].readers[driver.port].push(reader);
        if let Some(span) = span {
            self.input_spans.insert(reader, span);
        }
    }

    fn unconnected_inputs(&mut self) {
        for c in 0..self.components.len() {
            for i in 0..self.components[c].inputs.len() {
                let input = PortRef {
                    component: c,
                    port: i,
                };
                if matches!(self.components[c].inputs[i], Source::Driver(_))
                    || self.mentioned.contains(&input)
                {
                    continue;
                }
                let component = &self.components[c];
                match component.interface.inputs()[i].default {
                    Some(default) => self.components[c].inputs[i] = Source::Constant(default),
                    None => {
                        let name = component.input_name(i);
                        let model = component.model.clone();
                        let span = self.spans[c].clone();
                        self.report(
                            Diagnostic::new(
                                ErrorKind::UnconnectedInput,
                                format!("input `{name}` ({model}) is not connected"),
                            )
                            .at(span)
                            .hint(format!(
                                "drive it from an output in `nets`, e.g. \"other.y\": [\"{name}\"]"
                            )),
                        );
                    }
                }
            }
        }
    }

    fn clock(&mut self, decl: &ClockDecl) -> Clock {
        let span = super::locate::find_field(self.text, "clock").map(|s| s..s + "clock".len());
        if decl.period == 0 {
            self.report(
                Diagnostic::new(ErrorKind::BadClock, "the clock period must be at least 1")
                    .at(span.clone())
                    .hint("period is the cycle length in timescale units, e.g. Clock(period: 10, timescale: \"1ns\")"),
            );
        }
        let text = decl.timescale.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let scale = number
            .parse::<u32>()
            .ok()
            .filter(|n| [1, 10, 100].contains(n));
        let unit = vcd::TimescaleUnit::from_str(unit.trim()).ok();
        match (scale, unit) {
            (Some(scale), Some(unit)) => Clock {
                period: decl.period.max(1),
                scale,
                unit,
            },
            _ => {
                let at = span
                    .as_ref()
                    .and_then(|s| quoted_after(self.text, &decl.timescale, s.start))
                    .or(span);
                self.report(
                    Diagnostic::new(
                        ErrorKind::BadClock,
                        format!("`{}` is not a timescale", decl.timescale),
                    )
                    .at(at)
                    .hint("write 1, 10 or 100 followed by s, ms, us, ns, ps or fs, e.g. \"1ns\""),
                );
                Clock::default()
            }
        }
    }

    fn trace_patterns(&mut self, patterns: &[String]) {
        if self.components.is_empty() {
            return;
        }
        let (_, unused) = crate::trace::select(&self.components, patterns);
        let mut cursor = Cursor::section(self.text, "trace");
        for (k, pattern) in patterns.iter().enumerate() {
            let span = cursor.next_quoted(pattern);
            if unused.contains(&k) {
                let example = self.components[0].path.clone();
                self.report(
                    Diagnostic::new(ErrorKind::BadTrace, format!("trace pattern `{pattern}` selects no signal"))
                        .at(span)
                        .hint(format!("signals are named component.port, e.g. `{example}.*`; `*` selects everything")),
                );
            }
        }
    }
}
