//! A sweep's grid: parameter axes written `NAME=START:STOP:STEP` (both ends
//! included) or `NAME=A,B,C`, their cartesian product (the first axis
//! outermost), a number of seeds per point, and each run's seed.

use crate::params::ParamValue;

/// The most runs one sweep may hold (a row each, kept until written).
pub const MAX_RUNS: u64 = 10_000_000;

/// A grid that cannot be swept.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum GridError {
    /// Not `NAME=VALUES`.
    #[error("`{0}` is not NAME=VALUES (a range START:STOP:STEP or a list A,B,C)")]
    NotAnAxis(String),
    /// The name is not an identifier.
    #[error("`{0}` is not a parameter name")]
    BadName(String),
    /// A range part that is not a number.
    #[error("`{name}={text}`: `{part}` is not a number (a range is START:STOP:STEP)")]
    NotANumber {
        /// The axis.
        name: String,
        /// Its values as given.
        text: String,
        /// The part that is not a number.
        part: String,
    },
    /// A step of zero.
    #[error("`{name}={text}`: the step is 0")]
    ZeroStep {
        /// The axis.
        name: String,
        /// Its values as given.
        text: String,
    },
    /// A range with no values.
    #[error(
        "`{name}={text}`: the range is empty (a step of {step} never goes from {start} to {stop})"
    )]
    EmptyRange {
        /// The axis.
        name: String,
        /// Its values as given.
        text: String,
        /// Where it starts.
        start: String,
        /// Where it stops.
        stop: String,
        /// Its step.
        step: String,
    },
    /// An empty list entry.
    #[error("`{name}={text}`: a list entry is empty")]
    EmptyValue {
        /// The axis.
        name: String,
        /// Its values as given.
        text: String,
    },
    /// One parameter given twice.
    #[error("the parameter `{0}` is given twice")]
    Repeated(String),
    /// No seeds.
    #[error("--seeds must be at least 1")]
    NoSeeds,
    /// More runs than a sweep holds.
    #[error("the grid has {runs} runs, more than the {MAX_RUNS} one sweep may hold; split it")]
    TooManyRuns {
        /// Runs the grid would have (saturated).
        runs: u64,
    },
}

/// One swept parameter and its values, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// The circuit parameter.
    pub name: String,
    /// Its values.
    pub values: Vec<ParamValue>,
}

impl Axis {
    /// `NAME=START:STOP:STEP` (integers, or reals rounded to the decimals
    /// written), `NAME=A,B,C` (each value as in RON; anything else a
    /// string), or `NAME=VALUE`.
    pub fn parse(text: &str) -> Result<Axis, GridError> {
        let (name, values) = text
            .split_once('=')
            .ok_or_else(|| GridError::NotAnAxis(text.to_string()))?;
        let name = name.trim();
        if !crate::netlist::is_identifier(name) {
            return Err(GridError::BadName(name.to_string()));
        }
        let values_text = values.trim();
        let values = match range_parts(values_text) {
            Some(parts) => range(name, values_text, parts)?,
            None => list(name, values_text)?,
        };
        Ok(Axis {
            name: name.to_string(),
            values,
        })
    }
}

/// The three parts of `START:STOP:STEP`, if the text has that shape (a
/// quoted or bracketed value never does).
fn range_parts(text: &str) -> Option<[&str; 3]> {
    if text.starts_with(['"', '[', '(']) {
        return None;
    }
    let mut parts = text.split(':');
    let parts = [parts.next()?, parts.next()?, parts.next()?];
    (text.matches(':').count() == 2).then_some(parts)
}

