//! Composite instances: a composite model instantiated under a path (its
//! parameters checked, its body elaborated as a scope of its own) and its
//! port mappings, which make the instance look like a primitive from
//! outside; and the report of its required inputs nothing drives.

use std::collections::HashMap;
use std::ops::Range;
use std::rc::Rc;

use super::declare::unknown_param_hint;
use super::{
    inside, Body, Elaborator, Frame, InPort, Instance, Locals, Port, PortIx, Ports,
    MAX_COMPOSITE_DEPTH, MAX_COUNT,
};
use crate::circuit::{HierarchyNode, Source};
use crate::expr::{ExprError, Program, Scope};
use crate::netlist::diagnostic::{Diagnostic, ErrorKind};
use crate::netlist::endpoint::{self, Index};
use crate::netlist::library::{Composite, EntrySpans};
use crate::netlist::locate::quoted_after;
use crate::netlist::values::{signed, Env, INDEX};
use crate::params::ParamValue;
use crate::value::PortType;

impl<'a> Elaborator<'a> {
    /// Instantiate a composite model at `path`.
    pub(super) fn composite(
        &mut self,
        composite: &Rc<Composite>,
        path: &str,
        given: Vec<(String, ParamValue)>,
        file: usize,
        span: &Option<Range<usize>>,
        tree: Option<&mut Vec<HierarchyNode>>,
    ) -> Option<Ports> {
        let def = &composite.def;
        if self.active.contains(&composite.name) {
            let chain = [
                self.active.as_slice(),
                std::slice::from_ref(&composite.name),
            ]
            .concat()
            .join(" → ");
            self.report(
                Diagnostic::new(
                    ErrorKind::BadCompositeModel,
                    format!(
                        "composite model `{}` contains itself: {chain}",
                        composite.name
                    ),
                )
                .in_file(file)
                .at(span.clone())
                .hint("a composite model cannot instantiate itself, directly or through others"),
            );
            return None;
        }
        if def.components.0.is_empty() {
            let text = &self.files[composite.file].text;
            let at = crate::netlist::locate::find_field(text, "components")
                .map(|k| k..k + "components".len());
            self.report(
                Diagnostic::new(
                    ErrorKind::BadCompositeModel,
                    format!("composite model `{}` has no components", composite.name),
                )
                .in_file(composite.file)
                .at(at)
                .hint("a composite model is built of components: `components: { \"name\": Component(model: \"counter\") }`"),
            );
            return None;
        }
        if self.active.len() >= MAX_COMPOSITE_DEPTH {
            self.report(
                Diagnostic::new(
                    ErrorKind::BadCompositeModel,
                    format!(
                        "composite models nest more than {MAX_COMPOSITE_DEPTH} deep here (`{}` inside {})",
                        composite.name,
                        self.active.last().map_or("", String::as_str)
                    ),
                )
                .in_file(file)
                .at(span.clone())
                .hint("flatten the hierarchy: a composite may use another, but not in a chain this long"),
            );
            return None;
        }
        let mut values: Vec<(String, ParamValue)> = def.params.0.clone();
        for (name, value) in given {
            let Some(slot) = values.iter_mut().find(|(n, _)| *n == name) else {
                let known = def.params.0.iter().map(|(n, _)| n.as_str());
                let hint = unknown_param_hint(&name, known, &composite.name, false);
                let at = span
                    .as_ref()
                    .and_then(|s| quoted_after(&self.files[file].text, &name, s.end));
                self.report(
                    Diagnostic::new(
                        ErrorKind::BadParameter,
                        format!(
                            "component `{path}` ({}): unknown parameter `{name}`",
                            composite.name
                        ),
                    )
                    .in_file(file)
                    .at(at.or_else(|| span.clone()))
                    .hint(hint),
                );
                return None;
            };
            match coerce(&slot.1, value) {
                Ok(v) => slot.1 = v,
                Err(message) => {
                    let at = span
                        .as_ref()
                        .and_then(|s| quoted_after(&self.files[file].text, &name, s.end));
                    self.report(
                        Diagnostic::new(
                            ErrorKind::BadParameter,
                            format!(
                                "component `{path}` ({}): parameter `{name}` {message}",
                                composite.name
                            ),
                        )
                        .in_file(file)
                        .at(at.or_else(|| span.clone()))
                        .hint(format!(
                            "its default in {} is {}",
                            self.files[composite.file].name, slot.1
                        )),
                    );
                    return None;
                }
            }
        }
        let env = Env::new(values);
        let outer = Rc::clone(&self.context);
        let mut frames = outer.to_vec();
        frames.push(Frame {
            path: path.to_string(),
            model: composite.name.clone(),
            file,
            span: span.clone(),
        });
        self.context = Rc::from(frames);
        self.active.push(composite.name.clone());
        let body = Body {
            file: composite.file,
            dir: composite.dir.as_deref(),
            components: &def.components.0,
            nets: &def.nets.0,
            located: &composite.located,
        };
        let mut locals = self.scope(&body, path, &env, tree);
        let ports = self.ports(composite, path, &env, &mut locals);
        self.active.pop();
        self.context = outer;
        ports
    }

