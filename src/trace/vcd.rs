//! The VCD writer: the header through the `vcd` crate (scopes per component,
//! `wire` for Bits, `real` for Real), then only value changes, formatted
//! directly into the output buffer (the crate's `change_vector` formats bit
//! by bit and is ~10× slower).

use std::io::{self, Write};

use vcd::{IdCode, VarType};

use super::plan::{TracePlan, VarSource};
use super::TraceSink;
use crate::value::PortType;

/// Writes cycles of a [`TracePlan`] as VCD.
pub struct VcdWriter<W: Write> {
    out: vcd::Writer<Counting<W>>,
    /// What is written and flushed: whole cycles, and the bytes up to the
    /// end of the last one (what a failed write leaves valid).
    held: super::Held,
    /// Identifier (as it ends a change line) and type of each row entry.
    row: Vec<(Tail, PortType)>,
    clock: Option<Tail>,
    constants: Vec<(Tail, PortType, u64)>,
    prev: Vec<u64>,
    period: u64,
    cycle: u64,
    /// The first cycle traced (not 0 after a restore).
    first: u64,
    /// Text not yet written: cycles are gathered into blocks of
    /// [`BLOCK`] bytes, each one write.
    text: Vec<u8>,
}

/// Bytes of text gathered before a write.
const BLOCK: usize = 1 << 16;

/// An identifier as it ends a value-change line: `id` and a newline, after
/// a space for vectors and reals (`1!`, `b101 "`, `r0.5 #`). Kept in a fixed
/// array so that a line is assembled with copies of constant size (a
/// variable-length copy is a call to `memmove`, which cost 40% of tracing).
#[derive(Clone, Copy)]
struct Tail {
    bytes: [u8; 16],
    len: usize,
}

impl Tail {
    fn new(id: IdCode, ty: PortType) -> Self {
        let text = match ty {
            PortType::Bits(1) => format!("{id}\n"),
            _ => format!(" {id}\n"),
        };
        let mut bytes = [0u8; 16];
        // Identifiers are base-94 numbers: 14 characters name 94^14 signals.
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Tail {
            bytes,
            len: text.len(),
        }
    }
}

/// A writer that counts the bytes it passes on.
struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> VcdWriter<W> {
    /// Write the header for `plan` to `out`.
    pub fn new(out: W, plan: &TracePlan) -> io::Result<Self> {
        let mut w = vcd::Writer::new(Counting {
            inner: out,
            bytes: 0,
        });
        w.version(concat!("cspsim ", env!("CARGO_PKG_VERSION")))?;
        w.timescale(plan.timescale.0, plan.timescale.1)?;
        w.add_module(&sanitize(&plan.top))?;
        let mut next_id = IdCode::FIRST;
        let mut fresh = || {
            let id = next_id;
            next_id = next_id.next();
            id
        };
        let clock = if plan.clock {
            let id = fresh();
            w.var_def(VarType::Wire, 1, id, "clock", None)?;
            Some(Tail::new(id, PortType::Bits(1)))
        } else {
            None
        };
        let row_ids: Vec<IdCode> = plan.row.iter().map(|_| fresh()).collect();
        let mut constants = Vec::new();
        let mut open: Vec<String> = Vec::new();
        for scope in &plan.scopes {
            let parts: Vec<String> = scope.path.split('.').map(sanitize).collect();
            let common = open.iter().zip(&parts).take_while(|(a, b)| a == b).count();
            for _ in common..open.len() {
                w.upscope()?;
            }
            open.truncate(common);
            for part in &parts[common..] {
                w.add_module(part)?;
                open.push(part.clone());
            }
            for var in &scope.vars {
                let id = match var.source {
                    VarSource::Row(k) => row_ids[k],
                    VarSource::Constant(v) => {
                        let id = fresh();
                        constants.push((Tail::new(id, var.ty), var.ty, v));
                        id
                    }
                };
                let (kind, width) = match var.ty {
                    PortType::Bits(w) => (VarType::Wire, u32::from(w)),
                    PortType::Real => (VarType::Real, 64),
                };
                let range = TracePlan::range(var.ty)
                    .map(|(msb, lsb)| vcd::ReferenceIndex::Range(msb as i32, lsb as i32));
                w.var_def(kind, width, id, &sanitize(&var.name), range)?;
            }
        }
        for _ in 0..open.len() {
            w.upscope()?;
        }
        w.upscope()?;
        w.enddefinitions()?;
        w.flush()?;
        let header = w.writer().bytes;
        Ok(VcdWriter {
            held: super::Held {
                cycles: 0,
                bytes: Some(header),
            },
            out: w,
            row: row_ids
                .iter()
                .zip(&plan.row_types)
                .map(|(id, ty)| (Tail::new(*id, *ty), *ty))
                .collect(),
            clock,
            constants,
            prev: vec![0; plan.row.len()],
            period: plan.period,
            cycle: 0,
            first: 0,
            text: Vec::with_capacity(BLOCK + 4096),
        })
    }
}

