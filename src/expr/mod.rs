//! The expression language of the `expr` and `assert` models: C/Verilog
//! operators over unsigned 64-bit values, parsed and checked once when a
//! circuit is loaded and compiled to a flat stack program, so a cycle costs
//! one pass over a few ops and never touches the text again.
//!
//! - values: decimal, `0x…` hexadecimal, `0b…` binary (`_` separators allowed),
//!   Verilog sized literals (`8'hFF`, `4'b1010`, `12'd100`; signed `8'shF0`,
//!   which is `signed(8'hF0)`), and names
//!   (inputs, constants, earlier outputs);
//! - concatenation `{a, b[3:0], 2'b01}` and replication `{4{x[1:0]}}`
//!   ([`concat`](mod@concat)), of parts whose widths are known, 64 bits at most;
//! - operators, loosest first: `?:`, `||`, `&&`, `|`, `^`, `&`, `== !=`,
//!   `< <= > >=`, `<< >>`, `+ -`, `* / %`, unary `~ ! -`, bit slices `a[7:4]`, `a[0]`;
//! - functions ([`functions`]): `popcount(x)`, `parity(x)`, `clz(x[, w])`,
//!   `ctz(x[, w])` and `reverse(x[, w])` (within the width of a declared
//!   name or slice, or `w`), `min(a, b)`, `max(a, b)`, and `clog2(x)`, the
//!   bits needed to count `x` things, ⌈log₂ x⌉ (Verilog's `$clog2`), handy
//!   for widths in parameter expressions;
//! - signed arithmetic ([`signed`](mod@signed)) on ports declared `signed`
//!   and through `signed(x)`, Verilog's rules: `< <= > >= / % min max abs`
//!   and `>>>` as two's complement when both operands are signed;
//! - reals ([`real`](mod@real)): IEEE doubles in names declared `real`, real
//!   literals (`1.5`, `2e-3`), `+ - * /`, comparisons, `floor`, `ceil`,
//!   `clamp`, and the conversions `real(x)`, `bits(x, w)` and `sbits(x, w)`;
//! - otherwise arithmetic wraps at 64 bits and is unsigned; comparisons and logical
//!   operators give 0 or 1; `x / 0` and `x % 0` give 0; shifting by 64 or
//!   more gives 0. The consumer masks the result to its declared width.
//!
//! ```
//! use cspsim::expr::{Program, Scope};
//! let mut scope = Scope::new();
//! scope.input("a", 8);
//! scope.input("b", 8);
//! scope.constant("LIMIT", 100);
//! let program = Program::compile("a + b > LIMIT ? (a + b)[8:1] : 0", &scope)?;
//! assert_eq!(program.eval(|i| [90, 30][i], &[]), 60);
//! # Ok::<(), cspsim::expr::ExprError>(())
//! ```

use std::ops::Range;

mod arrays;
pub mod columns;
pub mod concat;
pub mod functions;
mod lower;
pub mod parse;
pub mod real;
pub mod signed;

use parse::{BinOp, Node, UnOp};
pub use real::Kind;

/// A mistake in an expression or declaration, with the byte span it is about.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    /// What is wrong.
    pub message: String,
    /// Where, in bytes of the expression text.
    pub span: Range<usize>,
    /// How to fix it, if there is something to say.
    pub hint: Option<String>,
}

impl ExprError {
    /// An error about `span`.
    pub fn new(message: impl Into<String>, span: Range<usize>) -> Self {
        ExprError {
            message: message.into(),
            span,
            hint: None,
        }
    }

    /// Add a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// What a name refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Symbol {
    /// Input number `index`, `width` bits.
    Input {
        /// Position among the inputs.
        index: usize,
        /// Declared width.
        width: u32,
    },
    /// A value computed earlier in the same evaluation (an earlier output).
    Local {
        /// Position among the locals.
        index: usize,
        /// Declared width.
        width: u32,
    },
    /// A fixed value.
    Constant(u64),
}

/// The names an expression may use.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    names: Vec<(String, Symbol)>,
    /// The inputs and locals declared `signed`.
    signed: Vec<String>,
    /// The inputs, locals and constants that are reals.
    reals: Vec<String>,
    /// Input arrays (`in[8]: 4`), by name, with their lengths: their
    /// elements are the inputs `in[0]`, `in[1]`, ….
    arrays: Vec<(String, u32)>,
    inputs: usize,
    locals: usize,
}