fn range(
    name: &str,
    text: &str,
    [start, stop, step]: [&str; 3],
) -> Result<Vec<ParamValue>, GridError> {
    let number = |part: &str| {
        let part = part.trim();
        match ron::from_str::<ParamValue>(part) {
            Ok(v @ (ParamValue::Int(_) | ParamValue::Real(_))) => Ok(v),
            _ => Err(GridError::NotANumber {
                name: name.to_string(),
                text: text.to_string(),
                part: part.to_string(),
            }),
        }
    };
    let (a, b, s) = (number(start)?, number(stop)?, number(step)?);
    let empty = || GridError::EmptyRange {
        name: name.to_string(),
        text: text.to_string(),
        start: start.trim().to_string(),
        stop: stop.trim().to_string(),
        step: step.trim().to_string(),
    };
    let zero = || GridError::ZeroStep {
        name: name.to_string(),
        text: text.to_string(),
    };
    if let (ParamValue::Int(a), ParamValue::Int(b), ParamValue::Int(s)) = (&a, &b, &s) {
        let (a, b, s) = (*a, *b, *s);
        if s == 0 {
            return Err(zero());
        }
        if (b - a).signum() * s.signum() < 0 {
            return Err(empty());
        }
        let n = (b - a) / s + 1;
        if n > MAX_RUNS as i128 {
            return Err(GridError::TooManyRuns { runs: MAX_RUNS + 1 });
        }
        return Ok((0..n).map(|i| ParamValue::Int(a + i * s)).collect());
    }
    let real = |v: &ParamValue| match v {
        ParamValue::Int(i) => *i as f64,
        ParamValue::Real(r) => *r,
        _ => 0.0,
    };
    let (a, b, s) = (real(&a), real(&b), real(&s));
    if s == 0.0 || !s.is_finite() {
        return Err(zero());
    }
    let steps = (b - a) / s;
    if !steps.is_finite() || steps < -1e-9 {
        return Err(empty());
    }
    // Both ends included, despite rounding: 0.01:0.05:0.01 has 5 values.
    let steps = (steps + 1e-9).floor();
    if steps >= MAX_RUNS as f64 {
        return Err(GridError::TooManyRuns { runs: MAX_RUNS + 1 });
    }
    let decimals = [start, stop, step]
        .iter()
        .map(|p| decimals(p))
        .max()
        .flatten();
    Ok((0..=steps as u64)
        .map(|i| {
            let x = a + i as f64 * s;
            // 0.01 + 2 × 0.01 is 0.030000000000000002; written, it is 0.03.
            let x = decimals.map_or(x, |d| format!("{x:.d$}").parse().unwrap_or(x));
            ParamValue::Real(x)
        })
        .collect())
}

/// Digits after the point of a plain decimal (`0.25` → 2); none for an
/// exponent form, which is taken as computed.
fn decimals(text: &str) -> Option<usize> {
    let text = text.trim();
    if text.contains(['e', 'E']) {
        return None;
    }
    Some(text.split_once('.').map_or(0, |(_, frac)| frac.len()))
}

fn list(name: &str, text: &str) -> Result<Vec<ParamValue>, GridError> {
    split_top_level(text)
        .into_iter()
        .map(|item| {
            let item = item.trim();
            if item.is_empty() {
                return Err(GridError::EmptyValue {
                    name: name.to_string(),
                    text: text.to_string(),
                });
            }
            Ok(ron::from_str::<ParamValue>(item)
                .unwrap_or_else(|_| ParamValue::Str(item.to_string())))
        })
        .collect()
}

