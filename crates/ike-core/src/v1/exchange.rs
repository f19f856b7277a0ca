//! What every IKEv1 exchange shares: headers, plain and encrypted messages with their
//! CBC IV chains (RFC 2409 App. B), and informational messages with HASH(1) (§5.7).

use ike_crypto::v1::{info_hash, last_block, phase2_iv};
use ike_wire::v1::{
    doi, encode_header_for, encode_payloads, parse_payloads, Body, ExchangeType, Flags, Header,
    Message, Notification, NotifyType, Payload, PayloadType,
};
use rand::RngCore;

use super::{P1Keys, Phase1Sa};
use crate::shell::{same_mac, Ctx, IkeSaId};
use crate::trace::Plaintext;

/// A non-zero message id for a phase 2 exchange.
pub(super) fn message_id(ctx: &mut Ctx<'_>) -> u32 {
    loop {
        let id = ctx.rng.next_u32();
        if id != 0 {
            return id;
        }
    }
}

impl Phase1Sa {
    pub(super) fn v1_header(
        &self,
        exchange: ExchangeType,
        message_id: u32,
        encrypted: bool,
    ) -> Header {
        Header {
            cky_i: self.cky_i,
            cky_r: self.cky_r,
            next_payload: PayloadType::NONE,
            major: 1,
            minor: 0,
            exchange,
            flags: if encrypted {
                Flags::ENCRYPTION
            } else {
                Flags(0)
            },
            message_id,
            length: 0,
        }
    }

    pub(super) fn plain(&self, exchange: ExchangeType, payloads: Vec<Payload>) -> Vec<u8> {
        Message {
            header: self.v1_header(exchange, 0, false),
            body: Body::Plain(payloads),
        }
        .encode()
    }

    /// Encrypts `payloads` with `iv`; returns the datagram and the next IV (its last block).
    pub(super) fn encrypted(
        &self,
        ctx: &mut Ctx<'_>,
        keys: &P1Keys,
        exchange: ExchangeType,
        message_id: u32,
        iv: &[u8],
        payloads: &[Payload],
    ) -> (Vec<u8>, Vec<u8>) {
        let (first, plaintext) = encode_payloads(payloads);
        let ciphertext = keys.cbc.encrypt(iv, &plaintext);
        let mut datagram = encode_header_for(
            &self.v1_header(exchange, message_id, true),
            first,
            ciphertext.len(),
        );
        datagram.extend_from_slice(&ciphertext);
        ctx.trace_sealed(self.id(), &datagram, || Plaintext::V1(payloads.to_vec()));
        (datagram, last_block(&ciphertext))
    }

    /// Decrypts an encrypted message with `iv`; returns its payloads and the next IV. A
    /// failure to decrypt into well-formed payloads is `None` (and leaves no trace).
    pub(super) fn decrypt(
        ctx: &mut Ctx<'_>,
        keys: &P1Keys,
        msg: &Message,
        iv: &[u8],
    ) -> Option<(Vec<Payload>, Vec<u8>)> {
        let Body::Encrypted(ciphertext) = &msg.body else {
            return None;
        };
        let plaintext = keys.cbc.decrypt(iv, ciphertext).ok()?;
        let payloads = parse_payloads(msg.header.next_payload, &plaintext).ok()?;
        let sa = IkeSaId {
            spi_i: msg.header.cky_i,
            spi_r: msg.header.cky_r,
        };
        ctx.trace_opened(sa, || Plaintext::V1(payloads.clone()));
        Some((payloads, last_block(ciphertext)))
    }

    /// Sends an informational exchange: HASH(1) over the notification or delete (§5.7),
    /// encrypted with its own IV.
    pub(super) fn send_informational(&mut self, ctx: &mut Ctx<'_>, payload: Payload) {
        if let Some(datagram) = self.informational(ctx, payload) {
            ctx.send(self.local, self.remote, datagram);
        }
    }

    /// Builds an informational message (not sent).
    pub(super) fn informational(&mut self, ctx: &mut Ctx<'_>, payload: Payload) -> Option<Vec<u8>> {
        let keys = self.keys()?;
        let mid = message_id(ctx);
        let rest = [payload];
        let hash = info_hash(&keys.prf, &keys.skeyid_a, mid, &encode_payloads(&rest).1);
        let iv = phase2_iv(keys.hash, &keys.last_block, mid, ike_crypto::v1::Cbc::BLOCK);
        let [payload] = rest;
        let (datagram, _) = self.encrypted(
            ctx,
            keys,
            ExchangeType::INFORMATIONAL,
            mid,
            &iv,
            &[Payload::Hash(hash), payload],
        );
        Some(datagram)
    }

    /// Opens an informational exchange from the peer and checks its HASH(1).
    pub(super) fn open_informational(
        &self,
        ctx: &mut Ctx<'_>,
        msg: &Message,
    ) -> Option<Vec<Payload>> {
        let keys = self.keys()?;
        let mid = msg.header.message_id;
        let iv = phase2_iv(keys.hash, &keys.last_block, mid, ike_crypto::v1::Cbc::BLOCK);
        let (payloads, _) = Self::decrypt(ctx, keys, msg, &iv)?;
        let (Payload::Hash(hash), rest) = payloads.split_first()? else {
            return None;
        };
        let expected = info_hash(&keys.prf, &keys.skeyid_a, mid, &encode_payloads(rest).1);
        same_mac(hash, &expected).then(|| rest.to_vec())
    }
}

/// A notification (RFC 2408 §3.14) of the IPsec DOI.
pub(super) fn notification(ty: NotifyType, protocol: u8, spi: Vec<u8>, data: Vec<u8>) -> Payload {
    Payload::Notification(Notification {
        doi: doi::IPSEC,
        protocol,
        spi,
        ty,
        data,
    })
}
