//! IKE_AUTH (RFC 7296 §1.2, §2.15): PSK authentication of both sides and the first
//! CHILD SA, with proposal selection (§2.7) and traffic-selector narrowing (§2.9).

use ike_crypto::psk_auth;
use ike_wire::{
    Auth, AuthMethod, ExchangeType, Identification, Message, Notify, NotifyType, Payload, Proposal,
    ProtocolId, TrafficSelector,
};

use super::{Established, IkeSa, Keys, State};
use crate::child::{ChildParams, ChildSa};
use crate::event::{ChildFailure, Direction, EventKind};
use crate::failure::{PeerIncompatible, PeerMisbehaved};
use crate::proposal::{select, Negotiation, Selected};
use crate::shell::timer::{ChildTimer, Timer};
use crate::shell::{same_mac, Ctx, Effect, MessageId, Spi};
use crate::ts;

/// Compares two MACs without leaking where they differ.
pub(super) fn notify_of(payloads: &[Payload], ty: NotifyType) -> bool {
    payloads
        .iter()
        .any(|p| matches!(p, Payload::Notify(n) if n.ty == ty))
}

pub(super) fn first_error(payloads: &[Payload]) -> Option<NotifyType> {
    payloads.iter().find_map(|p| match p {
        Payload::Notify(n) if n.ty.is_error() => Some(n.ty),
        _ => None,
    })
}

/// The CHILD SA part of an IKE_AUTH or CREATE_CHILD_SA message.
pub(super) struct ChildOffer<'a> {
    pub sa: Option<&'a Vec<Proposal>>,
    pub tsi: Option<&'a Vec<TrafficSelector>>,
    pub tsr: Option<&'a Vec<TrafficSelector>>,
}

pub(super) fn child_offer(payloads: &[Payload]) -> ChildOffer<'_> {
    let mut c = ChildOffer {
        sa: None,
        tsi: None,
        tsr: None,
    };
    for p in payloads {
        match p {
            Payload::Sa(s) => c.sa = c.sa.or(Some(s)),
            Payload::TsI(t) => c.tsi = c.tsi.or(Some(t)),
            Payload::TsR(t) => c.tsr = c.tsr.or(Some(t)),
            _ => {}
        }
    }
    c
}

pub(super) fn esp_spi(proposal: &Proposal) -> Option<u32> {
    <[u8; 4]>::try_from(proposal.spi.as_slice())
        .ok()
        .map(u32::from_be_bytes)
}

impl IkeSa {
    /// The initiator's IKE_AUTH payloads: IDi, AUTH over the IKE_SA_INIT request (§2.15)
    /// and the first CHILD SA's proposals and selectors.
    pub(super) fn auth_request_payloads(
        &self,
        ctx: &mut Ctx<'_>,
        keys: &Keys,
        init_request: &[u8],
        nr: &[u8],
        spi_in: Spi,
    ) -> Vec<Payload> {
        let idi = self.local_id(ctx.config);
        let auth = psk_auth(
            &keys.suite.prf,
            &ctx.config.psk,
            init_request,
            nr,
            &keys.sk_pi,
            &idi.body(),
        );
        let mut payloads = vec![Payload::IdI(idi)];
        if ctx.config.initial_contact {
            payloads.push(Payload::Notify(Notify::new(
                NotifyType::INITIAL_CONTACT,
                Vec::new(),
            )));
        }
        payloads.push(Payload::Auth(Auth {
            method: AuthMethod::SHARED_KEY_MIC,
            data: auth,
        }));
        let spi = spi_in.to_be_bytes().to_vec();
        let proposals = ctx.config.esp.proposals.iter().zip(1u8..);
        payloads.push(Payload::Sa(
            proposals
                .map(|(p, n)| p.to_wire(n, ProtocolId::ESP, spi.clone(), false))
                .collect(),
        ));
        payloads.push(Payload::TsI(ctx.config.local_ts.clone()));
        payloads.push(Payload::TsR(ctx.config.remote_ts.clone()));
        payloads
    }

    /// The responder checks the initiator's AUTH with the PSK; on success the IKE SA is
    /// established and the CHILD SA negotiated, on failure AUTHENTICATION_FAILED is sent.
    pub(super) fn handle_auth_request(&mut self, ctx: &mut Ctx<'_>, msg: &Message, raw: &[u8]) {
        let State::InitReplied(st) = &self.state else {
            return;
        };
        let Some(payloads) = Self::open(ctx, &st.keys, msg, raw) else {
            return;
        };
        // The IKE_AUTH request is the last we heard of the peer: DPD's silence starts here.
        self.last_heard = ctx.now;
        self.move_with_peer(ctx);
        let State::InitReplied(st) = std::mem::replace(&mut self.state, State::Closed) else {
            return;
        };
        let id = MessageId(msg.header.message_id);
        let keys = st.keys;
        let respond = |sa: &mut IkeSa, ctx: &mut Ctx<'_>, keys: &Keys, payloads: &[Payload]| {
            let header = sa.header(ExchangeType::IKE_AUTH, id, true);
            let datagram = sa.seal(ctx, keys, &header, payloads);
            sa.send_response(ctx, id, datagram);
        };

