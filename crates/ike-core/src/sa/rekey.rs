//! CREATE_CHILD_SA (RFC 7296 §1.3): rekeying CHILD SAs (§1.3.3, with optional PFS) and the
//! IKE SA itself (§1.3.2, §2.18), for both roles, including simultaneous rekeys resolved
//! by nonce comparison (§2.8.1).
//!
//! ```text
//! initiator                                   responder
//!  |-- HDR, SK {N(REKEY_SA), SA, Ni, [KEi], TSi, TSr} -->|   CHILD SA rekey
//!  |<-- HDR, SK {SA, Nr, [KEr], TSi, TSr} ---------------|
//!  |-- HDR, SK {D(old SPI)} ---------------------------->|   the initiator deletes the old SA
//!
//!  |-- HDR, SK {SA(new SPIi), Ni, KEi} ----------------->|   IKE SA rekey
//!  |<-- HDR, SK {SA(new SPIr), Nr, KEr} -----------------|
//!  |-- HDR(old SPIs), SK {D} --------------------------->|
//! ```

use std::time::Duration;

use ike_crypto::{rekey_skeyseed, Encryption, IkeSuite, Integrity, KeyExchange, Prf};
use ike_wire::{
    DhGroup, ExchangeType, KeyExchange as KePayload, Notify, NotifyType, Payload, Proposal,
    ProtocolId,
};
use rand::RngCore;

use super::{ChildRekey, Established, IkeRekey, IkeSa, Keys, Purpose, State};
use crate::child::{ChildParams, ChildSa, ChildState};
use crate::event::{ChildFailure, Direction, DropReason, EventKind, SaState};
use crate::proposal::{select, Negotiation, Selected};
use crate::shell::timer::{ChildTimer, Timer};
use crate::shell::Ctx;
use crate::shell::Role;
use crate::shell::{Effect, IkeSaId};
use crate::ts;

/// How long to wait at least before retrying an exchange the peer refused with
/// TEMPORARY_FAILURE (up to twice this, at random; strongSwan waits 5–15 s).
const TEMPORARY_FAILURE_WAIT: Duration = Duration::from_secs(5);

fn find<'a, T>(
    payloads: &'a [Payload],
    pick: impl Fn(&'a Payload) -> Option<&'a T>,
) -> Option<&'a T> {
    payloads.iter().find_map(pick)
}

fn sa_of(p: &[Payload]) -> Option<&Vec<Proposal>> {
    find(p, |p| {
        if let Payload::Sa(s) = p {
            Some(s)
        } else {
            None
        }
    })
}

fn nonce_of(p: &[Payload]) -> Option<&Vec<u8>> {
    find(p, |p| {
        if let Payload::Nonce(n) = p {
            Some(n)
        } else {
            None
        }
    })
}

fn ke_of(p: &[Payload]) -> Option<&KePayload> {
    find(p, |p| {
        if let Payload::Ke(k) = p {
            Some(k)
        } else {
            None
        }
    })
}

fn notify_of(p: &[Payload], ty: NotifyType) -> Option<&Notify> {
    find(p, |p| {
        if let Payload::Notify(n) = p {
            (n.ty == ty).then_some(n)
        } else {
            None
        }
    })
}

fn first_error(p: &[Payload]) -> Option<NotifyType> {
    p.iter().find_map(|p| match p {
        Payload::Notify(n) if n.ty.is_error() => Some(n.ty),
        _ => None,
    })
}

fn spi32(bytes: &[u8]) -> Option<u32> {
    <[u8; 4]>::try_from(bytes).ok().map(u32::from_be_bytes)
}

fn spi64(bytes: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(bytes).ok().map(u64::from_be_bytes)
}

/// The lowest of the nonces of an exchange: the one with the lowest of all four is the
/// redundant one in a collision (§2.8.1).
fn lowest<'a>(a: &'a [u8], b: &'a [u8]) -> &'a [u8] {
    a.min(b)
}

