//! The SA's timers (quinn-proto keeps them in one table; here they are fields): request
//! retransmission (RFC 7296 §2.1), DPD (§2.4, AWS's timing), the half-open timeout, and
//! IKE and CHILD SA rekey and expiry (§2.8).

use std::time::{Duration, Instant};

use ike_wire::{Delete, ExchangeType, Payload, ProtocolId};

use super::{IkeSa, Purpose};
use crate::config::{DpdAction, EndpointConfig};
use crate::event::EventKind;
use crate::shell::timing::{self, DpdView};
use crate::shell::Ctx;
use crate::shell::Effect;

impl IkeSa {
    pub(super) fn retransmit_wait(&self, ctx: &Ctx<'_>, purpose: &Purpose, n: u32) -> Duration {
        timing::retransmit_wait(ctx.config, matches!(purpose, Purpose::Liveness), n)
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

    /// The earliest instant this SA wants to be woken up.
    pub fn deadline(&self, config: &EndpointConfig) -> Option<Instant> {
        let pending = self.pending.as_ref().map(|p| p.deadline);
        timing::earliest(
            [
                pending,
                self.half_open_at,
                self.rekey_at,
                self.expire_at,
                self.dpd_at(config),
            ],
            &self.children,
        )
    }

    /// Runs whatever is due at `ctx.now`.
    pub fn handle_timeout(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        if self.pending.as_ref().is_some_and(|p| p.deadline <= now) {
            self.retransmit(ctx);
        }
        if self.is_closed() {
            return;
        }
        if self.half_open_at.is_some_and(|t| t <= now) {
            self.close();
            self.emit(ctx, EventKind::HalfOpenTimeout);
            return;
        }
        if self.superseded {
            return;
        }
        if self.expire_at.is_some_and(|t| t <= now) {
            self.expire_at = None;
            self.rekey_at = None;
            self.delete(ctx);
            return;
        }
        if self.rekey_at.is_some_and(|t| t <= now) {
            self.rekey_at = None;
            self.start_ike_rekey(ctx);
        }
        let due: Vec<(u32, bool)> = self
            .children
            .iter()
            .filter(|c| !c.superseded)
            .filter_map(|c| {
                if c.expire_at.is_some_and(|t| t <= now) {
                    Some((c.spi_in, true))
                } else if c.rekey_at.is_some_and(|t| t <= now) {
                    Some((c.spi_in, false))
                } else {
                    None
                }
            })
            .collect();
        for (spi_in, expired) in due {
            if expired {
                self.delete_child(ctx, spi_in);
            } else {
                self.start_child_rekey(ctx, spi_in);
            }
        }
        if self.dpd_at(ctx.config).is_some_and(|t| t <= now) {
            tracing::trace!(spi_i = self.spi_i, "DPD liveness check");
            self.request(
                ctx,
                ExchangeType::INFORMATIONAL,
                Purpose::Liveness,
                Vec::new(),
            );
        }
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
            (p.transmissions, p.deadline) = (n, deadline);
            let datagram = p.datagram.clone();
            ctx.stats.retransmits += 1;
            ctx.send(self.local, self.remote, datagram);
            return;
        }
        let Some(p) = self.pending.take() else { return };
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
        self.pending = None;
        self.queued.clear();
        self.superseded = true;
        // Its CHILD SAs go with it (§1.4.1).
        for c in &mut self.children {
            c.superseded = true;
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
    pub(super) fn delete_child(&mut self, ctx: &mut Ctx<'_>, spi_in: u32) {
        let Some(child) = self.children.iter_mut().find(|c| c.spi_in == spi_in) else {
            return;
        };
        let announce = !child.superseded;
        child.superseded = true;
        child.rekey_at = None;
        child.expire_at = None;
        if announce {
            self.emit(ctx, EventKind::ChildSaDeleteSent { spi_in });
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
