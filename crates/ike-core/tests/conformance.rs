//! RFC 7296 points other implementations hold us to, tested on the wire with a peer that
//! does what our own CGW never does: crafted messages, sealed with the IKE SA's exported
//! keys and handed to the endpoint as if the peer had sent them.

mod common;

use std::time::Duration;

use common::*;
use ike_core::{ChildFailure, EventKind, PeerMisbehaved, ProposalKind, Selected};
use ike_crypto::{Encryption, Integrity, SkCipher};
use ike_wire::{
    encode_payloads, encode_sk_prefix, DhGroup, ExchangeType, IntegId, Message, Payload, Transform,
    TransformType,
};

const IKE: &str = "aes256gcm16-prfsha384-ecp384";
/// AEAD and no PFS: the ESP proposal that can carry INTEG=NONE and D-H=NONE.
const ESP: &str = "aes256gcm16";

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Seals `payloads` as the SK payload of a message with `original`'s header (same SPIs,
/// exchange, flags and message id), with the keys of the side that sent `original`.
fn reseal(secrets: &[ike_core::IkeSaSecrets], original: &[u8], payloads: &[Payload]) -> Vec<u8> {
    let h = Message::parse(original).expect("parses").header;
    let s = secrets
        .iter()
        .find(|s| s.spi_i == h.spi_i && s.spi_r == h.spi_r)
        .expect("exported keys for this IKE SA");
    let (sk_e, sk_a) = if h.flags.is_initiator() {
        (&s.sk_ei, &s.sk_ai)
    } else {
        (&s.sk_er, &s.sk_ar)
    };
    let encryption = Encryption::new(s.encryption, s.key_bits).expect("supported cipher");
    let integrity = s.integrity.map(|i| Integrity::new(i).expect("supported"));
    let cipher = SkCipher::new(encryption, integrity, sk_e, sk_a).expect("keys fit");
    let (first, plaintext) = encode_payloads(payloads);
    let prefix = encode_sk_prefix(&h, first, cipher.body_len(plaintext.len()));
    let iv = vec![0x5a; cipher.iv_len()];
    let body = cipher.seal(&prefix, &plaintext, &iv);
    [prefix, body].concat()
}

fn is_ccsa_request(d: &Datagram) -> bool {
    let h = d.message().header;
    h.exchange == ExchangeType::CREATE_CHILD_SA && !h.flags.is_response()
}

/// The (type, id) pairs of every transform of the SA payload's proposals.
fn transforms(payloads: &[Payload]) -> Vec<Vec<(TransformType, u16)>> {
    payloads
        .iter()
        .find_map(|p| match p {
            Payload::Sa(s) => Some(
                s.iter()
                    .map(|p| p.transforms.iter().map(|t| (t.ty, t.id)).collect())
                    .collect(),
            ),
            _ => None,
        })
        .expect("an SA payload")
}

