//! Circuit files: the RON schema, composite models, elaboration (arrays,
//! hierarchy, parameter expressions) and loading with located diagnostics
//! into a checked [`Circuit`](crate::circuit::Circuit).

mod budget;
mod diagnostic;
mod elaborate;
pub mod endpoint;
mod library;
pub use library::Library;
mod load;
mod locate;
pub mod schema;
pub mod text;
mod values;

pub use diagnostic::{line_col, Diagnostic, ErrorKind, LoadError, SourceText};
pub use load::{
    elaborate_file, elaborate_str, is_identifier, load_file, load_file_with, load_str, Elaborated,
    LoadOptions,
};
pub use values::{Env, Template};
