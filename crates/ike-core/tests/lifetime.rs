//! The IKEv2 SA's life over time, on the pair's virtual clock: CHILD and IKE SA rekeys by
//! either side (RFC 7296 §1.3.2, §1.3.3, §2.18), PFS, every rekey collision we can pin down
//! with exact timers and the pair's 10 ms latency (§2.8.1, §2.25), AWS's dead peer
//! detection (§2.4), the half-open timeout and expiry without rekey (§2.8).
//!
//! strongSwan-style: each test draws the exchange it pins down. Assertions are on what a
//! user sees: events (kind, time, phase states after it) and the datagrams on the wire,
//! decrypted with the exported IKE SA keys.
//!
//! Timing used throughout: the CGW sends IKE_SA_INIT at 0 and every datagram takes 10 ms,
//! so AWS's first IKE and CHILD SA come up when it answers IKE_AUTH (30 ms) and the CGW's
//! when that answer arrives (40 ms). With fuzz 0 an SA of lifetime L and margin M is
//! rekeyed exactly L − M after it came up (`ConfigExt::child_rekey_after`).

mod common;

use std::time::Duration;

use common::*;
use ike_core::ts::parse_cidr;
use ike_core::{
    ChildFailure, Direction, DpdAction, DpdConfig, EndpointConfig, EventKind, PeerIncompatible,
    ProposalKind, ProposalSpec, SaState, Selected,
};
use ike_wire::{
    Delete, DhGroup, ExchangeType, KeyExchange, Message, Notify, NotifyType, Payload, PayloadType,
    Proposal, ProtocolId, TrafficSelector,
};

use EventKind::*;
use SaState::{Down, Established as Up, Negotiating, Rekeying};
use Side::{Aws, Cgw};

const IKE: &str = "aes256gcm16-prfsha384-ecp384";
const ESP_PFS: &str = "aes256gcm16-ecp384";
const ESP_NO_PFS: &str = "aes256gcm16";
/// The networks behind each side, so the selectors on the wire say whose side is whose.
const AWS_NET: &str = "172.31.0.0/16";
const CGW_NET: &str = "10.1.0.0/16";
const CCSA: ExchangeType = ExchangeType::CREATE_CHILD_SA;
const INFO: ExchangeType = ExchangeType::INFORMATIONAL;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// When a side's first IKE and CHILD SA came up.
fn up(side: Side) -> Duration {
    match side {
        Aws => ms(30),
        Cgw => ms(40),
    }
}

/// A side's first request id of its own after the tunnel came up: AWS has only answered
/// so far, the CGW has used 0 and 1 for IKE_SA_INIT and IKE_AUTH.
fn first_id(side: Side) -> u32 {
    match side {
        Aws => 0,
        Cgw => 2,
    }
}

fn net(cidr: &str) -> TrafficSelector {
    parse_cidr(cidr).expect("literal CIDR")
}

/// A side's (local, remote) selectors: TSi/TSr of a CHILD SA request it sends.
fn nets(side: Side) -> (Vec<TrafficSelector>, Vec<TrafficSelector>) {
    match side {
        Aws => (vec![net(AWS_NET)], vec![net(CGW_NET)]),
        Cgw => (vec![net(CGW_NET)], vec![net(AWS_NET)]),
    }
}

/// AWS's tunnel: every algorithm AWS supports, so PFS in every CHILD SA rekey.
fn aws() -> EndpointConfig {
    with_nets(aws_config(PSK, None, None), Aws)
}

/// AWS's tunnel with its phase 2 restricted to `esp` (e.g. without a DH group: no PFS).
fn aws_esp(esp: &str) -> EndpointConfig {
    with_nets(
        aws_config(PSK, None, Some(spec(ProposalKind::Esp, esp))),
        Aws,
    )
}

fn cgw(esp: &str) -> EndpointConfig {
    with_nets(cgw_config(PSK, &[IKE], &[esp]), Cgw)
}

fn with_nets(mut config: EndpointConfig, side: Side) -> EndpointConfig {
    (config.local_ts, config.remote_ts) = nets(side);
    config
}

/// AWS's and the CGW's configurations with `this` applied to `side`'s, `other` to its peer's.
fn configs(
    aws: EndpointConfig,
    cgw: EndpointConfig,
    side: Side,
    this: impl FnOnce(EndpointConfig) -> EndpointConfig,
    other: impl FnOnce(EndpointConfig) -> EndpointConfig,
) -> (EndpointConfig, EndpointConfig) {
    match side {
        Aws => (this(aws), other(cgw)),
        Cgw => (other(aws), this(cgw)),
    }
}

/// The tunnel up on both sides, the clock at 1 s.
fn established(aws: EndpointConfig, cgw: EndpointConfig, aws_seed: u64, cgw_seed: u64) -> Pair {
    let mut pair = Pair::new(aws, cgw, aws_seed, cgw_seed);
    pair.initiate();
    pair.run_to(secs(1));
    for side in [Aws, Cgw] {
        assert_eq!(
            host(&pair, side).endpoint.phase_states(),
            (Up, Up),
            "{side:?}"
        );
    }
    pair
}

fn host(pair: &Pair, side: Side) -> &Host {
    match side {
        Aws => &pair.aws,
        Cgw => &pair.cgw,
    }
}

/// Where each side's event log and datagram list stand now.
#[derive(Clone, Copy)]
struct Mark {
    events: [usize; 2],
    sent: [usize; 2],
}

fn mark(pair: &Pair) -> Mark {
    Mark {
        events: [pair.aws.events.len(), pair.cgw.events.len()],
        sent: [pair.aws.sent.len(), pair.cgw.sent.len()],
    }
}

fn idx(side: Side) -> usize {
    match side {
        Aws => 0,
        Cgw => 1,
    }
}

/// One logged event: when, what, and the phase 1 / phase 2 states after it.
type Logged = (Duration, EventKind, SaState, SaState);

/// A side's events since `mark`.
fn log(pair: &Pair, side: Side, mark: Mark) -> Vec<Logged> {
    let h = host(pair, side);
    let from = mark.events[idx(side)].min(h.events.len());
    h.events[from..]
        .iter()
        .zip(&h.merged[from..])
        .map(|((at, e), &(p1, p2))| (*at, e.kind.clone(), p1, p2))
        .collect()
}

/// The datagrams a side sent since `mark`.
fn sent(pair: &Pair, side: Side, mark: Mark) -> Vec<Datagram> {
    host(pair, side).sent[mark.sent[idx(side)]..].to_vec()
}

/// The only CHILD SA `side` has: (its inbound SPI, its outbound SPI).
fn child(pair: &Pair, side: Side) -> (u32, u32) {
    let sas = host(pair, side).endpoint.child_sas();
    let [one] = sas[..] else {
        panic!("{side:?} should have exactly one CHILD SA: {sas:?}")
    };
    one
}

/// Exactly one CHILD SA on each side, the same one: `side`'s (inbound, outbound) SPIs.
fn agreed_child(pair: &Pair, side: Side) -> (u32, u32) {
    let (mine, theirs) = (child(pair, side), child(pair, side.peer()));
    assert_eq!(
        mine,
        (theirs.1, theirs.0),
        "each side sends with the SPI the other receives with"
    );
    mine
}

/// Exactly one IKE SA on each side, the same one.
fn agreed_ike(pair: &Pair) -> (u64, u64) {
    let (aws, cgw) = (pair.aws.endpoint.ike_sas(), pair.cgw.endpoint.ike_sas());
    assert_eq!(aws.len(), 1, "AWS should have exactly one IKE SA: {aws:?}");
    assert_eq!(aws, cgw, "both sides name the IKE SA alike");
    aws[0]
}

/// A datagram's header: exchange, (SPIi, SPIr), message id, INITIATOR flag, RESPONSE flag.
fn header(d: &Datagram) -> (ExchangeType, (u64, u64), u32, bool, bool) {
    let h = Message::parse(&d.bytes).expect("parses").header;
    (
        h.exchange,
        (h.spi_i, h.spi_r),
        h.message_id,
        h.flags.is_initiator(),
        h.flags.is_response(),
    )
}

/// The payloads inside a datagram's SK payload, opened with the keys either side exported.
fn open(pair: &Pair, d: &Datagram) -> Vec<Payload> {
    let secrets: Vec<_> = pair
        .aws
        .secrets
        .iter()
        .chain(&pair.cgw.secrets)
        .cloned()
        .collect();
    decrypt(&secrets, &d.bytes)
}

fn types(payloads: &[Payload]) -> Vec<PayloadType> {
    payloads.iter().map(Payload::payload_type).collect()
}

fn notify(payloads: &[Payload], ty: NotifyType) -> Option<&Notify> {
    payloads.iter().find_map(|p| match p {
        Payload::Notify(n) if n.ty == ty => Some(n),
        _ => None,
    })
}

fn proposals(payloads: &[Payload]) -> &[Proposal] {
    payloads
        .iter()
        .find_map(|p| {
            if let Payload::Sa(s) = p {
                Some(s.as_slice())
            } else {
                None
            }
        })
        .expect("an SA payload")
}

fn nonce(payloads: &[Payload]) -> Vec<u8> {
    payloads
        .iter()
        .find_map(|p| {
            if let Payload::Nonce(n) = p {
                Some(n.clone())
            } else {
                None
            }
        })
        .expect("a nonce")
}

fn ke(payloads: &[Payload]) -> Option<&KeyExchange> {
    payloads.iter().find_map(|p| {
        if let Payload::Ke(k) = p {
            Some(k)
        } else {
            None
        }
    })
}

fn ts(payloads: &[Payload]) -> (Vec<TrafficSelector>, Vec<TrafficSelector>) {
    let tsi = payloads.iter().find_map(|p| {
        if let Payload::TsI(t) = p {
            Some(t.clone())
        } else {
            None
        }
    });
    let tsr = payloads.iter().find_map(|p| {
        if let Payload::TsR(t) = p {
            Some(t.clone())
        } else {
            None
        }
    });
    (tsi.expect("TSi"), tsr.expect("TSr"))
}

/// The ESP SPI every proposal of an SA payload carries (the sender's inbound SPI).
fn esp_spi(payloads: &[Payload]) -> u32 {
    let spis: Vec<&[u8]> = proposals(payloads)
        .iter()
        .map(|p| p.spi.as_slice())
        .collect();
    assert!(
        spis.windows(2).all(|w| w[0] == w[1]),
        "one SPI for all proposals: {spis:?}"
    );
    assert!(proposals(payloads)
        .iter()
        .all(|p| p.protocol == ProtocolId::ESP));
    u32::from_be_bytes(spis[0].try_into().expect("a 4-byte ESP SPI"))
}

/// The IKE SPI every proposal of an SA payload carries (an IKE SA rekey, §1.3.2).
fn ike_spi(payloads: &[Payload]) -> u64 {
    let spis: Vec<&[u8]> = proposals(payloads)
        .iter()
        .map(|p| p.spi.as_slice())
        .collect();
    assert!(
        spis.windows(2).all(|w| w[0] == w[1]),
        "one SPI for all proposals: {spis:?}"
    );
    assert!(proposals(payloads)
        .iter()
        .all(|p| p.protocol == ProtocolId::IKE));
    u64::from_be_bytes(spis[0].try_into().expect("an 8-byte IKE SPI"))
}

fn delete_esp(spi: u32) -> Payload {
    Payload::Delete(Delete {
        protocol: ProtocolId::ESP,
        spi_size: 4,
        spis: vec![spi.to_be_bytes().to_vec()],
    })
}

fn lone_notify(ty: NotifyType) -> Vec<Payload> {
    vec![Payload::Notify(Notify::new(ty, Vec::new()))]
}

/// `to` no longer knows the SA `d` was sent on: a copy of it is dropped as unmatched,
/// unanswered (no orphaned SA is left behind).
fn forgotten(pair: &mut Pair, to: Side, d: &Datagram) {
    let before = (
        host(pair, to).endpoint.stats().unmatched,
        host(pair, to).sent.len(),
    );
    pair.inject(to, &d.bytes);
    let after = (
        host(pair, to).endpoint.stats().unmatched,
        host(pair, to).sent.len(),
    );
    assert_eq!(
        after,
        (before.0 + 1, before.1),
        "{to:?} still has the SA of {:?}",
        header(d)
    );
}

// ---------------------------------------------------------------------------------------
// 1. CHILD SA rekey
// ---------------------------------------------------------------------------------------

