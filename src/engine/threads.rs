//! The thread-per-component engine: the literal CSP picture. Each component
//! is an OS thread; each connection (driver → one reader) is a bounded
//! crossbeam channel carrying one value per cycle, in cycle order.
//!
//! A component's cycle: send its registered outputs; receive the inputs its
//! combinational outputs depend on; evaluate and send those outputs;
//! receive its other inputs; report to the clock; tick. Without
//! combinational loops no ring of waits can form, so this cannot deadlock.
//!
//! The *clock* is a process too: each cycle it receives one message from
//! every component (its traced outputs, or a heartbeat), so it sees each
//! cycle whole, writes it to the trace, and — through the bounded channels —
//! keeps every component within 64 cycles of the others. No global
//! barrier is needed. When a component panics or the run is stopped, the
//! clock hangs up and every thread, finding a closed channel, ends.

use std::collections::VecDeque;
use std::sync::Arc;

use crossbeam_channel::{bounded, Receiver, Sender};

use super::fault::{guard, Fault, Faults, Phase};
use super::{finish_trace, Outcome, RunError, RunOptions};
use crate::circuit::{Circuit, Source};
use crate::model::{Io, Model, Slot, Timing};
use crate::trace::Tracer;

/// Values a connection may hold before its driver waits. Deep enough that
/// a process, once woken, runs many cycles before it waits again: at 4,096
/// components, 64 instead of 4 made the engine 1.2-3.3x faster.
const CHANNEL_DEPTH: usize = 64;
/// Reports a component may send the clock before it waits: how far ahead
/// of the clock (and of unconnected components) it may run.
const REPORT_DEPTH: usize = 64;
/// Stack of each component thread; models are plain, shallow code.
const STACK_BYTES: usize = 256 * 1024;

/// The most threads this machine holds in one process. Each thread costs
/// several memory mappings (stack, guard page, allocator arena); past
/// `vm.max_map_count` the process aborts inside the new thread rather than
/// failing to spawn, so the limit keeps well below it.
///
/// Under an address-space limit (`ulimit -v`), each thread also reserves
/// its stack and the alternate signal stack the runtime maps for it; a
/// thread that cannot get the latter aborts the process, so the limit also
/// keeps within the room the address space has left.
pub fn thread_limit() -> usize {
    let read =
        |path: &str| -> Option<usize> { std::fs::read_to_string(path).ok()?.trim().parse().ok() };
    let maps = read("/proc/sys/vm/max_map_count").unwrap_or(65_530);
    let threads = read("/proc/sys/kernel/threads-max").unwrap_or(usize::MAX);
    let room = address_space_room().map_or(usize::MAX, |bytes| bytes / THREAD_RESERVE);
    (maps / 5).min(threads / 2).min(room)
}

/// The address space a thread reserves: its stack, guard pages, the
/// alternate signal stack, and a margin for its allocations.
const THREAD_RESERVE: usize = STACK_BYTES + (1 << 20);

/// How much address space this process may still map, if it is limited.
fn address_space_room() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))?;
    let limit: usize = line.split_whitespace().nth(3)?.parse().ok()?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let size = status.lines().find(|l| l.starts_with("VmSize:"))?;
    let used = size.split_whitespace().nth(1)?.parse::<usize>().ok()? * 1024;
    // Keep half of what is left for everything but the threads.
    Some(limit.saturating_sub(used) / 2)
}

/// One component as a process.
struct Process {
    index: usize,
    model: Box<dyn Model>,
    /// Inputs in `0..n_in`, outputs after.
    slots: Vec<Slot>,
    ins: Vec<u32>,
    outs: Vec<u32>,
    masks: Vec<u64>,
    /// Receiver per connected input.
    inputs: Vec<Option<Receiver<u64>>>,
    /// Inputs to receive before evaluating; then the rest.
    early: Vec<usize>,
    late: Vec<usize>,
    /// Senders per output.
    readers: Vec<Vec<Sender<u64>>>,
    registered: Vec<usize>,
    combinational: Vec<usize>,
    clocked: bool,
    /// Outputs reported to the clock each cycle (a heartbeat if none).
    traced: Vec<usize>,
    clock: Sender<u64>,
}

