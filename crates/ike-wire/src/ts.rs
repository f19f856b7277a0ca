//! Traffic selectors (RFC 7296 §3.13).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::codec::{sat_u16, sat_u8, Reader};
use crate::{ParseError, TsType};

/// One traffic selector: an address range, a port range and an IP protocol
/// (RFC 7296 §3.13.1). Both addresses are of the family `ts_type` names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TrafficSelector {
    /// TS Type: IPv4 or IPv6 address range.
    pub ts_type: TsType,
    /// IP protocol number; 0 means any.
    pub ip_protocol: u8,
    /// First port of the range; 0 with `end_port` 65535 means any port.
    pub start_port: u16,
    /// Last port of the range, inclusive.
    pub end_port: u16,
    /// First address of the range.
    pub start_addr: IpAddr,
    /// Last address of the range, inclusive.
    pub end_addr: IpAddr,
}

impl TrafficSelector {
    /// An IPv4 address range, any protocol, any port.
    pub fn ipv4(start: Ipv4Addr, end: Ipv4Addr) -> Self {
        TrafficSelector {
            ts_type: TsType::IPV4_ADDR_RANGE,
            ip_protocol: 0,
            start_port: 0,
            end_port: u16::MAX,
            start_addr: start.into(),
            end_addr: end.into(),
        }
    }

    /// An IPv6 address range, any protocol, any port.
    pub fn ipv6(start: Ipv6Addr, end: Ipv6Addr) -> Self {
        TrafficSelector {
            ts_type: TsType::IPV6_ADDR_RANGE,
            start_addr: start.into(),
            end_addr: end.into(),
            ..TrafficSelector::ipv4(Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED)
        }
    }

    /// All of IPv4: 0.0.0.0–255.255.255.255, any protocol, any port.
    pub fn any_ipv4() -> Self {
        TrafficSelector::ipv4(Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST)
    }

    /// Whether the selector covers every protocol and port.
    pub fn is_any_port_and_protocol(&self) -> bool {
        self.ip_protocol == 0 && self.start_port == 0 && self.end_port == u16::MAX
    }
}

impl fmt::Display for TrafficSelector {
    /// `10.0.0.0-10.0.255.255`, followed by `[proto 6, ports 80-80]` when narrower
    /// than any protocol and port.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start_addr, self.end_addr)?;
        if !self.is_any_port_and_protocol() {
            write!(
                f,
                " [proto {}, ports {}-{}]",
                self.ip_protocol, self.start_port, self.end_port
            )?;
        }
        Ok(())
    }
}

/// Parses a TSi/TSr payload body (RFC 7296 §3.13).
pub(crate) fn parse_ts_payload(mut r: Reader<'_>) -> Result<Vec<TrafficSelector>, ParseError> {
    let start = r.offset();
    let [count, _, _, _] = r.array("TS payload header")?;
    let declared = usize::from(count);
    let mut selectors = Vec::with_capacity(declared);
    while !r.is_empty() {
        selectors.push(parse_selector(&mut r)?);
    }
    if selectors.len() != declared {
        return Err(ParseError::CountMismatch {
            what: "traffic selectors in TS payload",
            offset: start,
            declared,
            found: selectors.len(),
        });
    }
    Ok(selectors)
}

fn parse_selector(r: &mut Reader<'_>) -> Result<TrafficSelector, ParseError> {
    let offset = r.offset();
    let [ty, ip_protocol, l0, l1] = r.array("traffic selector header")?;
    let ts_type = TsType(ty);
    let length = usize::from(u16::from_be_bytes([l0, l1]));
    let addr_len = match ts_type {
        TsType::IPV4_ADDR_RANGE => 4,
        TsType::IPV6_ADDR_RANGE => 16,
        _ => return Err(ParseError::UnsupportedTsType { ts_type, offset }),
    };
    if length != 8 + 2 * addr_len {
        return Err(ParseError::BadLength {
            what: "traffic selector",
            offset,
            length,
        });
    }
    let [p0, p1, p2, p3] = r.array("traffic selector ports")?;
    let start_addr = read_addr(r, addr_len)?;
    let end_addr = read_addr(r, addr_len)?;
    Ok(TrafficSelector {
        ts_type,
        ip_protocol,
        start_port: u16::from_be_bytes([p0, p1]),
        end_port: u16::from_be_bytes([p2, p3]),
        start_addr,
        end_addr,
    })
}

