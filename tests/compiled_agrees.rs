//! The compiled engine computes exactly what the interpreter does: random
//! circuits of `expr` components (every operator and function, widths 1 to
//! 64, slices, concatenations, sized literals, `?:`, registers), arrays of them with per-member constants (so that they
//! run as loops with columns), standard primitives, and a model that does
//! not lower, mixed in the same phases. Compiled and interpreted traces
//! must be byte-identical, with one worker and with two.

mod common;

use common::run_with_patterns;
use cspsim::engine::{Codegen, RunOptions, Spread};
use cspsim::{Interface, Io, Model, ModelInfo, PortType, Registry};

/// A fixed random sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// An interpreted-only model: y = rotate(a, 3) ^ 0x5a, combinational.
struct Scramble;

impl Model for Scramble {
    fn reset(&mut self, _io: &Io<'_>) {}
    fn eval(&mut self, io: &Io<'_>) {
        io.set(0, io.get(0).rotate_left(3) ^ 0x5a);
    }
}

fn registry() -> Registry {
    let mut registry = Registry::standard();
    registry.register(ModelInfo::new("scramble", "test model", |_, _| {
        let ports = Interface::new()
            .input("a", PortType::Bits(64))
            .combinational("y", PortType::Bits(64));
        Ok((ports, Box::new(Scramble) as Box<dyn Model>))
    }));
    registry
}

/// A random expression over `names` (each with its width), at most `depth` deep.
fn expression(rng: &mut Rng, names: &[(String, u32)], depth: u32) -> String {
    if depth == 0 || rng.below(4) == 0 {
        return match rng.below(6) {
            0 => format!("{}", rng.below(300)),
            1 => format!("0x{:x}", rng.next() >> rng.below(64)),
            2 if !names.is_empty() => {
                let (name, width) = rng.pick(names);
                let hi = rng.below(u64::from(*width)) as u32;
                let lo = rng.below(u64::from(hi) + 1) as u32;
                if hi == lo {
                    format!("{name}[{hi}]")
                } else {
                    format!("{name}[{hi}:{lo}]")
                }
            }
            _ if !names.is_empty() => rng.pick(names).0.clone(),
            _ => "7".to_string(),
        };
    }
    let sub = |rng: &mut Rng| expression(rng, names, depth - 1);
    match rng.below(13) {
        12 => {
            let (hi, width) = (rng.below(32), 1 + rng.below(16));
            let lo = rng.below(hi + 1);
            let literal = rng.below(1 << width);
            match rng.below(2) {
                0 => format!("{{({} + 0)[{hi}:{lo}], {width}'d{literal}}}", sub(rng)),
                _ => format!("{{{}{{({} + 0)[{hi}:{lo}]}}}}", 1 + rng.below(2), sub(rng)),
            }
        }
        0 => format!("{}({})", rng.pick(&["~", "!", "-"]), sub(rng)),
        1 => format!("({} ? {} : {})", sub(rng), sub(rng), sub(rng)),
        2 => format!("clog2({})", sub(rng)),
        10 => format!("{}({})", rng.pick(&["popcount", "parity"]), sub(rng)),
        11 => match rng.below(3) {
            0 => format!("{}({}, {})", rng.pick(&["min", "max"]), sub(rng), sub(rng)),
            _ => {
                let f = rng.pick(&["clz", "ctz", "reverse"]);
                format!("{f}({}, {})", sub(rng), 1 + rng.below(64))
            }
        },
        3 => format!(
            "({} + 0)[{}:{}]",
            sub(rng),
            40 + rng.below(24),
            rng.below(40)
        ),
        _ => {
            let op = rng.pick(&[
                "+", "-", "*", "/", "%", "<<", ">>", "<", "<=", ">", ">=", "==", "!=", "&", "^",
                "|", "&&", "||",
            ]);
            let right = if ["<<", ">>"].contains(op) && rng.below(3) > 0 {
                format!("{}", rng.below(70))
            } else {
                sub(rng)
            };
            format!("({} {op} {right})", sub(rng))
        }
    }
}

/// A random circuit: sources, a chain of `expr`s with registers, an array
/// of `expr`s with per-member constants, gates, a RAM, and the
/// interpreted `scramble` between them.
fn circuit(seed: u64) -> String {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut components = Vec::new();
    let mut nets = Vec::new();
    let mut signals: Vec<(String, u32)> = Vec::new();
    for k in 0..3 {
        let width = 1 + rng.below(64) as u32;
        let step = 1 + rng.below(1000) % ((1u64 << width.min(10)) - 1).max(1);
        components.push(format!(
            r#""src{k}": Component(model: "counter", params: {{"width": {width}, "step": {step}}})"#
        ));
        signals.push((format!("src{k}.q"), width));
    }
    components.push(r#""lf": Component(model: "lfsr", params: {"width": 32})"#.to_string());
    signals.push(("lf.q".to_string(), 32));
    for e in 0..5 {
        let inputs: Vec<(String, u32)> = (0..1 + rng.below(3))
            .map(|i| {
                let (driver, width) = rng.pick(&signals).clone();
                nets.push((driver, format!("e{e}.x{i}")));
                (format!("x{i}"), width)
            })
            .collect();
        let mut names = inputs.clone();
        let declared: Vec<(String, u32)> = (0..rng.below(3))
            .map(|r| (format!("r{r}"), 1 + rng.below(64) as u32))
            .collect();
        names.extend(declared.iter().cloned());
        let registers: Vec<String> = declared
            .iter()
            .map(|(name, width)| format!("{name}: {width} = {}", expression(&mut rng, &names, 3)))
            .collect();
        let mut outputs = Vec::new();
        for o in 0..1 + rng.below(3) {
            let width = 1 + rng.below(64) as u32;
            let text = expression(&mut rng, &names, 4);
            outputs.push(format!("y{o}: {width} = {text}"));
            names.push((format!("y{o}"), width));
            signals.push((format!("e{e}.y{o}"), width));
        }
        let quote = |v: &[String]| {
            v.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let decls: Vec<String> = inputs.iter().map(|(n, w)| format!("{n}: {w}")).collect();
        components.push(format!(
            r#""e{e}": Component(model: "expr", params: {{"inputs": [{}], "registers": [{}], "outputs": [{}]}})"#,
            quote(&decls),
            quote(&registers),
            quote(&outputs)
        ));
        if e == 2 {
            // The interpreted model, fed by the circuit and feeding it.
            let (driver, width) = rng.pick(&signals).clone();
            if width == 64 {
                components.push(r#""scr": Component(model: "scramble")"#.to_string());
                nets.push((driver, "scr.a".to_string()));
                signals.push(("scr.y".to_string(), 64));
            }
        }
    }
    // An array whose members differ in constants: affine, and not.
    let (driver, width) = rng.pick(&signals).clone();
    let text = expression(&mut rng, &[("d".to_string(), width)], 3);
    components.push(format!(
        r#""arr": Component(model: "expr", count: 20, params: {{"inputs": ["d: {width}"], "registers": ["q: 32 = ({text}) + ${{i}} * ${{i}} + ${{3 * i}}"]}})"#
    ));
    nets.push((driver, "arr[*].d".to_string()));
    signals.push(("arr[19].q".to_string(), 32));
    let (a, wa) = rng.pick(&signals).clone();
    components.push(format!(
        r#""g": Component(model: "xor", params: {{"width": {wa}, "n": 3}})"#
    ));
    nets.push((a.clone(), "g.in[0]".to_string()));
    nets.push(("arr[19].q".to_string(), "g.in[1]".to_string()));
    nets.push((a, "g.in[2]".to_string()));
    components.push(
        r#""mem": Component(model: "ram", params: {"width": 16, "depth": 12, "init": [5, 6, 7]})"#
            .to_string(),
    );
    nets.push(("src0.q".to_string(), "mem.addr".to_string()));
    nets.push(("lf.q".to_string(), "mem.wdata".to_string()));
    nets.push(("src1.q".to_string(), "mem.we".to_string()));
    // Widths must agree: put a slice-free `expr` adapter in front of every
    // input whose driver has another width.
    let mut adapted = Vec::new();
    let widths: std::collections::HashMap<String, u32> = signals.iter().cloned().collect();
    for (k, (driver, reader)) in nets.into_iter().enumerate() {
        let want = match reader.as_str() {
            r if r.starts_with("scr.") => 64,
            "mem.addr" => 4,
            "mem.wdata" => 16,
            "mem.we" => 1,
            "g.in[1]" => wa,
            r if r.starts_with("g.") => wa,
            r if r.starts_with("arr[") => width,
            r => {
                let (comp, port) = r.split_once('.').unwrap();
                let decl = components
                    .iter()
                    .find(|c| c.starts_with(&format!("\"{comp}\"")))
                    .unwrap();
                let at = decl.find(&format!("\"{port}: ")).unwrap() + port.len() + 3;
                decl[at..].split('"').next().unwrap().parse().unwrap()
            }
        };
        let have = widths[&driver];
        if have == want {
            adapted.push(format!("{driver:?}: [{reader:?}]"));
        } else {
            components.push(format!(
                r#""fit{k}": Component(model: "expr", params: {{"inputs": ["v: {have}"], "outputs": ["y: {want} = v"]}})"#
            ));
            adapted.push(format!("{driver:?}: [\"fit{k}.v\"]"));
            adapted.push(format!("\"fit{k}.y\": [{reader:?}]"));
        }
    }
    // Several readers of one driver: merge them into one entry per driver.
    let mut merged: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for entry in adapted {
        let (driver, readers) = entry.split_once(": ").unwrap();
        merged
            .entry(driver.to_string())
            .or_default()
            .push(readers.trim_matches(|c| c == '[' || c == ']').to_string());
    }
    let nets: Vec<String> = merged
        .into_iter()
        .map(|(d, r)| format!("{d}: [{}]", r.join(", ")))
        .collect();
    format!(
        "Circuit(name: \"random\", cycles: 60, components: {{\n{}\n}}, nets: {{\n{}\n}})",
        components.join(",\n"),
        nets.join(",\n")
    )
}

#[test]
fn random_circuits_compile_to_what_the_interpreter_computes() {
    let registry = registry();
    let mut compiled_components = 0;
    for seed in 0..60 {
        let text = circuit(seed);
        let load = || {
            cspsim::netlist::load_str(&text, "random.ron", None, &registry, 0)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"))
        };
        let mut traces = Vec::new();
        for (threads, codegen, spread) in [
            (1, Codegen::Interpret, Spread::Adaptive),
            (1, Codegen::Compiled, Spread::Adaptive),
            (2, Codegen::Compiled, Spread::Threads),
            (2, Codegen::Compiled, Spread::OneThread),
            (2, Codegen::Compiled, Spread::Alternate),
        ] {
            let options = RunOptions {
                threads: Some(threads),
                codegen,
                spread,
                ..RunOptions::default()
            };
            let (result, vcd) = run_with_patterns(load(), &options, &["*".to_string()]);
            let summary = result.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            if codegen == Codegen::Compiled {
                let compiled = summary.compiled.expect("compiled");
                let interpreted = text.matches("\"scramble\"").count();
                assert_eq!(
                    compiled.lowered + interpreted,
                    summary.components,
                    "seed {seed}: everything but `scramble` lowers"
                );
                compiled_components += compiled.lowered;
            }
            traces.push((threads, codegen, vcd));
        }
        // Traced narrowly, compiled code leaves out the outputs nothing
        // reads; what is traced stays the same.
        let narrow = ["g.*", "mem.*", "arr[19].*"].map(String::from);
        let mut narrowly = Vec::new();
        for (threads, codegen) in [
            (1, Codegen::Interpret),
            (1, Codegen::Compiled),
            (2, Codegen::Compiled),
        ] {
            let options = RunOptions {
                threads: Some(threads),
                codegen,
                ..RunOptions::default()
            };
            let (result, vcd) = run_with_patterns(load(), &options, &narrow);
            result.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            narrowly.push((threads, codegen, vcd));
        }
        for (threads, codegen, vcd) in &narrowly[1..] {
            assert!(
                *vcd == narrowly[0].2,
                "seed {seed}: {codegen} on {threads} workers, traced narrowly, differs\n{text}"
            );
        }
        let (_, _, reference) = &traces[0];
        for (threads, codegen, vcd) in &traces[1..] {
            if vcd != reference {
                let diff = cspsim::trace::diff::compare(
                    &cspsim::trace::read::Waveform::from_text(reference).unwrap(),
                    &cspsim::trace::read::Waveform::from_text(vcd).unwrap(),
                    0.0,
                );
                panic!("seed {seed}: {codegen} on {threads} workers differs: {diff}\n{text}");
            }
        }
    }
    assert!(
        compiled_components > 60 * 20,
        "arrays and chains were compiled"
    );
}

/// Run the circuit `text` interpreted one by one, interpreted in column
/// batches, and compiled; the traces must be identical. The trace, and
/// how many components the compiled run lowered.
fn one_by_one_in_columns_and_compiled(text: &str) -> (String, usize) {
    let registry = Registry::standard();
    let mut traces = Vec::new();
    let mut lowered = 0;
    for (codegen, one_by_one) in [
        (Codegen::Interpret, true),
        (Codegen::Interpret, false),
        (Codegen::Compiled, false),
    ] {
        let circuit = cspsim::netlist::load_str(text, "agree.ron", None, &registry, 0)
            .unwrap_or_else(|e| panic!("{e}"));
        let options = RunOptions {
            codegen,
            one_by_one,
            ..RunOptions::default()
        };
        let (result, vcd) = run_with_patterns(circuit, &options, &["*".to_string()]);
        let summary = result.unwrap();
        if let Some(compiled) = summary.compiled {
            lowered = compiled.lowered;
        }
        traces.push(vcd);
    }
    assert_eq!(traces[0], traces[1], "columns");
    assert_eq!(traces[0], traces[2], "compiled");
    (traces.swap_remove(0), lowered)
}

/// Registers' initial values (`init`), different in every member of an
/// array, hold from cycle 0, and a `let` temporary feeds the registers,
/// whether the array runs one by one, as a column batch, or compiled.
#[test]
fn initial_values_and_temporaries_hold_one_by_one_in_columns_and_compiled() {
    let text = r#"Circuit(params: {"n": 8}, cycles: 5, components: {
        "c": Component(model: "expr", count: "n", params: {
            "inputs": ["en: 1"],
            "registers": ["q: 8 init ${i * 30 + 3} = en ? q + step : q"],
            "outputs": ["let step: 8 = q[0] ? 3 : 1", "odd: 1 = q[0]"],
        }),
        "t": Component(model: "expr", count: "n", params: {
            "inputs": ["en: 1"],
            "registers": ["q: 8 init ${i} = q + step"],
            "outputs": ["let step: 8 = en ? 2 : 0"],
        }),
        "on": Component(model: "const", params: {"width": 1, "value": 1}),
    }, nets: {"on.y": ["c[*].en", "t[*].en"]})"#;
    let (vcd, _) = one_by_one_in_columns_and_compiled(text);
    let waves = common::parse_vcd(&vcd, 10);
    for i in 0..8u64 {
        let q = waves.get(&format!("circuit.c[{i}].q"));
        assert_eq!(q[0], i * 30 + 3, "member {i} starts at its init");
        // Odd values step by 3, even ones by 1 (a temporary the tick reads).
        let mut want = i * 30 + 3;
        for (t, &got) in q.iter().enumerate() {
            assert_eq!(got, want % 256, "member {i}, cycle {t}");
            want += if want % 2 == 1 { 3 } else { 1 };
        }
        // Only temporaries, no combinational port: the tick computes them.
        let q = waves.get(&format!("circuit.t[{i}].q"));
        assert_eq!((q[0], q[4]), (i, i + 8), "member {i} of t");
    }
}

/// Signed operators (`signed` inputs, `$signed`, `/ % >>> < abs max`)
/// give the same trace compiled, in columns and one by one.
#[test]
fn signed_arithmetic_agrees_compiled_in_columns_and_one_by_one() {
    let text = r#"Circuit(cycles: 300, components: {
        "src": Component(model: "lfsr", params: {"width": 16, "seed": 44257}),
        "s": Component(model: "expr", count: 6, params: {
            "inputs": ["r: signed 16", "raw: 16"],
            "outputs": [
                "q: 16 = r / ${i * 3 - 7}", "m: 16 = r % ${i + 2}", "a: 16 = abs(r)",
                "sh: 16 = r >>> ${i}", "lt: 1 = r < -100", "mx: 16 = max(r, ${i * 100 - 300})",
                "w: 1 = $signed(raw[7:0]) > 5", "lit: 1 = r > 16'shFF00 && r < 16'sd${i * 50}",
                "mixed: 1 = r > raw", "bits: 5 = popcount(r)", "down: 16 = r >> ${i}",
            ],
        }),
    }, nets: {"src.q": ["s[*].r", "s[*].raw"]})"#;
    let (vcd, lowered) = one_by_one_in_columns_and_compiled(text);
    assert_eq!(lowered, 7, "all lower");
    let waves = common::parse_vcd(&vcd, 10);
    let r = waves.get("circuit.src.q");
    let q = waves.get("circuit.s[0].q");
    for t in 0..300 {
        let v = r[t] as u16 as i16;
        assert_eq!(q[t] as u16 as i16, v / -7, "cycle {t}: {v} / -7");
    }
    // Mixed with the unsigned `raw` (the same bits), the signed `r` counts
    // by its bits: never greater.
    assert!(waves.get("circuit.s[0].mixed").iter().all(|&m| m == 0));
    let lit = waves.get("circuit.s[2].lit");
    for t in 0..300 {
        let v = r[t] as u16 as i16;
        assert_eq!(lit[t], u64::from(v > -256 && v < 100), "cycle {t}: {v}");
    }
    let down = waves.get("circuit.s[3].down");
    for t in 0..300 {
        assert_eq!(down[t], r[t] >> 3, "`>>` is logical on the declared bits");
    }
}

