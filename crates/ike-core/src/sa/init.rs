//! IKE_SA_INIT (RFC 7296 §1.2): proposal and DH negotiation, nonces, NAT detection
//! (§2.23), INVALID_KE_PAYLOAD (§1.3) and COOKIE (§2.6) retries.

use std::net::SocketAddr;

use ike_crypto::{nat_detection_hash, skeyseed, Encryption, IkeSuite, Integrity, KeyExchange, Prf};
use ike_wire::PayloadsExt;
use ike_wire::{
    DhGroup, ExchangeType, Flags, Header, KeyExchange as KePayload, Message, Notify, NotifyType,
    Payload, PayloadType, ProtocolId,
};

use super::{AuthSent, IkeSa, InitSent, Keys, Purpose, State};
use crate::child::ChildSa;
use crate::event::{Direction, Event, EventKind, IkeVersion, SaFacts};
use crate::failure::{PeerIncompatible, PeerMisbehaved};
use crate::proposal::Selected;
use crate::shell::{Ctx, IkeSaId, MessageId, Role};

pub(super) const NONCE_LEN: usize = 32;

/// Derives the IKE SA's keys from the chosen suite, the DH exchange and the nonces (§2.14).
pub(super) fn derive_keys(
    selected: &Selected,
    ke: KeyExchange,
    peer_public: &[u8],
    (ni, nr): (&[u8], &[u8]),
    id: IkeSaId,
    role: Role,
    ctx: &mut Ctx<'_>,
) -> Result<Keys, ike_crypto::CryptoError> {
    let prf_id = selected
        .prf
        .ok_or(ike_crypto::CryptoError::Unsupported { what: "PRF", id: 0 })?;
    let suite = IkeSuite {
        encryption: Encryption::new(selected.encryption.id, selected.encryption.key_bits)?,
        integrity: selected.integrity.map(Integrity::new).transpose()?,
        prf: Prf::new(prf_id)?,
    };
    let g_ir = ke.shared_secret(peer_public)?;
    let seed = skeyseed(&suite.prf, ni, nr, &g_ir);
    let keys = suite.derive(&seed, ni, nr, id.spi_i, id.spi_r);
    let export = ctx.config.export_secrets.then_some((&mut *ctx.secrets, id));
    Keys::new(suite, keys, role, export)
}

fn notifies(msg: &Message, ty: NotifyType) -> impl Iterator<Item = &Notify> {
    msg.payloads.iter().filter_map(move |p| match p {
        Payload::Notify(n) if n.ty == ty => Some(n),
        _ => None,
    })
}

/// Sets `nat` from the peer's NAT_DETECTION notifies: the source hash must match the
/// address the datagram came from, the destination hash the address it arrived at.
pub(super) fn detect_nat(sa: &mut IkeSa, msg: &Message) {
    let (spi_i, spi_r) = (msg.header.spi_i, msg.header.spi_r);
    let mut sources = notifies(msg, NotifyType::NAT_DETECTION_SOURCE_IP).peekable();
    if sources.peek().is_some() {
        let expected = nat_detection_hash(spi_i, spi_r, sa.remote);
        sa.nat.peer_behind = !sources.any(|n| n.data == expected);
    }
    if let Some(dst) = notifies(msg, NotifyType::NAT_DETECTION_DESTINATION_IP).next() {
        sa.nat.local_behind = dst.data != nat_detection_hash(spi_i, spi_r, sa.local);
    }
}

pub(super) fn nat_notifies(
    spi_i: u64,
    spi_r: u64,
    local: SocketAddr,
    remote: SocketAddr,
) -> [Payload; 2] {
    [
        Payload::Notify(Notify::new(
            NotifyType::NAT_DETECTION_SOURCE_IP,
            nat_detection_hash(spi_i, spi_r, local).to_vec(),
        )),
        Payload::Notify(Notify::new(
            NotifyType::NAT_DETECTION_DESTINATION_IP,
            nat_detection_hash(spi_i, spi_r, remote).to_vec(),
        )),
    ]
}

/// Answers an IKE_SA_INIT request with a lone error notify, keeping no state (§2.6, §3.1:
/// the responder SPI stays zero).
pub(crate) fn respond_without_state(
    ctx: &mut Ctx<'_>,
    local: SocketAddr,
    remote: SocketAddr,
    request: &Header,
    notify: Notify,
) {
    ctx.send(local, remote, stateless_response(request, notify));
}

/// The COOKIE answer to an IKE_SA_INIT request (RFC 7296 §2.6): the request's SPIi, a
/// zero SPIr, the COOKIE notify alone.
pub(crate) fn cookie_response(request: &Header, cookie: Vec<u8>) -> Vec<u8> {
    stateless_response(request, Notify::new(NotifyType::COOKIE, cookie))
}

