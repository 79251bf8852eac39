//! `models` and `describe` for composite models: the `.ron` sub-circuits
//! on the model path, beside the primitives.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::output::emit;
use super::EXIT_BAD_INPUT;
use crate::netlist::{self, Library, LoadOptions};
use crate::registry::Registry;

/// `cspsim models`: the primitives, then the composite models found.
pub(super) fn list(registry: &Registry, dirs: Vec<PathBuf>) -> i32 {
    let composites = Library::new(dirs).available();
    let width = registry
        .iter()
        .map(|m| m.name.len())
        .chain(composites.iter().map(|(n, _)| n.len()))
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for m in registry.iter() {
        let _ = writeln!(text, "{:width$}  {}", m.name, m.summary);
    }
    if !composites.is_empty() {
        let _ = writeln!(text, "\ncomposite models:");
    }
    for (name, path) in &composites {
        let doc = match std::fs::read_to_string(path).map(|t| netlist::schema::parse_model(&t)) {
            Ok(Ok(model)) => model.doc.unwrap_or_default(),
            Ok(Err(_)) => "(does not parse; `cspsim describe` says why)".to_string(),
            Err(e) => format!("(cannot read: {e})"),
        };
        let _ = writeln!(text, "{name:width$}  {doc} ({})", path.display());
    }
    emit(&text).err().unwrap_or(0)
}

/// The file of composite model `name` on the model path, if there is one.
pub(super) fn find(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    Library::new(dirs.to_vec()).find(name, None)
}

/// `cspsim describe NAME` for a composite model: its doc, parameters with
/// their defaults, ports with their types (for the default parameters) and
/// inner components.
pub(super) fn describe(registry: &Registry, name: &str, path: &Path, dirs: &[PathBuf]) -> i32 {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            super::output::say("error", &format!("cannot read {}: {e}", path.display()));
            return EXIT_BAD_INPUT;
        }
    };
    let model = match netlist::schema::parse_model(&text) {
        Ok(m) => m,
        Err(e) => {
            super::output::say(
                "error",
                &format!("{}:{}: {}", path.display(), e.span.start, e.code),
            );
            return EXIT_BAD_INPUT;
        }
    };
    // One instance with the default parameters, for the ports' types.
    let probe = format!(r#"Circuit(components: {{"x": Component(model: "{name}")}})"#);
    let options = LoadOptions {
        model_dirs: dirs.to_vec(),
        ..LoadOptions::default()
    };
    let instance = netlist::elaborate_str(&probe, "describe", None, registry, &options);
    let port_type = |endpoint: &str, output: bool| -> String {
        let Ok(elaborated) = &instance else {
            return "?".into();
        };
        let Some((component, port)) = endpoint.rsplit_once('.') else {
            return "?".into();
        };
        let path = format!("x.{component}");
        let found = elaborated
            .circuit
            .components
            .iter()
            .find(|c| c.path == path);
        let ty = found.and_then(|c| {
            if output {
                c.interface
                    .outputs()
                    .iter()
                    .find(|p| p.name == port)
                    .map(|p| p.ty)
            } else {
                c.interface
                    .inputs()
                    .iter()
                    .find(|p| p.name == port)
                    .map(|p| p.ty)
            }
        });
        ty.map_or("?".into(), |t| t.to_string())
    };
    let mut out = String::new();
    let _ = writeln!(out, "{name} — composite model ({})\n", path.display());
    if let Some(doc) = &model.doc {
        let _ = writeln!(out, "{doc}\n");
    }
    let width = model
        .params
        .0
        .iter()
        .map(|(n, _)| n.len())
        .chain(model.inputs.0.iter().map(|(n, _)| n.len()))
        .chain(model.outputs.0.iter().map(|(n, _)| n.len()))
        .max()
        .unwrap_or(0)
        .max(10);
    let _ = writeln!(out, "Parameters:");
    if model.params.0.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for (param, default) in &model.params.0 {
        let _ = writeln!(out, "  {param:width$} default {default}");
    }
    let _ = writeln!(out, "\nPorts with default parameters:");
    for (port, inner) in &model.inputs.0 {
        let ty = inner.first().map_or("?".into(), |e| port_type(e, false));
        let _ = writeln!(out, "  in   {port:width$} {ty} → {}", inner.join(", "));
    }
    for (port, inner) in &model.outputs.0 {
        let _ = writeln!(
            out,
            "  out  {port:width$} {} ← {inner}",
            port_type(inner, true)
        );
    }
    let _ = writeln!(out, "\nComponents:");
    for (component, decl) in &model.components.0 {
        let count = match &decl.count {
            Some(crate::ParamValue::Str(expression)) => format!("[{expression}]"),
            Some(count) => format!("[{count}]"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "  {:width$} {}",
            format!("{component}{count}"),
            decl.model
        );
    }
    if let Err(e) = &instance {
        let _ = writeln!(
            out,
            "\n(with its default parameters it does not load:)\n{}",
            e.render(false)
        );
    }
    emit(&out).err().unwrap_or(0)
}
