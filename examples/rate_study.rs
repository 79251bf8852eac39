//! A small study from Rust alone: the detector example's hits and readouts
//! against the photon rate, five rates × three seeds, with `Simulation`.
//!
//! `cargo run --release --example rate_study`

use cspsim::netlist::LoadOptions;
use cspsim::simulation::{SimError, Simulation};

fn main() -> Result<(), SimError> {
    println!("rate   hits  readouts  (means of 3 seeds, 2000 cycles)");
    for rate in [0.02, 0.04, 0.06, 0.08, 0.10] {
        let (mut hits, mut readouts) = (0, 0);
        for seed in 0..3 {
            let options = LoadOptions {
                seed,
                params: vec![
                    ("rate".into(), rate.into()),
                    ("fifo_depth".into(), 64.into()),
                ],
                ..LoadOptions::default()
            };
            let mut sim = Simulation::from_file("circuits/detector_readout.ron", &options)?;
            sim.step(2000)?;
            for p in 0..4 {
                hits += sim.peek(&format!("pix{p}.count"))?;
            }
            readouts += sim.peek("readouts.q")?;
        }
        println!(
            "{rate:.2} {:>6.1} {:>9.1}",
            hits as f64 / 3.0,
            readouts as f64 / 3.0
        );
    }
    Ok(())
}
