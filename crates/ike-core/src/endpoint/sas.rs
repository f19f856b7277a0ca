//! The endpoint's one collection of IKE SAs, whatever their version: `Sa` says what every
//! operation of the endpoint needs of an SA once, and dispatches to IKEv2's `IkeSa` or
//! IKEv1's `Phase1Sa`.

use std::net::SocketAddr;
use std::time::Instant;

use crate::child::ChildSa;
use crate::config::EndpointConfig;
use crate::event::{IkeVersion, SaFacts, SaState};
use crate::nat_t::Nat;
use crate::sa::IkeSa;
use crate::shell::timer::{self, Timer};
use crate::shell::{Ctx, IkeSaId};
use crate::v1::Phase1Sa;

/// An IKE SA of either version: an IKEv2 IKE SA or an IKEv1 ISAKMP SA.
pub(crate) enum Sa {
    V2(IkeSa),
    V1(Phase1Sa),
}

impl Sa {
    pub fn version(&self) -> IkeVersion {
        match self {
            Sa::V2(_) => IkeVersion::V2,
            Sa::V1(_) => IkeVersion::V1,
        }
    }

    pub fn id(&self) -> IkeSaId {
        match self {
            Sa::V2(sa) => sa.id(),
            Sa::V1(sa) => sa.id(),
        }
    }

    pub fn remote(&self) -> SocketAddr {
        match self {
            Sa::V2(sa) => sa.remote,
            Sa::V1(sa) => sa.remote,
        }
    }

    /// Our address (IP and port) the SA's messages leave from.
    pub fn local(&self) -> SocketAddr {
        match self {
            Sa::V2(sa) => sa.local,
            Sa::V1(sa) => sa.local,
        }
    }

    /// What NAT detection found (RFC 7296 §2.23, RFC 3947 §3).
    pub fn nat(&self) -> Nat {
        match self {
            Sa::V2(sa) => sa.nat,
            Sa::V1(sa) => sa.nat,
        }
    }

    pub fn is_closed(&self) -> bool {
        match self {
            Sa::V2(sa) => sa.is_closed(),
            Sa::V1(sa) => sa.is_closed(),
        }
    }

    /// A responder's SA not authenticated yet: its half-open timer runs (RFC 7296 §2.6's
    /// "half-open", strongSwan's count).
    pub fn is_half_open(&self) -> bool {
        let timers = match self {
            Sa::V2(sa) => &sa.timers,
            Sa::V1(sa) => &sa.timers,
        };
        !self.is_closed() && timers.get(Timer::HalfOpen).is_some()
    }

    /// Its half-open timer is due at `now` (it will be forgotten).
    pub fn half_open_due(&self, now: Instant) -> bool {
        let timers = match self {
            Sa::V2(sa) => &sa.timers,
            Sa::V1(sa) => &sa.timers,
        };
        timers.is_expired(Timer::HalfOpen, now)
    }

    /// Up, and not being replaced or deleted.
    pub fn is_established(&self) -> bool {
        match self {
            Sa::V2(sa) => sa.is_established(),
            Sa::V1(sa) => sa.is_established(),
        }
    }

    pub fn phases(&self) -> (SaState, SaState) {
        match self {
            Sa::V2(sa) => (sa.phase1(), sa.phase2()),
            Sa::V1(sa) => (sa.phase1(), sa.phase2()),
        }
    }

    /// What the SA can say about itself now (see `SaFacts`).
    pub fn facts(&self, config: &EndpointConfig) -> SaFacts {
        let (phase1, phase2) = self.phases();
        let (nat, dpd) = match self {
            Sa::V2(sa) => (sa.nat, true),
            Sa::V1(sa) => (sa.nat, sa.peer_dpd && config.dpd.is_some()),
        };
        SaFacts {
            phase1,
            phase2,
            nat,
            dpd,
        }
    }

    pub fn children(&self) -> &[ChildSa] {
        match self {
            Sa::V2(sa) => &sa.children,
            Sa::V1(sa) => &sa.children,
        }
    }

    pub fn children_mut(&mut self) -> &mut Vec<ChildSa> {
        match self {
            Sa::V2(sa) => &mut sa.children,
            Sa::V1(sa) => &mut sa.children,
        }
    }

    /// The data-plane model: whether the peer's ESP traffic reaches us. When it stops,
    /// DPD's silence starts now.
    pub fn set_traffic(&mut self, now: Instant, flowing: bool) {
        let (traffic, last_heard) = match self {
            Sa::V2(sa) => (&mut sa.traffic, &mut sa.last_heard),
            Sa::V1(sa) => (&mut sa.traffic, &mut sa.last_heard),
        };
        if *traffic && !flowing {
            *last_heard = now;
        }
        *traffic = flowing;
    }

    /// Something authenticated came from the peer now (DPD's silence starts again).
    pub fn heard(&mut self, now: Instant) {
        match self {
            Sa::V2(sa) => sa.last_heard = now,
            Sa::V1(sa) => sa.last_heard = now,
        }
    }

    /// A new SA starts with the endpoint's current data-plane model.
    pub fn set_traffic_flag(&mut self, flowing: bool) {
        match self {
            Sa::V2(sa) => sa.traffic = flowing,
            Sa::V1(sa) => sa.traffic = flowing,
        }
    }

    pub fn deadline(&self, config: &EndpointConfig) -> Option<Instant> {
        match self {
            Sa::V2(sa) => timer::deadline(sa, config),
            Sa::V1(sa) => timer::deadline(sa, config),
        }
    }

    pub fn handle_timeout(&mut self, ctx: &mut Ctx<'_>) {
        match self {
            Sa::V2(sa) => timer::handle_timeout(sa, ctx),
            Sa::V1(sa) => timer::handle_timeout(sa, ctx),
        }
    }

    pub fn delete(&mut self, ctx: &mut Ctx<'_>) {
        match self {
            Sa::V2(sa) => sa.delete(ctx),
            Sa::V1(sa) => sa.delete(ctx),
        }
    }

    /// A trap policy's acquire for the configured selector pair `pair`: whether it started
    /// negotiating it.
    pub fn acquire(&mut self, ctx: &mut Ctx<'_>, pair: usize) -> bool {
        match self {
            Sa::V2(sa) => sa.acquire(ctx, pair),
            Sa::V1(sa) => sa.acquire(ctx, pair),
        }
    }

    /// Ends the SA without a word to the peer.
    pub fn close(&mut self) {
        match self {
            Sa::V2(sa) => sa.close(),
            Sa::V1(sa) => sa.close(),
        }
    }
}
