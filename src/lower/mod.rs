//! Lowering: a small, model-agnostic intermediate form in which a model can
//! describe what one component computes, so that the compiled engine can
//! turn it into machine code (see `engine::native`). A model opts in through
//! [`Model::lower`](crate::Model::lower); the engine and the code generator
//! know no specific model.
//!
//! A [`Lowering`] has two [`Body`]s, one for [`Model::eval`](crate::Model::eval)
//! and one for [`Model::tick`](crate::Model::tick), and the component's own
//! memory: state words and arrays, with their values at the time of lowering
//! (the engine lowers right after reset). A body is straight-line SSA over
//! 64-bit values: each instruction's result is named by its position
//! ([`Val`]), and an operand always names an earlier instruction. There is
//! no control flow; choices are [`Inst::Select`]. The semantics of every
//! instruction are total: no input makes one trap or be undefined.
//!
//! ```
//! use cspsim::lower::{Binary, Lowering};
//! // A counter: q <= rst ? 0 : q + en.
//! let mut l = Lowering::new();
//! let t = &mut l.tick;
//! let (en, rst, q) = (t.input(0), t.input(1), t.output(0));
//! let next = t.binary(Binary::Add, q, en);
//! let zero = t.constant(0);
//! let q2 = t.select(rst, zero, next);
//! t.set_output(0, q2);
//! assert_eq!(l.tick.eval_with(&[1, 0], &[41], &mut []), vec![42]);
//! ```

use std::fmt;
use std::sync::Arc;

use crate::model::Io;

mod check;
mod eval;
pub mod verify;

pub use check::check;
pub use eval::Evaluation;

/// The value an instruction computes: the index of that instruction in its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Val(pub u32);

/// A state word of the component: an index into [`Lowering::state`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StateId(pub u32);

/// A model-owned array: an index into [`Lowering::arrays`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArrayId(pub u32);

/// One-operand operations on 64-bit values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unary {
    /// Bitwise not.
    Not,
    /// Two's complement negation (wrapping).
    Neg,
    /// 1 if the operand is 0, else 0.
    IsZero,
    /// Number of set bits.
    Popcount,
    /// Leading zeros of the 64-bit value (64 for 0).
    Clz,
    /// Trailing zeros (64 for 0).
    Ctz,
    /// The 64 bits in reverse order.
    Reverse,
    /// The double nearest to the unsigned value (as bits, as every float here).
    FloatOfUnsigned,
    /// The double nearest to the two's complement value.
    FloatOfSigned,
    /// A double towards zero as an unsigned value, saturating (NaN gives 0).
    UnsignedOfFloat,
    /// A double towards zero as a two's complement value, saturating (NaN gives 0).
    SignedOfFloat,
    /// A double rounded down.
    Floor,
    /// A double rounded up.
    Ceil,
}

/// Two-operand operations on 64-bit values. Comparisons give 0 or 1;
/// arithmetic wraps. Floating-point operations read and write the bits of
/// an IEEE double (`f64::to_bits`), with no fast-math.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Binary {
    /// `a + b`, wrapping.
    Add,
    /// `a - b`, wrapping.
    Sub,
    /// The low 64 bits of `a * b`.
    Mul,
    /// The high 64 bits of the 128-bit product `a * b`.
    MulHigh,
    /// `a / b`, unsigned; 0 when `b` is 0.
    Div,
    /// `a % b`, unsigned; 0 when `b` is 0.
    Rem,
    /// Bitwise and.
    And,
    /// Bitwise or.
    Or,
    /// Bitwise xor.
    Xor,
    /// `a << b`; 0 when `b >= 64`.
    Shl,
    /// `a >> b`, logical; 0 when `b >= 64`.
    Shr,
    /// `a` rotated left by `b % 64`.
    Rotl,
    /// `a == b`.
    Eq,
    /// `a != b`.
    Ne,
    /// `a < b`, unsigned.
    Lt,
    /// `a <= b`, unsigned.
    Le,
    /// `a > b`, unsigned.
    Gt,
    /// `a >= b`, unsigned.
    Ge,
    /// `a + b` as f64.
    FAdd,
    /// `a - b` as f64.
    FSub,
    /// `a * b` as f64.
    FMul,
    /// `a / b` as f64.
    FDiv,
    /// `a < b` as f64 (0 if either is NaN).
    FLt,
    /// `a <= b` as f64 (0 if either is NaN).
    FLe,
    /// `a == b` as f64 (0 if either is NaN).
    FEq,
}

