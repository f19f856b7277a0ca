//! What IKEv1's timers do when they fire (the table and the walk are `shell::timer`'s),
//! and informational exchanges: retransmission, DPD (RFC 3706: R-U-THERE /
//! R-U-THERE-ACK with AWS's timing), the half-open timeout, phase 1 and phase 2 rekey
//! (a new main mode / quick mode before the lifetime ends) and expiry, and DELETE.

use std::time::{Duration, Instant};

use ike_wire::v1::{doi, protocol, Body, Delete, ExchangeType, Message, NotifyType, Payload};

use super::exchange::notification;
use super::{Awaiting, Phase1Sa};
use crate::child::{ChildSa, ChildState};
use crate::config::{DpdAction, EndpointConfig};
use crate::event::{DropReason, EventKind};
use crate::shell::timer::{ChildTimer, IkeTimers, Timed, Timer};
use crate::shell::timing::{self, DpdView};
use crate::shell::{Ctx, Effect, Role, Spi};

impl Timed for Phase1Sa {
    fn timers(&self) -> &IkeTimers {
        &self.timers
    }

    fn sa_id(&self) -> crate::shell::IkeSaId {
        self.id()
    }

    fn dpd_at(&self, config: &EndpointConfig) -> Option<Instant> {
        let view = DpdView {
            can_probe: self.is_established() && self.peer_dpd && self.pending.is_none(),
            traffic: self.traffic,
            nat: self.nat.detected(),
            last_heard: self.last_heard,
        };
        timing::dpd_at(config, view, &self.children)
    }

    fn children(&self) -> &[ChildSa] {
        &self.children
    }

    fn is_closed(&self) -> bool {
        Phase1Sa::is_closed(self)
    }

    fn is_superseded(&self) -> bool {
        self.superseded
    }

    /// A quick mode still negotiating has no lifetime to run out yet.
    fn child_timers_run(&self, child: &ChildSa) -> bool {
        matches!(child.state, ChildState::Installed | ChildState::Rekeying)
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, timer: Timer) {
        match timer {
            Timer::Retransmit => self.retransmit(ctx),
            Timer::HalfOpen => {
                self.close();
                self.emit(ctx, EventKind::HalfOpenTimeout);
            }
            Timer::ExpireIke => {
                self.timers.stop(Timer::ExpireIke);
                self.delete(ctx);
            }
            Timer::RekeyIke => {
                // A new main mode replaces this ISAKMP SA (RFC 2409 has no rekey of its
                // own); the endpoint starts it.
                self.timers.stop(Timer::RekeyIke);
                self.rekeying = true;
                ctx.effects.push(Effect::RekeyPhase1 {
                    local: self.local,
                    remote: self.remote,
                    old: self.id(),
                });
            }
            Timer::Dpd => {
                self.dpd_seq = self.dpd_seq.wrapping_add(1);
                let seq = self.dpd_seq;
                let spi = [self.cky_i.to_be_bytes(), self.cky_r.to_be_bytes()].concat();
                let n = notification(
                    NotifyType::R_U_THERE,
                    protocol::ISAKMP,
                    spi,
                    seq.to_be_bytes().to_vec(),
                );
                if let Some(datagram) = self.informational(ctx, n) {
                    self.send_awaiting(ctx, Awaiting::Dpd(seq), datagram);
                }
            }
            Timer::Reacquire => self.reacquire(ctx),
        }
    }

    fn on_child_timer(&mut self, ctx: &mut Ctx<'_>, spi_in: Spi, timer: ChildTimer) {
        match timer {
            ChildTimer::Expire => self.delete_child(ctx, spi_in),
            ChildTimer::Rekey => self.start_quick_mode(ctx, Some(spi_in), 0),
        }
    }
}

impl Phase1Sa {
    /// Initiator waiting for main mode message 6: how often the responder repeated 4.
    fn message4_repeats(&self) -> u32 {
        match &self.state {
            super::State::ExpectMm6(st) => st.message4_repeats,
            _ => 0,
        }
    }

    pub(super) fn retransmit_wait(&self, ctx: &Ctx<'_>, awaiting: Awaiting, n: u32) -> Duration {
        timing::retransmit_wait(ctx.config, matches!(awaiting, Awaiting::Dpd(_)), n)
    }

