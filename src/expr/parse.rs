//! Text to syntax tree: a lexer and a precedence-climbing parser for the
//! expression language, plus the `name: width` and `name: width = expr`
//! declarations the `expr` and `assert` models take. Every error carries the
//! byte span it is about, so the loader can point into the circuit file.

use std::ops::Range;

use super::functions::Func;
use super::ExprError;

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `*`
    Mul,
    /// `/` (by zero gives 0)
    Div,
    /// `%` (by zero gives 0)
    Rem,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `<<` (64 or more gives 0)
    Shl,
    /// `>>` (64 or more gives 0)
    Shr,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `&`
    And,
    /// `^`
    Xor,
    /// `|`
    Or,
    /// `&&`
    LogAnd,
    /// `||`
    LogOr,
    /// `min(a, b)` (a function, not an infix operator)
    Min,
    /// `max(a, b)` (a function, not an infix operator)
    Max,
    /// `>>>`: arithmetic shift right (of a signed left operand; of an
    /// unsigned one it is `>>`, as in Verilog)
    Sar,
    /// `<` of two signed operands
    SLt,
    /// `<=` of two signed operands
    SLe,
    /// `>` of two signed operands
    SGt,
    /// `>=` of two signed operands
    SGe,
    /// `/` of two signed operands (towards zero; by zero gives 0)
    SDiv,
    /// `%` of two signed operands (the sign of the dividend; by zero gives 0)
    SRem,
    /// `min` of two signed operands
    SMin,
    /// `max` of two signed operands
    SMax,
    /// `+` of two reals (see [`real`](super::real) for these `F…` operators)
    FAdd,
    /// `-` of two reals
    FSub,
    /// `*` of two reals
    FMul,
    /// `/` of two reals
    FDiv,
    /// `<` of two reals (false if either is NaN, as all but `!=`)
    FLt,
    /// `<=` of two reals
    FLe,
    /// `>` of two reals
    FGt,
    /// `>=` of two reals
    FGe,
    /// `==` of two reals
    FEq,
    /// `!=` of two reals (true if either is NaN)
    FNe,
    /// `min` of two reals: `a < b ? a : b`
    FMin,
    /// `max` of two reals: `a > b ? a : b`
    FMax,
}

impl BinOp {
    /// Apply to two 64-bit operands (wrapping, unsigned).
    #[inline]
    pub fn apply(self, a: u64, b: u64) -> u64 {
        let f = f64::from_bits;
        match self {
            BinOp::Mul => a.wrapping_mul(b),
            BinOp::Div => a.checked_div(b).unwrap_or(0),
            BinOp::Rem => a.checked_rem(b).unwrap_or(0),
            BinOp::Add => a.wrapping_add(b),
            BinOp::Sub => a.wrapping_sub(b),
            BinOp::Shl => u32::try_from(b)
                .ok()
                .and_then(|s| a.checked_shl(s))
                .unwrap_or(0),
            BinOp::Shr => u32::try_from(b)
                .ok()
                .and_then(|s| a.checked_shr(s))
                .unwrap_or(0),
            BinOp::Lt => u64::from(a < b),
            BinOp::Le => u64::from(a <= b),
            BinOp::Gt => u64::from(a > b),
            BinOp::Ge => u64::from(a >= b),
            BinOp::Eq => u64::from(a == b),
            BinOp::Ne => u64::from(a != b),
            BinOp::And => a & b,
            BinOp::Xor => a ^ b,
            BinOp::Or => a | b,
            BinOp::LogAnd => u64::from(a != 0 && b != 0),
            BinOp::LogOr => u64::from(a != 0 || b != 0),
            BinOp::Min => a.min(b),
            BinOp::Max => a.max(b),
            BinOp::Sar => (a as i64 >> b.min(63)) as u64,
            BinOp::SLt => u64::from((a as i64) < b as i64),
            BinOp::SLe => u64::from((a as i64) <= b as i64),
            BinOp::SGt => u64::from((a as i64) > b as i64),
            BinOp::SGe => u64::from((a as i64) >= b as i64),
            BinOp::SDiv => match b {
                0 => 0,
                _ => (a as i64).wrapping_div(b as i64) as u64,
            },
            BinOp::SRem => match b {
                0 => 0,
                _ => (a as i64).wrapping_rem(b as i64) as u64,
            },
            BinOp::SMin => (a as i64).min(b as i64) as u64,
            BinOp::SMax => (a as i64).max(b as i64) as u64,
            BinOp::FAdd => (f(a) + f(b)).to_bits(),
            BinOp::FSub => (f(a) - f(b)).to_bits(),
            BinOp::FMul => (f(a) * f(b)).to_bits(),
            BinOp::FDiv => (f(a) / f(b)).to_bits(),
            BinOp::FLt => u64::from(f(a) < f(b)),
            BinOp::FLe => u64::from(f(a) <= f(b)),
            BinOp::FGt => u64::from(f(a) > f(b)),
            BinOp::FGe => u64::from(f(a) >= f(b)),
            BinOp::FEq => u64::from(f(a) == f(b)),
            BinOp::FNe => u64::from(f(a) != f(b)),
            BinOp::FMin => match f(a) < f(b) {
                true => a,
                false => b,
            },
            BinOp::FMax => match f(a) > f(b) {
                true => a,
                false => b,
            },
        }
    }