fn suite_of(selected: &Selected) -> Result<IkeSuite, ike_crypto::CryptoError> {
    let prf = selected
        .prf
        .ok_or(ike_crypto::CryptoError::Unsupported { what: "PRF", id: 0 })?;
    Ok(IkeSuite {
        encryption: Encryption::new(selected.encryption.id, selected.encryption.key_bits)?,
        integrity: selected.integrity.map(Integrity::new).transpose()?,
        prf: Prf::new(prf)?,
    })
}

impl IkeSa {
    fn established_keys(&self) -> Option<&Keys> {
        match &self.state {
            State::Established(e) => Some(&e.keys),
            _ => None,
        }
    }

    /// The DH group for a CHILD SA rekey with PFS: the old SA's, else the IKE SA's if our
    /// ESP policy allows it, else our first. `None` when we do not do PFS.
    fn pfs_group(&self, ctx: &Ctx<'_>, old: Option<Selected>) -> Option<DhGroup> {
        let groups: Vec<DhGroup> = ctx
            .config
            .esp
            .proposals
            .iter()
            .flat_map(|p| p.dh.iter().copied())
            .collect();
        if groups.is_empty() {
            return None;
        }
        let ike_group = self
            .ike_selected
            .and_then(|s| s.dh)
            .filter(|g| groups.contains(g));
        old.and_then(|s| s.dh)
            .or(ike_group)
            .or(groups.first().copied())
    }

    /// Rekeys the CHILD SA `spi_in` (its rekey time came).
    pub(super) fn start_child_rekey(&mut self, ctx: &mut Ctx<'_>, spi_in: u32) {
        let Some(child) = self
            .children
            .iter()
            .find(|c| c.spi_in == spi_in && !c.is_deleting())
        else {
            return;
        };
        let group = self.pfs_group(ctx, child.selected);
        self.send_child_rekey(ctx, spi_in, group, Vec::new());
    }

    fn send_child_rekey(
        &mut self,
        ctx: &mut Ctx<'_>,
        old_spi_in: u32,
        group: Option<DhGroup>,
        mut tried: Vec<DhGroup>,
    ) {
        let ke = match group.map(KeyExchange::generate).transpose() {
            Ok(ke) => ke,
            Err(e) => {
                tracing::warn!("cannot rekey with PFS group {group:?}: {e}");
                return;
            }
        };
        let Some(child) = self.children.iter_mut().find(|c| c.spi_in == old_spi_in) else {
            return;
        };
        child.set_state(ChildState::Rekeying);
        child.timers.stop(ChildTimer::Rekey);
        let (ts_local, ts_remote) = (child.ts_local.clone(), child.ts_remote.clone());
        let new_spi_in = ctx.esp_spi();
        let ni = ctx.random_bytes(32);
        let spi = new_spi_in.to_be_bytes().to_vec();
        let proposals = ctx.config.esp.proposals.iter().zip(1u8..);
        let mut rekey_sa = Notify::new(NotifyType::REKEY_SA, Vec::new());
        rekey_sa.protocol = ProtocolId::ESP;
        rekey_sa.spi = old_spi_in.to_be_bytes().to_vec();
        let mut payloads = vec![
            Payload::Notify(rekey_sa),
            Payload::Sa(
                proposals
                    .map(|(p, n)| p.to_wire(n, ProtocolId::ESP, spi.clone(), true))
                    .collect(),
            ),
            Payload::Nonce(ni.clone()),
        ];
        if let Some(ke) = &ke {
            payloads.push(Payload::Ke(KePayload {
                group: ke.group(),
                data: ke.public_value().to_vec(),
            }));
            tried.push(ke.group());
        }
        payloads.push(Payload::TsI(ts_local));
        payloads.push(Payload::TsR(ts_remote));
        let rekey = ChildRekey {
            old_spi_in,
            new_spi_in,
            ni,
            ke,
            tried_groups: tried,
        };
        self.request(
            ctx,
            ExchangeType::CREATE_CHILD_SA,
            Purpose::RekeyChild(Box::new(rekey)),
            payloads,
        );
    }

