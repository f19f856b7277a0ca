//! The fields of an inner IPv4 (RFC 791) or IPv6 (RFC 8200) packet that selectors are
//! matched against, read by hand: a few header bytes, every length checked.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::Selector;

/// IP protocol numbers the selectors care about.
const ICMP: u8 = 1;
const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMPV6: u8 = 58;
const SCTP: u8 = 132;
const UDP_LITE: u8 = 136;

/// Next header values of ESP tunnel mode (RFC 4303 §2.6).
pub(crate) const NEXT_HEADER_IPV4: u8 = 4;
/// IPv6 in IPv6/ESP.
pub(crate) const NEXT_HEADER_IPV6: u8 = 41;

/// What the selectors look at in one inner packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Flow {
    /// 4 or 41: the next header ESP gives it.
    pub next_header: u8,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The upper-layer protocol (after IPv6 extension headers).
    pub protocol: u8,
    /// Source and destination ports; for ICMP both are type << 8 | code. `None` for a
    /// protocol without ports, a later fragment, or a header too short to hold them.
    pub ports: Option<(u16, u16)>,
    /// The packet's length by its header (what follows is TFC padding, RFC 4303 §2.7).
    pub len: usize,
}

impl Flow {
    /// Parses an IPv4 or IPv6 packet; `None` if it is neither, or its lengths are wrong.
    pub(crate) fn parse(packet: &[u8]) -> Option<Flow> {
        match packet.first()? >> 4 {
            4 => Self::parse_v4(packet),
            6 => Self::parse_v6(packet),
            _ => None,
        }
    }

    fn parse_v4(packet: &[u8]) -> Option<Flow> {
        let header: &[u8; 20] = packet.get(..20)?.try_into().ok()?;
        let header_len = usize::from(header[0] & 0x0f) * 4;
        let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
        if header_len < 20 || len < header_len || len > packet.len() {
            return None;
        }
        let fragment_offset = u16::from_be_bytes([header[6], header[7]]) & 0x1fff;
        let protocol = header[9];
        let src = Ipv4Addr::from([header[12], header[13], header[14], header[15]]);
        let dst = Ipv4Addr::from([header[16], header[17], header[18], header[19]]);
        let ports = if fragment_offset == 0 {
            ports(protocol, &packet[header_len..len])
        } else {
            None
        };
        Some(Flow {
            next_header: NEXT_HEADER_IPV4,
            src: src.into(),
            dst: dst.into(),
            protocol,
            ports,
            len,
        })
    }

    fn parse_v6(packet: &[u8]) -> Option<Flow> {
        let header: &[u8; 40] = packet.get(..40)?.try_into().ok()?;
        // A jumbogram (RFC 2675: payload length 0, the length in a hop-by-hop option) is
        // refused by the walk below, its options running past the length.
        let len = 40 + usize::from(u16::from_be_bytes([header[4], header[5]]));
        if len > packet.len() {
            return None;
        }
        let src = Ipv6Addr::from(<[u8; 16]>::try_from(&header[8..24]).ok()?);
        let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&header[24..40]).ok()?);
        let mut protocol = header[6];
        let mut at = 40;
        let mut later_fragment = false;
        // Hop-by-hop, routing, fragment, destination options and AH before the upper
        // layer (RFC 8200 §4.1); a bounded walk.
        for _ in 0..8 {
            let ext = packet.get(at..len)?;
            let ext_len = match protocol {
                0 | 43 | 60 => (usize::from(*ext.get(1)?) + 1) * 8,
                44 => {
                    let offset = u16::from_be_bytes([*ext.get(2)?, *ext.get(3)?]) >> 3;
                    later_fragment = offset != 0;
                    8
                }
                51 => (usize::from(*ext.get(1)?) + 2) * 4,
                _ => break,
            };
            if ext.len() < ext_len {
                return None;
            }
            protocol = ext[0];
            at += ext_len;
        }
        let ports = if later_fragment {
            None
        } else {
            ports(protocol, &packet[at..len])
        };
        Some(Flow {
            next_header: NEXT_HEADER_IPV6,
            src: src.into(),
            dst: dst.into(),
            protocol,
            ports,
            len,
        })
    }

    /// Whether the packet leaves from inside `local` towards inside `remote` (outbound),
    /// or — with the two swapped — arrives from `remote` to `local`.
    pub(crate) fn between(&self, from: &[Selector], to: &[Selector]) -> bool {
        let (src_port, dst_port) = match self.ports {
            Some((s, d)) => (Some(s), Some(d)),
            None => (None, None),
        };
        from.iter()
            .any(|s| s.contains(self.src, self.protocol, src_port))
            && to
                .iter()
                .any(|s| s.contains(self.dst, self.protocol, dst_port))
    }
}