    /// Binding power (higher binds tighter), as in C and Verilog.
    fn power(self) -> u8 {
        match self {
            BinOp::LogOr => 2,
            BinOp::LogAnd => 3,
            BinOp::Or => 4,
            BinOp::Xor => 5,
            BinOp::And => 6,
            BinOp::Eq | BinOp::Ne => 7,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 8,
            BinOp::Shl | BinOp::Shr | BinOp::Sar => 9,
            BinOp::Add | BinOp::Sub => 10,
            BinOp::Mul | BinOp::Div | BinOp::Rem => 11,
            // Written as calls, or chosen by the compiler for signed
            // operands: never met between operands when parsing.
            BinOp::Min
            | BinOp::Max
            | BinOp::SLt
            | BinOp::SLe
            | BinOp::SGt
            | BinOp::SGe
            | BinOp::SDiv
            | BinOp::SRem
            | BinOp::SMin
            | BinOp::SMax
            | BinOp::FAdd
            | BinOp::FSub
            | BinOp::FMul
            | BinOp::FDiv
            | BinOp::FLt
            | BinOp::FLe
            | BinOp::FGt
            | BinOp::FGe
            | BinOp::FEq
            | BinOp::FNe
            | BinOp::FMin
            | BinOp::FMax => 0,
        }
    }
}

/// A unary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `~`, bitwise not (then masked by whatever consumes it).
    Not,
    /// `!`, 1 if zero else 0.
    LogNot,
    /// `-`, two's complement.
    Neg,
    /// `clog2(x)`: the bits needed to count `x` things, ⌈log₂ x⌉ (0 for 0 and 1),
    /// as Verilog's `$clog2`.
    Clog2,
    /// `popcount(x)`: the bits set.
    Popcount,
    /// `parity(x)`: 1 if an odd number of bits is set.
    Parity,
    /// `clz(x, w)`: the leading zeros of the low `w` bits (`w` for 0).
    Clz(u8),
    /// `ctz(x, w)`: the trailing zeros of the low `w` bits (`w` for 0).
    Ctz(u8),
    /// `reverse(x, w)`: the low `w` bits in reverse order.
    Reverse(u8),
    /// `signed(x, w)`: the low `w` bits as a two's complement number, sign-extended.
    SignExtend(u8),
    /// `abs(x)` of a signed `x` (of an unsigned one, `x` itself).
    Abs,
    /// `real(x)` of an unsigned `x`: the nearest double.
    RealOfUnsigned,
    /// `real(x)` of a signed `x`: the nearest double.
    RealOfSigned,
    /// `bits(x, w)`: the real `x` towards zero, saturated to `0..2^w`
    /// (NaN gives 0).
    BitsOfReal(u8),
    /// `sbits(x, w)`: the real `x` towards zero, saturated to the `w`-bit
    /// two's complement range and sign-extended (NaN gives 0).
    SignedBitsOfReal(u8),
    /// `floor(x)` of a real.
    Floor,
    /// `ceil(x)` of a real.
    Ceil,
}

