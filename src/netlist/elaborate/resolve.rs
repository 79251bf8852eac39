//! Endpoint resolution: a written endpoint (`pix[i].hit`) becomes the
//! ports it names in a scope — its indices evaluated and checked against
//! the arrays, unknown components and ports reported with suggestions.

use std::ops::Range;

use super::{inside, Elaborator, Instance, Locals, Port, PortIx};
use crate::circuit::PortRef;
use crate::expr::parse::Node;
use crate::expr::{Program, Scope};
use crate::netlist::diagnostic::{Diagnostic, ErrorKind};
use crate::netlist::endpoint::{self, Endpoint, Index, Part};
use crate::netlist::values::signed;
use crate::suggest::closest;

impl<'a> Elaborator<'a> {
    /// The length of port array `base` on an entity's first element.
    pub(super) fn port_array_len(
        &self,
        locals: &Locals,
        entity: Option<usize>,
        base: &str,
    ) -> usize {
        let Some(first) = entity.and_then(|e| locals.entities[e].elements.first()) else {
            return 0;
        };
        let has = |name: &str| match first {
            Instance::Primitive(c) => {
                let iface = &self.components[*c].interface;
                iface.input_index(name).is_some() || iface.output_index(name).is_some()
            }
            Instance::Composite(p) => p.by_name.contains_key(name),
        };
        // Elements 0..len exist: search for len in O(log len) lookups, as
        // this runs for every connection to the array.
        let has_element = |k: usize| has(&format!("{base}[{k}]"));
        if !has_element(0) {
            return 0;
        }
        let (mut present, mut absent) = (0, 1);
        while has_element(absent) {
            present = absent;
            absent *= 2;
        }
        while absent - present > 1 {
            let mid = present + (absent - present) / 2;
            if has_element(mid) {
                present = mid;
            } else {
                absent = mid;
            }
        }
        absent
    }

    pub(super) fn unknown_component(
        &mut self,
        file: usize,
        locals: &Locals,
        part: &Part,
        span: &Option<Range<usize>>,
    ) {
        let hint = match closest(&part.name, locals.by_name.keys().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "declare it in `components`".to_string(),
        };
        let at = inside(span, &part.span);
        self.report(
            Diagnostic::new(
                ErrorKind::UnknownComponent,
                format!("unknown component `{}`", part.name),
            )
            .in_file(file)
            .at(at.or_else(|| span.clone()))
            .hint(hint),
        );
    }

    /// Parse and resolve an endpoint in a port map.
    pub(super) fn endpoint(
        &mut self,
        file: usize,
        locals: &Locals,
        text: &str,
        span: &Option<Range<usize>>,
        scope: &Scope,
        values: &[u64],
    ) -> Option<Vec<Port>> {
        match endpoint::parse(text) {
            Ok(ep) => {
                if locals.broken.contains(&ep.component.name) {
                    return None;
                }
                self.resolve(file, locals, &ep, text, span, scope, values)
            }
            Err(e) => {
                let at = inside(span, &e.span);
                self.report(
                    Diagnostic::new(ErrorKind::BadEndpoint, e.message.clone())
                        .in_file(file)
                        .at(at.or_else(|| span.clone()))
                        .hint(e.hint.unwrap_or_default()),
                );
                None
            }
        }
    }

