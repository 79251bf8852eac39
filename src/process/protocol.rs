//! The frames cspsim and a component's child process exchange over the
//! child's stdin and stdout. `docs/process-protocol.md` is the specification;
//! this file is its one implementation on the Rust side (the parent's, and
//! the child's in [`super::serve`]).
//!
//! A frame is a little-endian `u32` length (of what follows it), a kind byte
//! and a payload. Integers are little-endian; a string is a `u32` byte count
//! and UTF-8; a value is a `u64` (`Bits` masked, `Real` the IEEE-754 bits).

use crate::params::ParamValue;
use crate::value::PortType;

/// The protocol's version; a child must answer with the same.
pub const VERSION: u32 = 1;

/// The longest frame either side accepts (length field, kind and payload
/// excluded from nothing: the length field's value).
pub const MAX_FRAME: usize = 16 << 20;

/// Deepest nesting of list parameters a frame may carry.
const MAX_DEPTH: usize = 32;

/// What a frame is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Parent → child: who the child is and what ports it has.
    Hello,
    /// Parent → child: set the initial state; answer with `Outputs`.
    Reset,
    /// Parent → child: this cycle's inputs; answer with the combinational outputs.
    Eval,
    /// Parent → child: the clock edge with this cycle's inputs; answer with
    /// the registered outputs the next cycle sees.
    Tick,
    /// Parent → child: the run is over; answer `Bye` and exit.
    Finish,
    /// Parent → child: send the model's state for a checkpoint; answer
    /// with `State` (only `cspsim serve` children are asked).
    Save,
    /// Parent → child: every output's saved value and the model's saved
    /// state; answer with `Outputs`.
    Restore,
    /// Child → parent: the child's own port list.
    HelloReply,
    /// Child → parent: every output's value.
    Outputs,
    /// Child → parent: the answer to `Finish`.
    Bye,
    /// Child → parent: the model's state (RON text), the answer to `Save`.
    State,
    /// Child → parent: the model failed or panicked; instead of any answer.
    Error,
}

impl Kind {
    /// The kind byte.
    pub fn byte(self) -> u8 {
        match self {
            Kind::Hello => 0x01,
            Kind::Reset => 0x02,
            Kind::Eval => 0x03,
            Kind::Tick => 0x04,
            Kind::Finish => 0x05,
            Kind::Save => 0x06,
            Kind::Restore => 0x07,
            Kind::HelloReply => 0x81,
            Kind::Outputs => 0x82,
            Kind::Bye => 0x85,
            Kind::State => 0x86,
            Kind::Error => 0x8f,
        }
    }

    /// The kind a byte names, if any.
    pub fn from_byte(b: u8) -> Option<Kind> {
        Some(match b {
            0x01 => Kind::Hello,
            0x02 => Kind::Reset,
            0x03 => Kind::Eval,
            0x04 => Kind::Tick,
            0x05 => Kind::Finish,
            0x06 => Kind::Save,
            0x07 => Kind::Restore,
            0x81 => Kind::HelloReply,
            0x82 => Kind::Outputs,
            0x85 => Kind::Bye,
            0x86 => Kind::State,
            0x8f => Kind::Error,
            _ => return None,
        })
    }
}

/// A port as the handshake describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSpec {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: PortType,
    /// For an output, whether it is combinational (false for inputs).
    pub combinational: bool,
}

/// The parent's first frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Hello {
    /// The protocol version the parent speaks.
    pub version: u32,
    /// The component's path in the circuit.
    pub path: String,
    /// The run's seed.
    pub seed: u64,
    /// The model to build (for `cspsim serve` without a model name); empty
    /// for a `process` component's own program.
    pub model: String,
    /// That model's parameters.
    pub params: Vec<(String, ParamValue)>,
    /// The directory of the file the component is declared in, empty if none.
    pub dir: String,
    /// The ports the circuit declares.
    pub inputs: Vec<PortSpec>,
    /// The outputs the circuit declares.
    pub outputs: Vec<PortSpec>,
}

