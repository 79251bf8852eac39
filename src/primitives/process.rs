//! `process`: a component whose behaviour is an external program (a Python
//! model, a block of Verilog built by Verilator, a vendor's C++ model),
//! run as a child process that speaks the protocol of
//! `docs/process-protocol.md` over its stdin and stdout.
//!
//! The program starts, and the handshake checks its ports, when the
//! circuit loads: a program that is missing, not executable, or that
//! declares other ports is a load error at its parameter.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::expr::ExprError;
use crate::model::{Interface, ModelInfo};
use crate::params::{ParamDecl, ParamError, Params};
use crate::process::child::Child;
use crate::process::protocol::{Hello, VERSION};
use crate::process::remote::{port_specs, timeout_from_secs, Remote};
use crate::value::PortType;

#[derive(Debug)]
/// One declared port: `name: 8`, `name: real`, and for an output
/// `name: 8 from a, b` (combinational on `a` and `b`).
struct PortDecl {
    name: String,
    ty: PortType,
    /// The inputs a combinational output reads, with their places.
    from: Option<Vec<(String, Range<usize>)>>,
}

/// Parse one port declaration; `output` allows `from`.
fn port(text: &str, output: bool) -> Result<PortDecl, ExprError> {
    let example = if output {
        "write `name: 8` (registered), `name: real`, or `name: 8 from a, b` (combinational on inputs a and b)"
    } else {
        "write `name: 8` (a width in 1..=64) or `name: real`"
    };
    let whole = 0..text.len();
    let Some(colon) = text.find(':') else {
        return Err(ExprError::new("expected `name: type`", whole).hint(example));
    };
    let name = text[..colon].trim();
    let name_at = text.find(name).unwrap_or(0);
    if !crate::netlist::is_identifier(name) {
        return Err(ExprError::new(
            format!("`{name}` is not a port name"),
            name_at..name_at + name.len().max(1),
        )
        .hint(example));
    }
    let rest = &text[colon + 1..];
    let (ty_text, from_text) = match rest.find(" from ").or_else(|| {
        rest.trim_end()
            .ends_with(" from")
            .then(|| rest.trim_end().len() - 5)
    }) {
        Some(at) if output => (&rest[..at], Some((colon + 1 + at + 5, &rest[at + 5..]))),
        Some(at) => {
            let start = colon + 1 + at + 1;
            return Err(
                ExprError::new("only an output can be combinational", start..start + 4).hint(
                    "an input is read by the program; `from` lists the inputs an output depends on",
                ),
            );
        }
        None => (rest, None),
    };
    let ty_word = ty_text.trim();
    let ty_at = colon + 1 + ty_text.find(ty_word).unwrap_or(0);
    let ty_span = ty_at..ty_at + ty_word.len().max(1);
    let ty = match ty_word {
        "real" => PortType::Real,
        w => match w.parse::<u32>().ok().and_then(PortType::bits) {
            Some(ty) => ty,
            None => {
                return Err(
                    ExprError::new(format!("`{w}` is not a port type"), ty_span).hint(example)
                )
            }
        },
    };
    let from = match from_text {
        None => None,
        Some((offset, list)) => {
            let mut names = Vec::new();
            let mut at = offset;
            for part in list.split(',') {
                let word = part.trim();
                let start = at + part.find(word).unwrap_or(0);
                if !crate::netlist::is_identifier(word) {
                    return Err(ExprError::new(
                        format!("`{word}` is not an input name"),
                        start..start + word.len().max(1),
                    )
                    .hint("`from` is followed by the inputs the output depends on: `from a, b`"));
                }
                names.push((word.to_string(), start..start + word.len()));
                at += part.len() + 1;
            }
            Some(names)
        }
    };
    Ok(PortDecl {
        name: name.to_string(),
        ty,
        from,
    })
}

/// `declared`, unless its name is in `seen` already (then an error over
/// the whole declaration `text`); the name is added to `seen`.
fn unique(
    declared: Result<PortDecl, ExprError>,
    text: &str,
    seen: &mut std::collections::HashSet<String>,
) -> Result<PortDecl, ExprError> {
    let d = declared?;
    if seen.insert(d.name.clone()) {
        Ok(d)
    } else {
        Err(ExprError::new(
            format!("`{}` is declared twice", d.name),
            0..text.len(),
        ))
    }
}

