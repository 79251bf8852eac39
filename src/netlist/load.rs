//! Loading a circuit file: parse the RON, elaborate it (arrays, composite
//! models, parameters), check types, drivers, connections, trace patterns
//! and combinational loops. Every problem found is reported, each located.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::diagnostic::{
    syntax_message, syntax_span, Diagnostic, ErrorKind, LoadError, SourceText,
};
use super::elaborate::{Body, Elaborator};
use super::library::locate;
use super::locate::{quoted_after, Cursor};
use super::schema::{CircuitFile, ClockDecl};
use super::values::Env;
use crate::circuit::{Circuit, Clock, PortRef, Source};
use crate::graph::{self, CombLoop};
use crate::params::ParamValue;
use crate::registry::Registry;
use crate::suggest::closest;

/// Cycles run when neither the circuit nor the caller says.
const DEFAULT_CYCLES: u64 = 100;

/// How to load a circuit.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// The run's seed, for models with randomness.
    pub seed: u64,
    /// Directories searched first for composite models.
    pub model_dirs: Vec<PathBuf>,
    /// Circuit parameters overriding those in the file.
    pub params: Vec<(String, ParamValue)>,
    /// The most components the circuit may elaborate to (besides the limit
    /// this machine's memory sets).
    pub max_components: Option<usize>,
    /// Leave inputs that nothing drives and that have no default open, at
    /// 0, instead of reporting them: a [`Simulation`](crate::simulation::Simulation)
    /// pokes them.
    pub open_inputs: bool,
    /// Keep what each component was built from
    /// ([`Component::spec`](crate::circuit::Component::spec)), which the
    /// processes engine sends its children.
    pub keep_specs: bool,
}

/// An elaborated circuit that may contain combinational loops (for
/// `cspsim graph`, which draws them). When `loops` is not empty,
/// `circuit.levels` is empty and the circuit must not be run.
pub struct Elaborated {
    /// The circuit.
    pub circuit: Circuit,
    /// Its combinational loops.
    pub loops: Vec<CombLoop>,
    /// Where each connected input is named (file index, span), for loop reports.
    input_spans: HashMap<PortRef, (usize, Range<usize>)>,
    files: Vec<SourceText>,
}

impl Elaborated {
    /// The circuit, or the loops as located errors.
    pub fn checked(self) -> Result<Circuit, LoadError> {
        if self.loops.is_empty() {
            return Ok(self.circuit);
        }
        let diagnostics =
            self.loops
                .iter()
                .map(|l| {
                    let at = l
                        .edges
                        .first()
                        .and_then(|e| self.input_spans.get(&e.reader).cloned());
                    Diagnostic::new(
                    ErrorKind::CombinationalLoop,
                    format!("combinational loop: {}", l.describe(&self.circuit.components)),
                )
                .in_file(at.as_ref().map_or(0, |a| a.0))
                .at(at.map(|a| a.1))
                .hint("break the loop with a registered output (a `register` on one of these nets)")
                })
                .collect();
        Err(LoadError {
            files: self.files,
            diagnostics,
        })
    }
}

/// Load and check the circuit in `path`.
pub fn load_file(path: &Path, registry: &Registry, seed: u64) -> Result<Circuit, LoadError> {
    load_file_with(
        path,
        registry,
        &LoadOptions {
            seed,
            ..LoadOptions::default()
        },
    )
}

/// Load and check the circuit in `path` with `options`.
pub fn load_file_with(
    path: &Path,
    registry: &Registry,
    options: &LoadOptions,
) -> Result<Circuit, LoadError> {
    elaborate_file(path, registry, options)?.checked()
}

/// Load the circuit in `path` (`-`: standard input, composite models and
/// data files found from the current directory), reporting every error but
/// combinational loops.
pub fn elaborate_file(
    path: &Path,
    registry: &Registry,
    options: &LoadOptions,
) -> Result<Elaborated, LoadError> {
    let from_stdin = path.as_os_str() == "-";
    let file = if from_stdin {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    };
    let text = if from_stdin {
        read_stdin()
    } else {
        super::text::read_text(path)
    };
    let text = text.map_err(|e| {
        LoadError::single(
            &file,
            Diagnostic::new(
                ErrorKind::Io,
                format!("cannot read the circuit {file}: {e}"),
            ),
        )
    })?;
    let stem = (!from_stdin)
        .then(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .flatten();
    elaborate_str(&text, &file, stem.as_deref(), registry, options)
}

/// The circuit on standard input (the path `-`), as UTF-8 text.
fn read_stdin() -> Result<String, String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    super::text::decode(&bytes)
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
    let options = LoadOptions {
        seed,
        ..LoadOptions::default()
    };
    elaborate_str(text, file, default_name, registry, &options)?.checked()
}

