//! Composite models, instance arrays, index patterns and parameter
//! expressions: what they build, how the trace shows the hierarchy, and the
//! errors a user gets for every mistake in them.

mod common;

use std::path::{Path, PathBuf};

use common::{load, parse_vcd, run_traced};
use cspsim::engine::{Engine, RunOptions};
use cspsim::netlist::{self, ErrorKind, LoadError, LoadOptions};
use cspsim::params::ParamValue;
use cspsim::Registry;

/// A fresh directory holding `files` (name → text).
fn scratch(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cspsim-hier-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("models")).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

fn load_in(dir: &Path, options: &LoadOptions) -> Result<cspsim::Circuit, LoadError> {
    netlist::load_file_with(&dir.join("top.ron"), &Registry::standard(), options)
}

fn errors_in(dir: &Path) -> LoadError {
    match load_in(dir, &LoadOptions::default()) {
        Ok(_) => panic!("accepted {}", dir.display()),
        Err(e) => e,
    }
}

/// The pipeline stage function of `models/pipeline_stage.ron`.
fn stage(x: u64, k: u64) -> u64 {
    (x.wrapping_add(k) ^ (x << 1)) & 0xffff_ffff
}

#[test]
fn pipeline16_computes_every_stage_one_cycle_after_the_last() {
    let circuit = load("pipeline16");
    assert_eq!(
        circuit.components.len(),
        33,
        "a counter and 16 × (expr + register)"
    );
    assert_eq!(circuit.hierarchy[1].name, "stage[16]");
    assert_eq!(circuit.hierarchy[1].children.len(), 2);
    let (result, vcd) = run_traced(circuit, &RunOptions::default());
    result.unwrap();
    let w = parse_vcd(&vcd, 10);
    let mut expected = [0u64; 16];
    for t in 0..w.cycles {
        for (s, e) in expected.iter().enumerate() {
            let got = w.get(&format!("pipeline16.stage[{s}].r.q"))[t];
            assert_eq!(got, *e, "stage {s} at cycle {t}");
        }
        // Next cycle: stage s registers f_s(its input of this cycle).
        let mut next = [0u64; 16];
        for s in 0..16 {
            let input = if s == 0 { t as u64 } else { expected[s - 1] };
            next[s] = stage(input, 2 * s as u64 + 1);
        }
        expected = next;
    }
    assert!(
        vcd.contains("$scope module stage[15] $end\n$scope module f $end"),
        "nested scopes"
    );
}

#[test]
fn circuit_parameters_can_be_overridden() {
    let path = common::circuits_dir().join("pipeline16.ron");
    let options = LoadOptions {
        params: vec![("stages".into(), ParamValue::Int(40))],
        ..LoadOptions::default()
    };
    let c = netlist::load_file_with(&path, &Registry::standard(), &options).unwrap();
    assert_eq!(c.components.len(), 81);
    assert!(c.components.iter().any(|c| c.path == "stage[39].r"));
    let options = LoadOptions {
        params: vec![("stagez".into(), ParamValue::Int(4))],
        ..LoadOptions::default()
    };
    let Err(e) = netlist::load_file_with(&path, &Registry::standard(), &options) else {
        panic!("an unknown parameter is refused");
    };
    assert!(e.to_string().contains("did you mean `stages`"), "{e}");
}