impl Scope {
    /// No names.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add the next input.
    pub fn input(&mut self, name: &str, width: u32) -> Symbol {
        let symbol = Symbol::Input {
            index: self.inputs,
            width,
        };
        self.inputs += 1;
        self.names.push((name.to_string(), symbol));
        symbol
    }

    /// Add the next local (a value computed before the expressions that use it).
    pub fn local(&mut self, name: &str, width: u32) -> Symbol {
        let symbol = Symbol::Local {
            index: self.locals,
            width,
        };
        self.locals += 1;
        self.names.push((name.to_string(), symbol));
        symbol
    }

    /// Mark the input or local `name` signed: its value reads as a two's
    /// complement number of its width.
    pub fn mark_signed(&mut self, name: &str) {
        self.signed.push(name.to_string());
    }

    /// Whether `name` is a signed input or local.
    pub fn is_signed(&self, name: &str) -> bool {
        self.signed.iter().any(|n| n == name)
    }

    /// Mark the input, local or constant `name` a real: its value is the
    /// bits of an IEEE double (see [`real`](mod@real)).
    pub fn mark_real(&mut self, name: &str) {
        self.reals.push(name.to_string());
    }

    /// Whether `name` is a real.
    pub fn is_real(&self, name: &str) -> bool {
        self.reals.iter().any(|n| n == name)
    }

    /// Add an input array: `count` inputs of `width` bits, `name[0]` on.
    pub fn input_array(&mut self, name: &str, count: u32, width: u32) {
        for k in 0..count {
            self.input(&format!("{name}[{k}]"), width);
        }
        self.arrays.push((name.to_string(), count));
    }

    /// The length of the input array `name`, if it is one.
    pub fn array_len(&self, name: &str) -> Option<u32> {
        self.arrays.iter().find(|(n, _)| n == name).map(|(_, c)| *c)
    }

    /// Add a named constant.
    pub fn constant(&mut self, name: &str, value: u64) {
        self.names.push((name.to_string(), Symbol::Constant(value)));
    }

    /// What `name` refers to.
    pub fn lookup(&self, name: &str) -> Option<Symbol> {
        self.names.iter().find(|(n, _)| n == name).map(|(_, s)| *s)
    }

    /// Whether `name` is taken.
    pub fn contains(&self, name: &str) -> bool {
        self.lookup(name).is_some() || self.array_len(name).is_some()
    }

    fn unknown(&self, name: &str, span: Range<usize>) -> ExprError {
        let names = self.names.iter().map(|(n, _)| n.as_str());
        let hint = match crate::suggest::closest(name, names.clone()) {
            Some(c) => format!("did you mean `{c}`?"),
            None if self.names.is_empty() => "no names are declared here".to_string(),
            None => format!("known names: {}", names.collect::<Vec<_>>().join(", ")),
        };
        ExprError::new(format!("unknown name `{name}`"), span).hint(hint)
    }
}

/// One step of a compiled expression, on a value stack.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Input(u32),
    Local(u32),
    Const(u64),
    Unary(UnOp),
    Binary(BinOp),
    /// Pops `otherwise`, `then`, `condition`.
    Select,
    /// `(x >> shift) & mask`.
    Slice(u32, u64),
    /// `Binary` whose right operand is an input (one dispatch instead of two).
    BinaryInput(BinOp, u32),
    /// `Binary` whose right operand is a constant.
    BinaryConst(BinOp, u64),
}

/// The deepest value stack a program may need; evaluation keeps it in a
/// fixed array, so no cycle allocates.
pub const MAX_DEPTH: usize = 64;

/// Stack size for the common, shallow expressions.
const SHALLOW: usize = 8;

/// A compiled expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    ops: Vec<Op>,
    /// What it computes.
    kind: Kind,
    /// The most values pending at once.
    depth: usize,
}

/// A subtree's code: a constant (folded) or ops.
enum Code {
    Const(u64),
    Ops(Vec<Op>),
}

impl Code {
    fn into_ops(self) -> Vec<Op> {
        match self {
            Code::Const(v) => vec![Op::Const(v)],
            Code::Ops(ops) => ops,
        }
    }
}

impl Program {
    /// Parse and compile `text` against `scope`.
    pub fn compile(text: &str, scope: &Scope) -> Result<Self, ExprError> {
        Self::from_node(&parse::expression(text)?, scope)
    }