/// `text` split at the commas outside brackets and quotes: `1,[2,3],"a,b"`
/// is three values.
fn split_top_level(text: &str) -> Vec<&str> {
    let (mut items, mut depth, mut quoted, mut escaped, mut from) =
        (Vec::new(), 0i32, false, false, 0);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '[' | '(' | '{' if !quoted => depth += 1,
            ']' | ')' | '}' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                items.push(&text[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    items.push(&text[from..]);
    items
}

/// The runs of a sweep: every point of the axes, each with `seeds` seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// The swept parameters, the first outermost.
    pub axes: Vec<Axis>,
    /// Runs per point, each with its own seed.
    pub seeds: u64,
    /// The sweep's seed, from which each run's derives.
    pub seed: u64,
}

/// One run of a grid.
#[derive(Clone, Debug, PartialEq)]
pub struct RunPoint {
    /// Its place in the grid, from 0.
    pub index: u64,
    /// Its point: a value for each axis.
    pub params: Vec<(String, ParamValue)>,
    /// Its seed.
    pub seed: u64,
}

impl Default for Grid {
    /// One run, seeded 0 — no axes.
    fn default() -> Self {
        Grid {
            axes: Vec::new(),
            seeds: 1,
            seed: 0,
        }
    }
}

impl Grid {
    /// A grid of `axes` × `seeds`; an error if a parameter repeats, there
    /// are no seeds, or the runs pass [`MAX_RUNS`].
    pub fn new(axes: Vec<Axis>, seeds: u64, seed: u64) -> Result<Grid, GridError> {
        for (k, axis) in axes.iter().enumerate() {
            if axes[..k].iter().any(|a| a.name == axis.name) {
                return Err(GridError::Repeated(axis.name.clone()));
            }
        }
        if seeds == 0 {
            return Err(GridError::NoSeeds);
        }
        let grid = Grid { axes, seeds, seed };
        let runs = grid
            .axes
            .iter()
            .try_fold(seeds, |n, a| n.checked_mul(a.values.len() as u64))
            .unwrap_or(u64::MAX);
        if runs > MAX_RUNS {
            return Err(GridError::TooManyRuns { runs });
        }
        Ok(grid)
    }

    /// The points: the product of the axes' lengths.
    pub fn points(&self) -> u64 {
        self.axes.iter().map(|a| a.values.len() as u64).product()
    }

    /// The runs: points × seeds.
    pub fn runs(&self) -> u64 {
        self.points() * self.seeds
    }

    /// The parameters of point `p` (0 ≤ p < [`points`](Self::points)).
    pub fn point(&self, p: u64) -> Vec<(String, ParamValue)> {
        let mut rest = p;
        let mut params = vec![(String::new(), ParamValue::Int(0)); self.axes.len()];
        // The last axis varies fastest.
        for (k, axis) in self.axes.iter().enumerate().rev() {
            let n = axis.values.len() as u64;
            params[k] = (axis.name.clone(), axis.values[(rest % n) as usize].clone());
            rest /= n;
        }
        params
    }

    /// Run `index` (0 ≤ index < [`runs`](Self::runs)): its point and seed.
    pub fn run(&self, index: u64) -> RunPoint {
        RunPoint {
            index,
            params: self.point(index / self.seeds),
            seed: run_seed(self.seed, index),
        }
    }
}

/// The seed of run `index` of a sweep seeded `seed`: SplitMix64 of the
/// two, so that neighbouring runs get unrelated seeds, and a run's seed
/// does not depend on how the sweep was split over cores or ranks. It has
/// 48 bits: 15 digits, which a spreadsheet keeps exactly (it rounds
/// longer numbers, and the rounded seed would reproduce another run).
pub fn run_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) >> 16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<ParamValue> {
        Axis::parse(text).unwrap().values
    }

    #[test]
    fn ranges_include_both_ends_and_round_to_the_decimals_written() {
        let reals = |v: &[f64]| v.iter().map(|&x| ParamValue::Real(x)).collect::<Vec<_>>();
        assert_eq!(
            values("rate=0.01:0.05:0.01"),
            reals(&[0.01, 0.02, 0.03, 0.04, 0.05])
        );
        assert_eq!(values("x=1:0:-0.25"), reals(&[1.0, 0.75, 0.5, 0.25, 0.0]));
        assert_eq!(values("x=0:1:0.3"), reals(&[0.0, 0.3, 0.6, 0.9]));
        let ints = |v: &[i128]| v.iter().map(|&x| ParamValue::Int(x)).collect::<Vec<_>>();
        assert_eq!(values("n=2:10:4"), ints(&[2, 6, 10]));
        assert_eq!(values("n=3:3:1"), ints(&[3]));
        assert_eq!(values("n=5:1:-2"), ints(&[5, 3, 1]));
    }

    #[test]
    fn lists_take_ron_values_and_split_only_at_top_level_commas() {
        assert_eq!(
            values("t=80, 100,120"),
            vec![
                ParamValue::Int(80),
                ParamValue::Int(100),
                ParamValue::Int(120)
            ]
        );
        assert_eq!(
            values(r#"m=[1,2],"a,b",fast"#),
            vec![
                ParamValue::List(vec![ParamValue::Int(1), ParamValue::Int(2)]),
                ParamValue::Str("a,b".into()),
                ParamValue::Str("fast".into()),
            ]
        );
        assert_eq!(values("on=true"), vec![ParamValue::Bool(true)]);
        assert_eq!(
            values(r#"p="a:b:c""#),
            vec![ParamValue::Str("a:b:c".into())]
        );
    }

    #[test]
    fn bad_axes_are_refused() {
        let err = |text: &str| Axis::parse(text).unwrap_err();
        assert!(matches!(err("rate"), GridError::NotAnAxis(_)));
        assert!(matches!(err("1x=2"), GridError::BadName(_)));
        assert!(matches!(err("n=1:5:0"), GridError::ZeroStep { .. }));
        assert!(matches!(err("x=0.1:0.5:0.0"), GridError::ZeroStep { .. }));
        assert!(matches!(err("n=5:1:1"), GridError::EmptyRange { .. }));
        assert!(matches!(err("x=0.5:0.1:0.1"), GridError::EmptyRange { .. }));
        assert!(matches!(err("n=1:x:1"), GridError::NotANumber { ref part, .. } if part == "x"));
        assert!(matches!(err("n=1,,2"), GridError::EmptyValue { .. }));
        assert!(matches!(
            err("n=0:100000000:1"),
            GridError::TooManyRuns { .. }
        ));
        assert_eq!(
            err("x=0.5:0.1:0.1").to_string(),
            "`x=0.5:0.1:0.1`: the range is empty (a step of 0.1 never goes from 0.5 to 0.1)"
        );
    }

    #[test]
    fn the_grid_runs_every_point_with_every_seed_the_last_axis_fastest() {
        let axes = vec![
            Axis::parse("a=1,2").unwrap(),
            Axis::parse("b=x,y,z").unwrap(),
        ];
        let grid = Grid::new(axes, 2, 7).unwrap();
        assert_eq!((grid.points(), grid.runs()), (6, 12));
        let b = |r: u64| grid.run(r).params[1].1.clone();
        assert_eq!(grid.run(0).params[0].1, ParamValue::Int(1));
        assert_eq!(grid.run(1).params, grid.run(0).params, "seeds innermost");
        assert_eq!(b(2), ParamValue::Str("y".into()));
        assert_eq!(grid.run(6).params[0].1, ParamValue::Int(2));
        let seeds: std::collections::HashSet<u64> = (0..12).map(|r| grid.run(r).seed).collect();
        assert_eq!(seeds.len(), 12, "every run has its own seed");
        assert_eq!(grid.run(5).seed, run_seed(7, 5));
        assert_ne!(run_seed(7, 5), run_seed(8, 5));
        assert!((0..1000).all(|i| run_seed(3, i) < 1 << 48));
    }

    #[test]
    fn grids_refuse_repeats_no_seeds_and_too_many_runs() {
        let axis = |t: &str| Axis::parse(t).unwrap();
        assert_eq!(
            Grid::new(vec![axis("a=1"), axis("a=2")], 1, 0),
            Err(GridError::Repeated("a".into()))
        );
        assert_eq!(Grid::new(vec![axis("a=1")], 0, 0), Err(GridError::NoSeeds));
        let big = vec![axis("a=1:10000:1"), axis("b=1:10000:1")];
        assert!(matches!(
            Grid::new(big, 1, 0),
            Err(GridError::TooManyRuns { runs: 100_000_000 })
        ));
        let grid = Grid::new(Vec::new(), 3, 0).unwrap();
        assert_eq!((grid.points(), grid.runs()), (1, 3), "no axes: one point");
    }
}
