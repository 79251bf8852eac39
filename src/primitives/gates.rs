//! Bitwise gates: `not`, and n-input `and`, `or`, `xor`; and `sum`, the
//! n-input adder, which shares their balanced tree.

use crate::lower::{Binary, Lowering, Unary, Val};
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::ParamDecl;
use crate::primitives::port_array;
use crate::value::PortType;

struct Not;

impl Model for Not {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::none()
    }

    fn lower(&self) -> Option<Lowering> {
        let mut l = Lowering::new();
        let a = l.eval.input(0);
        let y = l.eval.unary(Unary::Not, a);
        l.eval.set_output(0, y);
        Some(l)
    }

    fn reset(&mut self, _io: &Io<'_>) {}
    #[inline(always)]
    fn eval(&mut self, io: &Io<'_>) {
        io.set(0, !io.get(0));
    }
}

/// The operator of an n-input gate, as a type: each gate is its own model
/// type, so its loop is compiled with the operator inlined.
trait GateOp: Send + 'static {
    const IDENTITY: u64;
    /// The operation, lowered.
    const LOWERED: Binary;
    fn apply(a: u64, b: u64) -> u64;
}

struct And;
struct Or;
struct Xor;

impl GateOp for And {
    const LOWERED: Binary = Binary::And;
    const IDENTITY: u64 = u64::MAX;
    #[inline(always)]
    fn apply(a: u64, b: u64) -> u64 {
        a & b
    }
}

impl GateOp for Or {
    const LOWERED: Binary = Binary::Or;
    const IDENTITY: u64 = 0;
    #[inline(always)]
    fn apply(a: u64, b: u64) -> u64 {
        a | b
    }
}

impl GateOp for Xor {
    const LOWERED: Binary = Binary::Xor;
    const IDENTITY: u64 = 0;
    #[inline(always)]
    fn apply(a: u64, b: u64) -> u64 {
        a ^ b
    }
}

/// `sum`: wrapping addition (at the output's width, as the output is masked).
struct Add;

impl GateOp for Add {
    const LOWERED: Binary = Binary::Add;
    const IDENTITY: u64 = 0;
    #[inline(always)]
    fn apply(a: u64, b: u64) -> u64 {
        a.wrapping_add(b)
    }
}

/// `sum`: `n` inputs of `width` bits added, on an output wide enough for
/// the largest sum unless `out_width` says otherwise.
fn sum() -> ModelInfo {
    ModelInfo::new("sum", "n-input adder: y = in[0] + … + in[n-1]", |p, _| {
        let width = p.width("width")?;
        let n = p.usize("n")?;
        let out = match p.int("out_width")? {
            // n terms below 2^width each sum below n · 2^width.
            0 if n == 1 => width,
            0 => (u32::from(width) + crate::value::bits_for(n as u64)).min(64) as u8,
            w => w as u8,
        };
        let ports = port_array("in", n)
            .fold(Interface::new(), |ports, name| {
                ports.input(name, PortType::Bits(width))
            })
            .combinational("y", PortType::Bits(out));
        Ok((ports, Box::new(Gate::<Add>(std::marker::PhantomData, n))))
    })
    .doc(
        "Inputs: in[0] … in[n-1] (Bits(width)). Outputs: y = in[0] + … + in[n-1]\n\
         (combinational), Bits(out_width): by default wide enough for any sum (width +\n\
         ceil(log2 n) bits, at most 64); a narrower out_width wraps. Counting the hits of\n\
         64 one-bit pixels is one `sum` with n: 64, width: 1 (y has 7 bits).",
    )
    .param(ParamDecl::width("width of every input").default(1))
    .param(ParamDecl::int("n", 1, 65536, "number of inputs").default(2))
    .param(ParamDecl::int("out_width", 0, 64, "width of y; 0: wide enough for any sum").default(0))
}

/// A gate over its inputs (how many: the second field).
struct Gate<O>(std::marker::PhantomData<O>, usize);

impl<O: GateOp> Model for Gate<O> {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::none()
    }

    /// A balanced tree of the operation over the inputs (which it may
    /// reorder, as it is associative and commutative): a chain as long as
    /// the inputs would keep a wide gate's operations waiting for each other.
    fn lower(&self) -> Option<Lowering> {
        let mut l = Lowering::new();
        let e = &mut l.eval;
        let n = self.1;
        let mut level: Vec<Val> = (0..n).map(|i| e.input(i)).collect();
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|pair| match *pair {
                    [a, b] => e.binary(O::LOWERED, a, b),
                    [a] => a,
                    _ => unreachable!("chunks of two"),
                })
                .collect();
        }
        let y = match level.first() {
            Some(&y) => y,
            None => e.constant(O::IDENTITY),
        };
        e.set_output(0, y);
        Some(l)
    }

    fn reset(&mut self, _io: &Io<'_>) {}
    #[inline(always)]
    fn eval(&mut self, io: &Io<'_>) {
        io.set(0, io.inputs().fold(O::IDENTITY, O::apply));
    }
}

