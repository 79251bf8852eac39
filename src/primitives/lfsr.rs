//! `lfsr`: a linear-feedback shift register, Galois or Fibonacci.

use crate::lower::{Binary, Lowering, Unary};
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::{ParamDecl, ParamError};
use crate::value::{mask, PortType};

/// Maximal-length tap masks (Xilinx XAPP 052) for common widths: bit k-1 set
/// for tap k, the same mask for both forms.
const MAXIMAL_TAPS: [(u32, u64); 8] = [
    (4, 0xC),
    (8, 0xB8),
    (12, 0xE08),
    (16, 0xD008),
    (20, 0x9_0000),
    (24, 0xE1_0000),
    (32, 0x8020_0003),
    (64, 0xD800_0000_0000_0000),
];

struct Lfsr {
    galois: bool,
    taps: u64,
    mask: u64,
    seed: u64,
}

impl Lfsr {
    fn next(&self, s: u64) -> u64 {
        if self.galois {
            (s >> 1) ^ ((s & 1).wrapping_neg() & self.taps)
        } else {
            let feedback = u64::from((s & self.taps).count_ones() & 1);
            ((s << 1) | feedback) & self.mask
        }
    }
}

impl Model for Lfsr {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::none()
    }

    fn lower(&self) -> Option<Lowering> {
        let mut l = Lowering::new();
        let t = &mut l.tick;
        let (en, s) = (t.input(0), t.output(0));
        let next = if self.galois {
            let out = t.binary_const(Binary::And, s, 1);
            let all = t.unary(Unary::Neg, out);
            let feedback = t.binary_const(Binary::And, all, self.taps);
            let shifted = t.binary_const(Binary::Shr, s, 1);
            t.binary(Binary::Xor, shifted, feedback)
        } else {
            let tapped = t.binary_const(Binary::And, s, self.taps);
            let ones = t.unary(Unary::Popcount, tapped);
            let parity = t.binary_const(Binary::And, ones, 1);
            let shifted = t.binary_const(Binary::Shl, s, 1);
            let next = t.binary(Binary::Or, shifted, parity);
            t.binary_const(Binary::And, next, self.mask)
        };
        let q = t.select(en, next, s);
        t.set_output(0, q);
        Some(l)
    }

    fn reset(&mut self, io: &Io<'_>) {
        io.set(0, self.seed);
    }
    #[inline(always)]
    fn tick(&mut self, io: &Io<'_>) {
        if io.get_bool(0) {
            io.set(0, self.next(io.output(0)));
        }
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new("lfsr", "linear-feedback shift register (Galois or Fibonacci)", |p, _| {
        let width = p.width("width")?;
        let mut taps = p.bits("taps", width.into())?;
        if taps == 0 {
            taps = MAXIMAL_TAPS
                .iter()
                .find(|(w, _)| *w == u32::from(width))
                .map(|(_, t)| *t)
                .ok_or_else(|| {
                    let known: Vec<String> = MAXIMAL_TAPS.iter().map(|(w, _)| w.to_string()).collect();
                    ParamError::invalid(
                        "taps",
                        format!("give a tap mask: built-in taps exist for widths {} only", known.join(", ")),
                    )
                })?;
        }
        let seed = p.bits("seed", width.into())?;
        if seed == 0 {
            return Err(ParamError::invalid("seed", "must not be 0 (an LFSR at 0 stays at 0)"));
        }
        let galois = p.str("form")? == "galois";
        let ports = Interface::new()
            .optional_input("en", PortType::Bits(1), 1)
            .registered("q", PortType::Bits(width));
        Ok((
            ports,
            Box::new(Lfsr {
                galois,
                taps,
                mask: mask(width.into()),
                seed,
            }),
        ))
    })
    .doc(
        "Inputs: en (Bits(1), optional, default 1). Outputs: q (Bits(width), registered), the state.\n\
         Galois: each enabled edge shifts right and XORs `taps` in when the bit shifted out is 1.\n\
         Fibonacci: shifts left and brings in the parity of (q & taps).\n\
         taps = 0 picks a maximal-length mask for widths 4, 8, 12, 16, 20, 24, 32 and 64\n\
         (period 2^width - 1).",
    )
    .param(ParamDecl::width("width of the register"))
    .param(ParamDecl::choice("form", &["galois", "fibonacci"], "feedback structure").default("galois"))
    .param(ParamDecl::int("taps", 0, u64::MAX.into(), "tap mask, bit k-1 for tap k; 0 = built-in").default(0))
    .param(ParamDecl::int("seed", 1, u64::MAX.into(), "state after reset, not 0").default(1))
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    fn period(form: &str, width: u32) -> u64 {
        let mut tb = Testbench::new("lfsr", params! { "width" => width, "form" => form }).unwrap();
        let start = tb.get("q");
        for n in 1..=(1u64 << width) {
            tb.step();
            if tb.get("q") == start {
                return n;
            }
        }
        panic!("no period found");
    }

    #[test]
    fn built_in_taps_give_maximal_length_in_both_forms() {
        for width in [4, 8, 12, 16] {
            assert_eq!(period("galois", width), (1 << width) - 1, "galois {width}");
            assert_eq!(
                period("fibonacci", width),
                (1 << width) - 1,
                "fibonacci {width}"
            );
        }
    }

    #[test]
    fn galois_step_and_enable() {
        let mut tb = Testbench::new("lfsr", params! { "width" => 8, "seed" => 1 }).unwrap();
        tb.step();
        assert_eq!(tb.get("q"), 0xB8, "1 shifts out, taps come in");
        tb.set("en", 0);
        tb.step();
        assert_eq!(tb.get("q"), 0xB8);
    }

    /// Values, not only the period: a Fibonacci register with mirrored
    /// taps has the same period and a different sequence. Worked by hand
    /// for x^4 + x^3 + 1 (taps 0b1100): shift left, the parity of the
    /// tapped bits comes in at the bottom.
    #[test]
    fn fibonacci_values_follow_the_taps() {
        let mut tb = Testbench::new(
            "lfsr",
            params! { "width" => 4, "taps" => 0b1100, "seed" => 1, "form" => "fibonacci" },
        )
        .unwrap();
        let mut values = Vec::new();
        for _ in 0..8 {
            tb.step();
            values.push(tb.get("q"));
        }
        assert_eq!(
            values,
            [0b0010, 0b0100, 0b1001, 0b0011, 0b0110, 0b1101, 0b1010, 0b0101]
        );
    }

    #[test]
    fn bad_seeds_and_missing_taps_are_refused() {
        crate::test_support::assert_err_contains(
            Testbench::new("lfsr", params! { "seed" => 0 }),
            "`seed`: 0 is out of range",
        );
        let e = Testbench::new("lfsr", params! { "width" => 7 })
            .err()
            .unwrap();
        assert!(
            e.to_string()
                .contains("built-in taps exist for widths 4, 8"),
            "{e}"
        );
        assert!(Testbench::new("lfsr", params! { "width" => 7, "taps" => 0x60 }).is_ok());
    }
}
