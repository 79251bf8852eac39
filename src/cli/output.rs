//! Writing results: standard output without panics, and outputs that never overwrite inputs.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::EXIT_RUN_FAILED;

/// An error unless `out` is none of `inputs` (the files the circuit was
/// built from): an output never overwrites an input.
pub(super) fn not_an_input(out: &Path, inputs: &[PathBuf], what: &str) -> Result<(), String> {
    // A file that does not exist yet cannot be an input.
    let Ok(target) = out.canonicalize() else {
        return Ok(());
    };
    match inputs
        .iter()
        .find(|i| i.canonicalize().is_ok_and(|i| i == target))
    {
        Some(input) => Err(format!(
            "{what} would overwrite {}, which the circuit reads; write it elsewhere",
            input.display()
        )),
        None => Ok(()),
    }
}

/// Write `text` to standard output and flush it. A closed pipe or a full
/// disk is an error message and exit status 1, not a panic (`println!`
/// panics on both).
pub(super) fn emit(text: &str) -> Result<(), i32> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| {
            eprintln!("error: cannot write to standard output: {e}");
            EXIT_RUN_FAILED
        })
}

/// Flush stdout before exiting (the summary line must not be lost).
pub fn flush() {
    let _ = std::io::stdout().flush();
}
