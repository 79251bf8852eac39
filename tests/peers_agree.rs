//! The peers the benchmark compares cspsim with simulate the same circuits:
//! the Verilog (Icarus, Verilator) and SystemC versions of the families in
//! `benches/peers/` end on cspsim's value of each family's result net, at
//! K = 16 and 256 (the one size of a processor). Without a peer's tools the peer is skipped, unless
//! `CSPSIM_REQUIRE_PEERS` is set, as CI does (it installs them).

#[path = "../benches/peers/mod.rs"]
mod peers;

use peers::{Peer, Scratch, FAMILIES};

const EDGES: u64 = 300;

fn agrees(peer: Peer, sizes: &[usize]) {
    if !peer.available() {
        assert!(
            std::env::var_os("CSPSIM_REQUIRE_PEERS").is_none(),
            "{} is required (apt-get install iverilog verilator libsystemc-dev)",
            peer.name()
        );
        // Straight to standard error, so that the test summary shows it.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED {}: not found", peer.name());
        return;
    }
    let scratch = Scratch::new(&format!("test-{peer:?}"));
    for (family, _, _) in FAMILIES {
        for k in peers::sizes(family, sizes) {
            let built = peer
                .build(family, k, &scratch.dir(peer, family, k))
                .unwrap_or_else(|e| panic!("{e}"));
            let theirs = built.run(EDGES).unwrap_or_else(|e| panic!("{e}")).result;
            let ours = peers::cspsim_result(family, k, EDGES);
            assert_eq!(
                theirs,
                ours,
                "{family}, K = {k}: {} and cspsim differ after {EDGES} edges",
                peer.name()
            );
        }
    }
}

#[test]
fn icarus_simulates_the_same_circuits() {
    agrees(Peer::Icarus, &[16, 256]);
}

#[test]
fn systemc_simulates_the_same_circuits() {
    agrees(Peer::SystemC, &[16, 256]);
}

/// Verilator's C++ build takes seconds per design: K = 16 only.
#[test]
fn verilator_simulates_the_same_circuits() {
    agrees(Peer::Verilator, &[16]);
}
