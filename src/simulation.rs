//! Whole-circuit simulation from Rust, a cycle at a time: load a circuit
//! (composite models included), [`poke`](Simulation::poke) its unconnected
//! inputs, [`step`](Simulation::step) the clock, [`peek`](Simulation::peek)
//! any port, and trace to a file or to memory. Integration tests of a
//! composite model, and study loops, need nothing else.
//!
//! ```
//! use cspsim::simulation::Simulation;
//! let text = r#"Circuit(components: {
//!     "acc": Component(model: "expr", params: {
//!         "inputs": ["x: 8"],
//!         "registers": ["sum: 16 = sum + x"],
//!         "outputs": ["big: 1 = sum > 100"],
//!     }),
//! })"#;
//! let mut sim = Simulation::from_text(text, &Default::default())?;
//! sim.poke("acc.x", 30)?;
//! assert_eq!(sim.peek("acc.sum")?, 0); // registered: it changes at the edge
//! sim.step(2)?;
//! assert_eq!(sim.peek("acc.sum")?, 60);
//! let reached = sim.run_until(10, |sim| sim.peek("acc.big").unwrap() == 1)?;
//! assert_eq!((reached, sim.cycle(), sim.peek("acc.sum")?), (true, 4, 120));
//! # Ok::<(), cspsim::simulation::SimError>(())
//! ```
//!
//! After a failure in cycle `t`, [`cycle`](Simulation::cycle) stays `t`:
//! that cycle did not complete here, though `cspsim run` (and a sweep's
//! `cycles` column) counts a cycle whose clock edge failed as completed,
//! as its values are in the trace (they are in a `Simulation`'s too).
//!
//! The semantics are the engines' (a test holds every example circuit's
//! trace byte-identical to theirs): in each cycle every component
//! evaluates in dependency order, then every clock edge happens at once.
//! [`peek`](Simulation::peek) shows the value a port has in the cycle about
//! to run ([`cycle`](Simulation::cycle)): registered outputs as the last
//! edge left them, combinational ones evaluated from them and the inputs
//! poked so far (a model's evaluation must give the same result when
//! repeated, as the [`Testbench`](crate::Testbench)'s also requires).
//!
//! A composite instance's ports are there too, by their own names
//! (`col[3].ready`, `col[3].pop`): poking an input port pokes every inner
//! input it drives. Only inputs that no net drives can be poked (those without a default
//! start at 0, where `cspsim run` would report them unconnected): a driven
//! input takes its driver's value every cycle, so poking it is an error
//! that names the driver. Components run one by one, interpreted, on the calling thread.
//!
//! [`checkpoint`](Simulation::checkpoint) takes the whole state at the
//! cycle about to run, and [`restore`](Simulation::restore) goes back to
//! it: the same [`Checkpoint`]s as `cspsim run` saves and restores.
//!
//! ```
//! # use cspsim::simulation::Simulation;
//! let text = r#"Circuit(components: {
//!     "c": Component(model: "counter", params: {"width": 8}),
//! })"#;
//! let mut sim = Simulation::from_text(text, &Default::default())?;
//! sim.step(10)?;
//! let warm = sim.checkpoint()?;
//! sim.step(5)?;
//! assert_eq!(sim.peek("c.q")?, 15);
//! sim.restore(&warm)?;
//! assert_eq!((sim.cycle(), sim.peek("c.q")?), (10, 10));
//! # Ok::<(), cspsim::simulation::SimError>(())
//! ```

use std::io;
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;

use crate::checkpoint::{Checkpoint, CheckpointError, ComponentState};
use crate::circuit::{Circuit, InnerPorts, PortRef, Source};
use crate::engine::guard;
use crate::model::{Io, Slot, Timing};
use crate::netlist::{self, LoadError, LoadOptions};
use crate::registry::Registry;
use crate::trace::{Trace, Tracer};
use crate::value::PortType;

