//! The ranks a sweep is split over. Started by `mpirun -n R` (with the
//! `mpi` feature), rank `k` runs the runs whose index is `k` modulo `R`, and
//! sends its rows to rank 0, which writes the table: the same table as one
//! process writes, because a run's point and seed depend only on its index.
//! Started any other way, a sweep is one rank of one.
//!
//! A build without the feature that finds itself started by an MPI
//! launcher with several ranks refuses, rather than run the whole sweep R
//! times into one file.

use super::Row;

/// The ranks of this sweep: this process's, and how many.
pub struct Ranks {
    #[cfg(feature = "mpi")]
    mpi: Option<mpi_ranks::World>,
}

/// The number of ranks an MPI launcher started this process among, if one
/// did (Open MPI's and MPICH's environment).
pub fn launched_ranks() -> Option<u64> {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"]
        .iter()
        .find_map(|v| std::env::var(v).ok()?.parse().ok())
}

/// Ranks the launcher started on this machine (to share its cores).
pub fn local_ranks() -> u64 {
    ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"]
        .iter()
        .find_map(|v| std::env::var(v).ok()?.parse().ok())
        .unwrap_or(1)
        .max(1)
}

impl Ranks {
    /// Join the launcher's ranks, if it started this process among
    /// several; else a rank of one.
    pub fn join() -> Result<Ranks, String> {
        let launched = launched_ranks().filter(|&n| n > 1);
        #[cfg(feature = "mpi")]
        {
            let mpi = match launched {
                Some(_) => Some(mpi_ranks::World::init().ok_or(
                    "started by an MPI launcher, but MPI would not initialise".to_string(),
                )?),
                None => None,
            };
            Ok(Ranks { mpi })
        }
        #[cfg(not(feature = "mpi"))]
        match launched {
            Some(n) => Err(format!(
                "started as one of {n} MPI ranks, but this cspsim was built without MPI; build it with `--features mpi` (each rank would otherwise run the whole sweep)"
            )),
            None => Ok(Ranks {}),
        }
    }

    /// This process's rank.
    pub fn rank(&self) -> u64 {
        #[cfg(feature = "mpi")]
        if let Some(world) = &self.mpi {
            return world.rank;
        }
        0
    }

    /// How many ranks there are.
    pub fn size(&self) -> u64 {
        #[cfg(feature = "mpi")]
        if let Some(world) = &self.mpi {
            return world.size;
        }
        1
    }

    /// Whether this is rank 0, which writes the table.
    pub fn is_root(&self) -> bool {
        self.rank() == 0
    }

    /// Whether `flag` holds on any rank (every rank must ask).
    pub fn any(&self, flag: bool) -> bool {
        self.max(u64::from(flag)) != 0
    }

    /// The largest of every rank's `value` (every rank must ask).
    pub fn max(&self, value: u64) -> u64 {
        #[cfg(feature = "mpi")]
        if let Some(world) = &self.mpi {
            return world.max(value);
        }
        value
    }

    /// Every rank's rows at rank 0, in grid order; `None` on the others
    /// (every rank must call it).
    pub fn gather(&self, rows: Vec<Row>, grid: &super::Grid) -> Option<Vec<Row>> {
        #[cfg(feature = "mpi")]
        if let Some(world) = &self.mpi {
            let mut rows = world.gather(rows, grid)?;
            rows.sort_by_key(|r| r.run.index);
            return Some(rows);
        }
        let _ = grid;
        Some(rows)
    }
}

#[cfg(feature = "mpi")]
mod mpi_ranks {
    use mpi::collective::SystemOperation;
    use mpi::topology::{Communicator, SimpleCommunicator};
    use mpi::traits::*;

    use super::super::{Collected, Failure, Grid, Row};
    use crate::trace::FinalValue;
    use crate::value::PortType;

