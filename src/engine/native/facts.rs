//! What is known of each value of a body before code is generated from
//! it: the largest value it can take ([`bounds`]), the value it always has
//! where that is decided ([`Facts::known`]), and whether anything needs it
//! ([`live`]). The code generator uses them to drop masks, range checks and
//! tests that cannot matter, and code whose result is decided: a compare
//! with a constant no input can reach, a select whose condition is known.
//! Knows no Cranelift and no model.

use super::plan::Column;
use crate::lower::{Binary, Body, Inst, Unary, Val};

/// The largest value each input, each output, and each element of each
/// array of a component can hold (an array not listed: any).
#[derive(Clone, Copy)]
pub(crate) struct Ports<'a> {
    pub inputs: &'a [u64],
    pub outputs: &'a [u64],
    pub arrays: &'a [u64],
}

/// What is known of every instruction of a body, for every member of a unit.
pub(crate) struct Facts {
    /// The largest value each instruction can compute.
    pub bounds: Vec<u64>,
    /// The value an instruction computes in every cycle and member, where
    /// that is decided.
    pub known: Vec<Option<u64>>,
    /// Which instructions matter (see [`live`]).
    pub live: Vec<bool>,
}

impl Facts {
    /// The facts of `body` run by `members` members with constants
    /// `consts`, over ports that hold at most `ports`.
    pub fn of(body: &Body, consts: &[Column], members: usize, ports: Ports<'_>) -> Facts {
        let (bounds, known) = values(body, consts, members, ports);
        let live = live_with(body, &known);
        Facts {
            bounds,
            known,
            live,
        }
    }
}

/// Which instructions of `body` matter: those with an effect, and
/// (backwards) every value they read.
pub(crate) fn live(body: &Body) -> Vec<bool> {
    live_with(body, &vec![None; body.insts().len()])
}

/// [`live`], where the values `known` are constants (reading nothing) and
/// a select whose condition is known reads only the operand it chooses; a
/// check known to pass does nothing.
fn live_with(body: &Body, known: &[Option<u64>]) -> Vec<bool> {
    let insts = body.insts();
    let mut live = vec![false; insts.len()];
    for (k, inst) in insts.iter().enumerate().rev() {
        match *inst {
            Inst::FailIf(c) if known[c.0 as usize] == Some(0) => continue,
            _ if !inst.has_value() => live[k] = true,
            _ => {}
        }
        if !live[k] || known[k].is_some() {
            continue;
        }
        if let Inst::Select(c, x, y) = *inst {
            if let Some(c) = known[c.0 as usize] {
                live[if c != 0 { x } else { y }.0 as usize] = true;
                continue;
            }
        }
        for v in inst.operands() {
            live[v.0 as usize] = true;
        }
    }
    live
}

/// All ones up to the highest bit of `v`.
fn fill(v: u64) -> u64 {
    if v == 0 {
        0
    } else {
        u64::MAX >> v.leading_zeros()
    }
}

/// The largest value each instruction of `body` can compute for any of
/// `members` members, from the constants' columns and the ports' bounds:
/// what lets the code generator drop a mask that changes nothing, a range
/// check on an index that is always in range, or the test of a shift by 64
/// or more that cannot happen.
pub(crate) fn bounds(body: &Body, consts: &[Column], members: usize, ports: Ports<'_>) -> Vec<u64> {
    values(body, consts, members, ports).0
}