/// Elaborate a circuit from `text`, reporting every error but combinational loops.
pub fn elaborate_str(
    text: &str,
    file: &str,
    default_name: Option<&str>,
    registry: &Registry,
    options: &LoadOptions,
) -> Result<Elaborated, LoadError> {
    let source = SourceText {
        name: file.to_string(),
        text: text.to_string(),
    };
    let parsed: CircuitFile = super::schema::parse(text).map_err(|e| {
        let mut message = syntax_message(&e);
        let mut hint = "see the circuit format in the README (`Circuit(components: {...}, nets: {...})`)".to_string();
        if text.trim_start().starts_with("Model") {
            message = "this is a composite model, not a circuit".to_string();
            hint = "a circuit instantiates it: `\"x\": Component(model: \"NAME\")`, NAME being this file's stem".to_string();
        }
        LoadError {
            files: vec![source.clone()],
            diagnostics: vec![Diagnostic::new(ErrorKind::Syntax, message)
                .at(Some(syntax_span(text, &e)))
                .hint(hint)],
        }
    })?;
    let dir = Path::new(file)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf);
    let mut elaborator =
        Elaborator::new(registry, options.seed, options.model_dirs.clone(), source);
    elaborator.budget.components = options.max_components;
    elaborator.open_inputs = options.open_inputs;
    elaborator.keep_specs = options.keep_specs;
    let env = circuit_params(&mut elaborator, &parsed, &options.params);
    let located = locate(text, &parsed.components.0, &parsed.nets.0);
    let body = Body {
        file: 0,
        dir: dir.as_deref(),
        components: &parsed.components.0,
        nets: &parsed.nets.0,
        located: &located,
    };
    let hierarchy = elaborator.circuit(&body, &env);
    unconnected_inputs(&mut elaborator);
    let mut checks = Checks {
        text,
        elaborator: &mut elaborator,
    };
    let clock = checks.clock(&parsed.clock);
    let trace = parsed.trace.unwrap_or_else(|| vec!["*".to_string()]);
    checks.trace_patterns(&trace);
    if elaborator.components.is_empty() && elaborator.diagnostics.is_empty() {
        elaborator.report(
            Diagnostic::new(ErrorKind::BadComponentName, "the circuit has no components")
                .hint("add entries to `components: { \"name\": Component(model: \"counter\") }`"),
        );
    }
    if elaborator.budget.exceeded {
        // What follows from the parts never built is not worth saying.
        elaborator
            .diagnostics
            .retain(|d| d.kind == ErrorKind::TooLarge);
    }
    if !elaborator.diagnostics.is_empty() {
        return Err(LoadError {
            diagnostics: deduplicate(std::mem::take(&mut elaborator.diagnostics)),
            files: elaborator.files,
        });
    }
    let components = std::mem::take(&mut elaborator.components);
    let (levels, loops) = match graph::schedule(&components) {
        Ok(levels) => (levels, Vec::new()),
        Err(loops) => (Vec::new(), loops),
    };
    Ok(Elaborated {
        circuit: Circuit {
            name: parsed
                .name
                .or_else(|| default_name.map(str::to_string))
                .unwrap_or_else(|| "circuit".to_string()),
            clock,
            cycles: parsed.cycles.unwrap_or(DEFAULT_CYCLES),
            trace,
            components,
            hierarchy,
            levels,
            inputs: elaborator
                .files
                .iter()
                .map(|f| std::path::PathBuf::from(&f.name))
                .chain(elaborator.reads.paths())
                .collect(),
            composite_ports: std::mem::take(&mut elaborator.composite_ports),
        },
        loops,
        input_spans: elaborator.input_spans,
        files: elaborator.files,
    })
}

/// The circuit's parameters, with `overrides` applied.
fn circuit_params(
    elaborator: &mut Elaborator,
    parsed: &CircuitFile,
    overrides: &[(String, ParamValue)],
) -> Env {
    let mut values = parsed.params.0.clone();
    for (name, value) in overrides {
        match values.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.clone(),
            None => {
                let known = values.iter().map(|(n, _)| n.as_str());
                let hint = match closest(name, known.clone()) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None if values.is_empty() => "the circuit declares no `params`".to_string(),
                    None => format!("its parameters: {}", known.collect::<Vec<_>>().join(", ")),
                };
                elaborator.report(
                    Diagnostic::new(
                        ErrorKind::BadParameter,
                        format!("the circuit has no parameter `{name}` (given with --param)"),
                    )
                    .hint(hint),
                );
            }
        }
    }
    Env::new(values)
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

