//! Reading a trace back (a VCD here, an FST through
//! [`read_fst`](super::read_fst)): every variable's full name, type and list
//! of value changes. Used by `cspsim diff`, golden-waveform tests and the test suite.
//! Strict where it matters for trust in a trace: undeclared identifiers and
//! timestamps that go backwards are errors.

use std::collections::BTreeMap;
use std::io::BufRead;

use vcd::{Command, ScopeItem, VarType};

/// One value of a variable.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Bits as written, most significant first, leading zeros removed
    /// (`x` and `z` kept).
    Bits(String),
    /// A real number.
    Real(f64),
}

impl Value {
    /// The value as an integer, if it is Bits of 0s and 1s that fit 64 bits.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Bits(b) if b.len() <= 64 => u64::from_str_radix(b, 2).ok(),
            _ => None,
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Bits(b) => match self.as_u64() {
                Some(v) if b.len() > 1 => write!(f, "{v} (b{b})"),
                _ => write!(f, "{b}"),
            },
            Value::Real(r) => write!(f, "{r}"),
        }
    }
}

/// One variable: its changes in time order.
#[derive(Clone, Debug, PartialEq)]
pub struct Signal {
    /// Bit width as declared (64 for reals).
    pub width: u32,
    /// Whether it is a `real`.
    pub real: bool,
    /// `(time, value)` for every change, in time order.
    pub changes: Vec<(u64, Value)>,
}

impl Signal {
    /// The value at `time` (the last change at or before it).
    pub fn at(&self, time: u64) -> Option<&Value> {
        let k = self.changes.partition_point(|(t, _)| *t <= time);
        k.checked_sub(1).map(|k| &self.changes[k].1)
    }
}

/// A whole VCD file.
#[derive(Clone, Debug, PartialEq)]
pub struct Waveform {
    /// The timescale as written (`1 ns`).
    pub timescale: Option<String>,
    /// Signals by full name (`top.cnt.q`).
    pub signals: BTreeMap<String, Signal>,
    /// The last timestamp in the file.
    pub end: u64,
}

/// Why a VCD could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file is not a VCD at all (its header cannot be read).
    #[error("it is not a VCD trace ({0})")]
    NotVcd(String),
    /// The file could not be read.
    #[error("{0}")]
    Io(String),
    /// The file starts as an FST trace but cannot be read as one.
    #[error("it is not a valid FST trace ({0})")]
    NotFst(String),
    /// The file is not valid VCD.
    #[error("line {line}: {message}")]
    Invalid {
        /// Line in the file (0 if unknown).
        line: u64,
        /// What is wrong.
        message: String,
    },
}

fn invalid(line: u64, message: impl Into<String>) -> ReadError {
    ReadError::Invalid {
        line,
        message: message.into(),
    }
}

impl Waveform {
    /// Read the trace in `path`, VCD or FST (told apart by the first byte:
    /// an FST file starts with its header block, of type 0).
    pub fn open(path: &std::path::Path) -> Result<Self, ReadError> {
        use std::io::Read;
        let mut first = [1u8];
        let is_fst = std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut first))
            .is_ok()
            && first[0] == 0;
        if is_fst {
            return super::read_fst::read_fst(path);
        }
        let file = std::fs::File::open(path).map_err(|e| ReadError::Io(e.to_string()))?;
        Self::read(std::io::BufReader::new(file))
    }

    /// Read a VCD.
    pub fn read(input: impl BufRead) -> Result<Self, ReadError> {
        let mut parser = vcd::Parser::new(input);
        let header = parser
            .parse_header()
            .map_err(|e| ReadError::NotVcd(e.to_string()))?;
        let mut names: BTreeMap<vcd::IdCode, Vec<String>> = BTreeMap::new();
        let mut signals: BTreeMap<String, Signal> = BTreeMap::new();
        fn walk(
            items: &[ScopeItem],
            prefix: &str,
            names: &mut BTreeMap<vcd::IdCode, Vec<String>>,
            signals: &mut BTreeMap<String, Signal>,
        ) {
            for item in items {
                match item {
                    ScopeItem::Scope(s) => walk(
                        &s.items,
                        &format!("{prefix}{}.", s.identifier),
                        names,
                        signals,
                    ),
                    ScopeItem::Var(v) => {
                        let name = format!("{prefix}{}", v.reference);
                        names.entry(v.code).or_default().push(name.clone());
                        let real = matches!(v.var_type, VarType::Real);
                        signals.insert(
                            name,
                            Signal {
                                width: v.size,
                                real,
                                changes: Vec::new(),
                            },
                        );
                    }
                    _ => {}
                }
            }
        }
        walk(&header.items, "", &mut names, &mut signals);
        let timescale = header.timescale.map(|(n, unit)| format!("{n} {unit}"));
        let mut time = 0u64;
        let mut end = 0u64;
        loop {
            let line = parser.line();
            let Some(command) = parser.next() else { break };
            let command = command.map_err(|e| invalid(line, e.to_string()))?;
            let (id, value) = match command {
                Command::Timestamp(t) => {
                    if t < time {
                        return Err(invalid(
                            line,
                            format!("timestamp #{t} goes back from #{time}"),
                        ));
                    }
                    time = t;
                    end = t;
                    continue;
                }
                Command::ChangeScalar(id, v) => (id, Value::Bits(v.to_string())),
                Command::ChangeVector(id, v) => {
                    let text = v.to_string();
                    let trimmed = text.trim_start_matches('0');
                    (
                        id,
                        Value::Bits(if trimmed.is_empty() {
                            "0".into()
                        } else {
                            trimmed.into()
                        }),
                    )
                }
                Command::ChangeReal(id, v) => (id, Value::Real(v)),
                Command::ChangeString(id, s) => (id, Value::Bits(s)),
                _ => continue,
            };
            let Some(list) = names.get(&id) else {
                return Err(invalid(
                    line,
                    format!("change to undeclared identifier `{id}`"),
                ));
            };
            for name in list {
                if let Some(signal) = signals.get_mut(name) {
                    match signal.changes.last_mut() {
                        Some(last) if last.0 == time => last.1 = value.clone(),
                        _ => signal.changes.push((time, value.clone())),
                    }
                }
            }
        }
        Ok(Waveform {
            timescale,
            signals,
            end,
        })
    }

    /// Read a VCD from text.
    pub fn from_text(text: &str) -> Result<Self, ReadError> {
        Self::read(text.as_bytes())
    }

    /// The clock period, from the `clock` signal's rising edges, if there is one.
    pub fn clock_period(&self) -> Option<u64> {
        let clock = self
            .signals
            .iter()
            .find(|(n, _)| n.ends_with(".clock") || *n == "clock")?
            .1;
        let mut rising = clock
            .changes
            .iter()
            .filter(|(_, v)| *v == Value::Bits("1".into()))
            .map(|(t, _)| *t);
        let first = rising.next()?;
        rising.next().map(|second| second - first)
    }

    /// Every signal sampled at the start of each cycle of `period`, as
    /// integers (Real as f64 bits; x/z as `u64::MAX`).
    pub fn sample(&self, period: u64) -> BTreeMap<String, Vec<u64>> {
        let cycles = self.end.checked_div(period).unwrap_or(0);
        self.signals
            .iter()
            .map(|(name, s)| {
                let values = (0..cycles)
                    .map(|c| match s.at(c * period) {
                        Some(Value::Real(r)) => r.to_bits(),
                        Some(v) => v.as_u64().unwrap_or(u64::MAX),
                        None => u64::MAX,
                    })
                    .collect();
                (name.clone(), values)
            })
            .collect()
    }
}
