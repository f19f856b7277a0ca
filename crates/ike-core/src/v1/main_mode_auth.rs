//! Main mode messages 5 and 6 (RFC 2409 §5): the first encrypted ones, each side's
//! identity and HASH_I / HASH_R. With a PSK that differs from ours the keys differ, so
//! the peer's message decrypts to garbage; then the ISAKMP SA is up.

use std::time::Duration;

use ike_crypto::v1::{hash_i, hash_r};
use ike_wire::v1::{ike_attr, ExchangeType, Message, Notification, NotifyType, Payload};
use ike_wire::PayloadType;

use super::payloads::own_id;
use super::proposal::lifetime;
use super::{Authenticating, Awaiting, P1Keys, Phase1Sa, State};
use crate::event::{EventKind, SaState};
use crate::failure::PeerMisbehaved;
use crate::proposal::Selected;
use crate::shell::timer::Timer;
use crate::shell::{same_mac, Ctx, Effect};

/// The peer's ID payload and HASH in a decrypted message 5 or 6; a missing one is named as
/// RFC 7296 names it (`id`: IDi or IDr; HASH is AUTH's counterpart).
fn id_and_hash(
    payloads: &[Payload],
    id: PayloadType,
) -> Result<(&Payload, &Vec<u8>), PeerMisbehaved> {
    let missing = |payload| PeerMisbehaved::MissingPayload { payload };
    let id = payloads
        .iter()
        .find(|p| matches!(p, Payload::Id(_)))
        .ok_or(missing(id))?;
    let hash = payloads
        .iter()
        .find_map(|p| match p {
            Payload::Hash(h) => Some(h),
            _ => None,
        })
        .ok_or(missing(PayloadType::AUTH))?;
    Ok((id, hash))
}

impl Phase1Sa {
    /// The initiator's message 5: IDii and HASH_I, from the NAT-T port when a NAT was
    /// detected (RFC 3947 §4), with INITIAL-CONTACT on a first ISAKMP SA with the peer.
    pub(super) fn send_message5(&mut self, ctx: &mut Ctx<'_>, mut auth: Authenticating) {
        self.ends().float(ctx.nat_t);
        let id = own_id(self.local);
        let keys = &auth.keys;
        let h = hash_i(
            &keys.prf,
            &keys.skeyid,
            &auth.g_xi,
            &auth.g_xr,
            self.cky_i,
            self.cky_r,
            &auth.sai_b,
            &id.body(),
        );
        let mut payloads = vec![id, Payload::Hash(h)];
        // A first ISAKMP SA with the peer says so, as strongSwan does (a phase 1 rekey
        // replaces an SA the peer should keep until it is deleted).
        if ctx.config.initial_contact && self.replaces.is_none() {
            payloads.push(Payload::Notification(Notification::initial_contact(
                self.cky_i, self.cky_r,
            )));
        }
        let (datagram, next_iv) = self.encrypted(
            ctx,
            keys,
            ExchangeType::IDENTITY_PROTECTION,
            0,
            &keys.iv,
            &payloads,
        );
        auth.keys.iv = next_iv;
        self.state = State::ExpectMm6(Box::new(auth));
        self.send_awaiting(ctx, Awaiting::MainMode, datagram);
    }

    /// Message 5: the first encrypted one. With a PSK that differs from ours, the keys
    /// differ and it decrypts to garbage.
    pub(super) fn on_message5(&mut self, ctx: &mut Ctx<'_>, msg: &Message, raw: &[u8]) {
        // Main mode either ends here or the SA is up.
        let State::ExpectMm5(st) = std::mem::replace(&mut self.state, State::Closed) else {
            return;
        };
        let Authenticating {
            sai_b,
            transform,
            g_xi,
            g_xr,
            mut keys,
            ..
        } = *st;
        let decrypted =
            Self::decrypt(ctx, &keys, msg, &keys.iv).ok_or(PeerMisbehaved::Undecryptable);
        let verified = decrypted.and_then(|(payloads, next_iv)| {
            let (id, got) = id_and_hash(&payloads, PayloadType::IDI)?;
            let expected = hash_i(
                &keys.prf,
                &keys.skeyid,
                &g_xi,
                &g_xr,
                self.cky_i,
                self.cky_r,
                &sai_b,
                &id.body(),
            );
            let initial_contact = payloads.iter().any(
                |p| matches!(p, Payload::Notification(n) if n.ty == NotifyType::INITIAL_CONTACT),
            );
            same_mac(got, &expected)
                .then_some((next_iv, initial_contact))
                .ok_or(PeerMisbehaved::HashMismatch)
        });
        let (next_iv, initial_contact) = match verified {
            Ok(v) => v,
            Err(m) => {
                tracing::debug!(
                    cky_i = self.cky_i,
                    "main mode message 5 does not decrypt with our PSK: {m}"
                );
                self.close();
                ctx.misbehaved(m);
                self.emit(ctx, EventKind::PayloadDecryptionFailed);
                return;
            }
        };
        // An initiator that moved to its NAT-T port for message 5 takes us along.
        self.ends().move_with_peer(ctx.arrival);
        if initial_contact {
            // Every other SA with this peer is stale: it rebooted (RFC 2407 §4.6.3.3).
            ctx.effects.push(Effect::InitialContact {
                peer: self.remote.ip(),
                from: self.id(),
            });
        }
        let id = own_id(self.local);
        let h = hash_r(
            &keys.prf,
            &keys.skeyid,
            &g_xr,
            &g_xi,
            self.cky_r,
            self.cky_i,
            &sai_b,
            &id.body(),
        );
        let (datagram, last) = self.encrypted(
            ctx,
            &keys,
            ExchangeType::IDENTITY_PROTECTION,
            0,
            &next_iv,
            &[id, Payload::Hash(h)],
        );
        keys.iv = last.clone();
        keys.last_block = last;
        self.send_answer(ctx, raw, datagram);
        self.established(ctx, &transform, keys);
    }