impl UnOp {
    /// Apply to a 64-bit operand.
    #[inline]
    pub fn apply(self, a: u64) -> u64 {
        match self {
            UnOp::Not => !a,
            UnOp::LogNot => u64::from(a == 0),
            UnOp::Neg => a.wrapping_neg(),
            UnOp::Clog2 => u64::from(64 - a.saturating_sub(1).leading_zeros()),
            UnOp::Popcount => u64::from(a.count_ones()),
            UnOp::Parity => u64::from(a.count_ones() & 1),
            UnOp::Clz(w) => {
                u64::from((a & crate::value::mask(u32::from(w))).leading_zeros())
                    - (64 - u64::from(w))
            }
            UnOp::Ctz(w) => match a & crate::value::mask(u32::from(w)) {
                0 => u64::from(w),
                x => u64::from(x.trailing_zeros()),
            },
            UnOp::Reverse(w) => a.reverse_bits() >> (64 - u32::from(w)),
            UnOp::SignExtend(w) => {
                let m = 1u64 << (w - 1);
                ((a & crate::value::mask(u32::from(w))) ^ m).wrapping_sub(m)
            }
            UnOp::Abs => (a as i64).wrapping_abs() as u64,
            UnOp::RealOfUnsigned => (a as f64).to_bits(),
            UnOp::RealOfSigned => (a as i64 as f64).to_bits(),
            UnOp::BitsOfReal(w) => (f64::from_bits(a) as u64).min(crate::value::mask(u32::from(w))),
            UnOp::SignedBitsOfReal(w) => {
                let shift = 64 - u32::from(w);
                (f64::from_bits(a) as i64).clamp(i64::MIN >> shift, i64::MAX >> shift) as u64
            }
            UnOp::Floor => f64::from_bits(a).floor().to_bits(),
            UnOp::Ceil => f64::from_bits(a).ceil().to_bits(),
        }
    }
}

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// A literal.
    Num(u64),
    /// A real literal, `1.5` or `2e-3`.
    Real(f64),
    /// A name, with where it is written.
    Name(String, Range<usize>),
    /// `op a`.
    Unary(UnOp, Box<Node>),
    /// `a op b`.
    Binary(BinOp, Box<Node>, Box<Node>),
    /// `c ? a : b`.
    Cond(Box<Node>, Box<Node>, Box<Node>),
    /// `a[hi:lo]` or `a[bit]`; the span covers the brackets.
    Slice(Box<Node>, u32, u32, Range<usize>),
    /// `f(a, …)`; the span covers the name and the parentheses.
    Call(Func, Vec<Node>, Range<usize>),
    /// A sized literal, `8'hFF`: value and width.
    Sized(u64, u32),
    /// `{a, b, …}`, the first part the most significant; the span covers the braces.
    Concat(Vec<Node>, Range<usize>),
    /// `{n{a, …}}`: the parts `n` times.
    Repeat(Box<Node>, Vec<Node>, Range<usize>),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(u64),
    Real(f64),
    /// A sized literal: value, width, and whether it is signed (`8'sd5`).
    Sized(u64, u32, bool),
    Ident(String),
    Sym(&'static str),
    End,
}

/// Longest symbols first, so `<<` wins over `<`.
const SYMBOLS: [&str; 31] = [
    ">>>", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+", "-", "*", "/", "%", "&", "|", "^",
    "~", "!", "<", ">", "?", ":", "(", ")", "[", "]", "=", ",", "{", "}",
];

fn lex(text: &str) -> Result<Vec<(Tok, Range<usize>)>, ExprError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if let Some((value, end)) = real(text, i) {
            tokens.push((Tok::Real(value), i..end));
            i = end;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            if bytes.get(i) == Some(&b'\'') {
                let (tok, end) = sized(text, start, i)?;
                tokens.push((tok, start..end));
                i = end;
                continue;
            }
            let value = number(&text[start..i]).ok_or_else(|| {
                ExprError::new(format!("`{}` is not a number", &text[start..i]), start..i)
                    .hint("numbers are decimal, 0x… hexadecimal or 0b… binary, up to 64 bits")
            })?;
            tokens.push((Tok::Num(value), start..i));
        } else if c.is_ascii_alphabetic()
            || c == b'_'
            || (c == b'$' && bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic))
        {
            let start = i;
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            tokens.push((Tok::Ident(text[start..i].to_string()), start..i));
        } else if let Some(sym) = SYMBOLS.iter().find(|s| text[i..].starts_with(**s)) {
            tokens.push((Tok::Sym(sym), i..i + sym.len()));
            i += sym.len();
        } else {
            let ch = text[i..].chars().next().unwrap_or('?');
            return Err(ExprError::new(
                format!("unexpected character `{ch}`"),
                i..i + ch.len_utf8(),
            ));
        }
    }
    tokens.push((Tok::End, text.len()..text.len()));
    Ok(tokens)
}

/// A real literal at `start`: decimal digits with a fraction (`1.5`), an
/// exponent (`2e-3`) or both, and where it ends; `None` if there is none.
fn real(text: &str, start: usize) -> Option<(f64, usize)> {
    let bytes = text.as_bytes();
    let digits = |mut i: usize| {
        let from = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || (i > from && bytes[i] == b'_')) {
            i += 1;
        }
        (i > from).then_some(i)
    };
    let mut end = digits(start)?;
    let mut is_real = false;
    if bytes.get(end) == Some(&b'.') {
        end = digits(end + 1)?;
        is_real = true;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
        if let Some(e) = digits(end + 1 + sign) {
            end = e;
            is_real = true;
        }
    }
    let followed = bytes
        .get(end)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'\'');
    if !is_real || followed {
        return None;
    }
    text[start..end]
        .replace('_', "")
        .parse()
        .ok()
        .map(|v| (v, end))
}

