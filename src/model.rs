//! The `Model` trait every primitive implements, the port declarations
//! ([`Interface`]) that tell the loader and the engines how a model is wired
//! and timed, and [`ModelInfo`], which makes a model known by name.
//!
//! A model is plain sequential code: no threads, channels or locks. Per
//! cycle the engine calls [`Model::eval`] (combinational outputs from this
//! cycle's inputs) once the inputs it depends on are known, then
//! [`Model::tick`] at the clock edge (update state from this cycle's inputs
//! and write the registered outputs the *next* cycle will see). Registered
//! outputs keep their value until the model sets them again.

use std::sync::Arc;

use crate::io::BatchIo;
use crate::params::{ParamDecl, ParamError, Params};
use crate::value::PortType;

pub use crate::checkpoint::ModelState;
pub use crate::io::{Io, Slot};

/// The behaviour of a primitive model. See the module docs for the cycle.
///
/// The engine runs components of one model type as a batch: one call per
/// phase over contiguous state (see [`crate::batch`]). The default batch
/// methods call [`eval`](Model::eval) and [`tick`](Model::tick) member by
/// member, inlined; a model may override them with a loop of its own.
pub trait Model: std::any::Any + Send + Batchable {
    /// Write the initial registered outputs (and set any initial state).
    /// Called once before cycle 0.
    fn reset(&mut self, io: &Io<'_>);

    /// Compute the combinational outputs from this cycle's inputs and the
    /// state. Called once a cycle, only if the model has combinational outputs.
    fn eval(&mut self, _io: &Io<'_>) {}

    /// The clock edge: update state from this cycle's inputs and write the
    /// registered outputs of the next cycle. Called once a cycle, only if the
    /// interface is clocked.
    fn tick(&mut self, _io: &Io<'_>) {}

    /// What this component computes, in the form the compiled engine turns
    /// into machine code (see [`crate::lower`]); `None` (the default) runs
    /// it through [`eval`](Model::eval) and [`tick`](Model::tick) instead.
    /// Called once, after [`reset`](Model::reset): the lowering's state
    /// holds the component's state at that point. The lowered code must
    /// compute exactly what `eval` and `tick` would, which the agreement
    /// tests check.
    fn lower(&self) -> Option<crate::lower::Lowering> {
        None
    }

    /// The component's own state for a checkpoint (see
    /// [`crate::checkpoint`]): everything its next cycles depend on besides
    /// its registered outputs (which the engine saves), as any serde value
    /// through [`ModelState::of`]; [`ModelState::none`] if there is
    /// nothing else. `None` (the default) means the model cannot be
    /// checkpointed: asking for a checkpoint is then an error naming it.
    fn save(&self) -> Option<ModelState> {
        None
    }

    /// Take back the state [`save`](Model::save) returned. Called after
    /// [`reset`](Model::reset) and after the engine has set the registered
    /// outputs to their saved values (`io.output(o)` reads them). The
    /// default accepts only [`ModelState::none`].
    fn restore(&mut self, state: &ModelState, _io: &Io<'_>) -> Result<(), String> {
        state.read::<()>()
    }

    /// For a model that [`lower`](Model::lower)s with state words or
    /// arrays: set its own state from their values as the compiled code
    /// left them (the inverse of what `lower` put in them), so that
    /// [`save`](Model::save) sees the state of the cycle the compiled code
    /// reached. The default does nothing, which is right for a lowering
    /// without state.
    fn unlower(&mut self, _state: &[u64], _arrays: &[Vec<u64>]) {}

    /// [`eval`](Model::eval) every member of a batch. Member `k` is
    /// `batch[k]` and sees `io.member(k)`.
    fn eval_batch(batch: &mut [Self], io: &BatchIo<'_>)
    where
        Self: Sized,
    {
        for (k, m) in batch.iter_mut().enumerate() {
            m.eval(&io.member(k));
        }
    }

    /// [`tick`](Model::tick) every member of a batch, as
    /// [`eval_batch`](Model::eval_batch) does.
    fn tick_batch(batch: &mut [Self], io: &BatchIo<'_>)
    where
        Self: Sized,
    {
        for (k, m) in batch.iter_mut().enumerate() {
            m.tick(&io.member(k));
        }
    }
}

// `Batchable` is `Model`'s supertrait and `Batch` holds models, so they are
// declared beside it; the blanket impl and the batch type are in
// `crate::batch`.

/// Components of one model type, in one contiguous vector. Engine-facing;
/// every model gets it through [`Batchable`].
#[doc(hidden)]
pub trait Batch: Send {
    /// Add a component; it must be of this batch's model type.
    fn push(&mut self, model: Box<dyn Model>);
    /// Members so far.
    fn len(&self) -> usize;
    /// Whether the batch has no member.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// [`Model::reset`] every member.
    fn reset(&mut self, io: &BatchIo<'_>);
    /// [`Model::eval_batch`].
    fn eval(&mut self, io: &BatchIo<'_>);
    /// [`Model::tick_batch`].
    fn tick(&mut self, io: &BatchIo<'_>);
    /// [`Model::lower`] of member `k`.
    fn lower(&self, k: usize) -> Option<crate::lower::Lowering>;
    /// [`Model::save`] of member `k`.
    fn save(&self, k: usize) -> Option<ModelState>;
    /// [`Model::restore`] of member `k`.
    fn restore(&mut self, k: usize, state: &ModelState, io: &BatchIo<'_>) -> Result<(), String>;
    /// [`Model::unlower`] of member `k`.
    fn unlower(&mut self, k: usize, state: &[u64], arrays: &[Vec<u64>]);
}

/// Implemented for every model by a blanket impl: makes an empty batch of
/// the model's own type. Not for implementing by hand.
#[doc(hidden)]
pub trait Batchable {
    /// An empty batch that holds models of this type.
    fn new_batch(&self) -> Box<dyn Batch>;
}

/// The payload of [`fail`]: a model stopping the run on purpose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure(pub String);

/// Stop the run from inside a model because a check failed (what `assert`
/// does). The engine ends the run at this cycle with
/// [`RunError::ComponentFailed`](crate::engine::RunError::ComponentFailed),
/// which names the component, the cycle and `message`; the trace keeps every
/// completed cycle. No panic message is printed. A [`Testbench`](crate::Testbench)
/// reports it from [`try_step`](crate::Testbench::try_step).
pub fn fail(message: impl Into<String>) -> ! {
    std::panic::resume_unwind(Box::new(Failure(message.into())))
}

/// When an output's value is known in a cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timing {
    /// Depends on state only: known at the start of the cycle. Breaks
    /// combinational chains.
    Registered,
    /// Depends on the current values of the listed inputs (by index).
    Combinational(Deps),
}

/// The inputs a combinational output depends on, by index. Cheap to
/// clone: outputs that depend on the same inputs (a bus's every grant on
/// every request) share one list, so declaring them costs its length, not
/// its length times the outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deps(Arc<[usize]>);

impl Deps {
    /// Whether two lists are the same one (shared), not only equal.
    pub fn same(&self, other: &Deps) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::ops::Deref for Deps {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        &self.0
    }
}

impl From<Vec<usize>> for Deps {
    fn from(v: Vec<usize>) -> Self {
        Deps(v.into())
    }
}

/// A declared input port.
#[derive(Clone, Debug, PartialEq)]
pub struct InputDecl {
    /// Name, unique among the model's ports.
    pub name: String,
    /// Type.
    pub ty: PortType,
    /// For optional inputs, the value read when nothing drives it.
    pub default: Option<u64>,
}

/// A declared output port.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputDecl {
    /// Name, unique among the model's ports.
    pub name: String,
    /// Type.
    pub ty: PortType,
    /// Registered or combinational.
    pub timing: Timing,
}

/// The ports of one component, built by the model's constructor from its
/// parameters (widths and port counts may depend on them).
///
/// ```
/// use cspsim::{Interface, PortType};
/// let ports = Interface::new()
///     .input("d", PortType::Bits(8))
///     .optional_input("en", PortType::Bits(1), 1)
///     .registered("q", PortType::Bits(8));
/// assert!(ports.is_clocked());
/// assert_eq!(ports.input_index("en"), Some(1));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Interface {
    inputs: Vec<InputDecl>,
    outputs: Vec<OutputDecl>,
    clocked: Option<bool>,
    input_names: NameIndex,
    output_names: NameIndex,
}

/// Port name → index, built on the first lookup in a long port list (a
/// 4096-input `xor` would otherwise cost a scan per connection).
#[derive(Clone, Default)]
struct NameIndex(std::sync::OnceLock<std::collections::HashMap<String, usize>>);

impl NameIndex {
    /// Port lists up to this long are scanned.
    const SCAN: usize = 16;

    fn find<'a>(&self, names: impl ExactSizeIterator<Item = &'a str>, name: &str) -> Option<usize> {
        if names.len() <= Self::SCAN {
            return names.into_iter().position(|n| n == name);
        }
        let map = self.0.get_or_init(|| {
            let mut map = std::collections::HashMap::with_capacity(names.len());
            for (i, n) in names.enumerate() {
                map.entry(n.to_string()).or_insert(i);
            }
            map
        });
        map.get(name).copied()
    }
}

impl PartialEq for NameIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for NameIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NameIndex")
    }
}

impl Interface {
    /// No ports yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a required input.
    pub fn input(mut self, name: impl Into<String>, ty: PortType) -> Self {
        self.input_names = NameIndex::default();
        self.inputs.push(InputDecl {
            name: name.into(),
            ty,
            default: None,
        });
        self
    }

    /// Add an optional input that reads `default` when left unconnected.
    pub fn optional_input(mut self, name: impl Into<String>, ty: PortType, default: u64) -> Self {
        self.input_names = NameIndex::default();
        self.inputs.push(InputDecl {
            name: name.into(),
            ty,
            default: Some(default & ty.mask()),
        });
        self
    }

    /// Add a registered output (a function of state only).
    pub fn registered(mut self, name: impl Into<String>, ty: PortType) -> Self {
        self.output_names = NameIndex::default();
        self.outputs.push(OutputDecl {
            name: name.into(),
            ty,
            timing: Timing::Registered,
        });
        self
    }

    /// Add a combinational output depending on every input declared so far.
    pub fn combinational(self, name: impl Into<String>, ty: PortType) -> Self {
        let deps: Vec<usize> = (0..self.inputs.len()).collect();
        self.combinational_on(name, ty, deps)
    }

    /// Add a combinational output depending on the inputs with these
    /// indices (a `Vec<usize>`, or a [`Deps`] shared with other outputs).
    pub fn combinational_on(
        mut self,
        name: impl Into<String>,
        ty: PortType,
        deps: impl Into<Deps>,
    ) -> Self {
        self.output_names = NameIndex::default();
        self.outputs.push(OutputDecl {
            name: name.into(),
            ty,
            timing: Timing::Combinational(deps.into()),
        });
        self
    }

    /// Mark the model as needing [`Model::tick`] (or not) regardless of its
    /// outputs. By default it is clocked exactly when it has a registered output.
    pub fn clocked(mut self, clocked: bool) -> Self {
        self.clocked = Some(clocked);
        self
    }

    /// The inputs, in index order.
    pub fn inputs(&self) -> &[InputDecl] {
        &self.inputs
    }

    /// The outputs, in index order.
    pub fn outputs(&self) -> &[OutputDecl] {
        &self.outputs
    }

    /// Whether the engine calls [`Model::tick`].
    pub fn is_clocked(&self) -> bool {
        self.clocked
            .unwrap_or_else(|| self.outputs.iter().any(|o| o.timing == Timing::Registered))
    }

    /// Whether the engine calls [`Model::eval`].
    pub fn has_combinational(&self) -> bool {
        self.outputs
            .iter()
            .any(|o| matches!(o.timing, Timing::Combinational(_)))
    }

    /// The inputs that some combinational output depends on, ascending.
    pub fn combinational_inputs(&self) -> Vec<usize> {
        let mut deps: Vec<usize> = self
            .distinct_deps()
            .flat_map(|d| d.iter().copied())
            .collect();
        deps.sort_unstable();
        deps.dedup();
        deps
    }

    /// The combinational outputs' dependency lists, each shared one once.
    fn distinct_deps(&self) -> impl Iterator<Item = &Deps> {
        let mut last: Option<&Deps> = None;
        self.outputs.iter().filter_map(move |o| match &o.timing {
            Timing::Combinational(d) if !last.is_some_and(|l| l.same(d)) => {
                last = Some(d);
                Some(d)
            }
            _ => None,
        })
    }

    /// Index of the input called `name`.
    pub fn input_index(&self, name: &str) -> Option<usize> {
        self.input_names
            .find(self.inputs.iter().map(|p| p.name.as_str()), name)
    }

    /// Index of the output called `name`.
    pub fn output_index(&self, name: &str) -> Option<usize> {
        self.output_names
            .find(self.outputs.iter().map(|p| p.name.as_str()), name)
    }

    /// The masks of the outputs, in index order.
    pub fn output_masks(&self) -> Vec<u64> {
        self.outputs.iter().map(|o| o.ty.mask()).collect()
    }

    /// A model-author mistake in the declaration (duplicate port names,
    /// dependencies on inputs that do not exist), if any.
    pub fn problem(&self) -> Option<String> {
        let mut seen = std::collections::HashSet::new();
        let names = self.inputs.iter().map(|p| p.name.as_str());
        for n in names.chain(self.outputs.iter().map(|p| p.name.as_str())) {
            if !seen.insert(n) {
                return Some(format!("port `{n}` is declared twice"));
            }
        }
        let mut last: Option<&Deps> = None;
        for o in &self.outputs {
            if let Timing::Combinational(deps) = &o.timing {
                if last.is_some_and(|l| l.same(deps)) {
                    continue; // checked already
                }
                last = Some(deps);
                if let Some(d) = deps.iter().find(|&&d| d >= self.inputs.len()) {
                    return Some(format!(
                        "output `{}` depends on input #{d}, which does not exist",
                        o.name
                    ));
                }
            }
        }
        None
    }
}

/// What a model's constructor may know about where it is being built.
#[derive(Clone, Debug)]
pub struct BuildContext {
    /// The component's path (`readout.col[3].pix[7]`).
    pub path: String,
    /// The run's seed.
    pub seed: u64,
    /// The directory of the circuit file, against which relative file
    /// parameters (memory contents, stimulus) are resolved.
    pub dir: Option<std::path::PathBuf>,
    /// The files resolved so far (see [`resolve`](Self::resolve)).
    pub reads: FilesRead,
}

/// The files models read while a circuit is built, as they resolve them:
/// what no output of the run may overwrite.
#[derive(Clone, Debug, Default)]
pub struct FilesRead(Arc<std::sync::Mutex<Vec<std::path::PathBuf>>>);

impl FilesRead {
    /// Note `path` as read.
    pub fn note(&self, path: std::path::PathBuf) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(path);
    }

    /// The files noted.
    pub fn paths(&self) -> Vec<std::path::PathBuf> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl BuildContext {
    /// A context for a component at `path`, seed 0, no directory.
    pub fn new(path: impl Into<String>) -> Self {
        BuildContext {
            path: path.into(),
            seed: 0,
            dir: None,
            reads: FilesRead::default(),
        }
    }

    /// `file` resolved against the circuit's directory, and noted as a
    /// file the circuit reads (so that no output overwrites it). A model
    /// reads its files through this.
    pub fn resolve(&self, file: &str) -> std::path::PathBuf {
        let path = match &self.dir {
            Some(dir) => dir.join(file),
            None => std::path::PathBuf::from(file),
        };
        self.reads.note(path.clone());
        path
    }

    /// A seed for this component's random generator, derived from the run
    /// seed and the component path only, so every engine and thread count
    /// draws the same numbers.
    pub fn component_seed(&self) -> u64 {
        // FNV-1a over the path, then a SplitMix64 finaliser with the run seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.path.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        let mut z = h ^ self.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A built component: its ports and its behaviour.
pub type Built = (Interface, Box<dyn Model>);

/// A model constructor: validated parameters in, a component out.
pub type BuildFn = dyn Fn(&Params, &BuildContext) -> Result<Built, ParamError> + Send + Sync;

/// Everything the framework knows about a model: its name, documentation,
/// parameters and constructor.
#[derive(Clone)]
pub struct ModelInfo {
    /// The name circuits use.
    pub name: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Ports and behaviour, for `cspsim describe`.
    pub doc: &'static str,
    /// Declared parameters.
    pub params: Vec<ParamDecl>,
    build: Arc<BuildFn>,
}

impl std::fmt::Debug for ModelInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelInfo")
            .field("name", &self.name)
            .finish()
    }
}

impl ModelInfo {
    /// A model called `name`, built by `build`.
    pub fn new(
        name: &'static str,
        summary: &'static str,
        build: impl Fn(&Params, &BuildContext) -> Result<Built, ParamError> + Send + Sync + 'static,
    ) -> Self {
        ModelInfo {
            name,
            summary,
            doc: "",
            params: Vec::new(),
            build: Arc::new(build),
        }
    }

    /// Attach the port and behaviour documentation.
    pub fn doc(mut self, doc: &'static str) -> Self {
        self.doc = doc;
        self
    }

    /// Declare a parameter.
    pub fn param(mut self, decl: ParamDecl) -> Self {
        self.params.push(decl);
        self
    }

    /// Validate `given` and build a component.
    pub fn build(
        &self,
        given: &[(String, crate::ParamValue)],
        ctx: &BuildContext,
    ) -> Result<Built, ParamError> {
        let params = Params::resolve(&self.params, given)?;
        (self.build)(&params, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocking_follows_registered_outputs_unless_overridden() {
        let comb = Interface::new()
            .input("a", PortType::Bits(1))
            .combinational("y", PortType::Bits(1));
        assert!(!comb.is_clocked());
        assert!(comb.has_combinational());
        assert_eq!(comb.combinational_inputs(), vec![0]);
        let konst = Interface::new()
            .registered("y", PortType::Bits(1))
            .clocked(false);
        assert!(!konst.is_clocked());
    }

    #[test]
    fn declaration_mistakes_are_found() {
        let dup = Interface::new()
            .input("a", PortType::Bits(1))
            .registered("a", PortType::Bits(1));
        assert_eq!(dup.problem().unwrap(), "port `a` is declared twice");
        let dep = Interface::new().combinational_on("y", PortType::Bits(1), vec![2]);
        assert!(dep.problem().unwrap().contains("input #2"));
    }

    #[test]
    fn component_seeds_depend_on_path_and_run_seed_only() {
        let ctx = |path: &str, seed| BuildContext {
            seed,
            ..BuildContext::new(path)
        };
        assert_eq!(
            ctx("a.b", 1).component_seed(),
            ctx("a.b", 1).component_seed()
        );
        assert_ne!(
            ctx("a.b", 1).component_seed(),
            ctx("a.c", 1).component_seed()
        );
        assert_ne!(
            ctx("a.b", 1).component_seed(),
            ctx("a.b", 2).component_seed()
        );
    }
}