/// A CHILD SA rekey (RFC 7296 §1.3.3) by `initiator`, with PFS in the IKE SA's group.
///
/// ```text
/// initiator (lifetime 3,600 s, margin 270 s)                 responder (rekeys later)
///  |  up + 3,330 s: CreateChildRequestSent{k}   up/rekeying          |
///  |-- CREATE_CHILD_SA #k SK{N(REKEY_SA, ESP, old in), -------------->|  CreateChildRequestProcessed{k}  up/rekeying
///  |      SA(ESP, new in), Ni, KEi(ecp384), TSi, TSr}                 |  CreateChildResponseSent{k}      up/up
///  |                                                                  |  ChildSaRekeyed{old' → new'}     up/up
///  |<-- CREATE_CHILD_SA #k SK{SA(ESP, new in'), Nr, KEr(ecp384), -----|
///  |      TSi, TSr}                                                   |
///  |  CreateChildResponseProcessed{k}           up/rekeying           |
///  |  ChildSaRekeyed{old → new}, ChildSaDeleteSent{old}   up/up       |
///  |-- INFORMATIONAL #k+1 SK{D(ESP, old in)} ------------------------>|  ChildSaDeleteReceived{old in}   up/up
///  |<-- INFORMATIONAL #k+1 SK{D(ESP, old in')} -----------------------|
/// ```
/// k is the initiator's next message id on the IKE SA: 0 for AWS, 2 for the CGW.
fn child_rekey_by(initiator: Side) {
    let responder = initiator.peer();
    let (aws, cgw) = configs(
        aws(),
        cgw(ESP_PFS),
        initiator,
        |c| c.child_rekey_after(secs(3_600), secs(3_330)),
        |c| c.child_rekey_after(secs(7_200), secs(6_000)),
    );
    let mut pair = established(aws, cgw, 1, 2);
    let (old_in, old_out) = agreed_child(&pair, initiator);
    let ike = agreed_ike(&pair);
    let m = mark(&pair);
    let t = up(initiator) + secs(3_330);
    let k = first_id(initiator);

    // Phase 2 is rekeying on each side from when it learns of the exchange until it is done.
    pair.run_to(t);
    assert_eq!(
        host(&pair, initiator).endpoint.phase_states(),
        (Up, Rekeying)
    );
    assert_eq!(host(&pair, responder).endpoint.phase_states(), (Up, Up));
    pair.run_to(t + ms(15));
    assert_eq!(
        host(&pair, initiator).endpoint.phase_states(),
        (Up, Rekeying)
    );
    pair.run_to(t + secs(1));
    let (new_in, new_out) = agreed_child(&pair, initiator);
    assert!(
        new_in != old_in && new_out != old_out,
        "new SPIs on both sides"
    );
    assert_eq!(agreed_ike(&pair), ike, "the IKE SA stays as it was");

    assert_eq!(
        log(&pair, initiator, m),
        [
            (t, CreateChildRequestSent { id: k }, Up, Rekeying),
            (
                t + ms(20),
                CreateChildResponseProcessed { id: k },
                Up,
                Rekeying
            ),
            (
                t + ms(20),
                ChildSaRekeyed {
                    old_spi_in: old_in,
                    spi_in: new_in,
                    spi_out: new_out
                },
                Up,
                Up
            ),
            (t + ms(20), ChildSaDeleteSent { spi_in: old_in }, Up, Up),
            // The responder's answer to our DELETE confirms it (RFC 7296 §1.4.1).
            (
                t + ms(40),
                ChildSaDeleted {
                    spi_in: old_in,
                    spi_out: old_out
                },
                Up,
                Up
            ),
        ]
    );
    assert_eq!(
        log(&pair, responder, m),
        [
            (
                t + ms(10),
                CreateChildRequestProcessed { id: k },
                Up,
                Rekeying
            ),
            (t + ms(10), CreateChildResponseSent { id: k }, Up, Up),
            (
                t + ms(10),
                ChildSaRekeyed {
                    old_spi_in: old_out,
                    spi_in: new_out,
                    spi_out: new_in
                },
                Up,
                Up
            ),
            (t + ms(30), ChildSaDeleteReceived { spi: old_in }, Up, Up),
        ]
    );

    // The wire: one CREATE_CHILD_SA and one INFORMATIONAL exchange, both the initiator's.
    let flag = initiator == Cgw; // the CGW is the IKE SA's original initiator
    let (i, r) = (sent(&pair, initiator, m), sent(&pair, responder, m));
    assert_eq!((i.len(), r.len()), (2, 2));
    assert_eq!(header(&i[0]), (CCSA, ike, k, flag, false));
    assert_eq!(header(&r[0]), (CCSA, ike, k, !flag, true));
    assert_eq!((i[0].at, r[0].at), (t, t + ms(10)));
    let request = open(&pair, &i[0]);
    use PayloadType as P;
    assert_eq!(
        types(&request),
        [P::NOTIFY, P::SA, P::NONCE, P::KE, P::TSI, P::TSR]
    );
    // REKEY_SA names the old SA by the SPI its sender receives with (§1.3.3).
    let rekey_sa = notify(&request, NotifyType::REKEY_SA).expect("REKEY_SA");
    assert_eq!(
        (rekey_sa.protocol, rekey_sa.spi.clone()),
        (ProtocolId::ESP, old_in.to_be_bytes().to_vec())
    );
    assert_eq!(esp_spi(&request), new_in);
    assert!(proposals(&request)
        .iter()
        .all(|p| ProposalSpec::from_wire(p).dh.contains(&DhGroup::ECP_384)));
    assert_eq!(
        ke(&request).map(|k| k.group),
        Some(DhGroup::ECP_384),
        "PFS: a KE payload"
    );
    assert_eq!(ts(&request), nets(initiator));
    let response = open(&pair, &r[0]);
    assert_eq!(types(&response), [P::SA, P::NONCE, P::KE, P::TSI, P::TSR]);
    assert_eq!(proposals(&response).len(), 1);
    assert_eq!(esp_spi(&response), new_out);
    assert_eq!(
        Selected::from_wire(&proposals(&response)[0]).and_then(|s| s.dh),
        Some(DhGroup::ECP_384)
    );
    assert_eq!(ke(&response).map(|k| k.group), Some(DhGroup::ECP_384));
    assert_eq!(
        ts(&response),
        nets(initiator),
        "TSi stays the initiator's side"
    );
    // The rekey's initiator deletes the old SA; the responder answers with its half (§1.4.1).
    assert_eq!(header(&i[1]), (INFO, ike, k + 1, flag, false));
    assert_eq!(open(&pair, &i[1]), [delete_esp(old_in)]);
    assert_eq!(header(&r[1]), (INFO, ike, k + 1, !flag, true));
    assert_eq!(open(&pair, &r[1]), [delete_esp(old_out)]);

    // The new SA lives a lifetime of its own: each side rekeys it by its own rule.
    let next = |side: Side| host(&pair, side).endpoint.poll_timeout();
    assert_eq!(next(initiator), Some(pair.at(t + ms(20) + secs(3_330))));
    assert_eq!(next(responder), Some(pair.at(t + ms(10) + secs(6_000))));
}

#[test]
fn aws_rekeys_the_child_sa() {
    child_rekey_by(Aws);
}

#[test]
fn cgw_rekeys_the_child_sa() {
    child_rekey_by(Cgw);
}

/// The rekey's responder lost its CHILD SA without a DELETE (`Endpoint::forget_child_sas`:
/// its IPsec SAs were cleared), so it answers the rekey with CHILD_SA_NOT_FOUND (§2.25).
/// The initiator silently deletes its stale half — no DELETE — and creates a new CHILD SA
/// from scratch for the same configured selectors, with the same PFS group (§2.25,
/// §1.3.1): phase 2 is up again on both sides.
///
/// ```text
/// initiator (rekeys at up + 3,330 s)                         responder
///  |                                                           |  up + 100 s: forgets its CHILD SAs
///  |-- CREATE_CHILD_SA #k SK{N(REKEY_SA, old in), SA, Ni, KEi, ->|  CreateChildRequestProcessed{k}  up/down
///  |      TSi, TSr}                                            |  CreateChildResponseSent{k}
///  |<-- CREATE_CHILD_SA #k SK{N(CHILD_SA_NOT_FOUND, old in)} ---|
///  |  CreateChildResponseProcessed{k}              up/rekeying  |
///  |  ChildSaFailed{CHILD_SA_NOT_FOUND}            up/down      |
///  |  CreateChildRequestSent{k+1}                  up/negotiating |
///  |-- CREATE_CHILD_SA #k+1 SK{SA, Ni, KEi, TSi, TSr} ---------->|  CreateChildRequestProcessed{k+1}
///  |                                                           |  CreateChildResponseSent{k+1}
///  |                                                           |  ChildSaEstablished   up/up
///  |<-- CREATE_CHILD_SA #k+1 SK{SA, Nr, KEr, TSi, TSr} ---------|
///  |  CreateChildResponseProcessed{k+1}, ChildSaEstablished  up/up
/// ```
fn lost_child_sa_recreated(initiator: Side) {
    let responder = initiator.peer();
    let (aws, cgw) = configs(
        aws(),
        cgw(ESP_PFS),
        initiator,
        |c| c.child_rekey_after(secs(3_600), secs(3_330)),
        |c| c.child_rekey_after(secs(7_200), secs(6_000)),
    );
    let mut pair = established(aws, cgw, 1, 2);
    let (old_in, old_out) = agreed_child(&pair, initiator);
    let ike = agreed_ike(&pair);
    pair.run_to(secs(100));
    pair.act(responder, |e, now| e.forget_child_sas(now));
    assert_eq!(host(&pair, responder).endpoint.child_sas(), []);
    assert_eq!(host(&pair, responder).endpoint.phase_states(), (Up, Down));
    let m = mark(&pair);
    let t = up(initiator) + secs(3_330);
    let k = first_id(initiator);
    pair.run_to(t + secs(1));

    let (new_in, new_out) = agreed_child(&pair, initiator);
    assert!(new_in != old_in && new_out != old_out, "a new CHILD SA");
    assert_eq!(agreed_ike(&pair), ike, "the IKE SA stays as it was");
    let selected = |side: Side| {
        host(&pair, side)
            .events
            .iter()
            .rev()
            .find_map(|(_, e)| match &e.kind {
                ChildSaEstablished { selected, .. } => Some(*selected),
                _ => None,
            })
    };
    assert_eq!(
        log(&pair, initiator, m),
        [
            (t, CreateChildRequestSent { id: k }, Up, Rekeying),
            (
                t + ms(20),
                CreateChildResponseProcessed { id: k },
                Up,
                Rekeying
            ),
            (
                t + ms(20),
                ChildSaFailed {
                    failure: ChildFailure::Notified(NotifyType::CHILD_SA_NOT_FOUND)
                },
                Up,
                Down
            ),
            (
                t + ms(20),
                CreateChildRequestSent { id: k + 1 },
                Up,
                Negotiating
            ),
            (
                t + ms(40),
                CreateChildResponseProcessed { id: k + 1 },
                Up,
                Negotiating
            ),
            (
                t + ms(40),
                ChildSaEstablished {
                    spi_in: new_in,
                    spi_out: new_out,
                    selected: selected(initiator).expect("established")
                },
                Up,
                Up
            ),
        ]
    );
    assert_eq!(
        log(&pair, responder, m),
        [
            (t + ms(10), CreateChildRequestProcessed { id: k }, Up, Down),
            (t + ms(10), CreateChildResponseSent { id: k }, Up, Down),
            (
                t + ms(30),
                CreateChildRequestProcessed { id: k + 1 },
                Up,
                Down
            ),
            (t + ms(30), CreateChildResponseSent { id: k + 1 }, Up, Up),
            (
                t + ms(30),
                ChildSaEstablished {
                    spi_in: new_out,
                    spi_out: new_in,
                    selected: selected(responder).expect("established")
                },
                Up,
                Up
            ),
        ]
    );
    assert_eq!(selected(initiator), selected(responder));
    assert_eq!(
        selected(initiator).and_then(|s| s.dh),
        Some(DhGroup::ECP_384),
        "the stale SA's PFS group"
    );

    // The wire: two CREATE_CHILD_SA exchanges and nothing else — no DELETE for the SA the
    // peer does not know.
    let (i, r) = (sent(&pair, initiator, m), sent(&pair, responder, m));
    assert_eq!((i.len(), r.len()), (2, 2));
    let flag = initiator == Cgw;
    assert_eq!(header(&r[0]), (CCSA, ike, k, !flag, true));
    let refusal = open(&pair, &r[0]);
    let not_found = notify(&refusal, NotifyType::CHILD_SA_NOT_FOUND).expect("CHILD_SA_NOT_FOUND");
    assert_eq!(
        not_found.spi,
        old_in.to_be_bytes().to_vec(),
        "it names the SA (§3.10)"
    );
    assert_eq!(header(&i[1]), (CCSA, ike, k + 1, flag, false));
    let create = open(&pair, &i[1]);
    use PayloadType as P;
    assert_eq!(
        types(&create),
        [P::SA, P::NONCE, P::KE, P::TSI, P::TSR],
        "a new CHILD SA, no REKEY_SA"
    );
    assert_eq!(ke(&create).map(|k| k.group), Some(DhGroup::ECP_384));
    assert_eq!(ts(&create), nets(initiator), "the configured selectors");
    assert_eq!(esp_spi(&create), new_in);

    // The new SA lives on as any other: no DELETE when the stale one's lifetime would
    // have ended, and it is rekeyed at its own time.
    let m = mark(&pair);
    pair.run_to(t + ms(40) + secs(3_330) + secs(1));
    assert!(
        sent(&pair, initiator, m)
            .iter()
            .all(|d| header(d).0 == CCSA || open(&pair, d).iter().all(|p| !matches!(p, Payload::Delete(d) if d.spis == [old_in.to_be_bytes().to_vec()]))),
        "no DELETE for the stale SA"
    );
    assert!(log(&pair, initiator, m).iter().any(
        |(_, e, _, _)| matches!(e, ChildSaRekeyed { old_spi_in, .. } if *old_spi_in == new_in)
    ));
    assert_eq!(host(&pair, initiator).endpoint.phase_states(), (Up, Up));
}

