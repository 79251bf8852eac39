//! Units to Cranelift IR: the only file that builds CLIF. One function runs
//! the units of one phase and kind of one worker, for one cycle parity:
//!
//! ```text
//! extern "C" fn(slots: *mut u64) -> u64   // 0, or 1 + the component that failed
//! ```
//!
//! The arena and the tables are addressed through constants (their
//! addresses do not change during a run). A looped unit is a loop over its
//! members with the member index `k` as a block parameter; a member's
//! per-member quantities come from its [`Column`]s. Every instruction has
//! the total semantics of [`crate::lower`]: divisions by 0, shifts by 64
//! or more and out-of-range array indices are handled without a trap.

use std::collections::HashMap;

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F64, I32, I64};
use cranelift_codegen::ir::{AbiParam, Function, InstBuilder, MemFlagsData, Signature, Value};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use super::plan::{Column, Unit};
use crate::lower::{Binary, Inst, Unary};

/// The signature of every generated function.
pub(super) fn signature(call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(I64));
    sig.returns.push(AbiParam::new(I64));
    sig
}

/// How a unit's slots are read: the parity the function reads. An
/// evaluation writes its outputs in that parity, a tick in the other (see
/// [`Unit::ticks_from`]).
#[derive(Clone, Copy)]
pub(super) struct Frame {
    /// The parity of the input slots.
    pub read: usize,
    /// Whether the function runs a whole cycle (every evaluation, then
    /// every tick) rather than one phase: then combinational slots that
    /// units read may have been written earlier in the same function.
    pub whole_cycle: bool,
    /// Which cycle of the function this is: 0, or 1 in a function that
    /// runs two (whose second reads what the first's ticks wrote, so no
    /// registered slot is unchanging). A failed check returns
    /// `1 + component + (cycle << 32)`.
    pub cycle: u64,
    /// The address of the state arena of the worker whose units these are.
    pub arena: u64,
}

/// Fill `func` (with [`signature`]) with the code of each part's units, in
/// order, each part with its frame.
pub(super) fn build(
    func: &mut Function,
    context: &mut FunctionBuilderContext,
    config: TargetFrontendConfig,
    parts: &[(&[Unit], Frame)],
) {
    let mut b = FunctionBuilder::new(func, context);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let slots = b.block_params(entry)[0];
    let arena = b.ins().iconst(I64, 0);
    let mut e = Emitter {
        b,
        slots,
        arena,
        frame: Frame {
            read: 0,
            whole_cycle: false,
            cycle: 0,
            arena: 0,
        },
        known: HashMap::new(),
        two: parts.iter().any(|(_, frame)| frame.cycle > 0),
    };
    for &(units, frame) in parts {
        if frame.arena != e.frame.arena || e.frame.arena == 0 {
            e.arena = e.b.ins().iconst(I64, frame.arena as i64);
        }
        e.frame = frame;
        for unit in units {
            if unit.looped {
                e.looped(unit);
            } else {
                for k in 0..unit.members {
                    e.body(unit, At::Member(k));
                }
            }
        }
    }
    let ok = e.b.ins().iconst(I64, 0);
    e.b.ins().return_(&[ok]);
    e.b.seal_all_blocks();
    e.b.finalize(config);
}

/// Members a loop iteration runs (a loop of fewer members is not made:
/// [`super::plan::LOOP_MIN`] is larger).
const UNROLL: usize = 4;

/// Which member the code being emitted is for.
#[derive(Clone, Copy)]
enum At {
    /// A member known when the code is generated.
    Member(usize),
    /// Member `k + plus` of a loop whose iteration starts at member `k`
    /// (this value): what depends on `k` is shared by the iteration's
    /// members, and `plus` goes into constant offsets.
    Loop(Value, u64),
}

