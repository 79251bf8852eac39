//! The README's model walkthrough is `examples/pwm.rs` word for word, so
//! what a newcomer copies is what CI compiles, tests and runs.

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
fn the_model_walkthrough_is_the_pwm_example_verbatim() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let example = normalised(&std::fs::read_to_string(root.join("examples/pwm.rs")).unwrap());
    let blocks = rust_blocks(&readme);
    assert!(
        blocks.len() >= 2,
        "the README shows the model and its tests"
    );
    for block in blocks {
        let lines = normalised(&block);
        let found = example
            .windows(lines.len())
            .any(|window| window == lines.as_slice());
        assert!(
            found,
            "this README block is not in examples/pwm.rs; update one of them:\n{block}"
        );
    }
}
