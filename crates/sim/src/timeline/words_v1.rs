//! IKEv1 / ISAKMP payloads (RFC 2408 §3, RFC 2409) in words: `SA` (phase 1 attributes or
//! the ESP transforms of quick mode, RFC 2407 §4.5), `KE`, `NONCE`, `ID`, `HASH`,
//! `N(type)`, `D`, `VID`, `NAT-D`.

use ike_wire::v1::{
    esp_transform, ike_attr, ike_auth, ike_encr, ike_hash, ipsec_attr, ipsec_auth, protocol,
    Payload, Proposal, Transform,
};
use ike_wire::{Attribute, AttributeValue, DhGroup};
use timeline::PayloadView;

use super::words::{hex_prefix, view};

fn value(a: &Attribute) -> u64 {
    match &a.value {
        AttributeValue::Short(v) => u64::from(*v),
        AttributeValue::Long(bytes) => bytes
            .iter()
            .take(8)
            .fold(0, |acc, &b| (acc << 8) | u64::from(b)),
    }
}

fn named(v: u64, names: &[(u16, &str)]) -> String {
    names
        .iter()
        .find(|(n, _)| u64::from(*n) == v)
        .map_or_else(|| format!("#{v}"), |(_, s)| (*s).to_owned())
}

fn protocol_name(p: u8) -> String {
    match p {
        protocol::ISAKMP => "ISAKMP".to_owned(),
        protocol::IPSEC_AH => "AH".to_owned(),
        protocol::IPSEC_ESP => "ESP".to_owned(),
        other => format!("protocol {other}"),
    }
}

/// A phase 1 (ISAKMP) attribute (RFC 2409 App. A).
fn ike_attribute(a: &Attribute) -> Option<String> {
    let v = value(a);
    Some(match a.ty {
        ike_attr::ENCRYPTION_ALGORITHM => named(
            v,
            &[
                (ike_encr::DES_CBC, "DES-CBC"),
                (ike_encr::TRIPLE_DES_CBC, "3DES-CBC"),
                (ike_encr::AES_CBC, "AES-CBC"),
            ],
        ),
        ike_attr::HASH_ALGORITHM => named(
            v,
            &[
                (ike_hash::MD5, "MD5"),
                (ike_hash::SHA, "SHA1"),
                (ike_hash::SHA2_256, "SHA2-256"),
                (ike_hash::SHA2_384, "SHA2-384"),
                (ike_hash::SHA2_512, "SHA2-512"),
            ],
        ),
        ike_attr::AUTHENTICATION_METHOD => named(v, &[(ike_auth::PRE_SHARED_KEY, "PSK")]),
        ike_attr::GROUP_DESCRIPTION => group(v),
        ike_attr::KEY_LENGTH => format!("{v}-bit key"),
        ike_attr::LIFE_DURATION => format!("lifetime {v}"),
        _ => return None,
    })
}

fn group(v: u64) -> String {
    u16::try_from(v).map_or_else(
        |_| format!("group {v}"),
        |g| format!("group {g} ({})", DhGroup(g)),
    )
}

/// A phase 2 (IPsec DOI) attribute (RFC 2407 §4.5).
fn ipsec_attribute(a: &Attribute) -> Option<String> {
    let v = value(a);
    Some(match a.ty {
        ipsec_attr::AUTHENTICATION_ALGORITHM => named(
            v,
            &[
                (ipsec_auth::HMAC_SHA, "HMAC-SHA1"),
                (ipsec_auth::HMAC_SHA2_256, "HMAC-SHA2-256"),
                (ipsec_auth::HMAC_SHA2_384, "HMAC-SHA2-384"),
                (ipsec_auth::HMAC_SHA2_512, "HMAC-SHA2-512"),
            ],
        ),
        ipsec_attr::GROUP_DESCRIPTION => format!("PFS {}", group(v)),
        ipsec_attr::KEY_LENGTH => format!("{v}-bit key"),
        ipsec_attr::SA_LIFE_DURATION => format!("lifetime {v}"),
        _ => return None,
    })
}

