//! Every mistake a user can make in a circuit file gets a clear error of
//! the right kind, with the line and column of the offending text and a hint.

use cspsim::netlist::{load_str, Diagnostic, ErrorKind, LoadError};
use cspsim::Registry;

fn errors(text: &str) -> LoadError {
    match load_str(text, "bad.ron", None, &Registry::standard(), 0) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

/// The only diagnostic, which must be of `kind`; with its line and column.
fn only(text: &str, kind: ErrorKind) -> (Diagnostic, usize, usize) {
    let e = errors(text);
    assert_eq!(e.diagnostics.len(), 1, "one problem expected:\n{e}");
    let d = e.diagnostics[0].clone();
    assert_eq!(d.kind, kind, "{e}");
    let (line, col) = e.line_col(&d).unwrap_or_else(|| panic!("located: {e}"));
    (d, line, col)
}

/// The text a diagnostic points at.
fn pointed(text: &str, d: &Diagnostic) -> String {
    text[d.span.clone().expect("located")].to_string()
}

const GOOD_HEAD: &str = r#"Circuit(
    components: {
        "cnt": Component(model: "counter", params: {"width": 8}),
        "reg": Component(model: "register", params: {"width": 8}),
    },
"#;

fn with_nets(nets: &str) -> String {
    format!("{GOOD_HEAD}    nets: {{\n{nets}\n    }},\n)")
}

#[test]
fn syntax_errors_give_line_and_column() {
    let text = "Circuit(\n    components: {\n        \"a\": Component(model: \"counter\")\n    \n";
    let (d, line, _) = only(text, ErrorKind::Syntax);
    assert!(line >= 3, "{line}: {}", d.message);
    let (d, line, col) = only(
        "Circuit(\n  components: {},\n  cycle: 3,\n)",
        ErrorKind::Syntax,
    );
    assert_eq!((line, col), (3, 3), "{}", d.message);
    assert!(d.message.contains("cycle"), "{}", d.message);
    let (d, ..) = only(
        r#"(components: {"a": (model: "counter", params: {"width": 8}, parms: {})})"#,
        ErrorKind::Syntax,
    );
    assert!(d.message.contains("parms"), "{}", d.message);
}

#[test]
fn unknown_model_suggests_a_name() {
    let text = "(components: {\n  \"c\": (model: \"countr\"),\n})";
    let (d, line, col) = only(text, ErrorKind::UnknownModel);
    assert_eq!((line, col), (2, 16));
    assert_eq!(pointed(text, &d), "\"countr\"");
    assert!(d.hint.unwrap().contains("did you mean `counter`"));
}

#[test]
fn bad_parameters_point_at_the_parameter() {
    let text = "(components: {\n  \"c\": (model: \"counter\", params: {\"wdth\": 8}),\n})";
    let (d, line, _) = only(text, ErrorKind::BadParameter);
    assert_eq!(line, 2);
    assert_eq!(pointed(text, &d), "\"wdth\"");
    assert!(
        d.message.contains("unknown parameter `wdth`"),
        "{}",
        d.message
    );
    assert!(d.hint.unwrap().contains("did you mean `width`"));

    let text = r#"(components: {"c": (model: "counter", params: {"width": 65})})"#;
    let (d, ..) = only(text, ErrorKind::BadParameter);
    assert!(
        d.message.contains("65 is out of range 1..=64"),
        "{}",
        d.message
    );
    assert_eq!(pointed(text, &d), "\"width\"");

    let (d, ..) = only(
        r#"(components: {"c": (model: "counter", params: {"width": "8"})})"#,
        ErrorKind::BadParameter,
    );
    assert!(
        d.message
            .contains("expected integer 1..=64, found a string"),
        "{}",
        d.message
    );

    let (d, ..) = only(
        r#"(components: {"c": (model: "bus")})"#,
        ErrorKind::BadParameter,
    );
    assert!(
        d.message.contains("missing required parameter `masters`"),
        "{}",
        d.message
    );
    let (d, ..) = only(
        r#"(components: {"c": (model: "concat")})"#,
        ErrorKind::BadParameter,
    );
    assert!(
        d.message
            .contains("needs at least one width (or `n` inputs of `width` bits)"),
        "{}",
        d.message
    );

    let (d, ..) = only(
        r#"(components: {"k": (model: "const", params: {"width": 4, "value": 16})})"#,
        ErrorKind::BadParameter,
    );
    assert!(
        d.message.contains("16 does not fit in 4 bits"),
        "{}",
        d.message
    );
}

#[test]
fn duplicate_and_malformed_component_names() {
    let text = "(components: {\n \"a\": (model: \"counter\"),\n \"a\": (model: \"counter\"),\n})";
    let (d, line, _) = only(text, ErrorKind::BadComponentName);
    assert_eq!(line, 3, "the second declaration is the one reported");
    assert!(d.message.contains("declared twice"));
    assert!(d.hint.unwrap().contains("line 2"));
    let (d, ..) = only(
        r#"(components: {"a b": (model: "counter")})"#,
        ErrorKind::BadComponentName,
    );
    assert!(d.message.contains("not a valid component name"));
}

#[test]
fn unknown_components_and_ports() {
    let text = with_nets(r#"        "cnt.q": ["rgg.d"],"#);
    let e = errors(&text);
    let d = &e.diagnostics[0];
    assert_eq!(d.kind, ErrorKind::UnknownComponent);
    assert_eq!(e.line_col(d), Some((7, 20)));
    assert!(d.hint.as_ref().unwrap().contains("did you mean `reg`"));
    assert!(
        e.diagnostics[1]
            .message
            .contains("`reg.d` (register) is not connected"),
        "reg.d is still undriven: {e}"
    );

    let text = with_nets(r#"        "cnt.z": ["reg.d"],"#);
    let (d, line, col) = only(&text, ErrorKind::UnknownPort);
    assert_eq!((line, col), (7, 14), "points at the port's name");
    assert_eq!(d.message, "component `cnt` (counter) has no port `z`");
    assert_eq!(d.hint.unwrap(), "inputs: en, rst; outputs: q");

    let (d, ..) = only(
        &with_nets(r#"        "cnt": ["reg.d"],"#),
        ErrorKind::BadEndpoint,
    );
    assert!(d.message.contains("component.port"));
}

#[test]
fn ports_used_in_the_wrong_direction() {
    let (d, ..) = only(
        &with_nets(r#"        "reg.d": ["cnt.en"],"#),
        ErrorKind::WrongDirection,
    );
    assert!(d.message.contains("`reg.d` is an input"), "{}", d.message);
    let e = errors(&with_nets(r#"        "cnt.q": ["reg.q"],"#));
    assert!(e.has(ErrorKind::WrongDirection), "{e}");
    assert!(
        e.has(ErrorKind::UnconnectedInput),
        "reg.d is not named anywhere: {e}"
    );
    assert!(e.to_string().contains("`reg.q` is an output"), "{e}");
}

#[test]
fn width_and_type_mismatches() {
    let text = r#"(components: {
        "a": (model: "counter", params: {"width": 8}),
        "r": (model: "register", params: {"width": 4}),
        "x": (model: "add", params: {"real": true}),
        "k": (model: "const", params: {"real": true, "value": 1.5}),
    },
    nets: { "a.q": ["r.d", "x.a"], "k.y": ["x.b"] })"#;
    let e = errors(text);
    let mismatches: Vec<&Diagnostic> = e
        .diagnostics
        .iter()
        .filter(|d| d.kind == ErrorKind::TypeMismatch)
        .collect();
    assert_eq!(mismatches.len(), 2, "{e}");
    assert_eq!(
        mismatches[0].message,
        "`a.q` is Bits(8) but `r.d` is Bits(4)"
    );
    assert_eq!(mismatches[1].message, "`a.q` is Bits(8) but `x.a` is Real");
    assert!(
        !e.has(ErrorKind::UnconnectedInput),
        "r.d and x.a are reported once, not again as unconnected: {e}"
    );
}

#[test]
fn two_drivers_on_one_input() {
    let text = with_nets("        \"cnt.q\": [\"reg.d\"],\n        \"reg.q\": [\"reg.d\"],");
    let (d, line, _) = only(&text, ErrorKind::MultipleDrivers);
    assert_eq!(line, 8);
    assert_eq!(d.message, "`reg.d` has two drivers: `cnt.q` and `reg.q`");
    assert!(d.hint.unwrap().contains("(line 7)"));
}

#[test]
fn unconnected_required_inputs() {
    let (d, line, _) = only(&with_nets(""), ErrorKind::UnconnectedInput);
    assert_eq!(line, 4, "points at the component");
    assert_eq!(d.message, "input `reg.d` (register) is not connected");
}

#[test]
fn combinational_loops_are_reported_as_paths() {
    let text = r#"(components: {
        "a": (model: "add", params: {"width": 8}),
        "b": (model: "not", params: {"width": 8}),
        "s": (model: "add", params: {"width": 8}),
        "k": (model: "const", params: {"width": 8}),
    },
    nets: {
        "a.y": ["b.a"],
        "b.y": ["a.a"],
        "s.y": ["s.a"],
        "k.y": ["a.b", "s.b"],
    })"#;
    let e = errors(text);
    let loops: Vec<&str> = e.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        loops,
        vec![
            "combinational loop: a.y -> b.a -> b.y -> a.a -> a.y",
            "combinational loop: s.y -> s.a -> s.y",
        ]
    );
    assert!(e
        .diagnostics
        .iter()
        .all(|d| d.kind == ErrorKind::CombinationalLoop && d.span.is_some()));
}

#[test]
fn a_register_breaks_a_loop() {
    let text = r#"(components: {
        "a": (model: "add", params: {"width": 8}),
        "r": (model: "register", params: {"width": 8}),
        "k": (model: "const", params: {"width": 8, "value": 1}),
    },
    nets: { "a.y": ["r.d"], "r.q": ["a.a"], "k.y": ["a.b"] })"#;
    let c =
        load_str(text, "ok.ron", None, &Registry::standard(), 0).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.depth(), 1);
    assert_eq!(c.levels, vec![vec![0]]);
}

