//! Core events → AWS tunnel log records (reference §1–2). Each phase state change gets one
//! record; an event whose story AWS tells in two lines (e.g. a PSK mismatch, then the
//! AUTHENTICATION_FAILED it answers with) gets two, the state change on the last.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use ike_core::{ChildFailure, Direction, Event, EventKind, IkeVersion, PeerIncompatible, SaState};
use ike_wire::ExchangeType;
use vpn_log::{Detail, EspSpi, IkeSpi, PhaseState, TunnelRecord};

use super::TunnelState;
use crate::scenario::Presentation;

fn phase(s: SaState) -> PhaseState {
    match s {
        SaState::Down => PhaseState::Down,
        SaState::Negotiating => PhaseState::Negotiating,
        SaState::Rekeying => PhaseState::Rekeying,
        SaState::Established => PhaseState::Established,
    }
}

/// One AWS tunnel's log stream.
pub struct TunnelLog {
    /// The log stream's name, from the VPN connection id and the tunnel's outside IP
    /// (reference §1).
    pub stream: String,
    /// The phase states of the last record, to tell a state change from a repeat.
    states: (PhaseState, PhaseState),
    nat_t_detected: bool,
    /// How the records name the CGW: the address an event's peer came from (loopback, or
    /// the NAT's) → the CGW's or the NAT's presented address.
    presentation: Presentation,
    /// Every record written so far, in order.
    pub records: Vec<TunnelRecord>,
}

impl TunnelLog {
    /// An empty stream for the tunnel with outside IP `outside_ip` (as presented) of
    /// `vpn_connection_id`, named with `separator`; its records name the peer by the
    /// address it came from until [`TunnelLog::presenting`] says otherwise.
    pub fn new(
        vpn_connection_id: &str,
        outside_ip: IpAddr,
        separator: vpn_log::StreamSeparator,
    ) -> TunnelLog {
        TunnelLog {
            stream: vpn_log::stream_name(vpn_connection_id, outside_ip, separator),
            states: (PhaseState::Down, PhaseState::Down),
            nat_t_detected: false,
            presentation: Presentation::default(),
            records: Vec::new(),
        }
    }

    /// This stream, naming the CGW in its records as `presentation` presents the address
    /// AWS hears it from (docs/scenario-format.md, "Addresses").
    pub fn presenting(mut self, presentation: Presentation) -> TunnelLog {
        self.presentation = presentation;
        self
    }

