//! Each example circuit's VCD, read back with the `vcd` crate's parser,
//! holds the values an independent computation predicts, cycle by cycle.

mod common;

use common::{load, parse_vcd, run_traced};
use cspsim::engine::RunOptions;

fn waves(name: &str) -> common::Waves {
    let circuit = load(name);
    let period = circuit.clock.period;
    let cycles = circuit.cycles as usize;
    let (result, vcd) = run_traced(circuit, &RunOptions::default());
    let summary = result.expect("run succeeds");
    assert_eq!(summary.cycles as usize, cycles);
    let w = parse_vcd(&vcd, period);
    assert_eq!(w.cycles, cycles, "one sample per cycle");
    w
}

#[test]
fn counter_compare_counts_to_nine_and_resets() {
    let w = waves("counter_compare");
    for t in 0..w.cycles {
        let q = (t % 10) as u64;
        assert_eq!(w.get("counter_compare.cnt.q")[t], q, "cnt.q at cycle {t}");
        assert_eq!(
            w.get("counter_compare.hit.y")[t],
            u64::from(q == 9),
            "hit.y at cycle {t}"
        );
        assert_eq!(
            w.get("counter_compare.cnt.rst")[t],
            u64::from(q == 9),
            "an input shows its driver"
        );
        assert_eq!(w.get("counter_compare.limit.y")[t], 9);
        assert_eq!(
            w.get("counter_compare.cnt.en")[t],
            1,
            "unconnected optional input reads its default"
        );
        assert_eq!(
            w.get("counter_compare.clock")[t],
            1,
            "clock is high at the start of each cycle"
        );
    }
}

/// The ALU's specification, written independently of the model.
fn alu(op: u64, a: u64, b: u64) -> (u64, u64, u64) {
    let (y, carry) = match op {
        0 => (a + b, (a + b) > 255),
        1 => (a.wrapping_sub(b), a < b),
        2 => (a & b, false),
        3 => (a | b, false),
        4 => (a ^ b, false),
        5 if b < 8 => (a << b, b > 0 && (a << b) & 0x100 != 0),
        5 => (0, b == 8 && a & 1 == 1),
        6 if b < 8 => (a >> b, b > 0 && (a >> (b - 1)) & 1 == 1),
        6 => (0, b == 8 && a & 0x80 != 0),
        7 => (u64::from(a == b), false),
        8 => (u64::from(a < b), false),
        _ => (0, false),
    };
    let y = y & 0xff;
    (y, u64::from(y == 0), u64::from(carry))
}

#[test]
fn alu_datapath_registers_every_operation_one_cycle_late() {
    let w = waves("alu_datapath");
    let mut expected = (0, 0, 0);
    for t in 0..w.cycles {
        let (a, b, op) = (
            (200 + 3 * t as u64) % 256,
            (5 * t as u64) % 256,
            t as u64 % 9,
        );
        assert_eq!(w.get("alu_datapath.a.q")[t], a);
        assert_eq!(w.get("alu_datapath.b.q")[t], b);
        assert_eq!(w.get("alu_datapath.op.q")[t], op);
        let now = alu(op, a, b);
        assert_eq!(
            (
                w.get("alu_datapath.alu.y")[t],
                w.get("alu_datapath.alu.zero")[t],
                w.get("alu_datapath.alu.carry")[t]
            ),
            now,
            "alu at cycle {t} (op {op}, a {a}, b {b})"
        );
        let regs = (
            w.get("alu_datapath.y.q")[t],
            w.get("alu_datapath.zero.q")[t],
            w.get("alu_datapath.carry.q")[t],
        );
        assert_eq!(regs, expected, "registers at cycle {t}");
        expected = now;
    }
}

