//! IKE_SA_INIT as the responder (RFC 7296 §1.2): a request is answered with our choice,
//! KE and nonce — or refused without keeping any state (NO_PROPOSAL_CHOSEN,
//! INVALID_KE_PAYLOAD, INVALID_SYNTAX) — and the half-open IKE SA waits for IKE_AUTH.
//! Under pressure (`crate::dos`), an expensive KE group is turned down for a cheaper one
//! the peer offered.

use std::net::SocketAddr;

use ike_crypto::KeyExchange;
use ike_wire::PayloadsExt;
use ike_wire::{
    DhGroup, ExchangeType, KeyExchange as KePayload, Message, Notify, NotifyType, Payload,
    ProtocolId,
};

use super::init::{
    derive_keys, detect_nat, emit_without_sa, nat_notifies, respond_without_state, NONCE_LEN,
};
use super::{IkeSa, InitReplied, State};
use crate::dos::without_expensive_groups;
use crate::event::{Direction, EventKind};
use crate::failure::PeerIncompatible;
use crate::proposal::{select, Negotiation};
use crate::shell::timer::Timer;
use crate::shell::{Ctx, IkeSaId, MessageId, Role};

impl IkeSa {
    /// Answers an IKE_SA_INIT request. Returns the new half-open SA, or `None` when the
    /// request was refused (the refusal, if any, has been sent). `pressure`: cookies are
    /// required now, so an expensive KE group is not computed if a cheaper one will do.
    pub(crate) fn accept(
        ctx: &mut Ctx<'_>,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &Message,
        raw: &[u8],
        pressure: bool,
    ) -> Option<IkeSa> {
        let refuse = |ctx: &mut Ctx<'_>, ty: NotifyType, data: Vec<u8>| {
            respond_without_state(ctx, local, remote, &msg.header, Notify::new(ty, data));
        };
        if let Some(ty) = msg.payloads.iter().find_map(|p| match p {
            Payload::Unknown(u) if u.critical => Some(u.ty),
            _ => None,
        }) {
            refuse(ctx, NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD, vec![ty.0]);
            return None;
        }
        let p = &msg.payloads;
        let (Some(offered), Some(ke), Some(ni)) = (p.sa(), p.ke(), p.nonce()) else {
            refuse(ctx, NotifyType::INVALID_SYNTAX, Vec::new());
            return None;
        };
        if !(16..=256).contains(&ni.len()) {
            refuse(ctx, NotifyType::INVALID_SYNTAX, Vec::new());
            return None;
        }
        let selected = match select(offered, &ctx.config.ike, Negotiation::Ike) {
            Ok(s) => s,
            Err(no_match) => {
                refuse(ctx, NotifyType::NO_PROPOSAL_CHOSEN, Vec::new());
                ctx.incompatible(PeerIncompatible::NoProposalChosen {
                    unsupported: no_match.unsupported,
                });
                let kind = EventKind::IkeNoProposalChosen {
                    unsupported: no_match.unsupported,
                    direction: Direction::Sent,
                };
                emit_without_sa(ctx, remote, kind);
                return None;
            }
        };
        let mut selected = selected;
        let group = selected.dh.unwrap_or(DhGroup::NONE);
        if pressure && ctx.config.dos.expensive_dh_groups.contains(&group) {
            let cheap = without_expensive_groups(offered, &ctx.config.dos)
                .and_then(|cheap| select(&cheap, &ctx.config.ike, Negotiation::Ike).ok())
                .filter(|s| s.dh.is_some_and(|g| g != DhGroup::NONE));
            let cheaper = cheap.and_then(|s| s.dh);
            if cheaper == Some(ke.group) {
                // The peer's KE is already in the cheap group we would ask for: take it.
                selected = cheap.unwrap_or(selected);
            } else if let Some(cheaper) = cheaper {
                // Not the peer's incompatibility, and not news for the log: our policy.
                tracing::debug!(%remote, %group, %cheaper, "under pressure: asking for a cheaper DH group");
                ctx.stats.expensive_dh_deflected += 1;
                refuse(
                    ctx,
                    NotifyType::INVALID_KE_PAYLOAD,
                    cheaper.0.to_be_bytes().to_vec(),
                );
                return None;
            }
        }
        let group = selected.dh.unwrap_or(DhGroup::NONE);
        if ke.group != group {
            refuse(
                ctx,
                NotifyType::INVALID_KE_PAYLOAD,
                group.0.to_be_bytes().to_vec(),
            );
            ctx.incompatible(PeerIncompatible::InvalidKe {
                offered: ke.group,
                wanted: group,
            });
            emit_without_sa(
                ctx,
                remote,
                EventKind::InvalidKePayload {
                    group,
                    direction: Direction::Sent,
                },
            );
            return None;
        }
        let our_ke = match KeyExchange::generate(group) {
            Ok(k) => k,
            Err(e) => {
                tracing::warn!("selected DH group {group} cannot be computed: {e}");
                refuse(ctx, NotifyType::NO_PROPOSAL_CHOSEN, Vec::new());
                return None;
            }
        };
        let spi_i = msg.header.spi_i;
        let spi_r = ctx.ike_spi();
        let nr = ctx.random_bytes(NONCE_LEN);
        let public = our_ke.public_value().to_vec();
        let keys = match derive_keys(
            &selected,
            our_ke,
            &ke.data,
            (ni, &nr),
            IkeSaId { spi_i, spi_r },
            Role::Responder,
            ctx,
        ) {
            Ok(k) => k,
            Err(e) => {
                tracing::debug!("IKE_SA_INIT request unusable: {e}");
                refuse(ctx, NotifyType::INVALID_SYNTAX, Vec::new());
                return None;
            }
        };
        let mut sa = IkeSa::new(
            Role::Responder,
            spi_i,
            spi_r,
            local,
            remote,
            State::Closed,
            ctx.now,
        );
        sa.timers
            .set(Timer::HalfOpen, ctx.now + ctx.config.half_open_timeout);
        detect_nat(&mut sa, msg);
        sa.ike_selected = Some(selected);
        let mut payloads = vec![
            Payload::Sa(vec![selected.to_wire(ProtocolId::IKE, Vec::new())]),
            Payload::Ke(KePayload {
                group,
                data: public,
            }),
            Payload::Nonce(nr.clone()),
        ];
        payloads.extend(nat_notifies(spi_i, spi_r, local, remote));
        let header = sa.header(
            ExchangeType::IKE_SA_INIT,
            MessageId(msg.header.message_id),
            true,
        );
        let response = Message { header, payloads }.encode();
        sa.state = State::InitReplied(Box::new(InitReplied {
            keys,
            ni: ni.to_vec(),
            nr,
            init_request: raw.to_vec(),
            init_response: response.clone(),
        }));
        sa.last_request = raw.to_vec();
        sa.send_response(ctx, MessageId(msg.header.message_id), response);
        sa.emit(ctx, EventKind::IkeSaNegotiating { spi_i, spi_r });
        Some(sa)
    }
}