/// An IKE_SA_INIT response carrying `notify` alone, with no SA behind it.
fn stateless_response(request: &Header, notify: Notify) -> Vec<u8> {
    let header = Header {
        spi_i: request.spi_i,
        spi_r: 0,
        next_payload: PayloadType::NONE,
        major: 2,
        minor: 0,
        exchange: ExchangeType::IKE_SA_INIT,
        flags: Flags::RESPONSE,
        message_id: request.message_id,
        length: 0,
    };
    Message {
        header,
        payloads: vec![Payload::Notify(notify)],
    }
    .encode()
}

pub(super) fn emit_without_sa(ctx: &mut Ctx<'_>, remote: SocketAddr, kind: EventKind) {
    ctx.events.push(Event::new(
        kind,
        SaFacts::none(true),
        remote,
        IkeVersion::V2,
    ));
}

impl IkeSa {
    /// The IKE SA failed because the peer's answer broke the rules: counted, then told.
    pub(super) fn fail_misbehaved(
        &self,
        ctx: &mut Ctx<'_>,
        notify: NotifyType,
        misbehaved: PeerMisbehaved,
    ) {
        ctx.misbehaved(misbehaved);
        self.emit(
            ctx,
            EventKind::IkeSaFailed {
                notify,
                misbehaved: Some(misbehaved),
            },
        );
    }

    /// Starts an IKE SA as initiator: sends IKE_SA_INIT with our first proposal's first
    /// DH group as the KE guess.
    pub(crate) fn initiate(
        ctx: &mut Ctx<'_>,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Option<IkeSa> {
        let Some(group) = ctx
            .config
            .ike
            .proposals
            .first()
            .and_then(|p| p.dh.first().copied())
        else {
            tracing::warn!("no IKE proposal with a DH group configured: cannot initiate");
            return None;
        };
        let ke = match KeyExchange::generate(group) {
            Ok(ke) => ke,
            Err(e) => {
                tracing::warn!("cannot initiate with DH group {group}: {e}");
                return None;
            }
        };
        let spi_i = ctx.ike_spi();
        let ni = ctx.random_bytes(NONCE_LEN);
        let state = InitSent {
            ke,
            ni,
            cookie: None,
            tried_groups: vec![group],
        };
        let mut sa = IkeSa::new(
            Role::Initiator,
            spi_i,
            0,
            local,
            remote,
            State::InitSent(Box::new(state)),
            ctx.now,
        );
        sa.send_init_request(ctx);
        sa.emit(ctx, EventKind::IkeSaNegotiating { spi_i, spi_r: 0 });
        Some(sa)
    }

    fn send_init_request(&mut self, ctx: &mut Ctx<'_>) {
        let State::InitSent(st) = &self.state else {
            return;
        };
        let mut payloads = Vec::new();
        if let Some(cookie) = &st.cookie {
            payloads.push(Payload::Notify(Notify::new(
                NotifyType::COOKIE,
                cookie.clone(),
            )));
        }
        let proposals = ctx.config.ike.proposals.iter().zip(1u8..);
        payloads.push(Payload::Sa(
            proposals
                .map(|(p, n)| p.to_wire(n, ProtocolId::IKE, Vec::new(), true))
                .collect(),
        ));
        payloads.push(Payload::Ke(KePayload {
            group: st.ke.group(),
            data: st.ke.public_value().to_vec(),
        }));
        payloads.push(Payload::Nonce(st.ni.clone()));
        payloads.extend(nat_notifies(self.spi_i, 0, self.local, self.remote));
        let header = self.header(ExchangeType::IKE_SA_INIT, MessageId(0), false);
        let datagram = Message { header, payloads }.encode();
        self.next_request_id = MessageId(0);
        self.clear_pending();
        self.send_request(ctx, ExchangeType::IKE_SA_INIT, Purpose::SaInit, datagram);
    }