    /// MPI's world, kept initialised while it lives.
    pub struct World {
        _universe: mpi::environment::Universe,
        world: SimpleCommunicator,
        pub rank: u64,
        pub size: u64,
    }

    impl World {
        pub fn init() -> Option<World> {
            let universe = mpi::initialize()?;
            let world = universe.world();
            Some(World {
                rank: world.rank() as u64,
                size: world.size() as u64,
                world,
                _universe: universe,
            })
        }

        pub fn max(&self, value: u64) -> u64 {
            let mut all = 0u64;
            self.world
                .all_reduce_into(&value, &mut all, SystemOperation::max());
            all
        }

        pub fn gather(&self, rows: Vec<Row>, grid: &Grid) -> Option<Vec<Row>> {
            if self.rank != 0 {
                let wire: Vec<Wire> = rows.iter().map(Wire::from).collect();
                let bytes =
                    serde_json::to_vec(&wire).expect("rows of numbers and strings serialise");
                self.world.process_at_rank(0).send(&bytes[..]);
                return None;
            }
            let mut all = rows;
            for r in 1..self.size {
                let (bytes, _) = self.world.process_at_rank(r as i32).receive_vec::<u8>();
                let wire: Vec<Wire> =
                    serde_json::from_slice(&bytes).expect("rows arrive as another rank wrote them");
                all.extend(wire.into_iter().map(|w| w.row(grid)));
            }
            Some(all)
        }
    }

    /// A row as it travels: the run by its index alone (rank 0 knows the
    /// grid), numbers as bits (JSON has no NaN).
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Wire {
        index: u64,
        cycles: u64,
        failure: Option<(String, Option<u64>, Option<String>, String)>,
        signals: Vec<WireSignal>,
    }

    /// A collected signal as it travels.
    #[derive(serde::Serialize, serde::Deserialize)]
    struct WireSignal {
        name: String,
        /// 0 for a real.
        width: u8,
        last: u64,
        min: u64,
        max: u64,
        mean: u64,
        ones: Option<u64>,
    }

    impl From<&Row> for Wire {
        fn from(row: &Row) -> Wire {
            Wire {
                index: row.run.index,
                cycles: row.cycles,
                failure: row.failure.as_ref().map(|f| {
                    (
                        f.kind.to_string(),
                        f.cycle,
                        f.component.clone(),
                        f.message.clone(),
                    )
                }),
                signals: row
                    .signals
                    .iter()
                    .map(|s| {
                        let (width, last) = match (s.ty, s.last) {
                            (PortType::Bits(w), FinalValue::Bits(v)) => (w, v),
                            (_, FinalValue::Real(x)) => (0, x.to_bits()),
                            (PortType::Real, FinalValue::Bits(v)) => (0, v),
                        };
                        WireSignal {
                            name: s.name.clone(),
                            width,
                            last,
                            min: s.min.to_bits(),
                            max: s.max.to_bits(),
                            mean: s.mean.to_bits(),
                            ones: s.ones,
                        }
                    })
                    .collect(),
            }
        }
    }

    impl Wire {
        fn row(self, grid: &Grid) -> Row {
            Row {
                run: grid.run(self.index),
                cycles: self.cycles,
                failure: self
                    .failure
                    .map(|(kind, cycle, component, message)| Failure {
                        kind: super::super::failure_kind(&kind),
                        cycle,
                        component,
                        message,
                    }),
                signals: self
                    .signals
                    .into_iter()
                    .map(|s| {
                        let (ty, last) = match s.width {
                            0 => (PortType::Real, FinalValue::Real(f64::from_bits(s.last))),
                            w => (PortType::Bits(w), FinalValue::Bits(s.last)),
                        };
                        Collected {
                            name: s.name,
                            ty,
                            last,
                            min: f64::from_bits(s.min),
                            max: f64::from_bits(s.max),
                            mean: f64::from_bits(s.mean),
                            ones: s.ones,
                        }
                    })
                    .collect(),
            }
        }
    }
}
