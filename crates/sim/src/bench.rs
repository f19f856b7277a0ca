//! `ikesim bench`: how fast the accelerated driver runs a long scenario, as simulated
//! seconds per wall second, and as a ratio against a floor measured in the same run —
//! these machines are shared, so only same-run ratios mean anything.
//!
//! The floor is the crypto the run cannot avoid: one DH key pair and one shared secret
//! per peer for every exchange that had a KE payload (IKE_SA_INIT and every rekey with
//! PFS), computed back to back with no IO and no state machine.

use std::time::{Duration, Instant};

use ike_crypto::KeyExchange;
use ike_wire::DhGroup;

use crate::runner::{run, RunError, RunOptions};
use crate::scenario::Scenario;

/// What one bench run measured; the binary prints it.
#[derive(Clone, Debug)]
pub struct BenchReport {
    /// The scenario's name.
    pub scenario: String,
    /// Simulated time covered by the run.
    pub simulated: Duration,
    /// Wall time the run took.
    pub wall: Duration,
    /// Tunnel log records written: a check that the run did what the scenario says.
    pub records: usize,
    /// Exchanges with a DH computation (IKE_SA_INIT + rekeys).
    pub dh_exchanges: usize,
    /// The DH group of the floor's computations: the first one the CGW proposes for IKE
    /// (ECP-256 if it names none).
    pub dh_group: DhGroup,
    /// The same number of DH computations alone.
    pub floor: Duration,
}

impl BenchReport {
    /// The speed-up of the accelerated clock.
    pub fn simulated_per_wall_second(&self) -> f64 {
        self.simulated.as_secs_f64() / self.wall.as_secs_f64().max(1e-9)
    }

    /// Wall time over the crypto floor: 1.0 would mean IO and state machines cost nothing.
    pub fn over_floor(&self) -> f64 {
        self.wall.as_secs_f64() / self.floor.as_secs_f64().max(1e-9)
    }
}

/// One DH exchange between two peers: two key pairs, two shared secrets.
fn dh_exchange(group: DhGroup) -> Result<(), ike_crypto::CryptoError> {
    let a = KeyExchange::generate(group)?;
    let b = KeyExchange::generate(group)?;
    let (pa, pb) = (a.public_value().to_vec(), b.public_value().to_vec());
    a.shared_secret(&pb)?;
    b.shared_secret(&pa)?;
    Ok(())
}

/// Runs `scenario` for `duration` on the accelerated clock, then measures the floor.
pub fn bench(scenario: &Scenario, duration: Duration) -> Result<BenchReport, RunError> {
    let options = RunOptions {
        duration: Some(duration),
        ..RunOptions::default()
    };
    let started = Instant::now();
    let output = run(scenario, &options)?;
    let wall = started.elapsed();
    let rekeys = output
        .records
        .iter()
        .filter(|(_, r)| {
            r.details.contains("CHILD_SA rekeyed") || r.details.contains("IKE_SA rekeyed")
        })
        .count();
    let dh_exchanges = 1 + rekeys;
    let dh_group = scenario
        .tunnel
        .first()
        .and_then(|t| t.cgw.ike_proposals.first())
        .and_then(|p| p.1.dh.first().copied())
        .unwrap_or(DhGroup::ECP_256);
    let started = Instant::now();
    for _ in 0..dh_exchanges {
        dh_exchange(dh_group).map_err(|e| RunError::Io(std::io::Error::other(e.to_string())))?;
    }
    let floor = started.elapsed();
    Ok(BenchReport {
        scenario: scenario.name.clone(),
        simulated: duration,
        wall,
        records: output.records.len(),
        dh_exchanges,
        dh_group,
        floor,
    })
}