    /// The ports of a composite instance whose inside is `locals`.
    fn ports(
        &mut self,
        composite: &Composite,
        path: &str,
        env: &Env,
        locals: &mut Locals,
    ) -> Option<Ports> {
        let def = &composite.def;
        let file = composite.file;
        let mut ports = Ports {
            path: path.to_string(),
            model: composite.name.clone(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            by_name: HashMap::new(),
        };
        let mut ok = true;
        for (k, (key, targets)) in def.inputs.0.iter().enumerate() {
            let spans = composite.located.inputs.get(k).cloned().unwrap_or_default();
            let Some(elements) = self.port_elements(file, key, &spans, env) else {
                ok = false;
                continue;
            };
            for (port_name, values, scope) in elements {
                let mut inner = Vec::new();
                let mut ty: Option<(PortType, String)> = None;
                for (t, text) in targets.iter().enumerate() {
                    let span = spans.values.get(t).cloned().flatten();
                    let Some(found) = self.endpoint(file, locals, text, &span, &scope, &values)
                    else {
                        ok = false;
                        continue;
                    };
                    for port in found {
                        match port {
                            Port::Input(refs, mark) => {
                                if let Some((e, el, p)) = mark {
                                    mark_connected(locals, e, el, p);
                                }
                                for r in refs {
                                    let t =
                                        self.components[r.component].interface.inputs()[r.port].ty;
                                    let name = self.components[r.component].input_name(r.port);
                                    match &ty {
                                        Some((first, first_name)) if *first != t => {
                                            self.report(
                                                Diagnostic::new(ErrorKind::TypeMismatch, format!("input port `{port_name}` of `{}` feeds `{first_name}` ({first}) and `{name}` ({t})", composite.name))
                                                    .in_file(file)
                                                    .at(span.clone())
                                                    .hint("every inner input a port drives has the port's type"),
                                            );
                                            ok = false;
                                        }
                                        Some(_) => {}
                                        None => ty = Some((t, name)),
                                    }
                                    self.mentioned.insert(r);
                                    inner.push(r);
                                }
                            }
                            Port::Output(o) => {
                                let name = self.components[o.component].output_name(o.port);
                                self.report(
                                    Diagnostic::new(ErrorKind::WrongDirection, format!("input port `{port_name}` maps to `{name}`, which is an output"))
                                        .in_file(file)
                                        .at(span.clone())
                                        .hint("an input port lists the inner inputs it drives; outputs go in `outputs`"),
                                );
                                ok = false;
                            }
                        }
                    }
                }
                ports
                    .by_name
                    .insert(port_name.clone(), PortIx::In(ports.inputs.len()));
                ports.inputs.push(InPort {
                    name: port_name,
                    targets: inner,
                    connected: false,
                });
            }
        }
        for (k, (key, target)) in def.outputs.0.iter().enumerate() {
            let spans = composite
                .located
                .outputs
                .get(k)
                .cloned()
                .unwrap_or_default();
            let Some(elements) = self.port_elements(file, key, &spans, env) else {
                ok = false;
                continue;
            };
            let span = spans.values.first().cloned().flatten();
            for (port_name, values, scope) in elements {
                let Some(found) = self.endpoint(file, locals, target, &span, &scope, &values)
                else {
                    ok = false;
                    continue;
                };
                match found.as_slice() {
                    [Port::Output(o)] => {
                        ports
                            .by_name
                            .insert(port_name.clone(), PortIx::Out(ports.outputs.len()));
                        ports.outputs.push((port_name, *o));
                    }
                    _ => {
                        self.report(
                            Diagnostic::new(ErrorKind::WrongDirection, format!("output port `{port_name}` of `{}` must name exactly one inner output", composite.name))
                                .in_file(file)
                                .at(span.clone())
                                .hint("write \"name\": \"inner.output\", with an index for arrays, e.g. \"hit[n]\": \"pix[i].hit\""),
                        );
                        ok = false;
                    }
                }
            }
        }
        if ports.by_name.len() != ports.inputs.len() + ports.outputs.len() {
            self.report(
                Diagnostic::new(
                    ErrorKind::BadCompositeModel,
                    format!(
                        "composite model `{}` declares a port name twice",
                        composite.name
                    ),
                )
                .in_file(file)
                .hint("every port name (and array element) is unique among inputs and outputs"),
            );
            ok = false;
        }
        if ok {
            use crate::circuit::{CompositePort, InnerPorts};
            let inputs = ports.inputs.iter().map(|p| CompositePort {
                name: format!("{path}.{}", p.name),
                inner: InnerPorts::Input(p.targets.clone()),
            });
            let outputs = ports.outputs.iter().map(|(name, o)| CompositePort {
                name: format!("{path}.{name}"),
                inner: InnerPorts::Output(*o),
            });
            self.composite_ports.extend(inputs.chain(outputs));
        }
        ok.then_some(ports)
    }

    /// The elements of a composite port declaration `name` or `name[N]`:
    /// each element's name, its index value and the scope binding `i`.
    fn port_elements(
        &mut self,
        file: usize,
        key: &str,
        spans: &EntrySpans,
        env: &Env,
    ) -> Option<Vec<(String, Vec<u64>, Scope)>> {
        let at = |e: &ExprError| inside(&spans.key, &e.span);
        let part = match endpoint::parse_part(key) {
            Ok(p) => p,
            Err(e) => {
                self.report(
                    Diagnostic::new(
                        ErrorKind::BadCompositeModel,
                        format!("port `{key}`: {}", e.message),
                    )
                    .in_file(file)
                    .at(at(&e).or_else(|| spans.key.clone()))
                    .hint("a port is declared as \"name\" or, for an array, \"name[size]\""),
                );
                return None;
            }
        };
        let mut scope = env.scope().clone();
        scope.input(INDEX, 64);
        match &part.index {
            None => Some(vec![(part.name, vec![0], scope)]),
            Some(Index::One(size)) => {
                match Program::from_node(size, env.scope()).map(|p| p.constant()) {
                    Ok(Some(n)) if (1..=MAX_COUNT).contains(&signed(n)) => Some(
                        (0..n)
                            .map(|k| (format!("{}[{k}]", part.name), vec![k], scope.clone()))
                            .collect(),
                    ),
                    Ok(_) => {
                        self.report(
                            Diagnostic::new(
                                ErrorKind::BadIndex,
                                format!("port array `{key}` has a size out of range"),
                            )
                            .in_file(file)
                            .at(spans.key.clone())
                            .hint(format!("a port array has 1 to {MAX_COUNT} elements")),
                        );
                        None
                    }
                    Err(e) => {
                        self.report(
                            Diagnostic::new(
                                ErrorKind::BadIndex,
                                format!("port `{key}`: {}", e.message),
                            )
                            .in_file(file)
                            .at(at(&e).or_else(|| spans.key.clone()))
                            .hint(e.hint.unwrap_or_else(|| {
                                "the size is an expression over the model's parameters".into()
                            })),
                        );
                        None
                    }
                }
            }
            Some(_) => {
                self.report(
                    Diagnostic::new(
                        ErrorKind::BadIndex,
                        format!(
                            "port `{key}`: a port array is declared with its size, `{}[N]`",
                            part.name
                        ),
                    )
                    .in_file(file)
                    .at(spans.key.clone())
                    .hint("ranges and `*` are for nets"),
                );
                None
            }
        }
    }

    /// A composite child's inputs that nothing in this scope drives: the
    /// inner inputs of each take their defaults (0 when open); a required
    /// one is reported, unless inputs are left open.
    pub(super) fn unconnected_ports(&mut self, file: usize, locals: &Locals) {
        for entity in &locals.entities {
            for element in &entity.elements {
                let Instance::Composite(ports) = element else {
                    continue;
                };
                for input in ports.inputs.iter().filter(|p| !p.connected) {
                    let required = input.targets.iter().any(|r| {
                        self.components[r.component].interface.inputs()[r.port]
                            .default
                            .is_none()
                    });
                    if !required || self.open_inputs {
                        for r in &input.targets {
                            let component = &mut self.components[r.component];
                            let default = component.interface.inputs()[r.port].default;
                            component.inputs[r.port] = Source::Constant(default.unwrap_or(0));
                        }
                        continue;
                    }
                    for r in &input.targets {
                        self.mentioned.insert(*r);
                    }
                    self.report(
                        Diagnostic::new(
                            ErrorKind::UnconnectedInput,
                            format!(
                                "input `{}.{}` ({}) is not connected",
                                ports.path, input.name, ports.model
                            ),
                        )
                        .in_file(file)
                        .at(entity.span.clone())
                        .hint(format!(
                            "drive it from an output in `nets`, e.g. \"other.y\": [\"{}.{}\"]",
                            ports.path.rsplit('.').next().unwrap_or(&ports.path),
                            input.name
                        )),
                    );
                }
            }
        }
    }
}

pub(super) fn mark_connected(locals: &mut Locals, entity: usize, element: usize, port: usize) {
    if let Some(Instance::Composite(p)) = locals.entities[entity].elements.get_mut(element) {
        p.inputs[port].connected = true;
    }
}

/// A composite parameter's given value, checked against its default's kind.
fn coerce(default: &ParamValue, given: ParamValue) -> Result<ParamValue, String> {
    match (default, given) {
        (ParamValue::Real(_), ParamValue::Int(v)) => Ok(ParamValue::Real(v as f64)),
        (d, g) if std::mem::discriminant(d) == std::mem::discriminant(&g) => Ok(g),
        (d, g) => Err(format!(
            "is {} but must be {} like its default",
            g.kind_name(),
            d.kind_name()
        )),
    }
}