    /// What AWS would write for `event`, in order (usually one message). The match names
    /// every event kind, so a new one does not compile until someone decides its record.
    /// IKEv1 has its own catalogue rows where they differ (reference §2, "IKEv1 errors").
    /// `cgw` is the CGW's address as the records show it.
    fn details(event: &Event, cgw: IpAddr) -> Vec<Detail> {
        let v1 = event.ike_version == IkeVersion::V1;
        let no_proposal = |unsupported: bool| {
            // IKEv1 phase 1 has one message for any proposal AWS cannot accept.
            if unsupported || v1 {
                Detail::NoProposalMatchByAws
            } else {
                Detail::NoProposalChosen
            }
        };
        match &event.kind {
            EventKind::IkeSaNegotiating { .. } => vec![Detail::NegotiatingIkeSa { cgw }],
            EventKind::InvalidKePayload {
                group,
                direction: Direction::Sent,
            } => {
                vec![Detail::SendingInvalidKe { group: group.0 }]
            }
            EventKind::InvalidKePayload {
                direction: Direction::Received,
                ..
            } => Vec::new(),
            EventKind::IkeNoProposalChosen {
                unsupported,
                direction: Direction::Sent,
            } => {
                vec![no_proposal(*unsupported)]
            }
            EventKind::IkeNoProposalChosen {
                direction: Direction::Received,
                ..
            } => {
                vec![Detail::ReceivedNoProposalChosen { cgw }]
            }
            EventKind::AuthenticationFailed {
                direction: Direction::Sent,
            } => {
                vec![
                    Detail::PskMismatch { cgw },
                    Detail::SendingAuthenticationFailed,
                ]
            }
            EventKind::AuthenticationFailed {
                direction: Direction::Received,
            } => {
                vec![Detail::ReceivedAuthenticationFailed { cgw }]
            }
            EventKind::IkeSaEstablished { spi_i, spi_r, .. } => {
                vec![Detail::IkeSaEstablished {
                    cgw,
                    spi_i: IkeSpi(*spi_i),
                    spi_r: IkeSpi(*spi_r),
                }]
            }
            EventKind::ChildSaEstablished {
                spi_in, spi_out, ..
            } => {
                vec![Detail::ChildSaEstablished {
                    spi_in: EspSpi(*spi_in),
                    spi_out: EspSpi(*spi_out),
                }]
            }
            EventKind::ChildSaFailed { failure } => {
                let mut d = match failure {
                    // IKEv1 phase 2: NO_PROPOSAL_CHOSEN is exchanged, and that is the story.
                    ChildFailure::Incompatible(
                        PeerIncompatible::NoProposalChosen { .. },
                        Direction::Sent,
                    ) if v1 => return vec![Detail::NoProposalChosen],
                    ChildFailure::Incompatible(
                        PeerIncompatible::NoProposalChosen { unsupported },
                        Direction::Sent,
                    ) => {
                        vec![no_proposal(*unsupported)]
                    }
                    ChildFailure::Incompatible(
                        PeerIncompatible::NoProposalChosen { .. },
                        Direction::Received,
                    ) => {
                        vec![Detail::ReceivedNoProposalChosen { cgw }]
                    }
                    ChildFailure::Incompatible(
                        PeerIncompatible::TsUnacceptable,
                        Direction::Received,
                    ) => vec![Detail::TsUnacceptable],
                    ChildFailure::Incompatible(
                        PeerIncompatible::TsUnacceptable,
                        Direction::Sent,
                    )
                    // No CHILD SA fails this way yet (CREATE_CHILD_SA's KE, RFC 7296 §1.3.1).
                    | ChildFailure::Incompatible(PeerIncompatible::InvalidKe { .. }, _)
                    | ChildFailure::Notified(_)
                    | ChildFailure::Misbehaved(_)
                    | ChildFailure::Unconfirmed
                    | ChildFailure::Internal => Vec::new(),
                };
                d.push(Detail::ChildSaFailed);
                d
            }
            EventKind::IkeSaFailed { .. } => vec![Detail::IkeSaDeleted { cgw }],
            EventKind::RetransmitsExhausted { exchange, .. }
                if *exchange == ExchangeType::IKE_SA_INIT =>
            {
                vec![Detail::IkeSaInitTimeout { cgw }]
            }
            EventKind::RetransmitsExhausted { .. } | EventKind::Message5Undecryptable { .. } => {
                vec![Detail::IkeSaDeleted { cgw }]
            }
            EventKind::IkeSaDeleteReceived => vec![Detail::ReceivedDeleteIkeSa],
            EventKind::ChildSaDeleteReceived { spi } => {
                vec![Detail::ReceivedDeleteChildSa { spi: EspSpi(*spi) }]
            }
            EventKind::ChildSaDeleted { spi_in, .. } => vec![Detail::ChildSaDeleted {
                spi: EspSpi(*spi_in),
            }],
            EventKind::IkeSaDeleted => vec![Detail::IkeSaDeleted { cgw }],
            EventKind::IkeSaDeleteSent => vec![Detail::SendingDeleteIkeSa { cgw }],
            EventKind::ChildSaDeleteSent { spi_in } => vec![Detail::SendingDeleteChildSa {
                spi: EspSpi(*spi_in),
            }],
            EventKind::HalfOpenTimeout => vec![Detail::HalfOpenTimeout { cgw }],
            EventKind::DpdTimeout { .. } if v1 => vec![Detail::PeerDeclaredDead],
            EventKind::DpdTimeout { retransmits, .. } => vec![Detail::DpdTimedOut {
                retry_count: *retransmits,
            }],
            EventKind::CreateChildRequestSent { id } => {
                vec![Detail::SendingCreateChildSaRequest { id: *id }]
            }
            EventKind::CreateChildRequestProcessed { id } => {
                vec![Detail::ProcessedCreateChildSaRequest { id: *id }]
            }
            EventKind::CreateChildResponseSent { id } => {
                vec![Detail::SendingCreateChildSaResponse { id: *id }]
            }
            EventKind::CreateChildResponseProcessed { id } => {
                vec![Detail::ProcessedCreateChildSaResponse { id: *id }]
            }
            EventKind::ChildSaRekeyed {
                spi_in, spi_out, ..
            } => {
                vec![Detail::ChildSaRekeyed {
                    spi_in: EspSpi(*spi_in),
                    spi_out: EspSpi(*spi_out),
                }]
            }
            EventKind::IkeSaRekeyed { spi_i, spi_r } => {
                vec![Detail::IkeSaRekeyed {
                    spi_i: IkeSpi(*spi_i),
                    spi_r: IkeSpi(*spi_r),
                }]
            }
            EventKind::RedundantChildSaDeleted { .. } => vec![Detail::RedundantChildSaDeleted],
            EventKind::ChildRekeyCollisionDelete { .. } => vec![Detail::ChildRekeyCollisionDelete],
            EventKind::IkeSaRekeying { .. } => vec![Detail::RekeyingIkeSa { cgw }],
            // The IKE SA stays up and is rekeyed later or expires: nothing to report yet.
            EventKind::IkeRekeyFailed { .. } => Vec::new(),
            EventKind::ChildSaNegotiating => vec![Detail::NegotiatingChildSa { cgw }],
            EventKind::PayloadDecryptionFailed => vec![Detail::PayloadDecryptionFailed],
            // Dropped unproven messages while initiating main mode: the SA and its states are
            // unchanged, AWS logs nothing for them.
            EventKind::UnauthenticatedNotify { .. } | EventKind::Message5AnswerUndecryptable => {
                Vec::new()
            }
        }
    }