/// Why a simulation call was refused or a cycle failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The circuit did not load.
    #[error("{0}")]
    Load(#[from] Box<LoadError>),
    /// No such port.
    #[error("no port `{path}`{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownPort {
        /// The path asked for (`component.port`).
        path: String,
        /// The closest that exists.
        suggestion: Option<String>,
    },
    /// A poke of an input that a net drives.
    #[error("`{path}` is driven by `{driver}`; only an unconnected input can be poked")]
    Driven {
        /// The input.
        path: String,
        /// Its driver (`component.port`).
        driver: String,
    },
    /// A composite input port that drives no inner input.
    #[error("`{path}` is a composite input port that drives nothing")]
    Unused {
        /// The port.
        path: String,
    },
    /// A poke of an output.
    #[error("`{path}` is an output; poke an input")]
    NotAnInput {
        /// The port.
        path: String,
    },
    /// A value of the wrong kind for the port.
    #[error("`{path}` is {ty}; {wanted}")]
    WrongType {
        /// The port.
        path: String,
        /// Its type.
        ty: PortType,
        /// What to use instead.
        wanted: &'static str,
    },
    /// A value wider than the port.
    #[error("`{path}` is {ty}: {value} does not fit")]
    TooWide {
        /// The port.
        path: String,
        /// Its type.
        ty: PortType,
        /// The value.
        value: u64,
    },
    /// A component failed ([`fail`](crate::model::fail): an `assert`) or
    /// panicked; the cycle did not complete.
    #[error("cycle {cycle}: component `{path}` (model `{model}`) {how}: {message}")]
    Fault {
        /// The component.
        path: String,
        /// Its model.
        model: String,
        /// The cycle.
        cycle: u64,
        /// `failed` or `panicked during evaluation` (or the clock edge, or reset).
        how: String,
        /// Why.
        message: String,
    },
    /// A trace could not be started or written.
    #[error("trace: {0}")]
    Trace(String),
    /// A checkpoint could not be taken or restored: a model that cannot
    /// save its state, a checkpoint of another circuit, a state a model
    /// refused.
    #[error("{0}")]
    Checkpoint(String),
}

/// A circuit being simulated; see the [module](self).
pub struct Simulation {
    circuit: Circuit,
    slots: Vec<Slot>,
    /// Each component's input slots and output slots, per parity read.
    ins: Vec<[Vec<u32>; 2]>,
    outs: Vec<[Vec<u32>; 2]>,
    masks: Vec<Vec<u64>>,
    /// The registered slots of parity 0 (parity 1 is `parity` further).
    registered: std::ops::Range<usize>,
    parity: usize,
    /// Components in evaluation order; the clocked ones.
    order: Vec<usize>,
    clocked: Vec<usize>,
    /// Component paths, for lookups; composite instances' ports.
    by_path: std::collections::HashMap<String, usize>,
    composite: std::collections::HashMap<String, usize>,
    cycle: u64,
    /// The cycle of the last reset or restore, where a trace may start.
    first: u64,
    /// Whether this cycle's combinational values are computed.
    settled: bool,
    /// The failure that ended the run, until a reset.
    failed: Option<Failed>,
    trace: Option<(Tracer, [Vec<u32>; 2])>,
}

impl Simulation {
    /// Load the circuit in `path` with `options` (seed, parameters, model
    /// directories) and the standard models, and reset it. Inputs that
    /// nothing drives are left open at 0, to be poked (as if
    /// `options.open_inputs` were set).
    pub fn from_file(path: impl AsRef<Path>, options: &LoadOptions) -> Result<Self, SimError> {
        Self::from_file_with(path, options, &Registry::standard())
    }

    /// [`from_file`](Self::from_file) with a registry of one's own models.
    pub fn from_file_with(
        path: impl AsRef<Path>,
        options: &LoadOptions,
        registry: &Registry,
    ) -> Result<Self, SimError> {
        let options = LoadOptions {
            open_inputs: true,
            ..options.clone()
        };
        let circuit =
            netlist::load_file_with(path.as_ref(), registry, &options).map_err(Box::new)?;
        Self::new(circuit)
    }

    /// Load a circuit written in `text` (composite models are looked for
    /// in `options.model_dirs` and `./models`).
    pub fn from_text(text: &str, options: &LoadOptions) -> Result<Self, SimError> {
        Self::from_text_with(text, options, &Registry::standard())
    }

    /// [`from_text`](Self::from_text) with a registry of one's own models.
    pub fn from_text_with(
        text: &str,
        options: &LoadOptions,
        registry: &Registry,
    ) -> Result<Self, SimError> {
        let options = LoadOptions {
            open_inputs: true,
            ..options.clone()
        };
        let circuit = netlist::elaborate_str(text, "<text>", None, registry, &options)
            .and_then(netlist::Elaborated::checked)
            .map_err(Box::new)?;
        Self::new(circuit)
    }