fn esp_name(id: u8) -> String {
    match id {
        esp_transform::TRIPLE_DES => "ESP 3DES".to_owned(),
        esp_transform::AES_CBC => "ESP AES-CBC".to_owned(),
        esp_transform::AES_GCM_16 => "ESP AES-GCM-16".to_owned(),
        esp_transform::NULL => "ESP NULL".to_owned(),
        other => format!("ESP transform {other}"),
    }
}

fn transform_words(p: &Proposal, t: &Transform) -> String {
    let (head, attrs): (Option<String>, Vec<String>) = if p.protocol == protocol::ISAKMP {
        (
            None,
            t.attributes.iter().filter_map(ike_attribute).collect(),
        )
    } else {
        let attrs = t.attributes.iter().filter_map(ipsec_attribute).collect();
        (Some(esp_name(t.id)), attrs)
    };
    head.into_iter().chain(attrs).collect::<Vec<_>>().join(", ")
}

fn sa(proposals: &[Proposal]) -> PayloadView {
    let summary = proposals
        .first()
        .and_then(|p| p.transforms.first().map(|t| transform_words(p, t)))
        .unwrap_or_else(|| "no proposal".to_owned());
    let count: usize = proposals.iter().map(|p| p.transforms.len()).sum();
    let summary = if count > 1 {
        format!("{summary} (+{} more transforms)", count - 1)
    } else {
        summary
    };
    let mut lines = Vec::new();
    for p in proposals {
        let spi = if p.spi.is_empty() {
            String::new()
        } else {
            format!(" SPI {}", hex::encode(&p.spi))
        };
        lines.push(format!(
            "proposal #{} {}{spi}",
            p.number,
            protocol_name(p.protocol)
        ));
        for t in &p.transforms {
            lines.push(format!(
                "  transform #{}: {}",
                t.number,
                transform_words(p, t)
            ));
        }
    }
    view("SA", summary, lines.join("\n"))
}

/// One IKEv1 payload in words.
pub(super) fn payload(p: &Payload) -> PayloadView {
    match p {
        Payload::Sa(s) => sa(&s.proposals),
        Payload::Ke(k) => view(
            "KE",
            format!("{} bytes", k.len()),
            format!(
                "Diffie-Hellman public value, {} bytes: {}",
                k.len(),
                hex_prefix(k, 16)
            ),
        ),
        Payload::Id(id) => view(
            "ID",
            id.to_string(),
            format!("ID type {}: {id}", id.id_type),
        ),
        Payload::Hash(h) => view(
            "HASH",
            format!("{} bytes", h.len()),
            format!("hash {}", hex::encode(h)),
        ),
        Payload::Nonce(n) => view(
            "NONCE",
            format!("{} bytes", n.len()),
            format!("nonce {}", hex::encode(n)),
        ),
        Payload::Notification(n) => {
            let summary = n
                .dpd_sequence()
                .map_or_else(String::new, |seq| format!("sequence {seq}"));
            let detail = format!(
                "notify {} ({}), {} SPI {}, data {}",
                n.ty,
                n.ty.0,
                protocol_name(n.protocol),
                hex::encode(&n.spi),
                hex_prefix(&n.data, 32)
            );
            view(format!("N({})", n.ty), summary, detail)
        }
        Payload::Delete(d) => {
            let spis: Vec<String> = d.spis.iter().map(hex::encode).collect();
            let summary = format!("{} {}", protocol_name(d.protocol), spis.join(", "));
            view("D", summary.clone(), format!("delete {summary}"))
        }
        Payload::VendorId(v) => view(
            "VID",
            hex_prefix(v, 8),
            format!("vendor id {}", hex::encode(v)),
        ),
        Payload::NatD(h) => view(
            "NAT-D",
            hex_prefix(h, 8),
            format!("NAT-D {}", hex::encode(h)),
        ),
        Payload::NatOa(a) => view(
            "NAT-OA",
            hex::encode(a),
            format!("NAT-OA {}", hex::encode(a)),
        ),
        Payload::Unknown { ty, body } => view(
            ty.to_string(),
            format!("{} bytes", body.len()),
            format!("payload {ty}, {} bytes", body.len()),
        ),
    }
}
