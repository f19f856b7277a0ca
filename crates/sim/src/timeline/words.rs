//! IKEv2 payloads (RFC 7296 §3) in words: one [`PayloadView`] each, named as the RFC draws
//! them (`SA`, `KE`, `Ni`, `IDi`, `AUTH`, `TSi`, `N(INITIAL_CONTACT)`, `D`), with the
//! registry's own names for every code point (ike-wire's `Display`).

use std::fmt::Write as _;
use std::net::IpAddr;

use ike_wire::{
    DhGroup, EncrId, EsnId, IntegId, Payload, PrfId, Proposal, ProtocolId, TrafficSelector,
    Transform, TransformType,
};
use timeline::PayloadView;

/// A view with the given words.
pub(super) fn view(name: impl Into<String>, summary: String, detail: String) -> PayloadView {
    PayloadView {
        name: name.into(),
        summary,
        detail,
        encrypted: false,
    }
}

/// Up to `max` bytes in hex, with `…` when there are more.
pub(super) fn hex_prefix(bytes: &[u8], max: usize) -> String {
    let mut s = hex::encode(&bytes[..bytes.len().min(max)]);
    if bytes.len() > max {
        s.push('…');
    }
    s
}

/// One IKEv2 payload. `response`: whether the message is a response (a nonce is `Nr` there).
pub(super) fn payload(p: &Payload, response: bool) -> PayloadView {
    match p {
        Payload::Sa(proposals) => sa(proposals),
        Payload::Ke(ke) => view(
            "KE",
            format!("group {} ({})", ke.group.0, ke.group),
            format!(
                "Diffie-Hellman group {} ({}), {}-byte public value {}",
                ke.group.0,
                ke.group,
                ke.data.len(),
                hex_prefix(&ke.data, 16)
            ),
        ),
        Payload::Nonce(n) => view(
            if response { "Nr" } else { "Ni" },
            format!("{} bytes", n.len()),
            format!("nonce, {} bytes: {}", n.len(), hex::encode(n)),
        ),
        Payload::IdI(id) | Payload::IdR(id) => {
            let name = if matches!(p, Payload::IdI(_)) {
                "IDi"
            } else {
                "IDr"
            };
            view(name, id.to_string(), format!("{}: {id}", id.ty))
        }
        Payload::Auth(a) => view(
            "AUTH",
            a.method.to_string(),
            format!(
                "method {} ({}), {}-byte authentication data {}",
                a.method.0,
                a.method,
                a.data.len(),
                hex_prefix(&a.data, 16)
            ),
        ),
        Payload::Notify(n) => {
            let mut detail = format!("notify {} ({})", n.ty, n.ty.0);
            if !n.spi.is_empty() {
                let _ = write!(detail, ", {} SPI {}", n.protocol, hex::encode(&n.spi));
            }
            if !n.data.is_empty() {
                let _ = write!(detail, ", data {}", hex_prefix(&n.data, 32));
            }
            let summary = if n.spi.is_empty() {
                String::new()
            } else {
                format!("{} {}", n.protocol, hex::encode(&n.spi))
            };
            view(format!("N({})", n.ty), summary, detail)
        }
        Payload::Delete(d) => {
            let spis: Vec<String> = d.spis.iter().map(hex::encode).collect();
            let summary = if d.protocol == ProtocolId::IKE {
                "IKE SA".to_owned()
            } else {
                format!("{} {}", d.protocol, spis.join(", "))
            };
            let detail = format!("delete {} SA(s): {}", d.protocol, summary);
            view("D", summary, detail)
        }
        Payload::VendorId(v) => view(
            "V",
            hex_prefix(v, 8),
            format!("vendor id {}", hex::encode(v)),
        ),
        Payload::TsI(ts) => selectors("TSi", ts),
        Payload::TsR(ts) => selectors("TSr", ts),
        Payload::Encrypted(sk) => view(
            "SK",
            format!("{} bytes", sk.data.len()),
            format!(
                "encrypted and integrity-protected, {} bytes, first inner payload {}",
                sk.data.len(),
                sk.first_inner
            ),
        ),
        Payload::EncryptedFragment(f) => view(
            "SKF",
            format!("fragment {}/{}", f.number, f.total),
            format!(
                "encrypted fragment {} of {}, {} bytes",
                f.number,
                f.total,
                f.data.len()
            ),
        ),
        Payload::Unknown(u) => view(
            format!("{}", u.ty),
            format!("{} bytes", u.body.len()),
            format!(
                "payload type {}{}, {} bytes",
                u.ty,
                if u.critical { " (critical)" } else { "" },
                u.body.len()
            ),
        ),
    }
}

