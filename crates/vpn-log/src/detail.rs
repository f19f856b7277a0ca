//! Typed messages: one variant per catalogue entry, rendered through the entry's template
//! so each string exists once, in [`crate::CATALOGUE`].

use std::fmt;
use std::net::IpAddr;

use crate::catalogue::CatalogueEntry;
use crate::entries as e;
use crate::{template, EspSpi, IkeSpi};

/// A `details` message with the values of its placeholders. `cgw` is the customer
/// gateway's IP address (no port); `id` a decimal message id; SPIs as [`EspSpi`] /
/// [`IkeSpi`] print them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Detail {
    // AWS, IKEv1 errors (the last four shared with IKEv2).
    /// `ikev1-dpd-peer-dead`
    PeerDeclaredDead,
    /// `ikev1-psk-mismatch`
    PayloadDecryptionFailed,
    /// `no-proposal-match-by-aws`
    NoProposalMatchByAws,
    /// `no-proposal-chosen`
    NoProposalChosen,
    /// `received-delete-child-sa`
    ReceivedDeleteChildSa {
        /// `{spi}`: the SPI in the CGW's DELETE payload (the CGW's inbound SPI).
        spi: EspSpi,
    },
    /// `received-delete-ike-sa`
    ReceivedDeleteIkeSa,
    // AWS, IKEv2 errors.
    /// `ikev2-dpd-timeout`
    DpdTimedOut {
        /// `{retry_count}`: DPD retransmits that went unanswered (reference §3).
        retry_count: u32,
    },
    /// `ikev2-child-rekey-collision-delete`
    ChildRekeyCollisionDelete,
    /// `ikev2-redundant-child-sa`
    RedundantChildSaDeleted,
    /// `ikev2-child-sa-failed`
    ChildSaFailed,
    /// `ikev2-ts-unacceptable`
    TsUnacceptable,
    /// `ikev2-sending-auth-failed`
    SendingAuthenticationFailed,
    /// `ikev2-psk-mismatch`
    PskMismatch {
        /// `{cgw}`: the customer gateway's IP address, no port.
        cgw: IpAddr,
    },
    /// `ikev2-half-open-timeout`
    HalfOpenTimeout {
        /// `{cgw}`: the customer gateway's IP address, no port.
        cgw: IpAddr,
    },
    // AWS, IKEv2 negotiation.
    /// `ikev2-processed-create-child-sa-request`
    ProcessedCreateChildSaRequest {
        /// `{id}`: the message id of the CGW's request (RFC 7296 §2.2).
        id: u32,
    },
    /// `ikev2-sending-create-child-sa-response`
    SendingCreateChildSaResponse {
        /// `{id}`: the message id of the CGW's request, which the response echoes (RFC 7296 §2.2).
        id: u32,
    },
    /// `ikev2-sending-create-child-sa-request`
    SendingCreateChildSaRequest {
        /// `{id}`: the message id of AWS's request (RFC 7296 §2.2).
        id: u32,
    },
    /// `ikev2-processed-create-child-sa-response`
    ProcessedCreateChildSaResponse {
        /// `{id}`: the message id of AWS's request, which the response echoes (RFC 7296 §2.2).
        id: u32,
    },
    // ikesim's wording.
    /// `ikesim-negotiating-ike-sa`
    NegotiatingIkeSa {
        /// `{cgw}`: the customer gateway's IP address, no port.
        cgw: IpAddr,
    },
    /// `ikesim-negotiating-child-sa`
    NegotiatingChildSa {
        /// `{cgw}`: the customer gateway's IP address, no port.
        cgw: IpAddr,
    },
    /// `ikesim-ike-sa-established`
    IkeSaEstablished {
        /// `{cgw}`: the customer gateway's IP address, no port.
        cgw: IpAddr,
        /// `{spi_i}`: the IKE SA initiator's SPI (RFC 7296 §3.1).
        spi_i: IkeSpi,
        /// `{spi_r}`: the IKE SA responder's SPI.
        spi_r: IkeSpi,
    },
    /// `ikesim-child-sa-established`
    ChildSaEstablished {
        /// `{spi_in}`: AWS's inbound ESP SPI (the one the CGW sends to).
        spi_in: EspSpi,
        /// `{spi_out}`: AWS's outbound ESP SPI (the CGW's inbound one).
        spi_out: EspSpi,
    },
    /// `ikesim-sending-invalid-ke`
    SendingInvalidKe {
        /// `{group}`: the DH group (transform id) AWS asks for (RFC 7296 §1.2, §3.10.1).
        group: u16,
    },
    /// `ikesim-received-auth-failed`
    ReceivedAuthenticationFailed {
        /// `{cgw}`: the customer gateway's IP address, no port.
        cgw: IpAddr,
    },
    /// `ikesim-received-no-proposal-chosen`
    ReceivedNoProposalChosen {
        /// `{cgw}`: the customer gateway's IP address, no port.
        cgw: IpAddr,
    },
    /// `ikesim-ike-sa-init-timeout`
    IkeSaInitTimeout {
        /// `{cgw}`: the customer gateway's IP address, no port.
        cgw: IpAddr,
    },
    /// `ikesim-sending-delete-ike-sa`
    SendingDeleteIkeSa {
        /// `{cgw}`: the customer gateway's IP address, no port.
        cgw: IpAddr,
    },
    /// `ikesim-sending-delete-child-sa`
    SendingDeleteChildSa {
        /// `{spi}`: AWS's inbound SPI, as its DELETE payload carries it (RFC 7296 §3.11).
        spi: EspSpi,
    },
    /// `ikesim-child-sa-deleted`
    ChildSaDeleted {
        /// `{spi}`: AWS's inbound SPI of the deleted SA.
        spi: EspSpi,
    },
    /// `ikesim-ike-sa-deleted`
    IkeSaDeleted {
        /// `{cgw}`: the customer gateway's IP address, no port.
        cgw: IpAddr,
    },
    /// `ikesim-rekeying-ike-sa`
    RekeyingIkeSa {
        /// `{cgw}`: the customer gateway's IP address, no port.
        cgw: IpAddr,
    },
    /// `ikesim-ike-sa-rekeyed`
    IkeSaRekeyed {
        /// `{spi_i}`: the new IKE SA's initiator SPI (RFC 7296 §2.18).
        spi_i: IkeSpi,
        /// `{spi_r}`: the new IKE SA's responder SPI.
        spi_r: IkeSpi,
    },
    /// `ikesim-child-sa-rekeyed`
    ChildSaRekeyed {
        /// `{spi_in}`: AWS's new inbound ESP SPI.
        spi_in: EspSpi,
        /// `{spi_out}`: AWS's new outbound ESP SPI.
        spi_out: EspSpi,
    },
    /// `ikesim-nat-t-detected`
    NatTDetected {
        /// `{cgw}`: the customer gateway's IP address, no port.
        cgw: IpAddr,
    },
}