#[test]
fn accumulator_pipeline_sums_and_delays() {
    let w = waves("accumulator_pipeline");
    let m = 1u64 << 16;
    let (mut acc, mut s1, mut s2) = (0u64, 0u64, 0u64);
    for t in 0..w.cycles as u64 {
        assert_eq!(w.get("accumulator_pipeline.x.q")[t as usize], (t + 1) % m);
        assert_eq!(
            acc,
            (t * (t + 1) / 2) % m,
            "closed form agrees with the recurrence"
        );
        assert_eq!(
            w.get("accumulator_pipeline.acc.q")[t as usize],
            acc,
            "acc at {t}"
        );
        assert_eq!(
            w.get("accumulator_pipeline.acc.d")[t as usize],
            (acc + t + 1) % m
        );
        assert_eq!(
            w.get("accumulator_pipeline.s1.q")[t as usize],
            s1,
            "s1 at {t}"
        );
        assert_eq!(
            w.get("accumulator_pipeline.s2.q")[t as usize],
            s2,
            "s2 at {t}"
        );
        (acc, s1, s2) = ((acc + t + 1) % m, (3 * acc) % m, (s1 + 7) % m);
    }
    assert!(
        !w.signals.contains_key("accumulator_pipeline.times.y"),
        "trace selection keeps unselected signals out"
    );
}

#[test]
fn a_real_feedback_loop_is_refused_until_a_real_register_breaks_it() {
    let text = r#"Circuit(
        name: "analog",
        cycles: 6,
        components: {
            "gain": Component(model: "const", params: {"real": true, "value": 0.5}),
            "tiny": Component(model: "const", params: {"real": true, "value": 1.25e-12}),
            "acc":  Component(model: "add", params: {"real": true}),
            "sum":  Component(model: "add", params: {"real": true}),
            "mul":  Component(model: "mul", params: {"real": true}),
        },
        nets: {
            "gain.y": ["acc.a", "mul.a"],
            "mul.y": ["acc.b"],
            "acc.y": ["mul.b", "sum.a"],
            "tiny.y": ["sum.b"],
        },
    )"#;
    let err = cspsim::netlist::load_str(text, "analog.ron", None, &cspsim::Registry::standard(), 0)
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("combinational loop"),
        "acc and mul form a loop: {err}"
    );

    let text = text.replace(r#""mul.y": ["acc.b"],"#, r#""mul.y": ["r.d"], "r.q": ["acc.b"],"#).replace(
        r#""mul":  Component(model: "mul", params: {"real": true}),"#,
        r#""mul":  Component(model: "mul", params: {"real": true}), "r": Component(model: "register", params: {"width": 64}),"#,
    );
    let err =
        cspsim::netlist::load_str(&text, "analog.ron", None, &cspsim::Registry::standard(), 0)
            .err()
            .unwrap();
    assert!(
        err.to_string()
            .contains("`mul.y` is Real but `r.d` is Bits(64)"),
        "{err}"
    );
}

#[test]
fn real_values_round_trip_through_the_vcd() {
    let text = r#"Circuit(
        name: "analog",
        cycles: 3,
        components: {
            "a": Component(model: "const", params: {"real": true, "value": 0.1}),
            "b": Component(model: "const", params: {"real": true, "value": 1.25e-12}),
            "c": Component(model: "const", params: {"real": true, "value": -3e20}),
            "s": Component(model: "add", params: {"real": true}),
            "p": Component(model: "mul", params: {"real": true}),
        },
        nets: { "a.y": ["s.a"], "b.y": ["s.b", "p.a"], "c.y": ["p.b"] },
    )"#;
    let circuit =
        cspsim::netlist::load_str(text, "analog.ron", None, &cspsim::Registry::standard(), 0)
            .unwrap();
    let (result, vcd) = run_traced(circuit, &RunOptions::default());
    result.unwrap();
    assert!(vcd.contains("$var real 64"), "{vcd}");
    let w = parse_vcd(&vcd, 10);
    let real = |name: &str| f64::from_bits(w.get(name)[2]);
    assert_eq!(
        real("analog.s.y"),
        0.1 + 1.25e-12,
        "exact: VCD reals keep every digit"
    );
    assert_eq!(real("analog.b.y"), 1.25e-12);
    assert_eq!(real("analog.p.y"), 1.25e-12 * -3e20);
}