    /// Compile a parsed expression of bits against `scope`.
    pub fn from_node(node: &Node, scope: &Scope) -> Result<Self, ExprError> {
        Self::from_node_as(node, scope, Some(Kind::Bits))
    }

    /// Compile a parsed expression against `scope`: of the kind `want`
    /// (a plain number adapts to it; another kind is an error), or, with
    /// `None`, of whatever kind it has (see [`Program::kind`]).
    pub fn from_node_as(node: &Node, scope: &Scope, want: Option<Kind>) -> Result<Self, ExprError> {
        let node = arrays::expand(node, scope)?;
        let (node, kind) = real::resolve(&node, scope, want)?;
        let ops = fuse(code(&node, scope)?.into_ops());
        let mut depth = 0usize;
        let mut max = 0;
        for op in &ops {
            depth = match op {
                Op::Input(_) | Op::Local(_) | Op::Const(_) => depth + 1,
                Op::Unary(_) | Op::Slice(..) | Op::BinaryInput(..) | Op::BinaryConst(..) => depth,
                Op::Binary(_) => depth - 1,
                Op::Select => depth - 2,
            };
            max = max.max(depth);
        }
        if max > MAX_DEPTH {
            return Err(ExprError::new(
                format!("the expression nests too deeply (more than {MAX_DEPTH} pending values)"),
                0..0,
            )
            .hint("split it into several outputs: later outputs can use earlier ones"));
        }
        Ok(Program {
            ops,
            kind,
            depth: max,
        })
    }

    /// What the expression computes: bits, or the bits of a double.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The value, if the expression does not depend on any input or local.
    pub fn constant(&self) -> Option<u64> {
        match self.ops.as_slice() {
            [Op::Const(v)] => Some(*v),
            _ => None,
        }
    }

    /// Whether the expression reads input `index`.
    pub fn reads_input(&self, index: usize) -> bool {
        let index = index as u32;
        self.ops
            .iter()
            .any(|op| matches!(*op, Op::Input(i) | Op::BinaryInput(_, i) if i == index))
    }

    /// Whether the expression reads local `index`.
    pub fn reads_local(&self, index: usize) -> bool {
        self.ops.contains(&Op::Local(index as u32))
    }

    /// Evaluate with inputs from `input` and earlier results in `locals`.
    #[inline]
    pub fn eval(&self, input: impl Fn(usize) -> u64, locals: &[u64]) -> u64 {
        // Most expressions need a few slots: a small stack costs less to clear.
        if self.depth <= SHALLOW {
            self.run::<SHALLOW>(input, locals)
        } else {
            self.run::<MAX_DEPTH>(input, locals)
        }
    }

    #[inline(always)]
    fn run<const N: usize>(&self, input: impl Fn(usize) -> u64, locals: &[u64]) -> u64 {
        let mut stack = [0u64; N];
        // `top` is the index of the topmost value plus one.
        let mut top = 0usize;
        for op in &self.ops {
            match *op {
                Op::Input(i) => {
                    stack[top] = input(i as usize);
                    top += 1;
                }
                Op::Local(i) => {
                    stack[top] = locals[i as usize];
                    top += 1;
                }
                Op::Const(v) => {
                    stack[top] = v;
                    top += 1;
                }
                Op::Unary(u) => stack[top - 1] = u.apply(stack[top - 1]),
                Op::Slice(shift, mask) => stack[top - 1] = (stack[top - 1] >> shift) & mask,
                Op::BinaryInput(b, i) => {
                    stack[top - 1] = b.apply(stack[top - 1], input(i as usize))
                }
                Op::BinaryConst(b, v) => stack[top - 1] = b.apply(stack[top - 1], v),
                Op::Binary(b) => {
                    top -= 1;
                    stack[top - 1] = b.apply(stack[top - 1], stack[top]);
                }
                Op::Select => {
                    top -= 2;
                    let (then, otherwise) = (stack[top], stack[top + 1]);
                    stack[top - 1] = if stack[top - 1] != 0 { then } else { otherwise };
                }
            }
        }
        stack[0]
    }
}