/// A CGW whose CHILD SA rekey offers INTEG=NONE beside its AEAD cipher and D-H=NONE (no
/// PFS) explicitly, as RFC 7296 §3.3.2–3.3.3 allow (our CGW leaves both types out). AWS's
/// answer must carry exactly one transform of each type offered (§2.7), NONE included,
/// and the CGW reads it as the same choice.
///
/// ```text
/// CGW (rekeys at up + 3,330 s)                                   AWS (no PFS allowed)
///  |-- CREATE_CHILD_SA SK{N(REKEY_SA), SA(ENCR=AES-GCM-256, ------->|
///  |      INTEG=NONE, D-H=NONE, ESN=NO), Ni, TSi, TSr}             |
///  |<-- CREATE_CHILD_SA SK{SA(ENCR, INTEG=NONE, D-H=NONE, ESN), ----|
///  |      Nr, TSi, TSr}                                            |
///  |  ChildSaRekeyed                                               |  ChildSaRekeyed
/// ```
#[test]
fn none_transforms_offered_are_in_the_accepted_proposal() {
    let aws = aws_config(PSK, None, Some(spec(ProposalKind::Esp, ESP)))
        .child_rekey_after(secs(7_200), secs(6_000));
    let cgw = cgw_config(PSK, &[IKE], &[ESP]).child_rekey_after(secs(3_600), secs(3_330));
    let mut pair = Pair::new(aws, cgw.clone(), 1, 2);
    // The CGW's own rekey request is lost; the crafted one stands in for it.
    let mut dropped = false;
    pair.cgw.drop = Box::new(move |d| {
        let first = is_ccsa_request(d) && !dropped;
        dropped |= first;
        first
    });
    pair.initiate();
    pair.run_to(secs(3_331));
    let secrets: Vec<_> = pair
        .aws
        .secrets
        .iter()
        .chain(&pair.cgw.secrets)
        .cloned()
        .collect();
    let original = pair
        .cgw
        .sent
        .iter()
        .find(|d| d.dropped && is_ccsa_request(d))
        .expect("the CGW's rekey request")
        .bytes
        .clone();
    let mut payloads = decrypt(&secrets, &original);
    for p in &mut payloads {
        if let Payload::Sa(proposals) = p {
            for proposal in proposals {
                let esn = proposal.transforms.pop().expect("ESN last");
                proposal
                    .transforms
                    .push(Transform::new(TransformType::INTEG, IntegId::NONE.0));
                proposal
                    .transforms
                    .push(Transform::new(TransformType::DH, DhGroup::NONE.0));
                proposal.transforms.push(esn);
            }
        }
    }
    let answered = pair.aws.sent.len();
    pair.inject(Side::Aws, &reseal(&secrets, &original, &payloads));
    pair.run_to(secs(3_340));

    let response = pair.aws.sent[answered..]
        .iter()
        .find(|d| d.message().header.exchange == ExchangeType::CREATE_CHILD_SA)
        .expect("AWS answered the rekey");
    let answer = decrypt(&secrets, &response.bytes);
    use TransformType as T;
    assert_eq!(
        transforms(&answer),
        [vec![
            (T::ENCR, ike_wire::EncrId::AES_GCM_16.0),
            (T::INTEG, IntegId::NONE.0),
            (T::DH, DhGroup::NONE.0),
            (T::ESN, ike_wire::EsnId::NO.0),
        ]],
        "one transform of each offered type, NONE ones too (§2.7)"
    );
    let rekeyed = |h: &Host| {
        h.events
            .iter()
            .any(|(_, e)| matches!(e.kind, EventKind::ChildSaRekeyed { .. }))
    };
    assert!(
        rekeyed(&pair.aws) && rekeyed(&pair.cgw),
        "the rekey completed on both sides"
    );
    assert_eq!(pair.cgw.endpoint.child_sas().len(), 1);
    let chosen = |payloads: &[Payload]| match payloads.iter().find(|p| matches!(p, Payload::Sa(_)))
    {
        Some(Payload::Sa(s)) => Selected::from_wire(&s[0]),
        _ => None,
    };
    let chosen = chosen(&answer).expect("a valid choice");
    assert!(chosen.integrity_none && chosen.dh_none);
    assert_eq!((chosen.integrity, chosen.dh), (None, None));
}

/// AWS's answer to the CGW's PFS rekey, with its KE payload taken out (`keep_dh`: the D-H
/// transform stays in the SA payload; else it goes too, as a responder that dropped PFS
/// would answer). The CGW names what is missing — the KEr PFS requires (RFC 7296 §1.3.1,
/// §1.3.3) — rather than "a proposal we did not offer", and counts it.
fn answer_without_ker(keep_dh: bool) {
    const ESP_PFS: &str = "aes256gcm16-ecp384";
    let aws = aws_config(PSK, None, None).child_rekey_after(secs(7_200), secs(6_000));
    let cgw = cgw_config(PSK, &[IKE], &[ESP_PFS]).child_rekey_after(secs(3_600), secs(3_330));
    let mut pair = Pair::new(aws, cgw, 1, 2);
    let is_ccsa_response = |d: &Datagram| {
        let h = d.message().header;
        h.exchange == ExchangeType::CREATE_CHILD_SA && h.flags.is_response()
    };
    pair.aws.drop = Box::new(move |d| is_ccsa_response(d));
    pair.initiate();
    pair.run_to(secs(3_331));
    let secrets: Vec<_> = pair
        .aws
        .secrets
        .iter()
        .chain(&pair.cgw.secrets)
        .cloned()
        .collect();
    let original = pair
        .aws
        .sent
        .iter()
        .find(|d| is_ccsa_response(d))
        .expect("AWS's answer to the rekey")
        .bytes
        .clone();
    let mut payloads = decrypt(&secrets, &original);
    assert!(
        payloads.iter().any(|p| matches!(p, Payload::Ke(_))),
        "AWS sent KEr"
    );
    payloads.retain(|p| !matches!(p, Payload::Ke(_)));
    if !keep_dh {
        for p in &mut payloads {
            if let Payload::Sa(proposals) = p {
                for proposal in proposals {
                    proposal.transforms.retain(|t| t.ty != TransformType::DH);
                }
            }
        }
    }
    let events = pair.cgw.events.len();
    pair.inject(Side::Cgw, &reseal(&secrets, &original, &payloads));

    let failure = ChildFailure::Misbehaved(PeerMisbehaved::PfsKeMissing {
        group: DhGroup::ECP_384,
    });
    assert!(
        pair.cgw
            .kinds_since(events)
            .contains(&EventKind::ChildSaFailed { failure }),
        "{:?}",
        pair.cgw.kinds_since(events)
    );
    let stats = pair.cgw.endpoint.stats();
    assert_eq!(
        stats.misbehaved.get(&PeerMisbehaved::PfsKeMissing {
            group: DhGroup::NONE
        }),
        1
    );
    assert_eq!(
        failure_text(failure),
        "the peer's answer has no KEr payload, which PFS requires (we sent KEi of group ECP_384)"
    );
}