#[test]
fn aws_recreates_a_child_sa_the_cgw_lost() {
    lost_child_sa_recreated(Aws);
}

#[test]
fn cgw_recreates_a_child_sa_aws_lost() {
    lost_child_sa_recreated(Cgw);
}

// ---------------------------------------------------------------------------------------
// 2. PFS
// ---------------------------------------------------------------------------------------

/// Without a DH group on either side's ESP proposals there is no KE payload either way
/// (the KE is there iff PFS, §1.3.3); the rekey works the same.
///
/// ```text
/// CGW (no PFS)                                        AWS (no PFS), up + 3,330 s
///  |<-- CREATE_CHILD_SA #0 SK{N(REKEY_SA), SA(no DH), Ni, TSi, TSr} --|
///  |--- CREATE_CHILD_SA #0 SK{SA(no DH), Nr, TSi, TSr} -------------->|  ChildSaRekeyed
///  |<-- INFORMATIONAL #1 SK{D(ESP, old)} -----------------------------|
/// ```
#[test]
fn rekey_without_pfs_carries_no_ke() {
    let aws = aws_esp(ESP_NO_PFS).child_rekey_after(secs(3_600), secs(3_330));
    let cgw = cgw(ESP_NO_PFS).child_rekey_after(secs(7_200), secs(6_000));
    let mut pair = established(aws, cgw, 1, 2);
    let (old_in, _) = agreed_child(&pair, Aws);
    let m = mark(&pair);
    pair.run_to(secs(3_331));
    let (new_in, new_out) = agreed_child(&pair, Aws);
    let rekeyed = ChildSaRekeyed {
        old_spi_in: old_in,
        spi_in: new_in,
        spi_out: new_out,
    };
    assert!(
        log(&pair, Aws, m).iter().any(|(_, k, ..)| *k == rekeyed),
        "{:?}",
        log(&pair, Aws, m)
    );

    use PayloadType as P;
    let request = open(&pair, &sent(&pair, Aws, m)[0]);
    assert_eq!(
        types(&request),
        [P::NOTIFY, P::SA, P::NONCE, P::TSI, P::TSR],
        "no KE without PFS"
    );
    assert!(proposals(&request)
        .iter()
        .all(|p| ProposalSpec::from_wire(p).dh.is_empty()));
    let response = open(&pair, &sent(&pair, Cgw, m)[0]);
    assert_eq!(types(&response), [P::SA, P::NONCE, P::TSI, P::TSR]);
    assert_eq!(
        Selected::from_wire(&proposals(&response)[0]).and_then(|s| s.dh),
        None
    );
}

/// AWS requires PFS (its phase 2 always has DH groups); a CGW without PFS cannot agree to
/// a rekey, whoever starts it. The refused side keeps the old SA, which is not rekeyed
/// again and is deleted at the end of its lifetime; the IKE SA lives on.
///
/// ```text
/// initiator (lifetime 1,800 s)                                responder
///  |  up + 1,530 s                                                 |
///  |-- CREATE_CHILD_SA #k SK{N(REKEY_SA), SA, Ni, [KEi], TS} ----->|  no proposal with (AWS) / without
///  |                                                               |  (CGW) a DH group: ChildSaFailed{Sent}
///  |<-- CREATE_CHILD_SA #k SK{N(NO_PROPOSAL_CHOSEN)} --------------|
///  |  ChildSaFailed{NoProposalChosen, Received}   up/up            |
///  |  … the old SA carries on …                                    |
///  |  up + 1,800 s: ChildSaDeleteSent{old}        up/down          |
///  |-- INFORMATIONAL #k+1 SK{D(ESP, old in)} --------------------->|  ChildSaDeleteReceived   up/down
///  |<-- INFORMATIONAL #k+1 SK{D(ESP, old in')} --------------------|
/// ```
fn pfs_mismatch(initiator: Side) {
    let responder = initiator.peer();
    let (aws, cgw) = configs(
        aws(),
        cgw(ESP_NO_PFS),
        initiator,
        |c| c.child_rekey_after(secs(1_800), secs(1_530)),
        |c| c.child_rekey_after(secs(3_600), secs(3_330)),
    );
    let mut pair = established(aws, cgw, 1, 2);
    let (old_in, old_out) = agreed_child(&pair, initiator);
    let ike = agreed_ike(&pair);
    let m = mark(&pair);
    let t = up(initiator) + secs(1_530);
    let k = first_id(initiator);

    // Refused: the old SA is still there on both sides, right up to its end.
    pair.run_to(up(initiator) + secs(1_800) - ms(1));
    assert_eq!(agreed_child(&pair, initiator), (old_in, old_out));
    pair.run_to(secs(4_000));
    let no_proposal = |direction| {
        ChildFailure::Incompatible(
            PeerIncompatible::NoProposalChosen {
                unsupported: direction == Direction::Sent,
            },
            direction,
        )
    };
    let end = up(initiator) + secs(1_800);
    assert_eq!(
        log(&pair, initiator, m),
        [
            (t, CreateChildRequestSent { id: k }, Up, Rekeying),
            (
                t + ms(20),
                CreateChildResponseProcessed { id: k },
                Up,
                Rekeying
            ),
            (
                t + ms(20),
                ChildSaFailed {
                    failure: no_proposal(Direction::Received)
                },
                Up,
                Up
            ),
            (end, ChildSaDeleteSent { spi_in: old_in }, Up, Down),
            (
                end + ms(20),
                ChildSaDeleted {
                    spi_in: old_in,
                    spi_out: old_out
                },
                Up,
                Down
            ),
        ]
    );
    assert_eq!(
        log(&pair, responder, m),
        [
            (
                t + ms(10),
                CreateChildRequestProcessed { id: k },
                Up,
                Rekeying
            ),
            (t + ms(10), CreateChildResponseSent { id: k }, Up, Up),
            (
                t + ms(10),
                ChildSaFailed {
                    failure: no_proposal(Direction::Sent)
                },
                Up,
                Up
            ),
            (
                end + ms(10),
                ChildSaDeleteReceived { spi: old_in },
                Up,
                Down
            ),
        ]
    );

    // On the wire: the KE payload is there iff the rekey's initiator does PFS (AWS).
    let (i, r) = (sent(&pair, initiator, m), sent(&pair, responder, m));
    assert_eq!(
        (i.len(), r.len()),
        (2, 2),
        "one refused rekey, no retry, then the DELETE"
    );
    let request = open(&pair, &i[0]);
    assert_eq!(ke(&request).is_some(), initiator == Aws);
    assert!(proposals(&request)
        .iter()
        .all(|p| ProposalSpec::from_wire(p).dh.is_empty() == (initiator == Cgw)));
    assert_eq!(header(&r[0]).2, k);
    assert_eq!(
        open(&pair, &r[0]),
        lone_notify(NotifyType::NO_PROPOSAL_CHOSEN)
    );
    assert_eq!(
        (header(&i[1]).0, header(&i[1]).2, i[1].at),
        (INFO, k + 1, end)
    );
    assert_eq!(open(&pair, &i[1]), [delete_esp(old_in)]);
    assert_eq!(open(&pair, &r[1]), [delete_esp(old_out)]);

    // Phase 2 is down for good; the IKE SA is not touched.
    for side in [Aws, Cgw] {
        assert_eq!(host(&pair, side).endpoint.phase_states(), (Up, Down));
        assert!(host(&pair, side).endpoint.child_sas().is_empty());
    }
    assert_eq!(agreed_ike(&pair), ike);
}

#[test]
fn cgw_without_pfs_cannot_rekey_against_aws_requiring_it() {
    pfs_mismatch(Cgw);
}

#[test]
fn aws_pfs_rekey_is_refused_by_a_cgw_without_pfs() {
    pfs_mismatch(Aws);
}

// ---------------------------------------------------------------------------------------
// 3. IKE SA rekey
// ---------------------------------------------------------------------------------------

