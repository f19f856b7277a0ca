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
    /// is the message type in the high byte and the code in the low one (RFC 7296
    /// §3.13.1). A packet without ports (another protocol, a later fragment) matches the
    /// full range, and `65535..=0`, IKEv2's OPAQUE (RFC 7296 §3.13.1, RFC 4301 §4.4.1),
    /// which matches only such packets.
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

    /// IKEv2's OPAQUE ports (RFC 7296 §3.13.1): start 65535, end 0.
    pub const OPAQUE_PORTS: RangeInclusive<u16> = RangeInclusive::new(u16::MAX, 0);

    /// Whether the ports are [`OPAQUE_PORTS`](Self::OPAQUE_PORTS).
    pub fn is_opaque(&self) -> bool {
        self.ports == Self::OPAQUE_PORTS
    }

    /// Whether a packet with this address, protocol and port (`None`: the packet has none)
    /// is inside. An IPv4 range never holds an IPv6 address nor the reverse.
    pub fn contains(&self, addr: IpAddr, protocol: u8, port: Option<u16>) -> bool {
        self.addrs.contains(&addr)
            && (self.protocol == 0 || self.protocol == protocol)
            && match port {
                Some(port) => self.ports.contains(&port),
                None => self.ports == (0..=u16::MAX) || self.is_opaque(),
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_any_ranges_and_opaque() {
        let v4 = |d| IpAddr::from([10, 0, 0, d]);
        let any = Selector::addresses(v4(0)..=v4(255));
        assert!(any.contains(v4(9), 17, Some(53)));
        assert!(any.contains(v4(9), 50, None));
        let dns = Selector {
            protocol: 17,
            ports: 53..=53,
            ..any.clone()
        };
        assert!(dns.contains(v4(9), 17, Some(53)));
        assert!(!dns.contains(v4(9), 17, Some(54)));
        assert!(!dns.contains(v4(9), 6, Some(53)));
        assert!(
            !dns.contains(v4(9), 17, None),
            "a later fragment has no port 53"
        );
        let opaque = Selector {
            ports: Selector::OPAQUE_PORTS,
            ..any.clone()
        };
        assert!(opaque.is_opaque());
        assert!(opaque.contains(v4(9), 17, None));
        assert!(!opaque.contains(v4(9), 17, Some(53)));
        let v6: IpAddr = "fd00::1".parse().unwrap_or(IpAddr::from([0u8; 16]));
        assert!(
            !any.contains(v6, 17, Some(53)),
            "an IPv4 range holds no IPv6 address"
        );
    }
}
