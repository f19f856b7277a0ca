//! CHILD SA rekeys (RFC 7296 §1.3.3, §2.8) with optional PFS, for both roles, including
//! simultaneous rekeys of one CHILD SA resolved by nonce comparison (§2.8.1).

use ike_crypto::KeyExchange;
use ike_wire::PayloadsExt;
use ike_wire::{
    DhGroup, ExchangeType, KeyExchange as KePayload, Notify, NotifyType, Payload, PayloadType,
    ProtocolId, TrafficSelector,
};

use super::{child_refusal, child_request_payloads, invalid_ke_retry, lowest, spi32};
use crate::child::{ChildParams, ChildSa, ChildState};
use crate::config::NewChildSa;
use crate::event::{ChildFailure, Direction, EventKind};
use crate::failure::{PeerIncompatible, PeerMisbehaved};
use crate::proposal::{select, Negotiation, Selected};
use crate::sa::{ChildRekey, IkeSa, Purpose};
use crate::shell::timer::ChildTimer;
use crate::shell::{Ctx, MessageId, Spi};
use crate::ts;

impl IkeSa {
    /// Rekeys the CHILD SA `spi_in` (its rekey time came).
    pub(in crate::sa) fn start_child_rekey(&mut self, ctx: &mut Ctx<'_>, spi_in: Spi) {
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

    pub(in crate::sa) fn send_child_rekey(
        &mut self,
        ctx: &mut Ctx<'_>,
        old_spi_in: Spi,
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
        let mut rekey_sa = Notify::new(NotifyType::REKEY_SA, Vec::new());
        rekey_sa.protocol = ProtocolId::ESP;
        rekey_sa.spi = old_spi_in.to_be_bytes().to_vec();
        let mut payloads = vec![Payload::Notify(rekey_sa)];
        payloads.extend(child_request_payloads(
            ctx,
            new_spi_in,
            &ni,
            ke.as_ref(),
            &mut tried,
            (ts_local, ts_remote),
        ));
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

    pub(in crate::sa) fn answer_child_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: MessageId,
        payloads: &[Payload],
    ) {
        // REKEY_SA names the SA by the SPI the peer receives with: our outbound SPI.
        let rekey_sa = payloads.notify(NotifyType::REKEY_SA);
        let old_spi_in = match rekey_sa {
            Some(n) => {
                let old = spi32(&n.spi).and_then(|spi| {
                    self.children
                        .iter()
                        .find(|c| c.spi_out == Spi(spi) && !c.is_deleting())
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
                        self.emit(ctx, EventKind::CreateChildRequestProcessed { id: id.0 });
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
        self.emit(ctx, EventKind::CreateChildRequestProcessed { id: id.0 });
        let (Some(offered), Some(ni)) = (payloads.sa(), payloads.nonce()) else {
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
        // One SA pair per tunnel, the first wins: a new CHILD SA beside a live one is
        // refused as selectors this tunnel does not take (see `NewChildSa::Refuse`).
        if old_spi_in.is_none()
            && ctx.config.new_child_sa == NewChildSa::Refuse
            && self.children.iter().any(|c| !c.is_deleting())
        {
            let failure =
                ChildFailure::Incompatible(PeerIncompatible::TsUnacceptable, Direction::Sent);
            fail(
                self,
                ctx,
                NotifyType::TS_UNACCEPTABLE,
                Vec::new(),
                Some(failure),
            );
            return;
        }
        let selected = match select(offered, &ctx.config.esp, Negotiation::ChildWithKe) {
            Ok(s) => s,
            Err(nm) => {
                let failure = ChildFailure::Incompatible(
                    PeerIncompatible::NoProposalChosen {
                        unsupported: nm.unsupported,
                    },
                    Direction::Sent,
                );
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
        let peer_ke = payloads.ke();
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
        let tsi = payloads.ts_i();
        let tsr = payloads.ts_r();
        let nr = ctx.random_bytes(32);
        let spi_in = ctx.esp_spi();
        crate::shell::push_exact(&mut self.children, ChildSa::negotiating(spi_in));
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
                self.emit(ctx, EventKind::CreateChildResponseSent { id: id.0 });
                let Some(old_spi_in) = old_spi_in else {
                    self.emit(
                        ctx,
                        EventKind::ChildSaEstablished {
                            spi_in: spi_in.0,
                            spi_out,
                            selected,
                        },
                    );
                    if ctx.config.new_child_sa == NewChildSa::ReplaceOthers {
                        self.delete_other_children(ctx, spi_in);
                    }
                    return;
                };
                if let Some(new) = self.children.iter_mut().find(|c| c.spi_in == spi_in) {
                    new.replaces = Some(old_spi_in);
                    // The initiator installs its side when our response arrives; until
                    // its DELETE of the old SA, what we send goes on the old one.
                    new.defer_outbound = our_rekey != Some(old_spi_in);
                }
                if let Some(old) = self.children.iter_mut().find(|c| c.spi_in == old_spi_in) {
                    old.state = ChildState::Deleting;
                    old.timers.stop(ChildTimer::Rekey);
                    if our_rekey == Some(old_spi_in) {
                        // Both sides rekey this SA at once: remember the peer's exchange.
                        old.collision = Some((ni.to_vec(), nr));
                    }
                }
                self.emit(
                    ctx,
                    EventKind::ChildSaRekeyed {
                        old_spi_in: old_spi_in.0,
                        spi_in: spi_in.0,
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

    /// Whether the CHILD SA `old` that our rekey (creating `new`) was for has been
    /// replaced meanwhile by another pair under the one-pair policy
    /// (`NewChildSa::ReplaceOthers`): it is being deleted, not for a rekey collision (the
    /// peer's rekey of it, §2.8.1), and another live SA stands.
    fn displaced(&self, ctx: &Ctx<'_>, old: Spi, new: Spi) -> bool {
        ctx.config.new_child_sa == NewChildSa::ReplaceOthers
            && self
                .children
                .iter()
                .any(|c| c.spi_in == old && c.is_deleting() && c.collision.is_none())
            && self
                .children
                .iter()
                .any(|c| c.spi_in != old && c.spi_in != new && !c.is_deleting())
    }

    /// A rekey that did not happen leaves the old SA as it was.
    pub(in crate::sa) fn restore_child(&mut self, old_spi_in: Option<Spi>) {
        if let Some(c) =
            old_spi_in.and_then(|spi| self.children.iter_mut().find(|c| c.spi_in == spi))
        {
            c.set_state(ChildState::Installed);
        }
    }

    pub(in crate::sa) fn handle_child_rekey_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: MessageId,
        mut r: ChildRekey,
        payloads: &[Payload],
    ) {
        self.emit(ctx, EventKind::CreateChildResponseProcessed { id: id.0 });
        let old_exists = self.children.iter().any(|c| c.spi_in == r.old_spi_in);
        if let (Some(group), true) = (invalid_ke_retry(ctx, payloads, &r.tried_groups), old_exists)
        {
            self.send_child_rekey(ctx, r.old_spi_in, Some(group), r.tried_groups);
            return;
        }
        let stale = self
            .children
            .iter()
            .any(|c| c.spi_in == r.old_spi_in && !c.is_deleting());
        if stale && payloads.notify(NotifyType::CHILD_SA_NOT_FOUND).is_some() {
            self.recreate_lost_child(ctx, &r);
            return;
        }
        let failure = child_refusal(payloads);
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
                    child.replaces = old_exists.then_some(r.old_spi_in);
                }
                let nr = payloads.nonce().unwrap_or_default();
                match collision {
                    Some((peer_ni, peer_nr)) if lowest(&r.ni, nr) < lowest(&peer_ni, &peer_nr) => {
                        // Our exchange holds the lowest nonce: the SA it created is redundant
                        // and ours to delete; the peer deletes the old one (§2.8.1).
                        self.emit(
                            ctx,
                            EventKind::RedundantChildSaDeleted {
                                spi_in: r.new_spi_in.0,
                            },
                        );
                        self.delete_child_quietly(ctx, r.new_spi_in);
                    }
                    _ if self.displaced(ctx, r.old_spi_in, r.new_spi_in) => {
                        // One SA pair per tunnel: a new pair replaced the one this rekey
                        // was for while it was in flight, so its heir goes too.
                        self.delete_child_quietly(ctx, r.new_spi_in);
                    }
                    _ => {
                        if !old_exists {
                            // The peer deleted the old SA meanwhile: the new one just stands.
                            self.emit(
                                ctx,
                                EventKind::ChildSaEstablished {
                                    spi_in: r.new_spi_in.0,
                                    spi_out,
                                    selected,
                                },
                            );
                            return;
                        }
                        self.emit(
                            ctx,
                            EventKind::ChildSaRekeyed {
                                old_spi_in: r.old_spi_in.0,
                                spi_in: r.new_spi_in.0,
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

    /// The peer answered our rekey of a CHILD SA that is still live here with
    /// CHILD_SA_NOT_FOUND: it lost the SA without a DELETE (its IPsec SAs were cleared, a
    /// data-plane restart). RFC 7296 §2.25: the initiator "SHOULD silently delete the
    /// CHILD SA" — no DELETE, the peer knows nothing to delete — "and try to create a new
    /// CHILD SA from scratch": a CREATE_CHILD_SA without REKEY_SA for the configured
    /// selector pair the stale SA belonged to, with its PFS group. strongSwan does the
    /// same unless the peer had deleted the SA (src/libcharon/sa/ikev2/tasks/child_rekey.c:
    /// "peer didn't find CHILD_SA … create a replacement",
    /// `child_delete_destroy_and_force_reestablish`). The rekey is reported as failed
    /// (phase 2 is down until the new SA is up); the new CHILD SA reports
    /// `ChildSaEstablished`.
    fn recreate_lost_child(&mut self, ctx: &mut Ctx<'_>, r: &ChildRekey) {
        let Some(at) = self.children.iter().position(|c| c.spi_in == r.old_spi_in) else {
            return;
        };
        let lost = self.children.remove(at);
        self.children.retain(|c| c.spi_in != r.new_spi_in);
        self.emit(
            ctx,
            EventKind::ChildSaFailed {
                failure: ChildFailure::Notified(NotifyType::CHILD_SA_NOT_FOUND),
            },
        );
        let pair = ctx
            .config
            .ts_pairs()
            .position(|(local, remote)| {
                ts::all_within(&lost.ts_local, local) && ts::all_within(&lost.ts_remote, remote)
            })
            .unwrap_or(0);
        let group = self.pfs_group(ctx, lost.selected);
        self.send_child_create(ctx, pair, group, Vec::new());
    }

    /// Checks the responder's answer to our CHILD rekey and sets up the new SA.
    pub(in crate::sa) fn complete_child_rekey(
        &mut self,
        r: &mut ChildRekey,
        payloads: &[Payload],
    ) -> Result<(Selected, u32), ChildFailure> {
        let offered = self
            .children
            .iter()
            .find(|c| c.spi_in == r.old_spi_in)
            .map(|c| (c.ts_local.clone(), c.ts_remote.clone()));
        let ke = r.ke.take();
        self.complete_child(r.new_spi_in, &r.ni, ke, offered, payloads)
    }

    /// Checks the responder's answer to our CREATE_CHILD_SA (a rekey, §1.3.3, or a new
    /// CHILD SA, §1.3.1) and sets up the new SA (`spi_in`, our nonce `ni`, our KE if PFS).
    /// `offered`: the selectors we proposed, which the answer may narrow, never widen
    /// (`None`: whatever it says).
    pub(in crate::sa) fn complete_child(
        &mut self,
        spi_in: Spi,
        ni: &[u8],
        ke: Option<KeyExchange>,
        offered: Option<(Vec<TrafficSelector>, Vec<TrafficSelector>)>,
        payloads: &[Payload],
    ) -> Result<(Selected, u32), ChildFailure> {
        let misbehaved = ChildFailure::Misbehaved;
        let missing = |payload| misbehaved(PeerMisbehaved::MissingPayload { payload });
        let sa = payloads.sa().ok_or(missing(PayloadType::SA))?;
        let nr = payloads.nonce().ok_or(missing(PayloadType::NONCE))?;
        let tsi = payloads.ts_i().ok_or(missing(PayloadType::TSI))?;
        let tsr = payloads.ts_r().ok_or(missing(PayloadType::TSR))?;
        let [one] = sa else {
            return Err(misbehaved(PeerMisbehaved::SelectedSeveralProposals));
        };
        let unoffered = misbehaved(PeerMisbehaved::SelectedUnofferedProposal);
        let selected = Selected::from_wire(one).ok_or(unoffered)?;
        let spi_out = spi32(&one.spi).ok_or(misbehaved(PeerMisbehaved::BadSpiSize))?;
        let g_ir = match (ke, payloads.ke(), selected.dh) {
            (Some(ke), Some(peer), Some(g)) if ke.group() == g && peer.group == g => Some(
                ke.shared_secret(&peer.data)
                    .map_err(|_| misbehaved(PeerMisbehaved::KeValueUnusable))?,
            ),
            // PFS asked for and no KEr: say that, not "a proposal we did not offer".
            (Some(ke), None, _) => {
                return Err(misbehaved(PeerMisbehaved::PfsKeMissing {
                    group: ke.group(),
                }))
            }
            (None, None, None) => None,
            // A PFS group we did not ask for, or none where we asked for one.
            _ => return Err(unoffered),
        };
        let Some(keys) = self.established_keys() else {
            return Err(ChildFailure::Internal);
        };
        let (prf, sk_d) = (keys.suite.prf, keys.sk_d.clone());
        let (ts_local, ts_remote) = offered.unwrap_or_else(|| (tsi.to_vec(), tsr.to_vec()));
        if !ts::all_within(tsi, &ts_local) || !ts::all_within(tsr, &ts_remote) {
            return Err(misbehaved(PeerMisbehaved::TsOutsideOffer));
        }
        let mut child = ChildSa::negotiating(spi_in);
        let params = ChildParams {
            prf: &prf,
            sk_d: &sk_d,
            g_ir: g_ir.as_deref(),
            ni,
            nr,
            // Our CREATE_CHILD_SA, whoever started the IKE SA: our keys first (§2.17).
            initiator: true,
        };
        child
            .establish(&params, Spi(spi_out), selected, tsi.to_vec(), tsr.to_vec())
            .map_err(|_| ChildFailure::Internal)?;
        crate::shell::push_exact(&mut self.children, child);
        Ok((selected, spi_out))
    }

    /// Deletes a CHILD SA without a record of its own (the caller has told the story).
    pub(in crate::sa) fn delete_child_quietly(&mut self, ctx: &mut Ctx<'_>, spi_in: Spi) {
        if let Some(c) = self.children.iter_mut().find(|c| c.spi_in == spi_in) {
            c.state = ChildState::Deleting;
        }
        self.delete_child(ctx, spi_in);
    }
}
