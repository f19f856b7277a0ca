//! Traffic selectors (RFC 7296 §2.9): building them from CIDRs, narrowing, checking.

use std::net::IpAddr;

use ike_wire::{TrafficSelector, TsType};

/// The whole IPv4 space, all protocols and ports: a route-based VPN's selector, and
/// AWS's default local and remote network.
pub fn any_ipv4() -> TrafficSelector {
    cidr("0.0.0.0".parse().expect("literal"), 0)
}

/// A selector covering `addr/prefix`, all protocols and ports.
pub(crate) fn cidr(addr: IpAddr, prefix: u8) -> TrafficSelector {
    let (ts_type, start_addr, end_addr) = match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix.min(32)))
            };
            (
                TsType::IPV4_ADDR_RANGE,
                IpAddr::from((bits & mask).to_be_bytes()),
                IpAddr::from((bits | !mask).to_be_bytes()),
            )
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix.min(128)))
            };
            (
                TsType::IPV6_ADDR_RANGE,
                IpAddr::from((bits & mask).to_be_bytes()),
                IpAddr::from((bits | !mask).to_be_bytes()),
            )
        }
    };
    TrafficSelector {
        ts_type,
        ip_protocol: 0,
        start_port: 0,
        end_port: 65535,
        start_addr,
        end_addr,
    }
}

/// Parses `a.b.c.d/n` (or a bare address, meaning a host).
pub fn parse_cidr(text: &str) -> Option<TrafficSelector> {
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (
            a.trim().parse::<IpAddr>().ok()?,
            p.trim().parse::<u8>().ok()?,
        ),
        None => {
            let a = text.trim().parse::<IpAddr>().ok()?;
            (a, if a.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then(|| cidr(addr, prefix))
}

fn addr_key(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// The intersection of two selectors, if they overlap (same family; protocol 0 = any).
pub(crate) fn intersect(a: &TrafficSelector, b: &TrafficSelector) -> Option<TrafficSelector> {
    if a.ts_type != b.ts_type {
        return None;
    }
    let ip_protocol = match (a.ip_protocol, b.ip_protocol) {
        (0, p) | (p, 0) => p,
        (p, q) if p == q => p,
        _ => return None,
    };
    let start_port = a.start_port.max(b.start_port);
    let end_port = a.end_port.min(b.end_port);
    let start_addr = if addr_key(a.start_addr) >= addr_key(b.start_addr) {
        a.start_addr
    } else {
        b.start_addr
    };
    let end_addr = if addr_key(a.end_addr) <= addr_key(b.end_addr) {
        a.end_addr
    } else {
        b.end_addr
    };
    (start_port <= end_port && addr_key(start_addr) <= addr_key(end_addr)).then_some(
        TrafficSelector {
            ts_type: a.ts_type,
            ip_protocol,
            start_port,
            end_port,
            start_addr,
            end_addr,
        },
    )
}

/// Narrows what the peer proposed to what local policy allows (RFC 7296 §2.9): every
/// non-empty pairwise intersection. Empty means TS_UNACCEPTABLE.
pub(crate) fn narrow(
    offered: &[TrafficSelector],
    allowed: &[TrafficSelector],
) -> Vec<TrafficSelector> {
    let mut out = Vec::new();
    for o in offered {
        for a in allowed {
            if let Some(i) = intersect(o, a) {
                if !out.contains(&i) {
                    out.push(i);
                }
            }
        }
    }
    out
}

/// Whether every selector of `inner` lies within some selector of `outer` (an initiator
/// accepts a responder's narrowing, never a widening).
pub(crate) fn all_within(inner: &[TrafficSelector], outer: &[TrafficSelector]) -> bool {
    inner
        .iter()
        .all(|i| outer.iter().any(|o| intersect(i, o).as_ref() == Some(i)))
}

/// Whether some selector of `ts` holds the address `addr` (any protocol and port: what a
/// trap policy's acquire is matched on).
pub(crate) fn holds(ts: &[TrafficSelector], addr: IpAddr) -> bool {
    ts.iter().any(|t| {
        t.start_addr <= addr && addr <= t.end_addr && t.start_addr.is_ipv4() == addr.is_ipv4()
    })
}

/// `10.0.0.0/16`-style text for logs and diagnostics (ranges that are no CIDR print as
/// `start-end`).
pub fn display(ts: &TrafficSelector) -> String {
    let width = if ts.ts_type == TsType::IPV4_ADDR_RANGE {
        32
    } else {
        128
    };
    let prefix = (0..=width).find(|&p| {
        let block = cidr(ts.start_addr, p);
        block.start_addr == ts.start_addr && block.end_addr == ts.end_addr
    });
    let range = match prefix {
        Some(p) => format!("{}/{p}", ts.start_addr),
        None => format!("{}-{}", ts.start_addr, ts.end_addr),
    };
    if ts.ip_protocol == 0 && ts.start_port == 0 && ts.end_port == 65535 {
        range
    } else {
        format!(
            "{range}[{}/{}-{}]",
            ts.ip_protocol, ts.start_port, ts.end_port
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> TrafficSelector {
        parse_cidr(s).unwrap()
    }

    #[test]
    fn narrowing_takes_the_intersection() {
        let n = narrow(&[c("10.0.0.0/8")], &[c("10.1.0.0/16"), c("192.168.0.0/16")]);
        assert_eq!(n, vec![c("10.1.0.0/16")]);
        assert!(narrow(&[c("10.0.0.0/8")], &[c("172.16.0.0/12")]).is_empty());
        assert_eq!(
            narrow(&[c("10.1.2.0/24")], &[any_ipv4()]),
            vec![c("10.1.2.0/24")]
        );
    }

    #[test]
    fn within_and_display() {
        assert!(all_within(&[c("10.1.0.0/16")], &[c("10.0.0.0/8")]));
        assert!(!all_within(&[c("0.0.0.0/0")], &[c("10.0.0.0/8")]));
        assert_eq!(display(&any_ipv4()), "0.0.0.0/0");
        assert_eq!(display(&c("10.1.0.0/16")), "10.1.0.0/16");
        assert_eq!(display(&c("10.1.2.3")), "10.1.2.3/32");
        assert!(parse_cidr("10.0.0.0/33").is_none());
    }
}
