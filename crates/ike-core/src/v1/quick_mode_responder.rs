//! Quick mode as the responder (RFC 2409 §5.5): message 1 chooses an ESP proposal, narrows
//! the client IDs to our selectors and answers with message 2; message 3 installs the
//! IPsec SA and ends the one it replaces.

use std::time::Duration;

use ike_crypto::v1::{phase2_iv, qm_hash1, qm_hash2, qm_hash3, qm_keymat, Cbc};
use ike_crypto::KeyExchange;
use ike_wire::v1::{
    encode_payloads, ipsec_attr, protocol, ExchangeType, Message, NotifyType, Payload, Proposal, Sa,
};

use super::exchange::notification;
use super::proposal::{chosen, lifetime, phase2_as_proposal};
use super::quick_mode::{client_id, host, ids, keymat_len, selector, NONCE_LEN};
use super::{Awaiting, Phase1Sa, QuickMode};
use crate::child::{ChildSa, ChildState};
use crate::config::NewChildSa;
use crate::event::{ChildFailure, Direction, DropReason, EventKind};
use crate::failure::PeerIncompatible;
use crate::proposal::{select, Negotiation};
use crate::shell::timer::ChildTimer;
use crate::shell::{same_mac, Ctx, Role, Spi};
use crate::ts;

