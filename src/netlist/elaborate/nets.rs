//! Nets: one `nets` entry resolved — the index variables its driver binds
//! and every combination of their values, each driving every reader — and
//! the connection of a driver to a reader (type and single-driver checks).

use std::ops::Range;

use super::composite::mark_connected;
use super::resolve::backwards;
use super::{inside, Elaborator, Instance, Locals, Port};
use crate::circuit::{PortRef, Source};
use crate::expr::parse::Node;
use crate::expr::{ExprError, Program};
use crate::netlist::diagnostic::{line_col, Diagnostic, ErrorKind};
use crate::netlist::endpoint::{self, Endpoint, Index};
use crate::netlist::library::EntrySpans;
use crate::netlist::values::{signed, Env};

impl<'a> Elaborator<'a> {
    /// Resolve one net entry: every binding of the driver's indices, each
    /// driving every reader.
    pub(super) fn net(
        &mut self,
        file: usize,
        locals: &mut Locals,
        env: &Env,
        driver_text: &str,
        readers: &[String],
        spans: &EntrySpans,
    ) {
        let at = |span: &Option<Range<usize>>, e: &ExprError| inside(span, &e.span);
        let bindings = match endpoint::parse(driver_text) {
            Ok(d) if locals.broken.contains(&d.component.name) => None,
            Ok(d) => self.bindings(file, locals, env, d, &spans.key),
            Err(e) => {
                self.report(
                    Diagnostic::new(ErrorKind::BadEndpoint, e.message.clone())
                        .in_file(file)
                        .at(at(&spans.key, &e).or_else(|| spans.key.clone()))
                        .hint(e.hint.unwrap_or_default()),
                );
                None
            }
        };
        let Some(bindings) = bindings else {
            // The driver is in error: its readers are not "unconnected" too.
            for text in readers {
                if let Ok(ep) = endpoint::parse(text) {
                    self.mention_all(locals, &ep);
                }
            }
            return;
        };
        let (names, driver, combos) = bindings;
        let mut scope = env.scope().clone();
        for name in &names {
            scope.input(name, 64);
        }
        let mut parsed_readers = Vec::with_capacity(readers.len());
        for (r, text) in readers.iter().enumerate() {
            let span = spans.values.get(r).cloned().flatten();
            match endpoint::parse(text) {
                Ok(ep) => parsed_readers.push((ep, text, span)),
                Err(e) => self.report(
                    Diagnostic::new(ErrorKind::BadEndpoint, e.message.clone())
                        .in_file(file)
                        .at(at(&span, &e).or(span))
                        .hint(e.hint.unwrap_or_default()),
                ),
            }
        }
        for values in &combos {
            let Some(found) = self.resolve(
                file,
                locals,
                &driver,
                driver_text,
                &spans.key,
                &scope,
                values,
            ) else {
                for (ep, ..) in &parsed_readers {
                    self.mention_all(locals, ep);
                }
                return;
            };
            let output = match found.as_slice() {
                [Port::Output(o)] => *o,
                [Port::Input(..)] => {
                    self.report(
                        Diagnostic::new(
                            ErrorKind::WrongDirection,
                            format!("`{driver_text}` is an input, so it cannot drive a net"),
                        )
                        .in_file(file)
                        .at(spans.key.clone())
                        .hint("a net is written \"driver.output\": [\"reader.input\", ...]"),
                    );
                    return;
                }
                _ => {
                    self.report(
                        Diagnostic::new(ErrorKind::BadIndex, format!("`{driver_text}` names several outputs"))
                            .in_file(file)
                            .at(spans.key.clone())
                            .hint("a range in the driver binds `i` (or the name you give): each element drives its own net"),
                    );
                    return;
                }
            };
            for (ep, text, span) in &parsed_readers {
                if locals.broken.contains(&ep.component.name) {
                    continue;
                }
                let Some(found) = self.resolve(file, locals, ep, text, span, &scope, values) else {
                    continue;
                };
                for port in found {
                    match port {
                        Port::Input(refs, mark) => {
                            if let Some((e, el, p)) = mark {
                                mark_connected(locals, e, el, p);
                            }
                            for r in refs {
                                self.connect(file, output, r, span.clone());
                            }
                        }
                        Port::Output(o) => {
                            let name = self.components[o.component].output_name(o.port);
                            self.report(
                                Diagnostic::new(ErrorKind::WrongDirection, format!("`{name}` is an output, so it cannot read a net"))
                                    .in_file(file)
                                    .at(span.clone())
                                    .hint(format!("only inputs can be listed after \"{driver_text}\"; every output drives its own net")),
                            );
                        }
                    }
                }
            }
        }
    }

