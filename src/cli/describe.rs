//! `describe`: a model's parameters, ports and behaviour.

use super::output::emit;
use super::EXIT_BAD_INPUT;
use crate::registry::Registry;

pub(super) fn describe(registry: &Registry, name: &str, dirs: &[std::path::PathBuf]) -> i32 {
    let Some(info) = registry.get(name) else {
        if let Some(path) = super::models::find(name, dirs) {
            return super::models::describe(registry, name, &path, dirs);
        }
        let hint = registry
            .closest(name)
            .map(|c| format!(" (did you mean `{c}`?)"))
            .unwrap_or_default();
        super::output::say(
            "error",
            &format!("unknown model `{name}`{hint}; `cspsim models` lists them"),
        );
        return EXIT_BAD_INPUT;
    };
    use std::fmt::Write as _;
    let mut text = String::new();
    macro_rules! line {
        ($($arg:tt)*) => {{
            let _ = writeln!(text, $($arg)*);
        }};
    }
    line!("{} — {}\n", info.name, info.summary);
    if !info.doc.is_empty() {
        line!("{}\n", info.doc);
    }
    line!("Parameters:");
    if info.params.is_empty() {
        line!("  (none)");
    }
    let width = info
        .params
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0)
        .max(10);
    for p in &info.params {
        let default = p
            .default
            .as_ref()
            .map_or("required".to_string(), |d| format!("default {d}"));
        line!("  {:width$} {} ({default}) — {}", p.name, p.kind, p.doc);
    }
    let ctx = crate::BuildContext::new(name);
    // Required integer parameters take a small example value, so that the
    // ports can be shown for it.
    let example: Vec<(String, crate::ParamValue)> = info
        .params
        .iter()
        .filter(|p| p.default.is_none())
        .filter_map(|p| match p.kind {
            crate::params::ParamKind::Int { min, max } => Some((
                p.name.to_string(),
                crate::ParamValue::Int(2i128.clamp(min, max)),
            )),
            _ => None,
        })
        .collect();
    let with = if example.is_empty() {
        "default parameters".to_string()
    } else {
        let values: Vec<String> = example.iter().map(|(n, v)| format!("{n} = {v}")).collect();
        format!("default parameters and {}", values.join(", "))
    };
    match info.build(&example, &ctx) {
        Ok((ports, _)) => {
            line!("\nPorts with {with}:");
            for p in ports.inputs() {
                let optional = p
                    .default
                    .map(|d| format!(", optional (reads {d} if unconnected)"))
                    .unwrap_or_default();
                line!("  in   {:10} {}{optional}", p.name, p.ty);
            }
            for p in ports.outputs() {
                let timing = match p.timing {
                    crate::Timing::Registered => "registered",
                    crate::Timing::Combinational(_) => "combinational",
                };
                line!("  out  {:10} {} {timing}", p.name, p.ty);
            }
        }
        Err(_) => line!(
            "\nPorts: they depend on the parameters {}; see the description above.",
            info.params
                .iter()
                .filter(|p| p.default.is_none())
                .map(|p| format!("`{}`", p.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
    emit(&text).err().unwrap_or(0)
}
