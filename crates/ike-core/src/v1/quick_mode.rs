//! Quick mode (RFC 2409 §5.5): the IPsec SA, protected by the ISAKMP SA, with HASH(1..3)
//! proving each message, optional PFS (a KE payload), client IDs as traffic selectors,
//! and KEYMAT per direction. A new quick mode for the same selectors replaces an old SA
//! (IKEv1 has no REKEY_SA), and the old one is deleted afterwards.

use std::net::IpAddr;
use std::time::Duration;

use ike_crypto::v1::{phase2_iv, qm_hash1, qm_hash2, qm_hash3, qm_keymat, Cbc};
use ike_crypto::{child_sa_key_len, Encryption, Integrity, KeyExchange};
use ike_wire::v1::encapsulation::{self, UDP_ENCAPSULATED_TUNNEL as UDP_TUNNEL};
use ike_wire::v1::{
    doi, encode_payloads, id_type, ipsec_attr, protocol, ExchangeType, Id, Message, Payload,
    Proposal, Sa,
};
use ike_wire::{DhGroup, PayloadType, TrafficSelector, TsType};

use super::exchange::message_id;
use super::proposal::{lifetime, phase2_as_proposal, phase2_transforms};
use super::{Awaiting, Phase1Sa, QuickMode};
use crate::child::{ChildSa, ChildState};
use crate::event::{ChildFailure, DropReason, EventKind};
use crate::failure::PeerMisbehaved;
use crate::proposal::Selected;
use crate::shell::timer::ChildTimer;
use crate::shell::{same_mac, Ctx, Role, Spi};
use crate::ts;

pub(super) const NONCE_LEN: usize = 32;

/// A traffic selector as an IKEv1 client ID (a subnet, RFC 2407 §4.6.2).
pub(super) fn client_id(t: &TrafficSelector) -> Payload {
    let (ty, data) = match (t.start_addr, t.end_addr) {
        (IpAddr::V4(s), IpAddr::V4(e)) => {
            let mask = !(u32::from(s) ^ u32::from(e));
            let mut d = s.octets().to_vec();
            d.extend_from_slice(&mask.to_be_bytes());
            (id_type::IPV4_ADDR_SUBNET, d)
        }
        (IpAddr::V6(s), IpAddr::V6(e)) => {
            let mask = !(u128::from(s) ^ u128::from(e));
            let mut d = s.octets().to_vec();
            d.extend_from_slice(&mask.to_be_bytes());
            (id_type::IPV6_ADDR_SUBNET, d)
        }
        _ => (id_type::IPV4_ADDR_SUBNET, vec![0; 8]),
    };
    Payload::Id(Id {
        id_type: ty,
        protocol: t.ip_protocol,
        port: 0,
        data,
    })
}

/// A client ID back as a traffic selector.
pub(super) fn selector(id: &Id) -> Option<TrafficSelector> {
    let d = &id.data;
    let (start, end, ts_type): (IpAddr, IpAddr, TsType) = match id.id_type {
        id_type::IPV4_ADDR_SUBNET if d.len() == 8 => {
            let a = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
            let m = u32::from_be_bytes([d[4], d[5], d[6], d[7]]);
            (
                (a & m).to_be_bytes().into(),
                (a | !m).to_be_bytes().into(),
                TsType::IPV4_ADDR_RANGE,
            )
        }
        id_type::IPV4_ADDR if d.len() == 4 => {
            let a: IpAddr = [d[0], d[1], d[2], d[3]].into();
            (a, a, TsType::IPV4_ADDR_RANGE)
        }
        id_type::IPV6_ADDR_SUBNET if d.len() == 32 => {
            let a = u128::from_be_bytes(d[..16].try_into().ok()?);
            let m = u128::from_be_bytes(d[16..].try_into().ok()?);
            (
                (a & m).to_be_bytes().into(),
                (a | !m).to_be_bytes().into(),
                TsType::IPV6_ADDR_RANGE,
            )
        }
        _ => return None,
    };
    Some(TrafficSelector {
        ts_type,
        ip_protocol: id.protocol,
        start_port: 0,
        end_port: 65535,
        start_addr: start,
        end_addr: end,
    })
}

pub(super) fn host(ip: IpAddr) -> TrafficSelector {
    ts::cidr(ip, if ip.is_ipv4() { 32 } else { 128 })
}

