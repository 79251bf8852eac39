//! The `Testbench` takes a composite model (by name or by file) and a whole
//! circuit as it takes a primitive: through ports by name, cycle by cycle,
//! with the values the engines compute.

mod common;

use cspsim::netlist::LoadOptions;
use cspsim::simulation::Simulation;
use cspsim::{params, Testbench, TestbenchError};

#[test]
fn a_composite_model_by_name_shows_what_a_simulation_of_it_shows() {
    let params = params! { "rows" => 4 };
    let mut tb = Testbench::new("pixel_column", params.clone()).unwrap();
    let mut sim = Simulation::of_model("pixel_column", &params, &LoadOptions::default()).unwrap();
    let mut words = 0;
    for cycle in 0..2000 {
        // Take a word whenever one waits.
        let ready = tb.get("ready");
        assert_eq!(ready, sim.peek("dut.ready").unwrap(), "cycle {cycle}");
        assert_eq!(
            tb.get("word"),
            sim.peek("dut.word").unwrap(),
            "cycle {cycle}"
        );
        tb.set("pop", ready);
        sim.poke("dut.pop", ready).unwrap();
        words += ready;
        tb.step();
        sim.step(1).unwrap();
    }
    assert!(words > 0, "words were read");
    assert_eq!(tb.cycle(), 2000);
    let names: Vec<&str> = tb
        .interface()
        .outputs()
        .iter()
        .map(|o| o.name.as_str())
        .collect();
    assert!(
        names.contains(&"ready") && names.contains(&"word"),
        "{names:?}"
    );
}

#[test]
fn a_composite_model_by_path_registers_its_input() {
    let root = env!("CARGO_MANIFEST_DIR");
    let file = format!("{root}/models/pipeline_stage.ron");
    let mut tb = Testbench::composite(
        &file,
        params! { "k" => 3, "width" => 8 },
        &LoadOptions::default(),
    )
    .unwrap();
    tb.set("d", 5);
    assert_eq!(tb.get("q"), 0, "registered: nothing before the edge");
    tb.step();
    assert_eq!(tb.get("q"), (5 + 3) ^ (5 << 1));
    let e = tb.try_set("d", 256).unwrap_err();
    assert!(e.to_string().contains("does not fit"), "{e}");
    let e = tb.try_get("qq").unwrap_err();
    assert!(matches!(e, TestbenchError::UnknownPort { .. }), "{e}");
}

#[test]
fn unknown_models_and_bad_parameters_are_errors() {
    let e = Testbench::new("pixel_colum", vec![]).err().unwrap();
    assert!(matches!(e, TestbenchError::UnknownModel(_)), "{e}");
    let e = Testbench::new("pixel_column", params! { "rowz" => 4 })
        .err()
        .unwrap();
    assert!(matches!(e, TestbenchError::Circuit(_)), "{e}");
    assert!(e.to_string().contains("rowz"), "{e}");
}

#[test]
fn a_whole_circuit_steps_as_the_engine_runs_it() {
    let path = common::circuits_dir().join("counter_compare.ron");
    let mut tb = Testbench::circuit(&path).unwrap();
    let (result, vcd) = common::run_traced(common::load_path(&path), &Default::default());
    result.unwrap();
    let waves = common::parse_vcd(&vcd, 10);
    let (q, hit) = (
        waves.get("counter_compare.cnt.q"),
        waves.get("counter_compare.hit.y"),
    );
    for cycle in 0..40 {
        assert_eq!(
            (tb.get("cnt.q"), tb.get("hit.y")),
            (q[cycle], hit[cycle]),
            "cycle {cycle}"
        );
        tb.step();
    }
}

#[test]
fn a_failing_assert_in_a_circuit_is_the_benchs_failure() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cspsim-testbench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("checked.ron");
    std::fs::write(
        &path,
        r#"Circuit(
    components: {
        "acc": Component(model: "expr", params: {"inputs": ["x: 8"], "registers": ["sum: 16 = sum + x"]}),
        "chk": Component(model: "assert", params: {"inputs": ["sum: 16"], "condition": "sum < 100"}),
    },
    nets: {"acc.sum": ["chk.sum"]},
)"#,
    )
    .unwrap();
    let mut tb = Testbench::circuit(&path).unwrap();
    let inputs: Vec<&str> = tb
        .interface()
        .inputs()
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(inputs, ["acc.x"], "the one unconnected input");
    tb.set("acc.x", 30);
    tb.step_n(4);
    assert_eq!(tb.get("acc.sum"), 120);
    let e = tb.try_step().unwrap_err();
    let TestbenchError::Failed { cycle, message } = &e else {
        panic!("{e}");
    };
    assert_eq!(*cycle, 4);
    assert!(
        message.contains("component `chk` (model `assert`) failed"),
        "{message}"
    );
}

#[test]
fn a_composite_inside_a_composite_stays_inside() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cspsim-testbench-nested");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("inner.ron"),
        r#"Model(inputs: {"x": ["r.d"]}, outputs: {"y": "r.q"}, components: {"r": Component(model: "register", params: {"width": 8})})"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("outer.ron"),
        r#"Model(inputs: {"a": ["n.a"]}, outputs: {"b": "sub.y"},
            components: {"n": Component(model: "not", params: {"width": 8}), "sub": Component(model: "inner")},
            nets: {"n.y": ["sub.x"]})"#,
    )
    .unwrap();
    let options = LoadOptions {
        model_dirs: vec![dir.clone()],
        ..LoadOptions::default()
    };
    let mut tb = Testbench::composite("outer", vec![], &options).unwrap();
    let iface = tb.interface();
    let ports: Vec<&str> = iface
        .inputs()
        .iter()
        .map(|p| p.name.as_str())
        .chain(iface.outputs().iter().map(|p| p.name.as_str()))
        .collect();
    assert_eq!(
        ports,
        ["a", "b"],
        "the inner instance's ports are not the bench's"
    );
    tb.set("a", 0x0f);
    tb.step();
    assert_eq!(tb.get("b"), 0xf0);
    // A file that is not there, and a primitive's name.
    let missing = dir.join("nowhere.ron");
    let e = Testbench::composite(missing.to_str().unwrap(), vec![], &options)
        .err()
        .unwrap();
    assert!(matches!(e, TestbenchError::UnknownModel(_)), "{e}");
    let mut reg = Testbench::composite("register", params! { "width" => 4 }, &options).unwrap();
    reg.set("d", 9);
    reg.step();
    assert_eq!(reg.get("q"), 9);
}