/// Why a process stopped early.
enum Stop {
    /// A channel closed: another process stopped.
    Hangup,
    /// This component panicked.
    Fault(Fault),
}

impl Process {
    fn output(&self, o: usize) -> u64 {
        self.slots[self.outs[o] as usize].load(std::sync::atomic::Ordering::Relaxed)
    }

    fn send(&self, outputs: &[usize]) -> Result<(), Stop> {
        for &o in outputs {
            let v = self.output(o);
            for tx in &self.readers[o] {
                tx.send(v).map_err(|_| Stop::Hangup)?;
            }
        }
        Ok(())
    }

    fn receive(&self, inputs: &[usize]) -> Result<(), Stop> {
        for &i in inputs {
            if let Some(rx) = &self.inputs[i] {
                let v = rx.recv().map_err(|_| Stop::Hangup)?;
                self.slots[i].store(v, std::sync::atomic::Ordering::Relaxed);
            }
        }
        Ok(())
    }

    fn call(
        &mut self,
        cycle: u64,
        phase: Phase,
        f: impl FnOnce(&mut dyn Model, &Io<'_>),
    ) -> Result<(), Stop> {
        let io = Io::new(&self.slots, &self.ins, &self.outs, &self.masks);
        let model = self.model.as_mut();
        guard(|| f(model, &io)).map_err(|(kind, message)| {
            Stop::Fault(Fault {
                cycle,
                phase,
                component: self.index,
                kind,
                message,
            })
        })
    }

    fn run(mut self, cycles: u64) -> Result<(), Stop> {
        self.call(0, Phase::Reset, |m, io| m.reset(io))?;
        for t in 0..cycles {
            self.send(&self.registered)?;
            self.receive(&self.early)?;
            if !self.combinational.is_empty() {
                self.call(t, Phase::Eval, |m, io| m.eval(io))?;
                self.send(&self.combinational)?;
            }
            self.receive(&self.late)?;
            if self.traced.is_empty() {
                self.clock.send(0).map_err(|_| Stop::Hangup)?;
            }
            for &o in &self.traced {
                self.clock.send(self.output(o)).map_err(|_| Stop::Hangup)?;
            }
            if self.clocked {
                self.call(t, Phase::Tick, |m, io| m.tick(io))?;
            }
        }
        Ok(())
    }
}

pub(super) fn run(
    circuit: Circuit,
    cycles: u64,
    options: &RunOptions,
    mut tracer: Option<Tracer>,
) -> Result<Outcome, RunError> {
    let n = circuit.components.len();
    let limit = options.thread_limit.unwrap_or_else(thread_limit);
    if n + 2 > limit {
        return Err(RunError::TooManyThreads {
            components: n,
            limit,
        });
    }
    // Which row entry each component's traced outputs fill, in order.
    let mut traced: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    if let Some(t) = &tracer {
        for (k, p) in t.nets().iter().enumerate() {
            traced[p.component].push((p.port, k));
        }
    }
    // One channel per connection.
    let mut senders: Vec<Vec<Vec<Sender<u64>>>> = circuit
        .components
        .iter()
        .map(|c| vec![Vec::new(); c.interface.outputs().len()])
        .collect();
    let mut receivers: Vec<Vec<Option<Receiver<u64>>>> = circuit
        .components
        .iter()
        .map(|c| (0..c.inputs.len()).map(|_| None).collect())
        .collect();
    for (c, comp) in circuit.components.iter().enumerate() {
        for (i, src) in comp.inputs.iter().enumerate() {
            if let Source::Driver(p) = src {
                let (tx, rx) = bounded(CHANNEL_DEPTH);
                senders[p.component][p.port].push(tx);
                receivers[c][i] = Some(rx);
            }
        }
    }
    let faults = Arc::new(Faults::default());
    let mut clock_rx = Vec::with_capacity(n);
    let mut handles = Vec::with_capacity(n);
    let mut spawn_error = None;
    for (c, ((comp, readers), inputs)) in circuit
        .components
        .into_iter()
        .zip(senders)
        .zip(receivers)
        .enumerate()
    {
        let (clock_tx, rx) = bounded(REPORT_DEPTH);
        clock_rx.push(rx);
        let iface = &comp.interface;
        let n_in = iface.inputs().len();
        let n_out = iface.outputs().len();
        let slots: Vec<Slot> = (0..n_in + n_out).map(|_| Slot::new(0)).collect();
        for (i, src) in comp.inputs.iter().enumerate() {
            if let Source::Constant(v) = src {
                slots[i].store(*v, std::sync::atomic::Ordering::Relaxed);
            }
        }
        let early = iface.combinational_inputs();
        let process = Process {
            index: c,
            model: comp.behaviour,
            slots,
            ins: (0..n_in as u32).collect(),
            outs: (n_in as u32..(n_in + n_out) as u32).collect(),
            masks: iface.output_masks(),
            inputs,
            late: (0..n_in).filter(|i| !early.contains(i)).collect(),
            early,
            readers,
            registered: (0..n_out)
                .filter(|&o| iface.outputs()[o].timing == Timing::Registered)
                .collect(),
            combinational: (0..n_out)
                .filter(|&o| iface.outputs()[o].timing != Timing::Registered)
                .collect(),
            clocked: iface.is_clocked(),
            traced: traced[c].iter().map(|&(o, _)| o).collect(),
            clock: clock_tx,
        };
        let faults = Arc::clone(&faults);
        let spawned = std::thread::Builder::new()
            .name("cspsim-component".into())
            .stack_size(STACK_BYTES)
            .spawn(move || {
                if let Err(Stop::Fault(f)) = process.run(cycles) {
                    faults.report(f);
                }
            });
        match spawned {
            Ok(h) => handles.push(h),
            Err(e) => {
                spawn_error = Some(e);
                break;
            }
        }
    }
    let mut completed = 0;
    if spawn_error.is_none() {
        completed = clock(&clock_rx, &traced, cycles, options, tracer.as_mut());
    }
    // Hanging up the clock releases every process still waiting.
    drop(clock_rx);
    for h in handles {
        let _ = h.join();
    }
    if let Some(e) = spawn_error {
        return Err(RunError::Spawn(e));
    }
    let faults = Arc::into_inner(faults)
        .map(Faults::first)
        .unwrap_or_default();
    Ok(Outcome {
        cycles: completed,
        threads: n,
        fault: faults,
        trace: finish_trace(tracer),
        compiled: None,
        note: None,
        elapsed: None,
        one_thread: 0,
    })
}

/// The clock process: gather every component's report for each cycle.
/// Returns the cycles completed.
///
/// Whenever it has to wait for a component, it then takes everything that
/// component has sent: a component blocked on a full report channel is
/// woken once per [`REPORT_DEPTH`] cycles instead of once per cycle, and a
/// wake-up is what a thread-per-component cycle mostly costs.
fn clock(
    reports: &[Receiver<u64>],
    traced: &[Vec<(usize, usize)>],
    cycles: u64,
    options: &RunOptions,
    mut tracer: Option<&mut Tracer>,
) -> u64 {
    let mut pending: Vec<VecDeque<u64>> = vec![VecDeque::new(); reports.len()];
    for t in 0..cycles {
        let mut row = tracer.as_deref_mut().map(Tracer::row);
        for ((rx, slots), pending) in reports.iter().zip(traced).zip(&mut pending) {
            let expected = slots.len().max(1);
            while pending.len() < expected {
                let Ok(v) = rx.recv() else {
                    if let Some(tr) = tracer.as_deref_mut() {
                        tr.discard_last_row();
                    }
                    return t;
                };
                pending.push_back(v);
                pending.extend(rx.try_iter());
            }
            for (k, v) in pending.drain(..expected).enumerate() {
                if let (Some(row), Some(&(_, at))) = (row.as_deref_mut(), slots.get(k)) {
                    row[at] = v;
                }
            }
        }
        options.report_progress(t + 1);
        let broken = tracer.as_deref().is_some_and(Tracer::is_broken);
        if broken || options.stop_requested() {
            return t + 1;
        }
    }
    cycles
}
