//! A harness for unit-testing one model without writing a circuit: set
//! inputs by name, step the clock, read outputs.
//!
//! ```
//! use cspsim::{params, Testbench};
//! let mut tb = Testbench::new("register", params! { "width" => 8 }).unwrap();
//! tb.set("d", 42);
//! assert_eq!(tb.get("q"), 0); // registered: the new value appears after the edge
//! tb.step();
//! assert_eq!(tb.get("q"), 42);
//! ```
//!
//! Combinational outputs always reflect the current inputs and state: reading
//! one after [`set`](Testbench::set) evaluates the model first.
//!
//! A composite model is tested the same way, through its own ports
//! ([`Testbench::new`] finds it on the model path, [`Testbench::composite`]
//! takes a path too), and so is a whole circuit ([`Testbench::circuit`]):
//! its unconnected inputs and every output, by `component.port`.
//!
//! ```
//! use cspsim::{params, Testbench};
//! // models/pixel_column.ron: 4 pixels, a bus, a FIFO; `ready` when a word waits.
//! let mut tb = Testbench::new("pixel_column", params! { "rows" => 4 }).unwrap();
//! while tb.get("ready") == 0 && tb.cycle() < 5000 {
//!     tb.step();
//! }
//! assert_eq!(tb.get("ready"), 1, "a pixel fired");
//! tb.set("pop", 1); // take the word
//! tb.step();
//! ```
//!
//! [`record_vcd_file`](Testbench::record_vcd_file) records every port to a
//! VCD to look at in GTKWave; with [`trace::diff::check_golden`](crate::trace::diff::check_golden)
//! that recording becomes a golden-waveform test.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;

mod circuit;

use crate::circuit::PortRef;

use crate::model::{BuildContext, Interface, Io, Model, ModelInfo, Slot};
use crate::params::{ParamError, ParamValue};
use crate::registry::Registry;
use crate::trace::{gtkw, Scope, TracePlan, TraceSink, Var, VarSource, VcdWriter};
use crate::value::PortType;

/// Why a testbench call was refused.
#[derive(Debug, thiserror::Error)]
pub enum TestbenchError {
    /// No model of that name is registered.
    #[error("unknown model `{0}`")]
    UnknownModel(String),
    /// The parameters were refused.
    #[error("model `{model}`: {source}")]
    Params {
        /// The model.
        model: String,
        /// Why.
        source: Box<ParamError>,
    },
    /// No port of that name (in that direction).
    #[error("model `{model}` has no {direction} `{port}` (it has: {known})")]
    UnknownPort {
        /// The model.
        model: String,
        /// `input` or `output`.
        direction: &'static str,
        /// The name asked for.
        port: String,
        /// The names it has.
        known: String,
    },
    /// A value that does not fit the port.
    #[error("{port} is {ty}: {message}")]
    BadValue {
        /// The port.
        port: String,
        /// Its type.
        ty: PortType,
        /// What is wrong.
        message: String,
    },
    /// A composite model or circuit did not load.
    #[error("{0}")]
    Circuit(Box<crate::simulation::SimError>),
    /// The model stopped the run with [`fail`](crate::model::fail) (an
    /// `assert` whose condition was false).
    #[error("cycle {cycle}: {message}")]
    Failed {
        /// The cycle.
        cycle: u64,
        /// The model's message.
        message: String,
    },
}

/// One model instance on the bench.
pub struct Testbench {
    name: String,
    interface: Interface,
    model: Box<dyn Model>,
    /// Inputs in `0..n_in`, then outputs.
    slots: Vec<Slot>,
    ins: Vec<u32>,
    outs: Vec<u32>,
    masks: Vec<u64>,
    dirty: bool,
    cycle: u64,
    /// A VCD being recorded: every port, sampled each cycle before the edge.
    recording: Option<Box<dyn TraceSink>>,
    /// The GTKWave save file to write when a file recording ends: its path,
    /// the trace's, and the trace's layout.
    save_file: Option<(PathBuf, PathBuf, TracePlan)>,
}

