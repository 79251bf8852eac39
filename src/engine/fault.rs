//! Catching a model's panic and turning it into an error that names the
//! component, its model, the cycle and the phase.

use std::any::Any;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use crate::model::Failure;

/// Which call a fault happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// [`Model::reset`](crate::Model::reset), before cycle 0.
    Reset,
    /// [`Model::eval`](crate::Model::eval).
    Eval,
    /// [`Model::tick`](crate::Model::tick), the clock edge.
    Tick,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Reset => "reset",
            Phase::Eval => "evaluation",
            Phase::Tick => "the clock edge",
        })
    }
}

/// How a component stopped the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// It panicked: a bug in the model or input it cannot handle.
    Panicked,
    /// It called [`fail`](crate::model::fail): a check in the circuit failed.
    Failed,
}

/// A component that stopped the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The cycle.
    pub cycle: u64,
    /// The call.
    pub phase: Phase,
    /// The component's index.
    pub component: usize,
    /// Panic or failure.
    pub kind: FaultKind,
    /// The panic or failure message.
    pub message: String,
}

/// Faults reported by any thread; the earliest (by cycle, phase, component) wins.
#[derive(Default)]
pub struct Faults(Mutex<Vec<Fault>>);

impl Faults {
    /// Record a fault.
    pub fn report(&self, fault: Fault) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(fault);
    }

    /// The earliest fault, if any.
    pub fn first(self) -> Option<Fault> {
        let faults = self.0.into_inner().unwrap_or_else(|e| e.into_inner());
        faults
            .into_iter()
            .min_by_key(|f| (f.cycle, f.phase, f.component))
    }
}

thread_local! {
    static IN_MODEL: Cell<bool> = const { Cell::new(false) };
    static PANICKED_AT: Cell<Option<String>> = const { Cell::new(None) };
}

/// From a panic hook: remember where a model call panicked (`file:line:col`),
/// so that the fault names the place in the model's source.
pub fn note_panic_location(info: &std::panic::PanicHookInfo<'_>) {
    if in_model_call() {
        if let Some(at) = info.location() {
            PANICKED_AT
                .with(|p| p.set(Some(format!("{}:{}:{}", at.file(), at.line(), at.column()))));
        }
    }
}

/// Whether this thread is inside a model call right now. A panic hook can
/// use it to stay quiet about model panics, which the engine reports itself.
pub fn in_model_call() -> bool {
    IN_MODEL.with(Cell::get)
}

/// Run `f` with a panic hook that leaves a model's panic to the engine,
/// which reports it with its component, cycle and place.
pub fn with_model_panic_hook<R>(f: impl FnOnce() -> R) -> R {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if in_model_call() {
            note_panic_location(info);
        } else {
            default_hook(info);
        }
    }));
    let result = f();
    let _ = std::panic::take_hook();
    result
}

/// Run model code `f`; if it panics or fails, how and why.
pub fn guard<R>(f: impl FnOnce() -> R) -> Result<R, (FaultKind, String)> {
    IN_MODEL.with(|m| m.set(true));
    let result = catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let (kind, mut text) = message(&*payload);
        if let (FaultKind::Panicked, Some(at)) = (kind, PANICKED_AT.with(Cell::take)) {
            text = format!("{text} (at {at})");
        }
        (kind, text)
    });
    IN_MODEL.with(|m| m.set(false));
    result
}

fn message(payload: &(dyn Any + Send)) -> (FaultKind, String) {
    if let Some(Failure(s)) = payload.downcast_ref::<Failure>() {
        (FaultKind::Failed, s.clone())
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (FaultKind::Panicked, (*s).to_string())
    } else if let Some(s) = payload.downcast_ref::<String>() {
        (FaultKind::Panicked, s.clone())
    } else {
        (
            FaultKind::Panicked,
            "panicked with a non-string payload".to_string(),
        )
    }
}
