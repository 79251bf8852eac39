//! A fuzz test: mutants of the shipped circuits and composite models
//! (lines deleted, duplicated and swapped, extreme numbers, renamed names,
//! deep nesting, cut files), each checked and, if it passes, run by the
//! `cspsim` binary. A panic, an abort, a hang or any exit status but 0, 1
//! and 2 fails it. The seed is fixed, so a failure reproduces;
//! `CSPSIM_FUZZ_COUNT=N` runs more mutants (default 800), and
//! `CSPSIM_FUZZ_SEED` another sequence.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A fixed random sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const EXTREMES: [&str; 12] = [
    "0",
    "-1",
    "65",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "170141183460469231731687303715884105727",
    "99999999999",
    "1e308",
    "-1e308",
    "NaN",
    "\"${99999999 * 99999999}\"",
];

/// One mutation of `text`.
fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let n = lines.len();
    match rng.below(8) {
        0 if n > 1 => {
            lines.remove(rng.below(n));
        }
        1 => {
            let k = rng.below(n);
            let line = lines[k].clone();
            lines.insert(k, line);
        }
        2 if n > 1 => {
            let (a, b) = (rng.below(n), rng.below(n));
            lines.swap(a, b);
        }
        3 | 4 => {
            // A number replaced by an extreme one.
            let digits: Vec<usize> = text
                .char_indices()
                .filter(|(i, c)| {
                    c.is_ascii_digit()
                        && (*i == 0 || !text.as_bytes()[i - 1].is_ascii_alphanumeric())
                })
                .map(|(i, _)| i)
                .collect();
            if let Some(&at) = digits.get(rng.below(digits.len())) {
                let end = text[at..]
                    .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .map_or(text.len(), |e| at + e);
                let extreme = EXTREMES[rng.below(EXTREMES.len())];
                return format!("{}{extreme}{}", &text[..at], &text[end..]);
            }
        }
        5 => {
            // A quoted name changed by one character.
            let quotes: Vec<usize> = text.match_indices('"').map(|(i, _)| i + 1).collect();
            if let Some(&at) = quotes.get(rng.below(quotes.len())) {
                if at < text.len() && text.is_char_boundary(at) {
                    let c = ["x", "[", "]", ".", "*", "${", "0", ""][rng.below(8)];
                    return format!("{}{c}{}", &text[..at], &text[at..]);
                }
            }
        }
        6 => {
            // Deep nesting in some expression-like string.
            let deep = format!("{}1{}", "(".repeat(30_000), ")".repeat(30_000));
            if let Some(at) = text.find("${") {
                return format!("{}${{{deep} + {}", &text[..at], &text[at + 2..]);
            }
            return text.replacen("= ", &format!("= {deep} + "), 1);
        }
        _ => {
            // The file cut short.
            let cut = rng.below(text.len());
            let cut = (0..=cut)
                .rev()
                .find(|&c| text.is_char_boundary(c))
                .unwrap_or(0);
            return text[..cut].to_string();
        }
    }
    lines.join("\n")
}

/// Run `cspsim args` in `dir`, killing it after `limit`; its exit status
/// (None: a signal) and its standard error.
fn run(args: &[&str], dir: &Path, limit: Duration) -> Result<(Option<i32>, String), String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cspsim"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let mut stderr = String::new();
            use std::io::Read;
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut stderr);
            }
            return Ok((status.code(), stderr));
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("hung for more than {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn mutants_of_the_shipped_circuits_never_crash_or_hang() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let count: usize = std::env::var("CSPSIM_FUZZ_COUNT")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(800);
    let seed: u64 = std::env::var("CSPSIM_FUZZ_SEED")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0x5eed);
    let scratch = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cspsim-fuzz");
    copy_dir(&root.join("circuits"), &scratch.join("circuits"));
    copy_dir(&root.join("models"), &scratch.join("models"));
    // The detector is large for a debug build: its composite is fuzzed
    // through the small readout example instead.
    let targets: Vec<PathBuf> = [
        "circuits/counter_compare.ron",
        "circuits/alu_datapath.ron",
        "circuits/accumulator_pipeline.ron",
        "circuits/traffic_light.ron",
        "circuits/cpu8.ron",
        "circuits/detector_readout.ron",
        "circuits/logic_expr.ron",
        "circuits/logic_gates.ron",
        "circuits/pipeline16.ron",
        "models/pipeline_stage.ron",
        "models/pixel_column.ron",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    let mut rng = Rng(seed | 1);
    let mut failures = Vec::new();
    let mut ran = 0;
    for k in 0..count {
        let target = &targets[k % targets.len()];
        let original = std::fs::read_to_string(scratch.join(target)).unwrap();
        let mut mutant = mutate(&original, &mut rng);
        if rng.below(3) == 0 {
            mutant = mutate(&mutant, &mut rng);
        }
        std::fs::write(scratch.join(target), &mutant).unwrap();
        // A model is exercised through the circuits that use it.
        let circuit = match target.to_str().unwrap() {
            "models/pipeline_stage.ron" => "circuits/pipeline16.ron",
            "models/pixel_column.ron" => "circuits/pixel_column_user.ron",
            other => other,
        };
        if circuit.ends_with("pixel_column_user.ron") {
            std::fs::write(
                scratch.join(circuit),
                r#"Circuit(components: {"col": Component(model: "pixel_column", params: {"rows": 4})})"#,
            )
            .unwrap();
        }
        let vcd = scratch.join("out.vcd");
        let vcd = vcd.to_str().unwrap();
        let limit = Duration::from_secs(60);
        let steps: [&[&str]; 2] = [
            &["check", circuit],
            &["run", circuit, "--cycles", "50", "-q", "--vcd", vcd],
        ];
        for args in steps {
            match run(args, &scratch, limit) {
                Ok((Some(0), _)) => {}
                Ok((Some(1 | 2), stderr)) if !stderr.contains("panicked") => break,
                Ok((code, stderr)) => {
                    failures.push(format!(
                        "mutant {k} of {}: {args:?} gave {code:?}:\n{}\n--- the mutant:\n{}",
                        target.display(),
                        &stderr[..stderr.len().min(2000)],
                        &mutant[..mutant.len().min(3000)]
                    ));
                    break;
                }
                Err(e) => {
                    let shown = &mutant[..mutant.len().min(3000)];
                    failures.push(format!(
                        "mutant {k} of {}: {args:?} {e}\n--- the mutant:\n{shown}",
                        target.display()
                    ));
                    break;
                }
            }
            ran += usize::from(args[0] == "run");
        }
        std::fs::write(scratch.join(target), &original).unwrap();
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(
        failures.is_empty(),
        "{} of {count} mutants failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(ran > count / 20, "some mutants still run ({ran})");
}