/// A Verilog sized literal, `8'hFF`, `4'b1010`, `12'd100` or `3'o7`, or a
/// signed one (`8'sd5`, `8'shF0`: -16), whose width is `text[start..tick]`:
/// the token and where it ends.
fn sized(text: &str, start: usize, tick: usize) -> Result<(Tok, usize), ExprError> {
    let bytes = text.as_bytes();
    let signed = matches!(bytes.get(tick + 1), Some(b's' | b'S'));
    let tick = tick + usize::from(signed);
    let radix = match bytes.get(tick + 1).map(u8::to_ascii_lowercase) {
        Some(b'h') => 16,
        Some(b'd') => 10,
        Some(b'b') => 2,
        Some(b'o') => 8,
        _ => {
            return Err(ExprError::new(
                "a sized literal needs a base after `'`",
                start..(tick + 2).min(text.len()),
            )
            .hint("write h, d, b or o: 8'hFF, 12'd100, 4'b1010, 3'o7 (8'sd5 for a signed one)"))
        }
    };
    let mut end = tick + 2;
    while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
        end += 1;
    }
    let span = start..end;
    let width: u32 = text[start..tick - usize::from(signed)]
        .parse()
        .ok()
        .filter(|w| (1..=64).contains(w))
        .ok_or_else(|| {
            ExprError::new(
                format!(
                    "width {} is not in 1..=64",
                    &text[start..tick - usize::from(signed)]
                ),
                span.clone(),
            )
        })?;
    let digits = text[tick + 2..end].replace('_', "");
    let value = u64::from_str_radix(&digits, radix).map_err(|_| {
        ExprError::new(
            format!("`{}` is not a number", &text[span.clone()]),
            span.clone(),
        )
    })?;
    if value > crate::value::mask(width) {
        return Err(ExprError::new(
            format!("`{}` does not fit in {width} bits", &text[span.clone()]),
            span,
        ));
    }
    Ok((Tok::Sized(value, width, signed), end))
}

/// A literal: decimal, `0x…` hexadecimal or `0b…` binary, `_` separators
/// allowed, up to 64 bits. Shared with the file readers, so files and
/// expressions accept the same numbers.
pub fn number(s: &str) -> Option<u64> {
    let s = s.replace('_', "");
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if let Some(bin) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        u64::from_str_radix(bin, 2).ok()
    } else {
        s.parse().ok()
    }
}

/// The deepest an expression may nest (parentheses, operators, unary
/// chains): deeper ones are refused, so that neither parsing nor compiling
/// can overflow the stack, however long the text.
pub const MAX_NESTING: usize = 256;

struct Parser<'a> {
    tokens: Vec<(Tok, Range<usize>)>,
    at: usize,
    text: &'a str,
    /// Calls of the recursive parts in progress.
    depth: usize,
}