/// An IKE SA rekey (RFC 7296 §1.3.2, §2.18) by `initiator`: the CHILD SA moves to the new
/// IKE SA, whose message ids start at 0 and whose original initiator is the rekey's.
///
/// ```text
/// initiator (IKE lifetime 7,200 s)                              responder
///  |  up + 6,930 s: CreateChildRequestSent{k}   rekeying/up          |
///  |-- CREATE_CHILD_SA #k (old SPIs) SK{SA(IKE, SPIi'), Ni, KEi} --->|  CreateChildRequestProcessed{k}  rekeying/up
///  |                                                                 |  CreateChildResponseSent{k}, IkeSaRekeyed
///  |<-- CREATE_CHILD_SA #k SK{SA(IKE, SPIr'), Nr, KEr} --------------|
///  |  CreateChildResponseProcessed{k}, IkeSaRekeyed{SPIi', SPIr'}    |
///  |-- INFORMATIONAL #k+1 (old SPIs) SK{D(IKE)} -------------------->|  IkeSaDeleteReceived   up/up
///  |<-- INFORMATIONAL #k+1 SK{} -------------------------------------|
///  |  up + 9,730 s: the CHILD SA's rekey, on the new IKE SA          |
///  |-- CREATE_CHILD_SA #0 (SPIi', SPIr') SK{N(REKEY_SA), ...} ------>|
///  |<-- CREATE_CHILD_SA #0 ------------------------------------------|
///  |-- INFORMATIONAL #1 SK{D(ESP, old)} ---------------------------->|
/// ```
fn ike_rekey_by(initiator: Side) {
    let responder = initiator.peer();
    let (aws, cgw) = configs(
        aws(),
        cgw(ESP_PFS),
        initiator,
        |c| c.with_lifetimes(exact_lifetimes(secs(7_200), secs(10_000), secs(270))),
        |c| c.with_lifetimes(exact_lifetimes(secs(28_800), secs(20_000), secs(270))),
    );
    let mut pair = established(aws, cgw, 1, 2);
    let old = agreed_ike(&pair);
    let child_sa = agreed_child(&pair, initiator);
    let m = mark(&pair);
    let t = up(initiator) + secs(6_930);
    let k = first_id(initiator);

    pair.run_to(t);
    assert_eq!(
        host(&pair, initiator).endpoint.phase_states(),
        (Rekeying, Up)
    );
    assert_eq!(host(&pair, responder).endpoint.phase_states(), (Up, Up));
    pair.run_to(t + secs(1));
    let new = agreed_ike(&pair);
    assert!(
        new.0 != old.0 && new.1 != old.1,
        "new SPIs: {old:x?} → {new:x?}"
    );
    assert_eq!(
        agreed_child(&pair, initiator),
        child_sa,
        "the CHILD SA moved over as it was"
    );
    let rekeyed = IkeSaRekeyed {
        spi_i: new.0,
        spi_r: new.1,
    };
    assert_eq!(
        log(&pair, initiator, m),
        [
            (
                t,
                IkeSaRekeying {
                    spi_i: old.0,
                    spi_r: old.1
                },
                Rekeying,
                Up
            ),
            (t, CreateChildRequestSent { id: k }, Rekeying, Up),
            (t + ms(20), CreateChildResponseProcessed { id: k }, Up, Up),
            (t + ms(20), rekeyed.clone(), Up, Up),
        ]
    );
    assert_eq!(
        log(&pair, responder, m),
        [
            (
                t + ms(10),
                CreateChildRequestProcessed { id: k },
                Rekeying,
                Up
            ),
            (
                t + ms(10),
                IkeSaRekeying {
                    spi_i: old.0,
                    spi_r: old.1
                },
                Rekeying,
                Up
            ),
            (t + ms(10), CreateChildResponseSent { id: k }, Up, Up),
            (t + ms(10), rekeyed, Up, Up),
            (t + ms(30), IkeSaDeleteReceived, Up, Up),
        ]
    );

    use PayloadType as P;
    let flag = initiator == Cgw;
    let (i, r) = (sent(&pair, initiator, m), sent(&pair, responder, m));
    assert_eq!((i.len(), r.len()), (2, 2));
    assert_eq!(header(&i[0]), (CCSA, old, k, flag, false));
    let request = open(&pair, &i[0]);
    assert_eq!(
        types(&request),
        [P::SA, P::NONCE, P::KE],
        "no REKEY_SA, no selectors"
    );
    assert_eq!(
        ike_spi(&request),
        new.0,
        "the rekey's initiator is SPIi of the new SA"
    );
    assert_eq!(ke(&request).map(|k| k.group), Some(DhGroup::ECP_384));
    assert_eq!(header(&r[0]), (CCSA, old, k, !flag, true));
    let response = open(&pair, &r[0]);
    assert_eq!(types(&response), [P::SA, P::NONCE, P::KE]);
    assert_eq!((proposals(&response).len(), ike_spi(&response)), (1, new.1));
    assert_eq!(header(&i[1]), (INFO, old, k + 1, flag, false));
    assert_eq!(open(&pair, &i[1]), [Payload::Delete(Delete::ike())]);
    assert_eq!(header(&r[1]), (INFO, old, k + 1, !flag, true));
    assert_eq!(open(&pair, &r[1]), []);
    // Nothing is left of the old IKE SA on either side.
    forgotten(&mut pair, responder, &i[1]);
    forgotten(&mut pair, initiator, &r[1]);

    // The CHILD SA's rekey runs on the new IKE SA, from message id 0, with the rekey's
    // initiator as the new SA's original initiator (§2.18).
    let m = mark(&pair);
    let t = up(initiator) + secs(9_730);
    pair.run_to(t + secs(1));
    let (new_in, new_out) = agreed_child(&pair, initiator);
    let i = sent(&pair, initiator, m);
    assert_eq!(i.len(), 2);
    assert_eq!(header(&i[0]), (CCSA, new, 0, true, false));
    assert_eq!(header(&i[1]), (INFO, new, 1, true, false));
    assert_eq!(open(&pair, &i[1]), [delete_esp(child_sa.0)]);
    assert_eq!(
        log(&pair, initiator, m),
        [
            (t, CreateChildRequestSent { id: 0 }, Up, Rekeying),
            (
                t + ms(20),
                CreateChildResponseProcessed { id: 0 },
                Up,
                Rekeying
            ),
            (
                t + ms(20),
                ChildSaRekeyed {
                    old_spi_in: child_sa.0,
                    spi_in: new_in,
                    spi_out: new_out
                },
                Up,
                Up
            ),
            (t + ms(20), ChildSaDeleteSent { spi_in: child_sa.0 }, Up, Up),
            (
                t + ms(40),
                ChildSaDeleted {
                    spi_in: child_sa.0,
                    spi_out: child_sa.1
                },
                Up,
                Up
            ),
        ]
    );
    assert_eq!(
        log(&pair, responder, m)[0],
        (
            t + ms(10),
            CreateChildRequestProcessed { id: 0 },
            Up,
            Rekeying
        )
    );
    assert_eq!(agreed_ike(&pair), new);
}

#[test]
fn aws_rekeys_the_ike_sa() {
    ike_rekey_by(Aws);
}

#[test]
fn cgw_rekeys_the_ike_sa() {
    ike_rekey_by(Cgw);
}

// ---------------------------------------------------------------------------------------
// 4. Collisions
// ---------------------------------------------------------------------------------------

/// When each side sends its request in the simultaneous-rekey tests: AWS at up + x, the
/// CGW 5 ms later (its SAs came up 10 ms later, its margin is 5 ms larger), so both
/// requests are on the wire at once.
fn crossing(side: Side, t: Duration) -> Duration {
    match side {
        Aws => t,
        Cgw => t + ms(5),
    }
}

/// Simultaneous CHILD SA rekeys (RFC 7296 §2.8.1), for a pair of seeds that makes `loser`'s
/// exchange hold the lowest of the four nonces.
///
/// ```text
/// CGW                                                              AWS
///  |            /------ CREATE_CHILD_SA #0 {REKEY_SA(c1), Ni_a} -------|  3,330.030
///  |-- CREATE_CHILD_SA #2 {REKEY_SA(c1), Ni_c} --\  /                  |  3,330.035
///  |<-------------------------------------------- \/                   |  CGW answers AWS's at .040:
///  |-- CREATE_CHILD_SA #0 response {Nr_c} ------- /\ ----------------->|    ChildSaRekeyed (c1 → c_r)
///  |                                             /  \----------------->|  AWS answers the CGW's at .045:
///  |<-- CREATE_CHILD_SA #2 response {Nr_a} ----------------------------|    ChildSaRekeyed (c1 → a_r)
///  |   lowest of {Ni_a, Nr_c} vs {Ni_c, Nr_a}: that exchange made the redundant SA  |
///  |   loser:  RedundantChildSaDeleted, deletes the SA its exchange made            |
///  |   winner: ChildSaRekeyed (c1 → its own SA), deletes c1                         |
///  |<-> INFORMATIONAL {D(redundant)} and INFORMATIONAL {D(c1)}, each answered ------>|
/// ```
fn simultaneous_child_rekeys(aws_seed: u64, cgw_seed: u64, loser: Side) {
    let winner = loser.peer();
    let aws = aws().child_rekey_after(secs(3_600), secs(3_330));
    let cgw = cgw(ESP_PFS).child_rekey_after(secs(3_600), secs(3_330) - ms(5));
    let mut pair = established(aws, cgw, aws_seed, cgw_seed);
    let ike = agreed_ike(&pair);
    let old_in = |side| child(&pair, side).0;
    let old = [old_in(Aws), old_in(Cgw)];
    let m = mark(&pair);
    pair.run_to(secs(3_331));

    // The four messages of the two crossing exchanges.
    let t = up(Aws) + secs(3_330);
    let request = |pair: &Pair, side| {
        sent(pair, side, m)
            .into_iter()
            .find(|d| header(d).0 == CCSA && !header(d).4)
    };
    let response = |pair: &Pair, side| {
        sent(pair, side, m)
            .into_iter()
            .find(|d| header(d).0 == CCSA && header(d).4)
    };
    let mut ni = [Vec::new(), Vec::new()];
    let mut nr = [Vec::new(), Vec::new()];
    let mut own_new = [0; 2]; // the inbound SPI each side chose for its own exchange's SA
    let mut peer_new = [0; 2]; // … and for the peer's exchange's SA
    for side in [Aws, Cgw] {
        let req = request(&pair, side).expect("a rekey request");
        let resp = response(&pair, side).expect("an answer to the peer's");
        assert_eq!(
            header(&req),
            (CCSA, ike, first_id(side), side == Cgw, false)
        );
        assert_eq!(
            req.at,
            crossing(side, t),
            "{side:?} sent before it heard the peer's"
        );
        assert_eq!(resp.at, crossing(side.peer(), t) + ms(10));
        assert_eq!(header(&resp).2, first_id(side.peer()));
        let (req, resp) = (open(&pair, &req), open(&pair, &resp));
        assert_eq!(
            notify(&req, NotifyType::REKEY_SA).map(|n| n.spi.clone()),
            Some(old[idx(side)].to_be_bytes().to_vec())
        );
        ni[idx(side)] = nonce(&req);
        nr[idx(side)] = nonce(&resp);
        own_new[idx(side)] = esp_spi(&req);
        peer_new[idx(side)] = esp_spi(&resp);
    }
    // AWS's exchange is {Ni_a, Nr_c}, the CGW's {Ni_c, Nr_a}.
    let lowest = |side: Side| ni[idx(side)].clone().min(nr[idx(side.peer())].clone());
    let expected_loser = if lowest(Aws) < lowest(Cgw) { Aws } else { Cgw };
    assert_eq!(
        expected_loser, loser,
        "these seeds should make {loser:?}'s exchange the redundant one"
    );

    // Exactly one CHILD SA survives, the winner's exchange's, and both sides agree on it.
    assert_eq!(
        agreed_child(&pair, winner),
        (own_new[idx(winner)], peer_new[idx(loser)])
    );
    for side in [Aws, Cgw] {
        let s = idx(side);
        let (p, peer) = (idx(side.peer()), side.peer());
        let own_done = crossing(side, t) + ms(20);
        let outcome = if side == loser {
            RedundantChildSaDeleted { spi_in: own_new[s] }
        } else {
            ChildSaRekeyed {
                old_spi_in: old[s],
                spi_in: own_new[s],
                spi_out: peer_new[p],
            }
        };
        // The loser deletes its redundant SA, the winner the old one; each hears the other's.
        let deleted = if side == loser { old[p] } else { own_new[p] };
        // What our own DELETE removed, confirmed by the peer's answer.
        let (gone_in, gone_out) = if side == loser {
            (own_new[s], peer_new[p])
        } else {
            (old[s], old[p])
        };
        assert_eq!(
            log(&pair, side, m),
            [
                (
                    crossing(side, t),
                    CreateChildRequestSent { id: first_id(side) },
                    Up,
                    Rekeying
                ),
                (
                    crossing(peer, t) + ms(10),
                    CreateChildRequestProcessed { id: first_id(peer) },
                    Up,
                    Rekeying
                ),
                (
                    crossing(peer, t) + ms(10),
                    CreateChildResponseSent { id: first_id(peer) },
                    Up,
                    Up
                ),
                (
                    crossing(peer, t) + ms(10),
                    ChildSaRekeyed {
                        old_spi_in: old[s],
                        spi_in: peer_new[s],
                        spi_out: own_new[p]
                    },
                    Up,
                    Up
                ),
                (
                    own_done,
                    CreateChildResponseProcessed { id: first_id(side) },
                    Up,
                    Up
                ),
                (own_done, outcome, Up, Up),
                (
                    crossing(peer, t) + ms(30),
                    ChildSaDeleteReceived { spi: deleted },
                    Up,
                    Up
                ),
                (
                    own_done + ms(20),
                    ChildSaDeleted {
                        spi_in: gone_in,
                        spi_out: gone_out
                    },
                    Up,
                    Up
                ),
            ],
            "{side:?}"
        );
        let delete = sent(&pair, side, m)
            .into_iter()
            .find(|d| header(d).0 == INFO && !header(d).4);
        let delete = delete.expect("a DELETE");
        assert_eq!(
            header(&delete),
            (INFO, ike, first_id(side) + 1, side == Cgw, false)
        );
        let gone = if side == loser { own_new[s] } else { old[s] };
        assert_eq!(open(&pair, &delete), [delete_esp(gone)], "{side:?}");
        assert_eq!(host(&pair, side).endpoint.phase_states(), (Up, Up));
    }
    assert_eq!(agreed_ike(&pair), ike);
}

#[test]
fn simultaneous_child_rekeys_cgw_exchange_has_the_lowest_nonce() {
    simultaneous_child_rekeys(0, 100, Cgw);
}

#[test]
fn simultaneous_child_rekeys_aws_exchange_has_the_lowest_nonce() {
    simultaneous_child_rekeys(3, 103, Aws);
}