    /// Rekeys this IKE SA (its rekey time came).
    pub(super) fn start_ike_rekey(&mut self, ctx: &mut Ctx<'_>) {
        if self.rekeying_ike() {
            return;
        }
        let Some(group) = self.ike_selected.and_then(|s| s.dh) else {
            return;
        };
        let ke = match KeyExchange::generate(group) {
            Ok(ke) => ke,
            Err(e) => {
                tracing::warn!("cannot rekey the IKE SA with group {group}: {e}");
                return;
            }
        };
        let new_spi = ctx.ike_spi();
        let ni = ctx.random_bytes(32);
        let spi = new_spi.to_be_bytes().to_vec();
        let proposals = ctx.config.ike.proposals.iter().zip(1u8..);
        let payloads = vec![
            Payload::Sa(
                proposals
                    .map(|(p, n)| p.to_wire(n, ProtocolId::IKE, spi.clone(), true))
                    .collect(),
            ),
            Payload::Nonce(ni.clone()),
            Payload::Ke(KePayload {
                group,
                data: ke.public_value().to_vec(),
            }),
        ];
        self.request(
            ctx,
            ExchangeType::CREATE_CHILD_SA,
            Purpose::RekeyIke(Box::new(IkeRekey { new_spi, ni, ke })),
            payloads,
        );
    }