/// A parsed subtree and how deep it is.
type Parsed = (Node, usize);

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Result<Self, ExprError> {
        Ok(Parser {
            tokens: lex(text)?,
            at: 0,
            text,
            depth: 0,
        })
    }

    fn peek(&self) -> &Tok {
        &self.tokens[self.at].0
    }

    fn span(&self) -> Range<usize> {
        self.tokens[self.at].1.clone()
    }

    fn bump(&mut self) -> (Tok, Range<usize>) {
        let t = self.tokens[self.at].clone();
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
        }
        t
    }

    fn eat(&mut self, sym: &str) -> bool {
        if *self.peek() == Tok::Sym(match_sym(sym)) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, sym: &str, what: &str) -> Result<Range<usize>, ExprError> {
        let span = self.span();
        if self.eat(sym) {
            Ok(span)
        } else {
            Err(self.unexpected(what))
        }
    }

    fn unexpected(&self, what: &str) -> ExprError {
        let span = self.span();
        let found = match self.peek() {
            Tok::End => "the end".to_string(),
            _ => format!("`{}`", &self.text[span.clone()]),
        };
        ExprError::new(format!("expected {what}, found {found}"), span)
    }

    /// The error for nesting deeper than [`MAX_NESTING`], at the current token.
    fn too_deep(&self) -> ExprError {
        ExprError::new(
            format!("the expression nests too deeply (more than {MAX_NESTING} levels)"),
            self.span(),
        )
        .hint("split it into several outputs or `${…}` parameters: later ones can use earlier ones")
    }

    /// `node`, whose deepest child is `child` levels deep, if it is not too deep.
    fn nest(&self, node: Node, child: usize) -> Result<Parsed, ExprError> {
        if child + 1 > MAX_NESTING {
            Err(self.too_deep())
        } else {
            Ok((node, child + 1))
        }
    }

    /// Run a recursive part, refusing to recurse deeper than [`MAX_NESTING`].
    fn nested(
        &mut self,
        part: impl FnOnce(&mut Self) -> Result<Parsed, ExprError>,
    ) -> Result<Parsed, ExprError> {
        if self.depth >= MAX_NESTING {
            return Err(self.too_deep());
        }
        self.depth += 1;
        let parsed = part(self);
        self.depth -= 1;
        parsed
    }

    fn expression(&mut self, min_power: u8) -> Result<Parsed, ExprError> {
        self.nested(|p| p.operators(min_power))
    }

    fn operators(&mut self, min_power: u8) -> Result<Parsed, ExprError> {
        let (mut lhs, mut depth) = self.unary()?;
        loop {
            if let Tok::Sym("?") = self.peek() {
                if min_power > 1 {
                    break;
                }
                self.bump();
                let (then, d1) = self.expression(1)?;
                self.expect(":", "`:` of a `c ? a : b`")?;
                let (otherwise, d2) = self.expression(1)?;
                let node = Node::Cond(Box::new(lhs), Box::new(then), Box::new(otherwise));
                (lhs, depth) = self.nest(node, depth.max(d1).max(d2))?;
                continue;
            }
            let Some(op) = binary_op(self.peek()) else {
                break;
            };
            let power = op.power();
            if power < min_power {
                break;
            }
            self.bump();
            let (rhs, d) = self.expression(power + 1)?;
            (lhs, depth) =
                self.nest(Node::Binary(op, Box::new(lhs), Box::new(rhs)), depth.max(d))?;
        }
        Ok((lhs, depth))
    }

    fn unary(&mut self) -> Result<Parsed, ExprError> {
        self.nested(Self::unary_inner)
    }

    fn unary_inner(&mut self) -> Result<Parsed, ExprError> {
        let op = match self.peek() {
            Tok::Sym("~") => Some(UnOp::Not),
            Tok::Sym("!") => Some(UnOp::LogNot),
            Tok::Sym("-") => Some(UnOp::Neg),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let (inner, d) = self.unary()?;
            return self.nest(Node::Unary(op, Box::new(inner)), d);
        }
        let (mut node, mut depth) = self.primary()?;
        while let Tok::Sym("[") = self.peek() {
            let open = self.bump().1;
            let hi = self.bit_index()?;
            let lo = if self.eat(":") { self.bit_index()? } else { hi };
            let close = self.expect("]", "`]` or `:`")?;
            let span = open.start..close.end;
            if hi < lo {
                return Err(
                    ExprError::new(format!("slice [{hi}:{lo}] is reversed"), span)
                        .hint("write the high bit first, as in a[7:4]"),
                );
            }
            (node, depth) = self.nest(Node::Slice(Box::new(node), hi, lo, span), depth)?;
        }
        Ok((node, depth))
    }

    fn bit_index(&mut self) -> Result<u32, ExprError> {
        let Tok::Num(n) = *self.peek() else {
            return Err(self.unexpected("a bit number"));
        };
        let span = self.bump().1;
        // A bit past 63 is refused when the expression compiles: here it
        // may still be an element of an input array (`in[100]`).
        if n < MAX_ARRAY {
            Ok(n as u32)
        } else {
            Err(ExprError::new(format!("bit {n} is beyond bit 63"), span))
        }
    }

    fn primary(&mut self) -> Result<Parsed, ExprError> {
        match self.peek().clone() {
            Tok::Num(n) => {
                self.bump();
                Ok((Node::Num(n), 1))
            }
            Tok::Real(v) => {
                self.bump();
                Ok((Node::Real(v), 1))
            }
            Tok::Ident(name) => {
                let span = self.bump().1;
                if let Tok::Sym("(") = self.peek() {
                    return self.call(&name, span);
                }
                Ok((Node::Name(name, span), 1))
            }
            Tok::Sized(v, w, signed) => {
                let span = self.bump().1;
                let literal = Node::Sized(v, w);
                if signed {
                    // As `signed(8'hF0)`: its bits, read as two's complement.
                    return Ok((Node::Call(Func::Signed, vec![literal], span), 1));
                }
                Ok((literal, 1))
            }
            Tok::Sym("(") => {
                self.bump();
                let inner = self.expression(1)?;
                self.expect(")", "`)`")?;
                Ok(inner)
            }
            Tok::Sym("{") => self.braces(),
            _ => Err(self.unexpected("a value, a name, `(` or `{`")),
        }
    }

    /// `{a, b, …}` or `{n{a, …}}`, at the `{`.
    fn braces(&mut self) -> Result<Parsed, ExprError> {
        let open = self.bump().1;
        let (first, d) = self.expression(1)?;
        if self.eat("{") {
            let (parts, d2) = self.parts()?;
            self.expect("}", "`,` or `}`")?;
            let close = self.expect("}", "`}` closing the replication")?;
            let node = Node::Repeat(Box::new(first), parts, open.start..close.end);
            return self.nest(node, d.max(d2));
        }
        let (mut parts, mut depth) = (vec![first], d);
        while self.eat(",") {
            let (part, d) = self.expression(1)?;
            parts.push(part);
            depth = depth.max(d);
        }
        let close = self.expect("}", "`,` or `}`")?;
        self.nest(Node::Concat(parts, open.start..close.end), depth)
    }

    /// Expressions separated by commas, and the deepest.
    fn parts(&mut self) -> Result<(Vec<Node>, usize), ExprError> {
        let (mut parts, mut depth) = (Vec::new(), 0);
        loop {
            let (part, d) = self.expression(1)?;
            parts.push(part);
            depth = depth.max(d);
            if !self.eat(",") {
                return Ok((parts, depth));
            }
        }
    }

    /// The call of function `name` (written at `span`), at its `(`.
    fn call(&mut self, name: &str, span: Range<usize>) -> Result<Parsed, ExprError> {
        let func = Func::named(name, span.clone())?;
        self.bump();
        let (mut args, depth) = self.parts()?;
        let close = self.expect(")", "`,` or `)`")?;
        let span = span.start..close.end;
        // `min(in)` and `max(in)` of an input array are reductions (see
        // `arrays`), checked once the names are known.
        let reduction = matches!(func, Func::Min | Func::Max) && args.len() == 1;
        if !reduction {
            func.check_arity(args.len(), span.clone())?;
        }
        if func == Func::Clog2 {
            let inner = args.pop().expect("one argument, checked");
            return self.nest(Node::Unary(UnOp::Clog2, Box::new(inner)), depth);
        }
        self.nest(Node::Call(func, args, span), depth)
    }

    fn finish(&self) -> Result<(), ExprError> {
        match self.peek() {
            Tok::End => Ok(()),
            _ => Err(self.unexpected("an operator or the end")),
        }
    }
}