    /// The index variables a driver binds, the driver with its bound indices
    /// replaced by those variables, and every combination of their values.
    #[allow(clippy::type_complexity)]
    fn bindings(
        &mut self,
        file: usize,
        locals: &Locals,
        env: &Env,
        mut driver: Endpoint,
        span: &Option<Range<usize>>,
    ) -> Option<(Vec<String>, Endpoint, Vec<Vec<u64>>)> {
        let mut names: Vec<String> = Vec::new();
        let mut ranges: Vec<Range<u64>> = Vec::new();
        let entity = match locals.by_name.get(&driver.component.name) {
            Some(&e) => e,
            None => {
                self.unknown_component(file, locals, &driver.component, span);
                return None;
            }
        };
        for part_no in 0..2 {
            let part = if part_no == 0 {
                &mut driver.component
            } else {
                &mut driver.port
            };
            let (name, range) = match part.index.take() {
                Some(Index::One(Node::Name(n, s))) if !env.contains(&n) && !names.contains(&n) => {
                    let len = if part_no == 0 {
                        locals.entities[entity].elements.len()
                    } else {
                        self.port_array_len(locals, Some(entity), &part.name)
                    };
                    part.index = Some(Index::One(Node::Name(n.clone(), s)));
                    (n, 0..len as u64)
                }
                Some(Index::All) => {
                    let len = if part_no == 0 {
                        locals.entities[entity].elements.len()
                    } else {
                        self.port_array_len(locals, Some(entity), &part.name)
                    };
                    let n = fresh(&names);
                    part.index = Some(Index::One(Node::Name(n.clone(), 0..0)));
                    (n, 0..len as u64)
                }
                Some(Index::Range(from, to)) => {
                    let eval = |node: &Node| {
                        Program::from_node(node, env.scope()).map(|p| p.eval(|_| 0, &[]))
                    };
                    let (a, b) = match (eval(&from), eval(&to)) {
                        (Ok(a), Ok(b)) => (a, b),
                        (Err(e), _) | (_, Err(e)) => {
                            self.report(
                                Diagnostic::new(
                                    ErrorKind::BadIndex,
                                    format!("range in `{}`: {}", part.describe(), e.message),
                                )
                                .in_file(file)
                                .at(span.clone())
                                .hint(e.hint.unwrap_or_else(|| {
                                    "a range is written [from..to], `to` excluded".into()
                                })),
                            );
                            return None;
                        }
                    };
                    // Checked as a reader's range is: forwards, and inside the array.
                    let len = if part_no == 0 {
                        locals.entities[entity].elements.len()
                    } else {
                        self.port_array_len(locals, Some(entity), &part.name)
                    } as u64;
                    let problem = if backwards(a, b) {
                        Some((
                            format!("the range {}..{} is backwards", signed(a), signed(b)),
                            "write [from..to] with from ≤ to; `to` is excluded".to_string(),
                        ))
                    } else if b > len {
                        Some((
                            format!("`{}[{}]` does not exist", part.name, signed(b - 1)),
                            format!(
                                "`{}` has {len} elements (0 to {})",
                                part.name,
                                len.saturating_sub(1)
                            ),
                        ))
                    } else {
                        None
                    };
                    if let Some((message, hint)) = problem {
                        self.report(
                            Diagnostic::new(
                                ErrorKind::BadIndex,
                                format!("range in `{}`: {message}", part.describe()),
                            )
                            .in_file(file)
                            .at(span.clone())
                            .hint(hint),
                        );
                        return None;
                    }
                    let n = fresh(&names);
                    part.index = Some(Index::One(Node::Name(n.clone(), 0..0)));
                    (n, a..b)
                }
                other => {
                    part.index = other;
                    continue;
                }
            };
            names.push(name);
            ranges.push(range);
        }
        let mut combos: Vec<Vec<u64>> = vec![Vec::new()];
        for range in &ranges {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    range.clone().map(move |v| {
                        let mut c = c.clone();
                        c.push(v);
                        c
                    })
                })
                .collect();
        }
        Some((names, driver, combos))
    }

    /// Mark every input `ep` could name as mentioned, without resolving its indices.
    fn mention_all(&mut self, locals: &Locals, ep: &Endpoint) {
        let Some(&e) = locals.by_name.get(&ep.component.name) else {
            return;
        };
        let base = &ep.port.name;
        let matches = |name: &str| match ep.port.index {
            None => name == base,
            Some(_) => name
                .strip_prefix(base.as_str())
                .is_some_and(|r| r.starts_with('[')),
        };
        for instance in &locals.entities[e].elements {
            match instance {
                Instance::Primitive(c) => {
                    for (i, p) in self.components[*c].interface.inputs().iter().enumerate() {
                        if matches(&p.name) {
                            self.mentioned.insert(PortRef {
                                component: *c,
                                port: i,
                            });
                        }
                    }
                }
                Instance::Composite(p) => {
                    for input in p.inputs.iter().filter(|i| matches(&i.name)) {
                        self.mentioned.extend(input.targets.iter().copied());
                    }
                }
            }
        }
    }

    /// Connect `driver` to `reader`, checking type and single driver.
    fn connect(
        &mut self,
        file: usize,
        driver: PortRef,
        reader: PortRef,
        span: Option<Range<usize>>,
    ) {
        let driver_name = self.components[driver.component].output_name(driver.port);
        let reader_name = self.components[reader.component].input_name(reader.port);
        let out_ty = self.components[driver.component].interface.outputs()[driver.port].ty;
        let in_ty = self.components[reader.component].interface.inputs()[reader.port].ty;
        if out_ty != in_ty {
            self.report(
                Diagnostic::new(
                    ErrorKind::TypeMismatch,
                    format!("`{driver_name}` is {out_ty} but `{reader_name}` is {in_ty}"),
                )
                .in_file(file)
                .at(span)
                .hint("widths and types must match; use `slice` or `concat` to change a width"),
            );
            return;
        }
        if let Source::Driver(existing) = self.components[reader.component].inputs[reader.port] {
            let other = self.components[existing.component].output_name(existing.port);
            let first_line = self
                .input_spans
                .get(&reader)
                .map(|(f, s)| {
                    let line = line_col(&self.files[*f].text, s.start).0;
                    if *f == file {
                        format!(" (line {line})")
                    } else {
                        format!(" ({} line {line})", self.files[*f].name)
                    }
                })
                .unwrap_or_default();
            let message = if existing == driver {
                format!("`{reader_name}` is connected twice to `{driver_name}`")
            } else {
                format!("`{reader_name}` has two drivers: `{other}` and `{driver_name}`")
            };
            self.report(
                Diagnostic::new(ErrorKind::MultipleDrivers, message)
                    .in_file(file)
                    .at(span)
                    .hint(format!("an input is driven by exactly one output; it is already connected to `{other}`{first_line}")),
            );
            return;
        }
        self.components[reader.component].inputs[reader.port] = Source::Driver(driver);
        self.components[driver.component].readers[driver.port].push(reader);
        if let Some(span) = span {
            self.input_spans.insert(reader, (file, span));
        }
    }
}

/// The first of `i`, `j`, `k`, … not yet in `names`.
fn fresh(names: &[String]) -> String {
    ["i", "j", "k", "l", "m", "n"]
        .iter()
        .find(|n| !names.iter().any(|m| m == *n))
        .map_or_else(|| format!("i{}", names.len()), |n| n.to_string())
}