/// The bounds of [`bounds`], and the values known.
fn values(
    body: &Body,
    consts: &[Column],
    members: usize,
    ports: Ports<'_>,
) -> (Vec<u64>, Vec<Option<u64>>) {
    use Binary::*;
    let n = body.insts().len();
    let mut bound: Vec<u64> = Vec::with_capacity(n);
    let mut known: Vec<Option<u64>> = Vec::with_capacity(n);
    // The least value each constant has over the members.
    let mut least: Vec<u64> = Vec::with_capacity(n);
    let mut constant = 0;
    for inst in body.insts() {
        let b = |v: Val| bound[v.0 as usize];
        let kn = |v: Val| known[v.0 as usize];
        let mut low = 0;
        let mut value = None;
        let most = match *inst {
            Inst::Const(_) => {
                constant += 1;
                let column = &consts[constant - 1];
                if let Column::Same(v) = column {
                    value = Some(*v);
                }
                low = (0..members).map(|k| column.at(k)).min().unwrap_or(0);
                column.max(members)
            }
            Inst::Input(i) => ports.inputs.get(i as usize).copied().unwrap_or(u64::MAX),
            Inst::Output(o) => ports.outputs.get(o as usize).copied().unwrap_or(u64::MAX),
            // Out of range, 0.
            Inst::LoadAt(a, _) => ports.arrays.get(a.0 as usize).copied().unwrap_or(u64::MAX),
            Inst::Unary(op, x) => {
                value = kn(x).map(|x| op.apply(x));
                match op {
                    Unary::IsZero => 1,
                    Unary::Popcount | Unary::Clz | Unary::Ctz => 64,
                    _ => u64::MAX,
                }
            }
            Inst::Binary(op, x, y) => {
                value = match (kn(x), kn(y)) {
                    (Some(x), Some(y)) => Some(op.apply(x, y)),
                    _ => decided(op, (b(x), kn(x)), (b(y), kn(y))),
                };
                match op {
                    Eq | Ne | Lt | Le | Gt | Ge | FLt | FLe | FEq => 1,
                    And => b(x).min(b(y)),
                    Or | Xor => fill(b(x) | b(y)),
                    Add => b(x).saturating_add(b(y)),
                    Mul => b(x).saturating_mul(b(y)),
                    MulHigh => ((u128::from(b(x)) * u128::from(b(y))) >> 64) as u64,
                    Div | Rem => b(x),
                    // A shift by 64 or more gives 0, as does one of `b(x)`'s width.
                    Shr => b(x).checked_shr(least[y.0 as usize] as u32).unwrap_or(0),
                    Shl if b(y) < 64 => {
                        let shift = b(y) as u32;
                        if b(x).leading_zeros() >= shift {
                            b(x) << shift
                        } else {
                            u64::MAX
                        }
                    }
                    _ => u64::MAX,
                }
            }
            Inst::Select(c, x, y) => match kn(c) {
                Some(c) => {
                    let chosen = if c != 0 { x } else { y };
                    value = kn(chosen);
                    b(chosen)
                }
                None => {
                    value = kn(x).filter(|&x| kn(y) == Some(x));
                    b(x).max(b(y))
                }
            },
            _ => u64::MAX,
        };
        // What can only be 0 is 0.
        let value = value.or((most == 0 && inst.has_value()).then_some(0));
        least.push(value.unwrap_or(low));
        bound.push(value.unwrap_or(most));
        known.push(value);
    }
    (bound, known)
}