/// The `&'static` twin of a symbol, for comparisons with [`Tok::Sym`].
fn match_sym(sym: &str) -> &'static str {
    SYMBOLS.iter().find(|s| **s == sym).copied().unwrap_or("")
}

fn binary_op(tok: &Tok) -> Option<BinOp> {
    let Tok::Sym(s) = tok else { return None };
    Some(match *s {
        "*" => BinOp::Mul,
        "/" => BinOp::Div,
        "%" => BinOp::Rem,
        "+" => BinOp::Add,
        "-" => BinOp::Sub,
        "<<" => BinOp::Shl,
        ">>" => BinOp::Shr,
        ">>>" => BinOp::Sar,
        "<" => BinOp::Lt,
        "<=" => BinOp::Le,
        ">" => BinOp::Gt,
        ">=" => BinOp::Ge,
        "==" => BinOp::Eq,
        "!=" => BinOp::Ne,
        "&" => BinOp::And,
        "^" => BinOp::Xor,
        "|" => BinOp::Or,
        "&&" => BinOp::LogAnd,
        "||" => BinOp::LogOr,
        _ => return None,
    })
}

/// Parse a whole expression.
pub fn expression(text: &str) -> Result<Node, ExprError> {
    let mut p = Parser::new(text)?;
    let (node, _) = p.expression(1)?;
    p.finish()?;
    Ok(node)
}

/// What a declaration must contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `name: width` (an input).
    Port,
    /// `name: width = expression` (an output), or `let name: width =
    /// expression` (a temporary).
    Definition,
    /// `name: width = expression` or `name: width init value = expression`
    /// (a register, with its value after reset).
    Register,
    /// `name = expression` (a constant).
    Constant,
}

impl Shape {
    fn example(self) -> &'static str {
        match self {
            Shape::Port => "`name: width`, e.g. `a: 8`",
            Shape::Definition => "`name: width = expression`, e.g. `sum: 9 = a + b`",
            Shape::Register => {
                "`name: width = next value` or `name: width init value = next value`, e.g. `count: 8 init 5 = count + 1`"
            }
            Shape::Constant => "`NAME = expression`, e.g. `LIMIT = 100`",
        }
    }
}

/// A declared name: `name: width`, `name: width = expr` or `name = expr`.
#[derive(Clone, Debug, PartialEq)]
pub struct Declaration {
    /// The name.
    pub name: String,
    /// Where the name is written.
    pub name_span: Range<usize>,
    /// The width in bits, 1..=64 (0 for a constant).
    pub width: u32,
    /// The expression after `=`, if the shape has one.
    pub value: Option<Node>,
    /// A register's value after reset (`init …`), and where it is written.
    pub init: Option<(Node, Range<usize>)>,
    /// `let name: width = …`: an output that is no port, only a name for
    /// later expressions.
    pub temporary: bool,
    /// `name: signed width`: its value reads as a two's complement number.
    pub signed: bool,
    /// `name[n]: width` (inputs only): an array of `n` inputs, `name[0]` to
    /// `name[n - 1]`.
    pub count: Option<u32>,
    /// `name: real`: an IEEE double (see [`real`](super::real)); its
    /// `width` is 64.
    pub real: bool,
}

