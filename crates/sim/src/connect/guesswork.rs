//! Guesswork, kept in one place until the core reports these facts as events (issue 10,
//! item 7): in IKEv1 a wrong pre-shared key shows up at the initiator only indirectly —
//! the responder cannot decrypt our main mode message 5 and answers with something we
//! cannot decrypt either, or with an unprotected error notification. The core ignores
//! both (it would retransmit for minutes); `connect` can tell the user why. It does so by
//! peeking at the header of what we send, re-parsing what we receive, and diffing the
//! core's integrity-failure counter around one input — replace all three with core events.

use std::net::SocketAddr;
use std::time::Instant;

use ike_core::{Endpoint, IkeVersion, SaState};

/// What the guesses need to remember.
#[derive(Default)]
pub(super) struct V1Guesses {
    /// We sent an encrypted main mode message (IKEv1 message 5).
    sent_mm5: bool,
}

impl V1Guesses {
    /// Notes a datagram the endpoint sends.
    pub(super) fn sent(&mut self, version: IkeVersion, payload: &[u8]) {
        if version == IkeVersion::V1 && is_v1_mm_encrypted(payload) {
            self.sent_mm5 = true;
        }
    }

    /// Hands `message` to the endpoint and says why phase 1 failed, when that is what the
    /// answer means.
    pub(super) fn handle(
        &self,
        endpoint: &mut Endpoint,
        now: Instant,
        local: SocketAddr,
        from: SocketAddr,
        message: &[u8],
    ) -> Option<String> {
        let undecryptable = endpoint.stats().integrity_failures;
        endpoint.handle(now, local, from, message);
        let undecryptable = endpoint.stats().integrity_failures > undecryptable;
        let (p1, _) = endpoint.phase_states();
        if undecryptable && self.sent_mm5 && p1 == SaState::Negotiating {
            // IKEv1 with a wrong PSK: the responder cannot decrypt message 5 and says so
            // (strongSwan: PAYLOAD_MALFORMED) encrypted with its own keys, which are not
            // ours.
            return Some(
                "IKE SA failed: the responder answered our main mode message 5 with an \
                 encrypted message that does not decrypt with our keys — its keys differ \
                 from ours, so the pre-shared keys differ"
                    .to_owned(),
            );
        }
        let ty = v1_plain_error(message)?;
        let (p1, _) = endpoint.phase_states();
        (p1 == SaState::Negotiating && ty != ike_wire::v1::NotifyType::NO_PROPOSAL_CHOSEN)
            .then(|| v1_error_reason(ty, self.sent_mm5))
    }
}

/// An unprotected IKEv1 informational with an error notification (RFC 2408 §3.14.1),
/// which the core does not act on (nothing proves who sent it) — but while phase 1 is
/// being negotiated it is the responder telling us why it gave up.
fn v1_plain_error(data: &[u8]) -> Option<ike_wire::v1::NotifyType> {
    use ike_wire::v1::{Body, ExchangeType, Message, Payload};
    if ike_wire::ike_major_version(data) != Some(1) {
        return None;
    }
    let msg = Message::parse(data).ok()?;
    if msg.header.exchange != ExchangeType::INFORMATIONAL {
        return None;
    }
    let Body::Plain(payloads) = &msg.body else {
        return None;
    };
    payloads.iter().find_map(|p| match p {
        Payload::Notification(n) if n.ty.is_error() => Some(n.ty),
        _ => None,
    })
}

fn v1_error_reason(ty: ike_wire::v1::NotifyType, sent_mm5: bool) -> String {
    use ike_wire::v1::NotifyType as N;
    let hint = match ty {
        N::PAYLOAD_MALFORMED | N::INVALID_PAYLOAD_TYPE | N::INVALID_HASH_INFORMATION | N::AUTHENTICATION_FAILED
            if sent_mm5 =>
        {
            ": it could not decrypt or verify our main mode message 5, whose keys come from the pre-shared key — \
             the pre-shared keys differ"
        }
        N::INVALID_ID_INFORMATION => ": it does not accept our identity (IDi is our IP address)",
        _ => "",
    };
    format!("IKE SA failed: the responder sent {ty} (an unprotected notification) during main mode{hint}")
}

/// Whether a datagram we send is an encrypted IKEv1 main mode message (message 5).
fn is_v1_mm_encrypted(d: &[u8]) -> bool {
    d.len() >= 28 && d[17] == 0x10 && d[18] == 2 && d[19] & 1 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_plain_error_notifications_are_read() {
        use ike_wire::v1::{
            doi, protocol, Body, ExchangeType, Flags, Header, Message, Notification, Payload,
        };
        let header = Header {
            cky_i: 1,
            cky_r: 2,
            next_payload: ike_wire::v1::PayloadType::NONE,
            major: 1,
            minor: 0,
            exchange: ExchangeType::INFORMATIONAL,
            flags: Flags(0),
            message_id: 0,
            length: 0,
        };
        let n = Notification {
            doi: doi::IPSEC,
            protocol: protocol::ISAKMP,
            spi: Vec::new(),
            ty: ike_wire::v1::NotifyType::PAYLOAD_MALFORMED,
            data: Vec::new(),
        };
        let d = Message {
            header,
            body: Body::Plain(vec![Payload::Notification(n)]),
        }
        .encode();
        assert_eq!(
            v1_plain_error(&d),
            Some(ike_wire::v1::NotifyType::PAYLOAD_MALFORMED)
        );
        assert!(
            v1_error_reason(ike_wire::v1::NotifyType::PAYLOAD_MALFORMED, true)
                .contains("pre-shared keys differ")
        );
        assert_eq!(v1_plain_error(b"\x00\x01"), None);
        assert!(!is_v1_mm_encrypted(&d));
    }
}