struct Emitter<'a> {
    b: FunctionBuilder<'a>,
    slots: Value,
    arena: Value,
    frame: Frame,
    /// The value each slot holds, where code emitted before (outside any
    /// loop) stored it: a later unit of a whole cycle uses it instead of
    /// loading it back (a chain of combinational components passes values
    /// in registers, not through memory).
    known: HashMap<u64, Value>,
    /// Whether the function runs two cycles (see [`Frame::cycle`]).
    two: bool,
}

/// Loads and stores of the simulation's own memory: aligned, never trapping.
fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Loads of memory that the function never writes: registered outputs in
/// the parity read (ticks write the other), inputs of a phase's function
/// (in a phase, nobody writes a slot that a component of the phase reads:
/// evaluations read lower levels), and the plan's tables. They may move to
/// where their values are used, which keeps few values alive at once in a
/// wide gate.
fn unchanging() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

impl Emitter<'_> {
    fn iconst(&mut self, v: u64) -> Value {
        self.b.ins().iconst(I64, v as i64)
    }

    /// A loop over the members of `unit`, up to [`UNROLL`] members an
    /// iteration (fewer for long bodies, whose loop overhead is small); the
    /// members left over after the last full iteration follow it.
    fn looped(&mut self, unit: &Unit) {
        // What the loop stores is no longer known.
        for (j, inst) in unit.body.insts().iter().enumerate() {
            if let Inst::SetOutput(o, _) = *inst {
                let column = &unit.outs[self.write_parity(unit, j)][o as usize];
                for k in 0..unit.members {
                    self.known.remove(&column.at(k));
                }
            }
        }
        let live = unit.facts.live.iter().filter(|&&l| l).count();
        let unroll = match live {
            0..=64 => UNROLL,
            65..=256 => 2,
            _ => 1,
        };
        let whole = unit.members - unit.members % unroll;
        let header = self.b.create_block();
        let k = self.b.append_block_param(header, I64);
        let zero = self.iconst(0);
        self.b.ins().jump(header, &[zero.into()]);
        self.b.switch_to_block(header);
        for plus in 0..unroll {
            self.body(unit, At::Loop(k, plus as u64));
        }
        let next = self.b.ins().iadd_imm_s(k, unroll as i64);
        let more = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedLessThan, next, whole as i64);
        let done = self.b.create_block();
        self.b.ins().brif(more, header, &[next.into()], done, &[]);
        self.b.switch_to_block(done);
        for k in whole..unit.members {
            self.body(unit, At::Member(k));
        }
    }

    /// The parity that instruction `j` of `unit` writes outputs in: the
    /// one read for an evaluation's, the other for a tick's.
    fn write_parity(&self, unit: &Unit, j: usize) -> usize {
        match j >= unit.ticks_from {
            true => 1 - self.frame.read,
            false => self.frame.read,
        }
    }

    /// The value of `column` for the member `at`.
    fn column(&mut self, column: &Column, at: At) -> Value {
        match (column, at) {
            (c, At::Member(k)) => self.iconst(c.at(k)),
            (Column::Same(v), At::Loop(..)) => self.iconst(*v),
            (Column::Affine { first, step }, At::Loop(k, plus)) => {
                let scaled = self.b.ins().imul_imm_s(k, *step as i64);
                let first = first.wrapping_add(step.wrapping_mul(plus));
                self.b.ins().iadd_imm_s(scaled, first as i64)
            }
            (Column::Table(t), At::Loop(k, plus)) => {
                let table = self.iconst(t.as_ptr() as u64);
                let offset = self.b.ins().ishl_imm_s(k, 3);
                let at = self.b.ins().iadd(table, offset);
                self.b.ins().load(I64, unchanging(), at, (plus * 8) as i32)
            }
        }
    }

    /// The address of the slot that `column` gives for `at`, as a base and
    /// a constant offset.
    fn slot(&mut self, column: &Column, at: At) -> (Value, i32) {
        match (column, at) {
            (c, At::Member(k)) => self.word(self.slots, c.at(k)),
            (Column::Same(v), At::Loop(..)) => self.word(self.slots, *v),
            (Column::Affine { first, step }, At::Loop(k, plus)) => {
                let scaled = self.b.ins().imul_imm_s(k, step.wrapping_mul(8) as i64);
                let base = self.b.ins().iadd(self.slots, scaled);
                self.word(base, first.wrapping_add(step.wrapping_mul(plus)))
            }
            (Column::Table(_), At::Loop(..)) => {
                let index = self.column(column, at);
                let offset = self.b.ins().ishl_imm_s(index, 3);
                (self.b.ins().iadd(self.slots, offset), 0)
            }
        }
    }

    /// Word `index` after `base`, with the offset as an immediate where it fits.
    fn word(&mut self, base: Value, index: u64) -> (Value, i32) {
        match i32::try_from(index.wrapping_mul(8)) {
            Ok(offset) if index < (1 << 28) => (base, offset),
            _ => {
                let offset = self.iconst(index.wrapping_mul(8));
                (self.b.ins().iadd(base, offset), 0)
            }
        }
    }

    /// The address of arena word `first + k` (state word `first` of member `k`).
    fn state(&mut self, first: u64, at: At) -> (Value, i32) {
        match at {
            At::Member(k) => self.word(self.arena, first + k as u64),
            At::Loop(k, plus) => {
                let offset = self.b.ins().ishl_imm_s(k, 3);
                let base = self.b.ins().iadd(self.arena, offset);
                self.word(base, first + plus)
            }
        }
    }

    /// The address of element `index` of an array (made safe: out of range,
    /// the scratch element), and whether `index` is in range (`None`: it
    /// always is, as its `bound` is below the length).
    fn element(
        &mut self,
        (first, len): (u64, u64),
        (index, bound): (Value, u64),
        at: At,
    ) -> (Value, Option<Value>) {
        let inside = (bound >= len).then(|| {
            self.b
                .ins()
                .icmp_imm_s(IntCC::UnsignedLessThan, index, len as i64)
        });
        let index = match inside {
            Some(inside) => {
                let scratch = self.iconst(len);
                self.b.ins().select(inside, index, scratch)
            }
            None => index,
        };
        let start = match at {
            At::Member(k) => self.iconst(first + k as u64 * (len + 1)),
            At::Loop(k, plus) => {
                let scaled = self.b.ins().imul_imm_s(k, (len + 1) as i64);
                self.b
                    .ins()
                    .iadd_imm_s(scaled, (first + plus * (len + 1)) as i64)
            }
        };
        let word = self.b.ins().iadd(start, index);
        let offset = self.b.ins().ishl_imm_s(word, 3);
        (self.b.ins().iadd(self.arena, offset), inside)
    }

    fn load(&mut self, (base, offset): (Value, i32)) -> Value {
        self.b.ins().load(I64, flags(), base, offset)
    }

    fn load_unchanging(&mut self, (base, offset): (Value, i32)) -> Value {
        self.b.ins().load(I64, unchanging(), base, offset)
    }

    fn store(&mut self, v: Value, (base, offset): (Value, i32)) {
        self.b.ins().store(flags(), v, base, offset);
    }

    /// A comparison's result as 0 or 1.
    fn compare(&mut self, cc: IntCC, x: Value, y: Value) -> Value {
        let c = self.b.ins().icmp(cc, x, y);
        self.b.ins().uextend(I64, c)
    }

    /// The double whose bits `x` holds.
    fn as_float(&mut self, x: Value) -> Value {
        self.b.ins().bitcast(F64, MemFlagsData::new(), x)
    }

    /// The bits of the double `x`.
    fn float_bits(&mut self, x: Value) -> Value {
        self.b.ins().bitcast(I64, MemFlagsData::new(), x)
    }

    /// `op` on doubles held as bits.
    fn float(&mut self, op: Binary, x: Value, y: Value) -> Value {
        let (x, y) = (self.as_float(x), self.as_float(y));
        let compare = |cc| {
            move |s: &mut Self| {
                let c = s.b.ins().fcmp(cc, x, y);
                s.b.ins().uextend(I64, c)
            }
        };
        let r = match op {
            Binary::FAdd => self.b.ins().fadd(x, y),
            Binary::FSub => self.b.ins().fsub(x, y),
            Binary::FMul => self.b.ins().fmul(x, y),
            Binary::FDiv => self.b.ins().fdiv(x, y),
            Binary::FLt => return compare(FloatCC::LessThan)(self),
            Binary::FLe => return compare(FloatCC::LessThanOrEqual)(self),
            _ => return compare(FloatCC::Equal)(self),
        };
        self.float_bits(r)
    }

    /// A conversion or rounding of a double held as bits.
    fn float_unary(&mut self, op: Unary, x: Value) -> Value {
        match op {
            Unary::FloatOfUnsigned => {
                let f = self.b.ins().fcvt_from_uint(F64, x);
                self.float_bits(f)
            }
            Unary::FloatOfSigned => {
                let f = self.b.ins().fcvt_from_sint(F64, x);
                self.float_bits(f)
            }
            Unary::UnsignedOfFloat => {
                let f = self.as_float(x);
                self.b.ins().fcvt_to_uint_sat(I64, f)
            }
            Unary::SignedOfFloat => {
                let f = self.as_float(x);
                self.b.ins().fcvt_to_sint_sat(I64, f)
            }
            Unary::Floor => {
                let f = self.as_float(x);
                let r = self.b.ins().floor(f);
                self.float_bits(r)
            }
            _ => {
                let f = self.as_float(x);
                let r = self.b.ins().ceil(f);
                self.float_bits(r)
            }
        }
    }

    /// `x / y` or `x % y`, 0 when `y` is 0.
    fn divide(&mut self, rem: bool, x: Value, y: Value) -> Value {
        let by_zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
        let one = self.iconst(1);
        let safe = self.b.ins().select(by_zero, one, y);
        let r = if rem {
            self.b.ins().urem(x, safe)
        } else {
            self.b.ins().udiv(x, safe)
        };
        let zero = self.iconst(0);
        self.b.ins().select(by_zero, zero, r)
    }

    /// `x << y` or `x >> y`, 0 when `y` is 64 or more (which `bound`, the
    /// largest `y` can be, may rule out).
    fn shift(&mut self, left: bool, x: Value, (y, bound): (Value, u64)) -> Value {
        let r = if left {
            self.b.ins().ishl(x, y)
        } else {
            self.b.ins().ushr(x, y)
        };
        if bound < 64 {
            return r;
        }
        let out = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, y, 64);
        let zero = self.iconst(0);
        self.b.ins().select(out, zero, r)
    }

    fn unary(&mut self, op: Unary, x: Value) -> Value {
        let ins = self.b.ins();
        match op {
            Unary::Not => ins.bnot(x),
            Unary::Neg => ins.ineg(x),
            Unary::IsZero => {
                let zero = ins.icmp_imm_s(IntCC::Equal, x, 0);
                self.b.ins().uextend(I64, zero)
            }
            Unary::Popcount => ins.popcnt(x),
            Unary::Clz => ins.clz(x),
            Unary::Ctz => ins.ctz(x),
            Unary::Reverse => ins.bitrev(x),
            Unary::FloatOfUnsigned
            | Unary::FloatOfSigned
            | Unary::UnsignedOfFloat
            | Unary::SignedOfFloat
            | Unary::Floor
            | Unary::Ceil => self.float_unary(op, x),
        }
    }

    /// `op` on `x` and `y`, where `y` is at most `bound`.
    fn binary(&mut self, op: Binary, x: Value, (y, bound): (Value, u64)) -> Value {
        use Binary::*;
        match op {
            Add => self.b.ins().iadd(x, y),
            Sub => self.b.ins().isub(x, y),
            Mul => self.b.ins().imul(x, y),
            MulHigh => self.b.ins().umulhi(x, y),
            Div => self.divide(false, x, y),
            Rem => self.divide(true, x, y),
            And => self.b.ins().band(x, y),
            Or => self.b.ins().bor(x, y),
            Xor => self.b.ins().bxor(x, y),
            Shl => self.shift(true, x, (y, bound)),
            Shr => self.shift(false, x, (y, bound)),
            Rotl => self.b.ins().rotl(x, y),
            Eq => self.compare(IntCC::Equal, x, y),
            Ne => self.compare(IntCC::NotEqual, x, y),
            Lt => self.compare(IntCC::UnsignedLessThan, x, y),
            Le => self.compare(IntCC::UnsignedLessThanOrEqual, x, y),
            Gt => self.compare(IntCC::UnsignedGreaterThan, x, y),
            Ge => self.compare(IntCC::UnsignedGreaterThanOrEqual, x, y),
            FAdd | FSub | FMul | FDiv | FLt | FLe | FEq => self.float(op, x, y),
        }
    }

    /// `x & mask`, for `x` at most `bound`: `x` itself where the mask
    /// clears no bit `x` can have; a zero-extending move for the low 32
    /// bits (an AND with that constant has no immediate form).
    fn and_constant(&mut self, x: Value, bound: u64, (y, mask): (Value, u64)) -> Value {
        let bits = if bound == 0 {
            0
        } else {
            u64::MAX >> bound.leading_zeros()
        };
        if bits & !mask == 0 {
            x
        } else if mask == 0xFFFF_FFFF {
            let low = self.b.ins().ireduce(I32, x);
            self.b.ins().uextend(I64, low)
        } else {
            self.b.ins().band(x, y)
        }
    }

    /// The code of `unit`'s body for the member `at`.
    fn body(&mut self, unit: &Unit, at: At) {
        let read = self.frame.read;
        let insts = unit.body.insts();
        let mut values: Vec<Option<Value>> = vec![None; insts.len()];
        // What each output was set to in this body so far.
        let mut set: Vec<Option<Value>> = vec![None; unit.masks.len()];
        let facts = &unit.facts;
        let bound = |x: crate::lower::Val| facts.bounds[x.0 as usize];
        let known = |x: crate::lower::Val| facts.known[x.0 as usize];
        let mut constant = 0;
        for (j, inst) in insts.iter().enumerate() {
            if matches!(inst, Inst::Const(_)) {
                constant += 1;
            }
            if !facts.live[j] {
                continue;
            }
            // A value decided before the code runs (a constant the same for
            // every member among them).
            if let (Some(c), true) = (facts.known[j], inst.has_value()) {
                values[j] = Some(self.iconst(c));
                continue;
            }
            let v = |x: crate::lower::Val| {
                values[x.0 as usize].expect("a verified body reads computed values")
            };
            let result = match *inst {
                Inst::Const(_) => Some(self.column(&unit.consts[constant - 1], at)),
                Inst::Input(i) => {
                    let column = &unit.ins[read][i as usize];
                    // A registered driver has a slot per parity.
                    let registered = *column != unit.ins[1 - read][i as usize];
                    let known = match at {
                        At::Member(k) => self.known.get(&column.at(k)).copied(),
                        At::Loop(..) => None,
                    };
                    Some(match known {
                        Some(value) => value,
                        None => {
                            let at = self.slot(column, at);
                            if (registered && !self.two) || !self.frame.whole_cycle {
                                self.load_unchanging(at)
                            } else {
                                self.load(at)
                            }
                        }
                    })
                }
                // The value set earlier in this body, or else the one the
                // output holds this cycle: in the parity read (which, at
                // the clock edge, the other parity is a copy of).
                Inst::Output(o) => Some(match set[o as usize] {
                    Some(value) => value,
                    None => {
                        let column = &unit.outs[read][o as usize];
                        let registered = *column != unit.outs[1 - read][o as usize];
                        let at = self.slot(column, at);
                        if registered && !self.two {
                            self.load_unchanging(at)
                        } else {
                            self.load(at)
                        }
                    }
                }),
                Inst::SetOutput(o, x) => {
                    let mask = unit.masks[o as usize];
                    let value = match mask {
                        // Nothing to mask.
                        _ if bound(x) <= mask => v(x),
                        u64::MAX => v(x),
                        // A zero-extending move, not an AND with a constant
                        // that has no immediate form.
                        0xFFFF_FFFF => {
                            let low = self.b.ins().ireduce(I32, v(x));
                            self.b.ins().uextend(I64, low)
                        }
                        mask => self.b.ins().band_imm_s(v(x), mask as i64),
                    };
                    let column = &unit.outs[self.write_parity(unit, j)][o as usize];
                    if let At::Member(k) = at {
                        self.known.insert(column.at(k), value);
                    }
                    if unit.stored[o as usize] {
                        let at = self.slot(column, at);
                        self.store(value, at);
                    }
                    set[o as usize] = Some(value);
                    None
                }
                Inst::Load(s) => {
                    let at = self.state(unit.state[s.0 as usize], at);
                    Some(self.load(at))
                }
                Inst::Store(s, x) => {
                    let at = self.state(unit.state[s.0 as usize], at);
                    self.store(v(x), at);
                    None
                }
                Inst::LoadAt(a, i) => {
                    let index = (v(i), unit.widths[i.0 as usize]);
                    let (address, inside) = self.element(unit.arrays[a.0 as usize], index, at);
                    let word = self.load((address, 0));
                    Some(match inside {
                        Some(inside) => {
                            let zero = self.iconst(0);
                            self.b.ins().select(inside, word, zero)
                        }
                        None => word,
                    })
                }
                Inst::StoreAt(a, i, x) => {
                    let index = (v(i), unit.widths[i.0 as usize]);
                    let (address, _) = self.element(unit.arrays[a.0 as usize], index, at);
                    self.store(v(x), (address, 0));
                    None
                }
                // A truth value (0 or 1) is its own `!= 0`; its `== 0` is
                // its flip.
                Inst::Binary(Binary::Ne, x, y) if known(y) == Some(0) && bound(x) <= 1 => {
                    Some(v(x))
                }
                Inst::Binary(Binary::Eq, x, y) if known(y) == Some(0) && bound(x) <= 1 => {
                    Some(self.b.ins().bxor_imm_s(v(x), 1))
                }
                Inst::Unary(Unary::IsZero, x) if bound(x) <= 1 => {
                    Some(self.b.ins().bxor_imm_s(v(x), 1))
                }
                Inst::Unary(op, x) => Some(self.unary(op, v(x))),
                Inst::Binary(Binary::And, x, y) if known(y).is_some() => {
                    let mask = known(y).unwrap_or(u64::MAX);
                    Some(self.and_constant(v(x), bound(x), (v(y), mask)))
                }
                Inst::Binary(op, x, y) => Some(self.binary(op, v(x), (v(y), bound(y)))),
                Inst::Select(c, x, y) => Some(match (known(c), known(x), known(y)) {
                    (Some(0), ..) => v(y),
                    (Some(_), ..) => v(x),
                    // `c ? 1 : 0` of a truth value is that value.
                    (None, Some(1), Some(0)) if bound(c) <= 1 => v(c),
                    (None, ..) => self.b.ins().select(v(c), v(x), v(y)),
                }),
                Inst::FailIf(c) => {
                    let failed = self.b.create_block();
                    let fine = self.b.create_block();
                    self.b.ins().brif(v(c), failed, &[], fine, &[]);
                    self.b.switch_to_block(failed);
                    let component = self.column(&unit.components, at);
                    let status = self
                        .b
                        .ins()
                        .iadd_imm_s(component, 1 + (self.frame.cycle << 32) as i64);
                    self.b.ins().return_(&[status]);
                    self.b.switch_to_block(fine);
                    None
                }
            };
            values[j] = result;
        }
    }
}
