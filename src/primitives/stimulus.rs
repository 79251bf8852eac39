//! `stimulus`: drives values cycle by cycle from an inline list, a hex file
//! or a CSV file with one column per output, optionally looping.

use std::path::Path;

use crate::lower::{Binary, Lowering};
use crate::model::{BuildContext, Interface, Io, Model, ModelInfo};
use crate::params::{ParamDecl, ParamError, Params};
use crate::value::{mask, PortType};

struct Stimulus {
    /// Row-major: `rows × columns` values, already masked.
    values: Vec<u64>,
    columns: usize,
    repeat: bool,
    /// Whether a `next` input says when to move on (else every cycle).
    gated: bool,
    /// The row being driven.
    row: usize,
}

impl Stimulus {
    fn rows(&self) -> usize {
        self.values.len() / self.columns
    }

    fn publish(&self, io: &Io<'_>) {
        let rows = self.rows();
        let done = !self.repeat && self.row >= rows;
        let row = if self.repeat {
            self.row % rows
        } else {
            self.row.min(rows - 1)
        };
        let start = row * self.columns;
        for (o, &v) in self.values[start..start + self.columns].iter().enumerate() {
            io.set(o, v);
        }
        io.set(self.columns, u64::from(done));
    }
}

impl Model for Stimulus {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::of(&self.row)
    }

    fn restore(&mut self, state: &crate::model::ModelState, _io: &Io<'_>) -> Result<(), String> {
        self.row = state.read()?;
        Ok(())
    }

    fn unlower(&mut self, state: &[u64], _arrays: &[Vec<u64>]) {
        self.row = state[0] as usize;
    }

    fn lower(&self) -> Option<Lowering> {
        let mut l = Lowering::new();
        let rows = self.rows() as u64;
        let columns = self.columns as u64;
        let values = l.array(self.values.clone());
        let row = l.state_word(self.row as u64);
        let t = &mut l.tick;
        let now = t.load(row);
        let r = t.binary_const(Binary::Add, now, 1);
        // Gated by `next`: the row moves on only when it is 1.
        let r = if self.gated {
            let next = t.input(0);
            t.select(next, r, now)
        } else {
            r
        };
        let (shown, done) = if self.repeat {
            let wraps = t.binary_const(Binary::Eq, r, rows);
            let zero = t.constant(0);
            let r = t.select(wraps, zero, r);
            t.store(row, r);
            (r, zero)
        } else {
            // Past the last row the count stops, as the outputs hold it.
            let past = t.binary_const(Binary::Ge, r, rows);
            let last = t.constant(rows - 1);
            let r = t.select(past, last, r);
            let kept = t.constant(rows);
            let counted = t.select(past, kept, r);
            t.store(row, counted);
            (r, past)
        };
        let start = t.binary_const(Binary::Mul, shown, columns);
        for o in 0..self.columns {
            let at = t.binary_const(Binary::Add, start, o as u64);
            let v = t.load_at(values, at);
            t.set_output(o, v);
        }
        t.set_output(self.columns, done);
        Some(l)
    }

    fn reset(&mut self, io: &Io<'_>) {
        self.row = 0;
        self.publish(io);
    }

    fn tick(&mut self, io: &Io<'_>) {
        if self.gated && io.get(0) == 0 {
            return;
        }
        self.row += 1;
        if self.repeat && self.row == self.rows() {
            self.row = 0;
        }
        self.publish(io);
    }
}

/// An output column: name and width.
type Column = (String, u32);

/// The rows a hex stimulus file may address with `@`.
const MAX_FILE_ROWS: usize = 1 << 24;

/// The columns and the values, row by row, not yet masked.
fn table(p: &Params, ctx: &BuildContext) -> Result<(Vec<Column>, Vec<i128>), ParamError> {
    let width = u32::from(p.width("width")?);
    let inline = p.int_list("values")?;
    let file = p.str("file")?;
    let single = vec![("out".to_string(), width)];
    match (inline.is_empty(), file.is_empty()) {
        (false, true) => Ok((single, inline)),
        (true, false) => {
            let path = ctx.resolve(file);
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
            {
                read_csv(&path, width)
            } else {
                Ok((single, super::contents::read_file(&path, MAX_FILE_ROWS)?))
            }
        }
        (true, true) => Err(ParamError::invalid(
            "values",
            "give the values inline (`values`) or in a `file`",
        )),
        (false, false) => Err(ParamError::invalid(
            "file",
            "give `values` or `file`, not both",
        )),
    }
}