fn gate<O: GateOp>(name: &'static str, summary: &'static str, doc: &'static str) -> ModelInfo {
    ModelInfo::new(name, summary, move |p, _| {
        let ty = PortType::Bits(p.width("width")?);
        let n = p.usize("n")?;
        let ports = port_array("in", n)
            .fold(Interface::new(), |ports, name| ports.input(name, ty))
            .combinational("y", ty);
        Ok((ports, Box::new(Gate::<O>(std::marker::PhantomData, n))))
    })
    .doc(doc)
    .param(ParamDecl::width("width of every input and of y"))
    .param(ParamDecl::int("n", 1, 65536, "number of inputs").default(2))
}

pub fn infos() -> Vec<ModelInfo> {
    vec![
        ModelInfo::new("not", "bitwise NOT", |p, _| {
            let ty = PortType::Bits(p.width("width")?);
            let ports = Interface::new().input("a", ty).combinational("y", ty);
            Ok((ports, Box::new(Not)))
        })
        .doc("Inputs: a. Outputs: y = ~a (combinational).")
        .param(ParamDecl::width("width of a and y")),
        gate::<And>(
            "and",
            "bitwise AND of n inputs",
            "Inputs: in[0] … in[n-1]. Outputs: y = in[0] & … & in[n-1] (combinational).",
        ),
        gate::<Or>(
            "or",
            "bitwise OR of n inputs",
            "Inputs: in[0] … in[n-1]. Outputs: y = in[0] | … | in[n-1] (combinational).",
        ),
        gate::<Xor>(
            "xor",
            "bitwise XOR of n inputs",
            "Inputs: in[0] … in[n-1]. Outputs: y = in[0] ^ … ^ in[n-1] (combinational).",
        ),
        sum(),
    ]
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    fn gate(model: &str, inputs: &[u64]) -> u64 {
        let mut tb = Testbench::new(model, params! { "width" => 4, "n" => inputs.len() }).unwrap();
        for (i, v) in inputs.iter().enumerate() {
            tb.set(&format!("in[{i}]"), *v);
        }
        tb.get("y")
    }

    #[test]
    fn n_input_gates() {
        assert_eq!(gate("and", &[0b1110, 0b0111, 0b1111]), 0b0110);
        assert_eq!(gate("or", &[0b0001, 0b0100]), 0b0101);
        assert_eq!(gate("xor", &[0b0011, 0b0101, 0b1000]), 0b1110);
        assert_eq!(gate("and", &[0b1010]), 0b1010);
    }

    #[test]
    fn sum_adds_n_inputs_on_a_wide_enough_output() {
        let mut tb = Testbench::new("sum", params! { "n" => 64 }).unwrap();
        assert_eq!(tb.interface().outputs()[0].ty, crate::PortType::Bits(7));
        for i in 0..64 {
            tb.set(&format!("in[{i}]"), 1);
        }
        assert_eq!(tb.get("y"), 64);
        let mut tb = Testbench::new("sum", params! { "n" => 3, "width" => 8 }).unwrap();
        assert_eq!(tb.interface().outputs()[0].ty, crate::PortType::Bits(10));
        for i in 0..3 {
            tb.set(&format!("in[{i}]"), 255);
        }
        assert_eq!(tb.get("y"), 765);
        let mut tb =
            Testbench::new("sum", params! { "n" => 3, "width" => 8, "out_width" => 8 }).unwrap();
        for i in 0..3 {
            tb.set(&format!("in[{i}]"), 255);
        }
        assert_eq!(tb.get("y"), 765 % 256, "a narrower output wraps");
        let tb = Testbench::new("sum", params! { "n" => 1, "width" => 64 }).unwrap();
        assert_eq!(tb.interface().outputs()[0].ty, crate::PortType::Bits(64));
    }

    #[test]
    fn not_stays_within_the_width() {
        let mut tb = Testbench::new("not", params! { "width" => 4 }).unwrap();
        tb.set("a", 0b0101);
        assert_eq!(tb.get("y"), 0b1010);
    }
}
