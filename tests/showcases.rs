//! The showcase circuits compute what they are meant to: the cpu8 program
//! leaves the Fibonacci numbers in memory, the detector readout carries
//! every pixel hit through the bus into the FIFO, in order, losing none, and
//! the traffic light's one-component state machine keeps its timing.

mod common;

use common::{load, parse_vcd, run_traced};
use cspsim::engine::RunOptions;

#[test]
fn cpu8_writes_the_fibonacci_numbers_into_memory_and_halts() {
    let circuit = load("cpu8");
    let (result, vcd) = run_traced(circuit, &RunOptions::default());
    result.expect("cpu8 runs");
    let waves = parse_vcd(&vcd, 10);
    let (we, addr, wdata) = (
        waves.get("cpu8.dmem.we"),
        waves.get("cpu8.dmem.addr"),
        waves.get("cpu8.dmem.wdata"),
    );
    // Replay the writes the processor made (they happen at each cycle's edge).
    let mut memory = [0u64; 256];
    for t in 0..waves.cycles {
        if we[t] == 1 {
            memory[addr[t] as usize] = wdata[t];
        }
    }
    assert_eq!(
        memory[..14],
        [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233]
    );
    assert_eq!(memory[14], 0, "nothing written past the table");
    let last = waves.cycles - 1;
    assert_eq!(waves.get("cpu8.ctrl.halted")[last], 1, "the program halted");
    assert_eq!(
        waves.get("cpu8.pc.q")[last],
        0x13,
        "at the HALT instruction"
    );
}

#[test]
fn detector_readout_carries_every_hit_into_the_fifo_in_order() {
    let circuit = load("detector_readout");
    let (result, vcd) = run_traced(circuit, &RunOptions::default());
    result.expect("the readout never overflows");
    let w = parse_vcd(&vcd, 10);
    let n = w.cycles;
    let get = |name: &str| w.get(&format!("detector_readout.{name}"));
    let gnt: Vec<&[u64]> = (0..4).map(|i| get(&format!("bus.gnt[{i}]"))).collect();
    let (bus_valid, word) = (get("bus.valid"), get("pack.word"));
    let mut hits = 0;
    let mut pending = 0;
    for (i, granted) in gnt.iter().enumerate() {
        let (hit, valid) = (get(&format!("pix{i}.hit")), get(&format!("pix{i}.valid")));
        hits += hit.iter().sum::<u64>();
        pending += valid[n - 1] & (1 - granted[n - 1]);
        for t in 0..n {
            assert!(
                granted[t] <= valid[t],
                "pixel {i} granted without a request at {t}"
            );
            if granted[t] == 1 {
                assert_eq!(word[t] >> 12, i as u64, "the word carries the pixel number");
            }
        }
    }
    let transactions: u64 = bus_valid.iter().sum();
    for t in 0..n {
        let grants: u64 = gnt.iter().map(|g| g[t]).sum();
        assert_eq!(grants, bus_valid[t], "one grant per transaction at {t}");
    }
    assert!(transactions >= 20, "the pixels fire: {transactions}");
    assert_eq!(hits, transactions + pending, "no hit is lost");
    assert_eq!(
        get("readouts.q")[n - 1],
        bus_valid[..n - 1].iter().sum::<u64>()
    );
    // Words leave the FIFO in the order they entered.
    let (pop, dout, count) = (get("fifo.pop"), get("fifo.dout"), get("fifo.count"));
    let pushed: Vec<u64> = (0..n)
        .filter(|&t| bus_valid[t] == 1)
        .map(|t| word[t])
        .collect();
    let popped: Vec<u64> = (0..n)
        .filter(|&t| pop[t] == 1 && count[t] > 0)
        .map(|t| dout[t])
        .collect();
    assert_eq!(popped[..], pushed[..popped.len()]);
    assert!(count.iter().any(|&c| c >= 2), "words queue up in the FIFO");
}

