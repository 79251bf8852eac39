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
//!
//! Checkpoints need no pause either: at the start of a cycle one is due
//! at, each component sends the clock its state (registered outputs and
//! model state) on a channel of its own, and the clock, once it has seen
//! the cycle before whole, gathers them into the checkpoint. A restored
//! component takes its saved state after its reset, before its first cycle.

use std::collections::VecDeque;
use std::sync::Arc;

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};

use super::fault::{guard, Fault, Faults, Phase};
use super::partitioned::checkpoint::{Saved, Sink};
use super::partitioned::Start;
use super::{finish_trace, Outcome, RunError, RunOptions};
use crate::checkpoint::{CheckpointError, ModelState, Schedule};
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
    /// The registered outputs and model state to start from.
    restore: Option<(Vec<u64>, ModelState)>,
    /// When to send the clock this component's state, and where.
    saving: Option<Saving>,
}

/// A component's part in saving checkpoints.
struct Saving {
    schedule: Arc<Schedule>,
    /// The absolute cycle of the run's cycle 0.
    first: u64,
    /// The next absolute cycle a checkpoint is due at (looked up once per
    /// checkpoint, not in every cycle).
    next: Option<u64>,
    to: Sender<Saved>,
}

/// Why a process stopped early.
enum Stop {
    /// A channel closed: another process stopped.
    Hangup,
    /// This component panicked.
    Fault(Fault),
    /// This component's model refused its saved state (why), or cannot
    /// save one (`None`).
    Checkpoint(Option<String>),
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
        if let Some((registered, state)) = self.restore.take() {
            for (&o, &v) in self.registered.iter().zip(&registered) {
                let slot = &self.slots[self.outs[o] as usize];
                slot.store(v & self.masks[o], std::sync::atomic::Ordering::Relaxed);
            }
            let io = Io::new(&self.slots, &self.ins, &self.outs, &self.masks);
            let model = self.model.as_mut();
            match guard(|| model.restore(&state, &io)) {
                Ok(Ok(())) => {}
                Ok(Err(why)) | Err((_, why)) => return Err(Stop::Checkpoint(Some(why))),
            }
        }
        if self.saving.is_some() && self.model.save().is_none() {
            return Err(Stop::Checkpoint(None));
        }
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
            self.save(t + 1)?;
        }
        Ok(())
    }

    /// Send the clock this component's state at the start of run cycle
    /// `t`, if a checkpoint is due then.
    fn save(&mut self, t: u64) -> Result<(), Stop> {
        let Some(saving) = self.saving.as_ref() else {
            return Ok(());
        };
        let cycle = saving.first + t;
        if saving.next != Some(cycle) {
            return Ok(());
        }
        let values = self.registered.iter().map(|&o| self.output(o)).collect();
        let state = (values, self.model.save());
        saving.to.send(state).map_err(|_| Stop::Hangup)?;
        if let Some(saving) = self.saving.as_mut() {
            saving.next = saving.schedule.next_after(cycle);
        }
        Ok(())
    }
}

pub(super) fn run(
    circuit: Circuit,
    cycles: u64,
    options: &RunOptions,
    (mut tracer, start): (Option<Tracer>, &Start<'_>),
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
    let mut traced: Vec<Traced> = vec![Vec::new(); n];
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
    // The first component that refused to save or restore, and why.
    let refused = Arc::new(std::sync::Mutex::new(None::<(usize, Option<String>)>));
    let schedule = start.save.map(|(schedule, _)| Arc::new(schedule.clone()));
    let mut saves = Vec::new();
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
        let saving = schedule.as_ref().map(|schedule| {
            let (to, from) = unbounded();
            saves.push(from);
            Saving {
                schedule: Arc::clone(schedule),
                first: start.first(),
                next: schedule.next_after(start.first()),
                to,
            }
        });
        let restore = start.restore.map(|r| {
            let saved = &r.components[c];
            (saved.registered.clone(), saved.state.clone())
        });
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
            restore,
            saving,
        };
        let faults = Arc::clone(&faults);
        let refused = Arc::clone(&refused);
        let spawned = std::thread::Builder::new()
            .name("cspsim-component".into())
            .stack_size(STACK_BYTES)
            .spawn(move || match process.run(cycles) {
                Err(Stop::Fault(f)) => faults.report(f),
                Err(Stop::Checkpoint(why)) => {
                    let mut first = refused.lock().unwrap_or_else(|e| e.into_inner());
                    if first.as_ref().is_none_or(|&(k, _)| c < k) {
                        *first = Some((c, why));
                    }
                }
                Ok(()) | Err(Stop::Hangup) => {}
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
    let mut unsaved = None;
    if spawn_error.is_none() {
        let saving = start.save.map(|(schedule, sink)| Gather {
            schedule,
            first: start.first(),
            states: &saves,
            sink,
        });
        (completed, unsaved) = clock(
            (&clock_rx, &traced),
            (cycles, saving),
            options,
            tracer.as_mut(),
        );
    }
    // Hanging up the clock releases every process still waiting.
    drop(clock_rx);
    for h in handles {
        let _ = h.join();
    }
    if let Some(e) = spawn_error {
        return Err(RunError::Spawn(e));
    }
    let refused = std::mem::take(&mut *refused.lock().unwrap_or_else(|e| e.into_inner()));
    if let Some(why) = unsaved.or(refused.map(|(c, why)| {
        let (path, model) = start.names[c].clone();
        match why {
            Some(why) => crate::checkpoint::restore_failed(&path, &model, &why),
            None => CheckpointError::Unsupported { path, model }.to_string(),
        }
    })) {
        let _ = finish_trace(tracer);
        return Err(RunError::Checkpoint(why));
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

/// A component's traced outputs, each with the trace row entry it fills.
type Traced = Vec<(usize, usize)>;

/// The clock's part in saving checkpoints.
struct Gather<'a> {
    schedule: &'a Schedule,
    /// The absolute cycle of the run's cycle 0.
    first: u64,
    /// Each component's states, in cycle order.
    states: &'a [Receiver<Saved>],
    sink: Sink<'a>,
}

impl Gather<'_> {
    /// Gather and hand on the checkpoint due at the start of run cycle
    /// `t`, if one is: `None` when the run goes on, else why it cannot
    /// (`Some(None)`: a component stopped before it could send its state,
    /// so a fault ends the run).
    fn at(&self, t: u64) -> Option<Option<String>> {
        if !self.schedule.due(self.first + t) {
            return None;
        }
        let states: Option<Vec<Saved>> = self.states.iter().map(|rx| rx.recv().ok()).collect();
        let Some(states) = states else {
            return Some(None);
        };
        (self.sink)(self.first + t, states).err().map(Some)
    }
}

/// The clock process: gather every component's report for each cycle,
/// and the checkpoints due. Returns the cycles completed, and why saving
/// a checkpoint failed if it did.
///
/// Whenever it has to wait for a component, it then takes everything that
/// component has sent: a component blocked on a full report channel is
/// woken once per [`REPORT_DEPTH`] cycles instead of once per cycle, and a
/// wake-up is what a thread-per-component cycle mostly costs.
fn clock(
    (reports, traced): (&[Receiver<u64>], &[Traced]),
    (cycles, saving): (u64, Option<Gather<'_>>),
    options: &RunOptions,
    mut tracer: Option<&mut Tracer>,
) -> (u64, Option<String>) {
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
                    return (t, None);
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
            return (t + 1, None);
        }
        if let Some(stop) = saving.as_ref().and_then(|s| s.at(t + 1)) {
            return (t + 1, stop);
        }
    }
    (cycles, None)
}