/// Input arrays (`in[6]: 8`) with their reductions (`sum`, `xor`, `or`,
/// `and`, `max`, `min`, signed too) and elements (`in[2][1:0]`), in an
/// array of `expr` components whose constants differ: the values Rust
/// computes from the inputs, one by one, as a column batch and compiled.
#[test]
fn input_arrays_reduce_the_same_one_by_one_in_columns_and_compiled() {
    let text = r#"Circuit(cycles: 200, components: {
        "l": Component(model: "lfsr", count: 6, params: {"width": 8, "seed": "${i * 7 + 3}"}),
        "e": Component(model: "expr", count: 3, params: {
            "inputs": ["in[6]: 8", "s[2]: signed 8"],
            "outputs": [
                "sum: 12 = sum(in) + ${i}", "x: 8 = xor(in)", "o: 8 = or(in)", "a: 8 = and(in)",
                "mx: 8 = max(in)", "mn: 8 = min(in)", "smin: 8 = min(s)",
                "third: 2 = in[2][1:0]", "low: 3 = popcount({in[0][0], in[1][0], in[2][0]})",
            ],
        }),
    }, nets: {"l[i].q": ["e[*].in[i]"], "l[0].q": ["e[*].s[0]"], "l[1].q": ["e[*].s[1]"]})"#;
    let (vcd, lowered) = one_by_one_in_columns_and_compiled(text);
    assert_eq!(lowered, 9, "all lower");
    let waves = common::parse_vcd(&vcd, 10);
    let ins: Vec<&[u64]> = (0..6)
        .map(|k| waves.get(&format!("circuit.l[{k}].q")))
        .collect();
    let e = |m: usize, name: &str| waves.get(&format!("circuit.e[{m}].{name}"));
    for t in 0..200 {
        let v: Vec<u64> = ins.iter().map(|w| w[t]).collect();
        for m in 0..3 {
            assert_eq!(
                e(m, "sum")[t],
                v.iter().sum::<u64>() + m as u64,
                "cycle {t}"
            );
        }
        assert_eq!(e(0, "x")[t], v.iter().fold(0, |a, b| a ^ b));
        assert_eq!(e(0, "o")[t], v.iter().fold(0, |a, b| a | b));
        assert_eq!(e(0, "a")[t], v.iter().fold(0xff, |a, b| a & b));
        assert_eq!(e(0, "mx")[t], *v.iter().max().unwrap());
        assert_eq!(e(0, "mn")[t], *v.iter().min().unwrap());
        let signed = |x: u64| x as u8 as i8;
        assert_eq!(
            signed(e(1, "smin")[t]),
            signed(v[0]).min(signed(v[1])),
            "cycle {t}"
        );
        assert_eq!(e(2, "third")[t], v[2] & 3);
        assert_eq!(e(2, "low")[t], v[..3].iter().map(|x| x & 1).sum::<u64>());
    }
}