#[test]
fn detector64_reads_out_every_hit_in_order_of_columns() {
    let circuit = load("detector64");
    assert_eq!(
        circuit.components.len(),
        64 * (64 + 5) + 3,
        "{}",
        circuit.components.len()
    );
    let pixels = circuit
        .components
        .iter()
        .filter(|c| c.model == "pixel")
        .count();
    assert_eq!(pixels, 4096);
    assert!(circuit
        .components
        .iter()
        .any(|c| c.path == "col[63].pix[63]"));
    let (result, vcd) = run_traced(circuit, &RunOptions::default());
    result.unwrap();
    let w = parse_vcd(&vcd, 10);
    let valid = w.get("detector64.readout.valid");
    let hits = w.get("detector64.hits.q");
    let transfers = valid.iter().filter(|&&v| v == 1).count() as u64;
    assert!(transfers > 200, "the detector sees hits: {transfers}");
    assert_eq!(
        hits[w.cycles - 1] + valid[w.cycles - 1],
        transfers,
        "every transfer counted"
    );
    for (t, &valid) in valid.iter().enumerate() {
        let grants: u64 = (0..64)
            .map(|c| w.get(&format!("detector64.readout.gnt[{c}]"))[t])
            .sum();
        assert_eq!(grants, valid, "one grant per transfer at cycle {t}");
        if valid == 1 {
            let col = (0..64)
                .find(|&c| w.get(&format!("detector64.readout.gnt[{c}]"))[t] == 1)
                .unwrap();
            assert_eq!(
                w.get("detector64.tag.hit")[t] >> 18,
                col,
                "tagged with its column"
            );
        }
    }
    assert!(vcd.contains("$scope module col[0] $end\n$scope module bus $end"));
}

#[test]
fn both_engines_run_the_64x64_detector() {
    let options = |engine| RunOptions {
        engine,
        cycles: Some(30),
        ..RunOptions::default()
    };
    let (a, vcd_a) = run_traced(load("detector64"), &options(Engine::Partitioned));
    let (b, vcd_b) = run_traced(load("detector64"), &options(Engine::Threads));
    assert_eq!(a.unwrap().cycles, 30);
    match b {
        Ok(summary) => {
            assert_eq!(summary.cycles, 30);
            assert_eq!(vcd_a, vcd_b, "the threads engine agrees");
        }
        Err(e) => {
            let message = e.to_string();
            assert!(message.contains("--engine partitioned"), "{message}");
        }
    }
}

const STAGE: &str = r#"Model(
    params: {"k": 1, "n": 3},
    inputs: {"d": ["a.x"], "en[n]": ["c[i].en"]},
    outputs: {"q": "r.q", "cnt[n]": "c[i].q"},
    components: {
        "a": Component(model: "expr", params: {"inputs": ["x: 8"], "outputs": ["y: 8 = x + ${k}"]}),
        "r": Component(model: "register", params: {"width": 8}),
        "c": Component(model: "counter", count: "n", params: {"width": "${4 + i}"}),
    },
    nets: {"a.y": ["r.d"]},
)"#;

#[test]
fn port_arrays_ranges_and_broadcasts_connect_what_they_say() {
    let dir = scratch(
        "ports",
        &[
            ("models/stage.ron", STAGE),
            (
                "top.ron",
                r#"Circuit(
    params: {"m": 4},
    components: {
        "src": Component(model: "counter", params: {"width": 8}),
        "on": Component(model: "const", params: {"width": 1, "value": 1}),
        "s": Component(model: "stage", count: "m", params: {"k": "${i * 10}"}),
    },
    nets: {
        "src.q": ["s[0].d"],
        "s[0..m-1].q": ["s[i+1].d"],
        "on.y": ["s[*].en[*]"],
    },
)"#,
            ),
        ],
    );
    let c = load_in(&dir, &LoadOptions::default()).unwrap();
    assert_eq!(c.components.len(), 2 + 4 * 5);
    let find = |path: &str| c.components.iter().position(|x| x.path == path).unwrap();
    let counter = &c.components[find("s[2].c[1]")];
    assert_eq!(
        counter.interface.outputs()[0].ty,
        cspsim::PortType::Bits(5),
        "width 4 + i"
    );
    let on = find("on");
    assert_eq!(
        c.components[on].readers[0].len(),
        12,
        "broadcast to 4 × 3 enables"
    );
    let r1 = find("s[1].r");
    let a2 = find("s[2].a");
    assert!(
        c.components[r1].readers[0]
            .iter()
            .any(|p| p.component == a2),
        "chain s[1] → s[2]"
    );
}

