//! IKE SA rekeys (RFC 7296 §1.3.2, §2.18), for both roles, including simultaneous rekeys
//! resolved by nonce comparison (§2.8.1): the new IKE SA takes the CHILD SAs over.

use ike_crypto::{rekey_skeyseed, KeyExchange};
use ike_wire::PayloadsExt;
use ike_wire::{DhGroup, ExchangeType, KeyExchange as KePayload, NotifyType, Payload, ProtocolId};
use rand::RngCore;

use super::{first_error, lowest, spi64, suite_of, TEMPORARY_FAILURE_WAIT};
use crate::event::{DropReason, EventKind, SaState};
use crate::proposal::{select, Negotiation, Selected};
use crate::sa::{Established, IkeRekey, IkeSa, Keys, PeerIkeRekey, Purpose, State};
use crate::shell::timer::Timer;
use crate::shell::{Ctx, Effect, IkeSaId, MessageId, Role};

impl IkeSa {
    /// Rekeys this IKE SA (its rekey time came).
    pub(in crate::sa) fn start_ike_rekey(&mut self, ctx: &mut Ctx<'_>) {
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
        if self.phase1() == SaState::Established {
            self.emit_with(
                ctx,
                EventKind::IkeSaRekeying {
                    spi_i: self.id().spi_i,
                    spi_r: self.id().spi_r,
                },
                SaState::Rekeying,
                self.phase2(),
            );
        }
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

    /// The peer rekeys this IKE SA: answer, and hand everything to the new SA.
    pub(in crate::sa) fn answer_ike_rekey(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: MessageId,
        payloads: &[Payload],
    ) {
        // Processing the peer's rekey request puts this IKE SA in rekeying (§2.18), even
        // if it is refused below.
        let was = self.phase1();
        let phase1 = match was {
            SaState::Established => SaState::Rekeying,
            other => other,
        };
        self.emit_with(
            ctx,
            EventKind::CreateChildRequestProcessed { id: id.0 },
            phase1,
            self.phase2(),
        );
        // Not while we are deleting this IKE SA (RFC 7296 §2.25.2), nor while a CHILD SA
        // rekey of ours is in flight on it (its answer would find the CHILD SAs moved to
        // the new IKE SA): the peer retries later.
        let rekeying_child = matches!(
            self.pending.as_ref().map(|p| &p.purpose),
            Some(Purpose::RekeyChild(_) | Purpose::CreateChild(_))
        );
        if self.superseded || rekeying_child {
            self.respond_error(ctx, id, NotifyType::TEMPORARY_FAILURE, Vec::new());
            return;
        }
        // The rekey is taken up: the peer's, unless one of ours already is (a collision).
        if was == SaState::Established {
            self.emit_with(
                ctx,
                EventKind::IkeSaRekeying {
                    spi_i: self.id().spi_i,
                    spi_r: self.id().spi_r,
                },
                SaState::Rekeying,
                self.phase2(),
            );
        }
        let (Some(offered), Some(ni), Some(peer_ke)) =
            (payloads.sa(), payloads.nonce(), payloads.ke())
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
            let export = ctx.config.export_secrets.then_some((
                &mut *ctx.secrets,
                IkeSaId {
                    spi_i: peer_spi,
                    spi_r: our_spi,
                },
            ));
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
        self.emit(ctx, EventKind::CreateChildResponseSent { id: id.0 });
        let collision = matches!(
            self.pending.as_ref().map(|p| &p.purpose),
            Some(Purpose::RekeyIke(_))
        );
        if collision {
            // Both sides rekey at once: which new SA survives is decided when our own
            // exchange completes; the CHILD SAs stay here until then.
            self.ike_rekey_collision = Some(PeerIkeRekey {
                ni: ni.to_vec(),
                nr,
                new_sa: IkeSaId {
                    spi_i: peer_spi,
                    spi_r: our_spi,
                },
            });
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
    pub(in crate::sa) fn hand_over(
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
            // The trap policies of pairs without a CHILD SA go with them.
            new.reacquire = std::mem::take(&mut self.reacquire);
            new.arm_reacquire();
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

    pub(in crate::sa) fn handle_ike_rekey_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: MessageId,
        r: IkeRekey,
        payloads: &[Payload],
    ) {
        self.emit(ctx, EventKind::CreateChildResponseProcessed { id: id.0 });
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
        let (Some(sa), Some(nr), Some(peer_ke)) = (payloads.sa(), payloads.nonce(), payloads.ke())
        else {
            ctx.drop_message(
                DropReason::MissingPayload,
                "IKE rekey response without SA, Nonce or KE",
            );
            return;
        };
        let chosen = match sa {
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
            let export = ctx.config.export_secrets.then_some((
                &mut *ctx.secrets,
                IkeSaId {
                    spi_i: r.new_spi,
                    spi_r: peer_spi,
                },
            ));
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
        if let Some(peer) = self.ike_rekey_collision.take() {
            if lowest(&r.ni, nr) < lowest(&peer.ni, &peer.nr) {
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
                    to: peer.new_sa,
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