/// The ports of an upper-layer header (RFC 4301 §4.4.1.1): TCP, UDP, SCTP and UDP-Lite
/// start with them; ICMP's type and code stand in for both.
fn ports(protocol: u8, upper: &[u8]) -> Option<(u16, u16)> {
    match protocol {
        TCP | UDP | SCTP | UDP_LITE => {
            let b = upper.get(..4)?;
            Some((
                u16::from_be_bytes([b[0], b[1]]),
                u16::from_be_bytes([b[2], b[3]]),
            ))
        }
        ICMP | ICMPV6 => {
            let b = upper.get(..2)?;
            let type_code = u16::from_be_bytes([b[0], b[1]]);
            Some((type_code, type_code))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4(protocol: u8, flags_offset: u16, upper: &[u8]) -> Vec<u8> {
        let len = 20 + upper.len() as u16;
        let mut p = vec![
            0x45, 0, 0, 0, 0, 1, 0, 0, 64, protocol, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        p[2..4].copy_from_slice(&len.to_be_bytes());
        p[6..8].copy_from_slice(&flags_offset.to_be_bytes());
        p.extend_from_slice(upper);
        p
    }

    #[test]
    fn ipv4_ports_icmp_type_code_and_fragments() {
        let udp = Flow::parse(&ipv4(UDP, 0, &[0x13, 0x88, 0, 53, 0, 8, 0, 0])).unwrap();
        assert_eq!(
            (udp.protocol, udp.ports, udp.len),
            (UDP, Some((5000, 53)), 28)
        );
        let icmp = Flow::parse(&ipv4(ICMP, 0, &[8, 0, 0, 0])).unwrap();
        assert_eq!(icmp.ports, Some((0x0800, 0x0800)));
        // A later fragment has no ports; the first (offset 0, MF set) has them.
        assert_eq!(
            Flow::parse(&ipv4(UDP, 0x0001, &[0; 8])).unwrap().ports,
            None
        );
        assert!(Flow::parse(&ipv4(UDP, 0x2000, &[0; 8]))
            .unwrap()
            .ports
            .is_some());
        // No ports in a protocol without them, nor in a header too short for them.
        assert_eq!(Flow::parse(&ipv4(47, 0, &[0; 8])).unwrap().ports, None);
        assert_eq!(Flow::parse(&ipv4(TCP, 0, &[0; 3])).unwrap().ports, None);
    }

    #[test]
    fn ipv4_lengths_are_checked() {
        let good = ipv4(UDP, 0, &[0; 8]);
        assert!(Flow::parse(&good[..19]).is_none());
        assert!(
            Flow::parse(&good[..27]).is_none(),
            "total length past the end"
        );
        let mut short_ihl = good.clone();
        short_ihl[0] = 0x44;
        assert!(Flow::parse(&short_ihl).is_none());
        let mut total_below_header = good.clone();
        total_below_header[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert!(Flow::parse(&total_below_header).is_none());
        let mut padded = good.clone();
        padded.extend_from_slice(&[0; 10]);
        assert_eq!(Flow::parse(&padded).unwrap().len, good.len());
        assert!(Flow::parse(&[0x60]).is_none());
        assert!(Flow::parse(&[]).is_none());
        assert!(Flow::parse(&[0x10; 40]).is_none());
    }

    fn ipv6(next: u8, rest: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&(rest.len() as u16).to_be_bytes());
        p.extend_from_slice(&[next, 64]);
        p.extend_from_slice(&[0xfd; 16]);
        p.extend_from_slice(&[0xfe; 16]);
        p.extend_from_slice(rest);
        p
    }

    #[test]
    fn ipv6_extension_headers_are_walked() {
        let udp = [0, 7, 0, 9, 0, 8, 0, 0];
        let plain = Flow::parse(&ipv6(UDP, &udp)).unwrap();
        assert_eq!(
            (plain.next_header, plain.ports),
            (NEXT_HEADER_IPV6, Some((7, 9)))
        );
        // Hop-by-hop (8 bytes) then destination options (16 bytes) then UDP.
        let mut chain = vec![60, 0, 0, 0, 0, 0, 0, 0, UDP, 1];
        chain.extend_from_slice(&[0; 14]);
        chain.extend_from_slice(&udp);
        let flow = Flow::parse(&ipv6(0, &chain)).unwrap();
        assert_eq!((flow.protocol, flow.ports), (UDP, Some((7, 9))));
        // A later fragment: no ports.
        let mut frag = vec![UDP, 0, 0, 8, 0, 0, 0, 1];
        frag.extend_from_slice(&udp);
        assert_eq!(Flow::parse(&ipv6(44, &frag)).unwrap().ports, None);
        // An extension header running past the payload.
        assert!(Flow::parse(&ipv6(0, &[UDP, 4, 0, 0])).is_none());
        let mut v6 = ipv6(UDP, &udp);
        v6.truncate(45);
        assert!(Flow::parse(&v6).is_none());
    }
}
