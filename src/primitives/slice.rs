//! `slice`: a bit field of a wider value.

use crate::lower::{Binary, Lowering};
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::{ParamDecl, ParamError};
use crate::value::PortType;

struct Slice {
    lsb: u32,
}

impl Model for Slice {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::none()
    }

    fn lower(&self) -> Option<Lowering> {
        let mut l = Lowering::new();
        let a = l.eval.input(0);
        let y = l.eval.binary_const(Binary::Shr, a, u64::from(self.lsb));
        l.eval.set_output(0, y);
        Some(l)
    }

    fn reset(&mut self, _io: &Io<'_>) {}
    #[inline(always)]
    fn eval(&mut self, io: &Io<'_>) {
        io.set(0, io.get(0) >> self.lsb);
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new("slice", "bits lsb .. lsb+width-1 of the input", |p, _| {
        let in_width = u32::from(p.width("in_width")?);
        let width = u32::from(p.width("width")?);
        let lsb = p.int("lsb")? as u32;
        if lsb + width > in_width {
            return Err(ParamError::invalid(
                "lsb",
                format!("bits {lsb}..{} lie outside the {in_width}-bit input", lsb + width - 1),
            ));
        }
        let ports = Interface::new()
            .input("a", PortType::Bits(in_width as u8))
            .combinational("y", PortType::Bits(width as u8));
        Ok((ports, Box::new(Slice { lsb })))
    })
    .doc("Inputs: a (Bits(in_width)). Outputs: y = a[lsb + width - 1 : lsb] (Bits(width), combinational).")
    .param(ParamDecl::int("in_width", 1, 64, "width of a").default(32))
    .param(ParamDecl::int("lsb", 0, 63, "lowest bit taken").default(0))
    .param(ParamDecl::int("width", 1, 64, "number of bits taken").default(1))
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    #[test]
    fn takes_the_field_and_checks_bounds() {
        let mut tb = Testbench::new(
            "slice",
            params! { "in_width" => 16, "lsb" => 4, "width" => 8 },
        )
        .unwrap();
        tb.set("a", 0xabcd);
        assert_eq!(tb.get("y"), 0xbc);
        let e = Testbench::new(
            "slice",
            params! { "in_width" => 8, "lsb" => 4, "width" => 8 },
        );
        assert!(e
            .err()
            .unwrap()
            .to_string()
            .contains("outside the 8-bit input"));
    }
}
