//! Comparing two waveforms signal by signal: the golden-waveform check of
//! tests and `cspsim diff`. Bits must match exactly; reals within a
//! relative tolerance.

use std::fmt;

use super::read::{Signal, Value, Waveform};

/// Where two waveforms first disagree on one signal.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// The signal's full name.
    pub signal: String,
    /// The first time they differ.
    pub time: u64,
    /// The cycle of that time, when the clock period is known.
    pub cycle: Option<u64>,
    /// The value in the first waveform (`None`: no value yet, or no such signal).
    pub left: Option<Value>,
    /// The value in the second.
    pub right: Option<Value>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<Value>| v.as_ref().map_or("(none)".to_string(), Value::to_string);
        write!(f, "{} at time {}", self.signal, self.time)?;
        if let Some(c) = self.cycle {
            write!(f, " (cycle {c})")?;
        }
        write!(f, ": {} vs {}", show(&self.left), show(&self.right))
    }
}

/// The result of a comparison: every differing signal, earliest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comparison {
    /// Signals compared.
    pub signals: usize,
    /// One entry per differing signal, ordered by time, then name.
    pub differences: Vec<Difference>,
    /// Signals only in the first / only in the second waveform.
    pub only_left: Vec<String>,
    /// Signals only in the second waveform.
    pub only_right: Vec<String>,
    /// Where the two end, if not at the same time (a cycle more or less).
    pub ends: Option<(u64, u64)>,
    /// The clock period, if either shows one.
    pub period: Option<u64>,
}

impl Comparison {
    /// Whether the waveforms agree on every signal, both ways, and end at
    /// the same time.
    pub fn is_match(&self) -> bool {
        self.differences.is_empty()
            && self.only_left.is_empty()
            && self.only_right.is_empty()
            && self.ends.is_none()
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_match() {
            return write!(f, "waveforms match ({} signals)", self.signals);
        }
        if let Some(first) = self.differences.first() {
            writeln!(f, "first difference: {first}")?;
            writeln!(
                f,
                "{} of {} signals differ",
                self.differences.len(),
                self.signals
            )?;
            for d in self.differences.iter().skip(1).take(9) {
                writeln!(f, "  {d}")?;
            }
        }
        for (side, names) in [("first", &self.only_left), ("second", &self.only_right)] {
            if !names.is_empty() {
                writeln!(f, "only in the {side}: {}", names.join(", "))?;
            }
        }
        if let Some((a, b)) = self.ends {
            match self.period.filter(|p| *p > 0) {
                Some(p) => writeln!(f, "the first has {} cycles, the second {}", a / p, b / p)?,
                None => writeln!(f, "the first ends at time {a}, the second at {b}")?,
            }
        }
        Ok(())
    }
}

fn same(a: Option<&Value>, b: Option<&Value>, tolerance: f64) -> bool {
    match (a, b) {
        (Some(Value::Real(x)), Some(Value::Real(y))) => {
            x == y
                || (x - y).abs() <= tolerance * x.abs().max(y.abs())
                || (x.is_nan() && y.is_nan())
        }
        (a, b) => a == b,
    }
}

/// The first time `a` and `b` disagree, if they do.
fn first_difference(a: &Signal, b: &Signal, tolerance: f64) -> Option<u64> {
    let mut times: Vec<u64> = a
        .changes
        .iter()
        .chain(&b.changes)
        .map(|(t, _)| *t)
        .collect();
    times.sort_unstable();
    times.dedup();
    times
        .into_iter()
        .find(|&t| !same(a.at(t), b.at(t), tolerance))
}

