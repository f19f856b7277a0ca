//! The timing rules both IKE versions share: when DPD probes, how requests are resent and
//! when they are given up. `timer` holds the timers; these functions decide their instants.

use std::time::{Duration, Instant};

use crate::child::{ChildSa, ChildState};
use crate::config::EndpointConfig;

/// What the DPD rule needs to know about an SA.
pub(crate) struct DpdView {
    /// Established, not replaced, no request outstanding (and, in IKEv1, the peer
    /// announced DPD): a probe could go out.
    pub can_probe: bool,
    /// The peer's traffic reaches us (the data-plane model).
    pub traffic: bool,
    pub nat: bool,
    pub last_heard: Instant,
}

/// When DPD wants to probe: after `delay` without hearing from the peer — on demand, so
/// never while its traffic flows over an established CHILD SA, unless NAT was detected
/// (then periodically, as AWS does).
pub(crate) fn dpd_at(
    config: &EndpointConfig,
    sa: DpdView,
    children: &[ChildSa],
) -> Option<Instant> {
    let dpd = config.dpd?;
    if !sa.can_probe {
        return None;
    }
    let child_up = children.iter().any(|c| c.state == ChildState::Installed);
    if sa.traffic && child_up && !sa.nat {
        return None;
    }
    Some(sa.last_heard + dpd.delay)
}

/// How long to wait after the `n`th transmission of a request: AWS's DPD resends its
/// liveness check every DPD delay; everything else backs off exponentially.
pub(crate) fn retransmit_wait(config: &EndpointConfig, dpd_probe: bool, n: u32) -> Duration {
    match config.dpd {
        Some(dpd) if dpd_probe && dpd.timeout.is_some() => dpd.delay,
        _ => config.retransmit.wait_after(n),
    }
}

/// A request's next transmission (its number and the deadline after it), or `None` when
/// it is given up: a DPD probe when the DPD timeout has passed since the first one, any
/// other request after `tries` retransmissions (RFC 7296 §2.1–2.4).
pub(crate) fn next_transmission(
    config: &EndpointConfig,
    dpd_probe: bool,
    transmissions: u32,
    first_sent: Instant,
    now: Instant,
) -> Option<(u32, Instant)> {
    let dpd_timeout = config.dpd.filter(|_| dpd_probe).and_then(|d| d.timeout);
    let give_up = match dpd_timeout {
        Some(timeout) => now >= first_sent + timeout,
        None => transmissions > config.retransmit.tries,
    };
    if give_up {
        return None;
    }
    let n = transmissions + 1;
    let mut deadline = now + retransmit_wait(config, dpd_probe, n);
    if let Some(timeout) = dpd_timeout {
        deadline = deadline.min(first_sent + timeout);
    }
    Some((n, deadline))
}