    /// A responder's answer to our IKE_SA_INIT: either an error to act on, or its choice,
    /// KE and nonce, after which we authenticate (IKE_AUTH).
    pub(super) fn handle_init_response(&mut self, ctx: &mut Ctx<'_>, msg: &Message, raw: &[u8]) {
        if let Some(cookie) = notifies(msg, NotifyType::COOKIE).next() {
            if let State::InitSent(st) = &mut self.state {
                st.cookie = Some(cookie.data.clone());
            }
            self.send_init_request(ctx);
            return;
        }
        if let Some(n) = notifies(msg, NotifyType::INVALID_KE_PAYLOAD).next() {
            self.retry_with_group(ctx, &n.data);
            return;
        }
        if notifies(msg, NotifyType::NO_PROPOSAL_CHOSEN)
            .next()
            .is_some()
        {
            self.close();
            ctx.incompatible(PeerIncompatible::NoProposalChosen { unsupported: false });
            self.emit(
                ctx,
                EventKind::IkeNoProposalChosen {
                    unsupported: false,
                    direction: Direction::Received,
                },
            );
            return;
        }
        if let Some(ty) = msg.payloads.iter().find_map(|p| match p {
            Payload::Notify(n) if n.ty.is_error() => Some(n.ty),
            _ => None,
        }) {
            self.close();
            self.emit(
                ctx,
                EventKind::IkeSaFailed {
                    notify: ty,
                    misbehaved: None,
                },
            );
            return;
        }
        let p = &msg.payloads;
        let (Some(sa), Some(ke), Some(nr)) = (p.sa(), p.ke(), p.nonce()) else {
            ctx.stats.malformed += 1;
            return;
        };
        let State::InitSent(st) = std::mem::replace(&mut self.state, State::Closed) else {
            return;
        };
        let selected = match (sa, msg.header.spi_r) {
            ([one], spi_r) if spi_r != 0 => Selected::from_wire(one),
            _ => None,
        };
        let acceptable = selected.filter(|s| {
            s.dh == Some(st.ke.group())
                && ke.group == st.ke.group()
                && ctx.config.ike.proposals.iter().any(|p| p.allows(s))
        });
        let Some(selected) = acceptable else {
            tracing::debug!("IKE_SA_INIT response chose something we did not offer");
            let m = if sa.len() == 1 {
                PeerMisbehaved::SelectedUnofferedProposal
            } else {
                PeerMisbehaved::SelectedSeveralProposals
            };
            self.close();
            self.fail_misbehaved(ctx, NotifyType::NO_PROPOSAL_CHOSEN, m);
            return;
        };
        self.spi_r = msg.header.spi_r;
        let init_request = self.take_pending().map(|p| p.datagram).unwrap_or_default();
        let keys = match derive_keys(
            &selected,
            st.ke,
            &ke.data,
            (&st.ni, nr),
            self.id(),
            Role::Initiator,
            ctx,
        ) {
            Ok(k) => k,
            Err(e) => {
                tracing::debug!("IKE_SA_INIT response unusable: {e}");
                self.close();
                self.fail_misbehaved(
                    ctx,
                    NotifyType::INVALID_SYNTAX,
                    PeerMisbehaved::KeValueUnusable,
                );
                return;
            }
        };
        detect_nat(self, msg);
        self.float(ctx);
        self.ike_selected = Some(selected);
        let spi_in = ctx.esp_spi();
        crate::shell::push_exact(&mut self.children, ChildSa::negotiating(spi_in));
        self.last_heard = ctx.now;
        let auth_payloads = self.auth_request_payloads(ctx, &keys, &init_request, nr, spi_in);
        self.state = State::AuthSent(Box::new(AuthSent {
            keys,
            ni: st.ni,
            nr: nr.to_vec(),
            init_response: raw.to_vec(),
        }));
        if ctx.config.impair.abandon_after_sa_init {
            tracing::debug!(
                spi_i = self.spi_i,
                "impair: abandoning the IKE SA after IKE_SA_INIT"
            );
            self.close();
            return;
        }
        self.request(ctx, ExchangeType::IKE_AUTH, Purpose::Auth, auth_payloads);
    }

    fn retry_with_group(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        let group = match data {
            [a, b] => DhGroup(u16::from_be_bytes([*a, *b])),
            _ => DhGroup::NONE,
        };
        let offered = ctx
            .config
            .ike
            .proposals
            .iter()
            .any(|p| p.dh.contains(&group));
        let State::InitSent(st) = &mut self.state else {
            return;
        };
        if !offered || st.tried_groups.contains(&group) {
            self.close();
            // A group we did not offer breaks §1.3; one we tried already is a loop.
            let misbehaved = (!offered).then_some(PeerMisbehaved::SelectedUnofferedProposal);
            if let Some(m) = misbehaved {
                ctx.misbehaved(m);
            }
            self.emit(
                ctx,
                EventKind::IkeSaFailed {
                    notify: NotifyType::INVALID_KE_PAYLOAD,
                    misbehaved,
                },
            );
            return;
        }
        match KeyExchange::generate(group) {
            Ok(ke) => {
                ctx.incompatible(PeerIncompatible::InvalidKe {
                    offered: st.ke.group(),
                    wanted: group,
                });
                st.ke = ke;
                st.tried_groups.push(group);
                self.emit(
                    ctx,
                    EventKind::InvalidKePayload {
                        group,
                        direction: Direction::Received,
                    },
                );
                self.send_init_request(ctx);
            }
            Err(e) => {
                tracing::warn!("peer asked for DH group {group}, which we cannot compute: {e}");
                self.close();
                self.emit(
                    ctx,
                    EventKind::IkeSaFailed {
                        notify: NotifyType::INVALID_KE_PAYLOAD,
                        misbehaved: None,
                    },
                );
            }
        }
    }
}
