//! Full-stack handshakes per second: `n` one-tunnel connections in one estate, each
//! establishing once (IKE SA + first CHILD SA: both state machines, real loopback UDP,
//! AWS's records made), against the same handshakes' crypto alone.

use std::time::Duration;

use super::floor::{handshake_floor, per_second, HandshakeSuite};
use super::{
    connection, copies, estate_options, float, wide, BenchError, Figure, Size, Stopwatch, Tally,
    Target,
};
use crate::estate::run_estate;

/// Simulated time of each connection: an establishment takes well under a second of it
/// (round trips of a few milliseconds), and a healthy tunnel with steady traffic does
/// nothing more until its first rekey an hour later.
const SIMULATED: Duration = Duration::from_secs(10);

/// Measures `suite`'s handshake rate and its crypto floor. The floor is measured first
/// and last (half its budget each), and the estate is sized from it so that it runs for
/// at least about a second: `n` is the floor's rate × 1.2 s (a full stack slower than its
/// floor takes longer), at most 20,000 connections.
pub fn handshakes(suite: HandshakeSuite, size: Size) -> Result<Figure, BenchError> {
    let budget = match size {
        Size::Full => Duration::from_millis(400),
        Size::Quick => Duration::from_millis(20),
    };
    let before = handshake_floor(suite, budget)?;
    let n = match size {
        Size::Quick => 8,
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Size::Full => ((before * 1.2).ceil() as usize).clamp(200, 20_000),
    };
    let base = connection(
        suite.ike_version(),
        suite.ike_proposal(),
        suite.esp_proposal(),
        1,
    )?;
    let scenarios = copies(&base, n, 1);
    let mut tally = Tally::new(n);
    let watch = Stopwatch::start();
    run_estate(&scenarios, &estate_options(SIMULATED, 0), &mut tally)?;
    let lap = watch.lap();
    drop(scenarios);
    let after = handshake_floor(suite, budget)?;
    if tally.established != n {
        return Err(BenchError::Unexpected(format!(
            "{}: {} of {n} tunnels established",
            suite.label(),
            tally.established
        )));
    }
    let floor = (before + after) / 2.0;
    let rate = per_second(wide(n), lap.cpu);
    let mut figure = Figure::new(
        format!("handshakes {}", suite.label()),
        rate,
        "handshakes/s",
        "crypto floor",
        floor,
    )
    .with_note(format!(
        "{n} connections in {lap}, {} records ({:.1} per handshake); floor per \
         handshake: {}",
        tally.records,
        float(tally.records) / float(wide(n)),
        suite.ops().describe()
    ));
    if suite == HandshakeSuite::Ikev2Ecp256Gcm {
        figure = figure.with_target(Target::AtLeast(0.5));
    }
    Ok(figure)
}