pub(super) fn ids(p: &[Payload]) -> Vec<&Id> {
    p.iter()
        .filter_map(|p| {
            if let Payload::Id(i) = p {
                Some(i)
            } else {
                None
            }
        })
        .collect()
}

/// The ESP key length per direction for the chosen transform (§5.5).
pub(super) fn keymat_len(selected: &Selected) -> Option<usize> {
    let encryption = Encryption::new(selected.encryption.id, selected.encryption.key_bits).ok()?;
    let integrity = selected.integrity.map(Integrity::new).transpose().ok()?;
    Some(child_sa_key_len(&encryption, integrity.as_ref()))
}

impl Phase1Sa {
    /// Starts a quick mode for a new CHILD SA with the selector pair `pair` (0:
    /// `local_ts`/`remote_ts`, then `more_children`: a policy-based CGW has a quick mode per
    /// pair), or to replace `rekey_of` (its selectors).
    pub(super) fn start_quick_mode(
        &mut self,
        ctx: &mut Ctx<'_>,
        rekey_of: Option<Spi>,
        pair: usize,
    ) {
        if self.pending.is_some() {
            // Waits its turn, once: the rekey timer that asked stops (as IKEv2's does when
            // its rekey is queued), or it would fire again at once, for ever.
            if let Some(c) =
                rekey_of.and_then(|spi| self.children.iter_mut().find(|c| c.spi_in == spi))
            {
                c.timers.stop(ChildTimer::Rekey);
            }
            if !self.queued_quick.contains(&(rekey_of, pair)) {
                self.queued_quick.push_back((rekey_of, pair));
            }
            return;
        }
        if self.keys().is_none() {
            ctx.drop_message(
                DropReason::NoKeys,
                "quick mode before the ISAKMP SA has keys",
            );
            return;
        }
        let old = rekey_of.and_then(|spi| self.children.iter().find(|c| c.spi_in == spi));
        let configured = ctx.config.ts_pairs().nth(pair);
        let (ts_local, ts_remote) = match (old, configured) {
            (Some(c), _) => (c.ts_local.clone(), c.ts_remote.clone()),
            (None, Some((local, remote))) => (local.to_vec(), remote.to_vec()),
            (None, None) => return,
        };
        let groups: Vec<DhGroup> = ctx
            .config
            .esp
            .proposals
            .iter()
            .flat_map(|p| p.dh.iter().copied())
            .collect();
        let group = old
            .and_then(|c| c.selected)
            .and_then(|s| s.dh)
            .or(self
                .selected
                .and_then(|s| s.dh)
                .filter(|g| groups.contains(g)))
            .or(groups.first().copied());
        let ke = match group.map(KeyExchange::generate).transpose() {
            Ok(k) => k,
            Err(e) => {
                tracing::warn!("quick mode PFS group {group:?}: {e}");
                return;
            }
        };
        if let Some(c) = rekey_of.and_then(|spi| self.children.iter_mut().find(|c| c.spi_in == spi))
        {
            c.set_state(ChildState::Rekeying);
            c.timers.stop(ChildTimer::Rekey);
        }
        let mid = message_id(ctx);
        let spi_in = ctx.esp_spi();
        let ni = ctx.random_bytes(NONCE_LEN);
        let secs = u32::try_from(ctx.config.lifetimes.child.as_secs()).unwrap_or(u32::MAX);
        let nat = self.nat.detected();
        // With PFS every transform carries the KE payload's group: keep only those.
        let specs: Vec<_> = ctx
            .config
            .esp
            .proposals
            .iter()
            .map(|p| {
                let mut p = p.clone();
                if let Some(g) = group {
                    p.dh = vec![g];
                }
                p
            })
            .collect();
        let proposal = Proposal {
            number: 1,
            protocol: protocol::IPSEC_ESP,
            spi: spi_in.to_be_bytes().to_vec(),
            // With a NAT on the path ESP goes in UDP, and the mode must say so (RFC 3947
            // §5.1): a peer takes plain tunnel mode for unencapsulated ESP.
            transforms: phase2_transforms(
                &specs,
                secs,
                if nat {
                    UDP_TUNNEL
                } else {
                    encapsulation::TUNNEL
                },
            ),
        };
        let mut rest = vec![
            Payload::Sa(Sa {
                doi: doi::IPSEC,
                situation: doi::SIT_IDENTITY_ONLY,
                proposals: vec![proposal],
            }),
            Payload::Nonce(ni.clone()),
        ];
        if let Some(ke) = &ke {
            rest.push(Payload::Ke(ke.public_value().to_vec()));
        }
        if let (Some(l), Some(r)) = (ts_local.first(), ts_remote.first()) {
            rest.push(client_id(l));
            rest.push(client_id(r));
        }
        let Some(keys) = self.keys() else {
            ctx.drop_message(DropReason::NoKeys, "no keys yet");
            return;
        };
        let h1 = qm_hash1(&keys.prf, &keys.skeyid_a, mid, &encode_payloads(&rest).1);
        let iv = phase2_iv(keys.hash, &keys.last_block, mid, Cbc::BLOCK);
        let mut payloads = vec![Payload::Hash(h1)];
        payloads.extend(rest);
        let (datagram, next_iv) =
            self.encrypted(ctx, keys, ExchangeType::QUICK_MODE, mid, &iv, &payloads);
        self.quick.push(QuickMode {
            mid,
            role: Role::Initiator,
            iv: next_iv,
            ni,
            nr: Vec::new(),
            ke,
            spi_in,
            rekey_of,
            ts_local,
            ts_remote,
        });
        self.send_awaiting(ctx, Awaiting::Quick(mid), datagram);
    }

