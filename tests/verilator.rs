//! RTL co-simulation: `examples/verilator/` builds a Verilog CRC-8 with
//! Verilator into a program that speaks the process protocol, and the
//! circuit beside it runs that program as a component. The CRC it reports
//! each cycle must be the CRC-8 of the bytes it was fed, computed here.

mod common;

use common::{cspsim, parse_vcd, skip, text};

/// CRC-8, polynomial 0x07, one byte.
fn crc8(mut crc: u8, byte: u8) -> u8 {
    crc ^= byte;
    for _ in 0..8 {
        crc = if crc & 0x80 != 0 {
            (crc << 1) ^ 0x07
        } else {
            crc << 1
        };
    }
    crc
}

#[test]
fn a_verilator_built_block_runs_as_a_component() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let have = std::process::Command::new("verilator")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            std::env::var_os("CSPSIM_REQUIRE_PEERS").is_none(),
            "CSPSIM_REQUIRE_PEERS is set, but verilator is not installed"
        );
        return skip("verilator is not installed");
    }
    let build = std::process::Command::new(root.join("examples/verilator/build.sh"))
        .output()
        .unwrap();
    assert!(build.status.success(), "{}", text(&build.stderr));
    let vcd = std::env::temp_dir().join(format!("cspsim-crc-{}.vcd", std::process::id()));
    let out = cspsim(&[
        "run",
        "examples/verilator/crc.ron",
        "--vcd",
        vcd.to_str().unwrap(),
        "--no-gtkw",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let waves = parse_vcd(&std::fs::read_to_string(&vcd).unwrap(), 10);
    let (bytes, en, got) = (
        waves.get("crc.bytes.q"),
        waves.get("crc.slow.en"),
        waves.get("crc.crc.crc"),
    );
    assert_eq!(got.len(), 64);
    let mut want = 0u8;
    for t in 0..got.len() {
        assert_eq!(got[t], u64::from(want), "cycle {t}");
        if en[t] == 1 {
            want = crc8(want, bytes[t] as u8);
        }
    }
    assert!(
        got.iter().filter(|&&c| c != 0).count() > 30,
        "the CRC moved"
    );
}
