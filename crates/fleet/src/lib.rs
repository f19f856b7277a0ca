//! A fleet: many simulated AWS Site-to-Site VPN connections at once, mostly healthy, some
//! failing the way real estates fail — the engine of `ikesim fleet` (issue 13 §3, §4;
//! docs/fleet.md is the user's page).
//!
//! # Design
//! - **A connection is a scenario.** Connection `i` of a fleet is made from the fleet's
//!   seed and `i` alone ([`connection`]): its VPN id (`vpn-` + 17 hex digits), its
//!   addresses ([`addresses`]: AWS's outside IPs from AWS's published EC2 ranges, the
//!   CGW's from public unicast space, a NAT'd CGW behind its NAT's), its profile drawn
//!   from the [`Mix`] and the configuration the profile sets ([`profile::PROFILES`], the
//!   one table of them). It is written as scenario text and parsed with
//!   [`sim::Scenario::parse`], so every connection of a fleet can be printed
//!   (`ikesim fleet --scenario-of N`) and replayed alone with `ikesim run FILE`, giving
//!   the records it has in the fleet — a way into one tunnel of ten thousand.
//! - **Failures are configuration.** A profile sets what a real estate gets wrong (a
//!   key, a proposal, a crash, a lossy path) and never a log line; what AWS logs is what
//!   the protocol makes of it.
//! - **Independent of the run's shape.** Since a connection depends on (seed, index) only
//!   and connections never talk to each other (`sim::estate`), connection `i` is the same
//!   whatever `--connections`, `--shard` or `--jobs`: a shard ([`Shard`]) is the indices
//!   `i` with `i mod K = I`, and the union of the K shards' outputs is the unsplit run's.
//! - **Threads.** [`run()`] splits the connections over `--jobs` threads, each an estate
//!   on one simulated clock origin, and merges their records into one order that does
//!   not depend on the number of threads ([`run`'s module](crate::run)).

#![warn(missing_docs)]

use std::time::Duration;

use chrono::{DateTime, Utc};

pub mod addresses;
pub mod data_plane;
mod generate;
pub mod mix;
pub mod profile;
pub mod run;

pub use data_plane::DataPlaneTotals;
pub use generate::{cgw_in_records, connection, Connection, Presented};
pub use mix::{Mix, MixError};
pub use run::{run, FleetReport, FleetSink};

/// What a fleet is: how many connections, for how long, from which seed and mix, which
/// shard of it runs, and when its clock starts.
#[derive(Clone, Debug)]
pub struct FleetSpec {
    /// `--connections`: how many VPN connections the whole fleet has (two tunnels each).
    pub connections: usize,
    /// `--duration`: simulated time to run.
    pub duration: Duration,
    /// `--seed`: every connection is made from it and its index.
    pub seed: u64,
    /// The profiles and their weights (`--mix`, else the default).
    pub mix: Mix,
    /// `--shard I/K`: the part of the fleet this run makes.
    pub shard: Shard,
    /// The UTC time of the simulated clock's origin.
    pub start: DateTime<Utc>,
}

impl FleetSpec {
    /// The indices of the connections this shard runs, in order.
    pub fn members(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.connections).filter(|i| self.shard.contains(*i))
    }

    /// Connection `index` of the fleet (whichever shard holds it).
    pub fn connection(&self, index: usize) -> Connection {
        connection(self, index)
    }
}

/// `--shard I/K`: the `I`-th (0-based, as Kubernetes' completion index and
/// `AWS_BATCH_JOB_ARRAY_INDEX` count) of `K` disjoint slices of a fleet's connections:
/// those whose index `i` has `i mod K = I`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// `I`, 0-based, below `count`.
    pub index: usize,
    /// `K`, 1 or more.
    pub count: usize,
}

impl Default for Shard {
    /// The whole fleet: `0/1`.
    fn default() -> Shard {
        Shard { index: 0, count: 1 }
    }
}

impl Shard {
    /// Whether connection `i` is in this shard.
    pub fn contains(&self, i: usize) -> bool {
        i % self.count == self.index
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || {
            format!(
                "`{s}` is not a shard: write I/K, the I-th of K slices counted from 0 \
                 (0/3, 1/3 and 2/3 make a whole), as a Kubernetes completion index or \
                 AWS_BATCH_JOB_ARRAY_INDEX counts"
            )
        };
        let (i, k) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = k.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// A fleet that could not run.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// A generated connection did not parse (a bug in a profile: its scenario text says
    /// which).
    #[error("a generated connection is not a valid scenario (a fleet bug): {0}")]
    Scenario(String),
    /// An estate could not run (sockets, runtime).
    #[error("{0}")]
    Run(String),
    /// The records could not be written.
    #[error("{0}")]
    Output(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(connections: usize) -> FleetSpec {
        FleetSpec {
            connections,
            duration: Duration::from_secs(86_400),
            seed: 42,
            mix: Mix::default(),
            shard: Shard::default(),
            start: "2026-01-01T00:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn connections_depend_on_seed_and_index_only() {
        let small = spec(10);
        let mut big = spec(10_000);
        big.shard = "2/3".parse().unwrap();
        for i in [2, 5, 8] {
            assert_eq!(small.connection(i).text, big.connection(i).text);
        }
        let mut other = spec(10);
        other.seed = 43;
        assert_ne!(small.connection(2).text, other.connection(2).text);
    }

    #[test]
    fn every_connection_parses_and_is_well_formed() {
        let s = spec(2000);
        let mut ids = std::collections::HashSet::new();
        let mut profiles = std::collections::HashMap::<&str, usize>::new();
        for i in 0..s.connections {
            let c = s.connection(i);
            let scenario = c.scenario().unwrap_or_else(|e| panic!("{e}\n{}", c.text));
            assert_eq!(scenario.tunnel.len(), 2);
            let id = &c.vpn_connection_id;
            assert!(
                id.len() == 21
                    && id.starts_with("vpn-")
                    && id[4..]
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
                "{id}"
            );
            assert_eq!(&scenario.vpn_connection.id, id);
            assert!(ids.insert(id.clone()), "{id} twice");
            assert_ne!(c.presented.aws[0], c.presented.aws[1]);
            match c.presented.nat {
                Some(nat) => {
                    assert!(c.presented.cgw.is_private());
                    assert!(addresses::is_cgw_public(nat));
                }
                None => assert!(addresses::is_cgw_public(c.presented.cgw)),
            }
            *profiles.entry(c.profile).or_default() += 1;
        }
        // Every profile of the default mix shows up; healthy is about 80 % (fixed seed).
        for p in profile::PROFILES {
            assert!(profiles.get(p.name).copied().unwrap_or(0) > 0, "{}", p.name);
        }
        let healthy = profiles["healthy"];
        assert!((1520..1680).contains(&healthy), "{healthy} of 2000 healthy");
    }

    #[test]
    fn shards_partition_the_fleet() {
        let mut s = spec(100);
        let mut seen = vec![0; 100];
        for i in 0..3 {
            s.shard = Shard { index: i, count: 3 };
            for m in s.members() {
                seen[m] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n == 1));
        assert!("3/3".parse::<Shard>().is_err());
        assert!("1/0".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
        assert_eq!("1/3".parse::<Shard>(), Ok(Shard { index: 1, count: 3 }));
    }
}