/// Fuse a binary operator with a right operand that is a single input or
/// constant: in postfix order such a leaf right before the operator is
/// exactly its right operand.
fn fuse(ops: Vec<Op>) -> Vec<Op> {
    let mut out: Vec<Op> = Vec::with_capacity(ops.len());
    for op in ops {
        match (op, out.last()) {
            (Op::Binary(b), Some(&Op::Input(i))) if out.len() >= 2 => {
                out.pop();
                out.push(Op::BinaryInput(b, i));
            }
            (Op::Binary(b), Some(&Op::Const(v))) if out.len() >= 2 => {
                out.pop();
                out.push(Op::BinaryConst(b, v));
            }
            (op, _) => out.push(op),
        }
    }
    out
}

fn code(node: &Node, scope: &Scope) -> Result<Code, ExprError> {
    Ok(match node {
        Node::Num(v) | Node::Sized(v, _) => Code::Const(*v),
        Node::Real(v) => Code::Const(v.to_bits()),
        Node::Concat(parts, span) => code(&concat::concat(parts, span, scope)?, scope)?,
        Node::Repeat(count, parts, span) => {
            code(&concat::repeat(count, parts, span, scope)?, scope)?
        }
        Node::Name(name, span) => match scope.lookup(name) {
            // A signed name's value is sign-extended as it is read.
            Some(Symbol::Input { index, width }) if scope.is_signed(name) => Code::Ops(vec![
                Op::Input(index as u32),
                Op::Unary(UnOp::SignExtend(width as u8)),
            ]),
            Some(Symbol::Local { index, width }) if scope.is_signed(name) => Code::Ops(vec![
                Op::Local(index as u32),
                Op::Unary(UnOp::SignExtend(width as u8)),
            ]),
            Some(Symbol::Input { index, .. }) => Code::Ops(vec![Op::Input(index as u32)]),
            Some(Symbol::Local { index, .. }) => Code::Ops(vec![Op::Local(index as u32)]),
            Some(Symbol::Constant(v)) => Code::Const(v),
            None => return Err(scope.unknown(name, span.clone())),
        },
        Node::Unary(op, a) => unary(*op, a, scope)?,
        Node::Binary(op, a, b) => binary(*op, a, b, scope)?,
        Node::Call(func, args, span) => {
            let constant = |n: &Node| match code(n, scope)? {
                Code::Const(v) => Ok(Some(v)),
                Code::Ops(_) => Ok(None),
            };
            match functions::call(*func, args, span, scope, constant)? {
                functions::Lowered::Unary(op, a) => unary(op, a, scope)?,
                functions::Lowered::Binary(op, a, b) => binary(op, a, b, scope)?,
                functions::Lowered::Same(a) => code(a, scope)?,
                functions::Lowered::Masked(a, mask) => match code(a, scope)? {
                    Code::Const(v) => Code::Const(v & mask),
                    Code::Ops(mut ops) => {
                        ops.push(Op::BinaryConst(BinOp::And, mask));
                        Code::Ops(ops)
                    }
                },
            }
        }
        Node::Cond(c, a, b) => {
            // A signed branch beside an unsigned one counts by its bits.
            let branch = |n: &Node| match signed::mixed(a, b, scope) {
                true => bits(n, scope),
                false => code(n, scope),
            };
            match code(c, scope)? {
                Code::Const(v) => branch(if v != 0 { a } else { b })?,
                Code::Ops(mut ops) => {
                    ops.extend(branch(a)?.into_ops());
                    ops.extend(branch(b)?.into_ops());
                    ops.push(Op::Select);
                    Code::Ops(ops)
                }
            }
        }
        Node::Slice(a, hi, lo, span) => {
            // Parsing lets indices past 63 through, for input arrays.
            if *hi >= 64 {
                return Err(ExprError::new(
                    format!("bit {hi} is beyond bit 63"),
                    span.clone(),
                ));
            }
            if let Node::Name(name, _) = &**a {
                if let Some(Symbol::Input { width, .. } | Symbol::Local { width, .. }) =
                    scope.lookup(name)
                {
                    if *hi >= width {
                        return Err(ExprError::new(
                            format!(
                                "`{name}` has {width} bits (0..={}), so bit {hi} does not exist",
                                width - 1
                            ),
                            span.clone(),
                        ));
                    }
                }
            }
            let mask = crate::value::mask(hi - lo + 1);
            match code(a, scope)? {
                Code::Const(v) => Code::Const((v >> lo) & mask),
                Code::Ops(mut ops) => {
                    ops.push(Op::Slice(*lo, mask));
                    Code::Ops(ops)
                }
            }
        }
    })
}