/// Reals (`x: real` ports, registers and temporaries, literals, `+ - * /`,
/// comparisons, `min max clamp abs floor ceil`, and the conversions
/// `real`, `bits`, `sbits`) give the same trace compiled, in columns and
/// one by one, on values that reach every edge: division by zero (±inf,
/// NaN), values past 2^63, negative ones and saturation. Rust's `f64`
/// computes the expected values.
#[test]
fn reals_agree_compiled_in_columns_and_one_by_one() {
    let text = r#"Circuit(cycles: 300, components: {
        "src": Component(model: "lfsr", params: {"width": 16, "seed": 44257}),
        "r": Component(model: "expr", count: 5, params: {
            "inputs": ["x: 16", "s: signed 16"],
            "constants": ["SCALE = ${i} * 0.25 + 0.5"],
            "registers": ["acc: real init -1.5 = acc * 0.5 + q", "n: 8 = n + (q < 0.0)"],
            "outputs": [
                "let big: real = real({x, x, x, x})",
                "q: real = (real(s) - 300.0) * real(x[4]) / real(x[3:0]) * SCALE",
                "b: 8 = bits(q, 8)", "sb: signed 8 = sbits(q, 8)", "neg: 1 = sb < 0",
                "nan: 1 = q != q", "lt: 1 = q < ${i * 100 - 200}", "ge: 1 = q >= -q",
                "fl: real = floor(q)", "ce: real = ceil(-q)", "mn: real = min(q, 2.5)",
                "mx: real = max(q, -1)", "cl: real = clamp(q, -100, 100.5)", "ab: real = abs(q)",
                "round: 64 = bits(big, 64)", "sround: 64 = sbits(big, 64)", "half: 32 = bits(big / 2.0, 32)",
                "pick: real = x[0] ? q : acc",
            ],
        }),
    }, nets: {"src.q": ["r[*].x", "r[*].s"]})"#;
    let (vcd, lowered) = one_by_one_in_columns_and_compiled(text);
    assert_eq!(lowered, 6, "all lower");
    let waves = common::parse_vcd(&vcd, 10);
    let x = waves.get("circuit.src.q");
    let get = |m: usize, name: &str| waves.get(&format!("circuit.r[{m}].{name}"));
    let real = |v: u64| f64::from_bits(v);
    let (mut infinite, mut nan, mut negative) = (false, false, false);
    for m in 0..5 {
        let mut acc = -1.5f64;
        for (t, &xt) in x.iter().enumerate().take(300) {
            let s = xt as u16 as i16;
            let scale = m as f64 * 0.25 + 0.5;
            let q = (f64::from(s) - 300.0) * ((xt >> 4) & 1) as f64 / ((xt & 15) as f64) * scale;
            let got = real(get(m, "q")[t]);
            assert!(
                got == q || (got.is_nan() && q.is_nan()),
                "r[{m}] cycle {t}: {got} vs {q} (x = {})",
                xt
            );
            (infinite, nan, negative) = (
                infinite || q.is_infinite(),
                nan || q.is_nan(),
                negative || q < 0.0,
            );
            assert_eq!(get(m, "b")[t], (q as u64).min(255), "bits, cycle {t}: {q}");
            assert_eq!(
                get(m, "sb")[t],
                (q as i64).clamp(-128, 127) as u64 & 0xff,
                "sbits: {q}"
            );
            assert_eq!(get(m, "neg")[t], u64::from((q as i64) < 0));
            assert_eq!(get(m, "nan")[t], u64::from(q.is_nan()));
            assert_eq!(get(m, "lt")[t], u64::from(q < (m as f64) * 100.0 - 200.0));
            assert_eq!(
                real(get(m, "cl")[t]).to_bits(),
                (if q > -100.0 { q } else { -100.0 }).min(100.5).to_bits(),
                "clamp {q}"
            );
            if !q.is_nan() {
                assert_eq!(
                    real(get(m, "ab")[t]).to_bits(),
                    q.abs().to_bits(),
                    "abs {q}"
                );
                assert_eq!(real(get(m, "fl")[t]), q.floor());
                assert_eq!(real(get(m, "ce")[t]), (-q).ceil());
            }
            let big = (xt * 0x0001_0001_0001_0001) as f64;
            assert_eq!(get(m, "round")[t], big as u64, "{big}");
            assert_eq!(
                get(m, "sround")[t],
                big as i64 as u64,
                "saturates at 2^63 - 1"
            );
            assert_eq!(
                get(m, "half")[t],
                ((big / 2.0) as u64).min(u64::from(u32::MAX))
            );
            let got = real(get(m, "acc")[t]);
            assert!(
                got.to_bits() == acc.to_bits() || (got.is_nan() && acc.is_nan()),
                "r[{m}].acc cycle {t}"
            );
            acc = acc * 0.5 + q;
        }
    }
    assert!(infinite && nan && negative, "the edges were reached");
}