    fn retransmit(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let Some(p) = self.pending.as_mut() else {
            return;
        };
        let dpd_probe = matches!(p.awaiting, Awaiting::Dpd(_));
        if let Some((n, deadline)) =
            timing::next_transmission(ctx.config, dpd_probe, p.transmissions, p.first_sent, now)
        {
            p.transmissions = n;
            let datagram = p.datagram.clone();
            self.timers.set(Timer::Retransmit, deadline);
            ctx.stats.retransmits += 1;
            ctx.send(self.local, self.remote, datagram);
            return;
        }
        let Some(p) = self.take_pending() else { return };
        let retransmits = p.transmissions - 1;
        match p.awaiting {
            Awaiting::Dpd(_) => {
                let action = ctx.config.dpd.map_or(DpdAction::Clear, |d| d.action);
                if action == DpdAction::None {
                    self.last_heard = now;
                    self.emit(
                        ctx,
                        EventKind::DpdTimeout {
                            retransmits,
                            action,
                        },
                    );
                    // The SA lives on: what waited for the probe (a rekey) goes now.
                    self.next_queued(ctx);
                    return;
                }
                self.close();
                self.emit(
                    ctx,
                    EventKind::DpdTimeout {
                        retransmits,
                        action,
                    },
                );
                if action == DpdAction::Restart {
                    ctx.effects.push(Effect::Restart {
                        local: self.local,
                        remote: self.remote,
                        version: crate::event::IkeVersion::V1,
                    });
                }
            }
            Awaiting::QuickFinish(mid) => {
                // The initiator never confirmed: forget the half-made CHILD SA.
                if let Some(i) = self.quick.iter().position(|q| q.mid == mid) {
                    let q = self.quick.remove(i);
                    self.children.retain(|c| c.spi_in != q.spi_in);
                    self.emit(
                        ctx,
                        EventKind::ChildSaFailed {
                            failure: crate::event::ChildFailure::Unconfirmed,
                        },
                    );
                }
            }
            Awaiting::MainMode if self.message4_repeats() > 0 => {
                let repeats = self.message4_repeats();
                self.close();
                self.emit(
                    ctx,
                    EventKind::Message5Undecryptable {
                        retransmits,
                        repeats,
                    },
                );
            }
            Awaiting::MainMode | Awaiting::Quick(_) => {
                let was_live = !self.superseded;
                let exchange = if p.awaiting == Awaiting::MainMode {
                    ike_wire::ExchangeType(ExchangeType::IDENTITY_PROTECTION.0)
                } else {
                    ike_wire::ExchangeType(ExchangeType::QUICK_MODE.0)
                };
                self.close();
                if was_live {
                    self.emit(
                        ctx,
                        EventKind::RetransmitsExhausted {
                            exchange,
                            retransmits,
                        },
                    );
                }
            }
        }
    }

    /// Deletes this ISAKMP SA (informational DELETE with both cookies as its SPI). Its
    /// IPsec SAs go first, each with a DELETE of its own: in IKEv1 they would otherwise
    /// outlive the ISAKMP SA at the peer (strongSwan and libreswan do the same).
    pub(crate) fn delete(&mut self, ctx: &mut Ctx<'_>) {
        let announce = !self.superseded;
        if announce {
            let live: Vec<Spi> = self
                .children
                .iter()
                .filter(|c| matches!(c.state, ChildState::Installed | ChildState::Rekeying))
                .map(|c| c.spi_in)
                .collect();
            for spi_in in live {
                self.delete_child(ctx, spi_in);
            }
        }
        self.superseded = true;
        for c in &mut self.children {
            c.state = ChildState::Deleting;
        }
        if announce {
            self.emit(ctx, EventKind::IkeSaDeleteSent);
        }
        let spi = [self.cky_i.to_be_bytes(), self.cky_r.to_be_bytes()].concat();
        let d = Delete {
            doi: doi::IPSEC,
            protocol: protocol::ISAKMP,
            spi_size: 16,
            spis: vec![spi],
        };
        self.send_informational(ctx, Payload::Delete(d));
        self.close();
    }

    /// Deletes one IPsec SA (informational DELETE with our inbound SPI).
    pub(super) fn delete_child(&mut self, ctx: &mut Ctx<'_>, spi_in: Spi) {
        let Some(pos) = self.children.iter().position(|c| c.spi_in == spi_in) else {
            return;
        };
        let child = self.children.remove(pos);
        if !child.is_deleting() {
            self.emit(ctx, EventKind::ChildSaDeleteSent { spi_in: spi_in.0 });
        }
        let d = Delete {
            doi: doi::IPSEC,
            protocol: protocol::IPSEC_ESP,
            spi_size: 4,
            spis: vec![spi_in.to_be_bytes().to_vec()],
        };
        self.send_informational(ctx, Payload::Delete(d));
    }

