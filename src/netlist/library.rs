//! Composite model files: finding `NAME.ron`, parsing each file once, and
//! locating its declarations (once, not per instance) for diagnostics.
//!
//! A model named in a circuit that is not a primitive is looked for as
//! `NAME.ron` in, in order: the directories given with `--models`, the
//! directory of the file that uses it, the `models/` in that directory and
//! in every directory above it, nearest first (so `circuits/x.ron` and
//! `circuits/bench/y.ron` find the project's `models/`), and `./models`.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::diagnostic::{syntax_message, syntax_span, Diagnostic, ErrorKind, SourceText};
use super::locate::Cursor;
use super::schema::{self, ComponentDecl, ModelFile};

/// Where the entries of a `name → [values]` map are written.
#[derive(Clone, Debug, Default)]
pub struct EntrySpans {
    /// The key.
    pub key: Option<Range<usize>>,
    /// Each value.
    pub values: Vec<Option<Range<usize>>>,
}

/// Where a body's declarations are written.
#[derive(Clone, Debug, Default)]
pub struct Located {
    /// Each component's name.
    pub components: Vec<Option<Range<usize>>>,
    /// Each net.
    pub nets: Vec<EntrySpans>,
    /// Each composite input port.
    pub inputs: Vec<EntrySpans>,
    /// Each composite output port.
    pub outputs: Vec<EntrySpans>,
}

/// Find every key and value of `section` in file order.
fn entries<'a, V>(
    text: &str,
    section: &str,
    map: &'a [(String, V)],
    values: impl Fn(&'a V) -> Vec<&'a str>,
) -> Vec<EntrySpans> {
    let mut cursor = Cursor::section(text, section);
    map.iter()
        .map(|(key, v)| {
            let key = cursor.next_quoted(key);
            let values = values(v)
                .into_iter()
                .map(|s| cursor.next_quoted(s))
                .collect();
            EntrySpans { key, values }
        })
        .collect()
}

/// Locate the components and nets of a circuit or composite body.
pub fn locate(
    text: &str,
    components: &[(String, ComponentDecl)],
    nets: &[(String, Vec<String>)],
) -> Located {
    let mut cursor = Cursor::section(text, "components");
    Located {
        components: components
            .iter()
            .map(|(name, _)| cursor.next_quoted(name))
            .collect(),
        nets: entries(text, "nets", nets, |v| {
            v.iter().map(String::as_str).collect()
        }),
        inputs: Vec::new(),
        outputs: Vec::new(),
    }
}

/// A parsed composite model.
#[derive(Debug)]
pub struct Composite {
    /// The model's name (the file's stem).
    pub name: String,
    /// Its index among the loader's files.
    pub file: usize,
    /// Its directory: relative file parameters and further models resolve against it.
    pub dir: Option<PathBuf>,
    /// The parsed file.
    pub def: ModelFile,
    /// Where its declarations are.
    pub located: Located,
}

/// Composite models found so far, by file.
#[derive(Debug, Default)]
pub struct Library {
    dirs: Vec<PathBuf>,
    parsed: HashMap<PathBuf, Option<Rc<Composite>>>,
}

impl Library {
    /// A library searching `dirs` first.
    pub fn new(dirs: Vec<PathBuf>) -> Self {
        Library {
            dirs,
            parsed: HashMap::new(),
        }
    }

    /// The directories searched for `name` used from a file in `from`.
    pub fn search_path(&self, from: Option<&Path>) -> Vec<PathBuf> {
        let mut dirs = self.dirs.clone();
        let here = from.map_or_else(PathBuf::new, Path::to_path_buf);
        dirs.push(here.clone());
        // `models/` here and in every directory above, nearest first. Above
        // the real directory, not the path as written: run from `circuits/`,
        // `detector64.ron` has the directory "", which has nothing above it.
        let real = if here.as_os_str().is_empty() {
            Path::new(".")
        } else {
            here.as_path()
        };
        let levels = real
            .canonicalize()
            .map_or_else(|_| here.ancestors().count(), |r| r.ancestors().count());
        let mut up = here.clone();
        for _ in 0..levels {
            dirs.push(tidy(&up.join("models")));
            up.push("..");
        }
        if here.is_absolute() || dirs.last().is_none_or(|d| d != Path::new("models")) {
            dirs.push(PathBuf::from("models"));
        }
        dirs
    }

    /// Every composite model on the search path from the current directory
    /// (`--models` directories first, then `models/` here and above): its
    /// name and file, the first of each name, in search order.
    pub fn available(&self) -> Vec<(String, PathBuf)> {
        let mut found: Vec<(String, PathBuf)> = Vec::new();
        for dir in self.search_path(None) {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "ron") && p.is_file())
                .collect();
            files.sort();
            for file in files {
                let Some(name) = file.file_stem().and_then(|s| s.to_str()) else {
                    continue;
                };
                if super::is_identifier(name) && found.iter().all(|(n, _)| n != name) {
                    found.push((name.to_string(), tidy(&file)));
                }
            }
        }
        found
    }

    /// The file defining composite model `name`, used from a file in `from`.
    pub fn find(&self, name: &str, from: Option<&Path>) -> Option<PathBuf> {
        if !super::is_identifier(name) {
            return None;
        }
        self.search_path(from)
            .into_iter()
            .map(|d| tidy(&d.join(format!("{name}.ron"))))
            .find(|p| p.is_file())
    }

    /// Parse `path` (once); problems go to `diagnostics` and give `None`.
    pub fn load(
        &mut self,
        name: &str,
        path: &Path,
        files: &mut Vec<SourceText>,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Option<Rc<Composite>> {
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(done) = self.parsed.get(&key) {
            return done.clone();
        }
        let result = parse(name, path, files, diagnostics).map(Rc::new);
        self.parsed.insert(key, result.clone());
        result
    }
}

/// `a/b/../c` → `a/c`, so messages show the path a user would write.
fn tidy(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn parse(
    name: &str,
    path: &Path,
    files: &mut Vec<SourceText>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Composite> {
    let shown = path.display().to_string();
    let text = match super::text::read_text(path) {
        Ok(t) => t,
        Err(e) => {
            diagnostics.push(Diagnostic::new(
                ErrorKind::Io,
                format!("cannot read composite model `{name}` from {shown}: {e}"),
            ));
            return None;
        }
    };
    let file = files.len();
    files.push(SourceText {
        name: shown,
        text: text.clone(),
    });
    let def = match schema::parse_model(&text) {
        Ok(def) => def,
        Err(e) => {
            diagnostics.push(
                Diagnostic::new(ErrorKind::Syntax, syntax_message(&e))
                    .in_file(file)
                    .at(Some(syntax_span(&text, &e)))
                    .hint("a composite model is `Model(params: {...}, inputs: {...}, outputs: {...}, components: {...}, nets: {...})`"),
            );
            return None;
        }
    };
    let mut located = locate(&text, &def.components.0, &def.nets.0);
    located.inputs = entries(&text, "inputs", &def.inputs.0, |v| {
        v.iter().map(String::as_str).collect()
    });
    located.outputs = entries(&text, "outputs", &def.outputs.0, |v| vec![v.as_str()]);
    Some(Composite {
        name: name.to_string(),
        file,
        dir: path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(Path::to_path_buf),
        def,
        located,
    })
}