/// The interface the `inputs` and `outputs` parameters declare.
fn interface(p: &Params) -> Result<Interface, ParamError> {
    let mut ports = Interface::new();
    let mut inputs: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for text in p.str_list("inputs")? {
        let at = |e| ParamError::in_value("inputs", text, e);
        let d = unique(port(text, false), text, &mut seen).map_err(at)?;
        ports = ports.input(d.name.clone(), d.ty);
        inputs.push(d.name);
    }
    let outputs = p.str_list("outputs")?;
    if outputs.is_empty() {
        return Err(ParamError::invalid(
            "outputs",
            "declares no output; a component needs at least one",
        ));
    }
    for text in outputs {
        let at = |e| ParamError::in_value("outputs", text, e);
        let d = unique(port(text, true), text, &mut seen).map_err(at)?;
        ports = match d.from {
            None => ports.registered(d.name, d.ty),
            Some(from) => {
                let mut deps = Vec::new();
                for (name, span) in from {
                    let Some(i) = inputs.iter().position(|n| *n == name) else {
                        return Err(at(ExprError::new(
                            format!("`{name}` is not an input"),
                            span,
                        )
                        .hint(format!("the inputs are: {}", inputs.join(", ")))));
                    };
                    deps.push(i);
                }
                deps.sort_unstable();
                deps.dedup();
                ports.combinational_on(d.name, d.ty, deps)
            }
        };
    }
    Ok(ports)
}

/// The program `command[0]` names: a path with a `/` resolved against the
/// circuit's directory, a bare name searched on `PATH`.
fn program(name: &str, dir: Option<&Path>) -> Result<PathBuf, String> {
    if name.contains('/') {
        let path = match dir {
            Some(d) => d.join(name),
            None => PathBuf::from(name),
        };
        // Absolute, as the child runs in its own directory.
        let path = std::path::absolute(&path).unwrap_or(path);
        return executable(&path).map(|()| path);
    }
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    for d in std::env::split_paths(&path_var) {
        let candidate = d.join(name);
        if executable(&candidate).is_ok() {
            return Ok(candidate);
        }
    }
    Err(format!("program `{name}` is not found on PATH"))
}

