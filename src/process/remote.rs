//! A component whose behaviour runs in a child process: the parent's end
//! of the protocol, as a [`Model`]. The `process` model (a user's program)
//! and the processes engine (`cspsim serve` children) both run their
//! components through it.
//!
//! A batch of remote components sends every member its frame before it
//! reads any answer, so that the children of one phase compute at the same
//! time.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::child::Child;
use super::protocol::{self, ErrorKind, FrameReader, FrameWriter, Hello, Kind, PortSpec, VERSION};
use crate::batch::BatchIo;
use crate::checkpoint::ModelState;
use crate::model::{Interface, Io, Model, Timing};
use crate::value::PortType;

/// A running child that serves one component.
pub struct Remote {
    /// Locked only by [`Model::save`], which has no `&mut`; the cycle's
    /// frames reach it through `get_mut`, without locking.
    child: Mutex<Child>,
    program: String,
    /// Whether the child is a `cspsim serve`, which saves and restores
    /// its model's state (a user's program is not asked to).
    checkpoints: bool,
    inputs: usize,
    /// Whether each input is read by a combinational output: the inputs an
    /// `Eval` carries (the others are sent as 0, as they may not be known yet).
    eval_reads: Vec<bool>,
    combinational: Vec<usize>,
    registered: Vec<usize>,
    masks: Vec<u64>,
    frame: FrameWriter,
    values: Vec<u64>,
}

/// The ports of `interface`, as the handshake describes them.
pub fn port_specs(interface: &Interface) -> (Vec<PortSpec>, Vec<PortSpec>) {
    let inputs = interface
        .inputs()
        .iter()
        .map(|p| PortSpec {
            name: p.name.clone(),
            ty: p.ty,
            combinational: false,
        })
        .collect();
    let outputs = interface
        .outputs()
        .iter()
        .map(|p| PortSpec {
            name: p.name.clone(),
            ty: p.ty,
            combinational: matches!(p.timing, Timing::Combinational(_)),
        })
        .collect();
    (inputs, outputs)
}

impl Remote {
    /// Greet `child` as the component `hello` describes, with ports
    /// `interface`, and check that it answers with the same ports.
    pub fn start(mut child: Child, hello: &Hello, interface: &Interface) -> Result<Remote, String> {
        Self::greet(&mut child, hello)?;
        Self::accept(child, hello, interface)
    }

    /// Send `child` the handshake (so that many children can start at once,
    /// before any answer is awaited with [`accept`](Self::accept)).
    pub fn greet(child: &mut Child, hello: &Hello) -> Result<(), String> {
        child.send(&protocol::hello(hello))
    }

    /// Await the answer to [`greet`](Self::greet) and check its ports.
    pub fn accept(
        mut child: Child,
        hello: &Hello,
        interface: &Interface,
    ) -> Result<Remote, String> {
        let program = child.program().to_string();
        let (kind, payload) = child.receive()?;
        let (version, inputs, outputs) = match kind {
            Kind::HelloReply => protocol::read_hello_reply(payload)
                .map_err(|e| format!("`{program}` answered the handshake wrongly: {e}"))?,
            Kind::Error => {
                let (_, message) = protocol::read_error(payload).map_err(|e| {
                    format!("`{program}` answered the handshake with a malformed error: {e}")
                })?;
                return Err(format!("`{program}` refused the handshake: {message}"));
            }
            other => {
                return Err(format!(
                    "`{program}` answered the handshake with a `{other:?}` frame"
                ))
            }
        };
        if version != VERSION {
            return Err(format!(
                "`{program}` speaks version {version} of the protocol; cspsim speaks {VERSION}"
            ));
        }
        compare("input", &hello.inputs, &inputs, &program)?;
        compare("output", &hello.outputs, &outputs, &program)?;
        let comb = interface.combinational_inputs();
        let mut eval_reads = vec![false; interface.inputs().len()];
        for i in comb {
            eval_reads[i] = true;
        }
        let (combinational, registered) = (0..interface.outputs().len())
            .partition(|&o| matches!(interface.outputs()[o].timing, Timing::Combinational(_)));
        Ok(Remote {
            child: Mutex::new(child),
            program,
            checkpoints: false,
            inputs: interface.inputs().len(),
            eval_reads,
            combinational,
            registered,
            masks: interface.output_masks(),
            frame: FrameWriter::new(Kind::Eval),
            values: Vec::new(),
        })
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .id()
    }

    /// This child is a `cspsim serve`: ask it for its model's state in a
    /// checkpoint, and give it back on a restore.
    pub fn with_checkpoints(self) -> Remote {
        Remote {
            checkpoints: true,
            ..self
        }
    }

    fn child(&mut self) -> &mut Child {
        self.child.get_mut().unwrap_or_else(PoisonError::into_inner)
    }

    /// Send `kind` with this cycle's inputs (for `Eval`, only the ones it reads).
    fn send(&mut self, kind: Kind, io: &Io<'_>) -> Result<(), (ErrorKind, String)> {
        self.frame.reset(kind);
        if kind != Kind::Reset {
            for i in 0..self.inputs {
                let v = if kind == Kind::Eval && !self.eval_reads[i] {
                    0
                } else {
                    io.get(i)
                };
                self.frame.u64(v);
            }
        }
        let frame = self.frame.finish();
        (self.child.get_mut().unwrap_or_else(PoisonError::into_inner))
            .send(frame)
            .map_err(|e| (ErrorKind::Panicked, e))
    }