/// Compare two waveforms. Reals agree within `tolerance`, relative.
pub fn compare(left: &Waveform, right: &Waveform, tolerance: f64) -> Comparison {
    let period = left.clock_period().or_else(|| right.clock_period());
    let mut result = Comparison {
        signals: left.signals.len(),
        ends: (left.end != right.end).then_some((left.end, right.end)),
        period,
        ..Comparison::default()
    };
    for (name, a) in &left.signals {
        let Some(b) = right.signals.get(name) else {
            result.only_left.push(name.clone());
            continue;
        };
        if let Some(time) = first_difference(a, b, tolerance) {
            result.differences.push(Difference {
                signal: name.clone(),
                time,
                cycle: period.filter(|p| *p > 0).map(|p| time / p),
                left: a.at(time).cloned(),
                right: b.at(time).cloned(),
            });
        }
    }
    result.only_right = right
        .signals
        .keys()
        .filter(|n| !left.signals.contains_key(*n))
        .cloned()
        .collect();
    result
        .differences
        .sort_by(|x, y| x.time.cmp(&y.time).then_with(|| x.signal.cmp(&y.signal)));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "$timescale 1 ns $end\n$scope module top $end\n$var wire 1 ! clock $end\n$var wire 4 \" q $end\n$var real 64 # r $end\n$upscope $end\n$enddefinitions $end\n#0\n$dumpvars\n1!\nb0 \"\nr1.0 #\n$end\n#5\n0!\n#10\n1!\nb1 \"\n#15\n0!\n#20\n1!\nb10 \"\nr1.5 #\n#25\n0!\n#30\n";

    #[test]
    fn identical_waveforms_match_and_differences_are_located() {
        let a = Waveform::from_text(A).unwrap();
        assert!(compare(&a, &a, 0.0).is_match());
        let b = Waveform::from_text(&A.replace("b10 \"", "b11 \"")).unwrap();
        let c = compare(&a, &b, 0.0);
        assert_eq!(c.differences.len(), 1);
        let d = &c.differences[0];
        assert_eq!((d.signal.as_str(), d.time, d.cycle), ("top.q", 20, Some(2)));
        assert_eq!(
            d.to_string(),
            "top.q at time 20 (cycle 2): 2 (b10) vs 3 (b11)"
        );
    }

    #[test]
    fn a_cycle_more_or_less_is_a_difference() {
        let a = Waveform::from_text(A).unwrap();
        let short = Waveform::from_text(
            A.strip_suffix("#25\n0!\n#30\n")
                .unwrap()
                .to_owned()
                .as_str(),
        )
        .unwrap();
        let c = compare(&a, &short, 0.0);
        assert!(!c.is_match());
        assert!(
            c.to_string()
                .contains("the first has 3 cycles, the second 2"),
            "{c}"
        );
    }

    #[test]
    fn reals_compare_within_the_tolerance() {
        let a = Waveform::from_text(A).unwrap();
        let b = Waveform::from_text(&A.replace("r1.5 #", "r1.5000001 #")).unwrap();
        assert!(!compare(&a, &b, 0.0).is_match());
        assert!(compare(&a, &b, 1e-6).is_match());
    }

    #[test]
    fn missing_signals_and_bad_files_are_reported() {
        let a = Waveform::from_text(A).unwrap();
        let b = Waveform::from_text(
            &A.replace("$var real 64 # r $end\n", "")
                .replace("r1.0 #\n", "")
                .replace("r1.5 #\n", ""),
        )
        .unwrap();
        let c = compare(&a, &b, 0.0);
        assert_eq!(c.only_left, vec!["top.r".to_string()]);
        // Both ways: a signal only in the second is a difference too.
        let c = compare(&b, &a, 0.0);
        assert_eq!(c.only_right, vec!["top.r".to_string()]);
        assert!(!c.is_match());
        assert!(
            Waveform::from_text(&A.replace("#20\n", "#2\n")).is_err(),
            "time going back"
        );
        assert!(
            Waveform::from_text(&A.replace("b1 \"", "b1 %")).is_err(),
            "undeclared id"
        );
    }
}

/// Why a golden-waveform check failed.
#[derive(Debug, thiserror::Error)]
pub enum GoldenError {
    /// No golden file yet.
    #[error("no golden waveform at {0}; run with CSPSIM_BLESS=1 to record one")]
    Missing(std::path::PathBuf),
    /// The golden file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The golden file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// One of the two is not valid VCD.
    #[error("{which}: {source}")]
    Invalid {
        /// `the run's VCD` or the golden file's path.
        which: String,
        /// Why.
        source: super::read::ReadError,
    },
    /// The waveforms differ.
    #[error("waveform differs from {path}:\n{comparison}(run with CSPSIM_BLESS=1 to accept the new waveform)")]
    Mismatch {
        /// The golden file.
        path: std::path::PathBuf,
        /// What differs.
        comparison: Box<Comparison>,
    },
}

/// Compare VCD text `actual` with the golden file `golden` (reals within
/// `tolerance`, relative). With `CSPSIM_BLESS=1` in the environment, write
/// `actual` as the golden file instead.
pub fn check_golden(
    actual: &str,
    golden: &std::path::Path,
    tolerance: f64,
) -> Result<(), GoldenError> {
    let io = |source| GoldenError::Io {
        path: golden.to_path_buf(),
        source,
    };
    if std::env::var_os("CSPSIM_BLESS").is_some_and(|v| v == "1") {
        if let Some(dir) = golden.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        return std::fs::write(golden, actual).map_err(io);
    }
    let expected = match std::fs::read_to_string(golden) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(GoldenError::Missing(golden.to_path_buf()))
        }
        Err(e) => return Err(io(e)),
    };
    let parse = |text: &str, which: String| {
        Waveform::from_text(text).map_err(|source| GoldenError::Invalid { which, source })
    };
    let actual = parse(actual, "the run's VCD".into())?;
    let expected = parse(&expected, golden.display().to_string())?;
    let comparison = compare(&actual, &expected, tolerance);
    if comparison.is_match() {
        Ok(())
    } else {
        Err(GoldenError::Mismatch {
            path: golden.to_path_buf(),
            comparison: Box::new(comparison),
        })
    }
}
