//! `describe`: a model's parameters, ports and behaviour.

use super::output::emit;
use super::EXIT_BAD_INPUT;
use crate::registry::Registry;

pub(super) fn describe(registry: &Registry, name: &str) -> i32 {
    let Some(info) = registry.get(name) else {
        let hint = registry
            .closest(name)
            .map(|c| format!(" (did you mean `{c}`?)"))
            .unwrap_or_default();
        eprintln!("error: unknown model `{name}`{hint}; `cspsim models` lists them");
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
    for p in &info.params {
        let default = p
            .default
            .as_ref()
            .map_or("required".to_string(), |d| format!("default {d}"));
        line!("  {:10} {} ({default}) — {}", p.name, p.kind, p.doc);
    }
    let ctx = crate::BuildContext::new(name);
    match info.build(&[], &ctx) {
        Ok((ports, _)) => {
            line!("\nPorts with default parameters:");
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
        Err(e) => line!("\nPorts: depend on the parameters ({e}); see the description above."),
    }
    emit(&text).err().unwrap_or(0)
}