impl Phase1Sa {
    pub(super) fn on_quick1(&mut self, ctx: &mut Ctx<'_>, msg: &Message, raw: &[u8]) {
        let Some(keys) = self.keys() else {
            ctx.drop_message(DropReason::NoKeys, "no keys yet");
            return;
        };
        let mid = msg.header.message_id;
        let iv = phase2_iv(keys.hash, &keys.last_block, mid, Cbc::BLOCK);
        let Some((payloads, next_iv)) = Self::decrypt(ctx, keys, msg, &iv) else {
            ctx.stats.integrity_failures += 1;
            return;
        };
        let Some((Payload::Hash(h1), rest)) = payloads.split_first() else {
            ctx.drop_message(
                DropReason::MissingPayload,
                "quick mode 1 without HASH(1) first",
            );
            return;
        };
        if !same_mac(
            h1,
            &qm_hash1(&keys.prf, &keys.skeyid_a, mid, &encode_payloads(rest).1),
        ) {
            ctx.stats.integrity_failures += 1;
            return;
        }
        self.heard(ctx);
        let sa = rest.iter().find_map(|p| {
            if let Payload::Sa(s) = p {
                Some(s)
            } else {
                None
            }
        });
        let ni = rest.iter().find_map(|p| {
            if let Payload::Nonce(n) = p {
                Some(n.clone())
            } else {
                None
            }
        });
        let peer_ke = rest.iter().find_map(|p| {
            if let Payload::Ke(k) = p {
                Some(k.clone())
            } else {
                None
            }
        });
        let (Some(sa), Some(ni)) = (sa, ni) else {
            ctx.drop_message(
                DropReason::MissingPayload,
                "quick mode 1 without SA or Nonce",
            );
            return;
        };
        let Some(offer) = sa
            .proposals
            .iter()
            .find(|p| p.protocol == protocol::IPSEC_ESP)
        else {
            ctx.drop_message(
                DropReason::MissingPayload,
                "quick mode 1 without an ESP proposal",
            );
            return;
        };
        let Ok(spi_out) = <[u8; 4]>::try_from(offer.spi.as_slice()).map(u32::from_be_bytes) else {
            ctx.drop_message(DropReason::Unusable, "quick mode 1: ESP SPI not 4 bytes");
            return;
        };
        let refuse =
            |sa: &mut Phase1Sa, ctx: &mut Ctx<'_>, ty: NotifyType, failure: ChildFailure| {
                sa.send_informational(
                    ctx,
                    notification(
                        ty,
                        protocol::IPSEC_ESP,
                        spi_out.to_be_bytes().to_vec(),
                        Vec::new(),
                    ),
                );
                sa.emit(ctx, EventKind::ChildSaFailed { failure });
            };
        let as_v2: Vec<_> = offer.transforms.iter().map(phase2_as_proposal).collect();
        let selected = match select(&as_v2, &ctx.config.esp, Negotiation::ChildWithKe) {
            Ok(s) if s.dh.is_some() == peer_ke.is_some() => s,
            Ok(_) | Err(_) => {
                let unsupported = select(&as_v2, &ctx.config.esp, Negotiation::ChildWithKe)
                    .err()
                    .is_some_and(|e| e.unsupported);
                refuse(
                    self,
                    ctx,
                    NotifyType::NO_PROPOSAL_CHOSEN,
                    ChildFailure::Incompatible(
                        PeerIncompatible::NoProposalChosen { unsupported },
                        Direction::Sent,
                    ),
                );
                return;
            }
        };
        let Some(transform) = chosen(&offer.transforms, &selected).cloned() else {
            ctx.drop_message(
                DropReason::Unusable,
                "quick mode 1: chosen transform not found",
            );
            return;
        };
        // Client IDs: absent means the two peers themselves (RFC 2409 §5.5).
        let client = ids(rest);
        let (tsi, tsr) = match client.as_slice() {
            [i, r] => (selector(i), selector(r)),
            _ => (Some(host(self.remote.ip())), Some(host(self.local.ip()))),
        };
        let (Some(tsi), Some(tsr)) = (tsi, tsr) else {
            ctx.drop_message(
                DropReason::Unusable,
                "quick mode 1: client IDs that are no selectors",
            );
            return;
        };
        // The first of our selector pairs that leaves something on both sides.
        let narrowed = ctx.config.ts_pairs().find_map(|(local, remote)| {
            let tsi = ts::narrow(std::slice::from_ref(&tsi), remote);
            let tsr = ts::narrow(std::slice::from_ref(&tsr), local);
            tsi.first().cloned().zip(tsr.first().cloned())
        });
        let refused = narrowed.is_none()
            || narrowed
                .as_ref()
                .is_some_and(|(i, r)| self.one_pair_refuses(ctx, i, r));
        let (Some((tsi1, tsr1)), false) = (narrowed, refused) else {
            refuse(
                self,
                ctx,
                NotifyType::INVALID_ID_INFORMATION,
                ChildFailure::Incompatible(PeerIncompatible::TsUnacceptable, Direction::Sent),
            );
            return;
        };
        let ours = match selected.dh.map(KeyExchange::generate).transpose() {
            Ok(k) => k,
            Err(_) => {
                ctx.drop_message(DropReason::Unusable, "quick mode 1: our PFS KE failed");
                return;
            }
        };
        let our_public = ours.as_ref().map(|k| k.public_value().to_vec());
        let g_xy = match (ours, &peer_ke) {
            (Some(k), Some(p)) => match k.shared_secret(p) {
                Ok(g) => Some(g),
                Err(_) => {
                    ctx.drop_message(
                        DropReason::Unusable,
                        "quick mode 1: the KE value does not compute",
                    );
                    return;
                }
            },
            _ => None,
        };
        let nr = ctx.random_bytes(NONCE_LEN);
        let spi_in = ctx.esp_spi();
        let mut t = transform.clone();
        t.number = 1;
        let proposal = Proposal {
            number: offer.number,
            protocol: protocol::IPSEC_ESP,
            spi: spi_in.to_be_bytes().to_vec(),
            transforms: vec![t],
        };
        let mut rest2 = vec![
            Payload::Sa(Sa {
                doi: sa.doi,
                situation: sa.situation,
                proposals: vec![proposal],
            }),
            Payload::Nonce(nr.clone()),
        ];
        if let Some(p) = our_public {
            rest2.push(Payload::Ke(p));
        }
        if client.len() == 2 {
            rest2.push(client_id(&tsi1));
            rest2.push(client_id(&tsr1));
        }
        let Some(keys) = self.keys() else {
            ctx.drop_message(DropReason::NoKeys, "no keys yet");
            return;
        };
        let h2 = qm_hash2(
            &keys.prf,
            &keys.skeyid_a,
            mid,
            &ni,
            &encode_payloads(&rest2).1,
        );
        let mut payloads2 = vec![Payload::Hash(h2)];
        payloads2.extend(rest2);
        let (datagram, next_iv2) = self.encrypted(
            ctx,
            keys,
            ExchangeType::QUICK_MODE,
            mid,
            &next_iv,
            &payloads2,
        );
        let lifetime_secs = lifetime(
            &transform,
            ipsec_attr::SA_LIFE_TYPE,
            ipsec_attr::SA_LIFE_DURATION,
        );
        let mut child = ChildSa::negotiating(spi_in);
        if let (Some(len), Some(keys)) = (keymat_len(&selected), self.keys()) {
            let inbound = qm_keymat(
                &keys.prf,
                &keys.skeyid_d,
                g_xy.as_deref(),
                protocol::IPSEC_ESP,
                spi_in.0,
                &ni,
                &nr,
                len,
            );
            let outbound = qm_keymat(
                &keys.prf,
                &keys.skeyid_d,
                g_xy.as_deref(),
                protocol::IPSEC_ESP,
                spi_out,
                &ni,
                &nr,
                len,
            );
            child.keymat = [inbound, outbound].concat();
        }
        child.spi_out = Spi(spi_out);
        child.selected = Some(selected);
        child.ts_local = vec![tsr1];
        child.ts_remote = vec![tsi1];
        let lifetime = lifetime_secs
            .map(|s| Duration::from_secs(s.into()))
            .unwrap_or(ctx.config.lifetimes.child)
            .min(ctx.config.lifetimes.child);
        let (rekey_at, expire_at) = ctx.lifetime(lifetime);
        child.timers.arm(ChildTimer::Rekey, rekey_at);
        child.timers.set(ChildTimer::Expire, expire_at);
        crate::shell::push_exact(&mut self.children, child);
        self.quick.push(QuickMode {
            mid,
            role: Role::Responder,
            iv: next_iv2,
            ni,
            nr,
            ke: None,
            spi_in,
            rekey_of: None,
            ts_local: Vec::new(),
            ts_remote: Vec::new(),
        });
        self.emit(ctx, EventKind::ChildSaNegotiating);
        self.last_in = Some(raw.to_vec());
        self.last_out = Some(datagram.clone());
        self.send_awaiting(ctx, Awaiting::QuickFinish(mid), datagram);
    }

    pub(super) fn on_quick3(&mut self, ctx: &mut Ctx<'_>, msg: &Message, i: usize) {
        let Some(keys) = self.keys() else {
            ctx.drop_message(DropReason::NoKeys, "no keys yet");
            return;
        };
        let q = &self.quick[i];
        let Some((payloads, _)) = Self::decrypt(ctx, keys, msg, &q.iv) else {
            ctx.stats.integrity_failures += 1;
            return;
        };
        let Some(Payload::Hash(h3)) = payloads.first() else {
            ctx.drop_message(DropReason::MissingPayload, "quick mode 3 without HASH(3)");
            return;
        };
        if !same_mac(
            h3,
            &qm_hash3(&keys.prf, &keys.skeyid_a, q.mid, &q.ni, &q.nr),
        ) {
            ctx.stats.integrity_failures += 1;
            return;
        }
        self.heard(ctx);
        let q = self.quick.remove(i);
        if self
            .pending
            .as_ref()
            .is_some_and(|p| p.awaiting == Awaiting::QuickFinish(q.mid))
        {
            self.clear_pending();
        }
        let Some(pos) = self.children.iter().position(|c| c.spi_in == q.spi_in) else {
            ctx.drop_message(
                DropReason::UnexpectedMessage,
                "quick mode 3 for an IPsec SA that is gone",
            );
            return;
        };
        // Its keys go into use now that the initiator has shown it holds them (§5.5).
        self.children[pos].install();
        let (ts_l, ts_r, spi_out) = (
            self.children[pos].ts_local.clone(),
            self.children[pos].ts_remote.clone(),
            self.children[pos].spi_out,
        );
        let selected = self.children[pos].selected;
        // The same selectors as an SA we have: the peer is replacing it (a phase 2 rekey).
        let old = self.children.iter_mut().find(|c| {
            c.spi_in != q.spi_in && !c.is_deleting() && c.ts_local == ts_l && c.ts_remote == ts_r
        });
        match (old, selected) {
            (Some(old), _) => {
                old.state = ChildState::Deleting;
                old.timers.stop(ChildTimer::Rekey);
                let old_spi_in = old.spi_in;
                self.children[pos].replaces = Some(old_spi_in);
                self.emit(
                    ctx,
                    EventKind::ChildSaRekeyed {
                        old_spi_in: old_spi_in.0,
                        spi_in: q.spi_in.0,
                        spi_out: spi_out.0,
                    },
                );
            }
            (None, Some(selected)) => {
                self.emit(
                    ctx,
                    EventKind::ChildSaEstablished {
                        spi_in: q.spi_in.0,
                        spi_out: spi_out.0,
                        selected,
                    },
                );
                if ctx.config.new_child_sa == NewChildSa::ReplaceOthers {
                    self.delete_other_children(ctx, q.spi_in);
                }
            }
            (None, None) => {}
        }
        self.next_queued(ctx);
    }
}
