//! Load errors: every problem found in a circuit file, each with its kind,
//! a message, where it is (byte span → line and column) and a hint.
//! `Display` gives `file:line:col: message`; [`LoadError::render`] draws the
//! source line with a caret for terminals.

use std::fmt;
use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor};

/// What kind of mistake a diagnostic reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file could not be read.
    Io,
    /// RON syntax, unknown or missing fields, wrong value kinds.
    Syntax,
    /// No model of that name.
    UnknownModel,
    /// Two components with one name, or a badly formed name.
    BadComponentName,
    /// A parameter is unknown, missing, ill-typed or out of range.
    BadParameter,
    /// A model declared its ports wrongly (a model author's mistake).
    BadModel,
    /// An endpoint is not of the form `component.port`.
    BadEndpoint,
    /// No component of that name.
    UnknownComponent,
    /// No port of that name on the component.
    UnknownPort,
    /// An input used as a driver, or an output as a reader.
    WrongDirection,
    /// Driver and reader differ in type or width.
    TypeMismatch,
    /// An input driven by more than one net.
    MultipleDrivers,
    /// A required input that nothing drives.
    UnconnectedInput,
    /// A ring of combinational dependencies.
    CombinationalLoop,
    /// A bad clock period or timescale.
    BadClock,
    /// A bad trace pattern, or one that selects nothing.
    BadTrace,
}

/// One problem in a circuit.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// The kind of problem.
    pub kind: ErrorKind,
    /// What is wrong.
    pub message: String,
    /// Where, as a byte range of the source, if known.
    pub span: Option<Range<usize>>,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with no location or hint yet.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Diagnostic {
            kind,
            message: message.into(),
            span: None,
            hint: None,
        }
    }

    /// Attach a location.
    pub fn at(mut self, span: Option<Range<usize>>) -> Self {
        self.span = span;
        self
    }

    /// Attach a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Everything wrong with a circuit file.
#[derive(Clone, Debug)]
pub struct LoadError {
    /// The file's name as given.
    pub file: String,
    /// The file's text, when it could be read.
    pub source: String,
    /// The problems, in file order where possible.
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadError {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(&self.source, offset)
    }

    /// Whether any diagnostic is of `kind`.
    pub fn has(&self, kind: ErrorKind) -> bool {
        self.diagnostics.iter().any(|d| d.kind == kind)
    }

    /// The report with source excerpts and carets, as a terminal shows it.
    pub fn render(&self, color: bool) -> String {
        let file = SimpleFile::new(&self.file, &self.source);
        let mut out = termcolor::Buffer::no_color();
        if color {
            out = termcolor::Buffer::ansi();
        }
        let config = term::Config::default();
        for d in &self.diagnostics {
            let mut report = Report::error().with_message(&d.message);
            if let Some(span) = &d.span {
                report = report.with_labels(vec![Label::primary((), span.clone())]);
            } else {
                report = report.with_notes(vec![format!("in {}", self.file)]);
            }
            if let Some(hint) = &d.hint {
                report = report.with_notes(vec![format!("hint: {hint}")]);
            }
            if term::emit(&mut out, &config, &file, &report).is_err() {
                return self.to_string();
            }
        }
        String::from_utf8_lossy(out.as_slice()).into_owned()
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match &d.span {
                Some(span) => {
                    let (line, col) = self.line_col(span.start);
                    write!(f, "{}:{line}:{col}: {}", self.file, d.message)?;
                }
                None => write!(f, "{}: {}", self.file, d.message)?,
            }
            if let Some(hint) = &d.hint {
                write!(f, "\n  hint: {hint}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The byte offset of 1-based `line`, `col` (characters) in `text`.
pub fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let line_start = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    let rest = &text[line_start.min(text.len())..];
    line_start
        + rest
            .char_indices()
            .nth(col.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_positions_round_trip() {
        let text = "ab\ncdé f\ng";
        for (line, col) in [(1, 1), (2, 1), (2, 4), (2, 5), (3, 1)] {
            assert_eq!(line_col(text, offset_of(text, line, col)), (line, col));
        }
        assert_eq!(line_col(text, text.find('f').unwrap()), (2, 5));
    }

    #[test]
    fn display_and_render_show_position_and_hint() {
        let e = LoadError {
            file: "c.ron".into(),
            source: "(\n  x: 1,\n)".into(),
            diagnostics: vec![Diagnostic::new(ErrorKind::Syntax, "bad x")
                .at(Some(4..5))
                .hint("drop it")],
        };
        assert_eq!(e.to_string(), "c.ron:2:3: bad x\n  hint: drop it");
        let r = e.render(false);
        assert!(r.contains("c.ron:2:3"), "{r}");
        assert!(r.contains('^'), "{r}");
        assert!(r.contains("hint: drop it"), "{r}");
    }
}
