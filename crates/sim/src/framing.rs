//! How IKE messages sit in UDP datagrams: on the IKE port as they are, on the NAT-T port
//! behind the four-byte non-ESP marker (RFC 3948 §2.2), which tells them apart from the
//! UDP-encapsulated ESP that shares the port. The marker belongs to the socket, not to the
//! IKE SA — so the IO layer frames and unframes, and the sans-IO core only chooses ports
//! (ike_core::nat_t).
//!
//! A socket's [`PortRole`] says which rule applies:
//! - a simulated host has both ports, an IKE one and a NAT-T one, wherever the OS put them;
//! - `serve` listening on 500 and 4500 has both roles by port number;
//! - a socket that is the only one (a `serve --listen` on some other port, `connect`'s CGW)
//!   follows what real peers do: the marker is used when neither side is on port 500.

use std::net::SocketAddr;

use ike_core::nat_t::IKE_PORT;

/// The non-ESP marker.
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];

/// What a socket is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortRole {
    /// The IKE port (500): plain IKE.
    Ike,
    /// The NAT-T port (4500): marked IKE, ESP-in-UDP and NAT-keepalives.
    NatT,
    /// A host's only port: the marker is used when neither side is on port 500.
    Single,
    /// A simulated host's stand-in for IP protocol 50 (docs/data-plane.md, "On the
    /// wire"): plain ESP only, never IKE.
    Esp,
}

impl PortRole {
    /// Whether IKE datagrams between `local` (this socket) and `remote` carry the marker.
    pub fn uses_marker(self, local: SocketAddr, remote: SocketAddr) -> bool {
        match self {
            PortRole::Ike | PortRole::Esp => false,
            PortRole::NatT => true,
            PortRole::Single => local.port() != IKE_PORT && remote.port() != IKE_PORT,
        }
    }

    /// An IKE message as it goes on the wire from `local` (this socket) to `remote`.
    pub fn frame(self, local: SocketAddr, remote: SocketAddr, mut message: Vec<u8>) -> Vec<u8> {
        if self.uses_marker(local, remote) {
            message.splice(0..0, NON_ESP_MARKER);
        }
        message
    }

    /// Sorts a datagram that arrived at `local` (this socket) from `remote`.
    pub fn classify(self, local: SocketAddr, remote: SocketAddr, data: &[u8]) -> Received<'_> {
        if self == PortRole::Esp {
            return Received::Esp;
        }
        if !self.uses_marker(local, remote) {
            return Received::Ike(data);
        }
        match data {
            [0xff] => Received::Keepalive,
            [0, 0, 0, 0, rest @ ..] => Received::Ike(rest),
            _ if looks_like_ike(data) => Received::UnmarkedIke,
            _ => Received::Esp,
        }
    }
}

/// What a received datagram is.
#[derive(Debug, PartialEq, Eq)]
pub enum Received<'a> {
    /// An IKE message (marker removed).
    Ike(&'a [u8]),
    /// A NAT-keepalive (RFC 3948 §2.3): one 0xFF byte.
    Keepalive,
    /// UDP-encapsulated ESP (RFC 3948 §2.1): anything unmarked where a marker is due.
    Esp,
    /// An IKE message without the marker where one is due: a peer that gets RFC 3948
    /// wrong. Dropped (a NAT-T socket would take it for ESP), but worth a warning.
    UnmarkedIke,
}

/// Whether `data` looks like an IKE message: version 1.0 or 2.0 at offset 17 and the
/// header's length field equal to the datagram's (RFC 7296 §3.1, RFC 2408 §3.1).
fn looks_like_ike(data: &[u8]) -> bool {
    data.len() >= 28
        && matches!(data[17], 0x10 | 0x20)
        && u32::from_be_bytes([data[24], data[25], data[26], data[27]]) as usize == data.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_marker_follows_the_socket_or_for_a_single_port_the_port_numbers() {
        let (aws, cgw) = (addr("127.0.1.1:4500"), addr("127.0.0.1:14501"));
        for role in [PortRole::NatT, PortRole::Single] {
            assert_eq!(role.frame(aws, cgw, b"ike".to_vec()), b"\0\0\0\0ike");
            assert_eq!(
                role.classify(aws, cgw, b"\0\0\0\0ike"),
                Received::Ike(b"ike")
            );
            assert_eq!(
                role.classify(aws, cgw, b"\x12\x34\x56\x78esp"),
                Received::Esp
            );
            assert_eq!(role.classify(aws, cgw, b"\xff"), Received::Keepalive);
            let mut ike = vec![0u8; 28];
            ike[0] = 0x12; // the initiator's SPI
            ike[17] = 0x20;
            ike[27] = 28;
            assert_eq!(role.classify(aws, cgw, &ike), Received::UnmarkedIke);
        }
        let cgw500 = addr("127.0.0.1:500");
        for role in [PortRole::Ike, PortRole::Single] {
            assert_eq!(role.frame(aws, cgw500, b"ike".to_vec()), b"ike");
            assert_eq!(
                role.classify(aws, cgw500, b"\0\0\0\0ike"),
                Received::Ike(b"\0\0\0\0ike")
            );
        }
        // A simulated host's ports are wherever the OS put them: the role decides.
        let (a, b) = (addr("127.0.1.1:40000"), addr("127.0.2.1:40001"));
        assert_eq!(PortRole::Ike.frame(a, b, b"ike".to_vec()), b"ike");
        assert_eq!(PortRole::NatT.frame(a, b, b"ike".to_vec()), b"\0\0\0\0ike");
    }
}
