//! The partitioned engine over ranks (separate processes, under MPI, or
//! threads standing in for them): every rank loads the whole circuit and
//! lays it out as the partitioned engine would for one worker per rank,
//! with [`rank_blocks`] choosing the owners; each rank then runs its own
//! worker's part alone, over its own copy of the slots.
//!
//! Where the threads of one process would meet at a barrier, the ranks
//! exchange what the others read:
//! - after each combinational level, the values of that level's outputs
//!   that another rank reads (none for most circuits: cuts prefer
//!   registered nets);
//! - after the clock edge, the registered outputs another rank reads, of
//!   the parity the next cycle reads, in one message per neighbour;
//! - then the least cycle with a fault, with a fault before the trace
//!   sample, and with a stop request, so that every rank stops after the
//!   same cycle.
//!
//! Rank 0 reads every traced net (the others send it theirs as if it read
//! them), and samples its trace row once the cycle's faults are agreed; so
//! its trace is the single process's, byte for byte. At the end, the ranks
//! share their first faults, and every rank reports the earliest.
//!
//! A cycle is never one call of compiled code here, as the exchanges come
//! between its phases; compiled code runs per phase.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::sync::atomic::Ordering::Relaxed;

use super::super::exchange::{Exchange, Link, Lost};
use super::super::fault::{Fault, FaultKind, Phase};
use super::super::partition::{levels_of, rank_blocks};
use super::super::{finish_trace, Codegen, Compiled, Exchanged, Outcome, RunError, RunOptions};
use super::checkpoint::{self, Saved, Saver};
use super::cycle::{parities, views, Lead, Run, Running};
use super::layout::{build, Shared, Wired, NEVER};
use super::{compile, reset, Start};
use crate::circuit::{Circuit, PortRef, Source};
use crate::trace::Tracer;

/// What one rank sends and receives at one point of the cycle.
#[derive(Default)]
struct Round {
    /// To each peer, the slots whose values it is sent (parity 0 for registered ones).
    sends: Vec<(usize, Vec<u32>)>,
    /// From each peer, the slots its values go to.
    receives: Vec<(usize, Vec<u32>)>,
    /// The messages, reused every cycle.
    outgoing: Vec<(usize, Vec<u64>)>,
    incoming: Vec<(usize, Vec<u64>)>,
}

impl Round {
    fn push(&mut self, send: bool, peer: usize, slot: u32) {
        let list = if send {
            &mut self.sends
        } else {
            &mut self.receives
        };
        match list.last_mut() {
            Some((p, slots)) if *p == peer => slots.push(slot),
            _ => list.push((peer, vec![slot])),
        }
    }

    fn seal(&mut self) {
        let buffers =
            |list: &[(usize, Vec<u32>)]| list.iter().map(|(p, s)| (*p, vec![0; s.len()])).collect();
        self.outgoing = buffers(&self.sends);
        self.incoming = buffers(&self.receives);
    }

    fn is_idle(&self) -> bool {
        self.sends.is_empty() && self.receives.is_empty()
    }

    /// Send this rank's values and take the peers', at slots `offset` further.
    fn swap(&mut self, ex: &mut dyn Exchange, sh: &Shared, offset: usize) -> Result<(), Lost> {
        if self.is_idle() {
            return Ok(());
        }
        for ((_, slots), (_, values)) in self.sends.iter().zip(&mut self.outgoing) {
            for (v, &s) in values.iter_mut().zip(slots) {
                *v = sh.slots[s as usize + offset].load(Relaxed);
            }
        }
        ex.swap(&self.outgoing, &mut self.incoming)?;
        for ((_, slots), (_, values)) in self.receives.iter().zip(&self.incoming) {
            for (&v, &s) in values.iter().zip(slots) {
                sh.slots[s as usize + offset].store(v, Relaxed);
            }
        }
        Ok(())
    }
}

/// The rounds of a cycle for one rank: one per combinational level, then
/// the registered one after the clock edge.
struct Traffic {
    levels: Vec<Round>,
    registered: Round,
}

impl Traffic {
    /// The messages this rank sends per cycle, and their bytes.
    fn sent(&self) -> (u64, u64) {
        let rounds = self.levels.iter().chain([&self.registered]);
        let sends = rounds.flat_map(|r| &r.sends);
        sends.fold((0, 0), |(m, b), (_, slots)| {
            (m + 1, b + 8 * slots.len() as u64)
        })
    }
}

