//! `const`: a constant value, Bits or Real.

use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::{ParamDecl, ParamError};
use crate::value::PortType;

struct Constant(u64);

impl Model for Constant {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::none()
    }

    /// Nothing per cycle: the value is written at reset.
    fn lower(&self) -> Option<crate::lower::Lowering> {
        Some(crate::lower::Lowering::new())
    }

    fn reset(&mut self, io: &Io<'_>) {
        io.set(0, self.0);
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new("const", "a constant value", |p, _| {
        let (ty, bits) = if p.bool("real")? {
            (PortType::Real, p.real("value")?.to_bits())
        } else {
            if p.is_real("value")? {
                return Err(ParamError::invalid(
                    "value",
                    "is a real number; set `real: true` for a Real constant",
                ));
            }
            let width = p.width("width")?;
            (PortType::Bits(width), p.bits("value", width.into())?)
        };
        let ports = Interface::new().registered("y", ty).clocked(false);
        Ok((ports, Box::new(Constant(bits))))
    })
    .doc(
        "Outputs: y (Bits(width), or Real when real = true) — the value, every cycle.\n\
         Costs nothing per cycle: the value is written once at reset.",
    )
    .param(ParamDecl::width("width of y"))
    .param(
        ParamDecl::number(
            "value",
            "the value (negative integers are two's complement)",
        )
        .default(0),
    )
    .param(ParamDecl::bool("real", "make y a Real").default(false))
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    #[test]
    fn outputs_its_value_forever() {
        let mut tb = Testbench::new("const", params! { "width" => 8, "value" => -2 }).unwrap();
        assert_eq!(tb.get("y"), 0xfe);
        tb.step_n(3);
        assert_eq!(tb.get("y"), 0xfe);
    }

    #[test]
    fn real_constants_and_misuse() {
        let mut tb = Testbench::new("const", params! { "real" => true, "value" => 2.5 }).unwrap();
        assert_eq!(tb.get_real("y"), 2.5);
        crate::test_support::assert_err_contains(
            Testbench::new("const", params! { "value" => 2.5 }),
            "set `real: true` for a Real constant",
        );
        crate::test_support::assert_err_contains(
            Testbench::new("const", params! { "width" => 4, "value" => 16 }),
            "16 does not fit in 4 bits",
        );
    }
}
