//! What a trace records and how it is laid out: the nets sampled every cycle
//! (the *row*), the constants written once, and the scope tree of the header.

use crate::circuit::{Circuit, PortRef, Source};
use crate::value::PortType;

use super::select::{select, Port};

/// Where a traced variable's value comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VarSource {
    /// Entry `k` of each cycle's row.
    Row(usize),
    /// A constant (an unconnected optional input).
    Constant(u64),
}

/// One `$var` in the header.
#[derive(Clone, Debug, PartialEq)]
pub struct Var {
    /// The port name within its component's scope.
    pub name: String,
    /// Its type.
    pub ty: PortType,
    /// Where its value comes from. Variables with the same source share an
    /// identifier code, so a net's changes are written once however many
    /// ports show it.
    pub source: VarSource,
}

/// The variables of one component, under its path.
#[derive(Clone, Debug, PartialEq)]
pub struct Scope {
    /// The component path (`a.b.c` nests scopes `a`, `b`, `c`).
    pub path: String,
    /// Its traced ports.
    pub vars: Vec<Var>,
}

/// A complete trace layout.
#[derive(Clone, Debug, PartialEq)]
pub struct TracePlan {
    /// The circuit's name: the top scope.
    pub top: String,
    /// The nets sampled each cycle, in row order.
    pub row: Vec<PortRef>,
    /// The type of each row entry.
    pub row_types: Vec<PortType>,
    /// Whether the `clock` signal is traced.
    pub clock: bool,
    /// Component scopes with their variables, in component order.
    pub scopes: Vec<Scope>,
    /// Clock period in units of the trace's `timescale`: the circuit's
    /// period, or ten times it where the circuit's period is 1 (see
    /// [`written_clock`]).
    pub period: u64,
    /// The trace's timescale.
    pub timescale: (u32, vcd::TimescaleUnit),
}

/// The period and timescale a trace is written in, for a circuit clock of
/// `period` units of `scale`×`unit`. A period of 1 would leave no time for
/// the clock's falling edge, so its trace counts in a unit ten times finer
/// (`1ns` becomes `100ps`, and a cycle ten units): every cycle is still one
/// period of the circuit's timescale, and the clock toggles visibly. Only
/// at `1fs`, with no finer unit, does the period stay 1.
pub fn written_clock(
    period: u64,
    scale: u32,
    unit: vcd::TimescaleUnit,
) -> (u64, (u32, vcd::TimescaleUnit)) {
    use vcd::TimescaleUnit::*;
    if period != 1 {
        return (period, (scale, unit));
    }
    let finer = match (scale, unit) {
        (10 | 100, unit) => Some((scale / 10, unit)),
        (_, S) => Some((100, MS)),
        (_, MS) => Some((100, US)),
        (_, US) => Some((100, NS)),
        (_, NS) => Some((100, PS)),
        (_, PS) => Some((100, FS)),
        (_, FS) => None,
    };
    match finer {
        Some(timescale) => (10, timescale),
        None => (period, (scale, unit)),
    }
}

impl TracePlan {
    /// The layout of a trace of `circuit` selecting `patterns`.
    pub fn new(circuit: &Circuit, patterns: &[String]) -> Self {
        let (selection, _) = select(&circuit.components, patterns);
        let mut plan = TracePlan {
            top: circuit.name.clone(),
            row: Vec::new(),
            row_types: Vec::new(),
            clock: selection.clock,
            scopes: Vec::new(),
            period: 0,
            timescale: (0, circuit.clock.unit),
        };
        let clock = &circuit.clock;
        (plan.period, plan.timescale) = written_clock(clock.period, clock.scale, clock.unit);
        let mut row_index = std::collections::HashMap::new();
        for (c, port) in selection.ports {
            let comp = &circuit.components[c];
            let (name, ty, source) = match port {
                Port::Output(o) => {
                    let decl = &comp.interface.outputs()[o];
                    (
                        &decl.name,
                        decl.ty,
                        Source::Driver(PortRef {
                            component: c,
                            port: o,
                        }),
                    )
                }
                Port::Input(i) => {
                    let decl = &comp.interface.inputs()[i];
                    (&decl.name, decl.ty, comp.inputs[i])
                }
            };
            let source = match source {
                Source::Constant(v) => VarSource::Constant(v),
                Source::Driver(net) => VarSource::Row(*row_index.entry(net).or_insert_with(|| {
                    plan.row.push(net);
                    plan.row_types.push(ty);
                    plan.row.len() - 1
                })),
            };
            if plan.scopes.last().is_none_or(|s| s.path != comp.path) {
                plan.scopes.push(Scope {
                    path: comp.path.clone(),
                    vars: Vec::new(),
                });
            }
            if let Some(scope) = plan.scopes.last_mut() {
                scope.vars.push(Var {
                    name: name.clone(),
                    ty,
                    source,
                });
            }
        }
        plan
    }

    /// The bit range a variable of type `ty` is declared with, as Icarus and
    /// Verilator write it: `[7:0]` for a vector, none for one bit or a real.
    /// It is a token of its own after the name, so that a port array's
    /// index stays in the name (`in[0] [7:0]`) and GTKWave does not take
    /// `[0]` for a bit range.
    pub fn range(ty: PortType) -> Option<(u32, u32)> {
        match ty {
            PortType::Bits(w) if w > 1 => Some((u32::from(w) - 1, 0)),
            _ => None,
        }
    }

    /// Whether the trace records nothing.
    pub fn is_empty(&self) -> bool {
        !self.clock && self.scopes.is_empty()
    }
}