/// Two masters driven from CSV stimulus files share a RAM through a
/// fixed-priority bus: the write wins the first cycle, the read waits one
/// cycle and sees the written word; an `assert` in the circuit checks it.
#[test]
fn a_bus_serves_two_masters_from_one_memory() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cspsim-bus");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("writer.csv"),
        "req:1, we:1, addr:4, wdata:8\n1, 1, 3, 42\n0, 0, 0, 0\n",
    )
    .unwrap();
    std::fs::write(dir.join("reader.csv"), "req:1, addr:4\n1, 3\n1, 3\n0, 0\n").unwrap();
    let circuit = r#"Circuit(
    name: "bus_ram",
    cycles: 6,
    components: {
        "writer": Component(model: "stimulus", params: {"file": "writer.csv"}),
        "reader": Component(model: "stimulus", params: {"file": "reader.csv"}),
        "bus": Component(model: "bus", params: {"masters": 2, "addr_width": 4, "data_width": 8, "arbitration": "priority"}),
        "ram": Component(model: "ram", params: {"width": 8, "depth": 16}),
        "check": Component(model: "assert", params: {
            "inputs": ["gnt: 1", "rdata: 8"],
            "condition": "!gnt || rdata == 42",
        }),
    },
    nets: {
        "writer.req": ["bus.req[0]"], "writer.we": ["bus.we[0]"],
        "writer.addr": ["bus.addr[0]"], "writer.wdata": ["bus.wdata[0]"],
        "reader.req": ["bus.req[1]"], "reader.addr": ["bus.addr[1]"],
        "bus.addr": ["ram.addr"], "bus.wdata": ["ram.wdata"], "bus.we": ["ram.we"],
        "bus.gnt[1]": ["check.gnt"], "ram.rdata": ["check.rdata"],
    },
)"#;
    let path = dir.join("bus_ram.ron");
    std::fs::write(&path, circuit).unwrap();
    let (result, vcd) = run_traced(common::load_path(&path), &RunOptions::default());
    result.expect("the reader sees the written word");
    let w = parse_vcd(&vcd, 10);
    assert_eq!(w.get("bus_ram.bus.gnt[0]")[..3], [1, 0, 0]);
    assert_eq!(w.get("bus_ram.bus.gnt[1]")[..3], [0, 1, 0]);
    assert_eq!(w.get("bus_ram.ram.rdata")[1], 42);
}

/// An `expr` with registers is a state machine: 30 cycles green, 5 yellow,
/// 20 red, over and over, exactly one light at a time.
#[test]
fn the_traffic_light_keeps_its_timing() {
    let (result, vcd) = run_traced(load("traffic_light"), &RunOptions::default());
    assert_eq!(result.expect("traffic_light runs").cycles, 165);
    let waves = parse_vcd(&vcd, 10);
    let lights = ["green", "yellow", "red"].map(|l| waves.get(&format!("traffic_light.light.{l}")));
    for t in 0..waves.cycles {
        let phase = t % 55;
        let want = if phase < 30 {
            0
        } else if phase < 35 {
            1
        } else {
            2
        };
        for (l, light) in lights.iter().enumerate() {
            assert_eq!(light[t], u64::from(l == want), "light {l} at cycle {t}");
        }
    }
}

/// One `expr` computes exactly what five gate components compute.
#[test]
fn an_expr_matches_the_gates_it_replaces() {
    let (gates, gates_vcd) = run_traced(load("logic_gates"), &RunOptions::default());
    let (expr, expr_vcd) = run_traced(load("logic_expr"), &RunOptions::default());
    gates.unwrap();
    expr.unwrap();
    let (g, e) = (parse_vcd(&gates_vcd, 10), parse_vcd(&expr_vcd, 10));
    let y = e.get("logic_expr.y.q");
    assert_eq!(g.get("logic_gates.y.q"), y);
    assert!(
        y.iter().collect::<std::collections::BTreeSet<_>>().len() > 20,
        "y varies"
    );
}