    /// A quick mode message for this (established) ISAKMP SA.
    pub(super) fn handle_quick_mode(&mut self, ctx: &mut Ctx<'_>, msg: &Message, raw: &[u8]) {
        let mid = msg.header.message_id;
        match self.quick.iter().position(|q| q.mid == mid) {
            None => self.on_quick1(ctx, msg, raw),
            Some(i) if self.quick[i].role == Role::Initiator => self.on_quick2(ctx, msg, raw, i),
            Some(i) => self.on_quick3(ctx, msg, i),
        }
    }

    fn on_quick2(&mut self, ctx: &mut Ctx<'_>, msg: &Message, raw: &[u8], i: usize) {
        let Some(keys) = self.keys() else {
            ctx.drop_message(DropReason::NoKeys, "no keys yet");
            return;
        };
        let q = &self.quick[i];
        let mid = q.mid;
        let Some((payloads, next_iv)) = Self::decrypt(ctx, keys, msg, &q.iv) else {
            ctx.stats.integrity_failures += 1;
            return;
        };
        let Some((Payload::Hash(h2), rest)) = payloads.split_first() else {
            ctx.drop_message(
                DropReason::MissingPayload,
                "quick mode 2 without HASH(2) first",
            );
            return;
        };
        let expected = qm_hash2(
            &keys.prf,
            &keys.skeyid_a,
            mid,
            &q.ni,
            &encode_payloads(rest).1,
        );
        if !same_mac(h2, &expected) {
            ctx.stats.integrity_failures += 1;
            return;
        }
        self.heard(ctx);
        self.clear_pending();
        let mut q = self.quick.remove(i);
        let missing = |payload| PeerMisbehaved::MissingPayload { payload };
        let fail = |sa: &mut Phase1Sa, ctx: &mut Ctx<'_>, q: &QuickMode, m: PeerMisbehaved| {
            sa.restore(q.rekey_of);
            sa.emit(
                ctx,
                EventKind::ChildSaFailed {
                    failure: ChildFailure::Misbehaved(m),
                },
            );
            sa.next_queued(ctx);
        };
        let sa = rest.iter().find_map(|p| {
            if let Payload::Sa(s) = p {
                Some(s)
            } else {
                None
            }
        });
        let nr = rest.iter().find_map(|p| {
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
        let Some(sa) = sa else {
            return fail(self, ctx, &q, missing(PayloadType::SA));
        };
        let Some(nr) = nr else {
            return fail(self, ctx, &q, missing(PayloadType::NONCE));
        };
        let Some(p) = sa.proposals.first() else {
            return fail(self, ctx, &q, PeerMisbehaved::SelectedSeveralProposals);
        };
        let Some(t) = p.transforms.first() else {
            return fail(self, ctx, &q, PeerMisbehaved::SelectedUnofferedProposal);
        };
        let Ok(spi_out) = <[u8; 4]>::try_from(p.spi.as_slice()).map(u32::from_be_bytes) else {
            return fail(self, ctx, &q, PeerMisbehaved::BadSpiSize);
        };
        let Some(selected) = Selected::from_wire(&phase2_as_proposal(t))
            .filter(|s| ctx.config.esp.proposals.iter().any(|p| p.allows(s)))
        else {
            return fail(self, ctx, &q, PeerMisbehaved::SelectedUnofferedProposal);
        };
        let g_xy = match (q.ke.take(), peer_ke) {
            (Some(k), Some(p)) => match k.shared_secret(&p) {
                Ok(g) => Some(g),
                Err(_) => return fail(self, ctx, &q, PeerMisbehaved::KeValueUnusable),
            },
            (None, None) => None,
            (Some(_), None) => return fail(self, ctx, &q, missing(PayloadType::KE)),
            // PFS where we asked for none.
            (None, Some(_)) => {
                return fail(self, ctx, &q, PeerMisbehaved::SelectedUnofferedProposal)
            }
        };
        let Some(keys) = self.keys() else {
            ctx.drop_message(DropReason::NoKeys, "no keys yet");
            return;
        };
        let h3 = qm_hash3(&keys.prf, &keys.skeyid_a, mid, &q.ni, &nr);
        let (datagram, _) = self.encrypted(
            ctx,
            keys,
            ExchangeType::QUICK_MODE,
            mid,
            &next_iv,
            &[Payload::Hash(h3)],
        );
        let mut child = ChildSa::negotiating(q.spi_in);
        if let Some(len) = keymat_len(&selected) {
            let inbound = qm_keymat(
                &keys.prf,
                &keys.skeyid_d,
                g_xy.as_deref(),
                protocol::IPSEC_ESP,
                q.spi_in.0,
                &q.ni,
                &nr,
                len,
            );
            let outbound = qm_keymat(
                &keys.prf,
                &keys.skeyid_d,
                g_xy.as_deref(),
                protocol::IPSEC_ESP,
                spi_out,
                &q.ni,
                &nr,
                len,
            );
            child.keymat = [inbound, outbound].concat();
        }
        // The responder resends message 2 until message 3 reaches it: a resent message 2
        // gets message 3 again, like any request we answered.
        self.send_answer(ctx, raw, datagram);
        child.spi_out = Spi(spi_out);
        child.selected = Some(selected);
        child.ts_local = q.ts_local.clone();
        child.ts_remote = q.ts_remote.clone();
        child.replaces = q.rekey_of;
        child.install();
        let lifetime = lifetime(t, ipsec_attr::SA_LIFE_TYPE, ipsec_attr::SA_LIFE_DURATION)
            .map(|s| Duration::from_secs(s.into()))
            .unwrap_or(ctx.config.lifetimes.child)
            .min(ctx.config.lifetimes.child);
        let (rekey_at, expire_at) = ctx.lifetime(lifetime);
        child.timers.arm(ChildTimer::Rekey, rekey_at);
        child.timers.set(ChildTimer::Expire, expire_at);
        crate::shell::push_exact(&mut self.children, child);
        let spi_in = q.spi_in;
        match q.rekey_of {
            Some(old) => {
                self.emit(
                    ctx,
                    EventKind::ChildSaRekeyed {
                        old_spi_in: old.0,
                        spi_in: spi_in.0,
                        spi_out,
                    },
                );
                self.delete_child(ctx, old);
            }
            None => self.emit(
                ctx,
                EventKind::ChildSaEstablished {
                    spi_in: spi_in.0,
                    spi_out,
                    selected,
                },
            ),
        }
        self.next_queued(ctx);
    }

    /// A phase 2 rekey that did not happen leaves the old SA as it was.
    pub(super) fn restore(&mut self, rekey_of: Option<Spi>) {
        if let Some(c) = rekey_of.and_then(|spi| self.children.iter_mut().find(|c| c.spi_in == spi))
        {
            c.set_state(ChildState::Installed);
        }
    }

    pub(super) fn next_queued(&mut self, ctx: &mut Ctx<'_>) {
        if self.pending.is_none() {
            if let Some((rekey_of, pair)) = self.queued_quick.pop_front() {
                self.start_quick_mode(ctx, rekey_of, pair);
            }
        }
    }
}