impl Testbench {
    /// A bench for the standard model `model` with parameters `params` (or
    /// for a composite model of that name on the model path).
    pub fn new(model: &str, params: Vec<(String, ParamValue)>) -> Result<Self, TestbenchError> {
        Self::with_registry(&Registry::standard(), model, params)
    }

    /// A bench for `model` looked up in `registry`, or else a composite
    /// model of that name on the model path (`models/` here and above).
    pub fn with_registry(
        registry: &Registry,
        model: &str,
        params: Vec<(String, ParamValue)>,
    ) -> Result<Self, TestbenchError> {
        match registry.get(model) {
            Some(info) => Self::for_model(info, params),
            None if crate::netlist::Library::new(Vec::new())
                .find(model, None)
                .is_some() =>
            {
                let options = crate::netlist::LoadOptions::default();
                Self::composite_with(registry, model, params, &options)
            }
            None => Err(TestbenchError::UnknownModel(model.to_string())),
        }
    }

    /// A bench for the composite model `model`, by name (found as
    /// `options.model_dirs` and `models/` say) or by the path of its file
    /// (`models/pixel_column.ron`), through its own ports. An input port
    /// that drives nothing inside is left out.
    pub fn composite(
        model: &str,
        params: Vec<(String, ParamValue)>,
        options: &crate::netlist::LoadOptions,
    ) -> Result<Self, TestbenchError> {
        Self::composite_with(&Registry::standard(), model, params, options)
    }

    /// [`composite`](Self::composite) of a model built from the
    /// primitives of `registry`.
    pub fn composite_with(
        registry: &Registry,
        model: &str,
        params: Vec<(String, ParamValue)>,
        options: &crate::netlist::LoadOptions,
    ) -> Result<Self, TestbenchError> {
        let mut options = options.clone();
        let path = Path::new(model);
        let name = if model.ends_with(".ron") || model.contains('/') {
            if !path.is_file() {
                return Err(TestbenchError::UnknownModel(model.to_string()));
            }
            let dir = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
            options.model_dirs.insert(0, dir);
            path.file_stem().and_then(|s| s.to_str()).unwrap_or(model)
        } else {
            model
        };
        if registry.get(name).is_some() {
            // A primitive has no composite ports: bench it as a model.
            return Self::with_registry(registry, name, params);
        }
        let sim = crate::simulation::Simulation::of_model_with(name, &params, &options, registry)
            .map_err(|e| TestbenchError::Circuit(Box::new(e)))?;
        let (interface, model) = circuit::composite(sim);
        Self::of(name, interface, Box::new(model))
    }

    /// A bench for the whole circuit in `path`: its inputs that no net
    /// drives, and every output, named `component.port`.
    pub fn circuit(path: impl AsRef<Path>) -> Result<Self, TestbenchError> {
        Self::circuit_with(path, &crate::netlist::LoadOptions::default())
    }

    /// [`circuit`](Self::circuit) loaded with `options` (seed, parameters,
    /// model directories).
    pub fn circuit_with(
        path: impl AsRef<Path>,
        options: &crate::netlist::LoadOptions,
    ) -> Result<Self, TestbenchError> {
        let sim = crate::simulation::Simulation::from_file(path, options)
            .map_err(|e| TestbenchError::Circuit(Box::new(e)))?;
        let name = sim.circuit().name.clone();
        let (interface, model) = circuit::whole(sim);
        Self::of(&name, interface, Box::new(model))
    }

    /// A bench for the model described by `info` (need not be registered).
    pub fn for_model(
        info: &ModelInfo,
        params: Vec<(String, ParamValue)>,
    ) -> Result<Self, TestbenchError> {
        Self::with_context(info, params, &BuildContext::new(info.name))
    }