fn executable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(path) {
        Err(_) => Err(format!("program `{}` does not exist", path.display())),
        Ok(m) if !m.is_file() => Err(format!("`{}` is not a file", path.display())),
        Ok(m) if m.permissions().mode() & 0o111 == 0 => Err(format!(
            "program `{}` is not executable (chmod +x it, or run it through its interpreter)",
            path.display()
        )),
        Ok(_) => Ok(()),
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new(
        "process",
        "an external program as a component, over pipes (Python, Verilator, C++…)",
        |p, ctx| {
            let ports = interface(p)?;
            let command: Vec<String> = p.str_list("command")?.iter().map(|s| s.to_string()).collect();
            let Some(first) = command.first() else {
                return Err(ParamError::invalid("command", "is empty; give the program and its arguments"));
            };
            let dir = ctx.dir.clone();
            let program = program(first, dir.as_deref()).map_err(|e| ParamError::invalid("command", e))?;
            if first.contains('/') {
                ctx.resolve(first);
            }
            let cwd = match p.str("cwd")? {
                "" => dir.clone(),
                c => Some(dir.as_deref().map_or_else(|| PathBuf::from(c), |d| d.join(c))),
            };
            if let Some(cwd) = cwd.as_deref().filter(|c| !c.is_dir()) {
                return Err(ParamError::invalid("cwd", format!("`{}` is not a directory", cwd.display())));
            }
            let mut env = Vec::new();
            for entry in p.str_list("env")? {
                let Some((k, v)) = entry.split_once('=').filter(|(k, _)| !k.is_empty()) else {
                    return Err(ParamError::invalid("env", format!("`{entry}` is not `NAME=value`")));
                };
                env.push((k.to_string(), v.to_string()));
            }
            let secs = p.real("timeout")?;
            let timeout = timeout_from_secs(secs).ok_or_else(|| {
                ParamError::invalid("timeout", format!("{secs} is not a number of seconds above 0"))
            })?;
            let mut argv = command.clone();
            argv[0] = program.to_string_lossy().into_owned();
            let child = Child::spawn(&argv, cwd.as_deref(), &env, timeout)
                .map_err(|e| {
                    ParamError::invalid("command", format!("could not start `{}`: {e}", command.join(" ")))
                })?
                .named(command.join(" "));
            let (inputs, outputs) = port_specs(&ports);
            let hello = Hello {
                version: VERSION,
                path: ctx.path.clone(),
                seed: ctx.seed,
                model: String::new(),
                params: Vec::new(),
                dir: dir.map_or_else(String::new, |d| d.to_string_lossy().into_owned()),
                inputs,
                outputs,
            };
            let remote = Remote::start(child, &hello, &ports).map_err(|e| {
                // A port mismatch is the port list's error; anything else the program's.
                let param = ["inputs", "outputs"]
                    .into_iter()
                    .find(|p| e.starts_with(&format!("the circuit declares the {p}")))
                    .unwrap_or("command");
                ParamError::invalid(param, e)
            })?;
            Ok((ports, Box::new(remote)))
        },
    )
    .doc("\
Runs `command` as a child process for the whole run; it answers the
protocol of docs/process-protocol.md on its stdin and stdout (the Python
helper python/cspsim_process.py, `cspsim serve` and the Verilator example
speak it). Inputs: `inputs`, as `name: width` or `name: real`. Outputs:
`outputs`; `name: width` is registered (set at reset and at each clock
edge), `name: width from a, b` is combinational on inputs a and b (set
each cycle from them). A program path with a `/` is relative to the
circuit file; the child runs in `cwd` (default: the circuit's directory).
The program starts and its ports are checked when the circuit loads. If
it exits, crashes, hangs past `timeout` seconds or writes anything but
frames to stdout, the run stops at that cycle with what it did and the
last lines of its stderr.")
    .param(ParamDecl::args("command", "the program and its arguments, e.g. [\"python3\", \"adc.py\", \"${bits}\"]"))
    .param(ParamDecl::string_list("inputs", "input ports, \"name: width\" or \"name: real\", in port order").default(Vec::<&str>::new()))
    .param(ParamDecl::string_list("outputs", "output ports: \"name: width\" (registered) or \"name: width from a, b\" (combinational on inputs a, b)"))
    .param(ParamDecl::string("cwd", "the child's working directory, relative to the circuit file (default: its directory)").default(""))
    .param(ParamDecl::string_list("env", "variables added to the child's environment, as \"NAME=value\"").default(Vec::<&str>::new()))
    .param(ParamDecl::number("timeout", "seconds the program has to answer each frame before it counts as hung").default(10.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_declared_with_a_width_or_real_and_outputs_may_list_inputs() {
        let d = port("code: 12", true).unwrap();
        assert_eq!((d.name.as_str(), d.ty), ("code", PortType::Bits(12)));
        assert!(d.from.is_none());
        let d = port("vin: real", false).unwrap();
        assert_eq!(d.ty, PortType::Real);
        let d = port("y: 8 from a, b", true).unwrap();
        let from: Vec<&str> = d
            .from
            .as_ref()
            .unwrap()
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(from, ["a", "b"]);
        assert_eq!(d.from.unwrap()[1].1, 13..14);
    }

    #[test]
    fn port_mistakes_are_located() {
        let e = port("y: 65", true).unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.span.clone()),
            ("`65` is not a port type", 3..5)
        );
        let e = port("y: 8 from a, 2b", true).unwrap_err();
        assert_eq!(e.span, 13..15);
        let e = port("x: 8 from a", false).unwrap_err();
        assert!(e.message.contains("only an output"), "{}", e.message);
        let e = port("x 8", false).unwrap_err();
        assert!(e.message.contains("name: type"));
    }

    #[test]
    fn programs_are_found_on_path_or_beside_the_circuit() {
        assert!(program("sh", None).is_ok());
        let e = program("no-such-program-cspsim", None).unwrap_err();
        assert!(e.contains("not found on PATH"), "{e}");
        let e = program("./missing.py", Some(Path::new("/tmp"))).unwrap_err();
        assert!(e.contains("missing.py` does not exist"), "{e}");
    }
}
