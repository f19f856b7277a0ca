//! Core events told in words, from the side of the endpoint that reported them: what
//! `connect` prints for the simulated CGW, what `serve` shows for each AWS-side event, and
//! what `run -v` shows for both sides. One module, so an event reads the same everywhere.
//!
//! The words are the endpoint's ("we", "our proposals"); `peer` names the other side
//! ("the responder" for `connect`, "the CGW" for AWS, "AWS" for a simulated CGW). Callers
//! log the [`Narration`] under their own tracing target, so each command's filter decides
//! what is shown.

use ike_core::{
    ChildFailure, Direction, Event, EventKind, IkeVersion, PeerIncompatible, PeerMisbehaved,
};
use ike_wire::NotifyType;
use tracing::Level;

/// What an event means: a line to show, how loudly, and whether it is a failure (and why).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Narration {
    pub line: String,
    pub level: Level,
    pub failure: Option<String>,
}

/// The short SPI form AWS and strongSwan print.
fn spi64(spi: u64) -> String {
    format!("{spi:016x}")
}

fn spi32(spi: u32) -> String {
    format!("{spi:08x}")
}

/// An exchange by the name its IKE version gives it (RFC 2409 for IKEv1's modes).
fn exchange_name(version: IkeVersion, exchange: ike_wire::ExchangeType) -> String {
    match (version, exchange.0) {
        (IkeVersion::V1, 2) => "main mode".into(),
        (IkeVersion::V1, 32) => "quick mode".into(),
        (IkeVersion::V1, 5) => "informational".into(),
        _ => exchange.to_string(),
    }
}

/// Why a CHILD SA did not come up, in words.
fn child_failure(f: ChildFailure, peer: &str) -> String {
    match f {
        ChildFailure::Incompatible(
            PeerIncompatible::NoProposalChosen { .. },
            Direction::Received,
        ) => {
            format!("{peer} accepted none of our ESP proposals (NO_PROPOSAL_CHOSEN)")
        }
        ChildFailure::Incompatible(PeerIncompatible::NoProposalChosen { .. }, Direction::Sent) => {
            "we accepted none of the peer's ESP proposals (NO_PROPOSAL_CHOSEN)".into()
        }
        ChildFailure::Incompatible(PeerIncompatible::TsUnacceptable, Direction::Received) => {
            format!(
                "{peer} refused our traffic selectors (TS_UNACCEPTABLE / INVALID_ID_INFORMATION)"
            )
        }
        ChildFailure::Incompatible(PeerIncompatible::TsUnacceptable, Direction::Sent) => {
            "we refused the peer's traffic selectors (TS_UNACCEPTABLE / INVALID_ID_INFORMATION)"
                .into()
        }
        ChildFailure::Incompatible(i @ PeerIncompatible::InvalidKe { .. }, _) => i.to_string(),
        ChildFailure::Notified(NotifyType::CHILD_SA_NOT_FOUND) => format!(
            "{peer} does not know the CHILD SA we rekeyed (CHILD_SA_NOT_FOUND, RFC 7296 §2.25): \
             unless {peer} had deleted it, ours goes without a DELETE and a new CHILD SA follows"
        ),
        ChildFailure::Notified(n) => format!("{peer} answered {n}"),
        ChildFailure::Misbehaved(PeerMisbehaved::PfsKeMissing { group }) => format!(
            "{peer}'s answer has no KEr payload, which PFS requires (we sent KEi of group \
             {group}, RFC 7296 §1.3.1): {peer} does not do PFS, or not with this group"
        ),
        ChildFailure::Misbehaved(m) => format!("{peer}'s answer is invalid: {m}"),
        ChildFailure::Unconfirmed => "the initiator never confirmed the IPsec SA".into(),
        ChildFailure::Internal => "our own state did not allow the CHILD SA".into(),
    }
}

/// Why an unprotected error notify during main mode most likely came (RFC 2408 §3.14.1).
fn unauthenticated_notify(
    notify: ike_wire::v1::NotifyType,
    after_message5: bool,
    peer: &str,
) -> String {
    use ike_wire::v1::NotifyType as N;
    let hint = match notify {
        N::PAYLOAD_MALFORMED
        | N::INVALID_PAYLOAD_TYPE
        | N::INVALID_HASH_INFORMATION
        | N::AUTHENTICATION_FAILED
            if after_message5 =>
        {
            ": it could not decrypt or verify our main mode message 5, whose keys come from the \
             pre-shared key — the pre-shared keys differ"
        }
        N::INVALID_ID_INFORMATION => ": it does not accept our identity (IDi is our IP address)",
        _ => "",
    };
    format!(
        "IKE SA failed: {peer} sent {notify} (an unprotected notification) during main mode{hint}"
    )
}