/// The CGW's CHILD SA reaches the end of its lifetime (it does not rekey) just as AWS
/// starts rekeying it: the DELETE and the CREATE_CHILD_SA cross (RFC 7296 §2.25.1), with
/// the DELETE leaving `delete_after` the rekey request (negative: before it).
///
/// ```text
/// CGW (no rekey)                                        AWS
///  |                          /-- CREATE_CHILD_SA #0 {REKEY_SA(c1)} --|  CreateChildRequestSent  up/rekeying
///  |-- INFORMATIONAL #2 {D(c1)} -\  /                                 |
///  |  ChildSaDeleteSent  up/down  \/                                  |
///  |<----------------------------/  \-------------------------------->|  a DELETE for the SA being rekeyed:
///  |  c1 is being deleted:                                            |  ChildRekeyCollisionDelete  up/down
///  |-- CREATE_CHILD_SA #0 response {N(CHILD_SA_NOT_FOUND)} -\  /------|  INFORMATIONAL #2 response {D(a1)}
///  |<-------------------------------------------------------- \/ ---->|  ChildSaFailed{CHILD_SA_NOT_FOUND}
///  |   phase 2 down on both sides, the IKE SA up                      |
/// ```
fn delete_crossing_a_child_rekey(delete_ms: i64) {
    let t = up(Aws) + secs(3_330);
    let d = if delete_ms >= 0 {
        t + ms(delete_ms.unsigned_abs())
    } else {
        t - ms(delete_ms.unsigned_abs())
    };
    let aws = aws().child_rekey_after(secs(3_600), secs(3_330));
    let cgw = cgw(ESP_PFS)
        .with_lifetimes(exact_lifetimes(secs(28_800), d - up(Cgw), secs(270)))
        .no_rekey();
    let mut pair = established(aws, cgw, 7, 8);
    let ike = agreed_ike(&pair);
    let (a1, c1) = agreed_child(&pair, Aws);
    let m = mark(&pair);
    pair.run_to(secs(4_000));

    assert_eq!(
        log(&pair, Aws, m),
        [
            (t, CreateChildRequestSent { id: 0 }, Up, Rekeying),
            (d + ms(10), ChildRekeyCollisionDelete { spi: c1 }, Up, Down),
            (t + ms(20), CreateChildResponseProcessed { id: 0 }, Up, Down),
            (
                t + ms(20),
                ChildSaFailed {
                    failure: ChildFailure::Notified(NotifyType::CHILD_SA_NOT_FOUND)
                },
                Up,
                Down
            ),
        ]
    );
    assert_eq!(
        log(&pair, Cgw, m),
        [
            (d, ChildSaDeleteSent { spi_in: c1 }, Up, Down),
            (t + ms(10), CreateChildRequestProcessed { id: 0 }, Up, Down),
            (t + ms(10), CreateChildResponseSent { id: 0 }, Up, Down),
            (
                d + ms(20),
                ChildSaDeleted {
                    spi_in: c1,
                    spi_out: a1
                },
                Up,
                Down
            ),
        ]
    );
    let (a, c) = (sent(&pair, Aws, m), sent(&pair, Cgw, m));
    assert_eq!(
        (a.len(), c.len()),
        (2, 2),
        "no retry, nothing more until the IKE SA's own timers"
    );
    let rekey = a.iter().find(|d| header(d).0 == CCSA).expect("AWS's rekey");
    assert_eq!(
        notify(&open(&pair, rekey), NotifyType::REKEY_SA).map(|n| n.spi.clone()),
        Some(a1.to_be_bytes().to_vec())
    );
    let refusal = c
        .iter()
        .find(|d| header(d).0 == CCSA)
        .expect("the CGW's answer");
    assert_eq!(header(refusal), (CCSA, ike, 0, true, true));
    assert_eq!(types(&open(&pair, refusal)), [PayloadType::NOTIFY]);
    let not_found = open(&pair, refusal);
    let not_found = notify(&not_found, NotifyType::CHILD_SA_NOT_FOUND).expect("CHILD_SA_NOT_FOUND");
    assert_eq!(
        (not_found.protocol, &not_found.spi[..]),
        (ProtocolId::ESP, &a1.to_be_bytes()[..]),
        "names the SA (§3.10)"
    );
    let delete = c
        .iter()
        .find(|d| header(d).0 == INFO)
        .expect("the CGW's DELETE");
    assert_eq!(
        (header(delete), delete.at),
        ((INFO, ike, 2, true, false), d)
    );
    assert_eq!(open(&pair, delete), [delete_esp(c1)]);
    // AWS answers the DELETE as usual, with its half, while its rekey of it is in flight.
    let answer = a
        .iter()
        .find(|d| header(d).0 == INFO)
        .expect("AWS's answer");
    assert_eq!(
        (header(answer), open(&pair, answer)),
        ((INFO, ike, 2, false, true), vec![delete_esp(a1)])
    );

    for side in [Aws, Cgw] {
        assert_eq!(
            host(&pair, side).endpoint.phase_states(),
            (Up, Down),
            "{side:?}"
        );
        assert!(host(&pair, side).endpoint.child_sas().is_empty());
    }
    assert_eq!(agreed_ike(&pair), ike, "the IKE SA stays up");
}

#[test]
fn delete_leaving_just_after_a_child_rekey_request_crosses_it() {
    delete_crossing_a_child_rekey(5);
}

#[test]
fn delete_leaving_just_before_a_child_rekey_request_crosses_it() {
    delete_crossing_a_child_rekey(-3);
}

/// The boundary of the crossing: the CGW's DELETE arrives before AWS's rekey timer fires,
/// so there is nothing left to rekey and no CREATE_CHILD_SA at all.
///
/// ```text
/// CGW (no rekey)                                   AWS (rekey due at 3,330.030)
///  |-- INFORMATIONAL #2 {D(c1)} ------------------->|  3,330.025: ChildSaDeleteReceived  up/down
///  |<-- INFORMATIONAL #2 response {D(a1)} ----------|
/// ```
#[test]
fn delete_arriving_before_the_rekey_timer_leaves_nothing_to_rekey() {
    let t = up(Aws) + secs(3_330);
    let d = t - ms(15);
    let aws = aws().child_rekey_after(secs(3_600), secs(3_330));
    let cgw = cgw(ESP_PFS)
        .with_lifetimes(exact_lifetimes(secs(28_800), d - up(Cgw), secs(270)))
        .no_rekey();
    let mut pair = established(aws, cgw, 7, 8);
    let (a1, c1) = agreed_child(&pair, Aws);
    let m = mark(&pair);
    pair.run_to(secs(4_000));
    assert_eq!(
        log(&pair, Aws, m),
        [(d + ms(10), ChildSaDeleteReceived { spi: c1 }, Up, Down)]
    );
    assert_eq!(
        log(&pair, Cgw, m),
        [
            (d, ChildSaDeleteSent { spi_in: c1 }, Up, Down),
            (
                d + ms(20),
                ChildSaDeleted {
                    spi_in: c1,
                    spi_out: a1
                },
                Up,
                Down
            ),
        ]
    );
    assert!(pair.aws.sent_of(CCSA, false).is_empty() && pair.cgw.sent_of(CCSA, true).is_empty());
}

/// Simultaneous CHILD SA rekeys where AWS's request is lost: the CGW's exchange completes
/// and it deletes the old SA while AWS still waits for its answer; AWS's retransmission
/// then finds the SA gone (§2.25). One SA survives, the CGW's exchange's.
///
/// ```text
/// CGW                                                              AWS
///  |    X---------------- CREATE_CHILD_SA #0 {REKEY_SA(c1)} -----------|  3,330.030 (lost)
///  |-- CREATE_CHILD_SA #2 {REKEY_SA(c1)} ----------------------------->|  answered: ChildSaRekeyed (c1 → a2)
///  |<-- CREATE_CHILD_SA #2 response -----------------------------------|
///  |  ChildSaRekeyed (c1 → c2), ChildSaDeleteSent                      |
///  |-- INFORMATIONAL #3 {D(c1)} -------------------------------------->|  ChildRekeyCollisionDelete
///  |<-- INFORMATIONAL #3 response {D(a1)} -----------------------------|
///  |<-- CREATE_CHILD_SA #0 {REKEY_SA(c1)} (retransmission) ------------|  3,334.030
///  |-- CREATE_CHILD_SA #0 response {N(CHILD_SA_NOT_FOUND)} ----------->|  ChildSaFailed; a2/c2 stays
/// ```
#[test]
fn simultaneous_child_rekeys_with_a_lost_request() {
    let aws = aws().child_rekey_after(secs(3_600), secs(3_330));
    let cgw = cgw(ESP_PFS).child_rekey_after(secs(3_600), secs(3_330) - ms(5));
    let mut pair = established(aws, cgw, 1, 2);
    let (a1, c1) = agreed_child(&pair, Aws);
    let m = mark(&pair);
    let lost = m.sent[0];
    pair.aws.drop = drop_nth(&[lost]);
    pair.run_to(secs(3_340));

    let t = up(Aws) + secs(3_330);
    let (a2, c2) = agreed_child(&pair, Aws);
    assert_eq!(
        log(&pair, Aws, m),
        [
            (t, CreateChildRequestSent { id: 0 }, Up, Rekeying),
            (
                t + ms(15),
                CreateChildRequestProcessed { id: 2 },
                Up,
                Rekeying
            ),
            (t + ms(15), CreateChildResponseSent { id: 2 }, Up, Up),
            (
                t + ms(15),
                ChildSaRekeyed {
                    old_spi_in: a1,
                    spi_in: a2,
                    spi_out: c2
                },
                Up,
                Up
            ),
            (t + ms(35), ChildRekeyCollisionDelete { spi: c1 }, Up, Up),
            (
                t + secs(4) + ms(20),
                CreateChildResponseProcessed { id: 0 },
                Up,
                Up
            ),
            (
                t + secs(4) + ms(20),
                ChildSaFailed {
                    failure: ChildFailure::Notified(NotifyType::CHILD_SA_NOT_FOUND)
                },
                Up,
                Up
            ),
        ]
    );
    assert_eq!(
        log(&pair, Cgw, m),
        [
            (t + ms(5), CreateChildRequestSent { id: 2 }, Up, Rekeying),
            (
                t + ms(25),
                CreateChildResponseProcessed { id: 2 },
                Up,
                Rekeying
            ),
            (
                t + ms(25),
                ChildSaRekeyed {
                    old_spi_in: c1,
                    spi_in: c2,
                    spi_out: a2
                },
                Up,
                Up
            ),
            (t + ms(25), ChildSaDeleteSent { spi_in: c1 }, Up, Up),
            (
                t + ms(45),
                ChildSaDeleted {
                    spi_in: c1,
                    spi_out: a1
                },
                Up,
                Up
            ),
            (
                t + secs(4) + ms(10),
                CreateChildRequestProcessed { id: 0 },
                Up,
                Up
            ),
            (
                t + secs(4) + ms(10),
                CreateChildResponseSent { id: 0 },
                Up,
                Up
            ),
        ]
    );
    let requests = pair.aws.sent_of(CCSA, false);
    assert_eq!(requests.len(), 2);
    assert_eq!((requests[0].at, requests[1].at), (t, t + secs(4)));
    assert!(
        requests[0].dropped && requests[0].bytes == requests[1].bytes,
        "a retransmission"
    );
    let refusal = pair
        .cgw
        .sent_of(CCSA, true)
        .last()
        .map(|d| open(&pair, d))
        .expect("the CGW's answer");
    assert!(
        notify(&refusal, NotifyType::CHILD_SA_NOT_FOUND).is_some(),
        "{refusal:?}"
    );
    for side in [Aws, Cgw] {
        assert_eq!(host(&pair, side).endpoint.phase_states(), (Up, Up));
    }
}