    /// A circuit of one instance, `dut`, of `model` (a primitive, or a
    /// composite model on the model path) with `params`: a model's
    /// integration test, through its ports (`dut.ready`).
    pub fn of_model(
        model: &str,
        params: &[(String, crate::params::ParamValue)],
        options: &LoadOptions,
    ) -> Result<Self, SimError> {
        Self::of_model_with(model, params, options, &Registry::standard())
    }

    /// [`of_model`](Self::of_model) with a registry of one's own models.
    pub fn of_model_with(
        model: &str,
        params: &[(String, crate::params::ParamValue)],
        options: &LoadOptions,
        registry: &Registry,
    ) -> Result<Self, SimError> {
        let params: Vec<String> = params.iter().map(|(k, v)| format!("{k:?}: {v}")).collect();
        let text = format!(
            "Circuit(name: {model:?}, components: {{\"dut\": Component(model: {model:?}, params: {{{}}})}})",
            params.join(", ")
        );
        Self::from_text_with(&text, options, registry)
    }

    /// Simulate an elaborated circuit, reset.
    pub fn new(circuit: Circuit) -> Result<Self, SimError> {
        let n = circuit.components.len();
        // Registered outputs first (two slots each), then the rest.
        let mut out_slot: Vec<Vec<u32>> = Vec::with_capacity(n);
        let mut next = 0u32;
        for c in &circuit.components {
            let slots = c.interface.outputs().iter().map(|o| {
                if o.timing == Timing::Registered {
                    next += 1;
                    next - 1
                } else {
                    u32::MAX
                }
            });
            out_slot.push(slots.collect());
        }
        let parity = next as usize;
        next *= 2;
        for slots in &mut out_slot {
            for s in slots.iter_mut().filter(|s| **s == u32::MAX) {
                *s = next;
                next += 1;
            }
        }
        let at = |c: usize, o: usize, p: usize| {
            let s = out_slot[c][o];
            if (s as usize) < parity {
                s + (p * parity) as u32
            } else {
                s
            }
        };
        let mut constants = Vec::new();
        let mut ins = Vec::with_capacity(n);
        for comp in &circuit.components {
            let mut slots = [Vec::new(), Vec::new()];
            for src in &comp.inputs {
                match *src {
                    Source::Driver(d) => {
                        for (p, s) in slots.iter_mut().enumerate() {
                            s.push(at(d.component, d.port, p));
                        }
                    }
                    Source::Constant(v) => {
                        constants.push((next, v));
                        slots[0].push(next);
                        slots[1].push(next);
                        next += 1;
                    }
                }
            }
            ins.push(slots);
        }
        let outs = (0..n)
            .map(|c| [0, 1].map(|p| (0..out_slot[c].len()).map(|o| at(c, o, p)).collect()))
            .collect();
        let slots: Vec<Slot> = (0..next).map(|_| Slot::new(0)).collect();
        for (s, v) in constants {
            slots[s as usize].store(v, Relaxed);
        }
        let masks = circuit
            .components
            .iter()
            .map(|c| c.interface.output_masks())
            .collect();
        let order = circuit.levels.iter().flatten().copied().collect();
        let clocked = (0..n)
            .filter(|&c| circuit.components[c].interface.is_clocked())
            .collect();
        let by_path = circuit
            .components
            .iter()
            .enumerate()
            .map(|(c, comp)| (comp.path.clone(), c))
            .collect();
        let composite = circuit
            .composite_ports
            .iter()
            .enumerate()
            .map(|(k, p)| (p.name.clone(), k))
            .collect();
        let mut sim = Simulation {
            circuit,
            slots,
            ins,
            outs,
            masks,
            registered: 0..parity,
            parity,
            order,
            clocked,
            by_path,
            composite,
            cycle: 0,
            first: 0,
            settled: false,
            failed: None,
            trace: None,
        };
        sim.reset()?;
        Ok(sim)
    }

    /// Reset every component (as before cycle 0); the cycle count starts
    /// again, and pokes stay. A trace being recorded goes on, its times
    /// counting on from where they were.
    pub fn reset(&mut self) -> Result<(), SimError> {
        self.failed = None;
        for c in 0..self.circuit.components.len() {
            self.call(c, 0, Call::Reset)?;
        }
        self.copy_forward(0);
        self.cycle = 0;
        self.first = 0;
        self.settled = false;
        Ok(())
    }

