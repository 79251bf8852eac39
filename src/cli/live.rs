//! What a long command shows and hears while it runs: a progress bar on
//! standard error, Ctrl-C, and the panic hook that leaves a model's panic
//! to the engine's report.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::engine;

/// A progress bar of `len` steps that follows `counter`, on standard error
/// if it is a terminal and not `quiet`; `unit` names the steps (`cycles`).
pub(super) struct Bar(
    Option<(
        indicatif::ProgressBar,
        Arc<AtomicBool>,
        std::thread::JoinHandle<()>,
    )>,
);

impl Bar {
    pub(super) fn start(len: u64, unit: &str, counter: Arc<AtomicU64>, quiet: bool) -> Bar {
        if quiet || !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let bar = indicatif::ProgressBar::new(len);
        let rate = if unit == "runs" { "  {per_sec}" } else { "" };
        bar.set_style(
            indicatif::ProgressStyle::with_template(&format!(
                "{{bar:40}} {{pos}}/{{len}} {unit}{rate}  {{elapsed}} elapsed, eta {{eta}}"
            ))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let done = Arc::new(AtomicBool::new(false));
        let handle = {
            let (bar, done) = (bar.clone(), Arc::clone(&done));
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    bar.set_position(counter.load(Ordering::Relaxed));
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        Bar(Some((bar, done, handle)))
    }

    /// Take the bar off the screen.
    pub(super) fn finish(self) {
        if let Some((bar, done, handle)) = self.0 {
            done.store(true, Ordering::Relaxed);
            let _ = handle.join();
            bar.finish_and_clear();
        }
    }
}

/// Flags Ctrl-C sets: `(stop, interrupted)`; the first stops the run, the
/// second says the user asked.
pub(super) fn on_interrupt() -> (Arc<AtomicBool>, Arc<AtomicBool>) {
    let stop = Arc::new(AtomicBool::new(false));
    let interrupted = Arc::new(AtomicBool::new(false));
    let (s, i) = (Arc::clone(&stop), Arc::clone(&interrupted));
    // Already installed when main runs twice in one process (tests); the first handler serves.
    let _ = ctrlc::set_handler(move || {
        i.store(true, Ordering::Relaxed);
        s.store(true, Ordering::Relaxed);
        // A child process being waited for gives up at once.
        crate::process::child::INTERRUPTED.store(true, Ordering::Relaxed);
    });
    (stop, interrupted)
}

pub(super) use engine::with_model_panic_hook;