/// A CSV file: a header naming the outputs (`name` or `name:width`), then
/// one row per cycle of decimal, `0x` hex or `0b` binary integers.
fn read_csv(path: &Path, default_width: u32) -> Result<(Vec<Column>, Vec<i128>), ParamError> {
    let at = |line: u64, message: String| {
        ParamError::invalid("file", format!("{}:{line}: {message}", path.display()))
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .flexible(true)
        .from_path(path)
        .map_err(|e| ParamError::invalid("file", format!("cannot read {}: {e}", path.display())))?;
    let header = reader.headers().map_err(|e| at(1, e.to_string()))?.clone();
    let mut columns = Vec::new();
    for field in &header {
        let (name, width) = match field.split_once(':') {
            Some((name, w)) => match w.trim().parse::<u32>() {
                Ok(w @ 1..=64) => (name.trim(), w),
                _ => return Err(at(1, format!("`{field}`: the width must be 1..=64"))),
            },
            None => (field, default_width),
        };
        if !crate::netlist::is_identifier(name) {
            return Err(at(1, format!("`{name}` is not a port name")));
        }
        if name == "done" || columns.iter().any(|(n, _): &Column| n == name) {
            return Err(at(1, format!("the column name `{name}` is taken")));
        }
        columns.push((name.to_string(), width));
    }
    let mut values = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            at(line, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != columns.len() {
            return Err(at(
                line,
                format!("{} fields, the header has {}", record.len(), columns.len()),
            ));
        }
        for (k, field) in record.iter().enumerate() {
            let value = integer(field).ok_or_else(|| {
                at(
                    line,
                    format!("column `{}`: `{field}` is not an integer", columns[k].0),
                )
            })?;
            values.push(value);
        }
    }
    Ok((columns, values))
}

/// An integer as the expression language writes it, optionally negative.
fn integer(text: &str) -> Option<i128> {
    match text.strip_prefix('-') {
        Some(rest) => crate::expr::parse::number(rest).map(|m| -i128::from(m)),
        None => crate::expr::parse::number(text).map(i128::from),
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new("stimulus", "drives values per cycle from a list or a file", |p, ctx| {
        let (columns, raw) = table(p, ctx)?;
        if raw.is_empty() {
            return Err(ParamError::invalid("values", "there are no values to drive"));
        }
        let mut values = Vec::with_capacity(raw.len());
        for (i, &v) in raw.iter().enumerate() {
            let (name, width) = &columns[i % columns.len()];
            let limit = 1i128 << width;
            if v >= limit || v < -(limit / 2) {
                let file = p.str("file")?;
                let (param, source) = match file {
                    "" => ("values", String::new()),
                    f => ("file", format!("{}: ", ctx.resolve(f).display())),
                };
                return Err(ParamError::invalid(
                    param,
                    format!(
                        "{source}cycle {} drives {v} on `{name}`, which does not fit in {width} bits",
                        i / columns.len()
                    ),
                ));
            }
            values.push(v as u64 & mask(*width));
        }
        let gated = p.bool("next")?;
        let mut ports = Interface::new();
        if gated {
            ports = ports.input("next", PortType::Bits(1));
        }
        for (name, width) in &columns {
            ports = ports.registered(name.clone(), PortType::Bits(*width as u8));
        }
        ports = ports.registered("done", PortType::Bits(1));
        Ok((
            ports,
            Box::new(Stimulus {
                values,
                columns: columns.len(),
                repeat: p.bool("repeat")?,
                gated,
                row: 0,
            }),
        ))
    })
    .doc(
        "Outputs (all registered): `out` (Bits(width)) for `values` or a hex file; for a\n\
         .csv file one output per column, named by the header (`name` or `name:width`);\n\
         then `done` (Bits(1)). Cycle t drives row t. After the last row the outputs hold\n\
         it and `done` is 1 — or, with `repeat`, row 0 follows again and `done` stays 0.\n\
         With `next: true`, an input `next` (Bits(1)) paces it for a handshaking consumer:\n\
         a row stays until a cycle in which `next` is 1, and the following row comes after\n\
         that cycle's clock edge.\n\
         CSV fields are decimal, 0x hex or 0b binary; negative values are two's complement;\n\
         lines starting with # are comments. Hex files are whitespace-separated words, with\n\
         // and # comments, as for memories. A file is found relative to the circuit.",
    )
    .param(ParamDecl::width("bits of `out`, and of CSV columns without a width"))
    .param(
        ParamDecl::int_list("values", i64::MIN.into(), u64::MAX.into(), "one value per cycle")
            .default(Vec::<i64>::new()),
    )
    .param(ParamDecl::string("file", "a .csv file (one column per output) or a hex file").default(""))
    .param(ParamDecl::bool("repeat", "start again after the last row").default(false))
    .param(ParamDecl::bool("next", "move on only in cycles whose `next` input is 1").default(false))
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    fn drive(tb: &mut Testbench, port: &str, n: usize) -> Vec<u64> {
        (0..n)
            .map(|_| {
                let v = tb.get(port);
                tb.step();
                v
            })
            .collect()
    }

    #[test]
    fn next_paces_the_rows_for_a_handshaking_consumer() {
        let mut tb = Testbench::new(
            "stimulus",
            params! { "width" => 4, "values" => vec![1, 2, 3], "next" => true },
        )
        .unwrap();
        let mut seen = Vec::new();
        for next in [0, 0, 1, 0, 1, 1, 1, 0] {
            tb.set("next", next);
            seen.push((tb.get("out"), tb.get("done")));
            tb.step();
        }
        assert_eq!(
            seen,
            [
                (1, 0),
                (1, 0),
                (1, 0),
                (2, 0),
                (2, 0),
                (3, 0),
                (3, 1),
                (3, 1)
            ],
            "a row stays until taken; done once the last is taken"
        );
        let tb = Testbench::new("stimulus", params! { "values" => vec![1] }).unwrap();
        assert!(
            tb.interface().inputs().is_empty(),
            "no `next` unless asked for"
        );
    }

    #[test]
    fn an_inline_list_is_driven_then_held_or_repeated() {
        let mut tb = Testbench::new(
            "stimulus",
            params! { "width" => 4, "values" => vec![3, -1, 7] },
        )
        .unwrap();
        assert_eq!(tb.get("done"), 0);
        assert_eq!(drive(&mut tb, "out", 5), vec![3, 15, 7, 7, 7]);
        assert_eq!(tb.get("done"), 1);
        let mut tb = Testbench::new(
            "stimulus",
            params! { "width" => 4, "values" => vec![1, 2], "repeat" => true },
        )
        .unwrap();
        assert_eq!(drive(&mut tb, "out", 5), vec![1, 2, 1, 2, 1]);
        assert_eq!(tb.get("done"), 0);
    }

    #[test]
    fn csv_columns_become_outputs() {
        let scratch = crate::test_support::scratch("cspsim-stim");
        let dir = scratch.0.clone();
        std::fs::write(
            dir.join("s.csv"),
            "addr:4, data\n# a comment\n1, 0x10\n2, 0b11\n3, -1\n",
        )
        .unwrap();
        std::fs::write(dir.join("bad.csv"), "a:4\n1\n16\n").unwrap();
        std::fs::write(dir.join("ragged.csv"), "a,b\n1,2\n3\n").unwrap();
        let ctx = crate::BuildContext {
            dir: Some(dir.clone()),
            ..crate::BuildContext::new("s")
        };
        let mut tb = Testbench::with_context(
            &super::info(),
            params! { "width" => 8, "file" => "s.csv" },
            &ctx,
        )
        .unwrap();
        assert_eq!(drive(&mut tb, "data", 3), vec![16, 3, 255]);
        let mut tb = Testbench::with_context(
            &super::info(),
            params! { "width" => 8, "file" => "s.csv" },
            &ctx,
        )
        .unwrap();
        assert_eq!(drive(&mut tb, "addr", 4), vec![1, 2, 3, 3]);
        let e = Testbench::with_context(&super::info(), params! { "file" => "bad.csv" }, &ctx)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("bad.csv") && e.contains("cycle 1 drives 16 on `a`"),
            "{e}"
        );
        let e = Testbench::with_context(&super::info(), params! { "file" => "ragged.csv" }, &ctx)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("ragged.csv:3: 1 fields, the header has 2"),
            "{e}"
        );
        let e = Testbench::with_context(&super::info(), params! {}, &ctx)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("give the values inline"), "{e}");
    }
}
