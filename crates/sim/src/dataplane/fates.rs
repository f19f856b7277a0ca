//! What became of each inner packet at a host, for the timeline's ESP density band: a
//! short queue the data plane fills as packets are sealed, dropped and opened, and the
//! driver drains after every step ([`super::DataPlane::poll_fate`]) to its observer. The
//! counters (`-v`) count the same packets; this says when.

use std::collections::VecDeque;
use std::time::Instant;

use crate::network::DropReason;

/// One inner packet's fate at a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketNote {
    /// When.
    pub at: Instant,
    /// The host (driver order) that sent it (`outbound`) or received it.
    pub host: usize,
    /// Sent by `host` (sealed, or dropped before sealing), not received.
    pub outbound: bool,
    /// What became of it.
    pub fate: PacketFate,
}

impl PacketNote {
    /// A packet `host` sent at `at`.
    pub fn sent(at: Instant, host: usize, fate: PacketFate) -> PacketNote {
        PacketNote {
            at,
            host,
            outbound: true,
            fate,
        }
    }
}

/// What became of an inner packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketFate {
    /// Opened and handed to the network behind the host.
    Delivered,
    /// Its ESP datagram was lost on the path (the sender's egress).
    Lost(DropReason),
    /// A tunnel end dropped it.
    Dropped(Cause),
}

/// Why a tunnel end dropped a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The SA database's reason (replay, integrity, unknown SPI, selectors, no SA, …).
    Esp(esp::Drop),
    /// AWS: larger than the tunnel's MTU with DF set (`mtu_drops`).
    Mtu,
    /// No tunnel with a CHILD SA up on its side (`vpc_no_tunnel`, `onprem_no_tunnel`).
    NoTunnel,
}

impl Cause {
    /// The counter's name: `replayed`, `unknown_spi`, `mtu_drop`, `no_tunnel`, ….
    pub fn name(self) -> &'static str {
        match self {
            Cause::Esp(d) => d.name(),
            Cause::Mtu => "mtu_drop",
            Cause::NoTunnel => "no_tunnel",
        }
    }
}

/// The notes not yet drained.
#[derive(Default)]
pub(super) struct Fates {
    queue: VecDeque<PacketNote>,
}

impl Fates {
    pub(super) fn note(&mut self, at: Instant, host: usize, outbound: bool, fate: PacketFate) {
        self.queue.push_back(PacketNote {
            outbound,
            ..PacketNote::sent(at, host, fate)
        });
    }

    pub(super) fn pop(&mut self) -> Option<PacketNote> {
        self.queue.pop_front()
    }
}
