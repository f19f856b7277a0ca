//! IKEv1 proposals (RFC 2409 App. A, RFC 2407 §4.5) in terms of the shared proposal
//! machinery: every IKEv1 transform is one complete suite, so each becomes a one-algorithm
//! [`ProposalSpec`], and selection (AWS's "lowest configured value first") is the same
//! code as for IKEv2.

use ike_wire::v1::{
    esp_transform, ike_attr, ike_auth, ike_encr, ike_hash, ipsec_attr, ipsec_auth, life_type,
    Transform,
};
use ike_wire::{Attribute, AttributeValue, DhGroup, EncrId, IntegId, PrfId, Proposal, ProtocolId};

use crate::proposal::{Cipher, ProposalSpec, Selected};

fn short(ty: u16, v: u16) -> Attribute {
    Attribute {
        ty,
        value: AttributeValue::Short(v),
    }
}

/// A number attribute, in TV form when it fits, TLV otherwise (life durations).
fn number(ty: u16, v: u32) -> Attribute {
    match u16::try_from(v) {
        Ok(v) => short(ty, v),
        Err(_) => Attribute {
            ty,
            value: AttributeValue::Long(v.to_be_bytes().to_vec()),
        },
    }
}

pub(crate) fn attr(t: &Transform, ty: u16) -> Option<u32> {
    t.attr(ty)
}

fn hash_algs(h: u32) -> Option<(IntegId, PrfId)> {
    Some(match u16::try_from(h).ok()? {
        ike_hash::MD5 => (IntegId::HMAC_MD5_96, PrfId::HMAC_MD5),
        ike_hash::SHA => (IntegId::HMAC_SHA1_96, PrfId::HMAC_SHA1),
        ike_hash::SHA2_256 => (IntegId::HMAC_SHA2_256_128, PrfId::HMAC_SHA2_256),
        ike_hash::SHA2_384 => (IntegId::HMAC_SHA2_384_192, PrfId::HMAC_SHA2_384),
        ike_hash::SHA2_512 => (IntegId::HMAC_SHA2_512_256, PrfId::HMAC_SHA2_512),
        _ => return None,
    })
}

fn hash_attr(p: PrfId) -> Option<u16> {
    Some(match p {
        PrfId::HMAC_MD5 => ike_hash::MD5,
        PrfId::HMAC_SHA1 => ike_hash::SHA,
        PrfId::HMAC_SHA2_256 => ike_hash::SHA2_256,
        PrfId::HMAC_SHA2_384 => ike_hash::SHA2_384,
        PrfId::HMAC_SHA2_512 => ike_hash::SHA2_512,
        _ => return None,
    })
}

fn ike_encr_attr(c: Cipher) -> Option<u16> {
    Some(match c.id {
        EncrId::AES_CBC => ike_encr::AES_CBC,
        EncrId::TRIPLE_DES => ike_encr::TRIPLE_DES_CBC,
        EncrId::DES => ike_encr::DES_CBC,
        _ => return None,
    })
}

/// The phase 1 transforms for our IKE proposals: one per combination of cipher, hash and
/// group (IKEv1 cannot offer AEAD ciphers for the ISAKMP SA, so those are left out).
pub(crate) fn phase1_transforms(specs: &[ProposalSpec], lifetime_secs: u32) -> Vec<Transform> {
    let mut out = Vec::new();
    for spec in specs {
        for c in &spec.encryption {
            let Some(encr) = ike_encr_attr(*c) else {
                continue;
            };
            for prf in &spec.prf {
                let Some(hash) = hash_attr(*prf) else {
                    continue;
                };
                for g in &spec.dh {
                    let mut attributes = vec![short(ike_attr::ENCRYPTION_ALGORITHM, encr)];
                    if let Some(bits) = c.key_bits {
                        attributes.push(short(ike_attr::KEY_LENGTH, bits));
                    }
                    attributes.extend([
                        short(ike_attr::HASH_ALGORITHM, hash),
                        short(ike_attr::AUTHENTICATION_METHOD, ike_auth::PRE_SHARED_KEY),
                        short(ike_attr::GROUP_DESCRIPTION, g.0),
                        short(ike_attr::LIFE_TYPE, life_type::SECONDS),
                        number(ike_attr::LIFE_DURATION, lifetime_secs),
                    ]);
                    let number = u8::try_from(out.len() + 1).unwrap_or(u8::MAX);
                    out.push(Transform {
                        number,
                        id: 1,
                        attributes,
                    });
                }
            }
        }
    }
    out
}

/// A phase 1 transform as a one-algorithm IKEv2-style proposal (numbered like the
/// transform), or `None` for what cannot even be expressed (non-PSK authentication).
pub(crate) fn phase1_as_proposal(t: &Transform) -> Option<Proposal> {
    if attr(t, ike_attr::AUTHENTICATION_METHOD)? != u32::from(ike_auth::PRE_SHARED_KEY) {
        return None;
    }
    let encr = match u16::try_from(attr(t, ike_attr::ENCRYPTION_ALGORITHM)?).ok()? {
        ike_encr::AES_CBC => EncrId::AES_CBC,
        ike_encr::TRIPLE_DES_CBC => EncrId::TRIPLE_DES,
        ike_encr::DES_CBC => EncrId::DES,
        other => EncrId(1000 + other),
    };
    let key_bits = attr(t, ike_attr::KEY_LENGTH).and_then(|k| u16::try_from(k).ok());
    let (integ, prf) =
        hash_algs(attr(t, ike_attr::HASH_ALGORITHM)?).unwrap_or((IntegId(1000), PrfId(1000)));
    let group = DhGroup(u16::try_from(attr(t, ike_attr::GROUP_DESCRIPTION)?).ok()?);
    let spec = ProposalSpec {
        encryption: vec![Cipher::new(encr, key_bits)],
        integrity: vec![integ],
        prf: vec![prf],
        dh: vec![group],
        esn: Vec::new(),
    };
    Some(spec.to_wire(t.number, ProtocolId::IKE, Vec::new(), true))
}