/// Compiled code writes no slot for a combinational output that nothing
/// reads, but a register that reads one still sees this cycle's value: one
/// component alone and an array (a loop), traced only at their registers.
#[test]
fn registers_that_read_untraced_outputs_agree_compiled() {
    let text = r#"Circuit(name: "own", cycles: 300, components: {
        "one": Component(model: "expr", params: {
            "registers": ["t: 32 = t + 3", "acc: 16 = fire ? 0 : sum"],
            "outputs": ["sum: 16 = acc + t[7:0]", "fire: 1 = sum >= 500"],
        }),
        "many": Component(model: "expr", count: 40, params: {
            "registers": ["t: 32 = t + ${i + 1}", "acc: 16 = fire ? 0 : sum"],
            "outputs": ["sum: 16 = acc + t[7:0]", "fire: 1 = sum >= 700"],
        }),
    })"#;
    let patterns = ["*.acc".to_string()];
    let mut traces = Vec::new();
    for (threads, codegen) in [
        (1, Codegen::Interpret),
        (1, Codegen::Compiled),
        (2, Codegen::Compiled),
    ] {
        let circuit = cspsim::netlist::load_str(text, "own.ron", None, &Registry::standard(), 0)
            .unwrap_or_else(|e| panic!("{e}"));
        let options = RunOptions {
            threads: Some(threads),
            codegen,
            ..RunOptions::default()
        };
        let (result, vcd) = run_with_patterns(circuit, &options, &patterns);
        let summary = result.unwrap();
        if codegen == Codegen::Compiled {
            assert_eq!(summary.compiled.map(|c| c.lowered), Some(41));
        }
        traces.push(vcd);
    }
    assert!(traces[0].contains("acc"), "{}", traces[0]);
    assert_eq!(traces[1], traces[0], "compiled on 1 worker");
    assert_eq!(traces[2], traces[0], "compiled on 2 workers");
}

