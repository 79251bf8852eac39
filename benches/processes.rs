//! Components as OS processes: what a round trip to a child costs, what a
//! `process` component adds to a circuit the default engine runs, and the
//! processes engine against the threads and partitioned engines on the
//! example circuits. Rounds alternate between the configurations of a
//! table, and each keeps its best (load only ever slows a run down).
//!
//! `cargo bench --bench processes` (add `-- --quick` for a short run).

use std::path::{Path, PathBuf};
use std::process::Command;

fn cspsim() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cspsim"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

/// The cycles' wall time of one `cspsim run` (loading and starting
/// children excluded), from its `--json` summary.
fn run(circuit: &Path, args: &[&str]) -> f64 {
    let out = cspsim()
        .arg("run")
        .arg(circuit)
        .args(["--json", "-q"])
        .args(args)
        .output()
        .expect("cspsim runs");
    assert!(
        out.status.success(),
        "{}: {}",
        circuit.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    json["seconds"].as_f64().expect("seconds")
}

/// Best of `rounds` alternated rounds, for each configuration.
fn best(rounds: usize, configs: &[(&Path, Vec<&str>)]) -> Vec<f64> {
    let mut best = vec![f64::INFINITY; configs.len()];
    for _ in 0..rounds {
        for (b, (circuit, args)) in best.iter_mut().zip(configs) {
            *b = b.min(run(circuit, args));
        }
    }
    best
}

/// A chain of 16 `expr` registers, and optionally one counter beside it:
/// in-process, served by `cspsim serve`, or a Python model.
fn circuit(dir: &Path, name: &str, counter: Option<&str>) -> PathBuf {
    let exe = env!("CARGO_BIN_EXE_cspsim");
    let root = env!("CARGO_MANIFEST_DIR");
    let mut components = String::new();
    let mut nets = String::new();
    for i in 0..16 {
        components.push_str(&format!(
            "\"s{i}\": Component(model: \"expr\", params: {{\"inputs\": [\"d: 32\"], \"registers\": [\"q: 32 = (d + {k}) ^ (d << 1)\"]}}),\n",
            k = 2 * i + 1
        ));
        let next = if i == 15 {
            "s0".to_string()
        } else {
            format!("s{}", i + 1)
        };
        nets.push_str(&format!("\"s{i}.q\": [\"{next}.d\"],\n"));
    }
    let process = |command: String| {
        format!(
            "\"c\": Component(model: \"process\", params: {{\"command\": {command}, \"env\": [\"PYTHONPATH={root}/python\"], \"inputs\": [\"en: 1\", \"rst: 1\"], \"outputs\": [\"q: 32\"]}}),
             \"one\": Component(model: \"const\", params: {{\"width\": 1, \"value\": 1}}),
             \"zero\": Component(model: \"const\", params: {{\"width\": 1, \"value\": 0}}),\n"
        )
    };
    match counter {
        None => {}
        Some("native") => {
            components.push_str("\"c\": Component(model: \"counter\", params: {\"width\": 32}),\n")
        }
        Some("serve") => components.push_str(&process(format!(
            "[\"{exe}\", \"serve\", \"counter\", \"--param\", \"width=32\"]"
        ))),
        Some(_) => {
            std::fs::write(
                dir.join("counter.py"),
                "import cspsim_process as cspsim\n\
                 class Counter:\n\
                 \x20   inputs = {\"en\": 1, \"rst\": 1}\n\
                 \x20   outputs = {\"q\": 32}\n\
                 \x20   q = 0\n\
                 \x20   def tick(self, ins):\n\
                 \x20       self.q = 0 if ins[\"rst\"] else (self.q + ins[\"en\"]) & 0xFFFFFFFF\n\
                 \x20       return {\"q\": self.q}\n\
                 cspsim.serve(Counter())\n",
            )
            .unwrap();
            components.push_str(&process("[\"python3\", \"counter.py\"]".to_string()));
        }
    }
    if counter.is_some_and(|c| c != "native") {
        nets.push_str("\"one.y\": [\"c.en\"], \"zero.y\": [\"c.rst\"],\n");
    }
    let path = dir.join(format!("{name}.ron"));
    std::fs::write(
        &path,
        format!("Circuit(name: \"{name}\", cycles: 1000, components: {{\n{components}}}, nets: {{\n{nets}}})\n"),
    )
    .unwrap();
    path
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 2 } else { 5 };
    let cycles = if quick { 20_000 } else { 100_000 };
    let dir = std::env::temp_dir().join(format!("cspsim-bench-processes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    println!("## A process component in a circuit the default engine runs\n");
    println!(
        "16 `expr` stages, and one 32-bit counter beside them; {cycles} cycles, best of {rounds} alternated rounds.\n"
    );
    let have_python = Command::new("python3").arg("--version").output().is_ok();
    let mut kinds = vec![
        (None, "the 16 stages alone"),
        (Some("native"), "+ a `counter`, in process"),
        (Some("serve"), "+ a `cspsim serve counter` child"),
    ];
    if have_python {
        kinds.push((Some("python"), "+ a Python counter child"));
    }
    let paths: Vec<PathBuf> = kinds
        .iter()
        .enumerate()
        .map(|(i, (k, _))| circuit(&dir, &format!("c{i}"), *k))
        .collect();
    let c = cycles.to_string();
    let configs: Vec<(&Path, Vec<&str>)> = paths
        .iter()
        .map(|p| (p.as_path(), vec!["--cycles", c.as_str()]))
        .collect();
    let times = best(rounds, &configs);
    println!("| circuit | cycles/s | per cycle | added per cycle |");
    println!("|---|---:|---:|---:|");
    for ((_, label), t) in kinds.iter().zip(&times) {
        let per = t / cycles as f64;
        println!(
            "| {label} | {:.0} | {:.2} µs | {:.2} µs |",
            cycles as f64 / t,
            per * 1e6,
            (per - times[0] / cycles as f64) * 1e6
        );
    }

    println!("\n## The engines on the example circuits\n");
    let cycles = if quick { 300 } else { 2000 };
    let c = cycles.to_string();
    println!("Component-cycles/s over {cycles} cycles, tracing off, best of {rounds} alternated rounds.\n");
    println!("| circuit | components | partitioned | threads | processes | processes ÷ threads |");
    println!("|---|---:|---:|---:|---:|---:|");
    for name in [
        "counter_compare",
        "alu_datapath",
        "cpu8",
        "detector_readout",
        "pipeline16",
    ] {
        let path = PathBuf::from(format!("circuits/{name}.ron"));
        let check = cspsim()
            .args(["check", "--json"])
            .arg(&path)
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
        let components = json["components"].as_u64().unwrap_or(1) as f64;
        let configs: Vec<(&Path, Vec<&str>)> = ["partitioned", "threads", "processes"]
            .iter()
            .map(|e| (path.as_path(), vec!["--cycles", c.as_str(), "--engine", e]))
            .collect();
        let t = best(rounds, &configs);
        let rate = |t: f64| components * cycles as f64 / t;
        println!(
            "| {name} | {components} | {:.1} M | {:.0} k | {:.1} k | {:.2}× |",
            rate(t[0]) / 1e6,
            rate(t[1]) / 1e3,
            rate(t[2]) / 1e3,
            t[1] / t[2]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
