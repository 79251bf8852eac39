//! `diff`: compare two traces.

use std::path::Path;

use super::output::emit;
use super::{EXIT_BAD_INPUT, EXIT_RUN_FAILED};
use crate::trace;

pub(super) fn diff(a: &Path, b: &Path, tolerance: f64) -> i32 {
    let read = |path: &Path| -> Result<trace::read::Waveform, String> {
        let mut file = std::fs::File::open(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        // An FST file starts with its header block, of type 0.
        let mut first = [1u8];
        use std::io::{Read, Seek};
        if file.read_exact(&mut first).is_ok() && first[0] == 0 {
            return Err(format!(
                "{} is an FST trace; diff reads VCD: convert it with `fst2vcd {0} > trace.vcd`",
                path.display()
            ));
        }
        file.rewind()
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        trace::read::Waveform::read(std::io::BufReader::new(file))
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    match (read(a), read(b)) {
        (Ok(left), Ok(right)) => {
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
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}