fn unary(op: UnOp, a: &Node, scope: &Scope) -> Result<Code, ExprError> {
    // Operators that count bits see a signed value's declared bits.
    let counts_bits = !matches!(
        op,
        UnOp::Neg | UnOp::Not | UnOp::LogNot | UnOp::Abs | UnOp::SignExtend(_) | UnOp::RealOfSigned
    );
    let a = if counts_bits {
        bits(a, scope)?
    } else {
        code(a, scope)?
    };
    Ok(match a {
        Code::Const(v) => Code::Const(op.apply(v)),
        Code::Ops(mut ops) => {
            ops.push(Op::Unary(op));
            Code::Ops(ops)
        }
    })
}

fn binary(op: BinOp, a: &Node, b: &Node, scope: &Scope) -> Result<Code, ExprError> {
    let op = signed::choose(op, a, b, scope);
    // Mixed with an unsigned operand (or shifted logically), a signed one
    // counts by its declared bits, as in Verilog.
    let (a, b) = if signed::mixed(a, b, scope) {
        (bits(a, scope)?, bits(b, scope)?)
    } else if op == BinOp::Shr {
        (bits(a, scope)?, code(b, scope)?)
    } else {
        (code(a, scope)?, code(b, scope)?)
    };
    Ok(match (a, b) {
        (Code::Const(x), Code::Const(y)) => Code::Const(op.apply(x, y)),
        (a, b) => {
            let mut ops = a.into_ops();
            ops.extend(b.into_ops());
            ops.push(Op::Binary(op));
            Code::Ops(ops)
        }
    })
}

