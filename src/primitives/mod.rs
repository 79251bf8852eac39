//! The standard primitive models. Each file holds one model (or one family
//! sharing an implementation) with its documentation and unit tests.

use crate::model::ModelInfo;

mod alu;
mod arbiter;
mod arith;
mod assert;
mod bus;
mod clock_enable;
mod compare;
mod concat;
mod constant;
mod contents;
mod counter;
mod edge_detect;
mod expr;
mod fifo;
mod gates;
mod hit_pixel;
mod lfsr;
mod memory;
mod mux;
mod pixel;
mod process;
mod register;
mod shift_register;
mod slice;
mod stimulus;

/// Every standard primitive.
pub fn all() -> Vec<ModelInfo> {
    let mut models = vec![
        constant::info(),
        register::info(),
        counter::info(),
        alu::info(),
        mux::info(),
        compare::info(),
        slice::info(),
        concat::info(),
        lfsr::info(),
        shift_register::info(),
        edge_detect::info(),
        clock_enable::info(),
        fifo::info(),
        expr::info(),
        assert::info(),
        stimulus::info(),
        bus::info(),
        arbiter::info(),
        pixel::info(),
        hit_pixel::info(),
        process::info(),
    ];
    models.extend(memory::infos());
    models.extend(arith::infos());
    models.extend(gates::infos());
    models
}

/// Names `prefix[0]`, `prefix[1]`, … of a port array.
pub(crate) fn port_array(prefix: &str, n: usize) -> impl Iterator<Item = String> + '_ {
    (0..n).map(move |i| format!("{prefix}[{i}]"))
}

#[cfg(test)]
mod lowering_tests;
