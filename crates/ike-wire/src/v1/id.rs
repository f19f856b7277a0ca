//! The identification payload of the IPsec DOI (RFC 2407 §4.6.2): a phase 1 identity
//! (IDii/IDir) or, in quick mode, a client ID (IDci/IDcr) that plays the role of an IKEv2
//! traffic selector.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::codec::Reader;
use crate::{ParseError, TrafficSelector, TsType};

use super::id_type;

/// An ID payload body (RFC 2407 §4.6.2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Id {
    /// An [`id_type`](super::id_type) value.
    pub id_type: u8,
    /// IP protocol; 0 means any (and is what phase 1 identities carry).
    pub protocol: u8,
    /// Port; 0 means any.
    pub port: u16,
    /// Identification Data: an address, subnet, range or name, by `id_type`
    /// (RFC 2407 §4.6.2).
    pub data: Vec<u8>,
}

impl Id {
    /// An ID_IPV4_ADDR identity, any protocol and port.
    pub fn ipv4(addr: Ipv4Addr) -> Self {
        Id {
            id_type: id_type::IPV4_ADDR,
            protocol: 0,
            port: 0,
            data: addr.octets().to_vec(),
        }
    }

    /// An ID_IPV4_ADDR or ID_IPV6_ADDR identity, by the address family.
    pub fn from_ip(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(a) => Id::ipv4(a),
            IpAddr::V6(a) => Id {
                id_type: id_type::IPV6_ADDR,
                protocol: 0,
                port: 0,
                data: a.octets().to_vec(),
            },
        }
    }

    /// An ID_FQDN identity.
    pub fn fqdn(name: &str) -> Self {
        Id {
            id_type: id_type::FQDN,
            protocol: 0,
            port: 0,
            data: name.as_bytes().to_vec(),
        }
    }

    /// The address of an ID_IPV4_ADDR / ID_IPV6_ADDR identity of the right size.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.id_type {
            id_type::IPV4_ADDR => <[u8; 4]>::try_from(self.data.as_slice())
                .ok()
                .map(IpAddr::from),
            id_type::IPV6_ADDR => <[u8; 16]>::try_from(self.data.as_slice())
                .ok()
                .map(IpAddr::from),
            _ => None,
        }
    }

    /// The body as it goes on the wire: IDii_b / IDir_b, which HASH_I / HASH_R cover
    /// (RFC 2409 §5).
    pub fn body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.data.len());
        self.encode_into(&mut out);
        out
    }

    /// A quick mode client ID for a traffic selector: ID_*_ADDR for one address,
    /// ID_*_ADDR_SUBNET for a CIDR block, ID_*_ADDR_RANGE otherwise. `None` when the port
    /// range is neither one port nor all of them, or the address families differ: an
    /// IKEv1 ID cannot say that (RFC 2407 §4.6.2).
    pub fn from_selector(ts: &TrafficSelector) -> Option<Id> {
        let port = match (ts.start_port, ts.end_port) {
            (0, u16::MAX) => 0,
            (a, b) if a == b => a,
            _ => return None,
        };
        let (types, start, end, width) = match (ts.start_addr, ts.end_addr) {
            (IpAddr::V4(s), IpAddr::V4(e)) => (
                V4_TYPES,
                u128::from(u32::from(s)),
                u128::from(u32::from(e)),
                4,
            ),
            (IpAddr::V6(s), IpAddr::V6(e)) => (V6_TYPES, u128::from(s), u128::from(e), 16),
            _ => return None,
        };
        let bytes = |v: u128| v.to_be_bytes()[16 - width..].to_vec();
        let host = start ^ end;
        let all = if width == 4 {
            u128::from(u32::MAX)
        } else {
            u128::MAX
        };
        let (id_type, data) = if start == end {
            (types[0], bytes(start))
        } else if host & host.wrapping_add(1) == 0 && start & host == 0 {
            (types[1], [bytes(start), bytes(all & !host)].concat())
        } else {
            (types[2], [bytes(start), bytes(end)].concat())
        };
        Some(Id {
            id_type,
            protocol: ts.ip_protocol,
            port,
            data,
        })
    }

    /// The traffic selector an address, subnet or range ID stands for (RFC 2407 §4.6.2.1);
    /// `None` for other ID types or data of the wrong size.
    pub fn selector(&self) -> Option<TrafficSelector> {
        let (start, end) = match (self.id_type, self.data.len()) {
            (id_type::IPV4_ADDR, 4) | (id_type::IPV6_ADDR, 16) => (self.addr(0)?, self.addr(0)?),
            (id_type::IPV4_ADDR_RANGE, 8) | (id_type::IPV6_ADDR_RANGE, 32) => {
                (self.addr(0)?, self.addr(self.data.len() / 2)?)
            }
            (id_type::IPV4_ADDR_SUBNET, 8) | (id_type::IPV6_ADDR_SUBNET, 32) => {
                let (addr, mask) = (self.addr(0)?, self.addr(self.data.len() / 2)?);
                match (addr, mask) {
                    (IpAddr::V4(a), IpAddr::V4(m)) => (IpAddr::V4(a & m), IpAddr::V4(a | !m)),
                    (IpAddr::V6(a), IpAddr::V6(m)) => (IpAddr::V6(a & m), IpAddr::V6(a | !m)),
                    _ => return None,
                }
            }
            _ => return None,
        };
        let (start_port, end_port) = if self.port == 0 {
            (0, u16::MAX)
        } else {
            (self.port, self.port)
        };
        let ts_type = if start.is_ipv4() {
            TsType::IPV4_ADDR_RANGE
        } else {
            TsType::IPV6_ADDR_RANGE
        };
        Some(TrafficSelector {
            ts_type,
            ip_protocol: self.protocol,
            start_port,
            end_port,
            start_addr: start,
            end_addr: end,
        })
    }

    /// The address at `at` in the data, of the width the ID type implies.
    fn addr(&self, at: usize) -> Option<IpAddr> {
        let v6 = matches!(
            self.id_type,
            id_type::IPV6_ADDR | id_type::IPV6_ADDR_SUBNET | id_type::IPV6_ADDR_RANGE
        );
        if v6 {
            let b: [u8; 16] = self.data.get(at..at + 16)?.try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        } else {
            let b: [u8; 4] = self.data.get(at..at + 4)?.try_into().ok()?;
            Some(IpAddr::V4(Ipv4Addr::from(b)))
        }
    }

    pub(crate) fn parse(mut r: Reader<'_>) -> Result<Id, ParseError> {
        let [id_type, protocol, p0, p1] = r.array("ID payload header")?;
        Ok(Id {
            id_type,
            protocol,
            port: u16::from_be_bytes([p0, p1]),
            data: r.rest().to_vec(),
        })
    }

    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[self.id_type, self.protocol]);
        out.extend_from_slice(&self.port.to_be_bytes());
        out.extend_from_slice(&self.data);
    }
}

