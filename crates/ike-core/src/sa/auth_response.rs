//! The initiator's side of IKE_AUTH (RFC 7296 §1.2, §2.15): the responder's AUTH is checked,
//! then the first CHILD SA's outcome (its proposal, selectors and SPI) is taken in.

use ike_crypto::psk_auth;
use ike_wire::{AuthMethod, ExchangeType, Notify, NotifyType, Payload, PayloadType};

use super::auth::{child_offer, esp_spi, first_error, notify_of};
use super::{AuthSent, Established, IkeSa, Purpose, State};
use crate::child::ChildParams;
use crate::event::{ChildFailure, Direction, EventKind};
use crate::failure::{PeerIncompatible, PeerMisbehaved};
use crate::proposal::Selected;
use crate::shell::timer::ChildTimer;
use crate::shell::{same_mac, Ctx, Spi};
use crate::ts;

/// What IKE_AUTH's answer says of the first CHILD SA: the proposal chosen, the
/// responder's SPI and the narrowed selectors.
type FirstChild = (
    Selected,
    u32,
    Vec<ike_wire::TrafficSelector>,
    Vec<ike_wire::TrafficSelector>,
);

impl IkeSa {
    /// The initiator checks the responder's AUTH; then the CHILD SA's outcome.
    pub(super) fn handle_auth_response(&mut self, ctx: &mut Ctx<'_>, payloads: &[Payload]) {
        let State::AuthSent(st) = std::mem::replace(&mut self.state, State::Closed) else {
            return;
        };
        let AuthSent {
            keys,
            ni,
            nr,
            init_response,
        } = *st;
        let payloads = payloads.to_vec();

        if notify_of(&payloads, NotifyType::AUTHENTICATION_FAILED) {
            self.close();
            self.emit(
                ctx,
                EventKind::AuthenticationFailed {
                    direction: Direction::Received,
                },
            );
            return;
        }
        let idr = payloads.iter().find_map(|p| {
            if let Payload::IdR(i) = p {
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
        let (Some(idr), Some(auth)) = (idr, auth) else {
            self.close();
            match first_error(&payloads) {
                Some(notify) => self.emit(
                    ctx,
                    EventKind::IkeSaFailed {
                        notify,
                        misbehaved: None,
                    },
                ),
                None => {
                    let payload = if idr.is_none() {
                        PayloadType::IDR
                    } else {
                        PayloadType::AUTH
                    };
                    self.fail_misbehaved(
                        ctx,
                        NotifyType::INVALID_SYNTAX,
                        PeerMisbehaved::MissingPayload { payload },
                    );
                }
            }
            return;
        };
        let expected = psk_auth(
            &keys.suite.prf,
            &ctx.config.psk,
            &init_response,
            &ni,
            &keys.sk_pr,
            &idr.body(),
        );
        if auth.method != AuthMethod::SHARED_KEY_MIC || !same_mac(&auth.data, &expected) {
            tracing::debug!(peer = %idr, "responder's AUTH does not verify with our PSK");
            // Tell the peer (RFC 7296 §2.21.2), then forget the SA.
            self.state = State::Established(Box::new(Established { keys }));
            let n = Notify::new(NotifyType::AUTHENTICATION_FAILED, Vec::new());
            self.request(
                ctx,
                ExchangeType::INFORMATIONAL,
                Purpose::Notify,
                vec![Payload::Notify(n)],
            );
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
        let prf = keys.suite.prf;
        let sk_d = keys.sk_d.clone();
        self.state = State::Established(Box::new(Established { keys }));
        self.on_ike_established(ctx);
        let (spi_i, spi_r) = (self.spi_i, self.spi_r);
        if let Some(selected) = self.ike_selected {
            self.emit(
                ctx,
                EventKind::IkeSaEstablished {
                    spi_i,
                    spi_r,
                    selected,
                },
            );
        }

        let failure = if notify_of(&payloads, NotifyType::NO_PROPOSAL_CHOSEN) {
            Some(ChildFailure::Incompatible(
                PeerIncompatible::NoProposalChosen { unsupported: false },
                Direction::Received,
            ))
        } else if notify_of(&payloads, NotifyType::TS_UNACCEPTABLE) {
            Some(ChildFailure::Incompatible(
                PeerIncompatible::TsUnacceptable,
                Direction::Received,
            ))
        } else {
            first_error(&payloads).map(ChildFailure::Notified)
        };
        let offer = child_offer(&payloads);
        let outcome = match (failure, offer.sa, offer.tsi, offer.tsr) {
            (Some(f), ..) => Err(f),
            (None, Some(sa), Some(tsi), Some(tsr)) => {
                let fits = |s: &Selected| ctx.config.esp.proposals.iter().any(|p| p.allows(s));
                let misbehaved = |m| Err(ChildFailure::Misbehaved(m));
                match sa.as_slice() {
                    [one] => match (Selected::from_wire(one), esp_spi(one)) {
                        (Some(s), Some(spi_out)) if fits(&s) => {
                            if ts::all_within(tsi, &ctx.config.local_ts)
                                && ts::all_within(tsr, &ctx.config.remote_ts)
                            {
                                Ok((s, spi_out, tsi.clone(), tsr.clone()))
                            } else {
                                misbehaved(PeerMisbehaved::TsOutsideOffer)
                            }
                        }
                        (Some(s), None) if fits(&s) => misbehaved(PeerMisbehaved::BadSpiSize),
                        _ => misbehaved(PeerMisbehaved::SelectedUnofferedProposal),
                    },
                    _ => misbehaved(PeerMisbehaved::SelectedSeveralProposals),
                }
            }
            (None, sa, tsi, _) => {
                let payload = if sa.is_none() {
                    PayloadType::SA
                } else if tsi.is_none() {
                    PayloadType::TSI
                } else {
                    PayloadType::TSR
                };
                Err(ChildFailure::Misbehaved(PeerMisbehaved::MissingPayload {
                    payload,
                }))
            }
        };
        self.complete_first_child(ctx, outcome, &prf, &sk_d, &ni, &nr);
        // A policy-based initiator's other selector pairs, one CREATE_CHILD_SA each.
        self.create_more_children(ctx);
    }

    /// Sets up the CHILD SA negotiated with IKE_AUTH, or reports why it is not.
    fn complete_first_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        outcome: Result<FirstChild, ChildFailure>,
        prf: &ike_crypto::Prf,
        sk_d: &[u8],
        ni: &[u8],
        nr: &[u8],
    ) {
        let Some(child) = self.children.last_mut() else {
            return;
        };
        let spi_in = child.spi_in;
        match outcome {
            Ok((selected, spi_out, tsi, tsr)) => {
                let params = ChildParams {
                    prf,
                    sk_d,
                    g_ir: None,
                    ni,
                    nr,
                    initiator: true,
                };
                match child.establish(&params, Spi(spi_out), selected, tsi, tsr) {
                    Ok(()) => {
                        let (rekey_at, expire_at) = ctx.lifetime(ctx.config.lifetimes.child);
                        child.timers.arm(ChildTimer::Rekey, rekey_at);
                        child.timers.set(ChildTimer::Expire, expire_at);
                        self.emit(
                            ctx,
                            EventKind::ChildSaEstablished {
                                spi_in: spi_in.0,
                                spi_out,
                                selected,
                            },
                        );
                    }
                    Err(e) => {
                        tracing::debug!("CHILD SA keys: {e}");
                        self.children.retain(|c| c.spi_in != spi_in);
                        self.emit(
                            ctx,
                            EventKind::ChildSaFailed {
                                failure: ChildFailure::Internal,
                            },
                        );
                    }
                }
            }
            Err(failure) => {
                self.children.retain(|c| c.spi_in != spi_in);
                self.emit(ctx, EventKind::ChildSaFailed { failure });
            }
        }
    }
}
