//! Main mode with pre-shared keys (RFC 2409 §5, §5.4): six messages, the last two
//! encrypted with keys derived from the PSK — so a wrong PSK shows as a message that does
//! not decrypt (`main_mode_auth`). This module: messages 1–4, the SA offer and choice,
//! the Diffie-Hellman exchange, the key schedule and NAT detection per RFC 3947.

use std::net::SocketAddr;

use ike_crypto::v1::{nat_d, phase1_iv, phase1_keys, skeyid_psk, Cbc, Hash};
use ike_crypto::KeyExchange;
use ike_wire::v1::{
    ike_attr, protocol, Body, ExchangeType, Message, NotifyType, Payload, Transform,
};
use ike_wire::DhGroup;

use super::exchange::notification;
use super::payloads::{
    find_ke, find_nonce, find_sa, log_vendor_ids, nat_ds, notify_of, sa_payload, says_dpd,
    vendor_ids,
};
use super::proposal::{attr, chosen, phase1_as_proposal, phase1_transforms};
use super::{Authenticating, Awaiting, ExpectMm2, ExpectMm3, ExpectMm4, P1Keys, Phase1Sa, State};
use crate::event::{Direction, DropReason, Event, EventKind, IkeVersion, SaFacts};
use crate::failure::{PeerIncompatible, PeerMisbehaved};
use crate::proposal::{select, Negotiation, Selected};
use crate::shell::timer::Timer;
use crate::shell::{Ctx, IkeSaId};

const NONCE_LEN: usize = 32;

/// The parts of a main mode transform that key the ISAKMP SA.
#[derive(Clone, Copy)]
pub(super) struct Suite {
    pub group: DhGroup,
    pub hash: Hash,
    pub key_len: usize,
}

impl Suite {
    fn of(t: &Transform) -> Option<Suite> {
        let group = DhGroup(u16::try_from(attr(t, ike_attr::GROUP_DESCRIPTION)?).ok()?);
        let hash =
            Hash::from_attribute(u16::try_from(attr(t, ike_attr::HASH_ALGORITHM)?).ok()?).ok()?;
        let key_len = attr(t, ike_attr::KEY_LENGTH).map_or(16, |bits| bits as usize / 8);
        Some(Suite {
            group,
            hash,
            key_len,
        })
    }
}

/// What SKEYID and the phase 1 keys are derived from (RFC 2409 §5).
struct KeyInputs<'a> {
    ke: KeyExchange,
    peer_public: &'a [u8],
    ni: &'a [u8],
    nr: &'a [u8],
    g_xi: &'a [u8],
    g_xr: &'a [u8],
}

impl Phase1Sa {
    /// Starts main mode: message 1 offers one transform per suite we accept.
    pub(crate) fn initiate(
        ctx: &mut Ctx<'_>,
        local: SocketAddr,
        remote: SocketAddr,
        replaces: Option<IkeSaId>,
    ) -> Option<Phase1Sa> {
        let secs = u32::try_from(ctx.config.lifetimes.ike.as_secs()).unwrap_or(u32::MAX);
        let transforms = phase1_transforms(&ctx.config.ike.proposals, secs);
        if transforms.is_empty() {
            tracing::warn!("no IKE proposal can be expressed in IKEv1: cannot initiate");
            return None;
        }
        let cky_i = ctx.ike_spi();
        let sa_p = sa_payload(transforms);
        let sai_b = sa_p.body();
        let state = State::ExpectMm2(Box::new(ExpectMm2 { sai_b }));
        let mut sa = Phase1Sa::new(cky_i, 0, local, remote, state, ctx.now);
        sa.replaces = replaces;
        let mut payloads = vec![sa_p];
        payloads.extend(vendor_ids(ctx));
        let datagram = sa.plain(ExchangeType::IDENTITY_PROTECTION, payloads);
        sa.send_awaiting(ctx, Awaiting::MainMode, datagram);
        // A replacement is the old ISAKMP SA's rekey as far as the tunnel goes (RFC 2409
        // has no rekey of its own); the old SA, marked rekeying, gives the phase 1 state.
        let kind = match replaces {
            None => EventKind::IkeSaNegotiating {
                spi_i: cky_i,
                spi_r: 0,
            },
            Some(old) => EventKind::IkeSaRekeying {
                spi_i: old.spi_i,
                spi_r: old.spi_r,
            },
        };
        sa.emit(ctx, kind);
        Some(sa)
    }