/// ADDR, ADDR_SUBNET, ADDR_RANGE for each family.
const V4_TYPES: [u8; 3] = [
    id_type::IPV4_ADDR,
    id_type::IPV4_ADDR_SUBNET,
    id_type::IPV4_ADDR_RANGE,
];
const V6_TYPES: [u8; 3] = [
    id_type::IPV6_ADDR,
    id_type::IPV6_ADDR_SUBNET,
    id_type::IPV6_ADDR_RANGE,
];

impl fmt::Display for Id {
    /// Addresses, subnets (`addr/mask`) and ranges in address notation, FQDNs and user
    /// FQDNs as text, anything else as hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let half = self.data.len() / 2;
        match (self.id_type, self.addr(0), self.addr(half)) {
            (id_type::IPV4_ADDR, Some(a), _) if self.data.len() == 4 => write!(f, "{a}"),
            (id_type::IPV6_ADDR, Some(a), _) if self.data.len() == 16 => write!(f, "{a}"),
            (id_type::IPV4_ADDR_SUBNET, Some(a), Some(m)) if half == 4 => write!(f, "{a}/{m}"),
            (id_type::IPV6_ADDR_SUBNET, Some(a), Some(m)) if half == 16 => write!(f, "{a}/{m}"),
            (id_type::IPV4_ADDR_RANGE, Some(a), Some(b)) if half == 4 => write!(f, "{a}-{b}"),
            (id_type::IPV6_ADDR_RANGE, Some(a), Some(b)) if half == 16 => write!(f, "{a}-{b}"),
            (id_type::FQDN | id_type::USER_FQDN, _, _) => {
                f.write_str(&String::from_utf8_lossy(&self.data))
            }
            _ => self.data.iter().try_for_each(|b| write!(f, "{b:02x}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: [u8; 4]) -> Ipv4Addr {
        Ipv4Addr::from(a)
    }

    #[test]
    fn subnet_selector_round_trip() {
        let ts = TrafficSelector::ipv4(v4([10, 0, 0, 0]), v4([10, 0, 255, 255]));
        let id = Id::from_selector(&ts).unwrap();
        assert_eq!(id.id_type, id_type::IPV4_ADDR_SUBNET);
        assert_eq!(id.data, [10, 0, 0, 0, 255, 255, 0, 0]);
        assert_eq!((id.protocol, id.port), (0, 0));
        assert_eq!(id.to_string(), "10.0.0.0/255.255.0.0");
        assert_eq!(id.selector(), Some(ts));
    }

    #[test]
    fn host_any_and_range_selectors() {
        let host = TrafficSelector::ipv4(v4([192, 0, 2, 1]), v4([192, 0, 2, 1]));
        assert_eq!(Id::from_selector(&host), Some(Id::ipv4(v4([192, 0, 2, 1]))));
        let any = Id::from_selector(&TrafficSelector::any_ipv4()).unwrap();
        assert_eq!(
            (any.id_type, any.data.as_slice()),
            (id_type::IPV4_ADDR_SUBNET, &[0, 0, 0, 0, 0, 0, 0, 0][..])
        );
        assert_eq!(any.selector(), Some(TrafficSelector::any_ipv4()));
        let range = TrafficSelector::ipv4(v4([10, 0, 0, 1]), v4([10, 0, 0, 6]));
        let id = Id::from_selector(&range).unwrap();
        assert_eq!(id.id_type, id_type::IPV4_ADDR_RANGE);
        assert_eq!(id.to_string(), "10.0.0.1-10.0.0.6");
        assert_eq!(id.selector(), Some(range));
    }

    #[test]
    fn ports_protocols_and_ipv6() {
        let mut ts = TrafficSelector::ipv6(
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0xffff, 0xffff, 0xffff, 0xffff),
        );
        ts.ip_protocol = 6;
        (ts.start_port, ts.end_port) = (443, 443);
        let id = Id::from_selector(&ts).unwrap();
        assert_eq!(
            (id.id_type, id.protocol, id.port, id.data.len()),
            (id_type::IPV6_ADDR_SUBNET, 6, 443, 32)
        );
        assert_eq!(id.selector(), Some(ts.clone()));
        ts.end_port = 444;
        assert_eq!(Id::from_selector(&ts), None);
    }

    #[test]
    fn non_address_ids_have_no_selector() {
        let id = Id::fqdn("vpn.example");
        assert_eq!(id.selector(), None);
        assert_eq!(id.ip(), None);
        assert_eq!(id.to_string(), "vpn.example");
        assert_eq!(
            Id {
                data: vec![1, 2],
                ..Id::ipv4(Ipv4Addr::LOCALHOST)
            }
            .selector(),
            None
        );
        assert_eq!(
            Id {
                id_type: id_type::KEY_ID,
                protocol: 0,
                port: 0,
                data: vec![0xab]
            }
            .to_string(),
            "ab"
        );
        assert_eq!(
            Id::from_ip(Ipv4Addr::LOCALHOST.into()).ip(),
            Some(Ipv4Addr::LOCALHOST.into())
        );
    }
}