    /// Message 6: the responder's HASH_R; the ISAKMP SA is up and a first quick mode
    /// starts.
    pub(super) fn on_message6(&mut self, ctx: &mut Ctx<'_>, msg: &Message, ciphertext: &[u8]) {
        let State::ExpectMm6(st) = std::mem::replace(&mut self.state, State::Closed) else {
            return;
        };
        let Authenticating {
            sai_b,
            transform,
            g_xi,
            g_xr,
            mut keys,
            ..
        } = *st;
        let decrypted =
            Self::decrypt(ctx, &keys, msg, &keys.iv).ok_or(PeerMisbehaved::Undecryptable);
        let verified = decrypted.and_then(|(payloads, _)| {
            let (id, got) = id_and_hash(&payloads, PayloadType::IDR)?;
            let expected = hash_r(
                &keys.prf,
                &keys.skeyid,
                &g_xr,
                &g_xi,
                self.cky_r,
                self.cky_i,
                &sai_b,
                &id.body(),
            );
            same_mac(got, &expected)
                .then_some(())
                .ok_or(PeerMisbehaved::HashMismatch)
        });
        if let Err(m) = verified {
            tracing::debug!(
                cky_i = self.cky_i,
                "main mode message 6 does not verify: {m}"
            );
            self.close();
            ctx.misbehaved(m);
            self.emit(ctx, EventKind::PayloadDecryptionFailed);
            return;
        }
        let last = ike_crypto::v1::last_block(ciphertext);
        keys.iv = last.clone();
        keys.last_block = last;
        self.clear_pending();
        self.established(ctx, &transform, keys);
        // A phase 1 rekey keeps the IPsec SAs it takes over; a first main mode needs one
        // quick mode per selector pair (one, but for a policy-based CGW).
        if self.replaces.is_none() {
            for pair in 0..ctx.config.ts_pairs().count() {
                self.start_quick_mode(ctx, None, pair);
            }
        }
    }

    /// The ISAKMP SA is up: its lifetime starts (the shorter of ours and the peer's).
    fn established(
        &mut self,
        ctx: &mut Ctx<'_>,
        transform: &ike_wire::v1::Transform,
        keys: P1Keys,
    ) {
        self.state = State::Established(Box::new(keys));
        self.timers.stop(Timer::HalfOpen);
        self.last_heard = ctx.now;
        let ours = ctx.config.lifetimes.ike;
        let theirs = lifetime(transform, ike_attr::LIFE_TYPE, ike_attr::LIFE_DURATION)
            .map(|s| Duration::from_secs(s.into()));
        self.lifetime = theirs.map_or(ours, |t| t.min(ours));
        let (rekey_at, expire_at) = ctx.lifetime(self.lifetime);
        self.timers.arm(Timer::RekeyIke, rekey_at);
        self.timers.set(Timer::ExpireIke, expire_at);
        let selected = self.selected.unwrap_or(Selected {
            number: 0,
            encryption: crate::proposal::Cipher::new(ike_wire::EncrId::AES_CBC, None),
            integrity: None,
            prf: None,
            dh: None,
            esn: None,
            integrity_none: false,
            dh_none: false,
        });
        if let Some(old) = self.replaces {
            ctx.effects.push(Effect::ReplacePhase1 { old });
            self.emit_with(
                ctx,
                EventKind::IkeSaRekeyed {
                    spi_i: self.cky_i,
                    spi_r: self.cky_r,
                },
                SaState::Established,
                self.phase2(),
            );
        } else {
            self.emit(
                ctx,
                EventKind::IkeSaEstablished {
                    spi_i: self.cky_i,
                    spi_r: self.cky_r,
                    selected,
                },
            );
        }
    }
}
