//! The IKE SA's messages (RFC 7296 §2.1–2.3): headers, SK protection (§3.14), message ids
//! with a window of one request, requests queued behind the outstanding one, and the
//! last response kept for a retransmitted request.

use ike_wire::{
    encode_payloads, encode_sk_prefix, parse_payloads, ExchangeType, Flags, Header, Message,
    Payload, PayloadType,
};

use crate::event::{DropReason, EventKind};
use crate::shell::timer::Timer;
use crate::shell::{Ctx, IkeSaId, MessageId, Role};
use crate::trace::Plaintext;

use super::{IkeSa, Keys, Pending, Purpose, Queued, State};

impl IkeSa {
    pub(super) fn header(
        &self,
        exchange: ExchangeType,
        message_id: MessageId,
        response: bool,
    ) -> Header {
        let mut flags = Flags(0);
        if self.role == Role::Initiator {
            flags = flags | Flags::INITIATOR;
        }
        if response {
            flags = flags | Flags::RESPONSE;
        }
        Header {
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            next_payload: PayloadType::NONE,
            major: 2,
            minor: 0,
            exchange,
            flags,
            message_id: message_id.0,
            length: 0,
        }
    }

    /// Encodes `payloads` inside an SK payload protected with our outbound keys.
    pub(super) fn seal(
        &self,
        ctx: &mut Ctx<'_>,
        keys: &Keys,
        header: &Header,
        payloads: &[Payload],
    ) -> Vec<u8> {
        let (first, plaintext) = encode_payloads(payloads);
        let body_len = keys.outbound.body_len(plaintext.len());
        let mut datagram = encode_sk_prefix(header, first, body_len);
        let iv = ctx.random_bytes(keys.suite.encryption.iv_len());
        let body = keys.outbound.seal(&datagram, &plaintext, &iv);
        datagram.extend_from_slice(&body);
        ctx.trace_sealed(self.id(), &datagram, || Plaintext::V2(payloads.to_vec()));
        datagram
    }

    /// Verifies and decrypts the SK payload of `msg` (whose bytes are `raw`). A failure is
    /// counted and the message dropped, as RFC 7296 §2.21.1 asks.
    pub(super) fn open(
        ctx: &mut Ctx<'_>,
        keys: &Keys,
        msg: &Message,
        raw: &[u8],
    ) -> Option<Vec<Payload>> {
        let Some(Payload::Encrypted(sk)) = msg.payloads.last() else {
            ctx.stats.malformed += 1;
            tracing::debug!("message without SK payload dropped");
            return None;
        };
        let prefix = &raw[..raw.len().saturating_sub(sk.data.len())];
        let plaintext = match keys.inbound.open(prefix, &sk.data) {
            Ok(p) => p,
            Err(e) => {
                ctx.stats.integrity_failures += 1;
                tracing::debug!("SK payload rejected: {e}");
                return None;
            }
        };
        match parse_payloads(sk.first_inner, &plaintext) {
            Ok(p) => {
                let sa = IkeSaId {
                    spi_i: msg.header.spi_i,
                    spi_r: msg.header.spi_r,
                };
                ctx.trace_opened(sa, || Plaintext::V2(p.clone()));
                Some(p)
            }
            Err(e) => {
                ctx.stats.malformed += 1;
                tracing::debug!("decrypted payloads malformed: {e}");
                None
            }
        }
    }

    /// The keys, once IKE_SA_INIT is done.
    pub(super) fn keys(&self) -> Option<&Keys> {
        match &self.state {
            State::AuthSent(s) => Some(&s.keys),
            State::InitReplied(s) => Some(&s.keys),
            State::Established(s) => Some(&s.keys),
            State::InitSent(_) | State::Closed => None,
        }
    }

    /// Ends the outstanding request (answered, given up or abandoned): its retransmission
    /// timer stops with it.
    pub(super) fn take_pending(&mut self) -> Option<Pending> {
        self.timers.stop(Timer::Retransmit);
        self.pending.take()
    }

    pub(super) fn clear_pending(&mut self) {
        self.take_pending();
    }

    /// Sends a new request (the caller has checked that none is outstanding).
    pub(super) fn send_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        exchange: ExchangeType,
        purpose: Purpose,
        datagram: Vec<u8>,
    ) {
        let id = self.next_request_id;
        self.next_request_id = self.next_request_id.next();
        let deadline = ctx.now + self.retransmit_wait(ctx, &purpose, 1);
        self.timers.set(Timer::Retransmit, deadline);
        ctx.send(self.local, self.remote, datagram.clone());
        self.pending = Some(Pending {
            id,
            exchange,
            purpose,
            datagram,
            transmissions: 1,
            first_sent: ctx.now,
        });
        if exchange == ExchangeType::CREATE_CHILD_SA {
            self.emit(ctx, EventKind::CreateChildRequestSent { id: id.0 });
        }
    }

    /// Sends a protected request now, or queues it behind the outstanding one.
    pub(super) fn request(
        &mut self,
        ctx: &mut Ctx<'_>,
        exchange: ExchangeType,
        purpose: Purpose,
        payloads: Vec<Payload>,
    ) {
        if self.pending.is_some() || !self.queued.is_empty() {
            self.queued.push_back(Queued {
                exchange,
                purpose,
                payloads,
            });
            return;
        }
        let Some(keys) = self.keys() else {
            ctx.drop_message(DropReason::NoKeys, "no keys yet");
            return;
        };
        let header = self.header(exchange, self.next_request_id, false);
        let datagram = self.seal(ctx, keys, &header, &payloads);
        self.send_request(ctx, exchange, purpose, datagram);
    }

    /// Sends the next queued request once the window is free.
    pub(super) fn send_queued(&mut self, ctx: &mut Ctx<'_>) {
        if self.pending.is_some() || self.is_closed() {
            return;
        }
        if let Some(q) = self.queued.pop_front() {
            let Some(keys) = self.keys() else {
                ctx.drop_message(DropReason::NoKeys, "no keys yet");
                return;
            };
            let header = self.header(q.exchange, self.next_request_id, false);
            let datagram = self.seal(ctx, keys, &header, &q.payloads);
            self.send_request(ctx, q.exchange, q.purpose, datagram);
        }
    }

    /// Sends a protected response to request `id` and keeps it for retransmitted requests.
    pub(super) fn send_protected_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        exchange: ExchangeType,
        id: MessageId,
        payloads: &[Payload],
    ) {
        let Some(keys) = self.keys() else {
            ctx.drop_message(DropReason::NoKeys, "no keys yet");
            return;
        };
        let header = self.header(exchange, id, true);
        let datagram = self.seal(ctx, keys, &header, payloads);
        self.send_response(ctx, id, datagram);
    }

    pub(super) fn send_response(&mut self, ctx: &mut Ctx<'_>, id: MessageId, datagram: Vec<u8>) {
        ctx.send(self.local, self.remote, datagram.clone());
        self.last_response = Some((id, datagram));
        self.expected_request_id = id.next();
    }
}