/// One transform in words: `ENCR_AES_GCM_16-256`, `PRF_HMAC_SHA2_256`, `ECP_384`.
fn transform(t: &Transform) -> String {
    match t.ty {
        TransformType::ENCR => match t.key_length() {
            Some(bits) => format!("{}-{bits}", EncrId(t.id)),
            None => EncrId(t.id).to_string(),
        },
        TransformType::PRF => PrfId(t.id).to_string(),
        TransformType::INTEG => IntegId(t.id).to_string(),
        TransformType::DH => format!("{} (group {})", DhGroup(t.id), t.id),
        TransformType::ESN => EsnId(t.id).to_string(),
        other => format!("{other} {}", t.id),
    }
}

fn proposal_line(p: &Proposal) -> String {
    let transforms: Vec<String> = p.transforms.iter().map(transform).collect();
    let spi = if p.spi.is_empty() {
        String::new()
    } else {
        format!(" SPI {}", hex::encode(&p.spi))
    };
    format!(
        "#{} {}{spi}: {}",
        p.number,
        p.protocol,
        transforms.join(", ")
    )
}

/// A proposal in one short line: each transform type's first choice, and how many more
/// of that type it offers (`ENCR_AES_CBC-128 +3, PRF_HMAC_SHA1 +3, MODP_1024 (group 2) +11`).
fn proposal_summary(p: &Proposal) -> String {
    let mut types: Vec<(TransformType, &Transform, usize)> = Vec::new();
    for t in &p.transforms {
        match types.iter_mut().find(|(ty, _, _)| *ty == t.ty) {
            Some((_, _, more)) => *more += 1,
            None => types.push((t.ty, t, 0)),
        }
    }
    types
        .iter()
        .map(|(_, t, more)| match more {
            0 => transform(t),
            n => format!("{} +{n}", transform(t)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// An SA payload: the first proposal in the summary, every proposal in the detail.
fn sa(proposals: &[Proposal]) -> PayloadView {
    let summary = match proposals {
        [] => "no proposal".to_owned(),
        [only] => proposal_summary(only),
        [first, rest @ ..] => format!(
            "{} (+{} more proposals)",
            proposal_summary(first),
            rest.len()
        ),
    };
    let detail = proposals
        .iter()
        .map(proposal_line)
        .collect::<Vec<_>>()
        .join("\n");
    view("SA", summary, detail)
}

/// The prefix length of `start..=end` when the range is exactly one CIDR block.
fn cidr(start: IpAddr, end: IpAddr) -> Option<String> {
    let (s, e, bits) = match (start, end) {
        (IpAddr::V4(s), IpAddr::V4(e)) => (u128::from(u32::from(s)), u128::from(u32::from(e)), 32),
        (IpAddr::V6(s), IpAddr::V6(e)) => (u128::from(s), u128::from(e), 128),
        _ => return None,
    };
    let span = (s ^ e).checked_add(1)?;
    if !span.is_power_of_two() || s & (span - 1) != 0 || e != s | (span - 1) {
        return None;
    }
    Some(format!("{start}/{}", bits - span.trailing_zeros()))
}

/// A selector in words: `10.0.0.0/16`, or the range, with protocol and ports when narrower.
pub(super) fn selector(ts: &TrafficSelector) -> String {
    match cidr(ts.start_addr, ts.end_addr) {
        Some(block) if ts.is_any_port_and_protocol() => block,
        Some(block) => format!(
            "{block} [proto {}, ports {}-{}]",
            ts.ip_protocol, ts.start_port, ts.end_port
        ),
        None => ts.to_string(),
    }
}

fn selectors(name: &str, ts: &[TrafficSelector]) -> PayloadView {
    let words: Vec<String> = ts.iter().map(selector).collect();
    let detail = ts
        .iter()
        .map(|t| format!("{}: {t}", t.ts_type))
        .collect::<Vec<_>>()
        .join("\n");
    view(name, words.join(", "), detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_read_as_cidr_blocks_when_they_are_one() {
        let ts = |a: &str, b: &str| TrafficSelector {
            ts_type: ike_wire::TsType::IPV4_ADDR_RANGE,
            ip_protocol: 0,
            start_port: 0,
            end_port: u16::MAX,
            start_addr: a.parse().unwrap(),
            end_addr: b.parse().unwrap(),
        };
        assert_eq!(selector(&ts("10.0.0.0", "10.0.255.255")), "10.0.0.0/16");
        assert_eq!(selector(&ts("0.0.0.0", "255.255.255.255")), "0.0.0.0/0");
        assert_eq!(selector(&ts("10.0.0.7", "10.0.0.7")), "10.0.0.7/32");
        assert_eq!(selector(&ts("10.0.0.1", "10.0.0.6")), "10.0.0.1-10.0.0.6");
    }
}