/// `node`'s code; a signed value of known width, masked to its bits.
fn bits(node: &Node, scope: &Scope) -> Result<Code, ExprError> {
    let width = match signed::is_signed(node, scope) {
        true => concat::width_of(node, scope),
        false => None,
    };
    Ok(match (code(node, scope)?, width) {
        (code, None | Some(64)) => code,
        (Code::Const(v), Some(w)) => Code::Const(v & crate::value::mask(w)),
        (Code::Ops(mut ops), Some(w)) => {
            ops.push(Op::BinaryConst(BinOp::And, crate::value::mask(w)));
            Code::Ops(ops)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        let mut s = Scope::new();
        s.input("a", 8);
        s.input("b", 8);
        s.local("sum", 9);
        s.constant("K", 3);
        s
    }

    fn run(text: &str, a: u64, b: u64, sum: u64) -> u64 {
        let p = Program::compile(text, &scope()).unwrap();
        p.eval(|i| [a, b][i], &[sum])
    }

    #[test]
    fn evaluates_every_operator() {
        let cases: &[(&str, u64)] = &[
            ("a + b", 30),
            ("a - b", 5u64.wrapping_sub(25)),
            ("a * b", 125),
            ("b / a", 5),
            ("b % 7", 4),
            ("a / 0", 0),
            ("a % 0", 0),
            ("a << 2", 20),
            ("b >> 1", 12),
            ("a << 64", 0),
            ("a < b", 1),
            ("a <= 5", 1),
            ("a > b", 0),
            ("b >= 26", 0),
            ("a == 5", 1),
            ("a != 5", 0),
            ("a & b", 5 & 25),
            ("a | b", 5 | 25),
            ("a ^ b", 5 ^ 25),
            ("a && 0", 0),
            ("a || 0", 1),
            ("~a & 0xff", 0xfa),
            ("!a", 0),
            ("-a", 5u64.wrapping_neg()),
            ("a > K ? b : a", 25),
            ("b[4:3]", 3),
            ("b[0]", 1),
            ("(a + b)[4:1]", 15),
            ("sum + K", 103),
            ("1 + 2 * 3 == 7 && (a | 2) == 7", 1),
            ("popcount(b)", 3),
            ("parity(b)", 1),
            ("parity(b ^ 1)", 0),
            ("clz(a)", 5),
            ("clz(sum)", 2),
            ("clz(a + b, 6)", 1),
            ("clz(a - a, 8)", 8),
            ("ctz(sum)", 2),
            ("ctz(a - a, 8)", 8),
            ("ctz(b[4:1])", 2),
            ("reverse(a)", 160),
            ("reverse(b[4:0])", 19),
            ("reverse(reverse(a))", 5),
            ("reverse(a, 3)", 5),
            ("min(a, b)", 5),
            ("max(a, b)", 25),
            ("max(a, K) + min(K, 2)", 7),
            ("8'hFF", 255),
            ("4'b1010 + 1", 11),
            ("12'd1_00", 100),
            ("3'o7", 7),
            ("{a, b}", (5 << 8) | 25),
            ("{b[4:0], 3'b101}", (25 << 3) | 5),
            ("{2{a[3:0]}}", 0x55),
            ("{3{2'b10}}", 0b10_1010),
            ("{sum, a}", (100 << 8) | 5),
            ("clz({a, b})", 5),
            ("{K{a[0]}}", 7),
            ("{1'b1, {a, b}}[16]", 1),
        ];
        for (text, want) in cases {
            assert_eq!(run(text, 5, 25, 100), *want, "{text}");
        }
    }

    #[test]
    fn signed_operands_compare_divide_and_shift_as_twos_complement() {
        let mut s = Scope::new();
        s.input("x", 8);
        s.mark_signed("x");
        s.input("u", 8);
        s.input("y", 8);
        s.mark_signed("y");
        let neg = |v: i64| v as u64;
        let cases: &[(&str, u64)] = &[
            ("x < 0", 1),
            ("u < 0", 0),
            ("x < y", 1),
            ("x > y", 0),
            ("x <= -16", 1),
            ("x >= y", 0),
            ("x / y", neg(-5)),
            ("x % y", neg(-1)),
            ("x >>> 2", neg(-4)),
            ("x >>> 70", neg(-1)),
            ("y >>> 1", 1),
            ("u >>> 2", 60),
            ("abs(x)", 16),
            ("abs(u)", 240),
            ("min(x, y)", neg(-16)),
            ("max(x, y)", 3),
            ("max(u, y)", 240),
            ("signed(u) < 0", 1),
            ("signed(u, 4)", 0),
            ("$signed(u) / 4", neg(-4)),
            ("x + 1 < 0", 1),
            ("x + u < 0", 0),
            ("-x > 0", 1),
            ("unsigned(x)", 240),
            ("unsigned(x) >> 2", 60),
            ("x == -16", 1),
            ("(x < 0 ? x : y) < 0", 1),
            ("y > -1", 1),
            ("u > -1", 0),
            ("x == 8'hF0", 1),
            ("x == -16", 1),
            ("x > u", 0),
            ("x == u", 1),
            ("max(x, u)", 240),
            ("popcount(x)", 4),
            ("clz(x)", 0),
            ("x >> 2", 60),
            ("(u > 0 ? x : u)", 240),
            ("(u > 0 ? x : y) < 0", 1),
            ("{x, 4'd1}", 0xF01),
            // Signed sized literals are their bits read as two's complement.
            ("x == 8'shF0", 1),
            ("x < 8'sd0", 1),
            ("y > 8'sh_FF", 1),
            ("u < 8'shFF", 1), // mixed: unsigned, by its bits
            ("8'sd5 > 8'shF0", 1),
            ("8'd5 > 8'hF0", 0),
            ("4'sb1000 < 0", 1),
            ("x / 8'sd4", neg(-4)),
            ("{8'sd1, 4'd2}", 0x12),
            ("{2{4'sb1111}}", 0xFF),
        ];
        for (text, want) in cases {
            let p = Program::compile(text, &s).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(p.eval(|i| [0xf0, 0xf0, 3][i], &[]), *want, "{text}");
        }
        let d = parse::declaration("x: signed 8", parse::Shape::Port).unwrap();
        assert!(d.signed && d.width == 8);
        assert!(
            !parse::declaration("x: 8", parse::Shape::Port)
                .unwrap()
                .signed
        );
    }

    #[test]
    fn function_misuse_is_a_located_error_with_a_hint() {
        let err = |text: &str| Program::compile(text, &scope()).unwrap_err();
        let e = err("popcnt(a) + 1");
        assert_eq!(
            (e.message.as_str(), e.span.clone()),
            ("unknown function `popcnt`", 0..6)
        );
        assert!(e
            .hint
            .unwrap()
            .starts_with("did you mean `popcount`? the functions: clog2(x), popcount(x)"));
        let e = err("1 + clz(a + b)");
        assert_eq!(e.message, "clz(x[, width]) needs the width of its argument");
        assert_eq!(e.span, 4..14);
        assert!(e.hint.unwrap().contains("x[11:0]"));
        assert_eq!(
            err("clz(a, b)").message,
            "the width of clz(x[, width]) must be a constant"
        );
        assert_eq!(err("ctz(a, 65)").message, "width 65 is not in 1..=64");
        assert_eq!(err("reverse(a, 0)").message, "width 0 is not in 1..=64");
        assert_eq!(
            err("min(a)").message,
            "min(a, b) takes two arguments, not 1"
        );
        assert_eq!(
            err("popcount(a, b)").message,
            "popcount(x) takes one argument, not 2"
        );
        assert_eq!(
            err("max(a, b, 1)").message,
            "max(a, b) takes two arguments, not 3"
        );
        assert!(err("min(a b)").message.starts_with("expected `,` or `)`"));
        // Constants fold through functions, as through operators.
        let p = Program::compile("popcount(K) + max(K, 7) + clz(K, 4)", &scope()).unwrap();
        assert_eq!(p.constant(), Some(2 + 7 + 2));
    }

    #[test]
    fn sized_literals_and_concatenations_are_checked_where_written() {
        let err = |text: &str| Program::compile(text, &scope()).unwrap_err();
        let e = err("a + 8'h1FF");
        assert_eq!(
            (e.message.as_str(), e.span.clone()),
            ("`8'h1FF` does not fit in 8 bits", 4..10)
        );
        assert_eq!(err("65'd1").message, "width 65 is not in 1..=64");
        assert_eq!(
            err("8'x1").message,
            "a sized literal needs a base after `'`"
        );
        assert_eq!(err("4'b102").message, "`4'b102` is not a number");
        let e = err("a + 8'sh1FF");
        assert_eq!(
            (e.message.as_str(), e.span.clone()),
            ("`8'sh1FF` does not fit in 8 bits", 4..11)
        );
        assert_eq!(
            err("8'sx1").message,
            "a sized literal needs a base after `'`"
        );
        let e = err("a + {a, 5}");
        assert_eq!(
            (e.message.as_str(), e.span.clone()),
            ("a part of `{…}` has no width", 4..10)
        );
        assert!(e.hint.unwrap().contains("4'd9"));
        assert_eq!(
            err("{a, a, a, a, a, a, a, a, a}").message,
            "`{…}` is 72 bits wide or more, past 64"
        );
        assert_eq!(
            err("{0{a}}").message,
            "a replication count of 0 is not in 1..=64"
        );
        assert_eq!(
            err("{b{a}}").message,
            "the count of `{n{…}}` must be a number or a constant"
        );
        assert!(err("{a, b").message.starts_with("expected `,` or `}`"));
    }

    #[test]
    fn constant_subtrees_fold_at_compile_time() {
        let p = Program::compile("K * 2 + (1 ? 4 : a)", &scope()).unwrap();
        assert_eq!(p.constant(), Some(10));
        let p = Program::compile("a + (K << 4)", &scope()).unwrap();
        assert_eq!(p.ops, vec![Op::Input(0), Op::BinaryConst(BinOp::Add, 48)]);
        assert!(p.reads_input(0) && !p.reads_input(1));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        // Right-nested: every level leaves two values pending on the stack.
        let chain = |n: usize| {
            (0..n).fold(String::from("a"), |rest, k| {
                format!("b == {k} ? {k} : ({rest})")
            })
        };
        let ok = Program::compile(&chain(10), &scope()).unwrap();
        assert_eq!(ok.eval(|i| [5, 7][i], &[]), 7);
        assert_eq!(ok.eval(|i| [5, 70][i], &[]), 5);
        let e = Program::compile(&chain(40), &scope()).unwrap_err();
        assert!(e.message.contains("nests too deeply"), "{e}");
    }

    #[test]
    fn names_are_resolved_and_slices_checked_against_widths() {
        let e = Program::compile("a + sun", &scope()).unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.span.clone()),
            ("unknown name `sun`", 4..7)
        );
        assert_eq!(e.hint.as_deref(), Some("did you mean `sum`?"));
        let e = Program::compile("a[8]", &scope()).unwrap_err();
        assert_eq!(e.span, 1..4);
        assert!(e.message.contains("has 8 bits"));
        assert!(Program::compile("sum[8]", &scope()).is_ok());
    }
}