    /// A CREATE_CHILD_SA request from the peer: an IKE SA rekey, a CHILD SA rekey, or a
    /// new CHILD SA.
    pub(super) fn handle_create_child_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: u32,
        payloads: &[Payload],
    ) {
        let is_ike =
            sa_of(payloads).is_some_and(|s| s.iter().any(|p| p.protocol == ProtocolId::IKE));
        if is_ike {
            self.answer_ike_rekey(ctx, id, payloads);
        } else {
            self.answer_child_request(ctx, id, payloads);
        }
    }

    fn respond_error(&mut self, ctx: &mut Ctx<'_>, id: u32, ty: NotifyType, data: Vec<u8>) {
        self.respond_notify(ctx, id, Notify::new(ty, data));
    }

    fn respond_notify(&mut self, ctx: &mut Ctx<'_>, id: u32, notify: Notify) {
        self.send_protected_response(
            ctx,
            ExchangeType::CREATE_CHILD_SA,
            id,
            &[Payload::Notify(notify)],
        );
        self.emit(ctx, EventKind::CreateChildResponseSent { id });
    }

    fn answer_child_request(&mut self, ctx: &mut Ctx<'_>, id: u32, payloads: &[Payload]) {
        // REKEY_SA names the SA by the SPI the peer receives with: our outbound SPI.
        let rekey_sa = notify_of(payloads, NotifyType::REKEY_SA);
        let old_spi_in = match rekey_sa {
            Some(n) => {
                let old = spi32(&n.spi).and_then(|spi| {
                    self.children
                        .iter()
                        .find(|c| c.spi_out == spi && !c.is_deleting())
                });
                match old {
                    Some(c) => Some(c.spi_in),
                    None => {
                        // It names the SA it did not find, as REKEY_SA did (§3.10).
                        let not_found = Notify {
                            protocol: n.protocol,
                            spi: n.spi.clone(),
                            ty: NotifyType::CHILD_SA_NOT_FOUND,
                            data: Vec::new(),
                        };
                        self.emit(ctx, EventKind::CreateChildRequestProcessed { id });
                        self.respond_notify(ctx, id, not_found);
                        return;
                    }
                }
            }
            None => None,
        };
        let our_rekey = match self.pending.as_ref().map(|p| &p.purpose) {
            Some(Purpose::RekeyChild(r)) => Some(r.old_spi_in),
            _ => None,
        };
        if let Some(child) =
            old_spi_in.and_then(|spi| self.children.iter_mut().find(|c| c.spi_in == spi))
        {
            child.set_state(ChildState::Rekeying);
        }
        self.emit(ctx, EventKind::CreateChildRequestProcessed { id });
        let (Some(offered), Some(ni)) = (sa_of(payloads), nonce_of(payloads)) else {
            self.restore_child(old_spi_in);
            self.respond_error(ctx, id, NotifyType::INVALID_SYNTAX, Vec::new());
            return;
        };
        let fail = |sa: &mut IkeSa,
                    ctx: &mut Ctx<'_>,
                    notify: NotifyType,
                    data: Vec<u8>,
                    failure: Option<ChildFailure>| {
            sa.restore_child(old_spi_in);
            sa.respond_error(ctx, id, notify, data);
            if let Some(failure) = failure {
                sa.emit(ctx, EventKind::ChildSaFailed { failure });
            }
        };
        let selected = match select(offered, &ctx.config.esp, Negotiation::ChildWithKe) {
            Ok(s) => s,
            Err(nm) => {
                let failure = ChildFailure::NoProposalChosen {
                    unsupported: nm.unsupported,
                    direction: Direction::Sent,
                };
                fail(
                    self,
                    ctx,
                    NotifyType::NO_PROPOSAL_CHOSEN,
                    Vec::new(),
                    Some(failure),
                );
                return;
            }
        };
        let peer_ke = ke_of(payloads);
        let mut our_ke = None;
        if let Some(group) = selected.dh {
            if peer_ke.map(|k| k.group) != Some(group) {
                fail(
                    self,
                    ctx,
                    NotifyType::INVALID_KE_PAYLOAD,
                    group.0.to_be_bytes().to_vec(),
                    None,
                );
                return;
            }
            match KeyExchange::generate(group) {
                Ok(k) => our_ke = Some(k),
                Err(_) => {
                    fail(self, ctx, NotifyType::NO_PROPOSAL_CHOSEN, Vec::new(), None);
                    return;
                }
            }
        }
        let public = our_ke.as_ref().map(|k| KePayload {
            group: k.group(),
            data: k.public_value().to_vec(),
        });
        let g_ir = match (our_ke, peer_ke) {
            (Some(ke), Some(peer)) => match ke.shared_secret(&peer.data) {
                Ok(g) => Some(g),
                Err(_) => {
                    fail(self, ctx, NotifyType::INVALID_SYNTAX, Vec::new(), None);
                    return;
                }
            },
            _ => None,
        };
        let tsi = find(payloads, |p| {
            if let Payload::TsI(t) = p {
                Some(t)
            } else {
                None
            }
        });
        let tsr = find(payloads, |p| {
            if let Payload::TsR(t) = p {
                Some(t)
            } else {
                None
            }
        });
        let nr = ctx.random_bytes(32);
        let spi_in = ctx.esp_spi();
        self.children.push(ChildSa::negotiating(spi_in));
        match self.accept_child(ctx, offered, tsi, tsr, ni, &nr, g_ir.as_deref()) {
            Ok((selected, tsi, tsr, spi_out)) => {
                let mut response = vec![
                    Payload::Sa(vec![
                        selected.to_wire(ProtocolId::ESP, spi_in.to_be_bytes().to_vec())
                    ]),
                    Payload::Nonce(nr.clone()),
                ];
                if let Some(ke) = public {
                    response.push(Payload::Ke(ke));
                }
                response.push(Payload::TsI(tsi));
                response.push(Payload::TsR(tsr));
                self.send_protected_response(ctx, ExchangeType::CREATE_CHILD_SA, id, &response);
                self.emit(ctx, EventKind::CreateChildResponseSent { id });
                let Some(old_spi_in) = old_spi_in else {
                    self.emit(
                        ctx,
                        EventKind::ChildSaEstablished {
                            spi_in,
                            spi_out,
                            selected,
                        },
                    );
                    return;
                };
                if let Some(old) = self.children.iter_mut().find(|c| c.spi_in == old_spi_in) {
                    old.state = ChildState::Deleting;
                    old.timers.stop(ChildTimer::Rekey);
                    if our_rekey == Some(old_spi_in) {
                        // Both sides rekey this SA at once: remember the peer's exchange.
                        old.collision = Some((ni.clone(), nr));
                    }
                }
                self.emit(
                    ctx,
                    EventKind::ChildSaRekeyed {
                        old_spi_in,
                        spi_in,
                        spi_out,
                    },
                );
            }
            Err((notify, failure)) => {
                self.children.retain(|c| c.spi_in != spi_in);
                fail(self, ctx, notify, Vec::new(), Some(failure));
            }
        }
    }

    /// A rekey that did not happen leaves the old SA as it was.
    fn restore_child(&mut self, old_spi_in: Option<u32>) {
        if let Some(c) =
            old_spi_in.and_then(|spi| self.children.iter_mut().find(|c| c.spi_in == spi))
        {
            c.set_state(ChildState::Installed);
        }
    }

    pub(super) fn handle_child_rekey_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: u32,
        mut r: ChildRekey,
        payloads: &[Payload],
    ) {
        self.emit(ctx, EventKind::CreateChildResponseProcessed { id });
        let old_exists = self.children.iter().any(|c| c.spi_in == r.old_spi_in);
        if let Some(n) = notify_of(payloads, NotifyType::INVALID_KE_PAYLOAD) {
            let group = <[u8; 2]>::try_from(n.data.as_slice())
                .map(|b| DhGroup(u16::from_be_bytes(b)))
                .ok();
            let allowed = group.filter(|g| {
                !r.tried_groups.contains(g)
                    && ctx.config.esp.proposals.iter().any(|p| p.dh.contains(g))
            });
            if let (Some(group), true) = (allowed, old_exists) {
                self.send_child_rekey(ctx, r.old_spi_in, Some(group), r.tried_groups);
                return;
            }
        }
        let failure = first_error(payloads).map(|ty| match ty {
            NotifyType::NO_PROPOSAL_CHOSEN => ChildFailure::NoProposalChosen {
                unsupported: false,
                direction: Direction::Received,
            },
            NotifyType::TS_UNACCEPTABLE => ChildFailure::TsUnacceptable {
                direction: Direction::Received,
            },
            other => ChildFailure::Notified(other),
        });
        let outcome = match failure {
            Some(f) => Err(f),
            None => self.complete_child_rekey(&mut r, payloads),
        };
        match outcome {
            Ok((selected, spi_out)) => {
                let collision = self
                    .children
                    .iter()
                    .find(|c| c.spi_in == r.old_spi_in)
                    .and_then(|c| c.collision.clone());
                let (rekey_at, expire_at) = ctx.lifetime(ctx.config.lifetimes.child);
                if let Some(child) = self.children.iter_mut().find(|c| c.spi_in == r.new_spi_in) {
                    child.timers.arm(ChildTimer::Rekey, rekey_at);
                    child.timers.set(ChildTimer::Expire, expire_at);
                }
                let nr = nonce_of(payloads).map_or(&[][..], |n| n.as_slice());
                match collision {
                    Some((peer_ni, peer_nr)) if lowest(&r.ni, nr) < lowest(&peer_ni, &peer_nr) => {
                        // Our exchange holds the lowest nonce: the SA it created is redundant
                        // and ours to delete; the peer deletes the old one (§2.8.1).
                        self.emit(
                            ctx,
                            EventKind::RedundantChildSaDeleted {
                                spi_in: r.new_spi_in,
                            },
                        );
                        self.delete_child_quietly(ctx, r.new_spi_in);
                    }
                    _ => {
                        if !old_exists {
                            // The peer deleted the old SA meanwhile: the new one just stands.
                            self.emit(
                                ctx,
                                EventKind::ChildSaEstablished {
                                    spi_in: r.new_spi_in,
                                    spi_out,
                                    selected,
                                },
                            );
                            return;
                        }
                        self.emit(
                            ctx,
                            EventKind::ChildSaRekeyed {
                                old_spi_in: r.old_spi_in,
                                spi_in: r.new_spi_in,
                                spi_out,
                            },
                        );
                        self.delete_child(ctx, r.old_spi_in);
                    }
                }
            }
            Err(failure) => {
                self.children.retain(|c| c.spi_in != r.new_spi_in);
                self.restore_child(Some(r.old_spi_in));
                self.emit(ctx, EventKind::ChildSaFailed { failure });
            }
        }
    }

    /// Checks the responder's answer to our CHILD rekey and sets up the new SA.
    fn complete_child_rekey(
        &mut self,
        r: &mut ChildRekey,
        payloads: &[Payload],
    ) -> Result<(Selected, u32), ChildFailure> {
        let invalid = ChildFailure::InvalidResponse;
        let (Some(sa), Some(nr)) = (sa_of(payloads), nonce_of(payloads)) else {
            return Err(invalid);
        };
        let tsi = find(payloads, |p| {
            if let Payload::TsI(t) = p {
                Some(t)
            } else {
                None
            }
        })
        .ok_or(invalid)?;
        let tsr = find(payloads, |p| {
            if let Payload::TsR(t) = p {
                Some(t)
            } else {
                None
            }
        })
        .ok_or(invalid)?;
        let [one] = sa.as_slice() else {
            return Err(invalid);
        };
        let selected = Selected::from_wire(one).ok_or(invalid)?;
        let spi_out = spi32(&one.spi).ok_or(invalid)?;
        let g_ir = match (r.ke.take(), ke_of(payloads), selected.dh) {
            (Some(ke), Some(peer), Some(g)) if ke.group() == g && peer.group == g => {
                Some(ke.shared_secret(&peer.data).map_err(|_| invalid)?)
            }
            (None, None, None) => None,
            _ => return Err(invalid),
        };
        let Some(keys) = self.established_keys() else {
            return Err(invalid);
        };
        let (prf, sk_d) = (keys.suite.prf, keys.sk_d.clone());
        let child_ts = self
            .children
            .iter()
            .find(|c| c.spi_in == r.old_spi_in)
            .map(|c| (c.ts_local.clone(), c.ts_remote.clone()));
        let (ts_local, ts_remote) = child_ts.unwrap_or_else(|| (tsi.clone(), tsr.clone()));
        if !ts::all_within(tsi, &ts_local) || !ts::all_within(tsr, &ts_remote) {
            return Err(invalid);
        }
        let mut child = ChildSa::negotiating(r.new_spi_in);
        let params = ChildParams {
            prf: &prf,
            sk_d: &sk_d,
            g_ir: g_ir.as_deref(),
            ni: &r.ni,
            nr,
        };
        child
            .establish(&params, spi_out, selected, tsi.clone(), tsr.clone())
            .map_err(|_| invalid)?;
        self.children.push(child);
        Ok((selected, spi_out))
    }

    /// Deletes a CHILD SA without a record of its own (the caller has told the story).
    fn delete_child_quietly(&mut self, ctx: &mut Ctx<'_>, spi_in: u32) {
        if let Some(c) = self.children.iter_mut().find(|c| c.spi_in == spi_in) {
            c.state = ChildState::Deleting;
        }
        self.delete_child(ctx, spi_in);
    }

    /// The peer rekeys this IKE SA: answer, and hand everything to the new SA.
    fn answer_ike_rekey(&mut self, ctx: &mut Ctx<'_>, id: u32, payloads: &[Payload]) {
        // Processing the peer's rekey request puts this IKE SA in rekeying (§2.18), even
        // if it is refused below.
        let phase1 = match self.phase1() {
            SaState::Established => SaState::Rekeying,
            other => other,
        };
        self.emit_with(
            ctx,
            EventKind::CreateChildRequestProcessed { id },
            phase1,
            self.phase2(),
        );
        // Not while we are deleting this IKE SA (RFC 7296 §2.25.2), nor while a CHILD SA
        // rekey of ours is in flight on it (its answer would find the CHILD SAs moved to
        // the new IKE SA): the peer retries later.
        let rekeying_child = matches!(
            self.pending.as_ref().map(|p| &p.purpose),
            Some(Purpose::RekeyChild(_))
        );
        if self.superseded || rekeying_child {
            self.respond_error(ctx, id, NotifyType::TEMPORARY_FAILURE, Vec::new());
            return;
        }
        let (Some(offered), Some(ni), Some(peer_ke)) =
            (sa_of(payloads), nonce_of(payloads), ke_of(payloads))
        else {
            self.respond_error(ctx, id, NotifyType::INVALID_SYNTAX, Vec::new());
            return;
        };
        let selected = match select(offered, &ctx.config.ike, Negotiation::Ike) {
            Ok(s) => s,
            Err(_) => {
                self.respond_error(ctx, id, NotifyType::NO_PROPOSAL_CHOSEN, Vec::new());
                return;
            }
        };
        let group = selected.dh.unwrap_or(DhGroup::NONE);
        if peer_ke.group != group {
            self.respond_error(
                ctx,
                id,
                NotifyType::INVALID_KE_PAYLOAD,
                group.0.to_be_bytes().to_vec(),
            );
            return;
        }
        let peer_spi = offered
            .iter()
            .find(|p| p.number == selected.number)
            .and_then(|p| spi64(&p.spi));
        let (Some(peer_spi), Some(old)) = (peer_spi, self.established_keys()) else {
            self.respond_error(ctx, id, NotifyType::INVALID_SYNTAX, Vec::new());
            return;
        };
        let (old_prf, old_sk_d) = (old.suite.prf, old.sk_d.clone());
        let our_spi = ctx.ike_spi();
        let nr = ctx.random_bytes(32);
        let built = KeyExchange::generate(group).and_then(|ke| {
            let public = ke.public_value().to_vec();
            let g_ir = ke.shared_secret(&peer_ke.data)?;
            let seed = rekey_skeyseed(&old_prf, &old_sk_d, &g_ir, ni, &nr);
            let suite = suite_of(&selected)?;
            let keys = suite.derive(&seed, ni, &nr, peer_spi, our_spi);
            let export =
                ctx.config
                    .export_secrets
                    .then_some((&mut *ctx.secrets, peer_spi, our_spi));
            Ok((public, Keys::new(suite, keys, Role::Responder, export)?))
        });
        let (public, keys) = match built {
            Ok(b) => b,
            Err(e) => {
                tracing::debug!("IKE rekey request unusable: {e}");
                self.respond_error(ctx, id, NotifyType::INVALID_SYNTAX, Vec::new());
                return;
            }
        };
        let response = vec![
            Payload::Sa(vec![
                selected.to_wire(ProtocolId::IKE, our_spi.to_be_bytes().to_vec())
            ]),
            Payload::Nonce(nr.clone()),
            Payload::Ke(KePayload {
                group,
                data: public,
            }),
        ];
        self.send_protected_response(ctx, ExchangeType::CREATE_CHILD_SA, id, &response);
        self.emit(ctx, EventKind::CreateChildResponseSent { id });
        let collision = matches!(
            self.pending.as_ref().map(|p| &p.purpose),
            Some(Purpose::RekeyIke(_))
        );
        if collision {
            // Both sides rekey at once: which new SA survives is decided when our own
            // exchange completes; the CHILD SAs stay here until then.
            self.ike_rekey_collision = Some((ni.clone(), nr, peer_spi, our_spi));
        }
        self.hand_over(
            ctx,
            Role::Responder,
            peer_spi,
            our_spi,
            keys,
            selected,
            !collision,
        );
    }

    /// Creates the IKE SA that replaces this one, moves the CHILD SAs to it and queues it
    /// for the endpoint; this SA is superseded.
    #[allow(clippy::too_many_arguments)]
    fn hand_over(
        &mut self,
        ctx: &mut Ctx<'_>,
        role: Role,
        spi_i: u64,
        spi_r: u64,
        keys: Keys,
        selected: Selected,
        move_children: bool,
    ) {
        let mut new = IkeSa::new(
            role,
            spi_i,
            spi_r,
            self.local,
            self.remote,
            State::Established(Box::new(Established { keys })),
            ctx.now,
        );
        new.ike_selected = Some(selected);
        new.nat = self.nat;
        new.traffic = self.traffic;
        new.on_ike_established(ctx);
        if move_children {
            new.children = std::mem::take(&mut self.children);
        }
        let phase2 = new.phase2().max(self.phase2());
        self.superseded = true;
        self.timers.stop(Timer::RekeyIke);
        self.timers.stop(Timer::ExpireIke);
        self.emit_with(
            ctx,
            EventKind::IkeSaRekeyed { spi_i, spi_r },
            SaState::Established,
            phase2,
        );
        ctx.effects.push(Effect::Spawn(Box::new(new)));
    }

    pub(super) fn handle_ike_rekey_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: u32,
        r: IkeRekey,
        payloads: &[Payload],
    ) {
        self.emit(ctx, EventKind::CreateChildResponseProcessed { id });
        if let Some(ty) = first_error(payloads) {
            tracing::debug!("IKE SA rekey refused with {ty}");
            if !self.superseded {
                if ty == NotifyType::TEMPORARY_FAILURE {
                    // Not now: try again after a while, not at once (RFC 7296 §2.25).
                    let wait = TEMPORARY_FAILURE_WAIT
                        + TEMPORARY_FAILURE_WAIT
                            .mul_f64(f64::from(ctx.rng.next_u32()) / f64::from(u32::MAX));
                    self.timers.set(Timer::RekeyIke, ctx.now + wait);
                }
                self.emit(ctx, EventKind::IkeRekeyFailed { notify: ty });
            }
            return;
        }
        let (Some(sa), Some(nr), Some(peer_ke)) =
            (sa_of(payloads), nonce_of(payloads), ke_of(payloads))
        else {
            ctx.drop_message(
                DropReason::MissingPayload,
                "IKE rekey response without SA, Nonce or KE",
            );
            return;
        };
        let chosen = match sa.as_slice() {
            [one] => Selected::from_wire(one).zip(spi64(&one.spi)),
            _ => None,
        };
        let Some((selected, peer_spi)) =
            chosen.filter(|(s, _)| ctx.config.ike.proposals.iter().any(|p| p.allows(s)))
        else {
            ctx.drop_message(
                DropReason::Unusable,
                "IKE rekey response selects no proposal we offered",
            );
            return;
        };
        let Some(old) = self.established_keys() else {
            return;
        };
        let (old_prf, old_sk_d) = (old.suite.prf, old.sk_d.clone());
        let built = r.ke.shared_secret(&peer_ke.data).and_then(|g_ir| {
            let seed = rekey_skeyseed(&old_prf, &old_sk_d, &g_ir, &r.ni, nr);
            let suite = suite_of(&selected)?;
            let keys = suite.derive(&seed, &r.ni, nr, r.new_spi, peer_spi);
            let export =
                ctx.config
                    .export_secrets
                    .then_some((&mut *ctx.secrets, r.new_spi, peer_spi));
            Keys::new(suite, keys, Role::Initiator, export)
        });
        let keys = match built {
            Ok(k) => k,
            Err(e) => {
                tracing::debug!("IKE rekey response unusable: {e}");
                ctx.drop_message(
                    DropReason::Unusable,
                    "IKE rekey response whose keys do not compute",
                );
                return;
            }
        };
        if let Some((peer_ni, peer_nr, peer_new_spi_i, our_new_spi_r)) =
            self.ike_rekey_collision.take()
        {
            if lowest(&r.ni, nr) < lowest(&peer_ni, &peer_nr) {
                // Our exchange is redundant (§2.8.1): the SA it made is deleted by us, the
                // peer's stands and the peer deletes this old one.
                let mut redundant = IkeSa::new(
                    Role::Initiator,
                    r.new_spi,
                    peer_spi,
                    self.local,
                    self.remote,
                    State::Established(Box::new(Established { keys })),
                    ctx.now,
                );
                redundant.superseded = true;
                redundant.delete(ctx);
                ctx.effects.push(Effect::Spawn(Box::new(redundant)));
                let children = std::mem::take(&mut self.children);
                ctx.effects.push(Effect::Adopt {
                    to: IkeSaId {
                        spi_i: peer_new_spi_i,
                        spi_r: our_new_spi_r,
                    },
                    children,
                });
                return;
            }
            // Ours wins: the SA the peer's exchange made is redundant and the peer deletes it.
        }
        self.hand_over(
            ctx,
            Role::Initiator,
            r.new_spi,
            peer_spi,
            keys,
            selected,
            true,
        );
        self.delete(ctx);
    }
}