#[test]
fn bad_clocks_and_trace_patterns() {
    let (d, ..) = only(
        r#"(clock: (period: 10, timescale: "3ns"), components: {"c": (model: "counter")})"#,
        ErrorKind::BadClock,
    );
    assert!(d.message.contains("`3ns` is not a timescale"));
    let (d, ..) = only(
        r#"(clock: (period: 0), components: {"c": (model: "counter")})"#,
        ErrorKind::BadClock,
    );
    assert!(d.message.contains("at least 1"));
    let text = "(components: {\"c\": (model: \"counter\")},\n trace: [\"c.*\", \"nope.*\"])";
    let (d, line, col) = only(text, ErrorKind::BadTrace);
    assert_eq!((line, col), (2, 17));
    assert!(d.message.contains("`nope.*` selects no signal"));
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = r#"(components: {
        "a": (model: "countr"),
        "r": (model: "register", params: {"width": 8}),
        "s": (model: "register", params: {"width": 8}),
    },
    nets: { "a.q": ["r.d"], "s.q": ["t.d"] })"#;
    let e = errors(text);
    let kinds: Vec<ErrorKind> = e.diagnostics.iter().map(|d| d.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ErrorKind::UnknownModel,
            ErrorKind::UnknownComponent,
            ErrorKind::UnconnectedInput
        ],
        "r.d reads a component that failed to build, so only s.d is reported unconnected: {e}"
    );
    assert_eq!(
        e.to_string()
            .lines()
            .filter(|l| l.starts_with("bad.ron:"))
            .count(),
        3
    );
}