/// Simultaneous IKE SA rekeys (RFC 7296 §2.8.1 applies to IKE SAs too), for a pair of
/// seeds that makes `loser`'s exchange hold the lowest nonce.
///
/// ```text
/// CGW                                                              AWS
///  |            /------ CREATE_CHILD_SA #0 {SA(IKE, a'), Ni_a, KE} -----|  6,930.030
///  |-- CREATE_CHILD_SA #2 {SA(IKE, c'), Ni_c, KE} -\  /                 |  6,930.035
///  |<---------------------------------------------- \/                  |  each answers the other's:
///  |-- response {SA(IKE, c''), Nr_c} -------------- /\ --------------->|  IkeSaRekeyed (the peer's new SA;
///  |<-- response {SA(IKE, a''), Nr_a} -------------/  \----------------|  the CHILD SA stays put for now)
///  |   the exchange with the lowest nonce made the redundant IKE SA:                |
///  |   loser:  hands the CHILD SA to the winner's new SA, deletes its own new SA     |
///  |           (INFORMATIONAL #0 on it)                                             |
///  |   winner: IkeSaRekeyed (its own new SA, with the CHILD SA), deletes the old SA  |
///  |           (INFORMATIONAL #k+1 on it)                                           |
///  |   each: IkeSaDeleteReceived for the SA the other deleted                       |
/// ```
fn simultaneous_ike_rekeys(aws_seed: u64, cgw_seed: u64, loser: Side) {
    let winner = loser.peer();
    let aws = aws().with_lifetimes(exact_lifetimes(secs(7_200), secs(10_000), secs(270)));
    let cgw = cgw(ESP_PFS).with_lifetimes(exact_lifetimes(
        secs(7_200),
        secs(20_000),
        secs(270) + ms(5),
    ));
    let mut pair = established(aws, cgw, aws_seed, cgw_seed);
    let old = agreed_ike(&pair);
    let child_sa = agreed_child(&pair, Aws);
    let m = mark(&pair);
    let t = up(Aws) + secs(6_930);
    pair.run_to(t + secs(1));

    let mut ni = [Vec::new(), Vec::new()];
    let mut nr = [Vec::new(), Vec::new()];
    let mut own_spi = [0; 2]; // the SPI each side chose as initiator of its own exchange
    let mut peer_spi = [0; 2]; // … and as responder to the peer's
    for side in [Aws, Cgw] {
        let out = sent(&pair, side, m);
        let req = out
            .iter()
            .find(|d| header(d).0 == CCSA && !header(d).4)
            .expect("a rekey request");
        let resp = out
            .iter()
            .find(|d| header(d).0 == CCSA && header(d).4)
            .expect("an answer to the peer's");
        assert_eq!(
            (header(req), req.at),
            (
                (CCSA, old, first_id(side), side == Cgw, false),
                crossing(side, t)
            )
        );
        assert_eq!(resp.at, crossing(side.peer(), t) + ms(10));
        let (req, resp) = (open(&pair, req), open(&pair, resp));
        ni[idx(side)] = nonce(&req);
        nr[idx(side)] = nonce(&resp);
        own_spi[idx(side)] = ike_spi(&req);
        peer_spi[idx(side)] = ike_spi(&resp);
    }
    let lowest = |side: Side| ni[idx(side)].clone().min(nr[idx(side.peer())].clone());
    let expected_loser = if lowest(Aws) < lowest(Cgw) { Aws } else { Cgw };
    assert_eq!(
        expected_loser, loser,
        "these seeds should make {loser:?}'s exchange the redundant one"
    );
    let (w, l) = (idx(winner), idx(loser));
    let survivor = (own_spi[w], peer_spi[l]);
    let redundant = (own_spi[l], peer_spi[w]);

    // Exactly one new IKE SA, the winner's exchange's, on both sides, carrying the CHILD SA.
    assert_eq!(agreed_ike(&pair), survivor);
    assert_eq!(agreed_child(&pair, Aws), child_sa);
    for side in [Aws, Cgw] {
        let (s, peer) = (idx(side), side.peer());
        let own_done = crossing(side, t) + ms(20);
        let mut expected = vec![
            (
                crossing(side, t),
                IkeSaRekeying {
                    spi_i: old.0,
                    spi_r: old.1,
                },
                Rekeying,
                Up,
            ),
            (
                crossing(side, t),
                CreateChildRequestSent { id: first_id(side) },
                Rekeying,
                Up,
            ),
            (
                crossing(peer, t) + ms(10),
                CreateChildRequestProcessed { id: first_id(peer) },
                Rekeying,
                Up,
            ),
            (
                crossing(peer, t) + ms(10),
                CreateChildResponseSent { id: first_id(peer) },
                Rekeying,
                Up,
            ),
            (
                crossing(peer, t) + ms(10),
                IkeSaRekeyed {
                    spi_i: own_spi[idx(peer)],
                    spi_r: peer_spi[s],
                },
                Up,
                Up,
            ),
            (
                own_done,
                CreateChildResponseProcessed { id: first_id(side) },
                Up,
                Up,
            ),
        ];
        if side == winner {
            expected.push((
                own_done,
                IkeSaRekeyed {
                    spi_i: survivor.0,
                    spi_r: survivor.1,
                },
                Up,
                Up,
            ));
        }
        expected.push((crossing(peer, t) + ms(30), IkeSaDeleteReceived, Up, Up));
        assert_eq!(log(&pair, side, m), expected, "{side:?}");
    }
    // The loser deletes the redundant SA on that SA (its first request there); the winner
    // deletes the old one.
    let delete = |pair: &Pair, side| {
        sent(pair, side, m)
            .into_iter()
            .find(|d| header(d).0 == INFO && !header(d).4)
    };
    let answer = |pair: &Pair, side| {
        sent(pair, side, m)
            .into_iter()
            .find(|d| header(d).0 == INFO && header(d).4)
    };
    let (wd, ld) = (
        delete(&pair, winner).expect("winner's DELETE"),
        delete(&pair, loser).expect("loser's DELETE"),
    );
    assert_eq!(
        header(&wd),
        (INFO, old, first_id(winner) + 1, winner == Cgw, false)
    );
    assert_eq!(header(&ld), (INFO, redundant, 0, true, false));
    for d in [&wd, &ld] {
        assert_eq!(open(&pair, d), [Payload::Delete(Delete::ike())]);
    }
    // No orphan: neither side knows the old or the redundant IKE SA any more.
    let (wa, la) = (
        answer(&pair, winner).expect("winner's answer"),
        answer(&pair, loser).expect("loser's answer"),
    );
    forgotten(&mut pair, loser, &wd);
    forgotten(&mut pair, winner, &ld);
    forgotten(&mut pair, winner, &la);
    forgotten(&mut pair, loser, &wa);

    // The survivor works: AWS's CHILD SA rekey runs on it from message id 0.
    let m = mark(&pair);
    pair.run_to(up(Aws) + secs(9_731));
    let a = sent(&pair, Aws, m);
    assert_eq!(header(&a[0]), (CCSA, survivor, 0, winner == Aws, false));
    assert_ne!(agreed_child(&pair, Aws), child_sa);
    assert!(log(&pair, Aws, m)
        .iter()
        .any(|(_, k, ..)| matches!(k, ChildSaRekeyed { .. })));
    assert_eq!(agreed_ike(&pair), survivor);
}

#[test]
fn simultaneous_ike_rekeys_aws_exchange_has_the_lowest_nonce() {
    simultaneous_ike_rekeys(0, 100, Aws);
}

#[test]
fn simultaneous_ike_rekeys_cgw_exchange_has_the_lowest_nonce() {
    simultaneous_ike_rekeys(1, 101, Cgw);
}

/// Simultaneous IKE SA rekeys where AWS's request is lost: AWS answers the CGW's while its
/// own is outstanding (keeping the CHILD SA until the nonces could decide), then the CGW
/// completes and deletes the old IKE SA. The DELETE settles it (§2.25.2: forget our own
/// rekey): the CHILD SA must go to the CGW's new IKE SA, not down with the old one.
///
/// ```text
/// CGW                                                              AWS
///  |    X------------ CREATE_CHILD_SA #0 {SA(IKE), Ni_a, KE} -----------|  6,930.030 (lost)
///  |-- CREATE_CHILD_SA #2 {SA(IKE, c'), Ni_c, KE} --------------------->|  answered while its own is out:
///  |<-- response {SA(IKE, a''), Nr_a, KE} ------------------------------|  IkeSaRekeyed, CHILD SA kept
///  |  IkeSaRekeyed (c', a''), CHILD SA moved                            |
///  |-- INFORMATIONAL #3 (old SPIs) {D(IKE)} --------------------------->|  IkeSaDeleteReceived: the CHILD SA
///  |<-- INFORMATIONAL #3 response --------------------------------------|  goes to (c', a''); own rekey dropped
/// ```
#[test]
fn simultaneous_ike_rekeys_with_a_lost_request() {
    let aws = aws().with_lifetimes(exact_lifetimes(secs(7_200), secs(30_000), secs(270)));
    let cgw = cgw(ESP_PFS).with_lifetimes(exact_lifetimes(
        secs(7_200),
        secs(30_000),
        secs(270) + ms(5),
    ));
    let mut pair = established(aws, cgw, 1, 2);
    let old = agreed_ike(&pair);
    let child_sa = agreed_child(&pair, Aws);
    let m = mark(&pair);
    pair.aws.drop = drop_nth(&[m.sent[0]]);
    let t = up(Aws) + secs(6_930);
    pair.run_to(t + secs(60));

    let new = agreed_ike(&pair);
    assert_ne!(new, old);
    assert_eq!(
        agreed_child(&pair, Aws),
        child_sa,
        "the CHILD SA lives on, on the new IKE SA"
    );
    let rekeyed = IkeSaRekeyed {
        spi_i: new.0,
        spi_r: new.1,
    };
    assert_eq!(
        log(&pair, Aws, m),
        [
            (
                t,
                IkeSaRekeying {
                    spi_i: old.0,
                    spi_r: old.1
                },
                Rekeying,
                Up
            ),
            (t, CreateChildRequestSent { id: 0 }, Rekeying, Up),
            (
                t + ms(15),
                CreateChildRequestProcessed { id: 2 },
                Rekeying,
                Up
            ),
            (t + ms(15), CreateChildResponseSent { id: 2 }, Rekeying, Up),
            (t + ms(15), rekeyed.clone(), Up, Up),
            (t + ms(35), IkeSaDeleteReceived, Up, Up),
        ]
    );
    assert_eq!(
        log(&pair, Cgw, m),
        [
            (
                t + ms(5),
                IkeSaRekeying {
                    spi_i: old.0,
                    spi_r: old.1
                },
                Rekeying,
                Up
            ),
            (t + ms(5), CreateChildRequestSent { id: 2 }, Rekeying, Up),
            (t + ms(25), CreateChildResponseProcessed { id: 2 }, Up, Up),
            (t + ms(25), rekeyed, Up, Up),
        ]
    );
    assert_eq!(
        pair.aws.endpoint.stats().retransmits,
        0,
        "AWS forgot its own rekey"
    );
    let delete = pair.cgw.sent_of(INFO, false)[0].clone();
    assert_eq!(header(&delete), (INFO, old, 3, true, false));
    forgotten(&mut pair, Aws, &delete);
}