    /// A bench built in `ctx`: a component path (which seeds random
    /// models), a run seed, and the directory files are read from.
    pub fn with_context(
        info: &ModelInfo,
        params: Vec<(String, ParamValue)>,
        ctx: &BuildContext,
    ) -> Result<Self, TestbenchError> {
        let (interface, model) =
            info.build(&params, ctx)
                .map_err(|source| TestbenchError::Params {
                    model: info.name.to_string(),
                    source: Box::new(source),
                })?;
        Self::of(info.name, interface, model)
    }

    /// A bench for `model` with `interface`, reset; a reset that fails (a
    /// circuit's check at cycle 0) is an error.
    fn of(name: &str, interface: Interface, model: Box<dyn Model>) -> Result<Self, TestbenchError> {
        let n_in = interface.inputs().len();
        let n_out = interface.outputs().len();
        let slots: Vec<Slot> = (0..n_in + n_out).map(|_| Slot::new(0)).collect();
        for (i, input) in interface.inputs().iter().enumerate() {
            slots[i].store(input.default.unwrap_or(0), Relaxed);
        }
        let mut tb = Testbench {
            name: name.to_string(),
            masks: interface.output_masks(),
            ins: (0..n_in as u32).collect(),
            outs: (n_in as u32..(n_in + n_out) as u32).collect(),
            interface,
            model,
            slots,
            dirty: true,
            cycle: 0,
            recording: None,
            save_file: None,
        };
        tb.call(|model, io| model.reset(io))?;
        Ok(tb)
    }

    /// The component's ports.
    pub fn interface(&self) -> &Interface {
        &self.interface
    }

    /// How many clock edges have passed.
    pub fn cycle(&self) -> u64 {
        self.cycle
    }

    fn input(&self, port: &str) -> Result<usize, TestbenchError> {
        self.interface
            .input_index(port)
            .ok_or_else(|| TestbenchError::UnknownPort {
                model: self.name.clone(),
                direction: "input",
                port: port.to_string(),
                known: names(self.interface.inputs().iter().map(|p| p.name.as_str())),
            })
    }

    fn output(&self, port: &str) -> Result<usize, TestbenchError> {
        self.interface
            .output_index(port)
            .ok_or_else(|| TestbenchError::UnknownPort {
                model: self.name.clone(),
                direction: "output",
                port: port.to_string(),
                known: names(self.interface.outputs().iter().map(|p| p.name.as_str())),
            })
    }

    /// Drive a `Bits` input; refuses values wider than the port.
    pub fn try_set(&mut self, port: &str, value: u64) -> Result<(), TestbenchError> {
        let i = self.input(port)?;
        let ty = self.interface.inputs()[i].ty;
        let bad = |message: String| TestbenchError::BadValue {
            port: port.to_string(),
            ty,
            message,
        };
        match ty {
            PortType::Real => return Err(bad("use set_real".into())),
            PortType::Bits(_) if value & !ty.mask() != 0 => {
                return Err(bad(format!("{value} does not fit")));
            }
            PortType::Bits(_) => {}
        }
        self.slots[i].store(value, Relaxed);
        self.dirty = true;
        Ok(())
    }

    /// Drive a `Real` input.
    pub fn try_set_real(&mut self, port: &str, value: f64) -> Result<(), TestbenchError> {
        let i = self.input(port)?;
        let ty = self.interface.inputs()[i].ty;
        if ty != PortType::Real {
            return Err(TestbenchError::BadValue {
                port: port.to_string(),
                ty,
                message: "use set for Bits ports".into(),
            });
        }
        self.slots[i].store(value.to_bits(), Relaxed);
        self.dirty = true;
        Ok(())
    }

    /// Read an output (the raw bits for a `Real` one).
    pub fn try_get(&mut self, port: &str) -> Result<u64, TestbenchError> {
        let o = self.output(port)?;
        self.settle()?;
        Ok(self.slots[self.outs[o] as usize].load(Relaxed))
    }

