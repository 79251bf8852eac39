//! The child's end of the protocol, for models written in Rust: any
//! registered model, standard or a user's own, served over stdin and
//! stdout. `cspsim serve` is this; so is every child of the processes
//! engine.
//!
//! The served model's prints go to stderr (descriptor 1 is pointed there
//! once the protocol has its own copy of stdout), and its panics and
//! failures travel to the parent as `Error` frames, with the text the
//! in-process engines would give.

use std::io::{self, BufReader, Read, Write};
use std::sync::atomic::Ordering::Relaxed;

use super::os;
use super::protocol::{self, ErrorKind, FrameReader, FrameWriter, Hello, Kind, MAX_FRAME};
use super::remote::port_specs;
use crate::checkpoint::ModelState;
use crate::engine::{guard, FaultKind};
use crate::model::{BuildContext, Built, Io, ModelInfo, Slot};
use crate::params::ParamValue;
use crate::registry::Registry;

/// Why serving stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Standard input or output failed.
    #[error("the protocol's pipes failed: {0}")]
    Io(#[from] io::Error),
    /// The parent sent something that is not the protocol.
    #[error("the parent sent a malformed frame: {0}")]
    Malformed(String),
    /// The model could not be built (its message was sent to the parent too).
    #[error("{0}")]
    Build(String),
}

/// Serve `info` built with `params` (and the seed, path and directory the
/// parent's handshake gives) until the parent says `Finish` or closes the
/// pipe.
///
/// A user's binary can serve its own model with it:
/// ```no_run
/// # fn my_model() -> cspsim::ModelInfo {
/// #     cspsim::primitives::all().into_iter().find(|m| m.name == "counter").unwrap()
/// # }
/// fn main() {
///     let width = ("width".to_string(), cspsim::ParamValue::Int(8));
///     if let Err(e) = cspsim::process::serve(&my_model(), &[width]) {
///         eprintln!("{e}");
///         std::process::exit(1);
///     }
/// }
/// ```
pub fn serve(info: &ModelInfo, params: &[(String, ParamValue)]) -> Result<(), ServeError> {
    serve_with(|hello| build(info, params, hello))
}

/// Serve the model the parent's handshake names, from `registry`, with the
/// handshake's parameters: what each child of the processes engine does.
pub fn serve_from_handshake(registry: &Registry) -> Result<(), ServeError> {
    serve_with(|hello| {
        let info = registry.get(&hello.model).ok_or_else(|| {
            format!(
                "this program has no model `{}` (is the child the same program as the parent?)",
                hello.model
            )
        })?;
        build(info, &hello.params, hello)
    })
}

fn build(
    info: &ModelInfo,
    params: &[(String, ParamValue)],
    hello: &Hello,
) -> Result<Built, String> {
    let ctx = BuildContext {
        seed: hello.seed,
        dir: (!hello.dir.is_empty()).then(|| hello.dir.clone().into()),
        ..BuildContext::new(hello.path.clone())
    };
    info.build(params, &ctx)
        .map_err(|e| format!("model `{}`: {e}", info.name))
}