impl Unary {
    /// The operation on a value.
    #[inline]
    pub fn apply(self, a: u64) -> u64 {
        match self {
            Unary::Not => !a,
            Unary::Neg => a.wrapping_neg(),
            Unary::IsZero => u64::from(a == 0),
            Unary::Popcount => u64::from(a.count_ones()),
            Unary::Clz => u64::from(a.leading_zeros()),
            Unary::Ctz => u64::from(a.trailing_zeros()),
            Unary::Reverse => a.reverse_bits(),
            Unary::FloatOfUnsigned => (a as f64).to_bits(),
            Unary::FloatOfSigned => (a as i64 as f64).to_bits(),
            Unary::UnsignedOfFloat => f64::from_bits(a) as u64,
            Unary::SignedOfFloat => f64::from_bits(a) as i64 as u64,
            Unary::Floor => f64::from_bits(a).floor().to_bits(),
            Unary::Ceil => f64::from_bits(a).ceil().to_bits(),
        }
    }
}

impl Binary {
    /// The operation on two values.
    #[inline]
    pub fn apply(self, a: u64, b: u64) -> u64 {
        let f = f64::from_bits;
        match self {
            Binary::Add => a.wrapping_add(b),
            Binary::Sub => a.wrapping_sub(b),
            Binary::Mul => a.wrapping_mul(b),
            Binary::MulHigh => ((u128::from(a) * u128::from(b)) >> 64) as u64,
            Binary::Div => a.checked_div(b).unwrap_or(0),
            Binary::Rem => a.checked_rem(b).unwrap_or(0),
            Binary::And => a & b,
            Binary::Or => a | b,
            Binary::Xor => a ^ b,
            Binary::Shl => {
                if b >= 64 {
                    0
                } else {
                    a << b
                }
            }
            Binary::Shr => {
                if b >= 64 {
                    0
                } else {
                    a >> b
                }
            }
            Binary::Rotl => a.rotate_left((b % 64) as u32),
            Binary::Eq => u64::from(a == b),
            Binary::Ne => u64::from(a != b),
            Binary::Lt => u64::from(a < b),
            Binary::Le => u64::from(a <= b),
            Binary::Gt => u64::from(a > b),
            Binary::Ge => u64::from(a >= b),
            Binary::FAdd => (f(a) + f(b)).to_bits(),
            Binary::FSub => (f(a) - f(b)).to_bits(),
            Binary::FMul => (f(a) * f(b)).to_bits(),
            Binary::FDiv => (f(a) / f(b)).to_bits(),
            Binary::FLt => u64::from(f(a) < f(b)),
            Binary::FLe => u64::from(f(a) <= f(b)),
            Binary::FEq => u64::from(f(a) == f(b)),
        }
    }
}

/// One instruction. Those that compute a value are named by their index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Inst {
    /// A constant.
    Const(u64),
    /// The value of input port `i` this cycle.
    Input(u32),
    /// The value output `o` holds now: what the component last set (for a
    /// registered output in a tick, its value this cycle; for a
    /// combinational one in a tick, the value its evaluation set).
    Output(u32),
    /// Set output `o`; the engine masks the value to the port's width.
    SetOutput(u32, Val),
    /// Read a state word.
    Load(StateId),
    /// Write a state word.
    Store(StateId, Val),
    /// Element `index` of an array; 0 when `index` is out of range.
    LoadAt(ArrayId, Val),
    /// Write element `index` of an array; nothing when it is out of range.
    StoreAt(ArrayId, Val, Val),
    /// A one-operand operation.
    Unary(Unary, Val),
    /// A two-operand operation.
    Binary(Binary, Val, Val),
    /// `if c != 0 { a } else { b }`.
    Select(Val, Val, Val),
    /// Stop the run, as [`fail`](crate::model::fail) does, if the value is
    /// not 0. The message comes from [`Lowering::failure`]. Everything
    /// after it in the body still runs only if it does not fail.
    FailIf(Val),
}

