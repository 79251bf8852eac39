//! `concat`: bit fields joined into one value, `in[0]` in the low bits.

use crate::lower::{Binary, Lowering};
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::{ParamDecl, ParamError};
use crate::primitives::port_array;
use crate::value::PortType;

struct Concat {
    shifts: Vec<u32>,
}

impl Model for Concat {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::none()
    }

    fn lower(&self) -> Option<Lowering> {
        let mut l = Lowering::new();
        let e = &mut l.eval;
        let mut y = e.constant(0);
        for (i, &s) in self.shifts.iter().enumerate() {
            let x = e.input(i);
            let x = e.binary_const(Binary::Shl, x, u64::from(s));
            y = e.binary(Binary::Or, y, x);
        }
        e.set_output(0, y);
        Some(l)
    }

    fn reset(&mut self, _io: &Io<'_>) {}
    #[inline(always)]
    fn eval(&mut self, io: &Io<'_>) {
        let y = self
            .shifts
            .iter()
            .enumerate()
            .fold(0, |y, (i, &s)| y | io.get(i) << s);
        io.set(0, y);
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new(
        "concat",
        "joins bit fields; in[0] is least significant",
        |p, _| {
            let mut widths = p.int_list("widths")?;
            match (widths.is_empty(), p.usize("n")?) {
                (true, 0) => {
                    return Err(ParamError::invalid(
                        "widths",
                        "needs at least one width (or `n` inputs of `width` bits)",
                    ))
                }
                (true, n) => widths = vec![p.int("width")?; n],
                (false, 0) => {}
                (false, _) => {
                    return Err(ParamError::invalid(
                        "n",
                        "and `widths` both say how many inputs there are; give one",
                    ))
                }
            }
            let total: i128 = widths.iter().sum();
            if total > 64 {
                return Err(ParamError::invalid(
                    "widths",
                    format!("add up to {total} bits; at most 64 fit"),
                ));
            }
            let mut shifts = Vec::with_capacity(widths.len());
            let mut ports = Interface::new();
            let mut at = 0;
            for (name, &w) in port_array("in", widths.len()).zip(&widths) {
                ports = ports.input(name, PortType::Bits(w as u8));
                shifts.push(at);
                at += w as u32;
            }
            let ports = ports.combinational("y", PortType::Bits(total as u8));
            Ok((ports, Box::new(Concat { shifts })))
        },
    )
    .doc(
        "Inputs: in[0] … in[n-1], in[i] of Bits(widths[i]), or n inputs of Bits(width).\n\
         Outputs: y (Bits(sum of widths), combinational) with in[0] in the least significant bits\n\
         (the reverse of Verilog's {a, b}, which puts a on top).",
    )
    .param(
        ParamDecl::int_list(
            "widths",
            1,
            64,
            "width of each input, least significant first",
        )
        .default(Vec::<i64>::new()),
    )
    .param(
        ParamDecl::int(
            "n",
            0,
            64,
            "number of inputs, each `width` bits (instead of `widths`)",
        )
        .default(0),
    )
    .param(ParamDecl::int("width", 1, 64, "the width of each input, with `n`").default(1))
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    #[test]
    fn joins_fields_low_first_and_limits_the_total() {
        let mut tb = Testbench::new("concat", params! { "widths" => vec![4, 8] }).unwrap();
        tb.set("in[0]", 0xa);
        tb.set("in[1]", 0xbc);
        assert_eq!(tb.get("y"), 0xbca);
        crate::test_support::assert_err_contains(
            Testbench::new("concat", params! { "widths" => vec![40, 40] }),
            "add up to 80 bits; at most 64 fit",
        );
        crate::test_support::assert_err_contains(
            Testbench::new("concat", params! { "widths" => Vec::<i64>::new() }),
            "needs at least one width",
        );
        let mut tb = Testbench::new("concat", params! { "n" => 16, "width" => 4 }).unwrap();
        assert_eq!(tb.interface().outputs()[0].ty, crate::PortType::Bits(64));
        tb.set("in[15]", 0xf);
        tb.set("in[0]", 0x3);
        assert_eq!(tb.get("y"), 0xf000_0000_0000_0003);
        crate::test_support::assert_err_contains(
            Testbench::new("concat", params! { "n" => 2, "widths" => vec![4, 4] }),
            "give one",
        );
        crate::test_support::assert_err_contains(
            Testbench::new("concat", params! { "n" => 17, "width" => 4 }),
            "add up to 68 bits",
        );
    }
}