    /// Read the answer and write the outputs `kind` sets.
    fn answer(&mut self, kind: Kind, io: &Io<'_>) -> Result<(), (ErrorKind, String)> {
        let n = self.masks.len();
        let child = self.child.get_mut().unwrap_or_else(PoisonError::into_inner);
        let (got, payload) = match child.receive() {
            Ok(frame) => frame,
            Err(e) => return Err((ErrorKind::Panicked, e)),
        };
        match got {
            Kind::Outputs => {
                let mut r = FrameReader::new(payload);
                r.values(n, &mut self.values)
                    .and_then(|()| r.end())
                    .map_err(|e| {
                        (
                            ErrorKind::Panicked,
                            format!(
                                "`{}` sent outputs that do not fit its {n} ports: {e}",
                                self.program
                            ),
                        )
                    })?;
            }
            Kind::Error => {
                return Err(protocol::read_error(payload).unwrap_or_else(|e| {
                    (
                        ErrorKind::Panicked,
                        format!("`{}` sent a malformed error: {e}", self.program),
                    )
                }))
            }
            other => {
                return Err((
                    ErrorKind::Panicked,
                    format!(
                        "`{}` answered {kind:?} with a `{other:?}` frame",
                        self.program
                    ),
                ))
            }
        }
        let set = if kind == Kind::Eval {
            &self.combinational
        } else {
            &self.registered
        };
        for &o in set {
            io.set(o, self.values[o]);
        }
        Ok(())
    }

    fn call(&mut self, kind: Kind, io: &Io<'_>) {
        if let Err(e) = self.send(kind, io).and_then(|()| self.answer(kind, io)) {
            raise(e);
        }
    }
}

/// Stop the run as the child asked (a failed check), or as a panic.
fn raise((kind, message): (ErrorKind, String)) -> ! {
    match kind {
        ErrorKind::Failed => crate::model::fail(message),
        ErrorKind::Panicked => std::panic::resume_unwind(Box::new(message)),
    }
}

fn compare(
    what: &str,
    ours: &[PortSpec],
    theirs: &[PortSpec],
    program: &str,
) -> Result<(), String> {
    let show = |ports: &[PortSpec]| {
        let all: Vec<String> = ports
            .iter()
            .map(|p| match p.ty {
                PortType::Bits(w) => format!("{}: {w}", p.name),
                PortType::Real => format!("{}: real", p.name),
            })
            .collect();
        format!("[{}]", all.join(", "))
    };
    let same = ours.len() == theirs.len()
        && ours
            .iter()
            .zip(theirs)
            .all(|(a, b)| a.name == b.name && a.ty == b.ty);
    if same {
        Ok(())
    } else {
        Err(format!(
            "the circuit declares the {what}s {}, but `{program}` declares {}",
            show(ours),
            show(theirs)
        ))
    }
}

impl Model for Remote {
    fn reset(&mut self, io: &Io<'_>) {
        self.call(Kind::Reset, io);
    }

    fn eval(&mut self, io: &Io<'_>) {
        self.call(Kind::Eval, io);
    }

    fn tick(&mut self, io: &Io<'_>) {
        self.call(Kind::Tick, io);
    }

    fn save(&self) -> Option<ModelState> {
        if !self.checkpoints {
            return None;
        }
        let mut child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        child.send(FrameWriter::new(Kind::Save).finish()).ok()?;
        match child.receive().ok()? {
            (Kind::State, payload) => {
                let mut r = FrameReader::new(payload);
                let text = r.str().ok()?;
                r.end().ok()?;
                Some(ModelState::from_text(text))
            }
            _ => None,
        }
    }

    fn restore(&mut self, state: &ModelState, io: &Io<'_>) -> Result<(), String> {
        let mut frame = FrameWriter::new(Kind::Restore);
        for o in 0..self.masks.len() {
            frame.u64(io.output(o));
        }
        frame.str(state.text());
        let program = self.program.clone();
        let child = self.child();
        child.send(frame.finish())?;
        match child.receive()? {
            (Kind::Outputs, _) => Ok(()),
            (Kind::Error, payload) => Err(protocol::read_error(payload).map_or_else(
                |e| format!("`{program}` sent a malformed error: {e}"),
                |(_, m)| m,
            )),
            (other, _) => Err(format!(
                "`{program}` answered Restore with a `{other:?}` frame"
            )),
        }
    }

    fn eval_batch(batch: &mut [Self], io: &BatchIo<'_>) {
        pipelined(batch, io, Kind::Eval);
    }

    fn tick_batch(batch: &mut [Self], io: &BatchIo<'_>) {
        pipelined(batch, io, Kind::Tick);
    }
}

/// Send every member its frame, then read every answer in member order;
/// the first member that fails stops the run (the one a one-by-one run
/// would have stopped at, as every member before it answered).
fn pipelined(batch: &mut [Remote], io: &BatchIo<'_>, kind: Kind) {
    let mut sent = Vec::with_capacity(batch.len());
    for (k, m) in batch.iter_mut().enumerate() {
        sent.push(m.send(kind, &io.member(k)));
    }
    for (k, (m, sent)) in batch.iter_mut().zip(sent).enumerate() {
        let member = io.member(k);
        if let Err(e) = sent.and_then(|()| m.answer(kind, &member)) {
            raise(e);
        }
    }
}

/// The timeout from a number of seconds, refusing what is not one.
pub fn timeout_from_secs(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs > 0.0 && secs <= 1e9).then(|| Duration::from_secs_f64(secs))
}
