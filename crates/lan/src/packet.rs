//! IPv4 packets with ICMP echo or UDP inside: built in one buffer and parsed with checksums
//! checked, both with etherparse.

use std::net::Ipv4Addr;

use etherparse::checksum::Sum16BitWords;
use etherparse::{
    IcmpEchoHeader, Icmpv4Header, Icmpv4Slice, Icmpv4Type, IpNumber, Ipv4Header, Ipv4Slice,
    UdpHeader, UdpSlice,
};

/// The IPv4 header fields a host chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ip {
    /// Source address.
    pub(crate) src: Ipv4Addr,
    /// Destination address.
    pub(crate) dst: Ipv4Addr,
    /// The Identification field (RFC 791; RFC 6864 for atomic datagrams).
    pub(crate) id: u16,
    /// The Don't Fragment bit.
    pub(crate) df: bool,
}

/// The header above IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// ICMP echo request (`reply == false`) or reply.
    Echo {
        /// An echo reply rather than a request.
        reply: bool,
        /// The echo identifier.
        id: u16,
        /// The echo sequence number.
        seq: u16,
    },
    /// UDP.
    Udp {
        /// Source port.
        src: u16,
        /// Destination port.
        dst: u16,
    },
}

/// The header length of IPv4 without options plus ICMP echo or UDP: both are 8 bytes.
pub(crate) const HEADERS: usize = Ipv4Header::MIN_LEN + 8;

/// Time to live of the packets the hosts send.
const TTL: u8 = 64;

/// Writes the IPv4 and transport headers into `packet[..HEADERS]` for the payload already in
/// `packet[HEADERS..]` (so a packet costs one allocation). `packet` is at least `HEADERS` long
/// and at most 65,535.
pub(crate) fn seal(packet: &mut [u8], ip: Ip, transport: Transport) {
    let (head, payload) = packet.split_at_mut(HEADERS);
    let protocol = match transport {
        Transport::Echo { .. } => IpNumber::ICMP,
        Transport::Udp { .. } => IpNumber::UDP,
    };
    // Both lengths fit: the callers build at most 65,535 bytes.
    let Ok(mut header) = Ipv4Header::new(
        u16::try_from(payload.len() + 8).unwrap_or(u16::MAX),
        TTL,
        protocol,
        ip.src.octets(),
        ip.dst.octets(),
    ) else {
        return;
    };
    header.identification = ip.id;
    header.dont_fragment = ip.df;
    header.header_checksum = header.calc_header_checksum();
    head[..Ipv4Header::MIN_LEN].copy_from_slice(&header.to_bytes());
    let upper: [u8; 8] = match transport {
        Transport::Echo { reply, id, seq } => {
            let echo = IcmpEchoHeader { id, seq };
            let kind = if reply {
                Icmpv4Type::EchoReply(echo)
            } else {
                Icmpv4Type::EchoRequest(echo)
            };
            let mut b = [0u8; 8];
            b.copy_from_slice(&Icmpv4Header::with_checksum(kind, payload).to_bytes());
            b
        }
        Transport::Udp { src, dst } => {
            match UdpHeader::with_ipv4_checksum(src, dst, &header, payload) {
                Ok(udp) => udp.to_bytes(),
                Err(_) => return,
            }
        }
    };
    head[Ipv4Header::MIN_LEN..].copy_from_slice(&upper);
}

/// A whole (unfragmented) packet, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parsed<'a> {
    /// Source address.
    pub(crate) src: Ipv4Addr,
    /// Destination address.
    pub(crate) dst: Ipv4Addr,
    /// The Don't Fragment bit.
    pub(crate) df: bool,
    /// The IP total length.
    pub(crate) len: u16,
    /// What is inside.
    pub(crate) body: Body<'a>,
}

/// What a parsed packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body<'a> {
    /// ICMP echo request or reply.
    Echo {
        /// Its header fields.
        transport: Transport,
        /// The echo data.
        payload: &'a [u8],
    },
    /// UDP.
    Udp {
        /// Its ports.
        transport: Transport,
        /// The datagram's payload.
        payload: &'a [u8],
    },
    /// Another ICMP message or another protocol.
    Other,
}