/// The phase 2 (ESP) transforms for our ESP proposals. `mode` is the encapsulation mode:
/// tunnel, or UDP-encapsulated tunnel once NAT-T found a NAT (RFC 3947 §5.1).
pub(crate) fn phase2_transforms(
    specs: &[ProposalSpec],
    lifetime_secs: u32,
    mode: u16,
) -> Vec<Transform> {
    let mut out = Vec::new();
    for spec in specs {
        let groups: Vec<Option<DhGroup>> = if spec.dh.is_empty() {
            vec![None]
        } else {
            spec.dh.iter().copied().map(Some).collect()
        };
        for c in &spec.encryption {
            let id = match c.id {
                EncrId::AES_CBC => esp_transform::AES_CBC,
                EncrId::AES_GCM_16 => esp_transform::AES_GCM_16,
                EncrId::TRIPLE_DES => esp_transform::TRIPLE_DES,
                EncrId::DES => esp_transform::DES,
                _ => continue,
            };
            let integs: Vec<Option<IntegId>> = if c.is_aead() {
                vec![None]
            } else {
                spec.integrity.iter().copied().map(Some).collect()
            };
            for integ in &integs {
                for g in &groups {
                    let mut attributes = vec![
                        short(ipsec_attr::SA_LIFE_TYPE, life_type::SECONDS),
                        number(ipsec_attr::SA_LIFE_DURATION, lifetime_secs),
                        short(ipsec_attr::ENCAPSULATION_MODE, mode),
                    ];
                    if let Some(g) = g {
                        attributes.push(short(ipsec_attr::GROUP_DESCRIPTION, g.0));
                    }
                    if let Some(i) = integ {
                        let Some(a) = ipsec_auth_attr(*i) else {
                            continue;
                        };
                        attributes.push(short(ipsec_attr::AUTHENTICATION_ALGORITHM, a));
                    }
                    if let Some(bits) = c.key_bits {
                        attributes.push(short(ipsec_attr::KEY_LENGTH, bits));
                    }
                    let number = u8::try_from(out.len() + 1).unwrap_or(u8::MAX);
                    out.push(Transform {
                        number,
                        id,
                        attributes,
                    });
                }
            }
        }
    }
    out
}

fn ipsec_auth_attr(i: IntegId) -> Option<u16> {
    Some(match i {
        IntegId::HMAC_MD5_96 => ipsec_auth::HMAC_MD5,
        IntegId::HMAC_SHA1_96 => ipsec_auth::HMAC_SHA,
        IntegId::HMAC_SHA2_256_128 => ipsec_auth::HMAC_SHA2_256,
        IntegId::HMAC_SHA2_384_192 => ipsec_auth::HMAC_SHA2_384,
        IntegId::HMAC_SHA2_512_256 => ipsec_auth::HMAC_SHA2_512,
        _ => return None,
    })
}

/// An ESP transform as a one-algorithm IKEv2-style ESP proposal.
pub(crate) fn phase2_as_proposal(t: &Transform) -> Proposal {
    let encr = match t.id {
        esp_transform::AES_CBC => EncrId::AES_CBC,
        esp_transform::AES_GCM_16 => EncrId::AES_GCM_16,
        esp_transform::TRIPLE_DES => EncrId::TRIPLE_DES,
        esp_transform::DES => EncrId::DES,
        other => EncrId(1000 + u16::from(other)),
    };
    let key_bits = attr(t, ipsec_attr::KEY_LENGTH).and_then(|k| u16::try_from(k).ok());
    let integ = attr(t, ipsec_attr::AUTHENTICATION_ALGORITHM).map(|a| {
        match u16::try_from(a).unwrap_or(0) {
            ipsec_auth::HMAC_MD5 => IntegId::HMAC_MD5_96,
            ipsec_auth::HMAC_SHA => IntegId::HMAC_SHA1_96,
            ipsec_auth::HMAC_SHA2_256 => IntegId::HMAC_SHA2_256_128,
            ipsec_auth::HMAC_SHA2_384 => IntegId::HMAC_SHA2_384_192,
            ipsec_auth::HMAC_SHA2_512 => IntegId::HMAC_SHA2_512_256,
            other => IntegId(1000 + other),
        }
    });
    let group = attr(t, ipsec_attr::GROUP_DESCRIPTION)
        .and_then(|g| u16::try_from(g).ok())
        .map(DhGroup);
    let spec = ProposalSpec {
        encryption: vec![Cipher::new(encr, key_bits)],
        integrity: integ.into_iter().collect(),
        prf: Vec::new(),
        dh: group.into_iter().collect(),
        esn: Vec::new(),
    };
    spec.to_wire(t.number, ProtocolId::ESP, Vec::new(), true)
}

/// The transform of `transforms` that `selected` came from.
pub(crate) fn chosen<'a>(
    transforms: &'a [Transform],
    selected: &Selected,
) -> Option<&'a Transform> {
    transforms.iter().find(|t| t.number == selected.number)
}

/// The lifetime a transform asks for, in seconds (life type seconds only).
pub(crate) fn lifetime(t: &Transform, life_type_attr: u16, duration_attr: u16) -> Option<u32> {
    (attr(t, life_type_attr) == Some(u32::from(life_type::SECONDS)))
        .then(|| attr(t, duration_attr))
        .flatten()
}
