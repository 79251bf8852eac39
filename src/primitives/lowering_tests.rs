//! Every standard model's lowering computes what its own `eval` and `tick`
//! do (see [`crate::lower::check`]).

use crate::params::ParamValue;
use crate::{params, Registry};

fn agree(model: &str, params: Vec<(String, ParamValue)>, cycles: usize) {
    let registry = Registry::standard();
    let info = registry.get(model).expect("a standard model");
    if let Err(e) = crate::lower::check(info, params.clone(), cycles) {
        panic!("{e} ({params:?})");
    }
}

#[test]
fn every_standard_lowering_agrees_with_its_model() {
    let cases: Vec<(&str, Vec<(String, ParamValue)>)> = vec![
        (
            "counter",
            params! {"width" => 5, "start" => 3, "step" => -2},
        ),
        ("counter", params! {"width" => 64, "step" => 7}),
        ("register", params! {"width" => 12, "init" => 9}),
        ("const", params! {"width" => 8, "value" => 3}),
        ("add", params! {"width" => 7}),
        ("sub", params! {"width" => 64}),
        ("mul", params! {"width" => 33}),
        ("add", params! {"real" => true}),
        ("mul", params! {"real" => true}),
        ("alu", params! {"width" => 8}),
        ("alu", params! {"width" => 64}),
        ("alu", params! {"width" => 1}),
        ("not", params! {"width" => 9}),
        ("and", params! {"width" => 8, "n" => 3}),
        ("or", params! {"width" => 16, "n" => 1}),
        ("xor", params! {"width" => 32, "n" => 37}),
        ("mux", params! {"width" => 8, "n" => 5}),
        ("mux", params! {"width" => 64, "n" => 64}),
        ("sum", params! {"width" => 1, "n" => 64}),
        ("sum", params! {"width" => 16, "n" => 7, "out_width" => 12}),
        (
            "compare",
            params! {"width" => 8, "op" => "lt", "signed" => true},
        ),
        ("compare", params! {"width" => 16, "op" => "ge"}),
        ("compare", params! {"width" => 4, "op" => "ne"}),
        (
            "slice",
            params! {"in_width" => 32, "lsb" => 5, "width" => 7},
        ),
        ("concat", params! {"widths" => vec![3, 5, 8]}),
        ("concat", params! {"n" => 16, "width" => 4}),
        ("lfsr", params! {"width" => 16}),
        (
            "lfsr",
            params! {"width" => 12, "form" => "fibonacci", "seed" => 5},
        ),
        ("shift_register", params! {"width" => 8, "length" => 3}),
        ("shift_register", params! {"width" => 8, "length" => 1}),
        ("edge_detect", params! {}),
        ("clock_enable", params! {"n" => 5, "phase" => 2}),
        ("arbiter", params! {"masters" => 5}),
        ("arbiter", params! {"masters" => 64}),
        (
            "bus",
            params! {"masters" => 4, "addr_width" => 8, "data_width" => 16},
        ),
        ("bus", params! {"masters" => 3, "arbitration" => "priority"}),
        ("bus", params! {"masters" => 64}),
        (
            "ram",
            params! {"width" => 8, "depth" => 10, "init" => vec![1, 2, 3]},
        ),
        (
            "ram",
            params! {"width" => 8, "depth" => 16, "read" => "registered"},
        ),
        (
            "rom",
            params! {"width" => 8, "depth" => 5, "init" => vec![9, 8, 7, 6, 5]},
        ),
        ("fifo", params! {"width" => 8, "depth" => 3}),
        ("fifo", params! {"width" => 8, "depth" => 1}),
        (
            "stimulus",
            params! {"width" => 8, "values" => vec![5, 6, 7]},
        ),
        (
            "stimulus",
            params! {"width" => 8, "values" => vec![5, 6, 7], "repeat" => true},
        ),
        (
            "stimulus",
            params! {"width" => 8, "values" => vec![5, 6, 7], "next" => true},
        ),
        (
            "stimulus",
            params! {"values" => vec![5, 6], "next" => true, "repeat" => true},
        ),
        ("hit_pixel", params! {"seed" => 7, "threshold" => 300}),
        (
            "expr",
            params! {
                "inputs" => vec!["a: 8", "b: 8"],
                "registers" => vec!["acc: 16 = acc + y", "n: 3 = n + 1"],
                "outputs" => vec!["y: 9 = a + b", "z: 1 = y > acc[7:0] && n != 3"],
            },
        ),
        (
            "expr",
            params! {
                "inputs" => vec!["a: 8", "b: 8"],
                "registers" => vec!["acc: 16 init 700 = acc + t", "n: 3 init 5 = n + 1"],
                "outputs" => vec!["let t: 17 = {a, b[0]} + popcount(b)", "z: 1 = t > acc[7:0]"],
            },
        ),
        (
            "expr",
            params! {"inputs" => vec!["d: 32"], "registers" => vec!["q: 32 = (d + 3) ^ (d << 1)"]},
        ),
        (
            "assert",
            params! {"inputs" => vec!["a: 4"], "condition" => "a != 9", "skip" => 2},
        ),
        // Never true: it fails exactly when the skipped cycles are over.
        (
            "assert",
            params! {"inputs" => vec!["a: 8"], "condition" => "a == 1000", "skip" => 3},
        ),
    ];
    for (model, params) in cases {
        agree(model, params, 400);
    }
}
