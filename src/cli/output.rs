//! Writing results: standard output without panics, and outputs that never overwrite inputs.

use std::io::Write;
use std::path::{Path, PathBuf};

use std::sync::atomic::{AtomicBool, Ordering};

use super::EXIT_RUN_FAILED;

/// Whether messages on standard error are styled (set once, at start).
static COLOR: AtomicBool = AtomicBool::new(false);

/// Whether messages are left to another process (an MPI rank other than
/// rank 0, which says everything once).
static SILENT: AtomicBool = AtomicBool::new(false);

/// Leave messages to another process from now on.
pub fn set_silent() {
    SILENT.store(true, Ordering::Relaxed);
}

/// Whether messages are left to another process.
pub fn silent() -> bool {
    SILENT.load(Ordering::Relaxed)
}

/// When to style messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Decide, once, whether standard error is styled.
pub fn set_color(choice: ColorChoice) {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && std::io::stderr().is_terminal(),
    };
    COLOR.store(on, Ordering::Relaxed);
}

/// Whether standard error is styled.
pub fn color() -> bool {
    COLOR.load(Ordering::Relaxed)
}

/// `label: message` on standard error, styled as the loader's reports
/// are (bold, the label red for `error`, yellow for `warning`, green for
/// `note`).
pub fn say(label: &str, message: &str) {
    if !silent() {
        eprint!("{}", labelled(label, message));
    }
}

/// What [`say`] prints, with its newline.
pub(super) fn labelled(label: &str, message: &str) -> String {
    if color() {
        // As codespan-reporting styles the loader's reports.
        let colour = match label {
            "error" => 9,
            "warning" => 11,
            _ => 10,
        };
        format!("\x1b[1m\x1b[38;5;{colour}m{label}\x1b[0m\x1b[1m: {message}\x1b[0m\n")
    } else {
        format!("{label}: {message}\n")
    }
}

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
            say("error", &format!("cannot write to standard output: {e}"));
            EXIT_RUN_FAILED
        })
}

/// Flush stdout before exiting (the summary line must not be lost).
pub fn flush() {
    let _ = std::io::stdout().flush();
}