/// Tells `e` as the endpoint that reported it, `peer` being the other side.
pub fn narrate(e: &Event, peer: &str) -> Narration {
    let v = match e.ike_version {
        IkeVersion::V1 => "IKEv1",
        IkeVersion::V2 => "IKEv2",
    };
    let nat = if e.facts.nat.detected() {
        ", NAT detected"
    } else {
        ""
    };
    let said = |level: Level, line: String| Narration {
        line,
        level,
        failure: None,
    };
    let ok = |line: String| said(Level::INFO, line);
    let debug = |line: String| said(Level::DEBUG, line);
    let warn = |line: String| said(Level::WARN, line);
    let fail = |why: String| Narration {
        line: why.clone(),
        level: Level::WARN,
        failure: Some(why),
    };
    match &e.kind {
        EventKind::IkeSaNegotiating { spi_i, .. } => ok(format!(
            "IKE SA negotiating with {} ({v}, SPI {}_i)",
            e.peer,
            spi64(*spi_i)
        )),
        EventKind::InvalidKePayload {
            group,
            direction: Direction::Received,
        } => ok(format!(
            "{peer} asks for DH group {group} (INVALID_KE_PAYLOAD): retrying with it"
        )),
        EventKind::InvalidKePayload {
            group,
            direction: Direction::Sent,
        } => debug(format!("sent INVALID_KE_PAYLOAD asking for {group}")),
        EventKind::IkeNoProposalChosen {
            direction: Direction::Received,
            ..
        } => fail(format!(
            "IKE SA failed: {peer} accepted none of our IKE proposals (NO_PROPOSAL_CHOSEN)"
        )),
        EventKind::IkeNoProposalChosen {
            direction: Direction::Sent,
            ..
        } => fail(
            "IKE SA failed: we accepted none of the peer's IKE proposals (NO_PROPOSAL_CHOSEN)"
                .into(),
        ),
        EventKind::AuthenticationFailed {
            direction: Direction::Received,
        } => fail(format!(
            "IKE SA failed: {peer} rejected our authentication (AUTHENTICATION_FAILED): the pre-shared \
             keys (or the identities {peer} expects) differ"
        )),
        EventKind::AuthenticationFailed {
            direction: Direction::Sent,
        } => fail(format!(
            "IKE SA failed: {peer}'s AUTH does not verify with our pre-shared key (we sent \
             AUTHENTICATION_FAILED): the pre-shared keys differ"
        )),
        EventKind::PayloadDecryptionFailed => fail(format!(
            "IKE SA failed: {peer}'s encrypted main mode message does not decrypt or verify with our \
             keys: the pre-shared keys differ"
        )),
        EventKind::Message5AnswerUndecryptable => fail(format!(
            "IKE SA failed: {peer} answered our main mode message 5 with an encrypted message that \
             does not decrypt with our keys — its keys differ from ours, so the pre-shared keys differ"
        )),
        EventKind::UnauthenticatedNotify { notify, .. }
            if *notify == ike_wire::v1::NotifyType::NO_PROPOSAL_CHOSEN =>
        {
            debug(format!("unprotected {notify} during main mode dropped"))
        }
        EventKind::UnauthenticatedNotify {
            notify,
            after_message5,
        } => fail(unauthenticated_notify(*notify, *after_message5, peer)),
        EventKind::IkeSaEstablished {
            spi_i,
            spi_r,
            selected,
        } => ok(format!(
            "IKE SA established with {}: {v}, SPIs {}_i {}_r, {selected}{nat}",
            e.peer,
            spi64(*spi_i),
            spi64(*spi_r)
        )),
        EventKind::ChildSaEstablished {
            spi_in,
            spi_out,
            selected,
        } => ok(format!(
            "CHILD SA established: SPIs {}_i {}_o, {selected}{}",
            spi32(*spi_in),
            spi32(*spi_out),
            if selected.dh.is_some() { " (PFS)" } else { "" }
        )),
        EventKind::ChildSaNegotiating => debug("CHILD SA negotiating (quick mode)".into()),
        EventKind::ChildSaFailed { failure } => fail(format!(
            "CHILD SA failed: {}",
            child_failure(*failure, peer)
        )),
        EventKind::IkeSaFailed { notify, .. } if *notify == NotifyType::NO_PROPOSAL_CHOSEN => {
            fail(format!(
                "IKE SA failed: {peer} chose a proposal we did not offer (NO_PROPOSAL_CHOSEN on our side)"
            ))
        }
        EventKind::IkeSaFailed { notify, .. } => fail(format!("IKE SA failed: {notify}")),
        EventKind::RetransmitsExhausted {
            exchange,
            retransmits,
        } => fail(format!(
            "timeout: no answer to our {} request after {retransmits} retransmits",
            exchange_name(e.ike_version, *exchange)
        )),
        EventKind::Message5Undecryptable {
            retransmits,
            repeats,
        } => fail(format!(
            "timeout: no answer to main mode message 5 after {retransmits} retransmits, while \
             {peer} sent message 4 again {repeats} times: it cannot decrypt our message 5 — \
             most likely a pre-shared key mismatch"
        )),
        EventKind::IkeSaDeleteReceived => warn(format!("{peer} deleted the IKE SA")),
        EventKind::ChildSaDeleteReceived { spi } => {
            ok(format!("{peer} deleted CHILD SA {}", spi32(*spi)))
        }
        EventKind::ChildSaDeleted { spi_in, spi_out } => ok(format!(
            "CHILD SA deleted: SPIs {}_i {}_o",
            spi32(*spi_in),
            spi32(*spi_out)
        )),
        EventKind::IkeSaDeleted => ok("IKE SA deleted".into()),
        EventKind::IkeSaDeleteSent => ok("deleting the IKE SA (DELETE sent)".into()),
        EventKind::ChildSaDeleteSent { spi_in } => ok(format!(
            "deleting CHILD SA {}_i (DELETE sent)",
            spi32(*spi_in)
        )),
        EventKind::HalfOpenTimeout => warn("half-open IKE SA timed out".into()),
        EventKind::DpdTimeout {
            retransmits,
            action,
        } => warn(format!(
            "DPD: {peer} is dead (no answer after {retransmits} retransmits), action {action:?}"
        )),
        EventKind::CreateChildRequestSent { id } => {
            debug(format!("CREATE_CHILD_SA request {id} sent"))
        }
        EventKind::CreateChildRequestProcessed { id } => {
            debug(format!("CREATE_CHILD_SA request {id} processed"))
        }
        EventKind::CreateChildResponseSent { id } => {
            debug(format!("CREATE_CHILD_SA response {id} sent"))
        }
        EventKind::CreateChildResponseProcessed { id } => {
            debug(format!("CREATE_CHILD_SA response {id} processed"))
        }
        EventKind::ChildSaRekeyed {
            old_spi_in,
            spi_in,
            spi_out,
        } => ok(format!(
            "CHILD SA rekeyed: new SPIs {}_i {}_o (replaces {}_i)",
            spi32(*spi_in),
            spi32(*spi_out),
            spi32(*old_spi_in)
        )),
        EventKind::IkeSaRekeyed { spi_i, spi_r } => ok(format!(
            "IKE SA rekeyed: new SPIs {}_i {}_r",
            spi64(*spi_i),
            spi64(*spi_r)
        )),
        EventKind::IkeRekeyFailed { notify } => {
            warn(format!("IKE SA rekey refused by {peer}: {notify}"))
        }
        EventKind::RedundantChildSaDeleted { spi_in } => ok(format!(
            "rekey collision: deleting the redundant CHILD SA {}_i",
            spi32(*spi_in)
        )),
        EventKind::ChildRekeyCollisionDelete { spi } => ok(format!(
            "{peer} deleted CHILD SA {} while we rekeyed it",
            spi32(*spi)
        )),
        EventKind::IkeSaRekeying { spi_i, spi_r } => ok(format!(
            "rekeying the IKE SA {}_i {}_r",
            spi64(*spi_i),
            spi64(*spi_r)
        )),
    }
}

#[cfg(test)]
mod tests {
    use ike_core::{ChildFailure, PeerMisbehaved};
    use ike_wire::{DhGroup, NotifyType};

    use super::child_failure;

    #[test]
    fn a_missing_ker_and_a_lost_child_sa_are_named() {
        let pfs = ChildFailure::Misbehaved(PeerMisbehaved::PfsKeMissing {
            group: DhGroup::ECP_384,
        });
        assert_eq!(
            child_failure(pfs, "AWS"),
            "AWS's answer has no KEr payload, which PFS requires (we sent KEi of group ECP_384, \
             RFC 7296 §1.3.1): AWS does not do PFS, or not with this group"
        );
        let lost = ChildFailure::Notified(NotifyType::CHILD_SA_NOT_FOUND);
        assert!(child_failure(lost, "the CGW")
            .starts_with("the CGW does not know the CHILD SA we rekeyed (CHILD_SA_NOT_FOUND"));
    }
}
