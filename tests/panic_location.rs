//! A panicking model's error names the place in its source where it
//! panicked, when the program's panic hook notes it (as the command line's
//! does): `(at tests/panic_location.rs:LINE:COL)`. A test of its own, as it
//! installs a process-wide panic hook.

use cspsim::engine::{RunError, RunOptions};
use cspsim::{Interface, Io, Model, ModelInfo, PortType, Registry};

struct Crash;

impl Model for Crash {
    fn reset(&mut self, io: &Io<'_>) {
        io.set(0, 0);
    }
    fn tick(&mut self, _io: &Io<'_>) {
        let line = line!() + 1;
        panic!("crash at line {line}");
    }
}

#[test]
fn a_model_panic_names_its_source_location() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if cspsim::engine::in_model_call() {
            cspsim::engine::note_panic_location(info);
        } else {
            default(info);
        }
    }));
    let mut registry = Registry::standard();
    registry.register(ModelInfo::new(
        "crash",
        "panics at the first edge",
        |_, _| {
            Ok((
                Interface::new().registered("q", PortType::Bits(1)),
                Box::new(Crash) as Box<dyn Model>,
            ))
        },
    ));
    let circuit = cspsim::netlist::load_str(
        r#"(components: {"c": (model: "crash")})"#,
        "crash.ron",
        None,
        &registry,
        0,
    )
    .unwrap();
    let error = cspsim::engine::run(circuit, &RunOptions::default(), None).unwrap_err();
    let RunError::ComponentPanicked { fault, .. } = &error else {
        panic!("{error}");
    };
    let line = fault
        .message
        .strip_prefix("crash at line ")
        .and_then(|rest| rest.split_once(' '))
        .map(|(line, _)| line.to_string())
        .unwrap_or_else(|| panic!("{}", fault.message));
    assert!(
        fault
            .message
            .ends_with(&format!("(at tests/panic_location.rs:{line}:9)")),
        "{error}"
    );
}