        if let Some(ty) = payloads.iter().find_map(|p| match p {
            Payload::Unknown(u) if u.critical => Some(u.ty),
            _ => None,
        }) {
            let n = Notify::new(NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD, vec![ty.0]);
            respond(self, ctx, &keys, &[Payload::Notify(n)]);
            self.close();
            self.emit(
                ctx,
                EventKind::IkeSaFailed {
                    notify: NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD,
                    misbehaved: None,
                },
            );
            return;
        }
        let idi = payloads.iter().find_map(|p| {
            if let Payload::IdI(i) = p {
                Some(i)
            } else {
                None
            }
        });
        let auth = payloads.iter().find_map(|p| {
            if let Payload::Auth(a) = p {
                Some(a)
            } else {
                None
            }
        });
        let (Some(idi), Some(auth)) = (idi, auth) else {
            let payload = if idi.is_none() {
                ike_wire::PayloadType::IDI
            } else {
                ike_wire::PayloadType::AUTH
            };
            respond(
                self,
                ctx,
                &keys,
                &[Payload::Notify(Notify::new(
                    NotifyType::INVALID_SYNTAX,
                    Vec::new(),
                ))],
            );
            self.close();
            self.fail_misbehaved(
                ctx,
                NotifyType::INVALID_SYNTAX,
                PeerMisbehaved::MissingPayload { payload },
            );
            return;
        };
        let expected = psk_auth(
            &keys.suite.prf,
            &ctx.config.psk,
            &st.init_request,
            &st.nr,
            &keys.sk_pi,
            &idi.body(),
        );
        if auth.method != AuthMethod::SHARED_KEY_MIC || !same_mac(&auth.data, &expected) {
            tracing::debug!(peer = %idi, "AUTH payload does not verify with our PSK");
            let n = Notify::new(NotifyType::AUTHENTICATION_FAILED, Vec::new());
            respond(self, ctx, &keys, &[Payload::Notify(n)]);
            self.close();
            ctx.misbehaved(PeerMisbehaved::AuthenticationFailed);
            self.emit(
                ctx,
                EventKind::AuthenticationFailed {
                    direction: Direction::Sent,
                },
            );
            return;
        }

        let idr: Identification = self.local_id(ctx.config);
        let our_auth = psk_auth(
            &keys.suite.prf,
            &ctx.config.psk,
            &st.init_response,
            &st.ni,
            &keys.sk_pr,
            &idr.body(),
        );
        let mut response = vec![
            Payload::IdR(idr),
            Payload::Auth(Auth {
                method: AuthMethod::SHARED_KEY_MIC,
                data: our_auth,
            }),
        ];
        let offer = child_offer(&payloads);
        let (spi_i, spi_r) = (self.spi_i, self.spi_r);
        let ike_selected = self.ike_selected;
        self.state = State::Established(Box::new(Established { keys }));
        self.on_ike_established(ctx);
        if notify_of(&payloads, NotifyType::INITIAL_CONTACT) {
            // The peer has no other SA with us (it rebooted): ours are stale (§2.4).
            ctx.effects.push(Effect::InitialContact {
                peer: self.remote.ip(),
                from: self.id(),
            });
        }
        let Some(selected) = ike_selected else { return };
        let Some(offered) = offer.sa else {
            // A childless IKE SA (RFC 6023).
            self.emit(
                ctx,
                EventKind::IkeSaEstablished {
                    spi_i,
                    spi_r,
                    selected,
                },
            );
            self.send_protected_response(ctx, ExchangeType::IKE_AUTH, id, &response);
            return;
        };
        let spi_in = ctx.esp_spi();
        crate::shell::push_exact(&mut self.children, ChildSa::negotiating(spi_in));
        self.emit(
            ctx,
            EventKind::IkeSaEstablished {
                spi_i,
                spi_r,
                selected,
            },
        );