    /// The state at the start of the cycle about to run: the checkpoint
    /// `cspsim run --checkpoint-at` writes at this cycle (its
    /// [`to_text`](Checkpoint::to_text) is that file), which
    /// [`restore`](Self::restore) or `cspsim run --restore` continue from.
    /// Poked values are inputs, not state: they are not in it.
    pub fn checkpoint(&self) -> Result<Checkpoint, SimError> {
        if let Some(fault) = &self.failed {
            return Err(SimError::Checkpoint(format!(
                "the simulation failed in cycle {}; reset it or restore a checkpoint first",
                fault.cycle
            )));
        }
        let read = (self.cycle % 2) as usize;
        let mut components = Vec::with_capacity(self.circuit.components.len());
        for (c, comp) in self.circuit.components.iter().enumerate() {
            let state = comp.behaviour.save().ok_or_else(|| {
                SimError::Checkpoint(
                    CheckpointError::Unsupported {
                        path: comp.path.clone(),
                        model: comp.model.clone(),
                    }
                    .to_string(),
                )
            })?;
            let registered = comp
                .interface
                .outputs()
                .iter()
                .zip(&self.outs[c][read])
                .filter(|(o, _)| o.timing == Timing::Registered)
                .map(|(_, &s)| self.slots[s as usize].load(Relaxed))
                .collect();
            components.push(ComponentState {
                path: comp.path.clone(),
                model: comp.model.clone(),
                registered,
                state,
            });
        }
        let fingerprint = crate::checkpoint::fingerprint(&self.circuit);
        Ok(Checkpoint {
            components,
            ..Checkpoint::header(&self.circuit.name, &fingerprint, self.cycle)
        })
    }

    /// Continue from `checkpoint` (from [`checkpoint`](Self::checkpoint)
    /// or a file `cspsim run` wrote, read with [`Checkpoint::read`]): the
    /// cycle about to run becomes its cycle, and every register and model
    /// state its saved one. Pokes stay. A trace being recorded goes on, its
    /// times counting on from where they were; a trace started now starts
    /// at the checkpoint's cycle, as `cspsim run --restore` traces. A
    /// checkpoint of another circuit is refused and changes nothing; a
    /// state that a model refuses leaves the simulation reset.
    pub fn restore(&mut self, checkpoint: &Checkpoint) -> Result<(), SimError> {
        checkpoint.check(&self.circuit).map_err(|why| {
            SimError::Checkpoint(format!("the checkpoint does not fit this circuit: {why}"))
        })?;
        self.reset()?;
        let read = (checkpoint.cycle % 2) as usize;
        for (c, saved) in checkpoint.components.iter().enumerate() {
            let outputs = self.circuit.components[c].interface.outputs();
            let registered =
                (0..outputs.len()).filter(|&o| outputs[o].timing == Timing::Registered);
            for (o, &v) in registered.zip(&saved.registered) {
                let slot = self.outs[c][read][o] as usize;
                self.slots[slot].store(v & self.masks[c][o], Relaxed);
            }
        }
        self.copy_forward(read);
        for (c, saved) in checkpoint.components.iter().enumerate() {
            let io = Io::new(
                &self.slots,
                &self.ins[c][read],
                &self.outs[c][read],
                &self.masks[c],
            );
            let comp = &mut self.circuit.components[c];
            let model = comp.behaviour.as_mut();
            let refused = match guard(|| model.restore(&saved.state, &io)) {
                Ok(Ok(())) => None,
                Ok(Err(why)) | Err((_, why)) => Some(why),
            };
            if let Some(why) = refused {
                let why = crate::checkpoint::restore_failed(&comp.path, &comp.model, &why);
                self.reset()?;
                return Err(SimError::Checkpoint(why));
            }
        }
        self.cycle = checkpoint.cycle;
        self.first = checkpoint.cycle;
        self.settled = false;
        Ok(())
    }

    /// The cycle about to run: the number completed.
    pub fn cycle(&self) -> u64 {
        self.cycle
    }

    /// The circuit.
    pub fn circuit(&self) -> &Circuit {
        &self.circuit
    }