/// Which driver's value goes from which rank to which: every net read on
/// another rank than its driver's, and every traced net to rank 0.
fn crossings(
    circuit: &Circuit,
    owner: &[usize],
    traced: &[PortRef],
) -> BTreeSet<(usize, usize, usize, usize)> {
    let mut cross = BTreeSet::new();
    for (c, comp) in circuit.components.iter().enumerate() {
        for src in &comp.inputs {
            if let Source::Driver(d) = *src {
                if owner[d.component] != owner[c] {
                    cross.insert((owner[d.component], owner[c], d.component, d.port));
                }
            }
        }
    }
    for d in traced {
        if owner[d.component] != 0 {
            cross.insert((owner[d.component], 0, d.component, d.port));
        }
    }
    cross
}

/// Rank `rank`'s traffic, in slots.
fn traffic(
    circuit: &Circuit,
    owner: &[usize],
    traced: &[PortRef],
    rank: usize,
) -> Vec<(bool, usize, Option<usize>, PortRef)> {
    let level_of = levels_of(circuit);
    crossings(circuit, owner, traced)
        .into_iter()
        .filter(|&(from, to, _, _)| from == rank || to == rank)
        .filter_map(|(from, to, component, port)| {
            let send = from == rank;
            let peer = if send { to } else { from };
            let level = if circuit.is_registered(component, port) {
                None
            } else {
                // Every combinational output is on a level (`graph::schedule`).
                let l = level_of[component];
                debug_assert_ne!(l, usize::MAX, "a combinational output off every level");
                if l == usize::MAX {
                    return None;
                }
                Some(l)
            };
            Some((send, peer, level, PortRef { component, port }))
        })
        .collect()
}

/// Lay the traffic out over the slots of `wired`.
fn rounds(
    moves: Vec<(bool, usize, Option<usize>, PortRef)>,
    levels: usize,
    wired: &[Wired],
) -> Traffic {
    let mut traffic = Traffic {
        levels: (0..levels).map(|_| Round::default()).collect(),
        registered: Round::default(),
    };
    // Sends before receives, peer by peer, so that each list groups by peer.
    let mut moves = moves;
    moves.sort_by_key(|&(send, peer, level, d)| (level, !send, peer, d.component, d.port));
    for (send, peer, level, d) in moves {
        let slot = wired[d.component].outs[0][d.port];
        let round = match level {
            Some(l) => &mut traffic.levels[l],
            None => &mut traffic.registered,
        };
        round.push(send, peer, slot);
    }
    traffic.levels.iter_mut().for_each(Round::seal);
    traffic.registered.seal();
    traffic
}

/// What every rank tells the others before the run: the circuit it loaded
/// (so that ranks that loaded different ones refuse) and, from rank 0, the
/// traced nets.
fn greeting(circuit: &Circuit, cycles: u64, tracer: Option<&Tracer>) -> Vec<u8> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    cycles.hash(&mut hasher);
    for c in &circuit.components {
        (&c.path, &c.model, c.interface.output_masks()).hash(&mut hasher);
        for o in c.interface.outputs() {
            (o.timing == crate::model::Timing::Registered).hash(&mut hasher);
        }
        for src in &c.inputs {
            match *src {
                Source::Driver(d) => (0u8, d.component, d.port).hash(&mut hasher),
                Source::Constant(v) => (1u8, v as usize, 0usize).hash(&mut hasher),
            }
        }
    }
    circuit.levels.hash(&mut hasher);
    let mut bytes = hasher.finish().to_le_bytes().to_vec();
    for d in tracer.map_or(&[][..], Tracer::nets) {
        bytes.extend((d.component as u64).to_le_bytes());
        bytes.extend((d.port as u64).to_le_bytes());
    }
    bytes
}

fn words(bytes: &[u8]) -> impl Iterator<Item = u64> + '_ {
    bytes
        .chunks_exact(8)
        .map(|w| u64::from_le_bytes(w.try_into().expect("chunks of 8")))
}

