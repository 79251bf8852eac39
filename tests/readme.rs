//! The README is checked: its Rust is `examples/pwm.rs` and
//! `examples/rate_study.rs` word for word, its shell examples print what they show, and its table lists every
//! model, so what a newcomer copies is what CI compiles, tests and runs.

fn normalised(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The ```rust blocks of `markdown`.
fn rust_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim()) {
            (None, "```rust") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn the_readmes_rust_is_the_examples_verbatim() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let examples: Vec<Vec<String>> = ["examples/pwm.rs", "examples/rate_study.rs"]
        .iter()
        .map(|f| normalised(&std::fs::read_to_string(root.join(f)).unwrap()))
        .collect();
    let blocks = rust_blocks(&readme);
    assert!(
        blocks.len() >= 3,
        "the README shows the model, its tests and a study"
    );
    for block in blocks {
        let lines = normalised(&block);
        let found = examples.iter().any(|example| {
            example
                .windows(lines.len())
                .any(|window| window == lines.as_slice())
        });
        assert!(
            found,
            "this README block is in no example (examples/pwm.rs, examples/rate_study.rs); update one of them:\n{block}"
        );
    }
}

/// A shell example: a `$ cspsim …` command and the output shown under it.
struct Example {
    command: String,
    shown: Vec<String>,
}

/// The ```console blocks of `markdown`, as examples.
fn console_examples(markdown: &str) -> Vec<Example> {
    let mut examples: Vec<Example> = Vec::new();
    let mut inside = false;
    for line in markdown.lines() {
        match (inside, line.trim_end()) {
            (false, "```console") => inside = true,
            (true, "```") => inside = false,
            (true, line) => match line.strip_prefix("$ ") {
                Some(command) => examples.push(Example {
                    command: command.to_string(),
                    shown: Vec::new(),
                }),
                None => examples
                    .last_mut()
                    .expect("a console block starts with a `$ ` command")
                    .shown
                    .push(line.to_string()),
            },
            (false, _) => {}
        }
    }
    examples
}

/// Whether `text` matches `pattern`, where `…` stands for any text.
fn line_matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('…');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (k, part) in parts.iter().enumerate() {
        if k + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Whether the lines `text` match the lines `shown`, where a line that is
/// just `…` stands for any number of lines.
fn lines_match(shown: &[String], text: &[&str]) -> bool {
    match shown.split_first() {
        None => text.is_empty(),
        Some((any, rest)) if any == "…" => {
            (0..=text.len()).any(|k| lines_match(rest, &text[k..]))
        }
        Some((first, rest)) => {
            text.first().is_some_and(|t| line_matches(first, t)) && lines_match(rest, &text[1..])
        }
    }
}

/// Every `$ cspsim …` example in the README runs, from a directory that
/// holds the project's circuits, models and docs, and prints what the
/// README shows (standard output, then standard error), `…` standing for
/// what varies (times, speeds).
#[test]
fn every_shell_example_in_the_readme_prints_what_it_shows() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let examples = console_examples(&readme);
    assert!(
        examples.len() >= 8,
        "the README's shell examples were found"
    );
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cspsim-readme");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for shared in ["circuits", "models", "docs"] {
        std::os::unix::fs::symlink(root.join(shared), dir.join(shared)).unwrap();
    }
    let mut failures = Vec::new();
    for example in &examples {
        // A word in single quotes (a pattern the shell must not expand) is
        // passed without them.
        let words: Vec<&str> = example
            .command
            .split_whitespace()
            .map(|w| {
                w.strip_prefix('\'')
                    .and_then(|w| w.strip_suffix('\''))
                    .unwrap_or(w)
            })
            .collect();
        assert_eq!(
            words.first(),
            Some(&"cspsim"),
            "a console example runs cspsim: {}",
            example.command
        );
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cspsim"))
            .args(&words[1..])
            .current_dir(&dir)
            .output()
            .expect("the binary runs");
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<&str> = printed.lines().map(str::trim_end).collect();
        let lines = match lines.iter().rposition(|l| !l.is_empty()) {
            Some(last) => &lines[..=last],
            None => &[],
        };
        if printed.contains("panicked") || !lines_match(&example.shown, lines) {
            failures.push(format!(
                "$ {}\n--- the README shows:\n{}\n--- it printed:\n{printed}",
                example.command,
                example.shown.join("\n")
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "update the README or the code:\n\n{}",
        failures.join("\n\n")
    );
}

#[test]
fn the_example_matcher_takes_ellipses_for_anything() {
    assert!(line_matches("a … b", "a 12 ms b"));
    assert!(line_matches("in …: … cycles/s", "in 3µs: 4 M cycles/s"));
    assert!(!line_matches("in …: … cycles/s", "in 3µs: 4 M cycles"));
    assert!(!line_matches("exact", "exact and more"));
    let text = ["one", "two", "three"];
    assert!(lines_match(&["one".into(), "…".into()], &text));
    assert!(lines_match(&["…".into(), "three".into()], &text));
    assert!(!lines_match(&["one".into(), "three".into()], &text));
}

/// Every registered model is in the README's table of models.
#[test]
fn the_readme_lists_every_model() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let table: String = readme
        .lines()
        .skip_while(|l| !l.starts_with("| family | models |"))
        .take_while(|l| l.starts_with('|'))
        .collect();
    for model in cspsim::Registry::standard().iter() {
        assert!(
            table.contains(&format!("`{}`", model.name)),
            "the README's table of models lacks `{}`",
            model.name
        );
    }
}
