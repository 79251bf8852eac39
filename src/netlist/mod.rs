//! Circuit files: the RON schema, loading with located diagnostics, and
//! elaboration into a checked [`Circuit`](crate::circuit::Circuit).

mod diagnostic;
mod load;
mod locate;
pub mod schema;

pub use diagnostic::{line_col, Diagnostic, ErrorKind, LoadError};
pub use load::{is_identifier, load_file, load_str};