    /// Give the unconnected input `path` (`component.port`) the value
    /// `value` from this cycle on.
    pub fn poke(&mut self, path: &str, value: u64) -> Result<(), SimError> {
        let (slots, ty) = self.pokeable(path)?;
        match ty {
            PortType::Bits(_) if value > ty.mask() => Err(SimError::TooWide {
                path: path.to_string(),
                ty,
                value,
            }),
            PortType::Bits(_) => {
                self.write(&slots, value);
                Ok(())
            }
            PortType::Real => Err(SimError::WrongType {
                path: path.to_string(),
                ty,
                wanted: "use poke_real",
            }),
        }
    }

    /// [`poke`](Self::poke) a `Real` input.
    pub fn poke_real(&mut self, path: &str, value: f64) -> Result<(), SimError> {
        let (slots, ty) = self.pokeable(path)?;
        match ty {
            PortType::Real => {
                self.write(&slots, value.to_bits());
                Ok(())
            }
            PortType::Bits(_) => Err(SimError::WrongType {
                path: path.to_string(),
                ty,
                wanted: "use poke",
            }),
        }
    }

    /// The value of port `path` (`component.port`, input or output) in
    /// this cycle.
    pub fn peek(&mut self, path: &str) -> Result<u64, SimError> {
        let (slot, ty) = self.port(path)?;
        match ty {
            PortType::Bits(_) => self.read(slot),
            PortType::Real => Err(SimError::WrongType {
                path: path.to_string(),
                ty,
                wanted: "use peek_real",
            }),
        }
    }

    /// The value of the `Real` port `path` in this cycle.
    pub fn peek_real(&mut self, path: &str) -> Result<f64, SimError> {
        let (slot, ty) = self.port(path)?;
        match ty {
            PortType::Real => self.read(slot).map(f64::from_bits),
            PortType::Bits(_) => Err(SimError::WrongType {
                path: path.to_string(),
                ty,
                wanted: "use peek",
            }),
        }
    }

    /// Run `n` cycles. A failure ([`SimError::Fault`]) ends the run at its
    /// cycle, which does not count as completed (a failed clock edge's
    /// values are in the trace, as in `cspsim run`); later steps return it
    /// again, until a [`reset`](Self::reset).
    pub fn step(&mut self, n: u64) -> Result<(), SimError> {
        for _ in 0..n {
            self.one_cycle()?;
        }
        Ok(())
    }

    /// Run cycles until `done` holds (checked before each, so a condition
    /// true already runs none), at most `max` of them; whether it held.
    pub fn run_until(
        &mut self,
        max: u64,
        mut done: impl FnMut(&mut Simulation) -> bool,
    ) -> Result<bool, SimError> {
        for _ in 0..max {
            if done(self) {
                return Ok(true);
            }
            self.one_cycle()?;
        }
        Ok(done(self))
    }

    /// Record the signals `patterns` select (none: the circuit's `trace`)
    /// as a VCD written to `out`, from cycle 0 (or the cycle restored);
    /// before the first step.
    pub fn trace_vcd(
        &mut self,
        patterns: &[String],
        out: impl io::Write + Send + 'static,
    ) -> Result<(), SimError> {
        let patterns = self.patterns(patterns)?;
        let trace = Trace::vcd(&self.circuit, &patterns, io::BufWriter::new(out))
            .map_err(|e| SimError::Trace(e.to_string()))?;
        self.start_trace(trace)
    }

    /// [`trace_vcd`](Self::trace_vcd) to the file `path`.
    pub fn trace_vcd_file(
        &mut self,
        patterns: &[String],
        path: impl AsRef<Path>,
    ) -> Result<(), SimError> {
        let path = path.as_ref();
        let file = std::fs::File::create(path)
            .map_err(|e| SimError::Trace(format!("cannot create {}: {e}", path.display())))?;
        self.trace_vcd(patterns, file)
    }

    /// Close the trace, writing everything recorded (also done on drop).
    pub fn finish_trace(&mut self) -> Result<(), SimError> {
        match self.trace.take() {
            Some((tracer, _)) => tracer.finish().map_err(|e| SimError::Trace(e.to_string())),
            None => Ok(()),
        }
    }