/// Give unconnected optional inputs their defaults; report required ones,
/// or, with inputs left open, give them 0.
fn unconnected_inputs(elaborator: &mut Elaborator) {
    for c in 0..elaborator.components.len() {
        for i in 0..elaborator.components[c].inputs.len() {
            let input = PortRef {
                component: c,
                port: i,
            };
            if matches!(elaborator.components[c].inputs[i], Source::Driver(_))
                || elaborator.mentioned.contains(&input)
            {
                continue;
            }
            let component = &elaborator.components[c];
            match component.interface.inputs()[i].default {
                Some(default) => elaborator.components[c].inputs[i] = Source::Constant(default),
                None if elaborator.open_inputs => {
                    elaborator.components[c].inputs[i] = Source::Constant(0)
                }
                None => {
                    let name = component.input_name(i);
                    let short = component.interface.inputs()[i].name.clone();
                    let model = component.model.clone();
                    let d = Diagnostic::new(
                        ErrorKind::UnconnectedInput,
                        format!("input `{name}` ({model}) is not connected"),
                    )
                    .hint(format!(
                        "drive it from an output in `nets`, e.g. \"other.y\": [\"{}.{short}\"]",
                        name.rsplit_once('.')
                            .map_or(name.as_str(), |(p, _)| p.rsplit('.').next().unwrap_or(p))
                    ));
                    elaborator.report_at_origin(c, d);
                }
            }
        }
    }
}

/// Keep the first of diagnostics that repeat at one place (a mistake in a
/// composite model shows once, not once per instance), noting how many.
fn deduplicate(diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut seen: HashMap<(usize, Option<Range<usize>>, ErrorKind), usize> = HashMap::new();
    let mut out: Vec<Diagnostic> = Vec::new();
    let mut repeats: Vec<usize> = Vec::new();
    for d in diagnostics {
        let key = (d.file, d.span.clone(), d.kind);
        if d.span.is_some() {
            if let Some(&k) = seen.get(&key) {
                repeats[k] += 1;
                continue;
            }
            seen.insert(key, out.len());
        }
        out.push(d);
        repeats.push(0);
    }
    for (d, n) in out.iter_mut().zip(repeats) {
        if n > 0 {
            d.notes.push(format!(
                "the same problem occurs {n} more time{} (other instances or array elements)",
                if n == 1 { "" } else { "s" }
            ));
        }
    }
    out
}

/// Checks of the circuit file's own fields.
struct Checks<'a, 'r> {
    text: &'a str,
    elaborator: &'a mut Elaborator<'r>,
}

impl Checks<'_, '_> {
    fn report(&mut self, d: Diagnostic) {
        self.elaborator.report(d);
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
                        format!("`{}` is not a timescale", shorten(&decl.timescale)),
                    )
                    .at(at)
                    .hint("write 1, 10 or 100 followed by s, ms, us, ns, ps or fs, e.g. \"1ns\""),
                );
                Clock::default()
            }
        }
    }

    fn trace_patterns(&mut self, patterns: &[String]) {
        let components = &self.elaborator.components;
        // A pattern for a component that failed to build selects nothing
        // because of that failure, which is already reported.
        if components.is_empty() || !self.elaborator.diagnostics.is_empty() {
            return;
        }
        let (_, unused) = crate::trace::select(components, patterns);
        let example = components[0].path.clone();
        let mut cursor = Cursor::section(self.text, "trace");
        for (k, pattern) in patterns.iter().enumerate() {
            let span = cursor.next_quoted(pattern);
            if unused.contains(&k) {
                self.report(
                    Diagnostic::new(ErrorKind::BadTrace, format!("trace pattern `{pattern}` selects no signal"))
                        .at(span)
                        .hint(format!("signals are named component.port, e.g. `{example}.*`; `*` selects everything")),
                );
            }
        }
    }
}

/// `text` as a message quotes it: whole if short, else its start and `…`.
pub(crate) fn shorten(text: &str) -> String {
    const SHOWN: usize = 60;
    match text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}