#[test]
fn empty_circuits_and_missing_files() {
    let e = errors("(components: {})");
    assert!(e.to_string().contains("no components"));
    let e = cspsim::netlist::load_file(
        std::path::Path::new("/nonexistent/x.ron"),
        &Registry::standard(),
        0,
    )
    .err()
    .unwrap();
    assert!(e.has(ErrorKind::Io));
    assert!(e
        .to_string()
        .starts_with("/nonexistent/x.ron: cannot read the circuit"));
}

#[test]
fn expression_errors_point_into_the_expression() {
    let text = r#"Circuit(
    components: {
        "a": Component(model: "counter", params: {"width": 8}),
        "f": Component(model: "expr", params: {
            "inputs": ["x: 8"],
            "outputs": ["y: 8 = x + 1", "z: 1 = y > lmit"],
            "constants": ["limit = 10"],
        }),
    },
    nets: { "a.q": ["f.x"] },
)"#;
    let (d, line, col) = only(text, ErrorKind::BadParameter);
    assert_eq!(pointed(text, &d), "lmit");
    assert_eq!((line, col), (6, 53), "{}", d.message);
    assert!(d.message.contains("unknown name `lmit`"), "{}", d.message);
    assert_eq!(d.hint.as_deref(), Some("did you mean `limit`?"));
}