#[test]
fn composite_models_are_found_through_models_dirs() {
    let dir = scratch(
        "dirs",
        &[(
            "top.ron",
            r#"(components: {"s": (model: "stage")}, nets: {})"#,
        )],
    );
    let elsewhere = dir.join("lib");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("stage.ron"), STAGE).unwrap();
    let e = errors_in(&dir);
    assert!(e.has(ErrorKind::UnknownModel), "{e}");
    assert!(
        e.to_string().contains("models/"),
        "the hint says where models are looked for: {e}"
    );
    let options = LoadOptions {
        model_dirs: vec![elsewhere],
        ..LoadOptions::default()
    };
    let Err(e) = load_in(&dir, &options) else {
        panic!("refused");
    };
    assert!(
        e.to_string()
            .contains("input `s.d` (stage) is not connected"),
        "found, and its unconnected input is named at the instance: {e}"
    );
}

/// The only diagnostic's kind, text, position (file name, line, col) and notes.
fn only(dir: &Path) -> (ErrorKind, String, String, usize, usize, Vec<String>) {
    let e = errors_in(dir);
    assert_eq!(e.diagnostics.len(), 1, "one problem expected:\n{e}");
    let d = &e.diagnostics[0];
    let (file, line, col) = e.position(d).unwrap_or_else(|| panic!("located: {e}"));
    let text = &e.files[d.file].text;
    let pointed = text[d.span.clone().unwrap()].to_string();
    let file = Path::new(file)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    (
        d.kind,
        format!("{}|{pointed}", d.message),
        file,
        line,
        col,
        d.notes.clone(),
    )
}

#[test]
fn errors_inside_a_composite_name_its_file_and_the_instance_path() {
    let bad = STAGE.replace("x + ${k}", "x + ${kk}");
    let dir = scratch(
        "inner",
        &[
            ("models/stage.ron", &bad),
            ("top.ron", "Circuit(\n  components: {\n    \"s\": Component(model: \"stage\", count: 3),\n  },\n)"),
        ],
    );
    let (kind, message, file, line, col, notes) = only(&dir);
    assert_eq!(kind, ErrorKind::BadParameter);
    assert!(message.ends_with("|kk"), "points at the name: {message}");
    assert!(message.contains("unknown name `kk`"), "{message}");
    assert_eq!((file.as_str(), line), ("stage.ron", 6));
    assert!(col > 60, "{col}");
    assert!(
        notes[0].contains("in `s[0]` (composite model `stage`), declared at"),
        "{notes:?}"
    );
    assert!(notes[0].contains("top.ron:3:5"), "{notes:?}");

    // A problem in every element is reported once, with a count.
    let dir = scratch(
        "repeat",
        &[
            ("models/stage.ron", STAGE),
            (
                "top.ron",
                r#"Circuit(components: {"s": Component(model: "stage", count: 3)})"#,
            ),
        ],
    );
    let (kind, message, _, _, _, notes) = only(&dir);
    assert_eq!(kind, ErrorKind::UnconnectedInput);
    assert!(
        message.starts_with("input `s[0].d` (stage) is not connected"),
        "{message}"
    );
    assert!(
        notes.iter().any(|n| n.contains("2 more times")),
        "{notes:?}"
    );
}

