//! Load errors: every problem found in a circuit file or the composite
//! models it uses, each with its kind, a message, where it is (file and byte
//! span → line and column), a hint and notes (the instance path that led
//! there). `Display` gives `file:line:col: message`; [`LoadError::render`]
//! draws the source line with a caret for terminals.

use std::fmt;
use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor};

/// What kind of mistake a diagnostic reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// A composite model file is malformed, or its ports are.
    BadCompositeModel,
    /// An array size, an index, or an index range is wrong.
    BadIndex,
    /// The circuit is too large for this machine (or the given limit).
    TooLarge,
}

/// One problem in a circuit.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// The kind of problem.
    pub kind: ErrorKind,
    /// What is wrong.
    pub message: String,
    /// The file it is in: an index into [`LoadError::files`] (0 is the circuit).
    pub file: usize,
    /// Where, as a byte range of that file, if known.
    pub span: Option<Range<usize>>,
    /// How to fix it.
    pub hint: Option<String>,
    /// Context, such as the instance path that led into a composite model.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic with no location or hint yet.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Diagnostic {
            kind,
            message: message.into(),
            file: 0,
            span: None,
            hint: None,
            notes: Vec::new(),
        }
    }

    /// Say which file the span is in.
    pub fn in_file(mut self, file: usize) -> Self {
        self.file = file;
        self
    }

    /// Add a note.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
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

/// A file a diagnostic may point into.
#[derive(Clone, Debug, Default)]
pub struct SourceText {
    /// The file's name as given.
    pub name: String,
    /// Its text (empty if it could not be read).
    pub text: String,
}

/// Everything wrong with a circuit file.
#[derive(Clone, Debug)]
pub struct LoadError {
    /// The files the diagnostics point into; the circuit is the first.
    pub files: Vec<SourceText>,
    /// The problems, in file order where possible.
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadError {
    /// A single problem in `file`, with no text to show.
    pub fn single(file: &str, diagnostic: Diagnostic) -> Self {
        LoadError {
            files: vec![SourceText {
                name: file.to_string(),
                text: String::new(),
            }],
            diagnostics: vec![diagnostic],
        }
    }

    /// The file name, 1-based line and column (in characters) where `d` points.
    pub fn position(&self, d: &Diagnostic) -> Option<(&str, usize, usize)> {
        let file = self.files.get(d.file)?;
        let span = d.span.as_ref()?;
        let (line, col) = line_col(&file.text, span.start);
        Some((&file.name, line, col))
    }

    /// 1-based line and column of `d` (in whichever file it points into).
    pub fn line_col(&self, d: &Diagnostic) -> Option<(usize, usize)> {
        self.position(d).map(|(_, line, col)| (line, col))
    }

    /// Whether any diagnostic is of `kind`.
    pub fn has(&self, kind: ErrorKind) -> bool {
        self.diagnostics.iter().any(|d| d.kind == kind)
    }

    /// The report with source excerpts and carets, as a terminal shows it.
    pub fn render(&self, color: bool) -> String {
        let mut files = SimpleFiles::new();
        for f in &self.files {
            files.add(f.name.as_str(), f.text.as_str());
        }
        let mut out = termcolor::Buffer::no_color();
        if color {
            out = termcolor::Buffer::ansi();
        }
        let config = term::Config::default();
        for d in &self.diagnostics {
            let mut report = Report::error().with_message(&d.message);
            let file = d.file.min(self.files.len().saturating_sub(1));
            let mut notes = d.notes.clone();
            let text = self.files.get(file).map_or("", |f| f.text.as_str());
            match &d.span {
                Some(span) if line_of(text, span.start).len() > LONG_LINE => {
                    let name = self.files.get(file).map_or("", |f| f.name.as_str());
                    notes.splice(0..0, excerpt(name, text, span.clone()));
                }
                Some(span) => {
                    report = report.with_labels(vec![Label::primary(file, span.clone())]);
                }
                None => {
                    let name = self.files.get(file).map_or("", |f| f.name.as_str());
                    notes.insert(0, format!("in {name}"));
                }
            }
            if let Some(hint) = &d.hint {
                notes.push(format!("hint: {hint}"));
            }
            report = report.with_notes(notes);
            if term::emit(&mut out, &config, &files, &report).is_err() {
                return self.to_string();
            }
        }
        String::from_utf8_lossy(out.as_slice()).into_owned()
    }
}

/// Source lines longer than this are not shown whole: only an excerpt
/// around the place.
const LONG_LINE: usize = 240;

/// The line of `text` holding byte `at`.
fn line_of(text: &str, at: usize) -> &str {
    let at = at.min(text.len());
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    &text[start..end]
}

/// Where `span` is (`file:line:column`), and the part of its long line
/// around it with a caret under it.
fn excerpt(name: &str, text: &str, span: std::ops::Range<usize>) -> Vec<String> {
    let at = span.start.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..at].matches('\n').count() + 1;
    let column = text[line_start..at].chars().count() + 1;
    let whole = line_of(text, at);
    let chars: Vec<char> = whole.chars().collect();
    let from = (column - 1).saturating_sub(40);
    let to = (column - 1 + 40).min(chars.len());
    let shown: String = chars[from..to].iter().collect();
    let (lead, tail) = (
        if from > 0 { "…" } else { "" },
        if to < chars.len() { "…" } else { "" },
    );
    let caret = " ".repeat(lead.chars().count() + column - 1 - from);
    vec![
        format!(
            "at {name}:{line}:{column} (a line of {} characters)",
            chars.len()
        ),
        format!("{lead}{shown}{tail}\n{caret}^"),
    ]
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match self.position(d) {
                Some((file, line, col)) => write!(f, "{file}:{line}:{col}: {}", d.message)?,
                None => {
                    let name = self.files.get(d.file).map_or("", |f| f.name.as_str());
                    write!(f, "{name}: {}", d.message)?;
                }
            }
            for note in &d.notes {
                write!(f, "\n  note: {note}")?;
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

/// Where in `text` a RON parse error is, as a byte range.
/// What a RON syntax error says, written for a cspsim user.
pub fn syntax_message(e: &ron::error::SpannedError) -> String {
    match e.code {
        ron::Error::ExceededRecursionLimit => {
            "the file nests too deeply (more than 128 levels of brackets and parentheses)"
                .to_string()
        }
        ref code => code.to_string(),
    }
}

pub fn syntax_span(text: &str, e: &ron::error::SpannedError) -> Range<usize> {
    let at = offset_of(text, e.span.start.line, e.span.start.col);
    let end = offset_of(text, e.span.end.line, e.span.end.col).max(at);
    at..end
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
            files: vec![SourceText {
                name: "c.ron".into(),
                text: "(\n  x: 1,\n)".into(),
            }],
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