/// What [`parse`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Parse<'a> {
    /// A whole packet.
    Whole(Parsed<'a>),
    /// A fragment (RFC 791), header checked, to be reassembled.
    Fragment(Ipv4Slice<'a>),
}

/// The bytes as an IPv4 packet, every checksum checked; `None` if they are not one.
pub(crate) fn parse(bytes: &[u8]) -> Option<Parse<'_>> {
    let ipv4 = Ipv4Slice::from_slice(bytes).ok()?;
    let header = ipv4.header();
    // Over the raw bytes: etherparse's header type has no place for the reserved flag bit.
    if Sum16BitWords::new()
        .add_slice(header.slice())
        .ones_complement()
        != 0
    {
        return None;
    }
    if header.is_fragmenting_payload() {
        return Some(Parse::Fragment(ipv4));
    }
    let payload = ipv4.payload().payload;
    let body = match header.protocol() {
        IpNumber::ICMP => {
            let icmp = Icmpv4Slice::from_slice(payload).ok()?;
            let kind = icmp.icmp_type();
            if icmp.checksum() != kind.calc_checksum(icmp.payload()) {
                return None;
            }
            match kind {
                Icmpv4Type::EchoRequest(e) | Icmpv4Type::EchoReply(e) => Body::Echo {
                    transport: Transport::Echo {
                        reply: matches!(kind, Icmpv4Type::EchoReply(_)),
                        id: e.id,
                        seq: e.seq,
                    },
                    payload: icmp.payload(),
                },
                _ => Body::Other,
            }
        }
        IpNumber::UDP => {
            let udp = UdpSlice::from_slice(payload).ok()?;
            let sum = udp.checksum();
            if sum != 0 {
                let want = udp
                    .to_header()
                    .calc_checksum_ipv4_raw(header.source(), header.destination(), udp.payload())
                    .ok()?;
                if want != sum {
                    return None;
                }
            }
            Body::Udp {
                transport: Transport::Udp {
                    src: udp.source_port(),
                    dst: udp.destination_port(),
                },
                payload: udp.payload(),
            }
        }
        _ => Body::Other,
    };
    Some(Parse::Whole(Parsed {
        src: header.source_addr(),
        dst: header.destination_addr(),
        df: header.dont_fragment(),
        len: header.total_len(),
        body,
    }))
}

/// A whole packet: the headers for `payload`, in a new buffer.
pub(crate) fn build(ip: Ip, transport: Transport, payload: &[u8]) -> Vec<u8> {
    let mut packet = vec![0u8; HEADERS + payload.len()];
    packet[HEADERS..].copy_from_slice(payload);
    seal(&mut packet, ip, transport);
    packet
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip_strategy() -> impl Strategy<Value = Ip> {
        (any::<u32>(), any::<u32>(), any::<u16>(), any::<bool>()).prop_map(|(s, d, id, df)| Ip {
            src: Ipv4Addr::from(s),
            dst: Ipv4Addr::from(d),
            id,
            df,
        })
    }

    fn transport_strategy() -> impl Strategy<Value = Transport> {
        prop_oneof![
            (any::<bool>(), any::<u16>(), any::<u16>())
                .prop_map(|(reply, id, seq)| Transport::Echo { reply, id, seq }),
            (any::<u16>(), any::<u16>()).prop_map(|(src, dst)| Transport::Udp { src, dst }),
        ]
    }

    proptest! {
        /// Building then parsing a packet is the identity.
        #[test]
        fn build_then_parse(
            ip in ip_strategy(),
            transport in transport_strategy(),
            payload in proptest::collection::vec(any::<u8>(), 0..2000),
        ) {
            let packet = build(ip, transport, &payload);
            let Some(Parse::Whole(p)) = parse(&packet) else {
                panic!("not parsed whole: {packet:?}");
            };
            prop_assert_eq!(p.src, ip.src);
            prop_assert_eq!(p.dst, ip.dst);
            prop_assert_eq!(p.df, ip.df);
            prop_assert_eq!(usize::from(p.len), packet.len());
            let (t, got) = match p.body {
                Body::Echo { transport, payload } | Body::Udp { transport, payload } => (transport, payload),
                Body::Other => panic!("other body"),
            };
            prop_assert_eq!(t, transport);
            prop_assert_eq!(got, &payload[..]);
        }

        /// Any single flipped bit is caught by one of the checksums (or the lengths).
        #[test]
        fn a_flipped_bit_is_refused(
            ip in ip_strategy(),
            transport in transport_strategy(),
            payload in proptest::collection::vec(any::<u8>(), 1..200),
            bit in any::<usize>(),
        ) {
            let mut packet = build(ip, transport, &payload);
            let bit = bit % (packet.len() * 8);
            packet[bit / 8] ^= 1 << (bit % 8);
            // A UDP checksum flipped to zero means "no checksum": the packet is still fine.
            let udp_sum_zeroed = matches!(transport, Transport::Udp { .. })
                && packet[26] == 0 && packet[27] == 0;
            if !udp_sum_zeroed {
                prop_assert!(parse(&packet).is_none(), "{:?}", parse(&packet));
            }
        }
    }
}