/// Every example's trace matches the golden waveform stored in
/// `tests/golden/` (record new ones with `CSPSIM_BLESS=1 cargo test golden`).
#[test]
fn golden_waveforms_of_every_example() {
    // One golden file per name: two circuits of one name would share it.
    let mut names: Vec<_> = common::all_circuits()
        .iter()
        .map(|p| p.file_stem().unwrap().to_owned())
        .collect();
    let count = names.len();
    names.sort();
    names.dedup();
    assert_eq!(
        names.len(),
        count,
        "circuits/ and circuits/bench/ share a name"
    );
    for path in common::all_circuits() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let (result, vcd) = run_traced(common::load_path(&path), &RunOptions::default());
        result.unwrap();
        let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/golden/{name}.vcd"));
        if let Err(e) = cspsim::trace::diff::check_golden(&vcd, &golden, 1e-12) {
            panic!("{name}: {e}");
        }
    }
}

#[test]
fn golden_checks_report_missing_files_and_the_first_difference() {
    use cspsim::trace::diff::{check_golden, GoldenError};
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cspsim-golden");
    std::fs::create_dir_all(&dir).unwrap();
    let (_, vcd) = run_traced(load("counter_compare"), &RunOptions::default());
    let missing = check_golden(&vcd, &dir.join("none.vcd"), 0.0).unwrap_err();
    assert!(matches!(missing, GoldenError::Missing(_)));
    assert!(missing.to_string().contains("CSPSIM_BLESS=1"));

    let golden = dir.join("counter.vcd");
    std::fs::write(&golden, &vcd).unwrap();
    check_golden(&vcd, &golden, 0.0).unwrap();
    let options = RunOptions {
        cycles: Some(40),
        ..RunOptions::default()
    };
    let text = std::fs::read_to_string(common::circuits_dir().join("counter_compare.ron")).unwrap();
    let changed = cspsim::netlist::load_str(
        &text.replace("\"value\": 9", "\"value\": 7"),
        "c.ron",
        None,
        &cspsim::Registry::standard(),
        0,
    )
    .unwrap();
    let (_, other) = run_traced(changed, &options);
    let GoldenError::Mismatch { comparison, .. } = check_golden(&other, &golden, 0.0).unwrap_err()
    else {
        panic!("expected a mismatch");
    };
    let first = &comparison.differences[0];
    assert_eq!(
        (first.signal.as_str(), first.time, first.cycle),
        ("counter_compare.hit.b", 0, Some(0))
    );
    let q = comparison
        .differences
        .iter()
        .find(|d| d.signal == "counter_compare.cnt.q")
        .unwrap();
    assert_eq!(
        (q.time, q.cycle),
        (80, Some(8)),
        "7 resets the counter at cycle 8 instead of 10"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// The comparison behind `cspsim diff` and golden checks is complete: a
/// missing last cycle, a signal only in the golden file and a changed real
/// each fail it.
#[test]
fn golden_checks_see_the_last_cycle_both_sides_signals_and_reals() {
    use cspsim::trace::diff::check_golden;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cspsim-golden-end");
    std::fs::create_dir_all(&dir).unwrap();
    let golden = dir.join("detector.vcd");
    let (_, vcd) = run_traced(load("detector_readout"), &RunOptions::default());
    std::fs::write(&golden, &vcd).unwrap();
    check_golden(&vcd, &golden, 0.0).unwrap();
    let fewer = RunOptions {
        cycles: Some(399),
        ..RunOptions::default()
    };
    let (_, short) = run_traced(load("detector_readout"), &fewer);
    let e = check_golden(&short, &golden, 0.0).unwrap_err();
    let cspsim::trace::diff::GoldenError::Mismatch { comparison, .. } = &e else {
        panic!("{e}");
    };
    assert_eq!(comparison.ends, Some((3990, 4000)), "{e}");
    // This trace has no clock signal: the times are given, not cycles.
    assert!(
        e.to_string()
            .contains("the first ends at time 3990, the second at 4000"),
        "{e}"
    );
    let circuit = load("detector_readout");
    let some: Vec<String> = circuit.trace.iter().skip(1).cloned().collect();
    let (_, fewer_signals) = common::run_with_patterns(circuit, &RunOptions::default(), &some);
    let e = check_golden(&fewer_signals, &golden, 0.0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("only in the second"), "{e}");
    // A real changed in its last digits: a difference beyond the tolerance.
    let real = vcd
        .lines()
        .position(|l| l.starts_with('r') && !l.starts_with("r0 "))
        .unwrap();
    let mut lines: Vec<String> = vcd.lines().map(str::to_string).collect();
    let (value, id) = lines[real][1..].split_once(' ').unwrap();
    let nudged = value.parse::<f64>().unwrap() * (1.0 + 1e-6);
    lines[real] = format!("r{nudged} {id}");
    let changed = lines.join("\n") + "\n";
    let differs =
        check_golden(&changed, &golden, 1e-12).expect_err("a real nudged by 1e-6 differs");
    assert!(
        differs.to_string().contains("first difference"),
        "{differs}"
    );
    assert!(check_golden(&changed, &golden, 1e-3).is_ok());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn memory_files_resolve_against_the_circuits_directory() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cspsim-rom");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/table.hex"), "05 0a 0f 14\n").unwrap();
    std::fs::write(
        dir.join("lookup.ron"),
        r#"Circuit(
            name: "lookup",
            cycles: 6,
            components: {
                "a":   Component(model: "counter", params: {"width": 2}),
                "rom": Component(model: "rom", params: {"width": 8, "depth": 4, "file": "data/table.hex"}),
            },
            nets: { "a.q": ["rom.addr"] },
        )"#,
    )
    .unwrap();
    let circuit = common::load_path(&dir.join("lookup.ron"));
    let (result, vcd) = run_traced(circuit, &RunOptions::default());
    result.unwrap();
    assert_eq!(
        parse_vcd(&vcd, 10).get("lookup.rom.rdata"),
        &[5, 10, 15, 20, 5, 10]
    );

    std::fs::write(
        dir.join("lookup.ron"),
        std::fs::read_to_string(dir.join("lookup.ron"))
            .unwrap()
            .replace("table.hex", "missing.hex"),
    )
    .unwrap();
    let err = cspsim::netlist::load_file(&dir.join("lookup.ron"), &cspsim::Registry::standard(), 0)
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("cannot read") && err.to_string().contains("missing.hex"),
        "{err}"
    );
}

