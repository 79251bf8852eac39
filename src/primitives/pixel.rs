//! `pixel`: a hybrid, charge-integrating detector pixel — photons in, charge
//! with noise, leakage and saturation, a discriminator with dead time, a
//! photon counter, an ADC, and a latched hit for readout.

use rand::rngs::ChaCha8Rng;
use rand::SeedableRng;
use rand_distr::{Distribution, Poisson, StandardNormal};

use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::{ParamDecl, ParamError};
use crate::value::{mask, PortType};

const PHOTONS: usize = 0;
const RESET: usize = 1;
const ACK: usize = 2;

const CHARGE: usize = 0;
const ADC: usize = 1;
const HIT: usize = 2;
const COUNT: usize = 3;
const VALID: usize = 4;
const DATA: usize = 5;

struct Pixel {
    seed: u64,
    rng: ChaCha8Rng,
    source: Option<Poisson<f64>>,
    charge_per_photon: f64,
    noise: f64,
    leakage: f64,
    full_well: f64,
    threshold: f64,
    gain: f64,
    adc_max: u64,
    dead_time: u64,
    // State.
    charge: f64,
    count: u64,
    dead: u64,
    hit: bool,
    valid: bool,
    data: u64,
}

impl Pixel {
    fn digitise(&self, charge: f64) -> u64 {
        // `as` saturates: negative or NaN gives 0.
        ((charge * self.gain) as u64).min(self.adc_max)
    }

    fn clear(&mut self) {
        self.charge = 0.0;
        self.count = 0;
        self.dead = 0;
        self.hit = false;
        self.valid = false;
        self.data = 0;
    }

    /// One cycle of integration with `photons` arriving from outside.
    fn integrate(&mut self, photons: u64) {
        let mut n = photons as f64;
        if let Some(source) = &self.source {
            n += source.sample(&mut self.rng);
        }
        let mut q = n * self.charge_per_photon + self.leakage;
        if self.noise > 0.0 {
            let z: f64 = StandardNormal.sample(&mut self.rng);
            q += self.noise * z;
        }
        self.charge = (self.charge + q).clamp(0.0, self.full_well);
        if self.threshold > 0.0 && self.charge >= self.threshold {
            self.hit = true;
            self.count += 1;
            self.data = self.digitise(self.charge);
            self.valid = true;
            self.charge = 0.0;
            self.dead = self.dead_time;
        }
    }

    fn publish(&self, io: &Io<'_>) {
        io.set_real(CHARGE, self.charge);
        io.set(ADC, self.digitise(self.charge));
        io.set(HIT, u64::from(self.hit));
        io.set(COUNT, self.count);
        io.set(VALID, u64::from(self.valid));
        io.set(DATA, self.data);
    }
}

/// A pixel's saved state: its generator's word position (high, low), its
/// charge, and count, dead time, hit, valid and data.
type Saved = ((u64, u64), f64, (u64, u64, bool, bool, u64));

impl Model for Pixel {
    /// The generator's position (its seed is the component's), then the
    /// analog and digital state.
    fn save(&self) -> Option<crate::model::ModelState> {
        let at = self.rng.get_word_pos();
        let generator = ((at >> 64) as u64, at as u64);
        let digital = (self.count, self.dead, self.hit, self.valid, self.data);
        crate::model::ModelState::of(&(generator, self.charge, digital))
    }

    fn restore(&mut self, state: &crate::model::ModelState, _io: &Io<'_>) -> Result<(), String> {
        let ((high, low), charge, digital): Saved = state.read()?;
        self.rng
            .set_word_pos((u128::from(high) << 64) | u128::from(low));
        self.charge = charge;
        (self.count, self.dead, self.hit, self.valid, self.data) = digital;
        Ok(())
    }

    fn reset(&mut self, io: &Io<'_>) {
        self.rng = ChaCha8Rng::seed_from_u64(self.seed);
        self.clear();
        self.publish(io);
    }

    fn tick(&mut self, io: &Io<'_>) {
        if io.get_bool(RESET) {
            self.clear();
        } else {
            if io.get_bool(ACK) {
                self.valid = false;
            }
            self.hit = false;
            if self.dead > 0 {
                self.dead -= 1;
            } else {
                self.integrate(io.get(PHOTONS));
            }
        }
        self.publish(io);
    }
}