/// The result of `op` on `x` and `y` (each its bound, and its value if
/// known) where their bounds decide it: a compare with a constant beyond
/// the other side's reach, an AND that clears every bit, a product by 0.
fn decided(op: Binary, (bx, kx): (u64, Option<u64>), (by, ky): (u64, Option<u64>)) -> Option<u64> {
    use Binary::*;
    let cmp = |op: Binary, b: u64, c: u64| -> Option<bool> {
        // `v op c` for every `v <= b`, where that is decided.
        match op {
            Eq if c > b => Some(false),
            Ne if c > b => Some(true),
            Lt if b < c => Some(true),
            Le if b <= c => Some(true),
            Gt if b <= c => Some(false),
            Ge if b < c => Some(false),
            Ge if c == 0 => Some(true),
            Lt if c == 0 => Some(false),
            _ => None,
        }
    };
    // `c op v`, as `v op' c`.
    let mirrored = |op: Binary| match op {
        Lt => Gt,
        Le => Ge,
        Gt => Lt,
        Ge => Le,
        other => other,
    };
    let result = match (op, kx, ky) {
        (Eq | Ne | Lt | Le | Gt | Ge, _, Some(c)) => cmp(op, bx, c),
        (Eq | Ne | Lt | Le | Gt | Ge, Some(c), _) => cmp(mirrored(op), by, c),
        (And, _, Some(m)) if fill(bx) & m == 0 => return Some(0),
        (And, Some(m), _) if fill(by) & m == 0 => return Some(0),
        (Mul, _, Some(0)) | (Mul, Some(0), _) => return Some(0),
        _ => None,
    };
    result.map(u64::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports<'a>(inputs: &'a [u64]) -> Ports<'a> {
        Ports {
            inputs,
            outputs: &[],
            arrays: &[],
        }
    }

    #[test]
    fn bounds_follow_widths_and_constants() {
        let mut b = Body::new();
        let x = b.input(0); // 8 bits
        let k = b.constant(0); // 3, 5, 7 over three members
        let s = b.binary(Binary::Add, x, k);
        let _m = b.binary_const(Binary::And, s, 0xf);
        let _h = b.binary(Binary::Shr, x, k); // by 3 at least
        let _w = b.binary(Binary::Shl, x, k);
        let c = b.binary(Binary::Lt, x, k);
        let _o = b.binary(Binary::Or, x, c);
        let consts = [Column::Affine { first: 3, step: 2 }, Column::Same(0xf)];
        let bounds = bounds(&b, &consts, 3, ports(&[0xff]));
        assert_eq!(
            bounds,
            vec![0xff, 7, 0xff + 7, 0xf, 0xf, 0xff >> 3, 0xff << 7, 1, 0xff]
        );
    }

    #[test]
    fn effects_decide_liveness() {
        let mut b = Body::new();
        let dead = b.input(0);
        let x = b.input(1);
        let _unused = b.binary(Binary::Add, dead, x);
        b.set_output(0, x);
        assert_eq!(live(&b), vec![false, true, false, true]);
    }

    #[test]
    fn compares_beyond_reach_decide_selects() {
        // An ALU's choice of operation, where `op` is at most 1.
        let mut b = Body::new();
        let op = b.input(0);
        let (x, y) = (b.input(1), b.input(2));
        let sum = b.binary(Binary::Add, x, y);
        let product = b.binary(Binary::Mul, x, y);
        let is5 = b.binary_const(Binary::Eq, op, 5); // v6
        let zero = b.constant(0);
        let chosen = b.select(is5, product, zero); // v8
        let is0 = b.binary_const(Binary::Eq, op, 0); // v10
        let y2 = b.select(is0, sum, chosen);
        let _le = b.binary_const(Binary::Le, op, 1); // v13
        let _ge = b.binary_const(Binary::Ge, op, 0); // v15
        let nope = b.binary_const(Binary::Ne, op, 9); // v17
        b.set_output(0, y2);
        b.fail_if(nope);
        let consts: Vec<Column> = b.constants().map(Column::Same).collect();
        let facts = Facts::of(&b, &consts, 1, ports(&[1, 0xff, 0xff]));
        assert_eq!(facts.known[6], Some(0), "op == 5 cannot be");
        assert_eq!(facts.known[8], Some(0), "so the select is its zero");
        assert_eq!(facts.known[10], None, "op == 0 can be");
        assert_eq!((facts.known[13], facts.known[15]), (Some(1), Some(1)));
        assert_eq!(facts.known[17], Some(1));
        assert_eq!(facts.bounds[11], 0x1fe, "the sum, or 0");
        assert!(!facts.live[4], "the product is never chosen");
        assert!(facts.live[3] && facts.live[11]);
        // A check that always fails stays; one that never fails goes.
        assert!(facts.live[19]);
        let mut b = Body::new();
        let x = b.input(0);
        let never = b.binary_const(Binary::Gt, x, 7);
        b.fail_if(never);
        let consts: Vec<Column> = b.constants().map(Column::Same).collect();
        let facts = Facts::of(&b, &consts, 1, ports(&[7]));
        assert_eq!(facts.live, vec![false; 4]);
    }
}
