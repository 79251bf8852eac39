//! `run`'s checkpoint options: which cycles to save the run's state at,
//! where the files go, and which saved state a run continues from.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::output::not_an_input;
use crate::checkpoint::{self, Checkpoint, Schedule};
use crate::engine::{Checkpointing, RunOptions};
use crate::Circuit;

/// Saving and restoring checkpoints (on every engine).
#[derive(clap::Args, Clone, Default)]
pub(super) struct CheckpointArgs {
    /// Save the run's whole state every N cycles, as
    /// `<circuit>-<cycle>.ckpt.ron` in the checkpoint directory.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    checkpoint_every: Option<u64>,
    /// Save the state at the start of CYCLE (repeatable).
    #[arg(long, value_name = "CYCLE", value_parser = clap::value_parser!(u64).range(1..))]
    checkpoint_at: Vec<u64>,
    /// Where checkpoints go, made if missing (default: the current directory).
    #[arg(long, value_name = "DIR")]
    checkpoint_dir: Option<PathBuf>,
    /// Continue from this checkpoint: the run computes and traces its
    /// cycles from the saved cycle on, exactly as the run that saved it.
    #[arg(long, value_name = "FILE.ckpt.ron")]
    restore: Option<PathBuf>,
}

/// The checkpoints a run has written, for its summary.
pub(super) struct Written {
    count: Arc<AtomicU64>,
    dir: PathBuf,
}

impl Written {
    /// `wrote 3 checkpoints in ckpt/`, or nothing if none was written.
    pub(super) fn summary(&self) -> Option<String> {
        match self.count.load(Ordering::Relaxed) {
            0 => None,
            n => Some(format!(
                "wrote {n} checkpoint{} in {}",
                if n == 1 { "" } else { "s" },
                self.dir.display()
            )),
        }
    }
}

impl CheckpointArgs {
    /// Set up `options` for these flags and `circuit`: read the checkpoint
    /// to restore, make the directory; why not, as a message.
    pub(super) fn apply(
        &self,
        circuit: &Circuit,
        options: &mut RunOptions,
    ) -> Result<Option<Written>, String> {
        if let Some(path) = &self.restore {
            let saved = Checkpoint::read(path).map_err(|e| e.to_string())?;
            options.restore = Some(Arc::new(saved));
        }
        let schedule = Schedule {
            every: self.checkpoint_every,
            at: self.checkpoint_at.clone(),
        };
        if schedule.is_empty() {
            return match &self.checkpoint_dir {
                Some(_) => Err(
                    "--checkpoint-dir says where checkpoints go; say when with --checkpoint-every or --checkpoint-at"
                        .into(),
                ),
                None => Ok(None),
            };
        }
        let dir = self.checkpoint_dir.clone().unwrap_or_else(|| ".".into());
        std::fs::create_dir_all(&dir).map_err(|e| {
            format!(
                "cannot make the checkpoint directory {}: {e}",
                dir.display()
            )
        })?;
        let mut inputs = circuit.inputs.clone();
        inputs.extend(self.restore.clone());
        let count = Arc::new(AtomicU64::new(0));
        let sink = {
            let (dir, count) = (dir.clone(), Arc::clone(&count));
            move |saved: Checkpoint| save(&dir, &inputs, &count, &saved)
        };
        options.checkpoints = Some(Checkpointing {
            schedule,
            sink: Arc::new(sink),
        });
        Ok(Some(Written { count, dir }))
    }
}

/// Write `saved` into `dir`, never over one of `inputs`.
fn save(
    dir: &Path,
    inputs: &[PathBuf],
    count: &AtomicU64,
    saved: &Checkpoint,
) -> Result<(), String> {
    let path = checkpoint::file_name(dir, &saved.circuit, saved.cycle);
    not_an_input(&path, inputs, "a checkpoint")?;
    saved.write(&path).map_err(|e| e.to_string())?;
    count.fetch_add(1, Ordering::Relaxed);
    Ok(())
}
