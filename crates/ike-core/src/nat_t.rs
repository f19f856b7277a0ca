//! NAT traversal's move to the NAT-T port (RFC 7296 §2.23, RFC 3947 §4).
//!
//! A host listens on two UDP ports: the IKE port (500) and the NAT-T port (4500), where IKE
//! messages carry the four-byte non-ESP marker (RFC 3948 §2.2) so that they can share the
//! port with UDP-encapsulated ESP. The initiator starts on the IKE port; once NAT detection
//! has found a NAT on either side, it moves both ends to the NAT-T ports — before IKE_AUTH
//! (IKEv2) or main mode message 5 (IKEv1) — and stays there for the life of the SA. The
//! responder moves with it: during the handshake it answers from wherever the request
//! arrived and to wherever it came from (as strongSwan does while an SA is connecting);
//! after that only a peer behind a NAT is followed (`follow_peer`).
//!
//! The endpoint itself never frames datagrams: the marker belongs to the socket, so the IO
//! layer adds it to everything sent from a NAT-T port and strips it from what arrives
//! there. The core only decides which ports an SA uses. Simulated hosts bind both ports
//! where the OS puts them, so their NAT-T ports are told to the endpoint ([`NatTPorts`]);
//! a real peer's are 4500 when its IKE port is 500.

use std::net::SocketAddr;

/// The well-known IKE port.
pub const IKE_PORT: u16 = 500;
/// The well-known NAT-T port (RFC 3948).
pub const NAT_T_PORT: u16 = 4500;

/// Where an endpoint's and its peer's NAT-T ports are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NatTPorts {
    /// Our NAT-T port. `None`: a host with one port, which never moves (its IO layer
    /// frames by other rules, e.g. a single socket on 4500).
    pub local: Option<u16>,
    /// The peer's NAT-T port. `None`: 4500 if the peer is on port 500, else the port it is
    /// on already (strongSwan's rule for a peer configured on another port).
    pub peer: Option<u16>,
}

impl NatTPorts {
    /// The ports an initiator moves to once a NAT was detected: `None` if it has no NAT-T
    /// port or is on it already.
    pub(crate) fn float(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Option<(SocketAddr, SocketAddr)> {
        let ours = self.local?;
        if local.port() == ours {
            return None;
        }
        let theirs = match self.peer {
            Some(p) => p,
            None if remote.port() == IKE_PORT => NAT_T_PORT,
            None => remote.port(),
        };
        Some((
            SocketAddr::new(local.ip(), ours),
            SocketAddr::new(remote.ip(), theirs),
        ))
    }
}

/// Where the datagram being handled arrived (our address) and came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Arrival {
    pub local: SocketAddr,
    pub remote: SocketAddr,
}

/// NAT detection results (RFC 7296 §2.23, RFC 3947 §3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Nat {
    /// Our address as the peer saw it differs from ours: we are behind a NAT.
    pub local_behind: bool,
    /// The peer's address as it claims it differs from where it came from.
    pub peer_behind: bool,
}

impl Nat {
    /// A NAT on the path, in front of either side.
    pub fn detected(&self) -> bool {
        self.local_behind || self.peer_behind
    }
}

/// An SA's two addresses, and the three ways they change (both IKE versions' SAs use
/// these; `spi` only labels the diagnostics).
pub(crate) struct Ends<'a> {
    pub local: &'a mut SocketAddr,
    pub remote: &'a mut SocketAddr,
    pub nat: Nat,
    pub spi: u64,
}

impl Ends<'_> {
    /// RFC 7296 §2.23 / RFC 3947 §5: with a NAT in front of the peer (and none in front of
    /// us), send to wherever the peer's last authenticated message came from — its NAT may
    /// have moved it to a new port. A host behind a NAT does not follow.
    pub fn follow_peer(self, arrival: Option<Arrival>) {
        let Some(Arrival { remote: from, .. }) = arrival else {
            return;
        };
        if self.nat.peer_behind && !self.nat.local_behind && from != *self.remote {
            tracing::debug!(spi = self.spi, old = %self.remote, new = %from, "peer moved: following it");
            *self.remote = from;
        }
    }

    /// While the SA is being set up, its ports are wherever the peer's authenticated
    /// message arrived and came from: a peer that moved to its NAT-T port takes us along.
    pub fn move_with_peer(self, arrival: Option<Arrival>) {
        let Some(Arrival { local, remote }) = arrival else {
            return;
        };
        if (local, remote) != (*self.local, *self.remote) {
            tracing::debug!(spi = self.spi, %local, %remote, "peer moved during setup: answering there");
            (*self.local, *self.remote) = (local, remote);
        }
    }

    /// The initiator's move to the NAT-T ports once a NAT was detected.
    pub fn float(self, ports: NatTPorts) {
        if !self.nat.detected() {
            return;
        }
        if let Some((local, remote)) = ports.float(*self.local, *self.remote) {
            tracing::debug!(spi = self.spi, %local, %remote, "NAT detected: moving to the NAT-T ports");
            (*self.local, *self.remote) = (local, remote);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_initiator_moves_to_its_nat_t_port_and_the_peers() {
        let real = NatTPorts {
            local: Some(4500),
            peer: None,
        };
        assert_eq!(
            real.float(a("10.0.0.1:500"), a("10.0.0.2:500")),
            Some((a("10.0.0.1:4500"), a("10.0.0.2:4500")))
        );
        // A peer configured on another port keeps it; we still move to ours.
        assert_eq!(
            real.float(a("10.0.0.1:500"), a("10.0.0.2:7000")),
            Some((a("10.0.0.1:4500"), a("10.0.0.2:7000")))
        );
        assert_eq!(
            real.float(a("10.0.0.1:4500"), a("10.0.0.2:4500")),
            None,
            "already there"
        );
        let sim = NatTPorts {
            local: Some(40001),
            peer: Some(41001),
        };
        assert_eq!(
            sim.float(a("127.0.2.1:40000"), a("127.0.1.1:41000")),
            Some((a("127.0.2.1:40001"), a("127.0.1.1:41001")))
        );
        assert_eq!(
            NatTPorts::default().float(a("10.0.0.1:500"), a("10.0.0.2:500")),
            None,
            "one port: no move"
        );
    }
}