    /// Answers main mode message 1, or refuses it (NO_PROPOSAL_CHOSEN, no state kept).
    pub(crate) fn accept(
        ctx: &mut Ctx<'_>,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &Message,
        raw: &[u8],
    ) -> Option<Phase1Sa> {
        let Body::Plain(payloads) = &msg.body else {
            ctx.drop_message(DropReason::UnexpectedMessage, "main mode 1 encrypted");
            return None;
        };
        let Some(offered) = find_sa(payloads) else {
            ctx.drop_message(DropReason::MissingPayload, "main mode 1 without SA");
            return None;
        };
        let transforms: Vec<Transform> = offered
            .proposals
            .iter()
            .filter(|p| p.protocol == protocol::ISAKMP)
            .flat_map(|p| p.transforms.clone())
            .collect();
        let as_v2: Vec<_> = transforms.iter().filter_map(phase1_as_proposal).collect();
        let cky_r = ctx.ike_spi();
        let selected = match select(&as_v2, &ctx.config.ike, Negotiation::Ike) {
            Ok(s) => s,
            Err(no_match) => {
                let n = notification(
                    NotifyType::NO_PROPOSAL_CHOSEN,
                    protocol::ISAKMP,
                    Vec::new(),
                    Vec::new(),
                );
                let refusal =
                    Phase1Sa::new(msg.header.cky_i, 0, local, remote, State::Closed, ctx.now);
                ctx.send(
                    local,
                    remote,
                    refusal.plain(ExchangeType::INFORMATIONAL, vec![n]),
                );
                ctx.incompatible(PeerIncompatible::NoProposalChosen {
                    unsupported: no_match.unsupported,
                });
                let kind = EventKind::IkeNoProposalChosen {
                    unsupported: no_match.unsupported,
                    direction: Direction::Sent,
                };
                ctx.events.push(Event::new(
                    kind,
                    SaFacts::none(false),
                    remote,
                    IkeVersion::V1,
                ));
                return None;
            }
        };
        let Some(transform) = chosen(&transforms, &selected).cloned() else {
            ctx.drop_message(
                DropReason::Unusable,
                "main mode 1: chosen transform not found",
            );
            return None;
        };
        let state = State::ExpectMm3(Box::new(ExpectMm3 {
            sai_b: Payload::Sa(offered.clone()).body(),
            transform: transform.clone(),
        }));
        let mut sa = Phase1Sa::new(msg.header.cky_i, cky_r, local, remote, state, ctx.now);
        log_vendor_ids(payloads);
        sa.peer_dpd = says_dpd(payloads);
        sa.selected = Some(selected);
        sa.timers
            .set(Timer::HalfOpen, ctx.now + ctx.config.half_open_timeout);
        let mut out = vec![sa_payload(vec![transform])];
        out.extend(vendor_ids(ctx));
        let datagram = sa.plain(ExchangeType::IDENTITY_PROTECTION, out);
        sa.send_answer(ctx, raw, datagram);
        sa.emit(
            ctx,
            EventKind::IkeSaNegotiating {
                spi_i: sa.cky_i,
                spi_r: cky_r,
            },
        );
        Some(sa)
    }

    /// A main mode message for this SA: only the one its state expects is taken.
    pub(super) fn handle_main_mode(&mut self, ctx: &mut Ctx<'_>, msg: &Message, raw: &[u8]) {
        match (&mut self.state, &msg.body) {
            (State::ExpectMm2(_), Body::Plain(p)) => self.on_message2(ctx, msg, p),
            (State::ExpectMm3(_), Body::Plain(p)) => self.on_message3(ctx, msg, raw, p),
            (State::ExpectMm4(_), Body::Plain(p)) => self.on_message4(ctx, p),
            (State::ExpectMm5(_), Body::Encrypted(_)) => self.on_message5(ctx, msg, raw),
            (State::ExpectMm6(_), Body::Encrypted(c)) => self.on_message6(ctx, msg, c),
            (State::ExpectMm6(st), Body::Plain(_)) => {
                // The responder repeats message 4: it could not decrypt our message 5
                // (strongSwan logs "received retransmit of response with ID 0, but next
                // request already sent"). Dropped, and remembered for the diagnosis.
                st.message4_repeats += 1;
                ctx.stats.unmatched += 1;
            }
            _ => ctx.stats.unmatched += 1,
        }
    }

    /// A plain informational: during main mode 1, the responder refusing us. Any other
    /// error notify while we initiate main mode proves nothing (RFC 2408 §3.14.1): it is
    /// dropped, but reported, since it is most likely the responder saying why it gave up.
    pub(super) fn handle_plain_notify(&mut self, ctx: &mut Ctx<'_>, payloads: &[Payload]) {
        let initiating = matches!(
            self.state,
            State::ExpectMm2(_) | State::ExpectMm4(_) | State::ExpectMm6(_)
        );
        let error = payloads.iter().find_map(|p| match p {
            Payload::Notification(n) if n.ty.is_error() => Some(n.ty),
            _ => None,
        });
        let refusal = matches!(self.state, State::ExpectMm2(_))
            && notify_of(payloads) == Some(NotifyType::NO_PROPOSAL_CHOSEN);
        if !refusal {
            ctx.drop_message(
                DropReason::UnexpectedMessage,
                if matches!(self.state, State::ExpectMm2(_)) {
                    "plain informational that is no refusal"
                } else {
                    "plain informational outside main mode"
                },
            );
            if let (true, Some(notify)) = (initiating, error) {
                let after_message5 = matches!(self.state, State::ExpectMm6(_));
                self.emit(
                    ctx,
                    EventKind::UnauthenticatedNotify {
                        notify,
                        after_message5,
                    },
                );
            }
            return;
        }
        self.close();
        ctx.incompatible(PeerIncompatible::NoProposalChosen { unsupported: false });
        self.emit(
            ctx,
            EventKind::IkeNoProposalChosen {
                unsupported: false,
                direction: Direction::Received,
            },
        );
    }