    /// Read a `Real` output.
    pub fn try_get_real(&mut self, port: &str) -> Result<f64, TestbenchError> {
        let o = self.output(port)?;
        let ty = self.interface.outputs()[o].ty;
        if ty != PortType::Real {
            return Err(TestbenchError::BadValue {
                port: port.to_string(),
                ty,
                message: "use get for Bits ports".into(),
            });
        }
        self.try_get(port).map(f64::from_bits)
    }

    /// [`try_set`](Self::try_set), panicking with the error (for tests).
    pub fn set(&mut self, port: &str, value: u64) {
        if let Err(e) = self.try_set(port, value) {
            panic!("{e}");
        }
    }

    /// [`try_set_real`](Self::try_set_real), panicking with the error.
    pub fn set_real(&mut self, port: &str, value: f64) {
        if let Err(e) = self.try_set_real(port, value) {
            panic!("{e}");
        }
    }

    /// [`try_get`](Self::try_get), panicking with the error.
    pub fn get(&mut self, port: &str) -> u64 {
        self.try_get(port).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`try_get_real`](Self::try_get_real), panicking with the error.
    pub fn get_real(&mut self, port: &str) -> f64 {
        self.try_get_real(port).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Evaluate combinational outputs if inputs or state changed.
    fn settle(&mut self) -> Result<(), TestbenchError> {
        if self.dirty && self.interface.has_combinational() {
            self.dirty = false;
            self.call(|model, io| model.eval(io))?;
        }
        self.dirty = false;
        Ok(())
    }

    /// Call the model; a [`fail`](crate::model::fail) becomes an error,
    /// any other panic carries on unwinding into the test.
    fn call(&mut self, f: impl FnOnce(&mut dyn Model, &Io<'_>)) -> Result<(), TestbenchError> {
        let io = Io::new(&self.slots, &self.ins, &self.outs, &self.masks);
        let model = self.model.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(model, &io))) {
            Ok(()) => Ok(()),
            Err(payload) => match payload.downcast::<crate::model::Failure>() {
                Ok(failure) => Err(TestbenchError::Failed {
                    cycle: self.cycle,
                    message: failure.0,
                }),
                Err(other) => std::panic::resume_unwind(other),
            },
        }
    }

    /// The layout of a recording: every port, under the bench's name.
    fn recording_plan(&self) -> TracePlan {
        let iface = &self.interface;
        let types: Vec<PortType> = iface
            .inputs()
            .iter()
            .map(|p| p.ty)
            .chain(iface.outputs().iter().map(|p| p.ty))
            .collect();
        let names = iface
            .inputs()
            .iter()
            .map(|p| &p.name)
            .chain(iface.outputs().iter().map(|p| &p.name));
        let vars = names
            .zip(&types)
            .enumerate()
            .map(|(k, (name, ty))| Var {
                name: name.clone(),
                ty: *ty,
                source: VarSource::Row(k),
            })
            .collect();
        TracePlan {
            top: "testbench".into(),
            row: (0..types.len())
                .map(|k| PortRef {
                    component: 0,
                    port: k,
                })
                .collect(),
            row_types: types,
            clock: true,
            scopes: vec![Scope {
                path: self.name.clone(),
                vars,
            }],
            period: 10,
            timescale: (1, vcd::TimescaleUnit::NS),
        }
    }

    /// Record every port of this bench as VCD to `out` from now on, one
    /// cycle per [`step`](Self::step) (the values just before the edge).
    /// Call [`finish_vcd`](Self::finish_vcd) at the end.
    pub fn record_vcd(&mut self, out: impl Write + Send + 'static) -> io::Result<()> {
        let plan = self.recording_plan();
        self.recording = Some(Box::new(VcdWriter::new(out, &plan)?));
        self.save_file = None;
        Ok(())
    }