/// The most elements an input array may have.
pub const MAX_ARRAY: u64 = 4096;

/// Parse a declaration of the given shape.
pub fn declaration(text: &str, shape: Shape) -> Result<Declaration, ExprError> {
    let mut p = Parser::new(text)?;
    let hint = || format!("write {}", shape.example());
    let Tok::Ident(mut name) = p.peek().clone() else {
        return Err(p.unexpected("a name").hint(hint()));
    };
    let mut name_span = p.bump().1;
    let mut temporary = false;
    if let (Tok::Ident(next), "let") = (p.peek().clone(), name.as_str()) {
        if shape != Shape::Definition {
            return Err(
                ExprError::new("only an output can be a `let` temporary", name_span)
                    .hint("write `let name: width = expression` in `outputs`"),
            );
        }
        temporary = true;
        name = next;
        name_span = p.bump().1;
    }
    let mut count = None;
    if let Tok::Sym("[") = p.peek() {
        let open = p.bump().1;
        if shape != Shape::Port {
            return Err(ExprError::new("only an input can be an array", open).hint(
                "declare `name[n]: width` in `inputs`; reduce it with sum(name), xor(name), …",
            ));
        }
        let Tok::Num(n) = *p.peek() else {
            return Err(p
                .unexpected("the number of elements")
                .hint("write `in[8]: 4`"));
        };
        let n_span = p.bump().1;
        if !(1..=MAX_ARRAY).contains(&n) {
            return Err(ExprError::new(
                format!("an array of {n} inputs is not in 1..={MAX_ARRAY}"),
                n_span,
            ));
        }
        p.expect("]", "`]`")?;
        count = Some(n as u32);
    }
    let mut width = 0;
    let mut signed = false;
    let mut real = false;
    let mut number = None;
    if shape != Shape::Constant {
        p.expect(":", "`:` and a width")
            .map_err(|e| e.hint(hint()))?;
        if let Tok::Ident(word) = p.peek() {
            if word == "signed" {
                signed = true;
                p.bump();
            }
        }
        if let Tok::Ident(word) = p.peek() {
            if word == "real" {
                let span = p.bump().1;
                if signed {
                    return Err(
                        ExprError::new("a real is signed already", span).hint("write `name: real`")
                    );
                }
                real = true;
                width = 64;
            }
        }
        number = match p.peek() {
            _ if real => None,
            Tok::Num(w) => Some(*w),
            _ => return Err(p.unexpected("a width or `real`").hint(hint())),
        };
    }
    if let Some(w) = number {
        let width_span = p.bump().1;
        width = match w {
            1..=64 => w as u32,
            _ => {
                return Err(ExprError::new(
                    format!("width {w} is not in 1..=64"),
                    width_span,
                ))
            }
        };
    }
    let mut init = None;
    if let Tok::Ident(word) = p.peek() {
        if word == "init" {
            let start = p.span().start;
            if shape != Shape::Register {
                return Err(
                    ExprError::new("only a register has an initial value", p.span()).hint(
                        "registers are declared in `registers`; an output is computed every cycle",
                    ),
                );
            }
            p.bump();
            let (value, _) = p.expression(1)?;
            init = Some((value, start..p.span().start));
        }
    }
    let value = if shape == Shape::Port {
        None
    } else {
        p.expect("=", "`=` and an expression")
            .map_err(|e| e.hint(hint()))?;
        Some(p.expression(1)?.0)
    };
    p.finish()?;
    Ok(Declaration {
        name,
        name_span,
        width,
        value,
        init,
        temporary,
        signed,
        count,
        real,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: u64) -> Box<Node> {
        Box::new(Node::Num(v))
    }

    #[test]
    fn precedence_follows_c_and_verilog() {
        assert_eq!(
            expression("1 + 2 * 3").unwrap(),
            Node::Binary(
                BinOp::Add,
                n(1),
                Box::new(Node::Binary(BinOp::Mul, n(2), n(3)))
            )
        );
        assert_eq!(
            expression("1 - 2 - 3").unwrap(),
            Node::Binary(
                BinOp::Sub,
                Box::new(Node::Binary(BinOp::Sub, n(1), n(2))),
                n(3)
            ),
            "left associative"
        );
        assert_eq!(
            expression("1 ? 2 : 0 ? 3 : 4").unwrap(),
            Node::Cond(n(1), n(2), Box::new(Node::Cond(n(0), n(3), n(4)))),
            "?: nests to the right"
        );
        assert_eq!(
            expression("0x1_0 | 0b11").unwrap(),
            Node::Binary(BinOp::Or, n(16), n(3))
        );
    }

    #[test]
    fn clog2_counts_bits_like_verilog() {
        let clog2 = |x| UnOp::Clog2.apply(x);
        let got: Vec<u64> = [0, 1, 2, 3, 4, 5, 64, 65, u64::MAX].map(clog2).to_vec();
        assert_eq!(got, vec![0, 0, 1, 2, 2, 3, 6, 7, 64]);
        assert_eq!(
            expression("clog2(n + 1)").unwrap(),
            Node::Unary(
                UnOp::Clog2,
                Box::new(Node::Binary(
                    BinOp::Add,
                    Box::new(Node::Name("n".into(), 6..7)),
                    n(1)
                ))
            )
        );
        let e = expression("log2(n)").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.span.clone()),
            ("unknown function `log2`", 0..4)
        );
    }

    #[test]
    fn slices_and_names_keep_their_spans() {
        let Node::Slice(inner, 7, 4, span) = expression("ab[7:4]").unwrap() else {
            panic!("not a slice");
        };
        assert_eq!(*inner, Node::Name("ab".into(), 0..2));
        assert_eq!(span, 2..7);
        assert!(matches!(
            expression("x[3]").unwrap(),
            Node::Slice(_, 3, 3, _)
        ));
    }

    #[test]
    fn errors_point_at_the_problem() {
        let cases = [
            (
                "a + ",
                "expected a value, a name, `(` or `{`, found the end",
                4..4,
            ),
            ("a $ b", "unexpected character `$`", 2..3),
            ("(a + b", "expected `)`, found the end", 6..6),
            ("a b", "expected an operator or the end, found `b`", 2..3),
            ("a[3:5]", "slice [3:5] is reversed", 1..6),
            ("a[4096]", "bit 4096 is beyond bit 63", 2..6),
            (
                "1 ? 2",
                "expected `:` of a `c ? a : b`, found the end",
                5..5,
            ),
            ("0xg1", "`0xg1` is not a number", 0..4),
        ];
        for (text, message, span) in cases {
            let e = expression(text).unwrap_err();
            assert_eq!(
                (e.message.as_str(), e.span.clone()),
                (message, span),
                "{text}"
            );
        }
    }

    #[test]
    fn declarations_name_a_width_and_maybe_a_value() {
        let d = declaration("sum: 9 = a + b", Shape::Definition).unwrap();
        assert_eq!((d.name.as_str(), d.width), ("sum", 9));
        assert!(d.value.is_some());
        let d = declaration(" a : 8 ", Shape::Port).unwrap();
        assert_eq!((d.name.as_str(), d.name_span, d.width), ("a", 1..2, 8));
        let d = declaration("K = 2 * 3", Shape::Constant).unwrap();
        assert_eq!((d.name.as_str(), d.width), ("K", 0));
        let e = declaration("a: 65", Shape::Port).unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.span),
            ("width 65 is not in 1..=64", 3..5)
        );
        let e = declaration("a = 1", Shape::Definition).unwrap_err();
        assert_eq!(e.span, 2..3);
        assert!(e.hint.unwrap().contains("sum: 9 = a + b"));
        crate::test_support::assert_err_contains(
            declaration("a: 8 = ", Shape::Definition),
            "found the end",
        );
        crate::test_support::assert_err_contains(
            declaration("a: 8 junk", Shape::Port),
            "found `junk`",
        );
        crate::test_support::assert_err_contains(
            declaration("8: a", Shape::Port),
            "expected a name, found `8`",
        );
    }
}

