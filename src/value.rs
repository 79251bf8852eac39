//! Port types and the one representation every value has at run time.
//!
//! Every value on a wire is stored in a `u64` *slot*: `Bits(w)` values are
//! kept masked to their `w` low bits, `Real` values are the IEEE-754 bits of
//! an `f64`. Engines and tracers move slots around without caring which is
//! which; only models and the trace writer interpret them.

use std::fmt;

/// The type of a port: 2-state bits of a given width, or a real number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortType {
    /// `w` two-state bits, 1 ≤ w ≤ 64, stored masked in a `u64`.
    Bits(u8),
    /// An `f64`, for analog quantities; traced as a VCD `real`.
    Real,
}

impl PortType {
    /// A `Bits(width)` type; `None` unless 1 ≤ width ≤ 64.
    pub fn bits(width: u32) -> Option<PortType> {
        (1..=64)
            .contains(&width)
            .then_some(PortType::Bits(width as u8))
    }

    /// The mask a value of this type is kept under (all ones for `Real`).
    pub fn mask(self) -> u64 {
        match self {
            PortType::Bits(w) => mask(u32::from(w)),
            PortType::Real => u64::MAX,
        }
    }

    /// The bit width as written in a VCD `$var` (64 for `Real`).
    pub fn width(self) -> u32 {
        match self {
            PortType::Bits(w) => u32::from(w),
            PortType::Real => 64,
        }
    }
}

impl fmt::Display for PortType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortType::Bits(w) => write!(f, "Bits({w})"),
            PortType::Real => f.write_str("Real"),
        }
    }
}

/// All ones in the low `width` bits (`width` in 0..=64).
#[inline]
pub fn mask(width: u32) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// The number of bits needed to hold every value in `0..n` (at least 1).
pub fn bits_for(n: u64) -> u32 {
    if n <= 2 {
        1
    } else {
        64 - (n - 1).leading_zeros()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_cover_every_width() {
        assert_eq!(mask(1), 1);
        assert_eq!(mask(8), 0xff);
        assert_eq!(mask(63), u64::MAX >> 1);
        assert_eq!(mask(64), u64::MAX);
        assert_eq!(PortType::Real.mask(), u64::MAX);
        assert_eq!(PortType::Bits(4).mask(), 0xf);
    }

    #[test]
    fn bits_type_rejects_out_of_range_widths() {
        assert_eq!(PortType::bits(0), None);
        assert_eq!(PortType::bits(65), None);
        assert_eq!(PortType::bits(64), Some(PortType::Bits(64)));
    }

    #[test]
    fn bits_for_counts_select_widths() {
        assert_eq!(bits_for(1), 1);
        assert_eq!(bits_for(2), 1);
        assert_eq!(bits_for(3), 2);
        assert_eq!(bits_for(4), 2);
        assert_eq!(bits_for(5), 3);
        assert_eq!(bits_for(256), 8);
    }
}