/// The benchmark circuits compute what they describe, checked from their
/// traces against independent arithmetic.
#[test]
fn benchmark_families_compute_what_they_describe() {
    let bench = |name: &str| {
        let circuit = common::load_path(&common::circuits_dir().join(format!("bench/{name}.ron")));
        let period = circuit.clock.period;
        let (result, vcd) = run_traced(circuit, &RunOptions::default());
        result.expect("runs");
        parse_vcd(&vcd, period)
    };
    let w = bench("counters");
    for i in 0..16u64 {
        let q = w.get(&format!("counters.c[{i}].q"));
        assert!(
            q.iter().enumerate().all(|(t, &v)| v == i + t as u64),
            "c[{i}]"
        );
    }

    let w = bench("lfsrs");
    for t in 0..w.cycles {
        let states: Vec<u64> = (0..16)
            .map(|i| w.get(&format!("lfsrs.l[{i}].q"))[t])
            .collect();
        assert_eq!(w.get("lfsrs.x.y")[t], states.iter().fold(0, |a, s| a ^ s));
        if t > 0 {
            for (i, &s) in states.iter().enumerate() {
                let prev = w.get(&format!("lfsrs.l[{i}].q"))[t - 1];
                let galois = (prev >> 1) ^ if prev & 1 == 1 { 0x8020_0003 } else { 0 };
                assert_eq!(s, galois, "l[{i}] at cycle {t}");
            }
        }
    }

    let w = bench("chain");
    for t in 1..w.cycles {
        for i in 0..16u64 {
            let d = if i == 0 {
                w.get("chain.src.q")[t - 1]
            } else {
                w.get(&format!("chain.s[{}].q", i - 1))[t - 1]
            };
            let expect = (d.wrapping_add(2 * i + 1) ^ (d << 1)) & 0xFFFF_FFFF;
            assert_eq!(
                w.get(&format!("chain.s[{i}].q"))[t],
                expect,
                "s[{i}] at {t}"
            );
        }
    }

    let w = bench("pixels");
    let (valid, owner, hits) = (
        w.get("pixels.readout.valid"),
        w.get("pixels.readout.owner"),
        w.get("pixels.hits.q"),
    );
    let mut read = 0;
    for t in 1..w.cycles {
        assert_eq!(
            hits[t],
            hits[t - 1] + valid[t - 1],
            "the counter counts reads"
        );
        if valid[t] == 1 {
            read += 1;
            let pixel = w.get(&format!("pixels.pix[{}].hit", owner[t]));
            assert_eq!(pixel[t - 1], 1, "cycle {t}: the granted pixel had a hit");
        }
    }
    assert!(read > 10, "{read} hits read in {} cycles", w.cycles);
}