/// An IKE SA rekey crossing a CHILD SA rekey on it, `ike` rekeying the IKE SA and its peer
/// the CHILD SA 5 ms later. The CHILD rekey's initiator answers the IKE rekey with
/// TEMPORARY_FAILURE (RFC 7296 §2.25: a temporary condition; strongSwan does the same),
/// its CHILD rekey completes on the old IKE SA, and the IKE rekey is retried 5–10 s later,
/// moving the new CHILD SA.
///
/// ```text
/// child side                                                     ike side
///  |            /----- CREATE_CHILD_SA {SA(IKE), Ni, KE} ---------------|  up + 6,930 s   rekeying/up
///  |-- CREATE_CHILD_SA {REKEY_SA(c1), ...} -\  /                        |  + 5 ms
///  |<---------------------------------------- \/                        |
///  |-- response {N(TEMPORARY_FAILURE)} ------ /\ --------------------->|  answered as usual: ChildSaRekeyed
///  |<-- response {SA(ESP), Nr, KE, TS} -------/  \---------------------|
///  |  ChildSaRekeyed, DELETE(c1) ------------------------------------->|  IkeRekeyFailed{TEMPORARY_FAILURE}
///  |                        … 5–10 s …                                  |
///  |<-- CREATE_CHILD_SA {SA(IKE), Ni, KE} (retry) ----------------------|
///  |-- response {SA(IKE), Nr, KE} ------------------------------------->|  IkeSaRekeyed, DELETE(old IKE SA)
/// ```
fn ike_rekey_crossing_a_child_rekey(ike: Side) {
    let other = ike.peer();
    let t = up(ike) + secs(6_930);
    let tc = t + ms(5);
    let (aws, cgw) = configs(
        aws(),
        cgw(ESP_PFS),
        ike,
        |c| c.with_lifetimes(exact_lifetimes(secs(7_200), secs(30_000), secs(270))),
        |c| {
            c.with_lifetimes(exact_lifetimes(
                secs(28_800),
                secs(7_200),
                up(other) + secs(7_200) - tc,
            ))
        },
    );
    let mut pair = established(aws, cgw, 1, 2);
    let old = agreed_ike(&pair);
    let (i1, o1) = agreed_child(&pair, ike);
    let m = mark(&pair);
    pair.run_to(t + secs(20));

    let new = agreed_ike(&pair);
    assert_ne!(new, old);
    let (i2, o2) = agreed_child(&pair, ike);
    assert!(i2 != i1 && o2 != o1, "the CHILD SA was rekeyed");
    let (k, kc) = (first_id(ike), first_id(other));
    let retry = log(&pair, ike, m)
        .iter()
        .filter(|(_, e, ..)| matches!(e, CreateChildRequestSent { .. }))
        .nth(1)
        .map(|l| l.0);
    let r = retry.expect("the IKE rekey is retried");
    assert!(
        (t + ms(20) + secs(5)..=t + ms(20) + secs(10)).contains(&r),
        "retried after {:?}",
        r - t
    );
    assert_eq!(
        log(&pair, ike, m),
        [
            (
                t,
                IkeSaRekeying {
                    spi_i: old.0,
                    spi_r: old.1
                },
                Rekeying,
                Up
            ),
            (t, CreateChildRequestSent { id: k }, Rekeying, Up),
            (
                tc + ms(10),
                CreateChildRequestProcessed { id: kc },
                Rekeying,
                Rekeying
            ),
            (
                tc + ms(10),
                CreateChildResponseSent { id: kc },
                Rekeying,
                Up
            ),
            (
                tc + ms(10),
                ChildSaRekeyed {
                    old_spi_in: i1,
                    spi_in: i2,
                    spi_out: o2
                },
                Rekeying,
                Up
            ),
            (t + ms(20), CreateChildResponseProcessed { id: k }, Up, Up),
            (
                t + ms(20),
                IkeRekeyFailed {
                    notify: NotifyType::TEMPORARY_FAILURE
                },
                Up,
                Up
            ),
            (tc + ms(30), ChildSaDeleteReceived { spi: o1 }, Up, Up),
            (
                r,
                IkeSaRekeying {
                    spi_i: old.0,
                    spi_r: old.1
                },
                Rekeying,
                Up
            ),
            (r, CreateChildRequestSent { id: k + 1 }, Rekeying, Up),
            (
                r + ms(20),
                CreateChildResponseProcessed { id: k + 1 },
                Up,
                Up
            ),
            (
                r + ms(20),
                IkeSaRekeyed {
                    spi_i: new.0,
                    spi_r: new.1
                },
                Up,
                Up
            ),
        ]
    );
    assert_eq!(
        log(&pair, other, m),
        [
            (tc, CreateChildRequestSent { id: kc }, Up, Rekeying),
            (
                t + ms(10),
                CreateChildRequestProcessed { id: k },
                Rekeying,
                Rekeying
            ),
            (t + ms(10), CreateChildResponseSent { id: k }, Up, Rekeying),
            (
                tc + ms(20),
                CreateChildResponseProcessed { id: kc },
                Up,
                Rekeying
            ),
            (
                tc + ms(20),
                ChildSaRekeyed {
                    old_spi_in: o1,
                    spi_in: o2,
                    spi_out: i2
                },
                Up,
                Up
            ),
            (tc + ms(20), ChildSaDeleteSent { spi_in: o1 }, Up, Up),
            (
                tc + ms(40),
                ChildSaDeleted {
                    spi_in: o1,
                    spi_out: i1
                },
                Up,
                Up
            ),
            (
                r + ms(10),
                CreateChildRequestProcessed { id: k + 1 },
                Rekeying,
                Up
            ),
            // Refused the first time (TEMPORARY_FAILURE: no rekey then), taken up now.
            (
                r + ms(10),
                IkeSaRekeying {
                    spi_i: old.0,
                    spi_r: old.1
                },
                Rekeying,
                Up
            ),
            (r + ms(10), CreateChildResponseSent { id: k + 1 }, Up, Up),
            (
                r + ms(10),
                IkeSaRekeyed {
                    spi_i: new.0,
                    spi_r: new.1
                },
                Up,
                Up
            ),
            (r + ms(30), IkeSaDeleteReceived, Up, Up),
        ]
    );
    let refusal = sent(&pair, other, m)
        .into_iter()
        .find(|d| header(d).0 == CCSA && header(d).2 == k);
    let refusal = refusal.expect("the answer to the first IKE rekey");
    assert_eq!(
        open(&pair, &refusal),
        lone_notify(NotifyType::TEMPORARY_FAILURE)
    );
}

#[test]
fn aws_ike_rekey_crossing_a_cgw_child_rekey() {
    ike_rekey_crossing_a_child_rekey(Aws);
}

#[test]
fn cgw_ike_rekey_crossing_an_aws_child_rekey() {
    ike_rekey_crossing_a_child_rekey(Cgw);
}

/// The CGW's IKE SA reaches the end of its lifetime (no rekey) just as AWS starts rekeying
/// it: the CGW answers the rekey of an SA it is deleting with TEMPORARY_FAILURE (RFC 7296
/// §2.25.2) instead of creating a new IKE SA that AWS would never hear of; AWS forgets
/// its rekey on the DELETE. Both sides end down, with nothing left over.
///
/// ```text
/// CGW (no rekey)                                               AWS
///  |                         /-- CREATE_CHILD_SA #0 {SA(IKE), Ni, KE} --|  6,930.030  rekeying/up
///  |-- INFORMATIONAL #2 {D(IKE)} -\  /                                  |  6,930.035
///  |  IkeSaDeleteSent  down/down   \/                                   |
///  |<-----------------------------/  \--------------------------------->|  IkeSaDeleteReceived  down/down
///  |-- response {N(TEMPORARY_FAILURE)} -\  /-- INFORMATIONAL #2 resp ---|
///  |<------------------------------------ \/ -------------------------->|  (no SA any more: dropped)
///  |  IkeSaDeleted  down/down                                           |
/// ```
#[test]
fn ike_sa_delete_crossing_an_ike_rekey() {
    let t = up(Aws) + secs(6_930);
    let aws = aws().with_lifetimes(exact_lifetimes(secs(7_200), secs(30_000), secs(270)));
    let cgw = cgw(ESP_PFS)
        .with_lifetimes(exact_lifetimes(
            t + ms(5) - up(Cgw),
            secs(30_000),
            secs(270),
        ))
        .no_rekey();
    let mut pair = established(aws, cgw, 1, 2);
    let ike = agreed_ike(&pair);
    let m = mark(&pair);
    let unmatched = pair.aws.endpoint.stats().unmatched;
    pair.run_to(t + secs(60));

    assert_eq!(
        log(&pair, Aws, m),
        [
            (
                t,
                IkeSaRekeying {
                    spi_i: ike.0,
                    spi_r: ike.1
                },
                Rekeying,
                Up
            ),
            (t, CreateChildRequestSent { id: 0 }, Rekeying, Up),
            (t + ms(15), IkeSaDeleteReceived, Down, Down)
        ]
    );
    assert_eq!(
        log(&pair, Cgw, m),
        [
            (t + ms(5), IkeSaDeleteSent, Down, Down),
            (
                t + ms(10),
                CreateChildRequestProcessed { id: 0 },
                Down,
                Down
            ),
            (t + ms(10), CreateChildResponseSent { id: 0 }, Down, Down),
            (t + ms(25), IkeSaDeleted, Down, Down),
        ]
    );
    let answer = pair.cgw.sent_of(CCSA, true)[0].clone();
    assert_eq!(header(&answer), (CCSA, ike, 0, true, true));
    assert_eq!(
        open(&pair, &answer),
        lone_notify(NotifyType::TEMPORARY_FAILURE)
    );
    assert_eq!(
        pair.aws.endpoint.stats().unmatched,
        unmatched + 1,
        "the answer found no SA"
    );
    for side in [Aws, Cgw] {
        let ep = &host(&pair, side).endpoint;
        assert_eq!(ep.phase_states(), (Down, Down), "{side:?}");
        assert!(ep.ike_sas().is_empty(), "{side:?}: {:?}", ep.ike_sas());
        assert_eq!(ep.poll_timeout(), None, "{side:?}: no SA left with a timer");
    }
}

// ---------------------------------------------------------------------------------------
// 5. DPD
// ---------------------------------------------------------------------------------------

/// AWS with DPD (timeout 30 s, `action`) and a CGW that goes silent once the tunnel is up.
fn silent_cgw(action: DpdAction) -> (Pair, Mark) {
    let aws = aws().with_dpd(DpdConfig::aws(secs(30), action));
    let mut pair = established(aws, cgw(ESP_PFS), 1, 2);
    pair.aws.drop = drop_all();
    pair.cgw.drop = drop_all();
    let m = mark(&pair);
    (pair, m)
}

/// AWS's liveness checks since `m`: (time, message id), each an empty INFORMATIONAL.
fn probes(pair: &Pair, m: Mark) -> Vec<(Duration, u32)> {
    let ike = first_ike(pair, Aws);
    sent(pair, Aws, m)
        .iter()
        .filter(|d| header(d).0 == INFO)
        .map(|d| {
            assert_eq!(
                header(d),
                (INFO, ike, header(d).2, false, false),
                "a request on the IKE SA"
            );
            assert_eq!(open(pair, d), [], "a liveness check is empty (§1.4)");
            (d.at, header(d).2)
        })
        .collect()
}

/// The IKE SA `side` had when the tunnel came up (from its IkeSaEstablished event).
fn first_ike(pair: &Pair, side: Side) -> (u64, u64) {
    host(pair, side)
        .events
        .iter()
        .find_map(|(_, e)| match e.kind {
            IkeSaEstablished { spi_i, spi_r, .. } => Some((spi_i, spi_r)),
            _ => None,
        })
        .expect("IKE SA established")
}

/// AWS's DPD against a silent peer (RFC 7296 §2.4 with AWS's timing): a liveness check
/// 10 s after the last message heard (the IKE_AUTH request, at 30 ms), resent every 10 s,
/// and the peer declared dead 30 s after the first: at +40 s, after 2 retransmissions.
///
/// ```text
/// CGW (silent)                    AWS (last heard the CGW at 0.03 s)
///  |  x<-- INFORMATIONAL #0 {} ----|  10.03 s
///  |  x<-- (retransmission) -------|  20.03 s
///  |  x<-- (retransmission) -------|  30.03 s
///  |                               |  40.03 s: DpdTimeout{retransmits: 2, action}
/// ```
fn silent_peer_declared_dead(action: DpdAction) -> (Pair, Mark) {
    let (mut pair, m) = silent_cgw(action);
    pair.run_to(secs(40) + ms(30));
    let heard = up(Aws);
    assert_eq!(
        probes(&pair, m)[..3],
        [
            (heard + secs(10), 0),
            (heard + secs(20), 0),
            (heard + secs(30), 0)
        ],
        "a check 10 s after the last message heard, then every 10 s"
    );
    let checks = pair.aws.sent_of(INFO, false);
    assert!(
        checks.windows(2).all(|w| w[0].bytes == w[1].bytes),
        "retransmissions are bitwise identical"
    );
    let timeout = log(&pair, Aws, m);
    let phases = if action == DpdAction::None {
        (Up, Up)
    } else {
        (Down, Down)
    };
    assert_eq!(
        timeout[0],
        (
            heard + secs(40),
            DpdTimeout {
                retransmits: 2,
                action
            },
            phases.0,
            phases.1
        )
    );
    (pair, m)
}

#[test]
fn dpd_clear_ends_the_tunnel() {
    let (mut pair, m) = silent_peer_declared_dead(DpdAction::Clear);
    assert_eq!(log(&pair, Aws, m).len(), 1);
    assert_eq!(pair.aws.endpoint.phase_states(), (Down, Down));
    assert!(pair.aws.endpoint.ike_sas().is_empty() && pair.aws.endpoint.child_sas().is_empty());
    assert_eq!(pair.aws.endpoint.poll_timeout(), None);
    let quiet = pair.aws.sent.len();
    pair.run_to(secs(600));
    assert_eq!(pair.aws.sent.len(), quiet, "nothing more from AWS");
}