#[test]
fn index_mistakes_say_what_exists() {
    let top = |nets: &str| {
        format!(
            "Circuit(\n  components: {{\n    \"c\": Component(model: \"counter\", count: 4),\n    \"r\": Component(model: \"register\", count: 4),\n  }},\n  nets: {{\n    {nets}\n  }},\n)"
        )
    };
    let dir = scratch("idx1", &[("top.ron", &top(r#""c[i].q": ["r[i+1].d"],"#))]);
    let e = errors_in(&dir);
    let d = &e.diagnostics[0];
    assert_eq!(d.kind, ErrorKind::BadIndex, "{e}");
    assert!(d.message.contains("`r[4]` does not exist"), "{e}");
    assert!(
        d.hint
            .as_ref()
            .unwrap()
            .contains("`r` has 4 elements (0 to 3)"),
        "{e}"
    );
    assert_eq!(e.line_col(d), Some((7, 17)), "points at `r`: {e}");

    let dir = scratch("idx2", &[("top.ron", &top(r#""c.q": ["r[0].d"],"#))]);
    let e = errors_in(&dir);
    assert!(
        e.diagnostics[0].message.contains("`c` is an array of 4"),
        "{e}"
    );

    let dir = scratch("idx3", &[("top.ron", &top(r#""c[j].q": ["r[i].d"],"#))]);
    let e = errors_in(&dir);
    assert!(e.diagnostics[0].message.contains("unknown name `i`"), "{e}");

    let dir = scratch("idx4", &[("top.ron", &top(r#""c[0..3].q": ["r[i].d"],"#))]);
    let e = errors_in(&dir);
    assert_eq!(e.diagnostics.len(), 1, "{e}");
    assert!(
        e.diagnostics[0]
            .message
            .contains("`r[3].d` (register) is not connected"),
        "{e}"
    );

    let dir = scratch("idx5", &[("top.ron", &top(r#""c[*].q": ["r[0].d"],"#))]);
    let e = errors_in(&dir);
    assert!(e.has(ErrorKind::MultipleDrivers), "{e}");
}

#[test]
fn composite_declaration_mistakes_are_reported() {
    let top = r#"Circuit(components: {"s": Component(model: "stage", params: {"kk": 2})})"#;
    let dir = scratch("decl1", &[("models/stage.ron", STAGE), ("top.ron", top)]);
    let (kind, message, file, ..) = only(&dir);
    assert_eq!((kind, file.as_str()), (ErrorKind::BadParameter, "top.ron"));
    assert!(message.contains("unknown parameter `kk`"), "{message}");

    let top =
        r#"Circuit(components: {"s": Component(model: "stage", params: {"k": 2.5})}, nets: {})"#;
    let dir = scratch("decl2", &[("models/stage.ron", STAGE), ("top.ron", top)]);
    let e = errors_in(&dir);
    assert!(
        e.to_string()
            .contains("is a real number but must be an integer"),
        "{e}"
    );

    let looping = r#"Model(components: {"x": Component(model: "loop")})"#;
    let top = r#"Circuit(components: {"l": Component(model: "loop")})"#;
    let dir = scratch("decl3", &[("models/loop.ron", looping), ("top.ron", top)]);
    let e = errors_in(&dir);
    assert!(e.has(ErrorKind::BadCompositeModel), "{e}");
    assert!(e.to_string().contains("loop → loop"), "{e}");

    let broken = r#"Model(components: {"x": Component(model: "counter")}, outputs: {"q": "x.en"})"#;
    let top = r#"Circuit(components: {"b": Component(model: "broken")})"#;
    let dir = scratch("decl4", &[("models/broken.ron", broken), ("top.ron", top)]);
    let e = errors_in(&dir);
    assert!(e.has(ErrorKind::WrongDirection), "{e}");

    let top = r#"Circuit(components: {"c": Component(model: "counter", count: "n * 2")})"#;
    let dir = scratch("decl5", &[("top.ron", top)]);
    let e = errors_in(&dir);
    assert_eq!(e.diagnostics[0].kind, ErrorKind::BadIndex, "{e}");
    assert!(e.to_string().contains("unknown name `n`"), "{e}");
    assert_eq!(e.line_col(&e.diagnostics[0]), Some((1, 63)), "{e}");

    let syntax = "Model(components: {\"x\": Component(model: \"counter\"),, })";
    let top = r#"Circuit(components: {"s": Component(model: "syn", count: 2)})"#;
    let dir = scratch("decl6", &[("models/syn.ron", syntax), ("top.ron", top)]);
    let (kind, _, file, ..) = only(&dir);
    assert_eq!(
        (kind, file.as_str()),
        (ErrorKind::Syntax, "syn.ron"),
        "parsed and reported once"
    );
}

#[test]
fn parameter_expressions_in_circuits_are_located() {
    let top = "Circuit(\n  params: {\"w\": 8},\n  components: {\n    \"c\": Component(model: \"counter\", params: {\"width\": \"${w + x}\"}),\n  },\n)";
    let dir = scratch("param", &[("top.ron", top)]);
    let (kind, message, _, line, col, _) = only(&dir);
    assert_eq!(kind, ErrorKind::BadParameter);
    assert!(message.ends_with("|x"), "{message}");
    assert_eq!((line, col), (4, 63));
}