fn read_addr(r: &mut Reader<'_>, len: usize) -> Result<IpAddr, ParseError> {
    Ok(if len == 4 {
        IpAddr::from(r.array::<4>("traffic selector address")?)
    } else {
        IpAddr::from(r.array::<16>("traffic selector address")?)
    })
}

fn push_addr(addr: &IpAddr, out: &mut Vec<u8>) {
    match addr {
        IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
        IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
    }
}

fn addr_len(addr: &IpAddr) -> usize {
    if addr.is_ipv4() {
        4
    } else {
        16
    }
}

/// Appends a TSi/TSr payload body. The selector length follows the addresses given; a
/// selector whose address family disagrees with `ts_type` will not parse back.
pub(crate) fn encode_ts_payload(selectors: &[TrafficSelector], out: &mut Vec<u8>) {
    out.extend_from_slice(&[sat_u8(selectors.len()), 0, 0, 0]);
    for ts in selectors {
        let length = 8 + addr_len(&ts.start_addr) + addr_len(&ts.end_addr);
        out.push(ts.ts_type.0);
        out.push(ts.ip_protocol);
        out.extend_from_slice(&sat_u16(length).to_be_bytes());
        out.extend_from_slice(&ts.start_port.to_be_bytes());
        out.extend_from_slice(&ts.end_port.to_be_bytes());
        push_addr(&ts.start_addr, out);
        push_addr(&ts.end_addr, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Result<Vec<TrafficSelector>, ParseError> {
        parse_ts_payload(Reader::new(bytes, 0))
    }

    fn encode(selectors: &[TrafficSelector]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_ts_payload(selectors, &mut out);
        out
    }

    #[rustfmt::skip]
    const ONE_V4: &[u8] = &[
        1, 0, 0, 0,                  // 1 selector
        7, 0, 0, 16, 0, 0, 0xff, 0xff, // IPv4 range, any protocol, length 16, ports 0-65535
        10, 0, 0, 0, 10, 0, 255, 255,
    ];

    #[test]
    fn ipv4_selector_layout() {
        let ts = TrafficSelector::ipv4([10, 0, 0, 0].into(), [10, 0, 255, 255].into());
        assert_eq!(encode(std::slice::from_ref(&ts)), ONE_V4);
        assert_eq!(parse(ONE_V4), Ok(vec![ts.clone()]));
        assert_eq!(ts.to_string(), "10.0.0.0-10.0.255.255");
    }

    #[test]
    fn ipv6_and_narrow_selectors_round_trip() {
        let mut v6 = TrafficSelector::ipv6(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST);
        v6.ip_protocol = 17;
        v6.start_port = 500;
        v6.end_port = 500;
        let list = vec![TrafficSelector::any_ipv4(), v6.clone()];
        let bytes = encode(&list);
        assert_eq!(bytes.len(), 4 + 16 + 40);
        assert_eq!(parse(&bytes), Ok(list));
        assert_eq!(v6.to_string(), "::1-::1 [proto 17, ports 500-500]");
    }

    #[test]
    fn unknown_type_is_an_error() {
        let mut bytes = ONE_V4.to_vec();
        bytes[4] = 9;
        assert_eq!(
            parse(&bytes),
            Err(ParseError::UnsupportedTsType {
                ts_type: TsType(9),
                offset: 4
            })
        );
    }

    #[test]
    fn length_must_fit_the_type() {
        let mut bytes = ONE_V4.to_vec();
        bytes[7] = 40;
        assert_eq!(
            parse(&bytes),
            Err(ParseError::BadLength {
                what: "traffic selector",
                offset: 4,
                length: 40
            })
        );
        assert!(matches!(
            parse(&ONE_V4[..19]),
            Err(ParseError::Truncated { .. })
        ));
    }

    #[test]
    fn count_must_match() {
        let mut bytes = ONE_V4.to_vec();
        bytes[0] = 2;
        assert_eq!(
            parse(&bytes),
            Err(ParseError::CountMismatch {
                what: "traffic selectors in TS payload",
                offset: 0,
                declared: 2,
                found: 1
            })
        );
    }
}
