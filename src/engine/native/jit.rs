//! The JIT module: Cranelift turns functions built by [`super::codegen`]
//! into machine code in this process. Every `unsafe` of the compiled engine
//! is here.
//!
//! # Invariants
//! A [`Code`] may be called only while the [`Jit`] that made it, and the
//! memory its code addresses, are alive, and only with a pointer to the
//! slot array it was generated for. The generated code then reads and
//! writes only:
//! - slots at indices the plan checked to be below the slot array's length
//!   (`plan::plan` asserts it for every column of slots);
//! - words of its worker's state arena at offsets the plan laid out within
//!   the arena (array indices are clamped to the scratch element);
//! - the plan's tables, at member indices below their length.
//!
//! The arena and the tables belong to the [`super::Native`] that holds this
//! `Jit`, are never resized after code generation, and are dropped after it.
//! Only the worker owning an arena calls the code that touches it, and the
//! engine's barriers order its slot accesses as they order the
//! interpreter's (see the partitioned engine). Generated code calls nothing
//! and cannot unwind: it returns a status instead.

use cranelift_codegen::ir::UserFuncName;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Module};

use super::codegen::{self, Frame};
use super::plan::Unit;

/// Compiled code for one phase, kind and parity: returns 0, or 1 + the
/// index of the component whose check failed.
#[derive(Clone, Copy)]
pub(crate) struct Code(unsafe extern "C" fn(*mut u64) -> u64);

impl Code {
    /// Run the code over `slots`.
    ///
    /// # Safety
    /// The module invariants above: the `Jit` that made this code and the
    /// plan's memory are alive, and `slots` is the slot array the code was
    /// generated for, which no other thread accesses in the same phase
    /// except as the engine's schedule allows.
    #[inline(always)]
    pub unsafe fn call(self, slots: *mut u64) -> u64 {
        // SAFETY: guaranteed by the caller, as documented.
        unsafe { (self.0)(slots) }
    }
}

/// A JIT module that functions are added to, then finalized all at once.
pub(crate) struct Jit {
    module: Option<JITModule>,
    context: FunctionBuilderContext,
    pending: Vec<FuncId>,
}

impl Jit {
    /// A module for this machine, optimising for speed; why not, if the
    /// JIT cannot run here.
    pub fn new() -> Result<Jit, String> {
        let mut flags = settings::builder();
        let set = |flags: &mut settings::Builder, name, value| {
            flags
                .set(name, value)
                .map_err(|e| format!("cranelift setting {name}: {e}"))
        };
        set(&mut flags, "opt_level", "speed")?;
        set(&mut flags, "use_colocated_libcalls", "false")?;
        set(&mut flags, "is_pic", "false")?;
        let isa = cranelift_native::builder()
            .map_err(|e| format!("this machine is not supported by the code generator: {e}"))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| format!("the code generator cannot target this machine: {e}"))?;
        let module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));
        Ok(Jit {
            module: Some(module),
            context: FunctionBuilderContext::new(),
            pending: Vec::new(),
        })
    }

    fn module(&mut self) -> &mut JITModule {
        self.module
            .as_mut()
            .expect("the module lives as long as the Jit")
    }

    /// Compile the code of each part's units (see [`codegen::build`]); its
    /// handle, valid once [`finalize`](Self::finalize) has run.
    pub fn add(&mut self, parts: &[(&[Unit], Frame)]) -> Result<FuncId, String> {
        let module = self
            .module
            .as_mut()
            .expect("the module lives as long as the Jit");
        let sig = codegen::signature(module.isa().default_call_conv());
        let id = module
            .declare_anonymous_function(&sig)
            .map_err(|e| e.to_string())?;
        let mut ctx = module.make_context();
        ctx.func.signature = sig;
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        let config = module.target_config();
        codegen::build(&mut ctx.func, &mut self.context, config, parts);
        // `CSPSIM_DUMP_CODE=1` prints each function's machine code (to see
        // what a model's lowering becomes).
        let dump = std::env::var_os("CSPSIM_DUMP_CODE").is_some();
        ctx.set_disasm(dump);
        let module = self.module();
        module
            .define_function(id, &mut ctx)
            .map_err(|e| format!("code generation failed: {e:?}"))?;
        if let Some(code) = dump.then(|| ctx.compiled_code()).flatten() {
            let read = parts.first().map_or(0, |(_, f)| f.read);
            let text = code.vcode.as_deref().unwrap_or("");
            eprintln!("; function {} (reading parity {read})\n{text}", id.as_u32());
        }
        module.clear_context(&mut ctx);
        self.pending.push(id);
        Ok(id)
    }

    /// Link everything added; afterwards [`code`](Self::code) gives functions.
    pub fn finalize(&mut self) -> Result<(), String> {
        self.module()
            .finalize_definitions()
            .map_err(|e| format!("linking generated code failed: {e}"))?;
        self.pending.clear();
        Ok(())
    }

    /// The function `id`, after [`finalize`](Self::finalize).
    pub fn code(&mut self, id: FuncId) -> Code {
        assert!(self.pending.is_empty(), "finalize before taking code");
        let pointer = self.module().get_finalized_function(id);
        // SAFETY: `id` was built by `codegen::build` with
        // `codegen::signature`, i.e. as `extern "C" fn(i64) -> i64` in the
        // platform's default calling convention, which is this type's ABI
        // (a pointer and a u64 are 64-bit integers there).
        Code(unsafe {
            std::mem::transmute::<*const u8, unsafe extern "C" fn(*mut u64) -> u64>(pointer)
        })
    }
}

impl Drop for Jit {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: the `Code`s of this module are only called while the
            // `Native` that owns this `Jit` is alive (module invariants), and
            // it is being dropped.
            unsafe { module.free_memory() };
        }
    }
}
