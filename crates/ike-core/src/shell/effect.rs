//! Cross-SA effects: what handling one input on one SA asks of the endpoint's other SAs.
//! An SA pushes them in order onto `Ctx::effects`; the endpoint applies them in that order
//! once the SA's handler has returned, so two requests in one input both take effect.

use std::net::{IpAddr, SocketAddr};

use crate::child::ChildSa;
use crate::event::IkeVersion;
use crate::sa::IkeSa;
use crate::shell::IkeSaId;

pub(crate) enum Effect {
    /// A new IKE SA joins the endpoint: the SA an IKE SA rekey created (RFC 7296 §2.18),
    /// or the redundant one of a rekey collision, on its way to being deleted (§2.8.1).
    Spawn(Box<IkeSa>),
    /// CHILD SAs move to the IKE SA `to` (the survivor of an IKE rekey collision, or the
    /// peer's new SA when it deletes the old one first, §2.25.2).
    Adopt { to: IkeSaId, children: Vec<ChildSa> },
    /// IKEv1: IPsec SAs whose ISAKMP SA the peer deleted; they outlive it, and the newest
    /// established ISAKMP SA with the peer takes them over.
    Orphans(Vec<ChildSa>),
    /// DPD's `restart` action: a new IKE SA with the peer, from the ports the dead one was
    /// on (our address, the peer's).
    Restart {
        local: SocketAddr,
        remote: SocketAddr,
        version: IkeVersion,
    },
    /// IKEv1 phase 1 rekey: start a new main mode that replaces the ISAKMP SA `old`.
    RekeyPhase1 {
        local: SocketAddr,
        remote: SocketAddr,
        old: IkeSaId,
    },
    /// IKEv1: the ISAKMP SA replacing `old` is up; `old` hands over its IPsec SAs and is
    /// deleted.
    ReplacePhase1 { old: IkeSaId },
    /// INITIAL_CONTACT from `peer` on the IKE SA `from`: every other established IKE SA
    /// with that peer is stale (RFC 7296 §2.4, RFC 2407 §4.6.3.3).
    InitialContact { peer: IpAddr, from: IkeSaId },
}

impl Effect {
    /// CHILD SAs change hands before the input's events are published, so the states those
    /// events show count the CHILD SAs where they now live; every other effect comes after.
    pub fn moves_children(&self) -> bool {
        matches!(self, Effect::Adopt { .. } | Effect::Orphans(_))
    }
}