fn failure_text(f: ChildFailure) -> String {
    match f {
        ChildFailure::Misbehaved(m) => m.to_string(),
        other => format!("{other:?}"),
    }
}

#[test]
fn child_rekey_answer_without_ker_but_with_the_group_names_the_missing_ker() {
    answer_without_ker(true);
}

#[test]
fn child_rekey_answer_that_dropped_pfs_names_the_missing_ker() {
    answer_without_ker(false);
}

/// IKEv1, another PSK on the CGW, against a responder that — as strongSwan and racoon do —
/// sends main mode message 4 again when it cannot decrypt message 5 (ours forgets the SA
/// instead, so the test plays that responder: AWS's message 4 handed to the CGW again after
/// each message 5). The CGW drops each repeat, but when its retransmissions of message 5
/// run out it names the likely cause — a pre-shared key mismatch (RFC 2409 §5.4: the keys
/// of message 5 derive from the PSK) — instead of a bare timeout.
///
/// ```text
/// CGW (another PSK)                                 responder
///  |-- MM1 / MM3 ----------------------------------->|
///  |<- MM2 / MM4 ------------------------------------|
///  |-- MM5* (cannot be decrypted) ------------------>|
///  |<- MM4 again (dropped, counted) -----------------|  after each MM5
///  |-- MM5* rtx ... -------------------------------->|
///  Message5Undecryptable{retransmits: 5, repeats: 6}   (not RetransmitsExhausted)
/// ```
#[test]
fn ikev1_psk_mismatch_seen_as_repeated_message4_is_named() {
    let aws = aws_config(PSK, None, None);
    let mut cgw = cgw_config(
        "not.the_aws_psk",
        &["aes128-sha256-modp2048"],
        &["aes128-sha256-modp2048"],
    );
    cgw.ike_version = ike_core::IkeVersion::V1;
    let mut pair = Pair::new(aws, cgw, 1, 2);
    pair.initiate();
    let mut repeats = 0;
    let mut seen = 0;
    for _ in 0..2_000 {
        if !pair.step() {
            break;
        }
        // Each new message 5 (encrypted main mode) gets message 4 again.
        let mm5 = pair
            .cgw
            .sent
            .iter()
            .filter(|d| d.v1().header.flags.is_encrypted())
            .count();
        if mm5 > seen {
            seen = mm5;
            let mm4 = pair.aws.sent[1].bytes.clone();
            pair.inject(Side::Cgw, &mm4);
            repeats += 1;
        }
    }
    assert_eq!(repeats, 6, "message 5 and its 5 retransmissions");
    let kinds = pair.cgw.kinds();
    assert_eq!(
        kinds.last(),
        Some(&EventKind::Message5Undecryptable {
            retransmits: 5,
            repeats: 6
        }),
        "{kinds:?}"
    );
    assert!(!kinds
        .iter()
        .any(|k| matches!(k, EventKind::RetransmitsExhausted { .. })));
    assert_eq!(
        pair.cgw.endpoint.phase_states(),
        (ike_core::SaState::Down, ike_core::SaState::Down)
    );
}

/// IKEv1 responder, initiator gone quiet after main mode message 1: AWS sends message 2
/// once and never on its own again, as strongSwan's charon does — its IKEv1 task manager
/// (src/libcharon/sa/ikev1/task_manager_v1.c, `build_response`) "rely[s] on initiator
/// retransmission, except for three-message exchanges" (quick mode, aggressive mode), and
/// answers a retransmitted request by resending its response. The half-open SA then ends
/// by the half-open timeout.
///
/// ```text
/// CGW                       AWS
///  |-- MM1 ------------------>|  IkeSaNegotiating
///  |<- MM2 -------------------|  once
///  X  (silent: nothing more)  |
///                             |  HalfOpenTimeout, no MM2 retransmission
/// ```
#[test]
fn ikev1_responder_relies_on_the_initiator_to_retransmit_main_mode() {
    let aws = aws_config(PSK, None, None);
    let mut cgw = cgw_config(
        PSK,
        &["aes128-sha256-modp2048"],
        &["aes128-sha256-modp2048"],
    );
    cgw.ike_version = ike_core::IkeVersion::V1;
    let mut pair = Pair::new(aws, cgw, 1, 2);
    pair.cgw.drop = Box::new(|d| d.index >= 1);
    pair.initiate();
    pair.run_to(secs(600));
    assert_eq!(pair.aws.sent.len(), 1, "message 2, once");
    assert!(!pair.aws.sent[0].v1().header.flags.is_encrypted());
    assert!(
        matches!(
            pair.aws.kinds()[..],
            [
                EventKind::IkeSaNegotiating { .. },
                EventKind::HalfOpenTimeout
            ]
        ),
        "{:?}",
        pair.aws.kinds()
    );
}
