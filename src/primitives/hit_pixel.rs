//! `hit_pixel`: an integer counting pixel — charge accumulates from a
//! deterministic hash each cycle; crossing the threshold raises `hit` for
//! one cycle and resets the charge. Cheap and reproducible, for detector
//! arrays measured at scale (the float [`pixel`](super::pixel) models noise
//! and an ADC instead).

use crate::batch::BatchIo;
use crate::lower::{Binary, Body, Lowering, Val};
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::ParamDecl;
use crate::value::PortType;

const HIT: usize = 0;
const CHARGE: usize = 1;

struct HitPixel {
    seed: u64,
    threshold: u64,
    max_step: u64,
    cycle: u64,
    charge: u64,
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `x`.
fn hash(x: u64) -> u64 {
    let mut z = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl HitPixel {
    /// Advance one cycle; whether the pixel fired.
    #[inline(always)]
    fn step(&mut self) -> bool {
        // A deposit in 0..=max_step: the hash scaled by multiplication, not
        // divided (a division per pixel per cycle would dominate).
        let h = hash(self.seed ^ self.cycle.rotate_left(32));
        let deposit = ((u128::from(h) * u128::from(self.max_step + 1)) >> 64) as u64;
        self.cycle += 1;
        let charge = self.charge + deposit;
        let hit = charge >= self.threshold;
        self.charge = if hit { 0 } else { charge };
        hit
    }
}

/// [`hash`], lowered.
fn lower_hash(t: &mut Body, x: Val) -> Val {
    let mut z = t.binary_const(Binary::Mul, x, 0x9E37_79B9_7F4A_7C15);
    for (shift, factor) in [(30, 0xBF58_476D_1CE4_E5B9), (27, 0x94D0_49BB_1331_11EB)] {
        let high = t.binary_const(Binary::Shr, z, shift);
        let mixed = t.binary(Binary::Xor, z, high);
        z = t.binary_const(Binary::Mul, mixed, factor);
    }
    let high = t.binary_const(Binary::Shr, z, 31);
    t.binary(Binary::Xor, z, high)
}

impl Model for HitPixel {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::of(&(self.cycle, self.charge))
    }

    fn restore(&mut self, state: &crate::model::ModelState, _io: &Io<'_>) -> Result<(), String> {
        (self.cycle, self.charge) = state.read()?;
        Ok(())
    }

    fn unlower(&mut self, state: &[u64], _arrays: &[Vec<u64>]) {
        (self.cycle, self.charge) = (state[0], state[1]);
    }

    fn lower(&self) -> Option<Lowering> {
        let mut l = Lowering::new();
        let cycle = l.state_word(self.cycle);
        let charge = l.state_word(self.charge);
        let t = &mut l.tick;
        let c = t.load(cycle);
        let turned = t.binary_const(Binary::Rotl, c, 32);
        let x = t.binary_const(Binary::Xor, turned, self.seed);
        let h = lower_hash(t, x);
        let deposit = t.binary_const(Binary::MulHigh, h, self.max_step + 1);
        let c = t.binary_const(Binary::Add, c, 1);
        t.store(cycle, c);
        let q = t.load(charge);
        let q = t.binary(Binary::Add, q, deposit);
        let hit = t.binary_const(Binary::Ge, q, self.threshold);
        let zero = t.constant(0);
        let q = t.select(hit, zero, q);
        t.store(charge, q);
        t.set_output(HIT, hit);
        t.set_output(CHARGE, q);
        Some(l)
    }

    fn reset(&mut self, io: &Io<'_>) {
        self.cycle = 0;
        self.charge = 0;
        io.set(HIT, 0);
        io.set(CHARGE, 0);
    }

    #[inline(always)]
    fn tick(&mut self, io: &Io<'_>) {
        let hit = self.step();
        io.set(HIT, u64::from(hit));
        io.set(CHARGE, self.charge);
    }

    /// The pixels of a batch, without building a view per member (pixels
    /// have no inputs and cannot fail): every pixel steps and sets its hit,
    /// then every pixel sets its charge.
    fn tick_batch(batch: &mut [Self], io: &BatchIo<'_>) {
        io.set_output_each(HIT, batch.iter_mut().map(|p| u64::from(p.step())));
        io.set_output_each(CHARGE, batch.iter().map(|p| p.charge));
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new(
        "hit_pixel",
        "integer counting pixel: hashed charge, threshold, one-cycle hit",
        |p, _| {
            let threshold = p.bits("threshold", 32)?.max(1);
            let max_step = p.bits("max_step", 32)?;
            let seed = p.bits("seed", 64)?;
            let ports = Interface::new()
                .clocked(true)
                .registered("hit", PortType::Bits(1))
                .registered("charge", PortType::Bits(32));
            Ok((
                ports,
                Box::new(HitPixel {
                    seed: hash(seed),
                    threshold,
                    max_step,
                    cycle: 0,
                    charge: 0,
                }),
            ))
        },
    )
    .doc(
        "No inputs. Outputs (registered): hit (Bits(1)), charge (Bits(32)).\n\
         At each clock edge the pixel adds a deposit in 0..=max_step, a hash of\n\
         (seed, cycle), to its charge. When the charge reaches `threshold`, hit is 1\n\
         for the next cycle and the charge restarts at 0. Every run gives the same hits.",
    )
    .param(ParamDecl::int("threshold", 1, u32::MAX.into(), "charge that fires a hit").default(1000))
    .param(ParamDecl::int("max_step", 0, u32::MAX.into(), "largest deposit per cycle").default(255))
    .param(
        ParamDecl::int(
            "seed",
            0,
            u64::MAX.into(),
            "selects the pixel's deposit sequence",
        )
        .default(0),
    )
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    #[test]
    fn hits_for_one_cycle_when_charge_reaches_threshold() {
        let mut tb =
            Testbench::new("hit_pixel", params! { "threshold" => 500, "seed" => 7 }).unwrap();
        let mut hits = 0;
        let mut last_charge = 0;
        for _ in 0..1000 {
            tb.step();
            let (hit, charge) = (tb.get("hit"), tb.get("charge"));
            if hit == 1 {
                hits += 1;
                assert_eq!(charge, 0, "a hit resets the charge");
            } else {
                assert!(
                    charge >= last_charge && charge < 500,
                    "{last_charge} -> {charge}"
                );
            }
            last_charge = charge;
        }
        // Mean deposit 127.5: a hit about every 4.4 cycles.
        assert!((150..=300).contains(&hits), "{hits} hits");
    }

    #[test]
    fn seeds_give_different_reproducible_sequences() {
        let run = |seed: u64| {
            let mut tb = Testbench::new("hit_pixel", params! { "seed" => seed }).unwrap();
            (0..50)
                .map(|_| {
                    tb.step();
                    tb.get("charge")
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn no_deposit_means_no_hit() {
        let mut tb =
            Testbench::new("hit_pixel", params! { "max_step" => 0, "threshold" => 1 }).unwrap();
        for _ in 0..10 {
            tb.step();
            assert_eq!((tb.get("hit"), tb.get("charge")), (0, 0));
        }
    }
}