fn non_negative(name: &str, v: f64) -> Result<f64, ParamError> {
    if v >= 0.0 && v.is_finite() {
        Ok(v)
    } else {
        Err(ParamError::invalid(
            name,
            format!("{} must be finite and ≥ 0", crate::params::real_text(v)),
        ))
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new(
        "pixel",
        "charge-integrating detector pixel with discriminator and ADC",
        |p, ctx| {
            let rate = non_negative("rate", p.real("rate")?)?;
            let source = if rate > 0.0 {
                let too_many = || {
                    ParamError::invalid(
                        "rate",
                        format!(
                            "{} photons a cycle is more than a Poisson draw can give (at most {})",
                            crate::params::real_text(rate),
                            crate::params::real_text(Poisson::<f64>::MAX_LAMBDA)
                        ),
                    )
                };
                Some(Poisson::new(rate).map_err(|_| too_many())?)
            } else {
                None
            };
            let adc_bits = p.width("adc_bits")?;
            let count_bits = p.width("count_width")?;
            let full_well = p.real("full_well")?;
            if full_well <= 0.0 || !full_well.is_finite() {
                return Err(ParamError::invalid("full_well", "must be finite and > 0"));
            }
            let ports = Interface::new()
                .optional_input("photons", PortType::Bits(16), 0)
                .optional_input("reset", PortType::Bits(1), 0)
                .optional_input("ack", PortType::Bits(1), 0)
                .registered("charge", PortType::Real)
                .registered("adc", PortType::Bits(adc_bits))
                .registered("hit", PortType::Bits(1))
                .registered("count", PortType::Bits(count_bits))
                .registered("valid", PortType::Bits(1))
                .registered("data", PortType::Bits(adc_bits));
            let seed = ctx.component_seed();
            Ok((
                ports,
                Box::new(Pixel {
                    seed,
                    rng: ChaCha8Rng::seed_from_u64(seed),
                    source,
                    charge_per_photon: non_negative(
                        "charge_per_photon",
                        p.real("charge_per_photon")?,
                    )?,
                    noise: non_negative("noise", p.real("noise")?)?,
                    leakage: p.real("leakage")?,
                    full_well,
                    threshold: p.real("threshold")?,
                    gain: non_negative("gain", p.real("gain")?)?,
                    adc_max: mask(adc_bits.into()),
                    dead_time: p.int("dead_time")? as u64,
                    charge: 0.0,
                    count: 0,
                    dead: 0,
                    hit: false,
                    valid: false,
                    data: 0,
                }),
            ))
        },
    )
    .doc(
        "Inputs (optional): photons (Bits(16), default 0) arriving this cycle; reset (Bits(1));\n\
         ack (Bits(1)) from the readout.\n\
         Outputs (registered): charge (Real, electrons); adc (Bits(adc_bits)) =\n\
         min(floor(charge × gain), 2^adc_bits − 1); hit (Bits(1)), 1 for the cycle after the\n\
         discriminator fired; count (Bits(count_width)), hits since reset; valid and data: the\n\
         last hit's ADC value, latched until ack.\n\
         Each clock edge: with reset, everything clears. Otherwise ack clears valid, then,\n\
         unless dead, the pixel integrates n = photons + Poisson(rate) photons:\n\
         charge += n × charge_per_photon + leakage + noise × N(0, 1), clamped to 0..=full_well\n\
         (saturation). If threshold > 0 and charge ≥ threshold, the hit fires: count += 1,\n\
         data = the ADC value of the charge, valid = 1, the charge is cleared and the pixel is\n\
         dead (photons are lost) for dead_time cycles. A hit before the previous one was acked\n\
         replaces it. With threshold ≤ 0 the pixel only integrates (read it through adc).\n\
         Randomness comes from a ChaCha8 generator seeded from the run seed and the\n\
         component path: identical in every engine and thread count.",
    )
    .param(
        ParamDecl::real(
            "rate",
            "mean photons per cycle from the internal Poisson source",
        )
        .default(0.0),
    )
    .param(ParamDecl::real("charge_per_photon", "electrons per photon").default(1000.0))
    .param(ParamDecl::real("noise", "Gaussian noise, electrons rms per cycle").default(0.0))
    .param(ParamDecl::real("leakage", "leakage (dark) current, electrons per cycle").default(0.0))
    .param(ParamDecl::real("full_well", "saturation charge, electrons").default(1.0e6))
    .param(
        ParamDecl::real("threshold", "discriminator threshold, electrons (≤ 0: off)").default(0.0),
    )
    .param(ParamDecl::real("gain", "ADC counts per electron").default(0.004))
    .param(ParamDecl::int("adc_bits", 1, 32, "ADC resolution").default(12))
    .param(ParamDecl::int("count_width", 1, 64, "bits of the hit counter").default(16))
    .param(
        ParamDecl::int(
            "dead_time",
            0,
            u32::MAX.into(),
            "cycles without integration after a hit",
        )
        .default(0),
    )
}

#[cfg(test)]
mod tests {
    use approx::assert_relative_eq;

    use crate::{params, BuildContext, ParamValue, Testbench};

    fn bench(params: Vec<(String, ParamValue)>, path: &str) -> Testbench {
        Testbench::with_context(&super::info(), params, &BuildContext::new(path)).unwrap()
    }

    /// Mean and variance of the charge added per cycle match the analytic
    /// values: mean = λq + leakage, variance = λq² + σ².
    #[test]
    fn charge_statistics_match_poisson_plus_gaussian() {
        let (rate, q, sigma, leak) = (2.5, 100.0, 100.0, 5.0);
        let mut tb = bench(
            params! {
                "rate" => rate, "charge_per_photon" => q, "noise" => sigma,
                "leakage" => leak, "full_well" => 1.0e12,
            },
            "det.pix",
        );
        let n = 20_000;
        tb.step_n(20); // far from the clamp at 0
        let mut previous = tb.get_real("charge");
        let increments: Vec<f64> = (0..n)
            .map(|_| {
                tb.step();
                let now = tb.get_real("charge");
                let d = now - previous;
                previous = now;
                d
            })
            .collect();
        let mean = increments.iter().sum::<f64>() / n as f64;
        let var = increments.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        assert_relative_eq!(mean, rate * q + leak, max_relative = 0.02);
        assert_relative_eq!(var, rate * q * q + sigma * sigma, max_relative = 0.05);
    }

    #[test]
    fn charge_saturates_at_full_well_and_the_adc_at_its_top_code() {
        let mut tb = bench(
            params! { "rate" => 50.0, "full_well" => 20_000.0, "gain" => 1.0, "adc_bits" => 10 },
            "p",
        );
        tb.step_n(3);
        assert_relative_eq!(tb.get_real("charge"), 20_000.0);
        assert_eq!(tb.get("adc"), 1023);
    }

    #[test]
    fn leakage_alone_integrates_linearly_and_reset_clears() {
        let mut tb = bench(params! { "leakage" => 2.5, "gain" => 1.0 }, "p");
        tb.step_n(10);
        assert_relative_eq!(tb.get_real("charge"), 25.0, max_relative = 1e-12);
        assert_eq!(tb.get("adc"), 25);
        tb.set("reset", 1);
        tb.step();
        assert_eq!((tb.get_real("charge"), tb.get("adc")), (0.0, 0));
    }

    #[test]
    fn the_discriminator_fires_once_then_the_pixel_is_dead() {
        let mut tb = bench(
            params! {
                "charge_per_photon" => 100.0, "threshold" => 350.0,
                "gain" => 0.1, "dead_time" => 2,
            },
            "p",
        );
        tb.set("photons", 1);
        let mut hits = Vec::new();
        let mut charges = Vec::new();
        for _ in 0..12 {
            tb.step();
            hits.push(tb.get("hit"));
            charges.push(tb.get_real("charge"));
        }
        // 100, 200, 300, 400 → hit (charge cleared), dead for 2 cycles, again.
        assert_eq!(hits, vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(
            charges,
            vec![100.0, 200.0, 300.0, 0.0, 0.0, 0.0, 100.0, 200.0, 300.0, 0.0, 0.0, 0.0]
        );
        assert_eq!(tb.get("count"), 2);
        assert_eq!((tb.get("valid"), tb.get("data")), (1, 40));
        tb.set("ack", 1);
        tb.step();
        assert_eq!(tb.get("valid"), 0);
    }

    #[test]
    fn randomness_depends_on_the_seed_and_the_path_only() {
        let trace = |path: &str, seed: u64| {
            let ctx = BuildContext {
                seed,
                ..BuildContext::new(path)
            };
            let mut tb = Testbench::with_context(
                &super::info(),
                params! { "rate" => 0.7, "noise" => 10.0 },
                &ctx,
            )
            .unwrap();
            (0..50)
                .map(|_| {
                    tb.step();
                    tb.get("charge")
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(trace("a.pix", 1), trace("a.pix", 1));
        assert_ne!(trace("a.pix", 1), trace("a.pix", 2));
        assert_ne!(trace("a.pix", 1), trace("b.pix", 1));
    }
}