    fn patterns(&self, patterns: &[String]) -> Result<Vec<String>, SimError> {
        if self.cycle > self.first {
            return Err(SimError::Trace(
                "a trace starts before the first step (after a reset or restore)".to_string(),
            ));
        }
        let patterns = if patterns.is_empty() {
            self.circuit.trace.clone()
        } else {
            patterns.to_vec()
        };
        let (_, unused) = crate::trace::select(&self.circuit.components, &patterns);
        match unused.first() {
            Some(&k) => Err(SimError::Trace(format!(
                "the pattern `{}` selects no signal",
                patterns[k]
            ))),
            None => Ok(patterns),
        }
    }

    fn start_trace(&mut self, mut trace: Trace) -> Result<(), SimError> {
        crate::engine::trace_fits(self.cycle, trace.plan.period)
            .map_err(|e| SimError::Trace(e.to_string()))?;
        trace.sink.start_at(self.cycle);
        let tracer = Tracer::spawn(trace).map_err(|e| SimError::Trace(e.to_string()))?;
        let row = [0, 1].map(|p| {
            tracer
                .nets()
                .iter()
                .map(|d| self.outs[d.component][p][d.port])
                .collect()
        });
        self.trace = Some((tracer, row));
        Ok(())
    }

    fn one_cycle(&mut self) -> Result<(), SimError> {
        if let Some(fault) = &self.failed {
            return Err(fault.error());
        }
        let read = (self.cycle % 2) as usize;
        if !self.settled {
            self.evaluate()?;
        }
        if let Some((tracer, row)) = self.trace.as_mut() {
            for (v, &s) in tracer.row().iter_mut().zip(&row[read]) {
                *v = self.slots[s as usize].load(Relaxed);
            }
        }
        for k in 0..self.clocked.len() {
            // A failed edge keeps its cycle's values in the trace, as the
            // engines' traces do.
            self.call(self.clocked[k], read, Call::Tick)?;
        }
        self.cycle += 1;
        self.settled = false;
        self.copy_forward(1 - read);
        Ok(())
    }

    /// This cycle's evaluations, in dependency order.
    fn evaluate(&mut self) -> Result<(), SimError> {
        let read = (self.cycle % 2) as usize;
        for k in 0..self.order.len() {
            let c = self.order[k];
            if self.circuit.components[c].interface.has_combinational() {
                self.call(c, read, Call::Eval)?;
            }
        }
        self.settled = true;
        Ok(())
    }

    /// Copy the registered slots of parity `from` to the other, so that a
    /// registered output a tick leaves alone keeps its value.
    fn copy_forward(&mut self, from: usize) {
        for s in self.registered.clone() {
            let (a, b) = if from == 0 {
                (s, s + self.parity)
            } else {
                (s + self.parity, s)
            };
            let v = self.slots[a].load(Relaxed);
            self.slots[b].store(v, Relaxed);
        }
    }

    fn call(&mut self, c: usize, read: usize, call: Call) -> Result<(), SimError> {
        let write = match call {
            Call::Tick => 1 - read,
            Call::Eval | Call::Reset => read,
        };
        let io = Io::new(
            &self.slots,
            &self.ins[c][read],
            &self.outs[c][write],
            &self.masks[c],
        );
        let comp = &mut self.circuit.components[c];
        let model = comp.behaviour.as_mut();
        let result = guard(|| match call {
            Call::Reset => model.reset(&io),
            Call::Eval => model.eval(&io),
            Call::Tick => model.tick(&io),
        });
        let Err((kind, message)) = result else {
            return Ok(());
        };
        let fault = Failed {
            path: comp.path.clone(),
            model: comp.model.clone(),
            cycle: self.cycle,
            how: match (kind, call) {
                (crate::engine::FaultKind::Failed, _) => "failed",
                (_, Call::Reset) => "panicked during reset",
                (_, Call::Eval) => "panicked during evaluation",
                (_, Call::Tick) => "panicked at the clock edge",
            },
            message,
        };
        let error = fault.error();
        self.failed = Some(fault);
        Err(error)
    }

    fn read(&mut self, slot: u32) -> Result<u64, SimError> {
        if !self.settled {
            self.evaluate()?;
        }
        Ok(self.slots[slot as usize].load(Relaxed))
    }

    fn write(&mut self, slots: &[u32], value: u64) {
        for &slot in slots {
            self.slots[slot as usize].store(value, Relaxed);
        }
        self.settled = false;
    }