impl Inst {
    /// The values this instruction reads.
    pub fn operands(&self) -> impl Iterator<Item = Val> {
        let (a, b, c) = match *self {
            Inst::Const(_) | Inst::Input(_) | Inst::Output(_) | Inst::Load(_) => (None, None, None),
            Inst::SetOutput(_, v)
            | Inst::Store(_, v)
            | Inst::LoadAt(_, v)
            | Inst::Unary(_, v)
            | Inst::FailIf(v) => (Some(v), None, None),
            Inst::StoreAt(_, i, v) | Inst::Binary(_, i, v) => (Some(i), Some(v), None),
            Inst::Select(c, a, b) => (Some(c), Some(a), Some(b)),
        };
        [a, b, c].into_iter().flatten()
    }

    /// Whether the instruction computes a value that others may read.
    pub fn has_value(&self) -> bool {
        !matches!(
            self,
            Inst::SetOutput(..) | Inst::Store(..) | Inst::StoreAt(..) | Inst::FailIf(_)
        )
    }
}

/// A straight-line list of instructions: one phase of one component.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Body {
    insts: Vec<Inst>,
}

impl Body {
    /// No instructions.
    pub fn new() -> Self {
        Self::default()
    }

    /// The instructions, in order.
    pub fn insts(&self) -> &[Inst] {
        &self.insts
    }

    /// Whether the body does nothing.
    pub fn is_empty(&self) -> bool {
        self.insts.is_empty()
    }

    /// Append `inst`; the value it computes.
    pub fn push(&mut self, inst: Inst) -> Val {
        self.insts.push(inst);
        Val(self.insts.len() as u32 - 1)
    }

    /// A constant.
    pub fn constant(&mut self, v: u64) -> Val {
        self.push(Inst::Const(v))
    }

    /// Input `i`.
    pub fn input(&mut self, i: usize) -> Val {
        self.push(Inst::Input(i as u32))
    }

    /// The value output `o` holds now.
    pub fn output(&mut self, o: usize) -> Val {
        self.push(Inst::Output(o as u32))
    }

    /// Set output `o` (masked by the engine).
    pub fn set_output(&mut self, o: usize, v: Val) {
        self.push(Inst::SetOutput(o as u32, v));
    }

    /// Read a state word.
    pub fn load(&mut self, s: StateId) -> Val {
        self.push(Inst::Load(s))
    }

    /// Write a state word.
    pub fn store(&mut self, s: StateId, v: Val) {
        self.push(Inst::Store(s, v));
    }

    /// Read element `index` of array `a` (0 out of range).
    pub fn load_at(&mut self, a: ArrayId, index: Val) -> Val {
        self.push(Inst::LoadAt(a, index))
    }

    /// Write element `index` of array `a` (nothing out of range).
    pub fn store_at(&mut self, a: ArrayId, index: Val, v: Val) {
        self.push(Inst::StoreAt(a, index, v));
    }

    /// A one-operand operation.
    pub fn unary(&mut self, op: Unary, a: Val) -> Val {
        self.push(Inst::Unary(op, a))
    }

    /// A two-operand operation.
    pub fn binary(&mut self, op: Binary, a: Val, b: Val) -> Val {
        self.push(Inst::Binary(op, a, b))
    }

    /// A two-operand operation with a constant right operand.
    pub fn binary_const(&mut self, op: Binary, a: Val, b: u64) -> Val {
        let b = self.constant(b);
        self.binary(op, a, b)
    }

    /// `if c != 0 { a } else { b }`.
    pub fn select(&mut self, c: Val, a: Val, b: Val) -> Val {
        self.push(Inst::Select(c, a, b))
    }