        let outcome = self.accept_child(
            ctx,
            offered,
            offer.tsi.map(Vec::as_slice),
            offer.tsr.map(Vec::as_slice),
            &st.ni,
            &st.nr,
            None,
        );
        match outcome {
            Ok((selected, tsi, tsr, spi_out)) => {
                let mut answered = selected;
                if ctx.config.impair.select_unoffered_esp {
                    answered.encryption.key_bits = match selected.encryption.key_bits {
                        Some(128) => Some(256),
                        _ => Some(128),
                    };
                }
                response.push(Payload::Sa(vec![
                    answered.to_wire(ProtocolId::ESP, spi_in.to_be_bytes().to_vec())
                ]));
                response.push(Payload::TsI(tsi));
                response.push(Payload::TsR(tsr));
                self.send_protected_response(ctx, ExchangeType::IKE_AUTH, id, &response);
                self.emit(
                    ctx,
                    EventKind::ChildSaEstablished {
                        spi_in: spi_in.0,
                        spi_out,
                        selected,
                    },
                );
            }
            Err((notify, failure)) => {
                self.children.retain(|c| c.spi_in != spi_in);
                response.push(Payload::Notify(Notify::new(notify, Vec::new())));
                self.send_protected_response(ctx, ExchangeType::IKE_AUTH, id, &response);
                self.emit(ctx, EventKind::ChildSaFailed { failure });
            }
        }
        // The initiator chose one pair; a policy-based responder's other pairs get their
        // CHILD SAs when their traffic hits the trap policy.
        self.trap_missing_pairs(ctx);
    }

    /// Starts the IKE SA's lifetime clock (RFC 7296 §2.8) and ends the half-open timeout.
    pub(super) fn on_ike_established(&mut self, ctx: &mut Ctx<'_>) {
        self.timers.stop(Timer::HalfOpen);
        let (rekey_at, expire_at) = ctx.lifetime(ctx.config.lifetimes.ike);
        self.timers.arm(Timer::RekeyIke, rekey_at);
        self.timers.set(Timer::ExpireIke, expire_at);
    }

    /// Chooses an ESP proposal and narrows the selectors for the CHILD SA being negotiated
    /// (the last one in `children`), and establishes it. Returns the choice, the narrowed
    /// TSi/TSr and the peer's SPI — or the error notify to send and why.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    pub(super) fn accept_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        offered: &[Proposal],
        tsi: Option<&[TrafficSelector]>,
        tsr: Option<&[TrafficSelector]>,
        ni: &[u8],
        nr: &[u8],
        g_ir: Option<&[u8]>,
    ) -> Result<
        (Selected, Vec<TrafficSelector>, Vec<TrafficSelector>, u32),
        (NotifyType, ChildFailure),
    > {
        let negotiation = if g_ir.is_some() {
            Negotiation::ChildWithKe
        } else {
            Negotiation::ChildWithoutKe
        };
        let selected = select(offered, &ctx.config.esp, negotiation).map_err(|nm| {
            let failure = ChildFailure::Incompatible(
                PeerIncompatible::NoProposalChosen {
                    unsupported: nm.unsupported,
                },
                Direction::Sent,
            );
            (NotifyType::NO_PROPOSAL_CHOSEN, failure)
        })?;
        let ts_unacceptable = (
            NotifyType::TS_UNACCEPTABLE,
            ChildFailure::Incompatible(PeerIncompatible::TsUnacceptable, Direction::Sent),
        );
        let (Some(tsi), Some(tsr)) = (tsi, tsr) else {
            return Err(ts_unacceptable);
        };
        // TSi is the initiator's side: the remote network from where we stand. The first of
        // our selector pairs that leaves something on both sides is the CHILD SA's (one
        // pair but for a policy-based CGW's, `EndpointConfig::more_children`).
        let narrowed = ctx.config.ts_pairs().find_map(|(local, remote)| {
            let tsi = ts::narrow(tsi, remote);
            let tsr = ts::narrow(tsr, local);
            (!tsi.is_empty() && !tsr.is_empty()).then_some((tsi, tsr))
        });
        let Some((tsi, tsr)) = narrowed else {
            return Err(ts_unacceptable);
        };
        let spi_out = offered
            .iter()
            .find(|p| p.number == selected.number && p.protocol == ProtocolId::ESP)
            .and_then(esp_spi)
            .ok_or((
                NotifyType::INVALID_SYNTAX,
                ChildFailure::Misbehaved(PeerMisbehaved::BadSpiSize),
            ))?;
        let Some(keys) = self.keys() else {
            return Err((NotifyType::INVALID_SYNTAX, ChildFailure::Internal));
        };
        let (prf, sk_d) = (keys.suite.prf, keys.sk_d.clone());
        let Some(child) = self.children.last_mut() else {
            return Err((NotifyType::INVALID_SYNTAX, ChildFailure::Internal));
        };
        let params = ChildParams {
            prf: &prf,
            sk_d: &sk_d,
            g_ir,
            ni,
            nr,
            // The responder of IKE_AUTH or of the CREATE_CHILD_SA: the peer's keys first.
            initiator: false,
        };
        child
            .establish(&params, Spi(spi_out), selected, tsr.clone(), tsi.clone())
            .map_err(|_| {
                let failure = ChildFailure::Incompatible(
                    PeerIncompatible::NoProposalChosen { unsupported: true },
                    Direction::Sent,
                );
                (NotifyType::NO_PROPOSAL_CHOSEN, failure)
            })?;
        let (rekey_at, expire_at) = ctx.lifetime(ctx.config.lifetimes.child);
        child.timers.arm(ChildTimer::Rekey, rekey_at);
        child.timers.set(ChildTimer::Expire, expire_at);
        Ok((selected, tsi, tsr, spi_out))
    }
}