/// Vectors declare their bit range as a token of its own after the name, as
/// Icarus and Verilator write it, so that GTKWave keeps a port array's index
/// in the name (`in[0]`) instead of reading it as a bit range.
#[test]
fn vectors_declare_their_bit_range_after_the_name() {
    let (result, vcd) = run_traced(common::load("logic_gates"), &RunOptions::default());
    result.unwrap();
    let vars: Vec<&str> = vcd.lines().filter(|l| l.starts_with("$var")).collect();
    let declared = |name: &str| {
        vars.iter()
            .find(|l| l.split_whitespace().nth(4) == Some(name))
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .unwrap_or_else(|| panic!("no $var {name} in {vars:#?}"))
    };
    for name in ["in[0]", "in[1]", "y", "q"] {
        let fields = declared(name);
        assert_eq!(
            (fields[1], fields[2], fields[5], fields[6]),
            ("wire", "8", "[7:0]", "$end"),
            "{fields:?}"
        );
    }
    let clock = declared("clock");
    assert_eq!((clock[2], clock[5]), ("1", "$end"), "one bit: no range");
    // The strict reader names signals without the range.
    let w = parse_vcd(&vcd, 10);
    assert_eq!(w.get("logic_gates.and.in[1]")[1], 3);
}

/// A clock of period 1 still toggles: its trace counts in a unit ten times
/// finer, so each cycle is ten units long and still one circuit period.
#[test]
fn a_clock_of_period_one_toggles_every_cycle() {
    let text = r#"Circuit(name: "fast", clock: Clock(period: 1, timescale: "1ns"), cycles: 3,
        components: {"c": Component(model: "counter", params: {"width": 4})})"#;
    let circuit =
        cspsim::netlist::load_str(text, "fast.ron", None, &cspsim::Registry::standard(), 0)
            .unwrap();
    let (result, vcd) = run_traced(circuit, &RunOptions::default());
    result.unwrap();
    assert!(vcd.contains("$timescale 100 ps $end"), "{vcd}");
    let w = cspsim::trace::read::Waveform::from_text(&vcd).unwrap();
    let clock = &w.signals["fast.clock"];
    let edges: Vec<(u64, String)> = clock
        .changes
        .iter()
        .map(|(t, v)| (*t, v.to_string()))
        .collect();
    let want: Vec<(u64, String)> = [
        (0, "1"),
        (5, "0"),
        (10, "1"),
        (15, "0"),
        (20, "1"),
        (25, "0"),
    ]
    .iter()
    .map(|(t, v)| (*t, v.to_string()))
    .collect();
    assert_eq!(edges, want);
    assert_eq!(w.end, 30, "three cycles of 1 ns");
    assert_eq!(parse_vcd(&vcd, 10).get("fast.c.q"), [0, 1, 2]);
    for (period, scale, unit, want) in [
        (
            1,
            10,
            vcd::TimescaleUnit::US,
            (10, (1, vcd::TimescaleUnit::US)),
        ),
        (
            1,
            1,
            vcd::TimescaleUnit::S,
            (10, (100, vcd::TimescaleUnit::MS)),
        ),
        (
            1,
            1,
            vcd::TimescaleUnit::FS,
            (1, (1, vcd::TimescaleUnit::FS)),
        ),
        (
            7,
            1,
            vcd::TimescaleUnit::NS,
            (7, (1, vcd::TimescaleUnit::NS)),
        ),
    ] {
        assert_eq!(cspsim::trace::written_clock(period, scale, unit), want);
    }
}