impl<W: Write + Send> TraceSink for VcdWriter<W> {
    fn cycle(&mut self, values: &[u64]) -> io::Result<()> {
        let t = self.cycle * self.period;
        if self.cycle == self.first {
            push_timestamp(&mut self.text, t);
            self.text.extend_from_slice(b"$dumpvars\n");
            if let Some(id) = &self.clock {
                push_change(&mut self.text, id, PortType::Bits(1), 1);
            }
            for (id, ty, v) in &self.constants {
                push_change(&mut self.text, id, *ty, *v);
            }
            for ((id, ty), v) in self.row.iter().zip(values) {
                push_change(&mut self.text, id, *ty, *v);
            }
            self.text.extend_from_slice(b"$end\n");
        } else {
            let mut stamped = false;
            for (k, v) in values.iter().enumerate() {
                if self.prev[k] != *v {
                    if !stamped {
                        push_timestamp(&mut self.text, t);
                        stamped = true;
                    }
                    let (id, ty) = &self.row[k];
                    push_change(&mut self.text, id, *ty, *v);
                }
            }
            if let Some(id) = &self.clock {
                if !stamped {
                    push_timestamp(&mut self.text, t);
                }
                push_change(&mut self.text, id, PortType::Bits(1), 1);
            }
        }
        if let (Some(id), true) = (&self.clock, self.period >= 2) {
            push_timestamp(&mut self.text, t + self.period / 2);
            push_change(&mut self.text, id, PortType::Bits(1), 0);
        }
        self.prev.copy_from_slice(values);
        self.cycle += 1;
        if self.text.len() >= BLOCK {
            self.write_text()?;
        }
        Ok(())
    }

    fn start_at(&mut self, cycle: u64) {
        self.cycle = cycle;
        self.first = cycle;
    }

    fn finish(&mut self) -> io::Result<()> {
        // The final timestamp closes the last cycle.
        push_timestamp(&mut self.text, self.cycle * self.period);
        self.write_text()
    }

    fn held(&self) -> super::Held {
        self.held
    }
}

impl<W: Write> VcdWriter<W> {
    /// Write and flush the text gathered, which ends at a cycle boundary;
    /// what is then held.
    fn write_text(&mut self) -> io::Result<()> {
        let out = self.out.writer();
        out.write_all(&self.text)?;
        out.flush()?;
        self.text.clear();
        self.held = super::Held {
            cycles: self.cycle,
            bytes: Some(out.bytes),
        };
        Ok(())
    }
}

/// VCD identifiers may not contain spaces.
fn sanitize(name: &str) -> String {
    name.replace(|c: char| c.is_whitespace(), "_")
}

fn push_timestamp(line: &mut Vec<u8>, t: u64) {
    line.push(b'#');
    line.extend_from_slice(itoa::Buffer::new().format(t).as_bytes());
    line.push(b'\n');
}

/// The eight characters of every byte value, most significant bit first.
const BYTE_TEXT: [[u8; 8]; 256] = {
    let mut table = [[0u8; 8]; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut bit = 0;
        while bit < 8 {
            table[byte][bit] = b'0' + ((byte >> (7 - bit)) & 1) as u8;
            bit += 1;
        }
        byte += 1;
    }
    table
};

/// One value-change line: the value, then `tail` (the identifier and newline).
#[inline]
fn push_change(text: &mut Vec<u8>, tail: &Tail, ty: PortType, v: u64) {
    if ty == PortType::Real {
        let x = f64::from_bits(v);
        let a = x.abs();
        let value = if x == 0.0 || (1e-5..1e15).contains(&a) {
            format!("r{x}")
        } else {
            format!("r{x:e}")
        };
        text.extend_from_slice(value.as_bytes());
        text.extend_from_slice(&tail.bytes[..tail.len]);
        return;
    }
    // The line is written in place into room made at the end of `text`,
    // then cut to length: every copy has a constant size, so none is a
    // library call, and nothing is copied twice.
    let start = text.len();
    text.resize(start + 88, 0);
    let line: &mut [u8; 88] = (&mut text[start..start + 88]).try_into().expect("88 bytes");
    let n = if ty == PortType::Bits(1) {
        line[0] = b'0' + (v & 1) as u8;
        1
    } else {
        // Leading zeros are dropped, as VCD allows; the rest is copied
        // from the table a byte (eight characters) at a time.
        line[0] = b'b';
        let bits = (64 - (v | 1).leading_zeros()) as usize;
        let (bytes, head) = (bits / 8, bits % 8);
        let mut n = 1;
        if head > 0 {
            let top = BYTE_TEXT[((v >> (8 * bytes)) & 0xFF) as usize];
            line[1..=head].copy_from_slice(&top[8 - head..]);
            n += head;
        }
        for byte in (0..bytes).rev() {
            line[n..n + 8].copy_from_slice(&BYTE_TEXT[((v >> (8 * byte)) & 0xFF) as usize]);
            n += 8;
        }
        n
    };
    line[n..n + 16].copy_from_slice(&tail.bytes);
    text.truncate(start + n + tail.len);
}
