//! The accepted proposal on the wire: one transform of each type the chosen proposal
//! included, NONE ones too (RFC 7296 §2.7).

use ike_wire::TransformType as T;
use ike_wire::{DhGroup, EncrId, EsnId, IntegId, PrfId, Proposal, ProtocolId, Transform};

use super::{parse_proposal, select, Negotiation, Policy, ProposalKind, Selected, Selection};

fn policy(kind: ProposalKind, text: &str) -> Policy {
    Policy {
        proposals: vec![parse_proposal(text, kind).expect("literal proposal")],
        selection: Selection::LocalPreference,
        universe: None,
    }
}

fn gcm256() -> Transform {
    Transform::with_key_length(T::ENCR, EncrId::AES_GCM_16.0, 256)
}

/// The (type, id) pairs of a proposal's transforms, in order.
fn types(p: &Proposal) -> Vec<(T, u16)> {
    p.transforms.iter().map(|t| (t.ty, t.id)).collect()
}

#[test]
fn ike_answer_keeps_an_offered_integ_none_beside_an_aead_cipher() {
    let offer = Proposal {
        number: 1,
        protocol: ProtocolId::IKE,
        spi: Vec::new(),
        transforms: vec![
            gcm256(),
            Transform::new(T::PRF, PrfId::HMAC_SHA2_384.0),
            Transform::new(T::INTEG, IntegId::NONE.0),
            Transform::new(T::DH, DhGroup::ECP_384.0),
        ],
    };
    let policy = policy(ProposalKind::Ike, "aes256gcm16-prfsha384-ecp384");
    let selected = select(&[offer], &policy, Negotiation::Ike).expect("a match");
    assert_eq!(selected.integrity, None, "no integrity algorithm is in use");
    let answer = selected.to_wire(ProtocolId::IKE, Vec::new());
    assert_eq!(
        types(&answer),
        [
            (T::ENCR, EncrId::AES_GCM_16.0),
            (T::PRF, PrfId::HMAC_SHA2_384.0),
            (T::INTEG, IntegId::NONE.0),
            (T::DH, DhGroup::ECP_384.0),
        ]
    );
    // The initiator reads the answer back as the same choice.
    assert_eq!(Selected::from_wire(&answer), Some(selected));
}

#[test]
fn esp_answer_keeps_offered_integ_none_and_dh_none() {
    let offer = Proposal {
        number: 2,
        protocol: ProtocolId::ESP,
        spi: vec![1, 2, 3, 4],
        transforms: vec![
            gcm256(),
            Transform::new(T::INTEG, IntegId::NONE.0),
            Transform::new(T::DH, DhGroup::NONE.0),
            Transform::new(T::ESN, EsnId::NO.0),
        ],
    };
    let policy = policy(ProposalKind::Esp, "aes256gcm16");
    let selected = select(&[offer], &policy, Negotiation::ChildWithKe).expect("a match");
    assert_eq!(
        (selected.integrity, selected.dh),
        (None, None),
        "AEAD, no PFS"
    );
    let answer = selected.to_wire(ProtocolId::ESP, vec![5, 6, 7, 8]);
    assert_eq!(answer.number, 2);
    assert_eq!(
        types(&answer),
        [
            (T::ENCR, EncrId::AES_GCM_16.0),
            (T::INTEG, IntegId::NONE.0),
            (T::DH, DhGroup::NONE.0),
            (T::ESN, EsnId::NO.0),
        ]
    );
    assert_eq!(Selected::from_wire(&answer), Some(selected));
}

/// Types the offer did not include stay out of the answer, and a NONE beside a real
/// choice is not chosen: only the real one is echoed.
#[test]
fn answer_adds_no_type_the_offer_lacked() {
    let offer = Proposal {
        number: 1,
        protocol: ProtocolId::ESP,
        spi: vec![1, 2, 3, 4],
        transforms: vec![
            Transform::with_key_length(T::ENCR, EncrId::AES_CBC.0, 128),
            Transform::new(T::INTEG, IntegId::NONE.0),
            Transform::new(T::INTEG, IntegId::HMAC_SHA2_256_128.0),
            Transform::new(T::ESN, EsnId::NO.0),
        ],
    };
    let policy = policy(ProposalKind::Esp, "aes128-sha256");
    let selected = select(&[offer], &policy, Negotiation::ChildWithKe).expect("a match");
    let answer = selected.to_wire(ProtocolId::ESP, vec![5, 6, 7, 8]);
    assert_eq!(
        types(&answer),
        [
            (T::ENCR, EncrId::AES_CBC.0),
            (T::INTEG, IntegId::HMAC_SHA2_256_128.0),
            (T::ESN, EsnId::NO.0),
        ]
    );
}