/// What the child reports in an `Error` frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The model failed a check on purpose (`model::fail`).
    Failed,
    /// The model panicked (a bug, or input it cannot handle).
    Panicked,
}

/// A frame being built.
pub struct FrameWriter(Vec<u8>);

impl FrameWriter {
    /// A frame of `kind`, empty so far.
    pub fn new(kind: Kind) -> Self {
        let mut bytes = Vec::with_capacity(64);
        bytes.extend_from_slice(&[0; 4]);
        bytes.push(kind.byte());
        FrameWriter(bytes)
    }

    /// Start again with a frame of `kind`, keeping the allocation.
    pub fn reset(&mut self, kind: Kind) {
        self.0.clear();
        self.0.extend_from_slice(&[0; 4]);
        self.0.push(kind.byte());
    }

    /// Append a byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }

    /// Append a `u32`.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Append a `u64`.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Append a count (lengths never pass [`MAX_FRAME`]).
    fn count(&mut self, n: usize) -> &mut Self {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Append a string.
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.count(s.len());
        self.0.extend_from_slice(s.as_bytes());
        self
    }

    /// Append a port list.
    pub fn ports(&mut self, ports: &[PortSpec]) -> &mut Self {
        self.count(ports.len());
        for p in ports {
            self.str(&p.name)
                .u8(type_byte(p.ty))
                .u8(u8::from(p.combinational));
        }
        self
    }

    /// Append a parameter value.
    pub fn param(&mut self, v: &ParamValue) -> &mut Self {
        match v {
            ParamValue::Int(i) => {
                self.u8(0);
                self.0.extend_from_slice(&i.to_le_bytes());
            }
            ParamValue::Real(r) => {
                self.u8(1).u64(r.to_bits());
            }
            ParamValue::Bool(b) => {
                self.u8(2).u8(u8::from(*b));
            }
            ParamValue::Str(s) => {
                self.u8(3).str(s);
            }
            ParamValue::List(items) => {
                self.u8(4).count(items.len());
                for item in items {
                    self.param(item);
                }
            }
        }
        self
    }

    /// The finished frame, its length filled in.
    pub fn finish(&mut self) -> &[u8] {
        let len = (self.0.len() - 4) as u32;
        self.0[..4].copy_from_slice(&len.to_le_bytes());
        &self.0
    }
}

/// The bytes of a `Hello` frame.
pub fn hello(h: &Hello) -> Vec<u8> {
    let mut w = FrameWriter::new(Kind::Hello);
    w.u32(h.version).str(&h.path).u64(h.seed).str(&h.model);
    w.count(h.params.len());
    for (name, value) in &h.params {
        w.str(name).param(value);
    }
    w.str(&h.dir).ports(&h.inputs).ports(&h.outputs);
    w.finish().to_vec()
}

/// The bytes of a `HelloReply` frame.
pub fn hello_reply(inputs: &[PortSpec], outputs: &[PortSpec]) -> Vec<u8> {
    let mut w = FrameWriter::new(Kind::HelloReply);
    w.u32(VERSION).ports(inputs).ports(outputs);
    w.finish().to_vec()
}

/// The bytes of an `Error` frame.
pub fn error(kind: ErrorKind, message: &str) -> Vec<u8> {
    let mut w = FrameWriter::new(Kind::Error);
    w.u8(match kind {
        ErrorKind::Failed => 0,
        ErrorKind::Panicked => 1,
    })
    .str(message);
    w.finish().to_vec()
}

fn type_byte(ty: PortType) -> u8 {
    match ty {
        PortType::Bits(w) => w,
        PortType::Real => 0,
    }
}

/// A frame's payload being read; every read checks the bounds.
pub struct FrameReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// Why a payload could not be read.
pub type Malformed = String;