/// Compiled code decides what the values on its wires settle (an ALU fed
/// only operations 0 and 1, compares with values a decoder never gives, a
/// mux whose select is only ever 0 or 2) and keeps what they do not (a
/// register that can grow to any value): the trace is the interpreter's.
#[test]
fn what_the_wires_carry_decides_code_as_the_interpreter_computes() {
    let text = r#"Circuit(name: "wires", cycles: 400, components: {
        "t": Component(model: "counter", params: {"width": 16}),
        "dec": Component(model: "expr", params: {
            "inputs": ["t: 16"],
            "outputs": ["op: 4 = t[3:0] == 5 ? 1 : 0", "b: 8 = t[7:0]", "s: 2 = t[4] ? 2 : 0"],
        }),
        "alu": Component(model: "alu", params: {"width": 8}),
        "m": Component(model: "mux", params: {"width": 8, "n": 4}),
        "use": Component(model: "expr", params: {
            "inputs": ["op: 4", "y: 8", "s: 2"],
            "registers": ["c: 8 = c + 1 + op"],
            "outputs": [
                "far: 1 = c == 200", "never: 1 = op == 7 || op > 1 || s == 1",
                "odd: 8 = op >= 1 ? y : 255 - y", "low: 1 = s < 3",
            ],
        }),
    }, nets: {
        "t.q": ["dec.t"], "dec.op": ["alu.op", "use.op"], "dec.b": ["alu.a", "alu.b", "m.in[0]"],
        "alu.y": ["m.in[2]", "m.in[1]", "m.in[3]", "use.y"], "dec.s": ["m.sel", "use.s"],
    })"#;
    let (vcd, lowered) = one_by_one_in_columns_and_compiled(text);
    assert_eq!(lowered, 5, "everything compiles");
    let waves = common::parse_vcd(&vcd, 10);
    let far = waves.get("wires.use.far");
    assert!(far.contains(&1), "the register reaches 200");
    assert!(waves.get("wires.use.never").iter().all(|&v| v == 0));
    assert!(waves.get("wires.use.low").iter().all(|&v| v == 1));
    // Operation 1 (subtract b from itself) gives 0; operation 0 doubles b.
    let (y, b, op) = (
        waves.get("wires.alu.y"),
        waves.get("wires.dec.b"),
        waves.get("wires.dec.op"),
    );
    for t in 0..400 {
        let want = if op[t] == 1 { 0 } else { (2 * b[t]) % 256 };
        assert_eq!(y[t], want, "cycle {t}");
    }
}
