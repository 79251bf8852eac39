//! How the ranks of a circuit partitioned over processes talk (see
//! [`Engine::Mpi`](super::Engine::Mpi)): the [`Exchange`] the engine calls,
//! knowing no MPI, and [`in_threads`], ranks as threads of one process, so
//! that the partitioned run is tested, and usable, without `mpirun`.
//!
//! Every rank makes the same calls in the same order (the engine derives
//! them from the circuit, which every rank loads whole), so a message
//! between two ranks is always the next one the receiver expects.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crossbeam_channel::{unbounded, Receiver, Sender};

/// Another rank is gone (it stopped before the run's end: a crash, a
/// kill), or sent what this rank did not expect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rank {0} stopped answering before the run's end, or sent what this rank did not expect")]
pub struct Lost(pub usize);

/// One rank's link to the others.
pub trait Exchange: Send {
    /// This rank.
    fn rank(&self) -> usize;
    /// How many ranks there are.
    fn ranks(&self) -> usize;
    /// Send each `(to, values)` of `sends`, then fill each `(from, buffer)`
    /// of `receives` with what rank `from` sent this rank in the matching
    /// call (a buffer has the length it must receive). Sending never waits
    /// for a receiver.
    fn swap(
        &mut self,
        sends: &[(usize, Vec<u64>)],
        receives: &mut [(usize, Vec<u64>)],
    ) -> Result<(), Lost>;
    /// Make each of `values` the least of that value on every rank.
    fn min(&mut self, values: &mut [u64]) -> Result<(), Lost>;
    /// Every rank's `bytes`, in rank order, on every rank.
    fn share(&mut self, bytes: Vec<u8>) -> Result<Vec<Vec<u8>>, Lost>;
    /// End every rank's process with exit status `code`, when this one
    /// cannot take part in a run the others wait in (the default does
    /// nothing: thread ranks end with their process).
    fn abort(&self, _code: i32) {}
}

/// An [`Exchange`] for the engine's options: shared, as options are cloned.
#[derive(Clone)]
pub struct Link {
    exchange: Arc<Mutex<Box<dyn Exchange>>>,
    /// Whether a run has begun talking to the other ranks.
    pub(crate) started: Arc<AtomicBool>,
}

impl Link {
    /// Wrap `exchange`.
    pub fn new(exchange: impl Exchange + 'static) -> Link {
        Link {
            exchange: Arc::new(Mutex::new(Box::new(exchange))),
            started: Arc::default(),
        }
    }

    /// The exchange, for one caller at a time.
    pub fn lock(&self) -> MutexGuard<'_, Box<dyn Exchange>> {
        self.exchange.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// This rank.
    pub fn rank(&self) -> usize {
        self.lock().rank()
    }

    /// Whether a run has begun with the other ranks: before it has, a
    /// rank that cannot run must [`abort`](Exchange::abort), or the others
    /// wait for it.
    pub fn started(&self) -> bool {
        self.started.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.exchange.try_lock() {
            Ok(e) => write!(f, "Link(rank {} of {})", e.rank(), e.ranks()),
            Err(_) => f.write_str("Link(in use)"),
        }
    }
}

/// What travels between thread ranks.
enum Message {
    Values(Vec<u64>),
    Bytes(Vec<u8>),
}

/// A rank that is a thread: channels to and from every other.
pub struct ThreadRank {
    rank: usize,
    to: Vec<Option<Sender<Message>>>,
    from: Vec<Option<Receiver<Message>>>,
}

/// `ranks` linked ranks, to run each on its own thread.
pub fn thread_ranks(ranks: usize) -> Vec<ThreadRank> {
    let mut to: Vec<Vec<Option<Sender<Message>>>> = (0..ranks).map(|_| Vec::new()).collect();
    let mut from: Vec<Vec<Option<Receiver<Message>>>> = (0..ranks)
        .map(|_| (0..ranks).map(|_| None).collect())
        .collect();
    for (a, to) in to.iter_mut().enumerate() {
        for (b, from) in from.iter_mut().enumerate() {
            if a == b {
                to.push(None);
            } else {
                let (send, receive) = unbounded();
                to.push(Some(send));
                from[a] = Some(receive);
            }
        }
    }
    to.into_iter()
        .zip(from)
        .enumerate()
        .map(|(rank, (to, from))| ThreadRank { rank, to, from })
        .collect()
}