    fn on_message2(&mut self, ctx: &mut Ctx<'_>, msg: &Message, payloads: &[Payload]) {
        let State::ExpectMm2(st) = &self.state else {
            return;
        };
        let sai_b = st.sai_b.clone();
        let Some(sa) = find_sa(payloads) else {
            ctx.drop_message(DropReason::MissingPayload, "main mode 2 without SA");
            return;
        };
        let Some(t) = sa.proposals.first().and_then(|p| p.transforms.first()) else {
            ctx.drop_message(
                DropReason::MissingPayload,
                "main mode 2 without a transform",
            );
            return;
        };
        let acceptable = phase1_as_proposal(t)
            .and_then(|p| Selected::from_wire(&p))
            .filter(|s| ctx.config.ike.proposals.iter().any(|p| p.allows(s)));
        let Some(selected) = acceptable else {
            self.close();
            let m = PeerMisbehaved::SelectedUnofferedProposal;
            ctx.misbehaved(m);
            self.emit(
                ctx,
                EventKind::IkeSaFailed {
                    notify: ike_wire::NotifyType::NO_PROPOSAL_CHOSEN,
                    misbehaved: Some(m),
                },
            );
            return;
        };
        self.cky_r = msg.header.cky_r;
        self.clear_pending();
        log_vendor_ids(payloads);
        self.peer_dpd = says_dpd(payloads);
        self.selected = Some(selected);
        let Some(suite) = Suite::of(t) else {
            ctx.drop_message(
                DropReason::Unusable,
                "main mode 2: no group or hash we know",
            );
            return;
        };
        let ke = match KeyExchange::generate(suite.group) {
            Ok(k) => k,
            Err(e) => {
                tracing::warn!("main mode group {}: {e}", suite.group);
                self.close();
                return;
            }
        };
        let ni = ctx.random_bytes(NONCE_LEN);
        let g_xi = ke.public_value().to_vec();
        let out = vec![
            Payload::Ke(g_xi.clone()),
            Payload::Nonce(ni.clone()),
            Payload::NatD(nat_d(suite.hash, self.cky_i, self.cky_r, self.remote)),
            Payload::NatD(nat_d(suite.hash, self.cky_i, self.cky_r, self.local)),
        ];
        self.state = State::ExpectMm4(Box::new(ExpectMm4 {
            sai_b,
            transform: t.clone(),
            ke,
            g_xi,
            ni,
        }));
        let datagram = self.plain(ExchangeType::IDENTITY_PROTECTION, out);
        self.send_awaiting(ctx, Awaiting::MainMode, datagram);
    }

    /// RFC 3947 §3.2: the first NAT-D is the hash of the receiver's address, the others of
    /// the sender's possible addresses.
    fn detect_nat(&mut self, hash: Hash, payloads: &[Payload]) {
        let ds = nat_ds(payloads);
        if let Some((first, rest)) = ds.split_first() {
            self.nat.local_behind = **first != nat_d(hash, self.cky_i, self.cky_r, self.local);
            let peer = nat_d(hash, self.cky_i, self.cky_r, self.remote);
            self.nat.peer_behind = !rest.iter().any(|d| **d == peer);
        }
    }

    /// Derives SKEYID and the rest from the DH result and the PSK (RFC 2409 §5).
    fn derive(&self, ctx: &mut Ctx<'_>, suite: Suite, k: KeyInputs<'_>) -> Option<P1Keys> {
        let g_xy = k.ke.shared_secret(k.peer_public).ok()?;
        let prf = suite.hash.prf();
        let skeyid = skeyid_psk(&prf, &ctx.config.psk, k.ni, k.nr);
        let keys = phase1_keys(
            &prf,
            skeyid.clone(),
            &g_xy,
            self.cky_i,
            self.cky_r,
            suite.key_len,
        );
        let cbc = Cbc::new(&keys.enc_key).ok()?;
        if ctx.config.export_secrets {
            ctx.secrets.push(crate::event::IkeSaSecrets::ikev1(
                self.cky_i,
                self.cky_r,
                keys.enc_key.clone(),
            ));
        }
        let iv = phase1_iv(suite.hash, k.g_xi, k.g_xr, Cbc::BLOCK);
        Some(P1Keys {
            hash: suite.hash,
            prf,
            skeyid,
            skeyid_d: keys.skeyid_d.clone(),
            skeyid_a: keys.skeyid_a.clone(),
            cbc,
            iv,
            last_block: Vec::new(),
        })
    }

