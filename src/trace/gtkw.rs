//! GTKWave save files: the trace pre-arranged. `gtkwave x.gtkw` opens the
//! trace beside it with the clock first, a group per component nested as
//! the hierarchy, vectors in hex, reals drawn as analog waves, and the
//! first cycles in view. Array elements are collapsed groups when the
//! array would not fit on a screen.
//!
//! The format is GTKWave's own (what *File → Write Save File* writes): a
//! few `[key] value` lines, a zoom line, then the traces, each a full
//! signal name preceded by an `@flags` line in hex. Group markers are
//! blank traces named `-name`.

use std::fmt::Write as _;
use std::path::Path;

use super::plan::{Scope, TracePlan, Var};
use crate::value::PortType;

/// The first line of every save file cspsim writes: how it recognises its
/// own files, and rewrites them, while a save file someone else wrote is
/// kept.
pub const MARKER: &str = "[*] GTKWave save file written by cspsim";

/// GTKWave's trace flags (`analyzer.h`), the ones a save file here uses.
mod flag {
    pub const HEX: u32 = 1 << 1;
    pub const BIN: u32 = 1 << 3;
    pub const RJUSTIFY: u32 = 1 << 5;
    pub const BLANK: u32 = 1 << 9;
    pub const COLLAPSED: u32 = 1 << 12;
    pub const ANALOG_STEP: u32 = 1 << 15;
    pub const ANALOG_BLANK_STRETCH: u32 = 1 << 17;
    pub const REAL: u32 = 1 << 18;
    pub const CLOSED: u32 = 1 << 22;
    pub const GRP_BEGIN: u32 = 1 << 23;
    pub const GRP_END: u32 = 1 << 24;
}

/// Rows of traces that fit on a screen: an array whose elements hold more
/// is shown with each element's group collapsed.
const SCREEN_ROWS: usize = 40;
/// A port array of more elements than this is a group of its own.
const PORT_ARRAY_ROWS: usize = 4;
/// Cycles in view when the save file opens (all of a shorter run).
const CYCLES_IN_VIEW: u64 = 100;
/// Width in pixels of the waveform pane in the window the file asks for.
const WAVE_PIXELS: f64 = 800.0;
/// Pixels per tick at zoom 0 (measured in GTKWave 3.3).
const TICKS_ZOOM_0: f64 = 200.0;
/// Extra rows of height for an analog trace.
const ANALOG_ROWS: usize = 3;

/// A group of the save file: one level of the component hierarchy.
#[derive(Default)]
struct Group<'a> {
    name: &'a str,
    vars: Vec<&'a Var>,
    children: Vec<Group<'a>>,
}