/// Run `f` on `ranks` threads, each with its rank's [`Link`]; the results
/// by rank.
pub fn in_threads<R: Send>(ranks: usize, f: impl Fn(Link) -> R + Sync) -> Vec<R> {
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = thread_ranks(ranks.max(1))
            .into_iter()
            .map(|rank| s.spawn(move || f(Link::new(rank))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

impl ThreadRank {
    fn send(&self, to: usize, message: Message) -> Result<(), Lost> {
        let link = self.to[to].as_ref().ok_or(Lost(to))?;
        link.send(message).map_err(|_| Lost(to))
    }

    fn receive(&self, from: usize) -> Result<Message, Lost> {
        let link = self.from[from].as_ref().ok_or(Lost(from))?;
        link.recv().map_err(|_| Lost(from))
    }

    fn others(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.to.len()).filter(move |&r| r != self.rank)
    }
}

impl Exchange for ThreadRank {
    fn rank(&self) -> usize {
        self.rank
    }

    fn ranks(&self) -> usize {
        self.to.len()
    }

    fn swap(
        &mut self,
        sends: &[(usize, Vec<u64>)],
        receives: &mut [(usize, Vec<u64>)],
    ) -> Result<(), Lost> {
        for (to, values) in sends {
            self.send(*to, Message::Values(values.clone()))?;
        }
        for (from, buffer) in receives {
            match self.receive(*from)? {
                Message::Values(v) if v.len() == buffer.len() => buffer.copy_from_slice(&v),
                _ => return Err(Lost(*from)),
            }
        }
        Ok(())
    }

    fn min(&mut self, values: &mut [u64]) -> Result<(), Lost> {
        let mine = values.to_vec();
        for r in self.others() {
            self.send(r, Message::Values(mine.clone()))?;
        }
        for r in self.others() {
            match self.receive(r)? {
                Message::Values(v) if v.len() == values.len() => {
                    for (a, b) in values.iter_mut().zip(v) {
                        *a = (*a).min(b);
                    }
                }
                _ => return Err(Lost(r)),
            }
        }
        Ok(())
    }

    fn share(&mut self, bytes: Vec<u8>) -> Result<Vec<Vec<u8>>, Lost> {
        for r in self.others() {
            self.send(r, Message::Bytes(bytes.clone()))?;
        }
        let mut all = Vec::with_capacity(self.ranks());
        for r in 0..self.ranks() {
            if r == self.rank {
                all.push(bytes.clone());
                continue;
            }
            match self.receive(r)? {
                Message::Bytes(b) => all.push(b),
                Message::Values(_) => return Err(Lost(r)),
            }
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_ranks_swap_take_the_least_and_share() {
        let results = in_threads(3, |link| {
            let mut e = link.lock();
            let (me, n) = (e.rank(), e.ranks());
            // Each rank sends its number to the next and receives from the one before.
            let sends = [((me + 1) % n, vec![me as u64 * 10])];
            let mut receives = [((me + n - 1) % n, vec![0])];
            e.swap(&sends, &mut receives).unwrap();
            let mut least = [me as u64 + 5, 100 - me as u64];
            e.min(&mut least).unwrap();
            let shared = e.share(vec![me as u8]).unwrap();
            (receives[0].1[0], least, shared)
        });
        assert_eq!(results[0], (20, [5, 98], vec![vec![0], vec![1], vec![2]]));
        assert_eq!(results[1].0, 0);
        assert_eq!(results[2].0, 10);
    }

    #[test]
    fn a_rank_that_is_gone_is_an_error_not_a_hang() {
        let mut ranks = thread_ranks(2);
        let gone = ranks.pop();
        drop(gone);
        let mut left = ranks.pop().unwrap();
        assert_eq!(left.min(&mut [1]), Err(Lost(1)));
    }
}
