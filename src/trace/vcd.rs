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
    out: vcd::Writer<W>,
    /// Identifier text and type of each row entry.
    row: Vec<(Vec<u8>, PortType)>,
    clock: Option<Vec<u8>>,
    constants: Vec<(Vec<u8>, PortType, u64)>,
    prev: Vec<u64>,
    period: u64,
    cycle: u64,
    line: Vec<u8>,
}

impl<W: Write> VcdWriter<W> {
    /// Write the header for `plan` to `out`.
    pub fn new(out: W, plan: &TracePlan) -> io::Result<Self> {
        let mut w = vcd::Writer::new(out);
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
            Some(id.to_string().into_bytes())
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
                        constants.push((id.to_string().into_bytes(), var.ty, v));
                        id
                    }
                };
                let (kind, width) = match var.ty {
                    PortType::Bits(w) => (VarType::Wire, u32::from(w)),
                    PortType::Real => (VarType::Real, 64),
                };
                w.var_def(kind, width, id, &sanitize(&var.name), None)?;
            }
        }
        for _ in 0..open.len() {
            w.upscope()?;
        }
        w.upscope()?;
        w.enddefinitions()?;
        Ok(VcdWriter {
            out: w,
            row: row_ids
                .iter()
                .zip(&plan.row_types)
                .map(|(id, ty)| (id.to_string().into_bytes(), *ty))
                .collect(),
            clock,
            constants,
            prev: vec![0; plan.row.len()],
            period: plan.period,
            cycle: 0,
            line: Vec::with_capacity(256),
        })
    }
}

impl<W: Write + Send> TraceSink for VcdWriter<W> {
    fn cycle(&mut self, values: &[u64]) -> io::Result<()> {
        self.line.clear();
        let t = self.cycle * self.period;
        if self.cycle == 0 {
            push_timestamp(&mut self.line, 0);
            self.line.extend_from_slice(b"$dumpvars\n");
            if let Some(id) = &self.clock {
                push_change(&mut self.line, id, PortType::Bits(1), 1);
            }
            for (id, ty, v) in &self.constants {
                push_change(&mut self.line, id, *ty, *v);
            }
            for ((id, ty), v) in self.row.iter().zip(values) {
                push_change(&mut self.line, id, *ty, *v);
            }
            self.line.extend_from_slice(b"$end\n");
        } else {
            let mut stamped = false;
            for (k, v) in values.iter().enumerate() {
                if self.prev[k] != *v {
                    if !stamped {
                        push_timestamp(&mut self.line, t);
                        stamped = true;
                    }
                    let (id, ty) = &self.row[k];
                    push_change(&mut self.line, id, *ty, *v);
                }
            }
            if let Some(id) = &self.clock {
                if !stamped {
                    push_timestamp(&mut self.line, t);
                }
                push_change(&mut self.line, id, PortType::Bits(1), 1);
            }
        }
        if let (Some(id), true) = (&self.clock, self.period >= 2) {
            push_timestamp(&mut self.line, t + self.period / 2);
            push_change(&mut self.line, id, PortType::Bits(1), 0);
        }
        self.prev.copy_from_slice(values);
        self.cycle += 1;
        self.out.writer().write_all(&self.line)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.line.clear();
        push_timestamp(&mut self.line, self.cycle * self.period);
        self.out.writer().write_all(&self.line)?;
        self.out.flush()
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

fn push_change(line: &mut Vec<u8>, id: &[u8], ty: PortType, v: u64) {
    match ty {
        PortType::Bits(1) => {
            line.push(b'0' + (v & 1) as u8);
            line.extend_from_slice(id);
        }
        PortType::Bits(_) => {
            line.push(b'b');
            // Leading zeros are dropped, as VCD allows; the rest goes out a
            // byte (eight characters) at a time.
            let bits = 64 - (v | 1).leading_zeros();
            let (bytes, head) = (bits / 8, bits % 8);
            for bit in (0..head).rev() {
                line.push(b'0' + ((v >> (8 * bytes + bit)) & 1) as u8);
            }
            for byte in (0..bytes).rev() {
                line.extend_from_slice(&BYTE_TEXT[((v >> (8 * byte)) & 0xFF) as usize]);
            }
            line.push(b' ');
            line.extend_from_slice(id);
        }
        PortType::Real => {
            let x = f64::from_bits(v);
            let a = x.abs();
            let text = if x == 0.0 || (1e-5..1e15).contains(&a) {
                format!("r{x} ")
            } else {
                format!("r{x:e} ")
            };
            line.extend_from_slice(text.as_bytes());
            line.extend_from_slice(id);
        }
    }
    line.push(b'\n');
}