    /// The ports `ep` names, with the index variables in `scope` (inputs) at `values`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn resolve(
        &mut self,
        file: usize,
        locals: &Locals,
        ep: &Endpoint,
        text: &str,
        span: &Option<Range<usize>>,
        scope: &Scope,
        values: &[u64],
    ) -> Option<Vec<Port>> {
        let Some(&e) = locals.by_name.get(&ep.component.name) else {
            self.unknown_component(file, locals, &ep.component, span);
            return None;
        };
        let entity = &locals.entities[e];
        let len = entity.elements.len() as u64;
        let located = |part: &Part| inside(span, &part.span);
        let elements: Vec<u64> = match self.indices(&ep.component, scope, values, len, entity.array)
        {
            Ok(list) => list,
            Err((message, hint)) => {
                self.report(
                    Diagnostic::new(
                        ErrorKind::BadIndex,
                        format!("`{}`: {message}", crate::netlist::load::shorten(text)),
                    )
                    .in_file(file)
                    .at(located(&ep.component).or_else(|| span.clone()))
                    .hint(hint),
                );
                return None;
            }
        };
        let mut found = Vec::new();
        for el in elements {
            let instance = &entity.elements[el as usize];
            let port_names: Vec<String> = match &ep.port.index {
                None => vec![ep.port.name.clone()],
                Some(_) => {
                    let len = self.port_array_len(locals, Some(e), &ep.port.name) as u64;
                    match self.indices(&ep.port, scope, values, len, true) {
                        Ok(list) => list
                            .into_iter()
                            .map(|k| format!("{}[{k}]", ep.port.name))
                            .collect(),
                        Err((message, hint)) => {
                            let hint = if len == 0 {
                                format!(
                                    "`{}` ({}) has no port array `{}`",
                                    ep.component.name, entity.model, ep.port.name
                                )
                            } else {
                                hint
                            };
                            self.report(
                                Diagnostic::new(
                                    ErrorKind::BadIndex,
                                    format!("`{}`: {message}", crate::netlist::load::shorten(text)),
                                )
                                .in_file(file)
                                .at(located(&ep.port).or_else(|| span.clone()))
                                .hint(hint),
                            );
                            return None;
                        }
                    }
                }
            };
            for port in port_names {
                match self.port(instance, &port, (e, el as usize)) {
                    Some(p) => found.push(p),
                    None => {
                        let path = self.instance_path(instance);
                        let listing = self.port_listing(instance, &port);
                        self.report(
                            Diagnostic::new(
                                ErrorKind::UnknownPort,
                                format!(
                                    "component `{path}` ({}) has no port `{port}`",
                                    entity.model
                                ),
                            )
                            .in_file(file)
                            .at(located(&ep.port).or_else(|| span.clone()))
                            .hint(listing),
                        );
                        return None;
                    }
                }
            }
        }
        Some(found)
    }

    /// The element numbers an index selects in an array of `len`.
    fn indices(
        &self,
        part: &Part,
        scope: &Scope,
        values: &[u64],
        len: u64,
        array: bool,
    ) -> Result<Vec<u64>, (String, String)> {
        let what = if array { "elements" } else { "element" };
        let eval = |node: &Node| {
            Program::from_node(node, scope)
                .map(|p| p.eval(|k| values[k], &[]))
                .map_err(|e| (e.message, e.hint.unwrap_or_default()))
        };
        let check = |k: u64| {
            if k < len {
                Ok(k)
            } else {
                Err((
                    format!("`{}[{}]` does not exist", part.name, signed(k)),
                    format!(
                        "`{}` has {len} {what} (0 to {})",
                        part.name,
                        len.saturating_sub(1)
                    ),
                ))
            }
        };
        match &part.index {
            None if array && len > 0 => Err((
                format!("`{}` is an array of {len}", part.name),
                format!(
                    "name one element or several: `{0}[0]`, `{0}[i]`, `{0}[*]`",
                    part.name
                ),
            )),
            None => Ok(vec![0]),
            Some(_) if !array => Err((
                format!("`{}` is not an array", part.name),
                "only components declared with `count` (and port arrays) take an index".to_string(),
            )),
            Some(Index::One(node)) => Ok(vec![check(eval(node)?)?]),
            Some(Index::All) => Ok((0..len).collect()),
            Some(Index::Range(from, to)) => {
                let (a, b) = (eval(from)?, eval(to)?);
                if backwards(a, b) {
                    return Err((
                        format!("the range {a}..{b} is backwards"),
                        "write [from..to] with from ≤ to; `to` is excluded".into(),
                    ));
                }
                if b > len {
                    check(b - 1)?;
                }
                Ok((a..b).collect())
            }
        }
    }

    fn instance_path(&self, instance: &Instance) -> String {
        match instance {
            Instance::Primitive(c) => self.components[*c].path.clone(),
            Instance::Composite(p) => p.path.clone(),
        }
    }

    /// "did you mean …? inputs: …; outputs: …" for a port that does not exist.
    fn port_listing(&self, instance: &Instance, port: &str) -> String {
        let (inputs, outputs): (Vec<String>, Vec<String>) = match instance {
            Instance::Primitive(c) => {
                let iface = &self.components[*c].interface;
                (
                    iface.inputs().iter().map(|p| p.name.clone()).collect(),
                    iface.outputs().iter().map(|p| p.name.clone()).collect(),
                )
            }
            Instance::Composite(p) => (
                p.inputs.iter().map(|i| i.name.clone()).collect(),
                p.outputs.iter().map(|o| o.0.clone()).collect(),
            ),
        };
        let guess = closest(port, inputs.iter().chain(&outputs).map(String::as_str))
            .map(|g| format!("did you mean `{g}`? "))
            .unwrap_or_default();
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                summarize(v)
            }
        };
        format!(
            "{guess}inputs: {}; outputs: {}",
            list(&inputs),
            list(&outputs)
        )
    }

    /// Port `name` of an instance (element `at` of entity `at.0`).
    fn port(&mut self, instance: &Instance, name: &str, at: (usize, usize)) -> Option<Port> {
        match instance {
            Instance::Primitive(c) => {
                let iface = &self.components[*c].interface;
                if let Some(o) = iface.output_index(name) {
                    return Some(Port::Output(PortRef {
                        component: *c,
                        port: o,
                    }));
                }
                let i = iface.input_index(name)?;
                let r = PortRef {
                    component: *c,
                    port: i,
                };
                self.mentioned.insert(r);
                Some(Port::Input(vec![r], None))
            }
            Instance::Composite(p) => match *p.by_name.get(name)? {
                PortIx::Out(o) => Some(Port::Output(p.outputs[o].1)),
                PortIx::In(i) => {
                    for r in &p.inputs[i].targets {
                        self.mentioned.insert(*r);
                    }
                    Some(Port::Input(
                        p.inputs[i].targets.clone(),
                        Some((at.0, at.1, i)),
                    ))
                }
            },
        }
    }
}

/// A port list, with long arrays shortened: `req[0..63]`.
fn summarize(names: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut k = 0;
    while k < names.len() {
        let base = names[k].split('[').next().unwrap_or("");
        let run = names[k..]
            .iter()
            .take_while(|n| n.starts_with(&format!("{base}[")))
            .count();
        if run > 3 {
            out.push(format!("{base}[0..{run}]"));
            k += run;
        } else {
            out.push(names[k].clone());
            k += 1;
        }
    }
    out.join(", ")
}

/// Whether `a..b` goes backwards, a negative end (a wrapped value, as
/// `0..0 - 1` gives) included.
pub(super) fn backwards(a: u64, b: u64) -> bool {
    a > b || ((b as i64) < 0 && (a as i64) >= 0)
}
