//! `mux`: an n-way multiplexer.

use crate::lower::{Binary, Lowering};
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::ParamDecl;
use crate::primitives::port_array;
use crate::value::{bits_for, PortType};

/// Its number of data inputs.
struct Mux(usize);

/// The widest mux that compiles: its code grows with its inputs.
const LOWERED_INPUTS: usize = 64;

impl Model for Mux {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::none()
    }

    /// A chain of selects, up to [`LOWERED_INPUTS`] inputs; wider ones
    /// are interpreted, where a select is one indexed read.
    fn lower(&self) -> Option<Lowering> {
        if self.0 > LOWERED_INPUTS {
            return None;
        }
        let mut l = Lowering::new();
        let e = &mut l.eval;
        let sel = e.input(0);
        let mut y = e.constant(0);
        for i in (0..self.0).rev() {
            let this = e.binary_const(Binary::Eq, sel, i as u64);
            let x = e.input(1 + i);
            y = e.select(this, x, y);
        }
        e.set_output(0, y);
        Some(l)
    }

    fn reset(&mut self, _io: &Io<'_>) {}
    #[inline(always)]
    fn eval(&mut self, io: &Io<'_>) {
        let sel = io.get(0) as usize;
        let n = io.num_inputs() - 1;
        io.set(0, if sel < n { io.get(1 + sel) } else { 0 });
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new("mux", "n-way multiplexer", |p, _| {
        let ty = PortType::Bits(p.width("width")?);
        let n = p.usize("n")?;
        let sel = PortType::Bits(bits_for(n as u64) as u8);
        let ports = port_array("in", n)
            .fold(Interface::new().input("sel", sel), |ports, name| {
                ports.input(name, ty)
            })
            .combinational("y", ty);
        Ok((ports, Box::new(Mux(n))))
    })
    .doc(
        "Inputs: sel (Bits(ceil(log2 n)), at least 1 bit); in[0] … in[n-1] (Bits(width)).\n\
         Outputs: y = in[sel] (combinational); 0 when sel >= n. Up to 65,536 inputs; up to\n\
         64 compile to machine code, wider ones are interpreted.",
    )
    .param(ParamDecl::width("width of the data inputs and y"))
    .param(ParamDecl::int("n", 2, 65536, "number of data inputs").default(2))
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    #[test]
    fn selects_and_gives_zero_out_of_range() {
        let mut tb = Testbench::new("mux", params! { "width" => 8, "n" => 3 }).unwrap();
        for i in 0..3 {
            tb.set(&format!("in[{i}]"), 10 + i);
        }
        for sel in 0..3 {
            tb.set("sel", sel);
            assert_eq!(tb.get("y"), 10 + sel);
        }
        tb.set("sel", 3);
        assert_eq!(tb.get("y"), 0);
        crate::test_support::assert_err_contains(
            tb.try_set("sel", 4),
            "sel is Bits(2): 4 does not fit",
        );
    }

    #[test]
    fn wide_muxes_select_too() {
        let mut tb = Testbench::new("mux", params! { "width" => 16, "n" => 1000 }).unwrap();
        assert_eq!(tb.interface().inputs()[0].ty, crate::PortType::Bits(10));
        tb.set("in[999]", 0xbeef);
        tb.set("sel", 999);
        assert_eq!(tb.get("y"), 0xbeef);
        tb.set("sel", 1000);
        assert_eq!(tb.get("y"), 0, "beyond the inputs");
    }
}