    /// Bits `lo .. lo + width` of `a`, shifted down.
    pub fn slice(&mut self, a: Val, lo: u32, width: u32) -> Val {
        let shifted = if lo == 0 {
            a
        } else {
            self.binary_const(Binary::Shr, a, u64::from(lo))
        };
        if width >= 64 {
            shifted
        } else {
            self.binary_const(Binary::And, shifted, crate::value::mask(width))
        }
    }

    /// Stop the run if `cond` is not 0.
    pub fn fail_if(&mut self, cond: Val) {
        self.push(Inst::FailIf(cond));
    }

    /// The constants of the body, in order: what may differ between members
    /// of one shape (see [`Body::shape`]).
    pub fn constants(&self) -> impl Iterator<Item = u64> + '_ {
        self.insts.iter().filter_map(|i| match i {
            Inst::Const(v) => Some(*v),
            _ => None,
        })
    }

    /// Append `other`'s instructions, each of its values renumbered to
    /// follow this body's; the position of its first instruction here.
    pub fn append(&mut self, other: &Body) -> usize {
        let offset = self.insts.len() as u32;
        let at = |v: Val| Val(v.0 + offset);
        self.insts
            .extend(other.insts.iter().map(|inst| match *inst {
                Inst::SetOutput(o, v) => Inst::SetOutput(o, at(v)),
                Inst::Store(s, v) => Inst::Store(s, at(v)),
                Inst::LoadAt(a, i) => Inst::LoadAt(a, at(i)),
                Inst::StoreAt(a, i, v) => Inst::StoreAt(a, at(i), at(v)),
                Inst::Unary(op, v) => Inst::Unary(op, at(v)),
                Inst::Binary(op, x, y) => Inst::Binary(op, at(x), at(y)),
                Inst::Select(c, x, y) => Inst::Select(at(c), at(x), at(y)),
                Inst::FailIf(v) => Inst::FailIf(at(v)),
                other @ (Inst::Const(_) | Inst::Input(_) | Inst::Output(_) | Inst::Load(_)) => {
                    other
                }
            }));
        offset as usize
    }

    /// Replace every instruction by what `f` makes of it.
    pub fn map_insts(&mut self, f: impl Fn(Inst) -> Inst) {
        for inst in &mut self.insts {
            *inst = f(*inst);
        }
    }

    /// Whether the two bodies have one [`shape`](Self::shape), without
    /// making it.
    pub fn same_shape(&self, other: &Body) -> bool {
        self.insts.len() == other.insts.len()
            && self
                .insts
                .iter()
                .zip(&other.insts)
                .all(|(a, b)| match (a, b) {
                    (Inst::Const(_), Inst::Const(_)) => true,
                    (a, b) => a == b,
                })
    }

    /// Feed the body's [`shape`](Self::shape) to `hasher`, without making it.
    pub fn shape_hash(&self, hasher: &mut impl std::hash::Hasher) {
        use std::hash::Hash;
        self.insts.len().hash(hasher);
        for inst in &self.insts {
            match inst {
                Inst::Const(_) => Inst::Const(0).hash(hasher),
                other => other.hash(hasher),
            }
        }
    }

    /// The body with every constant set to 0: bodies of one shape differ in
    /// their constants only, and can run as one loop with the constants as
    /// columns.
    pub fn shape(&self) -> Body {
        Body {
            insts: self
                .insts
                .iter()
                .map(|i| match i {
                    Inst::Const(_) => Inst::Const(0),
                    other => *other,
                })
                .collect(),
        }
    }
}

/// Makes the message of a lowered check that failed, from the component's
/// inputs (as [`Inst::FailIf`] has no text of its own).
pub type FailureText = Arc<dyn Fn(&Io<'_>) -> String + Send + Sync>;

/// What one component computes, for the compiled engine.
#[derive(Clone, Default)]
pub struct Lowering {
    /// The state words, with their current values.
    pub state: Vec<u64>,
    /// The arrays, with their current contents.
    pub arrays: Vec<Vec<u64>>,
    /// [`Model::eval`](crate::Model::eval).
    pub eval: Body,
    /// [`Model::tick`](crate::Model::tick).
    pub tick: Body,
    /// The message of a failed [`Inst::FailIf`].
    pub failure: Option<FailureText>,
}

impl fmt::Debug for Lowering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lowering")
            .field("state", &self.state)
            .field(
                "arrays",
                &self.arrays.iter().map(Vec::len).collect::<Vec<_>>(),
            )
            .field("eval", &self.eval)
            .field("tick", &self.tick)
            .finish()
    }
}

