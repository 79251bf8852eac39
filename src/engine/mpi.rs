//! The [`Exchange`] over MPI (the `mpi` feature: rsmpi on the system's
//! MPI): a rank is an MPI process of `mpirun -n R`. Values travel as
//! non-blocking sends, so two ranks sending each other at once never wait
//! for each other; the agreement on faults and stops is one all-reduce.
//!
//! A rank that dies takes the job down: MPI's default error handler, and
//! `mpirun`, end every rank with a message naming the dead one; so no call
//! here returns [`Lost`].

use mpi::collective::SystemOperation;
use mpi::environment::Threading;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::traits::*;

use super::exchange::{Exchange, Lost};

/// This process as one rank of the MPI world, which stays initialised
/// while it lives. Drop it on the thread that made it (which MPI's
/// finalisation requires).
pub struct MpiRank {
    _universe: mpi::environment::Universe,
    world: SimpleCommunicator,
    rank: usize,
    ranks: usize,
}

impl MpiRank {
    /// Join the world `mpirun` started (a world of one without a launcher).
    pub fn join() -> Result<MpiRank, String> {
        let (universe, threading) = mpi::initialize_with_threading(Threading::Serialized)
            .ok_or("MPI would not initialise (is it initialised already?)")?;
        if threading < Threading::Serialized {
            return Err(format!(
                "this MPI offers {threading:?} threading; the mpi engine needs Serialized"
            ));
        }
        let world = universe.world();
        Ok(MpiRank {
            rank: world.rank() as usize,
            ranks: world.size() as usize,
            world,
            _universe: universe,
        })
    }
}

// SAFETY: MPI was initialised with `Threading::Serialized` (checked in
// `join`), which allows calls from any thread as long as no two are at
// once; an `MpiRank` makes calls only through `&mut self` (and `abort`,
// which ends the process), and the engine holds it behind a `Mutex`
// (`Link`), so no two threads call at once. Dropping it finalises MPI,
// which the standard wants on the thread that initialised it: `MpiRank`'s
// docs ask for that, and the command line makes, uses and drops it on the
// main thread.
unsafe impl Send for MpiRank {}

impl Exchange for MpiRank {
    fn rank(&self) -> usize {
        self.rank
    }

    fn ranks(&self) -> usize {
        self.ranks
    }

    fn swap(
        &mut self,
        sends: &[(usize, Vec<u64>)],
        receives: &mut [(usize, Vec<u64>)],
    ) -> Result<(), Lost> {
        let world = &self.world;
        mpi::request::scope(|scope| {
            let requests: Vec<_> = sends
                .iter()
                .map(|(to, values)| {
                    world
                        .process_at_rank(*to as i32)
                        .immediate_send(scope, &values[..])
                })
                .collect();
            let mut short = None;
            for (from, buffer) in receives.iter_mut() {
                let status = world
                    .process_at_rank(*from as i32)
                    .receive_into(&mut buffer[..]);
                if status.count(u64::equivalent_datatype()) as usize != buffer.len() {
                    short = Some(*from);
                }
            }
            for request in requests {
                request.wait();
            }
            short.map_or(Ok(()), |from| Err(Lost(from)))
        })
    }

    fn min(&mut self, values: &mut [u64]) -> Result<(), Lost> {
        let mine = values.to_vec();
        self.world
            .all_reduce_into(&mine[..], values, SystemOperation::min());
        Ok(())
    }

    fn share(&mut self, bytes: Vec<u8>) -> Result<Vec<Vec<u8>>, Lost> {
        let world = &self.world;
        let (rank, ranks) = (self.rank, self.ranks);
        let mut all = vec![Vec::new(); ranks];
        mpi::request::scope(|scope| {
            let requests: Vec<_> = (0..ranks)
                .filter(|&r| r != rank)
                .map(|r| {
                    world
                        .process_at_rank(r as i32)
                        .immediate_send(scope, &bytes[..])
                })
                .collect();
            for (r, slot) in all.iter_mut().enumerate() {
                if r != rank {
                    *slot = world.process_at_rank(r as i32).receive_vec::<u8>().0;
                }
            }
            for request in requests {
                request.wait();
            }
        });
        all[rank] = bytes;
        Ok(all)
    }

    fn abort(&self, code: i32) {
        self.world.abort(code);
    }
}