    /// The slot and type of port `path` in this cycle (a composite input
    /// port: its first inner input's).
    fn port(&self, path: &str) -> Result<(u32, PortType), SimError> {
        let read = (self.cycle % 2) as usize;
        let (c, port) = match self.find(path)? {
            Found::Component(c, port) => (c, port),
            Found::Composite(InnerPorts::Output(o)) => (o.component, Port::Output(o.port)),
            Found::Composite(InnerPorts::Input(targets)) => match targets.first() {
                Some(r) => (r.component, Port::Input(r.port)),
                None => {
                    return Err(SimError::Unused {
                        path: path.to_string(),
                    })
                }
            },
        };
        let comp = &self.circuit.components[c];
        Ok(match port {
            Port::Output(o) => (self.outs[c][read][o], comp.interface.outputs()[o].ty),
            Port::Input(i) => (self.ins[c][read][i], comp.interface.inputs()[i].ty),
        })
    }

    /// The slots and type of the unconnected input `path` (a composite
    /// input port: every inner input it drives).
    fn pokeable(&self, path: &str) -> Result<(Vec<u32>, PortType), SimError> {
        let inputs = match self.find(path)? {
            Found::Component(c, Port::Input(i)) => vec![PortRef {
                component: c,
                port: i,
            }],
            Found::Composite(InnerPorts::Input(targets)) => targets.clone(),
            Found::Component(_, Port::Output(_)) | Found::Composite(InnerPorts::Output(_)) => {
                return Err(SimError::NotAnInput {
                    path: path.to_string(),
                })
            }
        };
        let mut slots = Vec::with_capacity(inputs.len());
        for r in &inputs {
            if let Source::Driver(d) = self.circuit.components[r.component].inputs[r.port] {
                return Err(SimError::Driven {
                    path: path.to_string(),
                    driver: self.circuit.components[d.component].output_name(d.port),
                });
            }
            slots.push(self.ins[r.component][0][r.port]);
        }
        let Some(first) = inputs.first() else {
            return Err(SimError::Unused {
                path: path.to_string(),
            });
        };
        let ty = self.circuit.components[first.component].interface.inputs()[first.port].ty;
        Ok((slots, ty))
    }

    fn find(&self, path: &str) -> Result<Found<'_>, SimError> {
        if let Some(&k) = self.composite.get(path) {
            return Ok(Found::Composite(&self.circuit.composite_ports[k].inner));
        }
        let found = path.rsplit_once('.').and_then(|(component, port)| {
            let c = *self.by_path.get(component)?;
            let interface = &self.circuit.components[c].interface;
            let output = interface.outputs().iter().position(|p| p.name == port);
            let input = interface.inputs().iter().position(|p| p.name == port);
            output
                .map(Port::Output)
                .or(input.map(Port::Input))
                .map(|p| Found::Component(c, p))
        });
        found.ok_or_else(|| SimError::UnknownPort {
            path: path.to_string(),
            suggestion: self.closest(path),
        })
    }

    /// The port named most like `path`.
    fn closest(&self, path: &str) -> Option<String> {
        let names: Vec<String> = self
            .circuit
            .components
            .iter()
            .flat_map(|c| {
                let outs = (0..c.interface.outputs().len()).map(|o| c.output_name(o));
                let ins = (0..c.interface.inputs().len()).map(|i| c.input_name(i));
                outs.chain(ins).collect::<Vec<_>>()
            })
            .chain(self.circuit.composite_ports.iter().map(|p| p.name.clone()))
            .collect();
        crate::suggest::closest(path, names.iter().map(String::as_str)).map(str::to_string)
    }
}

impl Drop for Simulation {
    fn drop(&mut self) {
        let _ = self.finish_trace();
    }
}

/// A failure, kept to be returned again.
struct Failed {
    path: String,
    model: String,
    cycle: u64,
    how: &'static str,
    message: String,
}

impl Failed {
    fn error(&self) -> SimError {
        SimError::Fault {
            path: self.path.clone(),
            model: self.model.clone(),
            cycle: self.cycle,
            how: self.how.to_string(),
            message: self.message.clone(),
        }
    }
}

#[derive(Clone, Copy)]
enum Call {
    Reset,
    Eval,
    Tick,
}

/// What a path names.
enum Found<'a> {
    Component(usize, Port),
    Composite(&'a InnerPorts),
}

#[derive(Clone, Copy)]
enum Port {
    Output(usize),
    Input(usize),
}
