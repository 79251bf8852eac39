//! `diff`: compare two traces, VCD or FST, from cspsim or another
//! simulator: `--map` renames signals and `--scope` selects them, so that
//! an Icarus or Verilator trace lines up with cspsim's.

use std::path::Path;

use super::output::emit;
use super::{EXIT_BAD_INPUT, EXIT_RUN_FAILED};
use crate::trace;
use crate::trace::read::Waveform;

/// How the two traces' signals are lined up before comparing.
pub(super) struct Selection {
    /// `REGEX=REPLACEMENT` rules, applied in order to every name in both.
    pub maps: Vec<String>,
    /// Only signals in these scopes (after renaming); all if empty.
    pub scopes: Vec<String>,
}

pub(super) fn diff(a: &Path, b: &Path, tolerance: f64, selection: &Selection) -> i32 {
    let rules = match rules(&selection.maps) {
        Ok(rules) => rules,
        Err(message) => {
            super::output::say("error", &message);
            return EXIT_BAD_INPUT;
        }
    };
    let read = |path: &Path| -> Result<Waveform, String> {
        let wave = Waveform::open(path).map_err(|e| match e {
            trace::read::ReadError::Io(e) => format!("cannot read {}: {e}", path.display()),
            e => format!("{}: {e}", path.display()),
        })?;
        lined_up(wave, &rules, &selection.scopes).map_err(|e| format!("{}: {e}", path.display()))
    };
    match (read(a), read(b)) {
        (Ok(left), Ok(right)) => {
            if !selection.scopes.is_empty() && left.signals.is_empty() && right.signals.is_empty() {
                super::output::say(
                    "error",
                    &format!(
                        "no signal of either trace is in the scopes {}",
                        selection.scopes.join(", ")
                    ),
                );
                return EXIT_BAD_INPUT;
            }
            let comparison = trace::diff::compare(&left, &right, tolerance);
            let newline = if comparison.is_match() { "\n" } else { "" };
            if let Err(code) = emit(&format!("{comparison}{newline}")) {
                return code;
            }
            if comparison.is_match() {
                0
            } else {
                EXIT_RUN_FAILED
            }
        }
        (Err(e), _) | (_, Err(e)) => {
            super::output::say("error", &e);
            EXIT_BAD_INPUT
        }
    }
}

type Rule = (regex::Regex, String);

/// The `--map` rules, each `REGEX=REPLACEMENT` (split at the first `=`;
/// write a literal `=` in the regex as `\x3d`).
fn rules(maps: &[String]) -> Result<Vec<Rule>, String> {
    maps.iter()
        .map(|map| {
            let (pattern, replacement) = map
                .split_once('=')
                .ok_or_else(|| format!("--map `{map}` is not REGEX=REPLACEMENT"))?;
            let regex = regex::Regex::new(pattern).map_err(|e| {
                format!("--map `{map}`: the pattern is not a regular expression: {e}")
            })?;
            Ok((regex, replacement.to_string()))
        })
        .collect()
}

/// `wave` with its signals renamed by `rules` and limited to `scopes`.
fn lined_up(mut wave: Waveform, rules: &[Rule], scopes: &[String]) -> Result<Waveform, String> {
    if rules.is_empty() && scopes.is_empty() {
        return Ok(wave);
    }
    let mut signals = std::collections::BTreeMap::new();
    let mut from = std::collections::BTreeMap::new();
    for (name, signal) in std::mem::take(&mut wave.signals) {
        let mut renamed = name.clone();
        for (regex, replacement) in rules {
            renamed = regex
                .replace_all(&renamed, replacement.as_str())
                .into_owned();
        }
        let inside = scopes.is_empty()
            || scopes.iter().any(|s| {
                renamed == *s
                    || renamed
                        .strip_prefix(s.as_str())
                        .is_some_and(|r| r.starts_with('.'))
            });
        if !inside {
            continue;
        }
        if let Some(other) = from.insert(renamed.clone(), name.clone()) {
            return Err(format!(
                "--map makes both `{other}` and `{name}` into `{renamed}`"
            ));
        }
        signals.insert(renamed, signal);
    }
    wave.signals = signals;
    Ok(wave)
}