impl Lowering {
    /// Nothing yet: no state, empty bodies.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new state word holding `value`.
    pub fn state_word(&mut self, value: u64) -> StateId {
        self.state.push(value);
        StateId(self.state.len() as u32 - 1)
    }

    /// A new array holding `contents`.
    pub fn array(&mut self, contents: Vec<u64>) -> ArrayId {
        self.arrays.push(contents);
        ArrayId(self.arrays.len() as u32 - 1)
    }

    /// Set the message of a failed check.
    pub fn on_failure(mut self, text: impl Fn(&Io<'_>) -> String + Send + Sync + 'static) -> Self {
        self.failure = Some(Arc::new(text));
        self
    }
}

impl fmt::Display for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, inst) in self.insts.iter().enumerate() {
            let v = |v: &Val| format!("v{}", v.0);
            let text = match inst {
                Inst::Const(c) => format!("const {c:#x}"),
                Inst::Input(i) => format!("input {i}"),
                Inst::Output(o) => format!("output {o}"),
                Inst::SetOutput(o, x) => format!("set output {o} = {}", v(x)),
                Inst::Load(s) => format!("load s{}", s.0),
                Inst::Store(s, x) => format!("store s{} = {}", s.0, v(x)),
                Inst::LoadAt(a, i) => format!("load a{}[{}]", a.0, v(i)),
                Inst::StoreAt(a, i, x) => format!("store a{}[{}] = {}", a.0, v(i), v(x)),
                Inst::Unary(op, x) => format!("{op:?} {}", v(x)),
                Inst::Binary(op, x, y) => format!("{op:?} {}, {}", v(x), v(y)),
                Inst::Select(c, x, y) => format!("select {} ? {} : {}", v(c), v(x), v(y)),
                Inst::FailIf(c) => format!("fail if {}", v(c)),
            };
            if inst.has_value() {
                writeln!(f, "v{k} = {text}")?;
            } else {
                writeln!(f, "      {text}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_total() {
        assert_eq!(Binary::Div.apply(7, 0), 0);
        assert_eq!(Binary::Rem.apply(7, 0), 0);
        assert_eq!(Binary::Shl.apply(1, 64), 0);
        assert_eq!(Binary::Shr.apply(u64::MAX, 200), 0);
        assert_eq!(Binary::Rotl.apply(1, 65), 2);
        assert_eq!(Binary::MulHigh.apply(u64::MAX, 2), 1);
        assert_eq!(Unary::Clz.apply(0), 64);
        assert_eq!(Unary::Ctz.apply(8), 3);
        assert_eq!(
            f64::from_bits(Binary::FMul.apply(2.5f64.to_bits(), 4f64.to_bits())),
            10.0
        );
    }

    #[test]
    fn shapes_ignore_constants_only() {
        let body = |k: u64, op: Binary| {
            let mut b = Body::new();
            let x = b.input(0);
            let y = b.binary_const(op, x, k);
            b.set_output(0, y);
            b
        };
        assert_eq!(body(1, Binary::Add).shape(), body(9, Binary::Add).shape());
        assert_ne!(body(1, Binary::Add).shape(), body(1, Binary::Sub).shape());
        assert_eq!(
            body(9, Binary::Add).constants().collect::<Vec<_>>(),
            vec![9]
        );
        let mut two = body(1, Binary::Add);
        assert_eq!(two.append(&body(2, Binary::Sub)), 4);
        assert_eq!(two.insts()[6], Inst::Binary(Binary::Sub, Val(4), Val(5)));
        assert_eq!(two.insts()[7], Inst::SetOutput(0, Val(6)));
        let text = body(9, Binary::Add).to_string();
        assert!(
            text.contains("v1 = const 0x9") && text.contains("set output 0 = v2"),
            "{text}"
        );
    }
}
