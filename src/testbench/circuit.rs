//! A circuit on the bench as if it were one model: a composite model
//! through its own ports, or a whole circuit through its unconnected
//! inputs and every output. Its behaviour is a [`Simulation`]; each
//! evaluation pokes the bench's inputs into it and reads its outputs, and
//! each clock edge steps it one cycle.

use crate::circuit::{Circuit, InnerPorts, Source};
use crate::model::{Interface, Io, Model, Timing};
use crate::simulation::{SimError, Simulation};
use crate::value::PortType;

/// A port of the bench: its path in the simulation, and whether it is `Real`.
struct Port {
    path: String,
    real: bool,
}

/// A circuit as one model.
pub(super) struct CircuitModel {
    sim: Simulation,
    inputs: Vec<Port>,
    /// The outputs, and whether each is registered.
    outputs: Vec<(Port, bool)>,
}

/// The interface and model of instance `dut`'s ports in `sim` (a circuit of
/// one composite instance), named without the `dut.` prefix.
pub(super) fn composite(sim: Simulation) -> (Interface, CircuitModel) {
    let ports: Vec<_> = sim
        .circuit()
        .composite_ports
        .iter()
        // `dut`'s own ports, not those of the composites inside it (`dut.sub.x`).
        .filter_map(|p| Some((p.name.strip_prefix("dut.")?, p)))
        .filter(|(name, _)| !name.contains('.'))
        .map(|(name, p)| (name.to_string(), p.inner.clone()))
        .collect();
    let circuit = sim.circuit();
    let mut interface = Interface::new().clocked(is_clocked(circuit));
    let (mut inputs, mut outputs) = (Vec::new(), Vec::new());
    for (name, inner) in ports {
        let path = format!("dut.{name}");
        match inner {
            InnerPorts::Input(readers) => {
                // A port that drives nothing inside is left out.
                let Some(r) = readers.first() else { continue };
                let decl = &circuit.components[r.component].interface.inputs()[r.port];
                let ty = decl.ty;
                interface = interface.optional_input(name, ty, decl.default.unwrap_or(0));
                inputs.push(Port {
                    path,
                    real: ty == PortType::Real,
                });
            }
            InnerPorts::Output(r) => {
                let decl = &circuit.components[r.component].interface.outputs()[r.port];
                let registered = decl.timing == Timing::Registered;
                outputs.push((
                    Port {
                        path,
                        real: decl.ty == PortType::Real,
                    },
                    registered,
                ));
                interface = declare(interface, name, decl.ty, registered);
            }
        }
    }
    (
        interface,
        CircuitModel {
            sim,
            inputs,
            outputs,
        },
    )
}

/// The interface and model of a whole circuit: every input that no net
/// drives, and every output, named `component.port`.
pub(super) fn whole(sim: Simulation) -> (Interface, CircuitModel) {
    let circuit = sim.circuit();
    let mut interface = Interface::new().clocked(is_clocked(circuit));
    let (mut inputs, mut outputs) = (Vec::new(), Vec::new());
    for comp in &circuit.components {
        for (decl, src) in comp.interface.inputs().iter().zip(&comp.inputs) {
            if let Source::Constant(value) = *src {
                // It starts at the value the circuit gives it.
                let path = format!("{}.{}", comp.path, decl.name);
                interface = interface.optional_input(path.clone(), decl.ty, value);
                inputs.push(Port {
                    path,
                    real: decl.ty == PortType::Real,
                });
            }
        }
    }
    for comp in &circuit.components {
        for decl in comp.interface.outputs() {
            let path = format!("{}.{}", comp.path, decl.name);
            let registered = decl.timing == Timing::Registered;
            interface = declare(interface, path.clone(), decl.ty, registered);
            outputs.push((
                Port {
                    path,
                    real: decl.ty == PortType::Real,
                },
                registered,
            ));
        }
    }
    (
        interface,
        CircuitModel {
            sim,
            inputs,
            outputs,
        },
    )
}

fn declare(interface: Interface, name: String, ty: PortType, registered: bool) -> Interface {
    if registered {
        interface.registered(name, ty)
    } else {
        interface.combinational(name, ty)
    }
}

fn is_clocked(circuit: &Circuit) -> bool {
    circuit.components.iter().any(|c| c.interface.is_clocked())
}

impl CircuitModel {
    /// The bench's inputs into the simulation.
    fn poke(&mut self, io: &Io<'_>) {
        for (i, port) in self.inputs.iter().enumerate() {
            let done = if port.real {
                self.sim.poke_real(&port.path, io.get_real(i))
            } else {
                self.sim.poke(&port.path, io.get(i))
            };
            done.unwrap_or_else(|e| stop(e));
        }
    }

    /// The simulation's outputs, registered or not, to the bench.
    fn show(&mut self, io: &Io<'_>, registered: bool) {
        for (o, (port, is_registered)) in self.outputs.iter().enumerate() {
            if *is_registered != registered {
                continue;
            }
            let value = if port.real {
                self.sim.peek_real(&port.path).map(f64::to_bits)
            } else {
                self.sim.peek(&port.path)
            };
            io.set(o, value.unwrap_or_else(|e| stop(e)));
        }
    }
}

/// A simulation's failure as the bench reports a model's: an `assert` as
/// [`fail`](crate::model::fail), anything else as a panic.
fn stop(e: SimError) -> ! {
    match e {
        SimError::Fault {
            path,
            model,
            how,
            message,
            ..
        } if how == "failed" => crate::model::fail(format!(
            "component `{path}` (model `{model}`) failed: {message}"
        )),
        other => std::panic::panic_any(other.to_string()),
    }
}

impl Model for CircuitModel {
    fn reset(&mut self, io: &Io<'_>) {
        self.show(io, true);
    }

    fn eval(&mut self, io: &Io<'_>) {
        self.poke(io);
        self.show(io, false);
    }

    fn tick(&mut self, io: &Io<'_>) {
        self.poke(io);
        self.sim.step(1).unwrap_or_else(|e| stop(e));
        self.show(io, true);
    }
}
