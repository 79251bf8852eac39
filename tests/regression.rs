//! One test per class of fault found in cspsim and fixed: each input that
//! once crashed, lost data or misreported is now a located error (or the
//! right result), and stays so.

use cspsim::netlist::{load_str, ErrorKind, LoadError};
use cspsim::Registry;

fn refused(text: &str) -> LoadError {
    match load_str(text, "bad.ron", None, &Registry::standard(), 0) {
        Ok(_) => panic!("accepted:\n{}", &text[..text.len().min(300)]),
        Err(e) => e,
    }
}

/// The first diagnostic's message, kind and line and column.
fn first(text: &str) -> (String, ErrorKind, (usize, usize)) {
    let e = refused(text);
    let d = e.diagnostics[0].clone();
    let at = e.line_col(&d).unwrap_or_else(|| panic!("located: {e}"));
    (d.message, d.kind, at)
}

fn expr_circuit(expression: &str) -> String {
    format!(
        r#"Circuit(components: {{"e": Component(model: "expr", params: {{"inputs": ["a: 8"], "outputs": ["y: 8 = {expression}"]}})}})"#
    )
}

/// Nesting and length once overflowed the stack in the parser and the
/// compiler of expressions: in `expr`, `assert`, `${…}`, `count:` and net
/// indices alike.
#[test]
fn deep_or_long_expressions_are_located_errors_not_stack_overflows() {
    let n = 50_000;
    let deep = [
        format!("{}a{}", "(".repeat(n), ")".repeat(n)),
        format!("{}a", "~".repeat(n)),
        vec!["a"; n].join(" + "),
    ];
    for text in &deep {
        let (message, kind, (line, column)) = first(&expr_circuit(text));
        assert!(message.contains("nests too deeply"), "{message}");
        assert_eq!(kind, ErrorKind::BadParameter);
        assert_eq!(line, 1);
        assert!(column > 80, "points into the expression: {column}");
    }
    let sum = vec!["1"; n].join(" + ");
    let places = [
        format!(
            r#"Circuit(components: {{"c": Component(model: "counter", params: {{"step": "${{{sum}}}"}})}})"#
        ),
        format!(r#"Circuit(components: {{"c": Component(model: "counter", count: "{sum}")}})"#),
        format!(
            r#"Circuit(components: {{"c": Component(model: "counter", count: 2), "r": Component(model: "register")}}, nets: {{"c[{sum}].q": ["r.d"]}})"#
        ),
        format!(
            r#"Circuit(components: {{"c": Component(model: "counter"), "a": Component(model: "assert", params: {{"inputs": ["x: 8"], "condition": "{sum}"}})}}, nets: {{"c.q": ["a.x"]}})"#
        ),
    ];
    for text in &places {
        let e = refused(text);
        assert!(
            e.diagnostics
                .iter()
                .any(|d| d.message.contains("nests too deeply")),
            "{e}"
        );
    }
}

/// RON nested past the ron crate's limit: a message for a cspsim user, and
/// an excerpt of the long line, not the whole line.
#[test]
fn deeply_nested_ron_is_explained_for_a_user() {
    let text = format!(
        r#"Circuit(components: {{"c": Component(model: "counter", params: {{"x": {}{}}})}})"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let e = refused(&text);
    let message = &e.diagnostics[0].message;
    assert!(message.contains("nests too deeply"), "{message}");
    assert!(!message.contains("recursion_limit"), "{message}");
    let shown = e.render(false);
    assert!(
        shown.len() < 2000,
        "a short excerpt, not the line: {} bytes",
        shown.len()
    );
    assert!(shown.contains("bad.ron:1:"), "{shown}");
}

/// A range in a net's driver once went unchecked: a negative end overflowed
/// a capacity, a huge one exhausted memory.
#[test]
fn driver_ranges_are_checked_as_reader_ranges_are() {
    let circuit = |driver: &str| {
        format!(
            r#"Circuit(components: {{"x": Component(model: "counter", count: 4), "r": Component(model: "register", count: 4), "b": Component(model: "bus", params: {{"masters": 4}})}}, nets: {{"{driver}": ["r[i].d"]}})"#
        )
    };
    for (driver, says) in [
        ("x[0..0 - 1].q", "the range 0..-1 is backwards"),
        ("x[3..2].q", "the range 3..2 is backwards"),
        ("x[0..100000000000].q", "`x[99999999999]` does not exist"),
        ("x[2..5].q", "`x[4]` does not exist"),
        ("b.gnt[0..0-1]", "the range 0..-1 is backwards"),
        ("b.gnt[1..9]", "`gnt[8]` does not exist"),
    ] {
        let e = refused(&circuit(driver));
        let d = e
            .diagnostics
            .iter()
            .find(|d| d.kind == ErrorKind::BadIndex)
            .unwrap_or_else(|| panic!("{driver}: {e}"));
        assert!(d.message.contains(says), "{driver}: {}", d.message);
        assert!(e.line_col(d).is_some(), "{driver}: located");
    }
}

/// Arrays too large for the machine's memory were once killed by the
/// allocator (16 M counters, 4,096 × 4,096 composites): now refused at the
/// declaration, before anything is built, with the size and the limit.
#[test]
fn circuits_too_large_for_memory_are_refused_before_they_are_built() {
    let started = std::time::Instant::now();
    for text in [
        r#"Circuit(components: {"c": Component(model: "counter", count: 16777216)})"#,
        r#"Circuit(params: {"n": 4096}, components: {"r": Component(model: "register", count: 2), "c": Component(model: "alu", count: "n * n")})"#,
    ] {
        let (message, kind, (line, _)) = first(text);
        assert_eq!(kind, ErrorKind::TooLarge, "{message}");
        assert!(
            message.contains("of memory") && message.contains("it may use here"),
            "{message}"
        );
        assert_eq!(line, 1);
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("circuits/detector64.ron");
    let options = cspsim::netlist::LoadOptions {
        max_components: Some(1000),
        ..Default::default()
    };
    let Err(e) = cspsim::netlist::load_file_with(&path, &Registry::standard(), &options) else {
        panic!("over the limit");
    };
    assert_eq!(e.diagnostics.len(), 1, "no follow-up errors: {e}");
    assert!(
        e.diagnostics[0]
            .message
            .contains("more than the limit of 1000"),
        "{e}"
    );
    assert!(started.elapsed().as_secs() < 30, "refused, not built");
}

/// A chain of composites each using the next recursed once per level, and a
/// long enough chain overflowed the stack.
#[test]
fn composites_nest_at_most_64_deep() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cspsim-nesting");
    std::fs::create_dir_all(dir.join("models")).unwrap();
    for k in 0..100 {
        let inner = if k < 99 {
            format!("m{}", k + 1)
        } else {
            "counter".into()
        };
        let model = format!(
            r#"Model(outputs: {{"q": "x.q"}}, components: {{"x": Component(model: "{inner}")}})"#
        );
        std::fs::write(dir.join(format!("models/m{k}.ron")), model).unwrap();
    }
    let circuit = dir.join("c.ron");
    std::fs::write(
        &circuit,
        r#"Circuit(components: {"top": Component(model: "m0")})"#,
    )
    .unwrap();
    let Err(e) = cspsim::netlist::load_file(&circuit, &Registry::standard(), 0) else {
        panic!("too deep");
    };
    let d = &e.diagnostics[0];
    assert!(d.message.contains("nest more than 64 deep"), "{e}");
    assert!(e.line_col(d).is_some());
    std::fs::remove_dir_all(dir).unwrap();
}

/// Under an address-space limit (`ulimit -v`), the threads engine once
/// aborted about half the time ("failed to allocate an alternative
/// stack", or failed to spawn mid-way): now its thread limit keeps within
/// the address space left, so a
/// run either fits or is refused (exit 2), never aborted.
#[test]
fn the_threads_engine_under_an_address_space_limit_fits_or_refuses() {
    let exe = env!("CARGO_BIN_EXE_cspsim");
    let circuit =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("circuits/bench/counters.ron");
    for k in [200, 4096] {
        for _ in 0..3 {
            let script = format!(
                "ulimit -v 1500000 && exec '{exe}' run '{}' --param k={k} --engine threads --cycles 20 -q",
                circuit.display()
            );
            let out = std::process::Command::new("sh")
                .args(["-c", &script])
                .output()
                .expect("sh runs");
            let code = out.status.code();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                matches!(code, Some(0) | Some(2)),
                "k = {k}: {code:?} {stderr}"
            );
            if code == Some(2) {
                assert!(stderr.contains("use --engine partitioned"), "{stderr}");
            }
        }
    }
}

fn cspsim(args: &[&str], cwd: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_cspsim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the binary runs")
}

/// A scratch copy of `circuits/` and `models/`, removed when dropped.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(label: &str) -> Scratch {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cspsim-{label}"));
        for sub in ["circuits", "models"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
            for entry in std::fs::read_dir(root.join(sub)).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    std::fs::copy(&path, dir.join(sub).join(path.file_name().unwrap())).unwrap();
                }
            }
        }
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An output over an input (`--vcd c.ron`, a trace over the program the
/// ROM reads, a graph over the circuit) once overwrote it with exit 0.
#[test]
fn no_output_overwrites_an_input() {
    let scratch = Scratch::new("overwrite");
    let dir = &scratch.0;
    let before = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let kept = [
        "circuits/cpu8.ron",
        "circuits/fib.hex",
        "models/pixel_column.ron",
    ]
    .map(|f| (f, before(f)));
    for args in [
        &["run", "circuits/cpu8.ron", "--vcd", "circuits/cpu8.ron"][..],
        &["run", "circuits/cpu8.ron", "--vcd", "circuits/fib.hex"],
        &[
            "run",
            "circuits/cpu8.ron",
            "--fst",
            "./circuits/../circuits/fib.hex",
        ],
        &[
            "run",
            "circuits/detector64.ron",
            "--cycles",
            "2",
            "--fst",
            "models/pixel_column.ron",
        ],
        &["graph", "circuits/cpu8.ron", "-o", "circuits/cpu8.ron"],
    ] {
        let out = cspsim(args, dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("which the circuit reads"),
            "{args:?}: {stderr}"
        );
    }
    for (file, bytes) in kept {
        assert_eq!(before(file), bytes, "{file} is intact");
    }
}

/// A period times the cycles once passed 2^64: the VCD's time went back
/// with exit 0, and the FST died mid-run. Refused before any file is made.
#[test]
fn traces_whose_times_overflow_are_refused_before_they_start() {
    let scratch = Scratch::new("overflow");
    let dir = &scratch.0;
    std::fs::write(
        dir.join("slow.ron"),
        r#"Circuit(clock: Clock(period: 1000000000000, timescale: "1ns"), components: {"c": Component(model: "counter")})"#,
    )
    .unwrap();
    for format in ["--vcd", "--fst"] {
        let out = cspsim(
            &["run", "slow.ron", "--cycles", "100000000", format, "t.out"],
            dir,
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("pass the largest time a trace can hold"),
            "{stderr}"
        );
        assert!(!dir.join("t.out").exists(), "no trace file is made");
    }
    // Untraced, nothing overflows.
    let out = cspsim(&["run", "slow.ron", "--cycles", "1000", "-q"], dir);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        cspsim::engine::trace_fits(u64::MAX / 10, 10).is_err(),
        "the library refuses it too"
    );
}