/// `restart`: the SAs are ended and AWS negotiates anew from IKE_SA_INIT at once; when the
/// path heals, the new tunnel comes up with AWS as the initiator.
///
/// ```text
/// CGW                                        AWS
///  |                                         |  40.03 s: DpdTimeout{2, restart}   down/down
///  |  x<-- IKE_SA_INIT #0 {SA, KE, Ni} ------|  40.03 s: IkeSaNegotiating         negotiating/down
///  |  (the path heals)                       |
///  |<-- IKE_SA_INIT (retransmission) --------|  44.03 s
///  |--- IKE_SA_INIT {N(INVALID_KE_PAYLOAD)} ->|  … KE retry, IKE_AUTH …
///  |                                         |  IkeSaEstablished, ChildSaEstablished   up/up
/// ```
#[test]
fn dpd_restart_negotiates_anew() {
    let (mut pair, m) = silent_peer_declared_dead(DpdAction::Restart);
    let at = up(Aws) + secs(40);
    let events = log(&pair, Aws, m);
    assert_eq!(events.len(), 2, "{events:?}");
    let IkeSaNegotiating { spi_i, spi_r: 0 } = events[1].1 else {
        panic!("{events:?}")
    };
    assert_eq!(
        (events[1].0, events[1].2, events[1].3),
        (at, Negotiating, Down)
    );
    let init = pair.aws.sent_of(ExchangeType::IKE_SA_INIT, false)[0].clone();
    assert_eq!(
        (init.at, header(&init)),
        (at, (ExchangeType::IKE_SA_INIT, (spi_i, 0), 0, true, false))
    );

    pair.aws.drop = Box::new(|_| false);
    pair.cgw.drop = Box::new(|_| false);
    pair.run_to(secs(120));
    assert_eq!(pair.aws.endpoint.phase_states(), (Up, Up));
    let ike = pair.aws.endpoint.ike_sas();
    assert!(
        matches!(ike[..], [(i, _)] if i == spi_i),
        "AWS initiated the new IKE SA: {ike:x?}"
    );
    assert!(
        pair.cgw.endpoint.ike_sas().contains(&ike[0]),
        "the CGW has it too"
    );
    let (aws_in, aws_out) = child(&pair, Aws);
    assert!(pair.cgw.endpoint.child_sas().contains(&(aws_out, aws_in)));
}

/// `none`: the timeout is logged and the SAs kept; DPD starts over, and with the peer
/// still silent the next timeout comes 40 s after the first (checks from a new message id).
///
/// ```text
/// CGW (silent)                    AWS
///  |  x<-- INFORMATIONAL #0 {} ×3 -|  10.03, 20.03, 30.03 s
///  |                               |  40.03 s: DpdTimeout{2, none}   up/up
///  |  x<-- INFORMATIONAL #1 {} ×3 -|  50.03, 60.03, 70.03 s
///  |                               |  80.03 s: DpdTimeout{2, none}   up/up
/// ```
#[test]
fn dpd_none_keeps_the_sas_and_times_out_again() {
    let (mut pair, m) = silent_peer_declared_dead(DpdAction::None);
    pair.run_to(secs(85));
    let heard = up(Aws);
    let expected: Vec<(Duration, u32)> = [10, 20, 30]
        .iter()
        .map(|s| (heard + secs(*s), 0))
        .chain([50, 60, 70].iter().map(|s| (heard + secs(*s), 1)))
        .collect();
    assert_eq!(probes(&pair, m), expected);
    let timeout = DpdTimeout {
        retransmits: 2,
        action: DpdAction::None,
    };
    assert_eq!(
        log(&pair, Aws, m),
        [
            (heard + secs(40), timeout.clone(), Up, Up),
            (heard + secs(80), timeout, Up, Up)
        ]
    );
    assert_eq!(pair.aws.endpoint.phase_states(), (Up, Up));
    assert_eq!(pair.aws.endpoint.ike_sas(), [first_ike(&pair, Aws)]);
}

/// On-demand DPD: while the CGW's traffic reaches AWS there is no reason to probe, however
/// long; once it stops, the silence counts from then.
///
/// ```text
/// CGW (silent on IKE, ESP flowing)       AWS
///  |  ====== ESP ======>                  |  1 s … 600 s: no liveness check at all
///  |  (traffic stops)                     |  600 s
///  |  x<-- INFORMATIONAL {} --------------|  610, 620, 630 s
///  |                                      |  640 s: DpdTimeout{2, clear}
/// ```
#[test]
fn dpd_stays_quiet_while_traffic_flows() {
    let (mut pair, m) = silent_cgw(DpdAction::Clear);
    pair.act(Aws, |ep, now| ep.set_peer_traffic(now, true));
    pair.run_to(secs(600));
    assert!(
        sent(&pair, Aws, m).is_empty(),
        "no liveness check while traffic flows"
    );
    assert!(log(&pair, Aws, m).is_empty());
    pair.act(Aws, |ep, now| ep.set_peer_traffic(now, false));
    pair.run_to(secs(700));
    assert_eq!(
        probes(&pair, m),
        [(secs(610), 0), (secs(620), 0), (secs(630), 0)]
    );
    assert_eq!(
        log(&pair, Aws, m),
        [(
            secs(640),
            DpdTimeout {
                retransmits: 2,
                action: DpdAction::Clear
            },
            Down,
            Down
        )]
    );
}

/// An answering peer: every liveness check is answered, which resets the timer (the next
/// check comes 10 s after the answer), and nothing is logged on either side.
///
/// ```text
/// CGW                               AWS
///  |<-- INFORMATIONAL #0 {} ---------|  10.03 s
///  |--- INFORMATIONAL #0 {} -------->|  10.05 s: heard
///  |<-- INFORMATIONAL #1 {} ---------|  20.05 s
///  |--- INFORMATIONAL #1 {} -------->|  20.07 s
///  |  …                              |
/// ```
#[test]
fn dpd_answered_checks_reset_the_timer_silently() {
    let aws = aws().with_dpd(DpdConfig::aws(secs(30), DpdAction::Clear));
    let mut pair = established(aws, cgw(ESP_PFS), 1, 2);
    let m = mark(&pair);
    pair.run_to(secs(55));
    let expected: Vec<(Duration, u32)> = (0..5)
        .map(|n| (up(Aws) + secs(10) + (secs(10) + ms(20)) * n, n))
        .collect();
    assert_eq!(probes(&pair, m), expected);
    let answers = sent(&pair, Cgw, m);
    assert_eq!(answers.len(), 5);
    for (n, a) in answers.iter().enumerate() {
        assert_eq!(
            (header(a).0, header(a).2, header(a).4),
            (INFO, n as u32, true)
        );
        assert_eq!(open(&pair, a), []);
    }
    assert!(
        log(&pair, Aws, m).is_empty() && log(&pair, Cgw, m).is_empty(),
        "answered checks log nothing"
    );
    assert_eq!(pair.aws.endpoint.phase_states(), (Up, Up));
}

// ---------------------------------------------------------------------------------------
// 6. Half-open
// ---------------------------------------------------------------------------------------

/// A CGW that never sends IKE_AUTH (`impair.abandon_after_sa_init`): AWS drops its
/// half-open IKE SA 30 s after answering IKE_SA_INIT.
///
/// ```text
/// CGW (abandons)                              AWS
///  |--- IKE_SA_INIT ------------------------->|  0.01 s: IkeSaNegotiating   negotiating/down
///  |<-- IKE_SA_INIT --------------------------|
///  |  (never sends IKE_AUTH)                  |
///  |                                          |  30.01 s: HalfOpenTimeout   down/down
/// ```
#[test]
fn half_open_sa_times_out() {
    let mut cgw = cgw(ESP_PFS);
    cgw.impair.abandon_after_sa_init = true;
    let mut pair = Pair::new(aws(), cgw, 1, 2);
    pair.initiate();
    pair.run_to(secs(29));
    assert_eq!(pair.aws.endpoint.phase_states(), (Negotiating, Down));
    pair.run_to(secs(120));

    let aws = log(
        &pair,
        Aws,
        Mark {
            events: [0, 0],
            sent: [0, 0],
        },
    );
    assert_eq!(aws.len(), 2, "{aws:?}");
    assert!(matches!(aws[0], (at, IkeSaNegotiating { .. }, Negotiating, Down) if at == ms(10)));
    assert_eq!(aws[1], (ms(10) + secs(30), HalfOpenTimeout, Down, Down));
    let cgw = pair.cgw.kinds();
    assert!(matches!(cgw[..], [IkeSaNegotiating { .. }]), "{cgw:?}");
    assert_eq!(pair.cgw.sent.len(), 1, "IKE_SA_INIT only");
    assert_eq!(pair.aws.sent.len(), 1, "its answer only");
    for side in [Aws, Cgw] {
        assert_eq!(host(&pair, side).endpoint.phase_states(), (Down, Down));
        assert_eq!(host(&pair, side).endpoint.poll_timeout(), None);
    }
}

// ---------------------------------------------------------------------------------------
// 7. Expiry without rekey
// ---------------------------------------------------------------------------------------

/// `side` never rekeys (`lifetimes.rekey = false`): its CHILD SA is deleted at the end of
/// its lifetime (1,800 s), its IKE SA at the end of its own (3,600 s), each with a DELETE
/// the peer answers (RFC 7296 §1.4.1, §2.8). The peer's lifetimes are longer.
///
/// ```text
/// side (no rekey)                                        peer
///  |  up + 1,800 s: ChildSaDeleteSent{c1}   up/down        |
///  |-- INFORMATIONAL #k SK{D(ESP, c1)} ------------------->|  ChildSaDeleteReceived{c1}   up/down
///  |<-- INFORMATIONAL #k SK{D(ESP, c1')} ------------------|
///  |  up + 3,600 s: IkeSaDeleteSent         down/down      |
///  |-- INFORMATIONAL #k+1 SK{D(IKE)} --------------------->|  IkeSaDeleteReceived         down/down
///  |<-- INFORMATIONAL #k+1 SK{} ---------------------------|
///  |  IkeSaDeleted                          down/down      |
/// ```
fn expiry_without_rekey(side: Side) {
    let peer = side.peer();
    let (aws, cgw) = configs(
        aws(),
        cgw(ESP_PFS),
        side,
        |c| {
            c.with_lifetimes(exact_lifetimes(secs(3_600), secs(1_800), secs(270)))
                .no_rekey()
        },
        |c| c.with_lifetimes(exact_lifetimes(secs(28_800), secs(7_200), secs(270))),
    );
    let mut pair = established(aws, cgw, 1, 2);
    let ike = agreed_ike(&pair);
    let (c_in, c_out) = agreed_child(&pair, side);
    let m = mark(&pair);
    let (child_end, ike_end) = (up(side) + secs(1_800), up(side) + secs(3_600));
    pair.run_to(child_end - ms(1));
    assert!(
        sent(&pair, side, m).is_empty(),
        "no rekey at lifetime − margin"
    );
    pair.run_to(secs(10_000));

    assert_eq!(
        log(&pair, side, m),
        [
            (child_end, ChildSaDeleteSent { spi_in: c_in }, Up, Down),
            (
                child_end + ms(20),
                ChildSaDeleted {
                    spi_in: c_in,
                    spi_out: c_out
                },
                Up,
                Down
            ),
            (ike_end, IkeSaDeleteSent, Down, Down),
            (ike_end + ms(20), IkeSaDeleted, Down, Down),
        ]
    );
    assert_eq!(
        log(&pair, peer, m),
        [
            (
                child_end + ms(10),
                ChildSaDeleteReceived { spi: c_in },
                Up,
                Down
            ),
            (ike_end + ms(10), IkeSaDeleteReceived, Down, Down),
        ]
    );
    let k = first_id(side);
    let flag = side == Cgw;
    let (s, p) = (sent(&pair, side, m), sent(&pair, peer, m));
    assert_eq!((s.len(), p.len()), (2, 2));
    assert_eq!(
        (header(&s[0]), s[0].at),
        ((INFO, ike, k, flag, false), child_end)
    );
    assert_eq!(open(&pair, &s[0]), [delete_esp(c_in)]);
    assert_eq!(header(&p[0]), (INFO, ike, k, !flag, true));
    assert_eq!(open(&pair, &p[0]), [delete_esp(c_out)]);
    assert_eq!(
        (header(&s[1]), s[1].at),
        ((INFO, ike, k + 1, flag, false), ike_end)
    );
    assert_eq!(open(&pair, &s[1]), [Payload::Delete(Delete::ike())]);
    assert_eq!(header(&p[1]), (INFO, ike, k + 1, !flag, true));
    assert_eq!(open(&pair, &p[1]), []);
    for side in [Aws, Cgw] {
        let ep = &host(&pair, side).endpoint;
        assert_eq!(ep.phase_states(), (Down, Down));
        assert!(ep.ike_sas().is_empty() && ep.child_sas().is_empty());
        assert_eq!(ep.poll_timeout(), None);
    }
}

#[test]
fn cgw_without_rekey_lets_its_sas_expire() {
    expiry_without_rekey(Cgw);
}

#[test]
fn aws_without_rekey_lets_its_sas_expire() {
    expiry_without_rekey(Aws);
}
