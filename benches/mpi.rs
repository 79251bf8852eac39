//! Partitions over MPI ranks (`--engine mpi`): 1 rank against 2 on the
//! 64×64 detector and on a 256×256 one (65,536 pixels, the same composites
//! with `--param cols=256 --param rows=256`), beside the default engine on
//! one thread; and what an exchange costs, on two registers on two ranks,
//! each reading the other (so each cycle is almost nothing but its
//! exchanges). Rounds alternate between the configurations, and each keeps
//! its best (load only ever slows a run down). The cycles' time comes from
//! the run's `--json` summary (loading and compiling excluded).
//!
//! `cargo bench --features mpi --bench mpi` (add `-- --quick` for a short run).

use std::path::PathBuf;
use std::process::Command;

/// One configuration: how many ranks (`None`: the default engine, one
/// thread, no `mpirun`), the circuit and its arguments.
struct Config<'a> {
    label: &'a str,
    ranks: Option<usize>,
    args: Vec<String>,
}

/// What one run reports: the cycles' seconds, and the bytes and messages
/// its ranks exchanged per cycle.
fn run(config: &Config<'_>) -> (f64, u64, u64) {
    let exe = env!("CARGO_BIN_EXE_cspsim");
    let mut command = match config.ranks {
        Some(r) => {
            let mut c = Command::new("mpirun");
            c.args([
                "--allow-run-as-root",
                "--oversubscribe",
                "-n",
                &r.to_string(),
                exe,
            ]);
            c
        }
        None => Command::new(exe),
    };
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command.arg("run").args(&config.args).args(["--json", "-q"]);
    match config.ranks {
        Some(_) => command.args(["--engine", "mpi"]),
        None => command.args(["--threads", "1"]),
    };
    let out = command.output().expect("the run starts");
    assert!(
        out.status.success(),
        "{}: {}",
        config.label,
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let exchanged = &json["exchanged_per_cycle"];
    (
        json["seconds"].as_f64().expect("seconds"),
        exchanged["bytes"].as_u64().unwrap_or(0),
        exchanged["messages"].as_u64().unwrap_or(0),
    )
}

/// The two registers, each reading the other: on two ranks, one
/// registered cut net each way.
fn ping_circuit() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cspsim-bench-mpi");
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let path = dir.join("ping.ron");
    std::fs::write(
        &path,
        r#"Circuit(
    name: "ping",
    components: {
        "a": Component(model: "expr", params: {"inputs": ["d: 32"], "registers": ["q: 32 = d + 1"]}),
        "b": Component(model: "expr", params: {"inputs": ["d: 32"], "registers": ["q: 32 = d ^ 5"]}),
    },
    nets: {"a.q": ["b.d"], "b.q": ["a.d"]},
)"#,
    )
    .expect("the circuit is written");
    path
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    if Command::new("mpirun").arg("--version").output().is_err() {
        println!("no mpirun: apt-get install openmpi-bin libopenmpi-dev");
        return;
    }
    let rounds = if quick { 1 } else { 5 };
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let (small, large, ping) = if quick {
        ("500", "20", "20000")
    } else {
        ("5000", "200", "200000")
    };
    let ping_path = ping_circuit();
    let ping_path = ping_path.to_str().expect("a UTF-8 path");
    let detector = |cycles: &str, big: bool| {
        let mut a = s(&["circuits/detector64.ron", "--cycles", cycles]);
        if big {
            a.extend(s(&["--param", "cols=256", "--param", "rows=256"]));
        }
        a
    };
    // Each circuit without MPI on one thread, then on 1 and on 2 ranks.
    let tables: Vec<(&str, &str, Vec<String>)> = vec![
        (
            "detector 64×64 (4,419 components)",
            small,
            detector(small, false),
        ),
        (
            "detector 256×256 (66,819 components)",
            large,
            detector(large, true),
        ),
        (
            "two registers, each reading the other",
            ping,
            s(&[ping_path, "--cycles", ping]),
        ),
    ];
    println!("best of {rounds} alternated rounds; cycles/s of the cycles alone");
    println!();
    println!("| circuit | one thread | 1 rank | 2 ranks | 2 ranks / 1 rank | 2 ranks: messages, bytes a cycle | 2 ranks: µs a cycle |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, cycles, args) in &tables {
        let cycles: u64 = cycles.parse().expect("a number of cycles");
        let configs: Vec<Config> = [None, Some(1), Some(2)]
            .into_iter()
            .map(|ranks| Config {
                label: name,
                ranks,
                args: args.clone(),
            })
            .collect();
        let mut best = vec![(f64::INFINITY, 0, 0); configs.len()];
        for _ in 0..rounds {
            for (b, config) in best.iter_mut().zip(&configs) {
                let r = run(config);
                if r.0 < b.0 {
                    *b = r;
                }
            }
        }
        let per_second = |seconds: f64| cycles as f64 / seconds;
        let (two, bytes, messages) = best[2];
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} | {:.2}× | {messages}, {bytes} | {:.2} |",
            per_second(best[0].0),
            per_second(best[1].0),
            per_second(two),
            best[1].0 / two,
            1e6 * two / cycles as f64,
        );
    }
}