impl<'a> FrameReader<'a> {
    /// A reader over `payload` (what follows the kind byte).
    pub fn new(payload: &'a [u8]) -> Self {
        FrameReader {
            bytes: payload,
            at: 0,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(format!(
                "the payload ends after {} bytes, inside a field",
                self.bytes.len()
            ));
        };
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    /// A byte.
    pub fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.take(1)?[0])
    }

    /// A `u32`.
    pub fn u32(&mut self) -> Result<u32, Malformed> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A `u64`.
    pub fn u64(&mut self) -> Result<u64, Malformed> {
        let mut a = [0; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    /// A string.
    pub fn str(&mut self) -> Result<String, Malformed> {
        let n = self.u32()? as usize;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| "a string is not UTF-8".to_string())
    }

    /// A port list.
    pub fn ports(&mut self) -> Result<Vec<PortSpec>, Malformed> {
        let n = self.u32()? as usize;
        // Each port takes at least 6 bytes: no count can ask for more.
        if n > self.bytes.len() / 6 {
            return Err(format!("a port list claims {n} ports"));
        }
        (0..n)
            .map(|_| {
                let name = self.str()?;
                let ty = match self.u8()? {
                    0 => PortType::Real,
                    w @ 1..=64 => PortType::Bits(w),
                    w => return Err(format!("port `{name}` has width {w}, not in 1..=64")),
                };
                let combinational = self.u8()? != 0;
                Ok(PortSpec {
                    name,
                    ty,
                    combinational,
                })
            })
            .collect()
    }

    /// A parameter value.
    pub fn param(&mut self) -> Result<ParamValue, Malformed> {
        self.param_at(0)
    }

    fn param_at(&mut self, depth: usize) -> Result<ParamValue, Malformed> {
        if depth > MAX_DEPTH {
            return Err(format!("parameter lists nest deeper than {MAX_DEPTH}"));
        }
        Ok(match self.u8()? {
            0 => {
                let mut a = [0; 16];
                a.copy_from_slice(self.take(16)?);
                ParamValue::Int(i128::from_le_bytes(a))
            }
            1 => ParamValue::Real(f64::from_bits(self.u64()?)),
            2 => ParamValue::Bool(self.u8()? != 0),
            3 => ParamValue::Str(self.str()?),
            4 => {
                let n = self.u32()? as usize;
                if n > self.bytes.len() {
                    return Err(format!("a list claims {n} items"));
                }
                ParamValue::List(
                    (0..n)
                        .map(|_| self.param_at(depth + 1))
                        .collect::<Result<_, _>>()?,
                )
            }
            t => return Err(format!("unknown parameter tag {t}")),
        })
    }

    /// `n` values.
    pub fn values(&mut self, n: usize, into: &mut Vec<u64>) -> Result<(), Malformed> {
        let b = self.take(n.checked_mul(8).ok_or("too many values")?)?;
        into.clear();
        into.extend(
            b.chunks_exact(8)
                .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])),
        );
        Ok(())
    }

    /// Check that the payload has been read to its end.
    pub fn end(&self) -> Result<(), Malformed> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(format!(
                "{} bytes follow the last field",
                self.bytes.len() - self.at
            ))
        }
    }
}

/// Read a `Hello` payload.
pub fn read_hello(payload: &[u8]) -> Result<Hello, Malformed> {
    let mut r = FrameReader::new(payload);
    let version = r.u32()?;
    let path = r.str()?;
    let seed = r.u64()?;
    let model = r.str()?;
    let n = r.u32()? as usize;
    if n > payload.len() {
        return Err(format!("{n} parameters claimed"));
    }
    let params = (0..n)
        .map(|_| Ok((r.str()?, r.param()?)))
        .collect::<Result<_, Malformed>>()?;
    let dir = r.str()?;
    let inputs = r.ports()?;
    let outputs = r.ports()?;
    r.end()?;
    Ok(Hello {
        version,
        path,
        seed,
        model,
        params,
        dir,
        inputs,
        outputs,
    })
}

/// Read a `HelloReply` payload: version, inputs, outputs.
pub fn read_hello_reply(payload: &[u8]) -> Result<(u32, Vec<PortSpec>, Vec<PortSpec>), Malformed> {
    let mut r = FrameReader::new(payload);
    let version = r.u32()?;
    let inputs = r.ports()?;
    let outputs = r.ports()?;
    r.end()?;
    Ok((version, inputs, outputs))
}