impl<'a> Group<'a> {
    fn child(&mut self, name: &'a str) -> &mut Group<'a> {
        // Scopes arrive in component order, so a repeated name is the last.
        if self.children.last().is_none_or(|c| c.name != name) {
            self.children.push(Group {
                name,
                ..Group::default()
            });
        }
        let last = self.children.len() - 1;
        &mut self.children[last]
    }

    /// Traces this group shows when open, its own markers included.
    fn rows(&self) -> usize {
        2 + self.vars.len() + self.children.iter().map(Group::rows).sum::<usize>()
    }
}

/// The save file for `plan`'s trace, written to `dumpfile`, of a run of
/// `cycles` cycles.
pub fn save_file(plan: &TracePlan, dumpfile: &Path, cycles: u64) -> String {
    let mut top = Group::default();
    for Scope { path, vars } in &plan.scopes {
        let mut group = &mut top;
        for part in path.split('.') {
            group = group.child(part);
        }
        group.vars.extend(vars);
    }
    let mut out = String::new();
    let _ = writeln!(out, "{MARKER} {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(out, "[dumpfile] \"{}\"", dumpfile.display());
    let _ = writeln!(out, "[timestart] 0");
    let _ = writeln!(out, "[size] 1280 800");
    let _ = writeln!(out, "[pos] -1 -1");
    let _ = writeln!(out, "*{:.6} -1", zoom(plan.period, plan.timescale, cycles));
    let _ = writeln!(out, "[treeopen] {}.", plan.top);
    let _ = writeln!(out, "[sst_width] 200");
    let _ = writeln!(out, "[signals_width] 200");
    let _ = writeln!(out, "[sst_expanded] 1");
    let _ = writeln!(out, "[sst_vpaned_height] 200");
    let prefix = scope_name(&plan.top);
    if plan.clock {
        trace(
            &mut out,
            flag::BIN | flag::RJUSTIFY,
            &format!("{prefix}.clock"),
        );
    }
    write_children(&mut out, &top, &prefix);
    out
}

/// GTKWave's zoom for `cycles` cycles of `period` time units of
/// `timescale` across the waveform pane. GTKWave counts time in ticks of
/// the timescale's unit (a `100 ps` timescale counts picoseconds) and, as
/// measured on its screen, shows 2^-zoom ticks per [`TICKS_ZOOM_0`] pixels.
fn zoom(period: u64, timescale: (u32, vcd::TimescaleUnit), cycles: u64) -> f64 {
    let ticks = cycles.clamp(1, CYCLES_IN_VIEW) as f64
        * period.max(1) as f64
        * f64::from(timescale.0.max(1));
    -(TICKS_ZOOM_0 * ticks / WAVE_PIXELS).log2()
}

fn write_group(out: &mut String, group: &Group<'_>, parent: &str, closed: bool) {
    let path = format!("{parent}.{}", scope_name(group.name));
    begin(out, group.name, closed);
    // A port array of more than a few elements is a group of its own,
    // collapsed when it would fill a screen.
    for run in runs(&group.vars, |v| array_base(&v.name)) {
        let grouped = run.len() > PORT_ARRAY_ROWS;
        let name = span_name(
            run.first().map(|v| v.name.as_str()),
            run.last().map(|v| v.name.as_str()),
        );
        if grouped {
            begin(out, &name, run.len() > SCREEN_ROWS);
        }
        for var in run {
            signal(out, &format!("{path}.{}", signal_name(var)), var.ty);
        }
        if grouped {
            end(out, &name, run.len() > SCREEN_ROWS);
        }
    }
    write_children(out, group, &path);
    end(out, group.name, closed);
}

/// The groups inside `group`, whose signals are named under `path`.
fn write_children(out: &mut String, group: &Group<'_>, path: &str) {
    // An array of components that would fill more than a screen is one
    // collapsed group of collapsed elements: the array in one line, each
    // element's signals two clicks away.
    for run in runs(&group.children, |c| array_base(c.name)) {
        let rows: usize = run.iter().map(Group::rows).sum();
        let collapse = run.len() > 1 && rows > SCREEN_ROWS;
        let name = span_name(run.first().map(|c| c.name), run.last().map(|c| c.name));
        if collapse {
            begin(out, &name, true);
        }
        for child in run {
            write_group(out, child, path, collapse);
        }
        if collapse {
            end(out, &name, true);
        }
    }
}

/// `items` cut into runs of consecutive array elements of one array
/// (`key` gives an item's array name); any other item is a run of its own.
fn runs<T>(items: &[T], key: impl Fn(&T) -> Option<&str>) -> Vec<&[T]> {
    let mut runs = Vec::new();
    let mut k = 0;
    while k < items.len() {
        let base = key(&items[k]);
        let len = match base {
            Some(_) => items[k..].iter().take_while(|i| key(i) == base).count(),
            None => 1,
        };
        runs.push(&items[k..k + len]);
        k += len;
    }
    runs
}

/// The name of a group of array elements: `pix[0..63]` for `pix[0]` to `pix[63]`.
fn span_name(first: Option<&str>, last: Option<&str>) -> String {
    match (first, last.and_then(|l| l.rsplit_once('['))) {
        (Some(first), Some((_, last_index))) if Some(first) != last => {
            format!("{}..{last_index}", first.trim_end_matches(']'))
        }
        (Some(first), _) => first.to_string(),
        _ => String::new(),
    }
}

fn begin(out: &mut String, name: &str, closed: bool) {
    let shut = if closed { flag::CLOSED } else { 0 };
    trace(
        out,
        flag::GRP_BEGIN | flag::BLANK | shut,
        &format!("-{name}"),
    );
}

fn end(out: &mut String, name: &str, closed: bool) {
    let shut = if closed {
        flag::CLOSED | flag::COLLAPSED
    } else {
        0
    };
    trace(out, flag::GRP_END | flag::BLANK | shut, &format!("-{name}"));
}

/// One signal: bits in binary, vectors in hex, reals as an analog wave a
/// few rows high.
fn signal(out: &mut String, name: &str, ty: PortType) {
    match ty {
        PortType::Real => {
            trace(out, flag::REAL | flag::ANALOG_STEP | flag::RJUSTIFY, name);
            for _ in 0..ANALOG_ROWS {
                trace(out, flag::ANALOG_BLANK_STRETCH, "-");
            }
        }
        PortType::Bits(1) => trace(out, flag::BIN | flag::RJUSTIFY, name),
        PortType::Bits(_) => trace(out, flag::HEX | flag::RJUSTIFY, name),
    }
}

fn trace(out: &mut String, flags: u32, name: &str) {
    let _ = writeln!(out, "@{flags:x}\n{name}");
}

/// `pix` for an array element `pix[7]`.
fn array_base(name: &str) -> Option<&str> {
    name.strip_suffix(']')
        .and_then(|n| n.rsplit_once('['))
        .map(|(base, _)| base)
}

/// A scope as the trace declares it (no spaces).
fn scope_name(name: &str) -> String {
    name.replace(|c: char| c.is_whitespace(), "_")
}

/// A variable as GTKWave names it: the declared name with its bit range
/// appended, `q[7:0]`, `in[0][7:0]`.
fn signal_name(var: &Var) -> String {
    let name = scope_name(&var.name);
    match TracePlan::range(var.ty) {
        Some((msb, lsb)) => format!("{name}[{msb}:{lsb}]"),
        None => name,
    }
}

/// The save file beside a trace: `x.vcd` → `x.gtkw`.
pub fn beside(trace: &Path) -> std::path::PathBuf {
    trace.with_extension("gtkw")
}

/// Whether the file at `path` may be (re)written: it does not exist, or it
/// is a save file cspsim wrote. A save file someone arranged by hand is
/// kept.
pub fn may_write(path: &Path) -> bool {
    match std::fs::File::open(path) {
        Err(_) => true,
        Ok(file) => {
            use std::io::BufRead;
            let mut first = String::new();
            let _ = std::io::BufReader::new(file).read_line(&mut first);
            first.starts_with(MARKER)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vcd::TimescaleUnit::{NS, PS};

    #[test]
    fn the_zoom_fits_the_first_cycles_in_the_pane() {
        // 100 cycles of 10 ns: 1000 ticks over the pane.
        let expected = -(TICKS_ZOOM_0 * 1000.0 / WAVE_PIXELS).log2();
        assert!((zoom(10, (1, NS), 100) - expected).abs() < 1e-9);
        // A shorter run is shown whole: half the time, one step closer.
        assert!((zoom(10, (1, NS), 50) - (expected + 1.0)).abs() < 1e-9);
        // A longer one shows its first cycles.
        assert_eq!(
            zoom(10, (1, NS), 1_000_000),
            zoom(10, (1, NS), CYCLES_IN_VIEW)
        );
        // A 100 ps timescale counts picoseconds: a hundred times the ticks.
        let finer = zoom(10, (100, PS), 100);
        assert!((finer - (expected - 100f64.log2())).abs() < 1e-9);
    }

    #[test]
    fn array_groups_are_named_by_their_first_and_last_index() {
        assert_eq!(span_name(Some("pix[0]"), Some("pix[63]")), "pix[0..63]");
        assert_eq!(span_name(Some("pix[3]"), Some("pix[3]")), "pix[3]");
        assert_eq!(array_base("col[12]"), Some("col"));
        assert_eq!(array_base("fifo"), None);
    }
}
