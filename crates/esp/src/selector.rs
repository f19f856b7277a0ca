//! Traffic selectors as the SA database matches them (RFC 4301 §4.4.1), and the few fields
//! of an inner IPv4/IPv6 packet they are matched against.

use std::net::IpAddr;
use std::ops::RangeInclusive;

/// One traffic selector: an address range, an IP protocol and a port range — what an
/// IKEv2 TS (RFC 7296 §3.13.1) or an IKEv1 ID says.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Selector {
    /// The addresses, both ends included (IPv4 or IPv6; a range never mixes them).
    pub addrs: RangeInclusive<IpAddr>,
    /// The IP protocol; 0 is any.
    pub protocol: u8,
    /// The ports, both ends included; `0..=65535` is any. For ICMP and ICMPv6 the "port"
    /// is the message type in the high byte and the code in the low one (RFC 4301
    /// §4.4.1.1). A packet without ports (another protocol, a later fragment) matches only
    /// the full range (RFC 4301 §4.4.1: OPAQUE).
    pub ports: RangeInclusive<u16>,
}

impl Selector {
    /// Everything of one address family's range, any protocol, any port.
    pub fn addresses(addrs: RangeInclusive<IpAddr>) -> Selector {
        Selector {
            addrs,
            protocol: 0,
            ports: 0..=u16::MAX,
        }
    }

    /// Whether a packet with this address, protocol and port (`None`: the packet has none)
    /// is inside. An IPv4 range never holds an IPv6 address nor the reverse.
    pub fn contains(&self, addr: IpAddr, protocol: u8, port: Option<u16>) -> bool {
        self.addrs.contains(&addr)
            && (self.protocol == 0 || self.protocol == protocol)
            && match port {
                Some(port) => self.ports.contains(&port),
                None => *self.ports.start() == 0 && *self.ports.end() == u16::MAX,
            }
    }
}