/// Read an `Error` payload.
pub fn read_error(payload: &[u8]) -> Result<(ErrorKind, String), Malformed> {
    let mut r = FrameReader::new(payload);
    let kind = match r.u8()? {
        0 => ErrorKind::Failed,
        _ => ErrorKind::Panicked,
    };
    let message = r.str()?;
    r.end()?;
    Ok((kind, message))
}

/// `bytes` as a user can read them: hex, and the text if it is printable.
pub fn show_bytes(bytes: &[u8]) -> String {
    const SHOWN: usize = 32;
    let shown = &bytes[..bytes.len().min(SHOWN)];
    let hex: Vec<String> = shown.iter().map(|b| format!("{b:02x}")).collect();
    let more = if bytes.len() > SHOWN { " …" } else { "" };
    let text = String::from_utf8_lossy(shown);
    let printable = text
        .chars()
        .all(|c| !c.is_control() || c == '\n' || c == '\t' || c == '\r');
    if printable && !shown.is_empty() {
        format!("{}{more} ({:?}{more})", hex.join(" "), text)
    } else {
        format!("{}{more}", hex.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(frame: &[u8]) -> (Kind, &[u8]) {
        let len = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
        assert_eq!(len, frame.len() - 4);
        (Kind::from_byte(frame[4]).unwrap(), &frame[5..])
    }

    #[test]
    fn hello_round_trips() {
        let h = Hello {
            version: VERSION,
            path: "top.adc[3]".into(),
            seed: 42,
            model: "counter".into(),
            params: vec![
                ("width".into(), ParamValue::Int(-8)),
                (
                    "list".into(),
                    ParamValue::List(vec![
                        ParamValue::Real(0.5),
                        ParamValue::Bool(true),
                        ParamValue::Str("é".into()),
                    ]),
                ),
            ],
            dir: "/tmp".into(),
            inputs: vec![PortSpec {
                name: "x".into(),
                ty: PortType::Real,
                combinational: false,
            }],
            outputs: vec![PortSpec {
                name: "y".into(),
                ty: PortType::Bits(64),
                combinational: true,
            }],
        };
        let frame = hello(&h);
        let (kind, body) = payload(&frame);
        assert_eq!(kind, Kind::Hello);
        assert_eq!(read_hello(body).unwrap(), h);
    }

    #[test]
    fn truncated_and_padded_payloads_are_refused() {
        let frame = hello_reply(&[], &[]);
        let (_, body) = payload(&frame);
        assert!(read_hello_reply(&body[..body.len() - 1]).is_err());
        let mut longer = body.to_vec();
        longer.push(0);
        let e = read_hello_reply(&longer).unwrap_err();
        assert!(e.contains("1 bytes follow"), "{e}");
        // A count that asks for more than the frame holds is refused before allocating.
        let mut r = FrameReader::new(&[0xff, 0xff, 0xff, 0x7f]);
        assert!(r.ports().is_err());
    }

    #[test]
    fn error_frames_carry_their_kind_and_message() {
        let frame = error(ErrorKind::Failed, "too hot");
        let (kind, body) = payload(&frame);
        assert_eq!(kind, Kind::Error);
        assert_eq!(
            read_error(body).unwrap(),
            (ErrorKind::Failed, "too hot".to_string())
        );
    }

    #[test]
    fn every_kind_is_read_back_from_its_byte() {
        use Kind::*;
        let kinds = [
            Hello, Reset, Eval, Tick, Finish, Save, Restore, HelloReply, Outputs, Bye, State, Error,
        ];
        for kind in kinds {
            assert_eq!(Kind::from_byte(kind.byte()), Some(kind));
        }
        let bytes: std::collections::HashSet<u8> = kinds.iter().map(|k| k.byte()).collect();
        assert_eq!(bytes.len(), kinds.len(), "one byte per kind");
    }

    #[test]
    fn bytes_are_shown_as_hex_and_text() {
        assert_eq!(show_bytes(b"hi\n"), "68 69 0a (\"hi\\n\")");
        assert_eq!(show_bytes(&[0, 1]), "00 01");
    }
}
