//! The processes engine: every component runs in its own OS process, a
//! child `cspsim serve` (this same executable, so a program built on
//! [`cli::main`](crate::cli::main) serves its own models too), with pipes
//! as its channels. The parent is the clock: it runs the partitioned
//! engine's schedule, and each component's evaluation and clock edge are a
//! frame to its child and the child's answer. Children of one batch are
//! sent their frames before any answer is read, so they compute at once.
//!
//! Before any child starts, the machine's limits are checked (processes,
//! pids, open files): a circuit that does not fit is refused whole.

use std::path::PathBuf;
use std::time::Duration;

use super::{RunError, RunOptions};
use crate::circuit::Circuit;
use crate::process::child::{Child, DEFAULT_TIMEOUT};
use crate::process::protocol::{Hello, VERSION};
use crate::process::remote::{port_specs, Remote};

/// Options of the processes engine.
#[derive(Clone, Debug, Default)]
pub struct ProcessOptions {
    /// The program the children run as `PROGRAM serve`; default: this executable.
    pub program: Option<PathBuf>,
    /// How long a child has to answer one frame; default 10 s.
    pub timeout: Option<Duration>,
}

/// Start one child per component and put it in the component's place.
/// Returns the children's process ids. On any failure every child started
/// so far is ended (and reaped) before the error returns.
pub(super) fn start(circuit: &mut Circuit, options: &RunOptions) -> Result<Vec<u32>, RunError> {
    let refuse = RunError::Processes;
    if let Some(c) = circuit.components.iter().find(|c| c.spec.is_none()) {
        return Err(refuse(format!(
            "component `{}` was loaded without what a child needs to build it (LoadOptions::keep_specs)",
            c.path
        )));
    }
    crate::process::limits::check_room(circuit.components.len()).map_err(|e| {
        RunError::TooManyProcesses(format!(
            "the processes engine runs one process per component: {e}; use --engine partitioned"
        ))
    })?;
    let program = match &options.processes.program {
        Some(p) => p.clone(),
        None => std::env::current_exe().map_err(|e| {
            refuse(format!(
                "could not find this program to run its children: {e}"
            ))
        })?,
    };
    let command = [program.to_string_lossy().into_owned(), "serve".to_string()];
    let timeout = options.processes.timeout.unwrap_or(DEFAULT_TIMEOUT);
    // Start every child and send it its handshake, then read the answers.
    let mut pending = Vec::with_capacity(circuit.components.len());
    for comp in &circuit.components {
        let spec = comp.spec.as_deref().expect("checked above");
        let (inputs, outputs) = port_specs(&comp.interface);
        let hello = Hello {
            version: VERSION,
            path: comp.path.clone(),
            seed: spec.seed,
            model: comp.model.clone(),
            params: spec.params.clone(),
            dir: spec
                .dir
                .as_ref()
                .map_or_else(String::new, |d| d.to_string_lossy().into_owned()),
            inputs,
            outputs,
        };
        let mut child = Child::spawn(&command, None, &[], timeout).map_err(|e| {
            refuse(format!(
                "could not start `{}` for component `{}`: {e}",
                command.join(" "),
                comp.path
            ))
        })?;
        Remote::greet(&mut child, &hello).map_err(|e| component_error(&comp.path, e))?;
        pending.push((child, hello));
    }
    let mut remotes = Vec::with_capacity(pending.len());
    for (comp, (child, hello)) in circuit.components.iter().zip(pending.drain(..)) {
        let remote = Remote::accept(child, &hello, &comp.interface)
            .map_err(|e| component_error(&comp.path, e))?;
        remotes.push(remote);
    }
    let ids = remotes.iter().map(Remote::id).collect();
    for (comp, remote) in circuit.components.iter_mut().zip(remotes) {
        comp.behaviour = Box::new(remote.with_checkpoints());
    }
    Ok(ids)
}

fn component_error(path: &str, e: String) -> RunError {
    RunError::Processes(format!(
        "component `{path}` could not start as a process: {e}"
    ))
}
