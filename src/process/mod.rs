//! Components as OS processes: a component's behaviour runs in a child
//! program that speaks a small binary protocol over its stdin and stdout
//! (specified in `docs/process-protocol.md`).
//!
//! - [`protocol`]: the frames, encoded and decoded.
//! - [`child`]: the parent's handle on a child: timeouts, its stderr,
//!   its exit status, and reaping it whatever happens.
//! - [`remote`]: the parent's end as a [`Model`](crate::Model), used by the
//!   `process` model and by the processes engine.
//! - [`serve`]: the child's end, serving any registered Rust model
//!   (`cspsim serve`).
//! - [`limits`]: whether the machine has room for more children.

pub mod child;
pub mod limits;
mod os;
pub mod protocol;
pub mod remote;
mod serve;

pub use serve::{serve, serve_from_handshake, ServeError};