    /// Record to a new file at `path`, and when the recording ends, write
    /// a GTKWave save file beside it (`x.vcd` → `x.gtkw`; one someone else
    /// wrote is kept) that opens it with every port in view.
    pub fn record_vcd_file(&mut self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        let file = std::fs::File::create(path)?;
        self.record_vcd(io::BufWriter::new(file))?;
        let save = gtkw::beside(path);
        if save != path && gtkw::may_write(&save) {
            let plan = self.recording_plan();
            let trace = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
            self.save_file = Some((save, trace, plan));
        }
        Ok(())
    }

    /// End the recording: write the final timestamp and flush (and the save
    /// file of a file recording).
    pub fn finish_vcd(&mut self) -> io::Result<()> {
        let finished = match self.recording.take() {
            Some(mut sink) => sink.finish(),
            None => Ok(()),
        };
        if let Some((save, trace, plan)) = self.save_file.take() {
            std::fs::write(save, gtkw::save_file(&plan, &trace, self.cycle))?;
        }
        finished
    }

    /// One clock cycle: evaluate, then the clock edge. Panics if the model
    /// [fails](crate::model::fail); see [`try_step`](Self::try_step).
    pub fn step(&mut self) {
        if let Err(e) = self.try_step() {
            panic!("{e}");
        }
    }

    /// One clock cycle; an error if the model [fails](crate::model::fail)
    /// (an `assert` whose condition is false), in which case the cycle does
    /// not advance.
    pub fn try_step(&mut self) -> Result<(), TestbenchError> {
        self.settle()?;
        if let Some(sink) = self.recording.as_mut() {
            let row: Vec<u64> = self.slots.iter().map(|s| s.load(Relaxed)).collect();
            if let Err(e) = sink.cycle(&row) {
                panic!("cannot record the testbench VCD: {e}");
            }
        }
        if self.interface.is_clocked() {
            self.call(|model, io| model.tick(io))?;
        }
        self.dirty = true;
        self.cycle += 1;
        Ok(())
    }

    /// `n` clock cycles.
    pub fn step_n(&mut self, n: u64) {
        for _ in 0..n {
            self.step();
        }
    }
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = it.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

impl Drop for Testbench {
    fn drop(&mut self) {
        // Keep what was recorded even when a failing assertion unwinds the test.
        let _ = self.finish_vcd();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params;

    #[test]
    fn refuses_unknown_ports_wide_values_and_wrong_types() {
        let mut tb = Testbench::new("register", params! { "width" => 4 }).unwrap();
        let e = tb.try_set("x", 1).unwrap_err().to_string();
        assert_eq!(e, "model `register` has no input `x` (it has: d, en, rst)");
        let e = tb.try_set("d", 16).unwrap_err().to_string();
        assert_eq!(e, "d is Bits(4): 16 does not fit");
        crate::test_support::assert_err_contains(
            tb.try_set_real("d", 1.0),
            "use set for Bits ports",
        );
        crate::test_support::assert_err_contains(tb.try_get_real("q"), "use get for Bits ports");
        assert!(matches!(
            Testbench::new("nope", params! {}),
            Err(TestbenchError::UnknownModel(_))
        ));
    }

    #[test]
    fn records_every_port_each_cycle_as_vcd() {
        #[derive(Clone, Default)]
        struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Buf {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let mut tb = Testbench::new("counter", params! { "width" => 4 }).unwrap();
        tb.record_vcd(buf.clone()).unwrap();
        tb.step_n(3);
        tb.set("en", 0);
        tb.step_n(2);
        tb.finish_vcd().unwrap();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let w = crate::trace::read::Waveform::from_text(&text).unwrap();
        let s = w.sample(10);
        assert_eq!(s["testbench.counter.q"], vec![0, 1, 2, 3, 3]);
        assert_eq!(s["testbench.counter.en"], vec![1, 1, 1, 0, 0]);
    }
}