    fn on_message3(&mut self, ctx: &mut Ctx<'_>, msg: &Message, raw: &[u8], payloads: &[Payload]) {
        let State::ExpectMm3(st) = &self.state else {
            return;
        };
        let (Some(g_xi), Some(ni)) = (find_ke(payloads), find_nonce(payloads)) else {
            ctx.drop_message(
                DropReason::MissingPayload,
                "main mode 3 without KE or Nonce",
            );
            return;
        };
        let Some(suite) = Suite::of(&st.transform) else {
            ctx.drop_message(
                DropReason::Unusable,
                "main mode 3: no group or hash we know",
            );
            return;
        };
        let Ok(ours) = KeyExchange::generate(suite.group) else {
            ctx.drop_message(DropReason::Unusable, "main mode 3: our KE failed");
            return;
        };
        let nr = ctx.random_bytes(NONCE_LEN);
        let g_xr = ours.public_value().to_vec();
        let inputs = KeyInputs {
            ke: ours,
            peer_public: g_xi,
            ni,
            nr: &nr,
            g_xi,
            g_xr: &g_xr,
        };
        let Some(keys) = self.derive(ctx, suite, inputs) else {
            tracing::debug!(cky_i = msg.header.cky_i, "main mode message 3 unusable");
            ctx.drop_message(DropReason::Unusable, "main mode 3: the keys do not compute");
            return;
        };
        let (sai_b, transform) = (st.sai_b.clone(), st.transform.clone());
        self.detect_nat(suite.hash, payloads);
        self.last_heard = ctx.now;
        let out = vec![
            Payload::Ke(g_xr.clone()),
            Payload::Nonce(nr),
            Payload::NatD(nat_d(suite.hash, self.cky_i, self.cky_r, self.remote)),
            Payload::NatD(nat_d(suite.hash, self.cky_i, self.cky_r, self.local)),
        ];
        self.state = State::ExpectMm5(Box::new(Authenticating {
            sai_b,
            transform,
            g_xi: g_xi.clone(),
            g_xr,
            keys,
            message4_repeats: 0,
        }));
        let datagram = self.plain(ExchangeType::IDENTITY_PROTECTION, out);
        self.send_answer(ctx, raw, datagram);
    }

    fn on_message4(&mut self, ctx: &mut Ctx<'_>, payloads: &[Payload]) {
        let State::ExpectMm4(st) = &self.state else {
            return;
        };
        let (Some(g_xr), Some(nr)) = (find_ke(payloads), find_nonce(payloads)) else {
            ctx.drop_message(
                DropReason::MissingPayload,
                "main mode 4 without KE or Nonce",
            );
            return;
        };
        let Some(suite) = Suite::of(&st.transform) else {
            ctx.drop_message(
                DropReason::Unusable,
                "main mode 4: no group or hash we know",
            );
            return;
        };
        // From here on main mode either goes on to message 5 or ends.
        let State::ExpectMm4(st) = std::mem::replace(&mut self.state, State::Closed) else {
            return;
        };
        let ExpectMm4 {
            sai_b,
            transform,
            ke,
            g_xi,
            ni,
        } = *st;
        let inputs = KeyInputs {
            ke,
            peer_public: g_xr,
            ni: &ni,
            nr,
            g_xi: &g_xi,
            g_xr,
        };
        let Some(keys) = self.derive(ctx, suite, inputs) else {
            self.close();
            let m = PeerMisbehaved::KeValueUnusable;
            ctx.misbehaved(m);
            self.emit(
                ctx,
                EventKind::IkeSaFailed {
                    notify: ike_wire::NotifyType::INVALID_SYNTAX,
                    misbehaved: Some(m),
                },
            );
            return;
        };
        self.clear_pending();
        self.detect_nat(suite.hash, payloads);
        self.last_heard = ctx.now;
        if ctx.config.impair.abandon_after_sa_init {
            // IKEv1's counterpart of abandoning after IKE_SA_INIT: main mode 5 never comes.
            tracing::debug!(
                cky_i = self.cky_i,
                "impair: abandoning the ISAKMP SA after main mode message 4"
            );
            self.close();
            return;
        }
        let auth = Authenticating {
            sai_b,
            transform,
            g_xi,
            g_xr: g_xr.clone(),
            keys,
            message4_repeats: 0,
        };
        self.send_message5(ctx, auth);
    }
}