/// Run rank `link`'s part of `circuit`; every rank returns the same outcome
/// (rank 0 alone traces).
pub(in crate::engine) fn run(
    circuit: Circuit,
    cycles: u64,
    options: &RunOptions,
    (tracer, start): (Option<Tracer>, &Start<'_>),
    link: &Link,
) -> Result<(Outcome, Option<usize>, Exchanged), RunError> {
    let mut held = link.lock();
    let ex: &mut dyn Exchange = &mut **held;
    let lost = |l: Lost| RunError::Ranks(l.to_string());
    let (rank, ranks) = (ex.rank(), ex.ranks());
    let tracer = if rank == 0 { tracer } else { None };
    // From here on, every rank takes part in the run's exchanges.
    link.started.store(true, Relaxed);
    let hello = ex
        .share(greeting(&circuit, cycles, tracer.as_ref()))
        .map_err(lost)?;
    let fingerprint = |h: &[u8]| h.get(..8).map(<[u8]>::to_vec);
    if let Some(r) = hello
        .iter()
        .position(|h| fingerprint(h) != fingerprint(&hello[rank]))
    {
        return Err(RunError::Ranks(format!(
            "rank {r} loaded another circuit than rank {rank} (or runs other cycles): every rank must load the same files with the same parameters and options"
        )));
    }
    let traced: Vec<PortRef> = words(hello[0].get(8..).unwrap_or_default())
        .collect::<Vec<_>>()
        .chunks_exact(2)
        .map(|p| PortRef {
            component: p[0] as usize,
            port: p[1] as usize,
        })
        .collect();
    let owner = rank_blocks(&circuit, ranks);
    let moves = traffic(&circuit, &owner, &traced, rank);
    let levels = circuit.levels.len();
    let (mut pool, sh, row, wired) = build(
        circuit,
        (ranks, Some(owner.clone())),
        options.one_by_one,
        tracer.as_ref(),
    );
    let mut traffic = rounds(moves, levels, &wired);
    // Every rank resets (and restores) every component, so each starts
    // with every slot; they all refuse the same checkpoints.
    reset(&mut pool, &sh);
    if sh.failed.load(Relaxed) == NEVER {
        checkpoint::prepare(&mut pool, &sh, &wired, start)?;
    }
    let mut saver = start
        .save
        .map(|(schedule, sink)| Saver::new(schedule, start.first(), &wired, sink));
    for w in &pool {
        sh.copy_forward(&w.registered, 0);
    }
    // Every rank reset the same components, but agree in any case.
    let mut reset = [sh.failed.load(Relaxed)];
    ex.min(&mut reset).map_err(lost)?;
    let reset_failed = reset[0] != NEVER;
    let mut mine = pool.swap_remove(rank);
    drop(pool);
    let compiling = std::time::Instant::now();
    let (native, note) = match options.codegen {
        // Other ranks read slots too: every output is written.
        Codegen::Compiled if !reset_failed => compile(
            std::slice::from_mut(&mut mine),
            (wired, None),
            &sh,
            (options.one_by_one, true),
        ),
        _ => (None, None),
    };
    let compile_time = compiling.elapsed();
    let mut lead = Lead {
        tracer,
        row,
        options,
    };
    let started = std::time::Instant::now();
    let completed = if reset_failed {
        0
    } else {
        let running = Running::default();
        let views = views(&mine.groups, &sh, &running);
        let mut run = Run {
            batches: &mut mine.batches,
            groups: &mine.groups,
            steps: &mine.steps,
            views: &views,
            running: &running,
            code: native.as_ref().map(|n| &n.workers[0]),
            sh: &sh,
            worker: 0,
        };
        let copied = mine.copied.clone();
        cycles_of_rank(
            &mut run,
            (cycles, &copied),
            ex,
            (&mut traffic, saver.as_mut()),
            (rank, &mut lead),
        )
        .map_err(lost)?
    };
    let elapsed = started.elapsed();
    let made_code = native.is_some();
    let lowered = native.as_ref().map_or(0, |n| n.lowered as u64);
    drop(native);
    // The earliest fault of any rank, and the components compiled on all.
    let (messages, bytes) = traffic.sent();
    let trace = finish_trace(lead.tracer);
    if let Some(why) = saver.and_then(|s| s.failed) {
        return Err(RunError::Checkpoint(why));
    }
    let mut report = Vec::new();
    for number in [lowered, messages, bytes, u64::from(trace.is_err())] {
        report.extend(number.to_le_bytes());
    }
    if let Some(f) = sh.faults.first() {
        report.extend(encode(&f));
    }
    let reports = ex.share(report).map_err(lost)?;
    let total = |k: usize| -> u64 { reports.iter().filter_map(|r| words(r).nth(k)).sum() };
    let (lowered_all, exchanged) = (
        total(0),
        Exchanged {
            messages: total(1),
            bytes: total(2),
        },
    );
    if rank != 0 && total(3) > 0 {
        return Err(RunError::Ranks(
            "rank 0 could not write the trace (it says why)".into(),
        ));
    }
    let fault = reports
        .iter()
        .filter_map(|r| decode(r.get(32..)?))
        .min_by_key(|f| (f.cycle, f.phase, f.component));
    let fault_rank = fault.as_ref().map(|f| owner[f.component]);
    let compiled = made_code.then_some(Compiled {
        lowered: lowered_all as usize,
        compile_time,
    });
    Ok((
        Outcome {
            cycles: completed,
            threads: ranks,
            fault,
            elapsed: Some(elapsed),
            one_thread: 0,
            trace,
            compiled,
            note,
        },
        fault_rank,
        exchanged,
    ))
}

/// The cycles of one rank: its phases, each followed by the level's
/// exchange; the clock edge's exchange; the agreement on faults and
/// stops; rank 0's trace sample. The cycles completed.
fn cycles_of_rank(
    run: &mut Run<'_>,
    (cycles, copied): (u64, &[std::ops::Range<usize>]),
    ex: &mut dyn Exchange,
    (traffic, mut saver): (&mut Traffic, Option<&mut Saver<'_>>),
    (rank, lead): (usize, &mut Lead<'_>),
) -> Result<u64, Lost> {
    let sh = run.sh;
    for t in 0..=cycles {
        if let Some(saver) = saver.as_deref_mut().filter(|s| t > 0 && s.due(t)) {
            if !save(saver, t, run, ex, rank)? {
                return Ok(t);
            }
        }
        if t == cycles {
            break;
        }
        let (read, write) = parities(t);
        for range in copied {
            sh.copy_forward(range, read);
        }
        let mut faulted = (false, false);
        for phase in 0..run.steps.len() {
            run.phase(t, phase, &mut faulted);
            if let Some(round) = traffic.levels.get_mut(phase) {
                round.swap(ex, sh, 0)?;
            }
        }
        traffic.registered.swap(ex, sh, write * sh.parity)?;
        if t.is_multiple_of(HOUSEKEEPING) {
            let broken = lead.tracer.as_ref().is_some_and(Tracer::is_broken);
            if broken || lead.options.stop_requested() {
                sh.halt.fetch_min(t, Relaxed);
            }
            if rank == 0 {
                lead.options.report_progress(t + 1);
            }
        }
        let mut agreed = [
            sh.failed.load(Relaxed),
            sh.eval_failed.load(Relaxed),
            sh.halt.load(Relaxed),
        ];
        ex.min(&mut agreed)?;
        sh.failed.store(agreed[0], Relaxed);
        sh.eval_failed.store(agreed[1], Relaxed);
        sh.halt.store(agreed[2], Relaxed);
        // The ticks wrote the other parity: the row of cycle `t` is intact.
        if let (Some(tracer), false) = (lead.tracer.as_mut(), agreed[1] <= t) {
            for (v, &s) in tracer.row().iter_mut().zip(&lead.row[read]) {
                *v = sh.slots[s as usize].load(Relaxed);
            }
        }
        if let Some(done) = sh.stop_after(t) {
            return Ok(done);
        }
    }
    Ok(cycles)
}

/// Save the checkpoint due at the start of cycle `t`: every rank sends
/// its components' states to every other (the rare cost of a checkpoint),
/// rank 0 hands them all to the sink, and the ranks agree whether it took
/// them; whether the run goes on.
fn save(
    saver: &mut Saver<'_>,
    t: u64,
    run: &mut Run<'_>,
    ex: &mut dyn Exchange,
    rank: usize,
) -> Result<bool, Lost> {
    let mine = saver.collect(t, (&mut *run.batches, run.groups), run.code, run.sh);
    let text = ron::to_string(&mine).expect("states are plain data and serialise");
    let all = ex.share(text.into_bytes())?;
    let taken = rank != 0 || {
        let lists: Result<Vec<Vec<(usize, Saved)>>, _> = all
            .iter()
            .map(|bytes| ron::from_str(&String::from_utf8_lossy(bytes)))
            .collect();
        match lists {
            Ok(lists) => {
                let states = saver.merge(lists);
                saver.deliver(t, states)
            }
            Err(e) => {
                saver.failed = Some(format!(
                    "a rank's checkpoint state did not arrive whole: {e}"
                ));
                false
            }
        }
    };
    let mut agreed = [u64::from(taken)];
    ex.min(&mut agreed)?;
    if agreed[0] == 0 && saver.failed.is_none() {
        saver.failed = Some("rank 0 could not save the checkpoint (it says why)".into());
    }
    Ok(agreed[0] == 1)
}

/// Cycles between looks at stop requests and progress.
const HOUSEKEEPING: u64 = 64;

/// A fault as it travels.
fn encode(f: &Fault) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(18 + f.message.len());
    bytes.extend(f.cycle.to_le_bytes());
    bytes.extend((f.component as u64).to_le_bytes());
    bytes.push(f.phase as u8);
    bytes.push(u8::from(f.kind == FaultKind::Failed));
    bytes.extend(f.message.as_bytes());
    bytes
}

fn decode(bytes: &[u8]) -> Option<Fault> {
    if bytes.len() < 18 {
        return None;
    }
    let mut w = words(&bytes[..16]);
    let (cycle, component) = (w.next()?, w.next()? as usize);
    let phase = match bytes[16] {
        0 => Phase::Reset,
        1 => Phase::Eval,
        _ => Phase::Tick,
    };
    let kind = if bytes[17] == 1 {
        FaultKind::Failed
    } else {
        FaultKind::Panicked
    };
    Some(Fault {
        cycle,
        phase,
        component,
        kind,
        message: String::from_utf8_lossy(&bytes[18..]).into_owned(),
    })
}
