//! How AWS derives one tunnel's state from the facts of its endpoint's SAs.
//!
//! The core reports protocol facts: every `ike_core::Event` names the SA it concerns
//! (`SaHandle`), that SA's own facts after it (`SaFacts`: its phase 1 state, its CHILD
//! SAs' state, NAT and DPD facts), and the changes to the endpoint's other SAs that no
//! event of their own told (`SaChange`: CHILD SAs that changed hands, SAs gone). AWS
//! reports a tunnel, not SAs, so:
//!
//! ```text
//! Event ──▶ TunnelView::observe ──▶ TunnelState ──▶ TunnelLog::record ──▶ records
//!           (SaHandle → SaFacts)    (phase states, NAT-T, DPD)
//! ```
//!
//! - `TunnelView` keeps the facts of every SA the events have told of, applies each
//!   event's `changes` first, then the event's own facts, and forgets an SA when it is
//!   removed.
//! - The tunnel's phase 1 and phase 2 states are the furthest along over all SAs
//!   (`SaState`'s order: Down < Negotiating < Rekeying < Established). So a replacement
//!   negotiating beside an established SA does not take the tunnel down; CHILD SAs
//!   adopted by a new IKE SA (IKE rekey, RFC 7296 §2.18) or by a new ISAKMP SA (IKEv1
//!   phase 1 replacement) count where they now live, because the change that moved them
//!   comes before the event; and an SA handing everything over tells the states it hands
//!   over as its own.
//! - NAT-T detected and DPD enabled are the facts of the SA the event concerns: NAT
//!   detection (RFC 7296 §2.23, RFC 3947 §3) found a NAT in front of either side; DPD runs
//!   on it (IKEv2 always, IKEv1 when the peer announced RFC 3706).

use std::net::IpAddr;

use ike_core::{Event, SaChange, SaFacts, SaHandle, SaState};

/// One tunnel's state as AWS reports it after an event: the fields of a record that are
/// not its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelState {
    /// The tunnel's phase 1 state, over all its IKE SAs.
    pub phase1: SaState,
    /// The tunnel's phase 2 state, over all its CHILD SAs.
    pub phase2: SaState,
    /// Whether NAT detection found a NAT on the path of the event's SA.
    pub nat_t_detected: bool,
    /// Whether DPD runs on the event's SA.
    pub dpd_enabled: bool,
}

/// The facts of one AWS endpoint's SAs, as its events told them.
#[derive(Debug, Default)]
pub struct TunnelView {
    sas: Vec<(SaHandle, SaFacts)>,
    /// The last event's peer address and DPD fact, for what an endpoint replacement writes.
    last: Option<(IpAddr, bool)>,
}

impl TunnelView {
    /// A view that knows of no SA yet.
    pub fn new() -> TunnelView {
        TunnelView::default()
    }

    /// Takes in `event`'s facts and tells the tunnel's state after it.
    pub fn observe(&mut self, event: &Event) -> TunnelState {
        for change in &event.changes {
            match *change {
                SaChange::Facts(sa, facts) => self.set(sa, facts),
                SaChange::Removed(sa) => self.sas.retain(|(h, _)| *h != sa),
            }
        }
        self.set(event.sa, event.facts);
        self.last = Some((event.peer.ip(), event.facts.dpd));
        let (phase1, phase2) = self
            .sas
            .iter()
            .fold((SaState::Down, SaState::Down), |(p1, p2), (_, f)| {
                (p1.max(f.phase1), p2.max(f.phase2))
            });
        TunnelState {
            phase1,
            phase2,
            nat_t_detected: event.facts.nat.detected(),
            dpd_enabled: event.facts.dpd,
        }
    }

    /// AWS replaced the tunnel's endpoint (`crate::scenario::events`): the new endpoint's
    /// SAs are new ones, so the view forgets every SA it knew and the tunnel is down. Says
    /// the state after it, and the CGW the last event named (none: no event yet).
    pub fn replaced(&mut self) -> (TunnelState, Option<IpAddr>) {
        self.sas.clear();
        let state = TunnelState {
            phase1: SaState::Down,
            phase2: SaState::Down,
            nat_t_detected: false,
            dpd_enabled: self.last.is_some_and(|(_, dpd)| dpd),
        };
        (state, self.last.map(|(ip, _)| ip))
    }

    fn set(&mut self, sa: SaHandle, facts: SaFacts) {
        match self.sas.iter_mut().find(|(h, _)| *h == sa) {
            Some((_, f)) => *f = facts,
            None => self.sas.push((sa, facts)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ike_core::{EventKind, IkeVersion, Nat};
    use SaState::{Down, Established, Negotiating};

    fn facts(phase1: SaState, phase2: SaState) -> SaFacts {
        SaFacts {
            phase1,
            phase2,
            nat: Nat::default(),
            dpd: true,
        }
    }

    fn event(sa: u64, f: SaFacts, changes: Vec<SaChange>) -> Event {
        Event {
            kind: EventKind::IkeSaDeleteSent,
            sa: SaHandle(sa),
            facts: f,
            changes,
            peer: "127.0.0.2:500".parse().expect("an address"),
            ike_version: IkeVersion::V2,
        }
    }

    #[test]
    fn the_furthest_along_wins_and_removed_sas_are_forgotten() {
        let mut view = TunnelView::new();
        let up = view.observe(&event(0, facts(Established, Established), vec![]));
        assert_eq!((up.phase1, up.phase2), (Established, Established));
        // A replacement negotiating beside it leaves the tunnel up.
        let next = view.observe(&event(1, facts(Negotiating, Down), vec![]));
        assert_eq!((next.phase1, next.phase2), (Established, Established));
        // The old SA handed its CHILD SA to the new one, then went away.
        let moved = vec![
            SaChange::Removed(SaHandle(0)),
            SaChange::Facts(SaHandle(2), facts(Established, Established)),
        ];
        let after = view.observe(&event(1, facts(Down, Down), moved));
        assert_eq!((after.phase1, after.phase2), (Established, Established));
        let gone = vec![SaChange::Removed(SaHandle(2))];
        let down = view.observe(&event(1, facts(Down, Down), gone));
        assert_eq!((down.phase1, down.phase2), (Down, Down));
    }

    #[test]
    fn a_replaced_endpoint_leaves_the_tunnel_down_and_its_new_sas_count_alone() {
        let mut view = TunnelView::new();
        assert_eq!(view.replaced().1, None);
        view.observe(&event(0, facts(Established, Established), vec![]));
        let (state, cgw) = view.replaced();
        assert_eq!((state.phase1, state.phase2), (Down, Down));
        assert_eq!(cgw, Some("127.0.0.2".parse().expect("an address")));
        // The new endpoint's handles start again from 0: no old SA holds the tunnel up.
        let next = view.observe(&event(0, facts(Negotiating, Down), vec![]));
        assert_eq!((next.phase1, next.phase2), (Negotiating, Down));
    }
}