fn serve_with(build: impl FnOnce(&Hello) -> Result<Built, String>) -> Result<(), ServeError> {
    let mut out = io::BufWriter::new(os::take_stdout()?);
    let mut input = BufReader::new(io::stdin().lock());
    let mut payload = Vec::new();
    let Some(Kind::Hello) = read_frame(&mut input, &mut payload)? else {
        return Err(ServeError::Malformed(
            "the first frame is not a handshake".into(),
        ));
    };
    let hello = protocol::read_hello(&payload).map_err(ServeError::Malformed)?;
    let (interface, mut model) = match build(&hello) {
        Ok(built) => built,
        Err(message) => {
            out.write_all(&protocol::error(ErrorKind::Failed, &message))?;
            out.flush()?;
            return Err(ServeError::Build(message));
        }
    };
    let (ins, outs) = port_specs(&interface);
    out.write_all(&protocol::hello_reply(&ins, &outs))?;
    out.flush()?;

    let (n_in, n_out) = (ins.len(), outs.len());
    let slots: Vec<Slot> = (0..n_in + n_out).map(|_| Slot::new(0)).collect();
    let in_idx: Vec<u32> = (0..n_in as u32).collect();
    let out_idx: Vec<u32> = (n_in as u32..(n_in + n_out) as u32).collect();
    let masks = interface.output_masks();
    let io = Io::new(&slots, &in_idx, &out_idx, &masks);
    let mut values = Vec::with_capacity(n_in);
    let mut frame = FrameWriter::new(Kind::Outputs);
    crate::engine::with_model_panic_hook(|| loop {
        let Some(kind) = read_frame(&mut input, &mut payload)? else {
            return Ok(()); // the parent has gone
        };
        let result = match kind {
            Kind::Reset => guard(|| model.reset(&io)),
            Kind::Eval | Kind::Tick => {
                let mut r = FrameReader::new(&payload);
                r.values(n_in, &mut values)
                    .and_then(|()| r.end())
                    .map_err(ServeError::Malformed)?;
                for (slot, &v) in slots.iter().zip(&values) {
                    slot.store(v, Relaxed);
                }
                if kind == Kind::Eval {
                    guard(|| model.eval(&io))
                } else {
                    guard(|| model.tick(&io))
                }
            }
            Kind::Save => {
                match model.save() {
                    Some(state) => {
                        frame.reset(Kind::State);
                        frame.str(state.text());
                        out.write_all(frame.finish())?;
                    }
                    None => out.write_all(&protocol::error(
                        ErrorKind::Failed,
                        "its model does not save its state",
                    ))?,
                }
                out.flush()?;
                continue;
            }
            Kind::Restore => {
                let mut r = FrameReader::new(&payload);
                let state = r
                    .values(n_out, &mut values)
                    .and_then(|()| r.str())
                    .and_then(|text| r.end().map(|()| text))
                    .map_err(ServeError::Malformed)?;
                for (slot, &v) in slots[n_in..].iter().zip(&values) {
                    slot.store(v, Relaxed);
                }
                let state = ModelState::from_text(state);
                guard(|| model.restore(&state, &io))
                    .and_then(|taken| taken.map_err(|why| (FaultKind::Failed, why)))
            }
            Kind::Finish => {
                frame.reset(Kind::Bye);
                out.write_all(frame.finish())?;
                out.flush()?;
                return Ok(());
            }
            other => {
                return Err(ServeError::Malformed(format!(
                    "a `{other:?}` frame after the handshake"
                )))
            }
        };
        match result {
            Ok(()) => {
                frame.reset(Kind::Outputs);
                for slot in &slots[n_in..] {
                    frame.u64(slot.load(Relaxed));
                }
                out.write_all(frame.finish())?;
            }
            Err((fault, message)) => {
                let kind = match fault {
                    FaultKind::Failed => ErrorKind::Failed,
                    FaultKind::Panicked => ErrorKind::Panicked,
                };
                out.write_all(&protocol::error(kind, &message))?;
            }
        }
        out.flush()?;
    })
}

/// Read one frame into `payload`; `None` at the end of input.
fn read_frame(input: &mut impl Read, payload: &mut Vec<u8>) -> Result<Option<Kind>, ServeError> {
    let mut head = [0u8; 5];
    match input.read_exact(&mut head[..1]) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    input.read_exact(&mut head[1..])?;
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let kind = Kind::from_byte(head[4]);
    let (Some(kind), 1..=MAX_FRAME) = (kind, len) else {
        return Err(ServeError::Malformed(protocol::show_bytes(&head)));
    };
    payload.resize(len - 1, 0);
    input.read_exact(payload)?;
    Ok(Some(kind))
}