#[cfg(test)]
mod nesting_tests {
    use super::*;

    /// However long or deep the text, parsing refuses it with its place
    /// instead of overflowing the stack.
    #[test]
    fn deep_and_long_expressions_are_refused_not_overflowed() {
        let n = 100_000;
        let texts = [
            format!("{}a{}", "(".repeat(n), ")".repeat(n)),
            format!("{}a", "~".repeat(n)),
            format!("{}a", "-".repeat(n)),
            vec!["a"; n].join(" + "),
            vec!["a"; n].join(" * "),
            format!("{}1", "clog2(".repeat(n)),
            format!("a{}", "[0]".repeat(n)),
        ];
        for text in texts {
            let e = expression(&text).expect_err("refused");
            assert!(e.message.contains("nests too deeply"), "{}", e.message);
            assert!(e.span.end <= text.len() && e.span.start > 0, "{:?}", e.span);
        }
        // At the limit it still parses.
        let fine = vec!["a"; MAX_NESTING - 1].join(" + ");
        assert!(expression(&fine).is_ok());
        // A parenthesis is two levels: an expression and its operand.
        let fine = format!(
            "{}a{}",
            "(".repeat(MAX_NESTING / 2 - 2),
            ")".repeat(MAX_NESTING / 2 - 2)
        );
        assert!(expression(&fine).is_ok());
    }
}