/// A disk that fills mid-run: the error says how many cycles the trace
/// holds, and the bytes it names end at a cycle boundary, so the file cut
/// there (and closed with the cycle's end time, as `cspsim run` does) is a
/// valid trace of exactly those cycles.
#[test]
fn a_trace_that_fails_mid_run_says_what_it_holds_up_to_a_cycle_boundary() {
    /// Takes `room` bytes, then fails as a full disk does.
    #[derive(Clone)]
    struct Disk(std::sync::Arc<std::sync::Mutex<Vec<u8>>>, usize);
    impl std::io::Write for Disk {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut bytes = self.0.lock().unwrap();
            let room = self.1.saturating_sub(bytes.len());
            if room == 0 {
                return Err(std::io::Error::from_raw_os_error(28));
            }
            let n = room.min(buf.len());
            bytes.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("circuits/detector_readout.ron");
    let circuit = cspsim::netlist::load_file(&path, &Registry::standard(), 0).unwrap();
    let disk = Disk(Default::default(), 300_000);
    let patterns = circuit.trace.clone();
    let trace = cspsim::trace::Trace::vcd(&circuit, &patterns, disk.clone()).unwrap();
    let options = cspsim::engine::RunOptions {
        cycles: Some(1_000_000),
        ..Default::default()
    };
    let Err(cspsim::engine::RunError::Trace(failure)) =
        cspsim::engine::run(circuit, &options, Some(trace))
    else {
        panic!("the disk fills");
    };
    assert!(failure
        .to_string()
        .contains(&format!("holds the first {} cycles", failure.held.cycles)));
    let held = failure.held;
    assert!(held.cycles > 100, "{held:?}");
    let bytes = held.bytes.expect("a VCD can be cut") as usize;
    let mut text = disk.0.lock().unwrap()[..bytes].to_vec();
    text.extend_from_slice(format!("#{}\n", held.cycles * 10).as_bytes());
    let waveform = cspsim::trace::read::Waveform::read(text.as_slice()).expect("a valid VCD");
    assert_eq!(waveform.end, held.cycles * 10);
    // Every held cycle is there, and nothing after it: the last changes
    // are the last held cycle's.
    let last = waveform
        .signals
        .values()
        .flat_map(|s| s.changes.iter().map(|(t, _)| *t))
        .max()
        .unwrap();
    let cycle = (held.cycles - 1) * 10;
    assert!((cycle..cycle + 10).contains(&last), "{last}: {held:?}");
}

/// A circuit, model or data file that is not UTF-8 once said only "stream
/// did not contain valid UTF-8": now it gives the line, column and byte,
/// and a UTF-8 byte-order mark is accepted.
#[test]
fn files_that_are_not_utf8_say_where_and_a_byte_order_mark_is_fine() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cspsim-utf8");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.ron");
    std::fs::write(&bad, b"Circuit(\n  name: \"caf\xE9\", components: {})").unwrap();
    let Err(e) = cspsim::netlist::load_file(&bad, &Registry::standard(), 0) else {
        panic!("refused");
    };
    assert!(
        e.to_string()
            .contains("line 2, column 13 holds the byte 0xE9"),
        "{e}"
    );
    let bom = dir.join("bom.ron");
    std::fs::write(
        &bom,
        b"\xEF\xBB\xBFCircuit(components: {\"c\": Component(model: \"counter\")})",
    )
    .unwrap();
    assert!(cspsim::netlist::load_file(&bom, &Registry::standard(), 0).is_ok());
    std::fs::write(dir.join("words.hex"), b"01 02\n\xFF\xFE").unwrap();
    let rom = dir.join("rom.ron");
    std::fs::write(
        &rom,
        r#"Circuit(components: {"m": Component(model: "rom", params: {"width": 8, "depth": 4, "file": "words.hex"}), "a": Component(model: "counter", params: {"width": 2})}, nets: {"a.q": ["m.addr"]})"#,
    )
    .unwrap();
    let Err(e) = cspsim::netlist::load_file(&rom, &Registry::standard(), 0) else {
        panic!("refused");
    };
    assert!(
        e.to_string()
            .contains("line 2, column 1 holds the byte 0xFF"),
        "{e}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Real parameters once took NaN and the infinities (a pixel's `leakage`),
/// and very large values printed hundreds of digits.
#[test]
fn real_parameters_are_finite_and_messages_stay_short() {
    for (param, value) in [
        ("leakage", "NaN"),
        ("leakage", "inf"),
        ("noise", "-inf"),
        ("threshold", "NaN"),
    ] {
        let text = format!(
            r#"Circuit(components: {{"p": Component(model: "pixel", params: {{"{param}": {value}}})}})"#
        );
        let (message, kind, _) = first(&text);
        assert_eq!(kind, ErrorKind::BadParameter, "{message}");
        assert!(message.contains("finite"), "{param} = {value}: {message}");
    }
    for (param, value, says) in [("gain", "-1e308", "-1e308"), ("rate", "1e300", "1e300")] {
        let text = format!(
            r#"Circuit(components: {{"p": Component(model: "pixel", params: {{"{param}": {value}}})}})"#
        );
        let (message, ..) = first(&text);
        assert!(message.contains(says) && message.len() < 200, "{message}");
    }
    assert_eq!(cspsim::params::real_text(-1e308), "-1e308");
    assert_eq!(cspsim::params::real_text(0.25), "0.25");
}

/// A composite model with no components was reported as "the circuit has
/// no components": now the model file and its line.
#[test]
fn an_empty_composite_model_is_named() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cspsim-empty");
    std::fs::create_dir_all(dir.join("models")).unwrap();
    std::fs::write(dir.join("models/empty.ron"), "Model(\n  components: {},\n)").unwrap();
    let circuit = dir.join("c.ron");
    std::fs::write(
        &circuit,
        r#"Circuit(components: {"e": Component(model: "empty")})"#,
    )
    .unwrap();
    let Err(e) = cspsim::netlist::load_file(&circuit, &Registry::standard(), 0) else {
        panic!("refused");
    };
    let d = &e.diagnostics[0];
    assert_eq!(d.message, "composite model `empty` has no components");
    assert_eq!(e.line_col(d), Some((2, 3)));
    assert!(e.to_string().contains("empty.ron"), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A parameter mistake in every element of an array was reported for
/// element 0 only, with no count.
#[test]
fn a_parameter_mistake_in_every_element_is_reported_once_with_its_count() {
    let e = refused(
        r#"Circuit(components: {"c": Component(model: "counter", count: 4, params: {"width": "${70 + i}"})})"#,
    );
    assert_eq!(e.diagnostics.len(), 1, "{e}");
    let d = &e.diagnostics[0];
    assert!(d.message.contains("`c[0]`"), "{}", d.message);
    assert!(
        d.notes.iter().any(|n| n.contains("occurs 3 more times")),
        "{:?}",
        d.notes
    );
}

/// A bus of n masters once declared every grant on every request apart:
/// n² dependencies, 4.3 GB at 16,384 masters. The grants now share one
/// list, and the component's combinational inputs come out in linear time.
#[test]
fn a_bus_declares_its_dependencies_in_linear_space() {
    let registry = Registry::standard();
    let bus = registry.get("bus").unwrap();
    let n = 16_384usize;
    let params = cspsim::params! { "masters" => n as i64 };
    let (ports, _) = bus.build(&params, &cspsim::BuildContext::new("b")).unwrap();
    let deps = |o: usize| match &ports.outputs()[o].timing {
        cspsim::Timing::Combinational(d) => d.clone(),
        other => panic!("{other:?}"),
    };
    assert!(deps(0).same(&deps(n - 1)), "the grants share one list");
    assert_eq!(deps(0).len(), n);
    let inputs = ports.combinational_inputs();
    assert_eq!(inputs.len(), 4 * n, "every request, we, addr and wdata");
}

/// A trace pattern for a component that failed to build added an error of
/// its own ("selects no signal"): only the real mistake is reported.
#[test]
fn a_failed_component_brings_no_follow_up_trace_error() {
    let e = refused(
        r#"Circuit(trace: ["c.*", "nothing.*"], components: {"c": Component(model: "countr")})"#,
    );
    assert_eq!(e.diagnostics.len(), 1, "{e}");
    assert_eq!(e.diagnostics[0].kind, ErrorKind::UnknownModel);
    // With nothing else wrong, a pattern that selects nothing is reported.
    let e =
        refused(r#"Circuit(trace: ["nothing.*"], components: {"c": Component(model: "counter")})"#);
    assert_eq!(e.diagnostics[0].kind, ErrorKind::BadTrace, "{e}");
}

/// A circuit whose only loop is a component feeding itself is refused as
/// a loop, and `check` draws it as one.
#[test]
fn a_self_loop_alone_is_a_combinational_loop() {
    let e = refused(
        r#"Circuit(components: {"a": Component(model: "add", params: {"width": 8}), "k": Component(model: "const", params: {"width": 8, "value": 1})}, nets: {"a.y": ["a.a"], "k.y": ["a.b"]})"#,
    );
    assert_eq!(e.diagnostics.len(), 1, "{e}");
    assert_eq!(e.diagnostics[0].kind, ErrorKind::CombinationalLoop, "{e}");
    assert!(
        e.diagnostics[0].message.contains("a.y -> a.a -> a.y"),
        "{e}"
    );
    // Through a register it is no loop.
    load_str(
        r#"Circuit(components: {"r": Component(model: "register", params: {"width": 8})}, nets: {"r.q": ["r.d"]})"#,
        "ok.ron",
        None,
        &Registry::standard(),
        0,
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

/// An unconnected input port of a composite whose inner inputs are
/// optional once left them at an uninitialised all-ones value (a FIFO's
/// `pop` read as 1 every cycle, draining it): they take their defaults.
#[test]
fn an_unconnected_composite_input_gives_its_inner_inputs_their_defaults() {
    let text =
        r#"Circuit(components: {"c": Component(model: "pixel_column", params: {"rows": 2})})"#;
    let circuit = cspsim::netlist::load_str(text, "open.ron", None, &Registry::standard(), 0)
        .unwrap_or_else(|e| panic!("{e}"));
    let fifo = circuit
        .components
        .iter()
        .find(|c| c.path == "c.fifo")
        .expect("the column's FIFO");
    let pop = fifo
        .interface
        .inputs()
        .iter()
        .position(|p| p.name == "pop")
        .unwrap();
    assert_eq!(fifo.inputs[pop], cspsim::circuit::Source::Constant(0));
}