type Values = Vec<(&'static str, String)>;

impl Detail {
    /// The catalogue entry this message renders.
    pub fn entry(&self) -> &'static CatalogueEntry {
        self.parts().0
    }

    /// The `details` string: the entry's template with the placeholders filled.
    pub fn render(&self) -> String {
        let (entry, values) = self.parts();
        template::fill(entry.template, &values)
    }

    fn parts(&self) -> (&'static CatalogueEntry, Values) {
        fn cgw(ip: &IpAddr) -> Values {
            vec![("cgw", ip.to_string())]
        }
        fn id(id: &u32) -> Values {
            vec![("id", id.to_string())]
        }
        fn spi(spi: &EspSpi) -> Values {
            vec![("spi", spi.to_string())]
        }
        fn ike_spis(spi_i: &IkeSpi, spi_r: &IkeSpi) -> Values {
            vec![("spi_i", spi_i.to_string()), ("spi_r", spi_r.to_string())]
        }
        fn esp_spis(spi_in: &EspSpi, spi_out: &EspSpi) -> Values {
            vec![
                ("spi_in", spi_in.to_string()),
                ("spi_out", spi_out.to_string()),
            ]
        }
        match self {
            Detail::PeerDeclaredDead => (&e::PEER_DEAD, vec![]),
            Detail::PayloadDecryptionFailed => (&e::IKEV1_PSK_MISMATCH, vec![]),
            Detail::NoProposalMatchByAws => (&e::NO_PROPOSAL_MATCH_BY_AWS, vec![]),
            Detail::NoProposalChosen => (&e::NO_PROPOSAL_CHOSEN, vec![]),
            Detail::ReceivedDeleteChildSa { spi: s } => (&e::RECEIVED_DELETE_CHILD_SA, spi(s)),
            Detail::ReceivedDeleteIkeSa => (&e::RECEIVED_DELETE_IKE_SA, vec![]),
            Detail::DpdTimedOut { retry_count } => (
                &e::DPD_TIMED_OUT,
                vec![("retry_count", retry_count.to_string())],
            ),
            Detail::ChildRekeyCollisionDelete => (&e::CHILD_REKEY_COLLISION_DELETE, vec![]),
            Detail::RedundantChildSaDeleted => (&e::REDUNDANT_CHILD_SA, vec![]),
            Detail::ChildSaFailed => (&e::CHILD_SA_FAILED, vec![]),
            Detail::TsUnacceptable => (&e::TS_UNACCEPTABLE, vec![]),
            Detail::SendingAuthenticationFailed => (&e::SENDING_AUTHENTICATION_FAILED, vec![]),
            Detail::PskMismatch { cgw: ip } => (&e::IKEV2_PSK_MISMATCH, cgw(ip)),
            Detail::HalfOpenTimeout { cgw: ip } => (&e::HALF_OPEN_TIMEOUT, cgw(ip)),
            Detail::ProcessedCreateChildSaRequest { id: i } => {
                (&e::PROCESSED_CREATE_CHILD_SA_REQUEST, id(i))
            }
            Detail::SendingCreateChildSaResponse { id: i } => {
                (&e::SENDING_CREATE_CHILD_SA_RESPONSE, id(i))
            }
            Detail::SendingCreateChildSaRequest { id: i } => {
                (&e::SENDING_CREATE_CHILD_SA_REQUEST, id(i))
            }
            Detail::ProcessedCreateChildSaResponse { id: i } => {
                (&e::PROCESSED_CREATE_CHILD_SA_RESPONSE, id(i))
            }
            Detail::NegotiatingIkeSa { cgw: ip } => (&e::NEGOTIATING_IKE_SA, cgw(ip)),
            Detail::NegotiatingChildSa { cgw: ip } => (&e::NEGOTIATING_CHILD_SA, cgw(ip)),
            Detail::IkeSaEstablished {
                cgw: ip,
                spi_i,
                spi_r,
            } => {
                let mut values = cgw(ip);
                values.extend(ike_spis(spi_i, spi_r));
                (&e::IKE_SA_ESTABLISHED, values)
            }
            Detail::ChildSaEstablished { spi_in, spi_out } => {
                (&e::CHILD_SA_ESTABLISHED, esp_spis(spi_in, spi_out))
            }
            Detail::SendingInvalidKe { group } => {
                (&e::SENDING_INVALID_KE, vec![("group", group.to_string())])
            }
            Detail::ReceivedAuthenticationFailed { cgw: ip } => {
                (&e::RECEIVED_AUTHENTICATION_FAILED, cgw(ip))
            }
            Detail::ReceivedNoProposalChosen { cgw: ip } => {
                (&e::RECEIVED_NO_PROPOSAL_CHOSEN, cgw(ip))
            }
            Detail::IkeSaInitTimeout { cgw: ip } => (&e::IKE_SA_INIT_TIMEOUT, cgw(ip)),
            Detail::SendingDeleteIkeSa { cgw: ip } => (&e::SENDING_DELETE_IKE_SA, cgw(ip)),
            Detail::SendingDeleteChildSa { spi: s } => (&e::SENDING_DELETE_CHILD_SA, spi(s)),
            Detail::ChildSaDeleted { spi: s } => (&e::CHILD_SA_DELETED, spi(s)),
            Detail::IkeSaDeleted { cgw: ip } => (&e::IKE_SA_DELETED, cgw(ip)),
            Detail::RekeyingIkeSa { cgw: ip } => (&e::REKEYING_IKE_SA, cgw(ip)),
            Detail::IkeSaRekeyed { spi_i, spi_r } => (&e::IKE_SA_REKEYED, ike_spis(spi_i, spi_r)),
            Detail::ChildSaRekeyed { spi_in, spi_out } => {
                (&e::CHILD_SA_REKEYED, esp_spis(spi_in, spi_out))
            }
            Detail::NatTDetected { cgw: ip } => (&e::NAT_T_DETECTED, cgw(ip)),
        }
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl From<Detail> for String {
    fn from(detail: Detail) -> String {
        detail.render()
    }
}

/// One message per variant, with typical values.
#[cfg(test)]
pub(crate) fn samples() -> Vec<Detail> {
    let cgw = IpAddr::from([203, 0, 113, 9]);
    let v6 = IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 9]);
    let (spi_in, spi_out) = (EspSpi(0xc2d3_e4f5), EspSpi(0x0000_1f2e));
    let (spi_i, spi_r) = (IkeSpi(0x0123_4567_89ab_cdef), IkeSpi(0xfeed));
    vec![
        Detail::PeerDeclaredDead,
        Detail::PayloadDecryptionFailed,
        Detail::NoProposalMatchByAws,
        Detail::NoProposalChosen,
        Detail::ReceivedDeleteChildSa { spi: spi_out },
        Detail::ReceivedDeleteIkeSa,
        Detail::DpdTimedOut { retry_count: 3 },
        Detail::ChildRekeyCollisionDelete,
        Detail::RedundantChildSaDeleted,
        Detail::ChildSaFailed,
        Detail::TsUnacceptable,
        Detail::SendingAuthenticationFailed,
        Detail::PskMismatch { cgw },
        Detail::HalfOpenTimeout { cgw: v6 },
        Detail::ProcessedCreateChildSaRequest { id: 2 },
        Detail::SendingCreateChildSaResponse { id: 2 },
        Detail::SendingCreateChildSaRequest { id: 0 },
        Detail::ProcessedCreateChildSaResponse { id: 4_294_967_295 },
        Detail::NegotiatingIkeSa { cgw },
        Detail::NegotiatingChildSa { cgw },
        Detail::IkeSaEstablished { cgw, spi_i, spi_r },
        Detail::ChildSaEstablished { spi_in, spi_out },
        Detail::SendingInvalidKe { group: 14 },
        Detail::ReceivedAuthenticationFailed { cgw },
        Detail::ReceivedNoProposalChosen { cgw },
        Detail::IkeSaInitTimeout { cgw },
        Detail::SendingDeleteIkeSa { cgw },
        Detail::SendingDeleteChildSa { spi: spi_in },
        Detail::ChildSaDeleted { spi: spi_in },
        Detail::IkeSaDeleted { cgw },
        Detail::RekeyingIkeSa { cgw },
        Detail::IkeSaRekeyed { spi_i, spi_r },
        Detail::ChildSaRekeyed { spi_in, spi_out },
        Detail::NatTDetected { cgw },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{lookup, CATALOGUE};
    use std::collections::HashSet;

    #[test]
    fn every_variant_renders_its_entry() {
        for detail in samples() {
            let entry = detail.entry();
            let text = detail.render();
            assert!(entry.pattern_matches(&text), "{}: {text}", entry.id);
            assert_eq!(lookup(&text), Some(entry), "{text}");
            assert!(CATALOGUE.contains(entry), "{} not in CATALOGUE", entry.id);
            assert_eq!(detail.to_string(), text);
            // Every placeholder filled, and with a value this variant carries.
            let (_, values) = detail.parts();
            let given: HashSet<&str> = values.iter().map(|(name, _)| *name).collect();
            let wanted: HashSet<&str> = entry.placeholders().into_iter().collect();
            assert_eq!(given, wanted, "{}", entry.id);
        }
    }

    #[test]
    fn every_entry_has_exactly_one_variant() {
        let ids: Vec<&str> = samples().iter().map(|d| d.entry().id).collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "two variants share an entry");
        for entry in CATALOGUE {
            assert!(unique.contains(entry.id), "no variant for {}", entry.id);
        }
        assert_eq!(ids.len(), CATALOGUE.len());
    }

    #[test]
    fn renders_as_documented() {
        let cgw: IpAddr = "203.0.113.9".parse().unwrap();
        let cases = [
            (
                Detail::PskMismatch { cgw },
                "AWS tunnel detected a pre-shared key mismatch with cgw: 203.0.113.9",
            ),
            (
                Detail::ReceivedDeleteChildSa {
                    spi: EspSpi(0xc2d3_e4f5),
                },
                "AWS tunnel received DELETE for Phase 2 SA with SPI: c2d3e4f5",
            ),
            (
                Detail::DpdTimedOut { retry_count: 3 },
                "AWS tunnel DPD timed out after 3 retransmits",
            ),
            (
                Detail::SendingCreateChildSaRequest { id: 12 },
                "AWS tunnel is sending request (id=12) for CREATE_CHILD_SA",
            ),
            (
                Detail::NoProposalChosen,
                "No Proposal Match Found. Notifying with \"No proposal chosen\"",
            ),
            (
                Detail::IkeSaEstablished {
                    cgw,
                    spi_i: IkeSpi(0x0123_4567_89ab_cdef),
                    spi_r: IkeSpi(0xfeed),
                },
                "AWS tunnel Phase 1 IKE_SA established with cgw: 203.0.113.9, \
                 SPIs: 0123456789abcdef_i 000000000000feed_r",
            ),
            (
                Detail::ChildSaEstablished {
                    spi_in: EspSpi(0xc2d3_e4f5),
                    spi_out: EspSpi(0x1f2e),
                },
                "AWS tunnel Phase 2 CHILD_SA established with SPIs: c2d3e4f5_i 00001f2e_o",
            ),
            (
                Detail::SendingInvalidKe { group: 14 },
                "AWS tunnel is sending INVALID_KE_PAYLOAD, requesting DH group 14",
            ),
            (
                Detail::HalfOpenTimeout {
                    cgw: "2001:db8::9".parse().unwrap(),
                },
                "AWS tunnel Timeout: deleting un-established Phase 1 IKE_SA with cgw: 2001:db8::9",
            ),
        ];
        for (detail, text) in cases {
            assert_eq!(detail.render(), text);
            assert_eq!(String::from(detail), text);
        }
    }
}