    /// AWS replaced the tunnel's endpoint at `time` (`crate::scenario::events`); `state` and
    /// `cgw` are `TunnelView::replaced`'s. AWS's Knowledge Center ("Why did I get a
    /// notification that the tunnel endpoints … are being replaced?") says an UP tunnel goes
    /// DOWN when its endpoint is replaced; AWS publishes no message for it, so the state
    /// change gets ikesim's phase 1 deletion line (`ikesim-ike-sa-deleted`: the SAs are gone,
    /// no DELETE was exchanged). A tunnel that was down already gets nothing: no change.
    /// The stream is the same — the endpoint keeps the tunnel's outside IP.
    pub fn replaced(&mut self, time: DateTime<Utc>, state: &TunnelState, cgw: Option<IpAddr>) {
        let after = (phase(state.phase1), phase(state.phase2));
        let Some(cgw) = cgw.filter(|_| after != self.states) else {
            return;
        };
        self.records.push(TunnelRecord {
            time,
            dpd_enabled: state.dpd_enabled,
            nat_t_detected: state.nat_t_detected,
            ike_phase1_state: after.0,
            ike_phase2_state: after.1,
            details: Detail::IkeSaDeleted {
                cgw: self.presentation.present(cgw),
            }
            .render(),
        });
        self.states = after;
        self.nat_t_detected = state.nat_t_detected;
    }

    /// Appends the records for `event`, which happened at `time` and left the tunnel in
    /// `state` (`TunnelView::observe`'s answer for it).
    pub fn record(&mut self, time: DateTime<Utc>, event: &Event, state: &TunnelState) {
        let cgw = self.presentation.present(event.peer.ip());
        let details = Self::details(event, cgw);
        let after = (phase(state.phase1), phase(state.phase2));
        if details.is_empty() && after != self.states {
            tracing::warn!(?event, "phase state changed without a record");
        }
        let last = details.len().saturating_sub(1);
        for (i, detail) in details.into_iter().enumerate() {
            // Earlier lines of a multi-line story keep the states from before the change.
            let states = if i == last { after } else { self.states };
            let nat = if i == last {
                state.nat_t_detected
            } else {
                self.nat_t_detected
            };
            self.records.push(TunnelRecord {
                time,
                dpd_enabled: state.dpd_enabled,
                nat_t_detected: nat,
                ike_phase1_state: states.0,
                ike_phase2_state: states.1,
                details: detail.render(),
            });
        }
        // NAT detection (RFC 7296 §2.23, RFC 3947 §3) found the CGW behind a NAT: AWS says
        // its logs cover NAT-T detection (reference §2), so the moment it turns true gets a
        // line of its own, after the event's story, with the states after it.
        if state.nat_t_detected && !self.nat_t_detected {
            self.records.push(TunnelRecord {
                time,
                dpd_enabled: state.dpd_enabled,
                nat_t_detected: true,
                ike_phase1_state: after.0,
                ike_phase2_state: after.1,
                details: Detail::NatTDetected { cgw }.render(),
            });
        }
        self.states = after;
        self.nat_t_detected = state.nat_t_detected;
    }
}