    /// An informational exchange from the peer: DPD, a notification, a DELETE.
    pub(super) fn handle_informational(&mut self, ctx: &mut Ctx<'_>, msg: &Message) {
        if let Body::Plain(payloads) = &msg.body {
            self.handle_plain_notify(ctx, payloads);
            return;
        }
        let Some(payloads) = self.open_informational(ctx, msg) else {
            ctx.stats.integrity_failures += 1;
            if matches!(self.state, super::State::ExpectMm6(_)) {
                self.emit(ctx, EventKind::Message5AnswerUndecryptable);
            }
            return;
        };
        self.heard(ctx);
        for p in payloads {
            match p {
                Payload::Notification(n) if n.ty == NotifyType::R_U_THERE => {
                    let ack = notification(
                        NotifyType::R_U_THERE_ACK,
                        protocol::ISAKMP,
                        n.spi.clone(),
                        n.data.clone(),
                    );
                    self.send_informational(ctx, ack);
                }
                Payload::Notification(n)
                    if n.ty == NotifyType::R_U_THERE_ACK
                        && self
                            .pending
                            .as_ref()
                            .is_some_and(|p| matches!(p.awaiting, Awaiting::Dpd(_))) =>
                {
                    self.clear_pending();
                    self.next_queued(ctx);
                }
                Payload::Notification(n)
                    if n.ty == NotifyType::NO_PROPOSAL_CHOSEN
                        || n.ty == NotifyType::INVALID_ID_INFORMATION =>
                {
                    // The peer refused our quick mode.
                    let Some(q) = self.quick.iter().position(|q| q.role == Role::Initiator) else {
                        ctx.drop_message(
                            DropReason::UnexpectedMessage,
                            "quick mode refusal when none of ours is in flight",
                        );
                        continue;
                    };
                    let q = self.quick.remove(q);
                    self.clear_pending();
                    self.restore(q.rekey_of);
                    let failure = if n.ty == NotifyType::NO_PROPOSAL_CHOSEN {
                        crate::event::ChildFailure::Incompatible(
                            crate::failure::PeerIncompatible::NoProposalChosen {
                                unsupported: false,
                            },
                            crate::event::Direction::Received,
                        )
                    } else {
                        crate::event::ChildFailure::Incompatible(
                            crate::failure::PeerIncompatible::TsUnacceptable,
                            crate::event::Direction::Received,
                        )
                    };
                    self.emit(ctx, EventKind::ChildSaFailed { failure });
                    // A new pair still has no SA: its next packet hits the trap again.
                    if q.rekey_of.is_none() {
                        self.trap_pair_of(ctx, &q.ts_local, &q.ts_remote);
                    }
                    self.next_queued(ctx);
                }
                Payload::Delete(d) if d.protocol == protocol::ISAKMP => {
                    // IPsec SAs outlive their ISAKMP SA in IKEv1: a newer ISAKMP SA with
                    // this peer takes them over (the endpoint finds it).
                    let children = std::mem::take(&mut self.children);
                    ctx.effects.push(Effect::Orphans(children));
                    self.close();
                    self.emit(ctx, EventKind::IkeSaDeleteReceived);
                    return;
                }
                Payload::Delete(d) if d.protocol == protocol::IPSEC_ESP => {
                    for spi in &d.spis {
                        let Ok(bytes) = <[u8; 4]>::try_from(spi.as_slice()) else {
                            ctx.drop_message(
                                DropReason::Unusable,
                                "DELETE with an ESP SPI not 4 bytes",
                            );
                            continue;
                        };
                        let spi = u32::from_be_bytes(bytes);
                        let Some(pos) = self.children.iter().position(|c| c.spi_out == Spi(spi))
                        else {
                            continue;
                        };
                        let child = self.children.remove(pos);
                        self.emit(ctx, EventKind::ChildSaDeleteReceived { spi });
                        // An SA a rekey replaced has its heir; any other leaves its pair
                        // without.
                        if !child.is_deleting() {
                            self.trap_pair_of(ctx, &child.ts_local, &child.ts_remote);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}
