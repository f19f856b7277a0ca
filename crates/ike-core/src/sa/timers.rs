//! What the IKE SA's timers do when they fire (the table and the walk are
//! `shell::timer`'s): request retransmission (RFC 7296 §2.1), DPD (§2.4, AWS's timing),
//! the half-open timeout, and IKE and CHILD SA rekey and expiry (§2.8); and DELETE.

use std::time::{Duration, Instant};

use ike_wire::{Delete, ExchangeType, Payload, ProtocolId};

use super::{IkeSa, Purpose};
use crate::child::{ChildSa, ChildState};
use crate::config::{DpdAction, EndpointConfig};
use crate::event::EventKind;
use crate::shell::timer::{ChildTimer, IkeTimers, Timed, Timer};
use crate::shell::timing::{self, DpdView};
use crate::shell::{Ctx, Effect, Spi};

impl Timed for IkeSa {
    fn timers(&self) -> &IkeTimers {
        &self.timers
    }

    fn sa_id(&self) -> crate::shell::IkeSaId {
        self.id()
    }

    fn dpd_at(&self, config: &EndpointConfig) -> Option<Instant> {
        let view = DpdView {
            can_probe: self.is_established() && self.pending.is_none(),
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
        IkeSa::is_closed(self)
    }

    fn is_superseded(&self) -> bool {
        self.superseded
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
                self.timers.stop(Timer::RekeyIke);
                self.delete(ctx);
            }
            Timer::RekeyIke => {
                self.timers.stop(Timer::RekeyIke);
                self.start_ike_rekey(ctx);
            }
            Timer::Dpd => {
                tracing::trace!(spi_i = self.spi_i, "DPD liveness check");
                self.request(
                    ctx,
                    ExchangeType::INFORMATIONAL,
                    Purpose::Liveness,
                    Vec::new(),
                );
            }
            Timer::Reacquire => self.reacquire(ctx),
        }
    }

    fn on_child_timer(&mut self, ctx: &mut Ctx<'_>, spi_in: Spi, timer: ChildTimer) {
        match timer {
            ChildTimer::Expire => self.delete_child(ctx, spi_in),
            ChildTimer::Rekey => self.start_child_rekey(ctx, spi_in),
        }
    }
}

impl IkeSa {
    pub(super) fn retransmit_wait(&self, ctx: &Ctx<'_>, purpose: &Purpose, n: u32) -> Duration {
        timing::retransmit_wait(ctx.config, matches!(purpose, Purpose::Liveness), n)
    }

    /// Retransmits the outstanding request, or gives up on it (RFC 7296 §2.1–2.4).
    fn retransmit(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let Some(p) = self.pending.as_mut() else {
            return;
        };
        let dpd_probe = matches!(p.purpose, Purpose::Liveness);
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
        match p.purpose {
            Purpose::Liveness => self.peer_dead(ctx, retransmits),
            _ if self.is_established() => {
                // An established SA whose peer stopped answering is as dead as a DPD
                // timeout says (strongSwan treats both alike).
                let exchange = p.exchange;
                self.close();
                self.emit(
                    ctx,
                    EventKind::RetransmitsExhausted {
                        exchange,
                        retransmits,
                    },
                );
                if ctx
                    .config
                    .dpd
                    .is_some_and(|d| d.action == DpdAction::Restart)
                {
                    ctx.effects.push(Effect::Restart {
                        local: self.local,
                        remote: self.remote,
                        version: crate::event::IkeVersion::V2,
                    });
                }
            }
            _ => {
                let exchange = p.exchange;
                let was_live = !self.superseded;
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

    /// DPD declared the peer dead: apply the configured action.
    fn peer_dead(&mut self, ctx: &mut Ctx<'_>, retransmits: u32) {
        let action = ctx.config.dpd.map_or(DpdAction::Clear, |d| d.action);
        match action {
            DpdAction::Clear | DpdAction::Restart => {
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
                        version: crate::event::IkeVersion::V2,
                    });
                }
            }
            DpdAction::None => {
                self.last_heard = ctx.now;
                self.emit(
                    ctx,
                    EventKind::DpdTimeout {
                        retransmits,
                        action,
                    },
                );
                self.send_queued(ctx);
            }
        }
    }

    /// Deletes this IKE SA (and with it every CHILD SA, §1.4.1). The SA counts as down
    /// from now on; it lives until the peer confirms or the request times out.
    pub(crate) fn delete(&mut self, ctx: &mut Ctx<'_>) {
        let delete = Delete {
            protocol: ProtocolId::IKE,
            spi_size: 0,
            spis: Vec::new(),
        };
        let announce = !self.superseded;
        self.clear_pending();
        self.queued.clear();
        self.superseded = true;
        // Its CHILD SAs go with it (§1.4.1).
        for c in &mut self.children {
            c.state = ChildState::Deleting;
        }
        if announce {
            self.emit(ctx, EventKind::IkeSaDeleteSent);
        }
        let purpose = Purpose::DeleteIke { live: announce };
        self.request(
            ctx,
            ExchangeType::INFORMATIONAL,
            purpose,
            vec![Payload::Delete(delete)],
        );
    }

    /// Deletes one CHILD SA (its lifetime ran out without a rekey, or it was replaced).
    pub(super) fn delete_child(&mut self, ctx: &mut Ctx<'_>, spi_in: Spi) {
        let Some(child) = self.children.iter_mut().find(|c| c.spi_in == spi_in) else {
            return;
        };
        let announce = !child.is_deleting();
        child.state = ChildState::Deleting;
        child.timers.stop(ChildTimer::Rekey);
        child.timers.stop(ChildTimer::Expire);
        if announce {
            self.emit(ctx, EventKind::ChildSaDeleteSent { spi_in: spi_in.0 });
        }
        let delete = Delete {
            protocol: ProtocolId::ESP,
            spi_size: 4,
            spis: vec![spi_in.to_be_bytes().to_vec()],
        };
        self.request(
            ctx,
            ExchangeType::INFORMATIONAL,
            Purpose::DeleteChild { spi_in },
            vec![Payload::Delete(delete)],
        );
    }
}
