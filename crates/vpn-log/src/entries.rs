//! The catalogue's entries. AWS's strings are copied from reference §2 character for
//! character (`xxxx` → `{spi}` / `{cgw}`, `xxx` → `{id}`); ikesim's are in AWS's voice.

use crate::catalogue::{
    CatalogueEntry, IkeVersion, Origin, SECTION_IKESIM, SECTION_IKEV1_ERRORS, SECTION_IKEV2_ERRORS,
    SECTION_IKEV2_NEGOTIATION,
};
use IkeVersion::{Both, V1, V2};

const fn aws(
    id: &'static str,
    ike: IkeVersion,
    section: &'static str,
    template: &'static str,
    meaning: &'static str,
) -> CatalogueEntry {
    CatalogueEntry {
        id,
        ike,
        origin: Origin::Aws,
        section,
        template,
        meaning,
    }
}

const fn ikesim(
    id: &'static str,
    ike: IkeVersion,
    template: &'static str,
    meaning: &'static str,
) -> CatalogueEntry {
    CatalogueEntry {
        id,
        ike,
        origin: Origin::Ikesim,
        section: SECTION_IKESIM,
        template,
        meaning,
    }
}

// AWS: IKEv1 errors (the last four are also IKEv2 errors).
pub(crate) const PEER_DEAD: CatalogueEntry = aws(
    "ikev1-dpd-peer-dead",
    V1,
    SECTION_IKEV1_ERRORS,
    "Peer is not responsive - Declaring peer dead",
    "No answer to DPD: the CGW is declared dead and the DPD timeout action runs.",
);
pub(crate) const IKEV1_PSK_MISMATCH: CatalogueEntry = aws(
    "ikev1-psk-mismatch",
    V1,
    SECTION_IKEV1_ERRORS,
    "AWS tunnel payload decryption was unsuccessful due to invalid Pre-shared Key",
    "The CGW's encrypted main mode payload did not decrypt: the pre-shared keys differ.",
);
pub(crate) const NO_PROPOSAL_MATCH_BY_AWS: CatalogueEntry = aws(
    "no-proposal-match-by-aws",
    Both,
    SECTION_IKEV1_ERRORS,
    "No Proposal Match Found by AWS",
    "The CGW proposed only attributes AWS does not support (e.g. 3DES): phase 1, or phase 2 with IKEv2.",
);
pub(crate) const NO_PROPOSAL_CHOSEN: CatalogueEntry = aws(
    "no-proposal-chosen",
    Both,
    SECTION_IKEV1_ERRORS,
    "No Proposal Match Found. Notifying with \"No proposal chosen\"",
    "The proposals use algorithms AWS supports, but none the tunnel's options allow (phase 1 or 2); NO_PROPOSAL_CHOSEN is exchanged.",
);
pub(crate) const RECEIVED_DELETE_CHILD_SA: CatalogueEntry = aws(
    "received-delete-child-sa",
    Both,
    SECTION_IKEV1_ERRORS,
    "AWS tunnel received DELETE for Phase 2 SA with SPI: {spi}",
    "The CGW deleted a phase 2 SA; {spi} as the DELETE payload carries it (the CGW's inbound SPI).",
);
pub(crate) const RECEIVED_DELETE_IKE_SA: CatalogueEntry = aws(
    "received-delete-ike-sa",
    Both,
    SECTION_IKEV1_ERRORS,
    "AWS tunnel received DELETE for IKE_SA from CGW",
    "The CGW deleted the phase 1 SA.",
);

// AWS: IKEv2 errors.
pub(crate) const DPD_TIMED_OUT: CatalogueEntry = aws(
    "ikev2-dpd-timeout",
    V2,
    SECTION_IKEV2_ERRORS,
    "AWS tunnel DPD timed out after {retry_count} retransmits",
    "No answer to DPD after {retry_count} retransmits: the DPD timeout action runs.",
);
pub(crate) const CHILD_REKEY_COLLISION_DELETE: CatalogueEntry = aws(
    "ikev2-child-rekey-collision-delete",
    V2,
    SECTION_IKEV2_ERRORS,
    "AWS tunnel detected a (CHILD_REKEY) collision as CHILD_DELETE",
    "The CGW deleted the CHILD SA while AWS was rekeying it.",
);
pub(crate) const REDUNDANT_CHILD_SA: CatalogueEntry = aws(
    "ikev2-redundant-child-sa",
    V2,
    SECTION_IKEV2_ERRORS,
    "AWS tunnel (CHILD_SA) redundant SA is being deleted due to detected collision",
    "A simultaneous rekey made two CHILD SAs; the one with the lower nonce is deleted (RFC 7296 §2.8.1).",
);
pub(crate) const CHILD_SA_FAILED: CatalogueEntry = aws(
    "ikev2-child-sa-failed",
    V2,
    SECTION_IKEV2_ERRORS,
    "AWS tunnel Phase 2 was unable to establish while keeping Phase 1",
    "The CHILD SA failed (e.g. proposals) while the IKE SA stays up.",
);
pub(crate) const TS_UNACCEPTABLE: CatalogueEntry = aws(
    "ikev2-ts-unacceptable",
    V2,
    SECTION_IKEV2_ERRORS,
    "AWS: Traffic Selector: TS_UNACCEPTABLE: received from responder",
    "The traffic selectors (encryption domains) of the two sides do not match.",
);
pub(crate) const SENDING_AUTHENTICATION_FAILED: CatalogueEntry = aws(
    "ikev2-sending-auth-failed",
    V2,
    SECTION_IKEV2_ERRORS,
    "AWS tunnel is sending AUTHENTICATION_FAILED as the response",
    "The CGW's IKE_AUTH could not be verified; AWS answers AUTHENTICATION_FAILED.",
);
pub(crate) const IKEV2_PSK_MISMATCH: CatalogueEntry = aws(
    "ikev2-psk-mismatch",
    V2,
    SECTION_IKEV2_ERRORS,
    "AWS tunnel detected a pre-shared key mismatch with cgw: {cgw}",
    "The CGW's AUTH payload does not verify with AWS's pre-shared key: the keys differ.",
);
pub(crate) const HALF_OPEN_TIMEOUT: CatalogueEntry = aws(
    "ikev2-half-open-timeout",
    Both,
    SECTION_IKEV2_ERRORS,
    "AWS tunnel Timeout: deleting un-established Phase 1 IKE_SA with cgw: {cgw}",
    "The CGW stopped negotiating; the half-open IKE SA is dropped. AWS lists it under IKEv2; ikesim writes it for a half-open IKEv1 main mode too, for which AWS publishes no string.",
);

// AWS: IKEv2 negotiation.
pub(crate) const PROCESSED_CREATE_CHILD_SA_REQUEST: CatalogueEntry = aws(
    "ikev2-processed-create-child-sa-request",
    V2,
    SECTION_IKEV2_NEGOTIATION,
    "AWS tunnel processed request (id={id}) for CREATE_CHILD_SA",
    "AWS processed the CGW's CREATE_CHILD_SA request with message id {id}.",
);
pub(crate) const SENDING_CREATE_CHILD_SA_RESPONSE: CatalogueEntry = aws(
    "ikev2-sending-create-child-sa-response",
    V2,
    SECTION_IKEV2_NEGOTIATION,
    "AWS tunnel is sending response (id={id}) for CREATE_CHILD_SA",
    "AWS answers the CGW's CREATE_CHILD_SA request with message id {id}.",
);
pub(crate) const SENDING_CREATE_CHILD_SA_REQUEST: CatalogueEntry = aws(
    "ikev2-sending-create-child-sa-request",
    V2,
    SECTION_IKEV2_NEGOTIATION,
    "AWS tunnel is sending request (id={id}) for CREATE_CHILD_SA",
    "AWS sends a CREATE_CHILD_SA request (a new or rekeyed SA) with message id {id}.",
);
pub(crate) const PROCESSED_CREATE_CHILD_SA_RESPONSE: CatalogueEntry = aws(
    "ikev2-processed-create-child-sa-response",
    V2,
    SECTION_IKEV2_NEGOTIATION,
    "AWS tunnel processed response (id={id}) for CREATE_CHILD_SA",
    "AWS processed the CGW's response to its CREATE_CHILD_SA request with message id {id}.",
);

// ikesim's own wording.
pub(crate) const NEGOTIATING_IKE_SA: CatalogueEntry = ikesim(
    "ikesim-negotiating-ike-sa",
    Both,
    "AWS tunnel is negotiating Phase 1 IKE_SA with cgw: {cgw}",
    "Phase 1 negotiation started: AWS answered the CGW's first message or sent its own.",
);
pub(crate) const NEGOTIATING_CHILD_SA: CatalogueEntry = ikesim(
    "ikesim-negotiating-child-sa",
    V1,
    "AWS tunnel is negotiating Phase 2 with cgw: {cgw}",
    "Phase 2 negotiation started on an established phase 1: the CGW's quick mode arrived.",
);
pub(crate) const IKE_SA_ESTABLISHED: CatalogueEntry = ikesim(
    "ikesim-ike-sa-established",
    Both,
    "AWS tunnel Phase 1 IKE_SA established with cgw: {cgw}, SPIs: {spi_i}_i {spi_r}_r",
    "Phase 1 is up; the IKE SA's initiator and responder SPIs.",
);
pub(crate) const CHILD_SA_ESTABLISHED: CatalogueEntry = ikesim(
    "ikesim-child-sa-established",
    Both,
    "AWS tunnel Phase 2 CHILD_SA established with SPIs: {spi_in}_i {spi_out}_o",
    "Phase 2 is up; AWS's inbound and outbound ESP SPIs, as strongSwan prints them.",
);
pub(crate) const SENDING_INVALID_KE: CatalogueEntry = ikesim(
    "ikesim-sending-invalid-ke",
    V2,
    "AWS tunnel is sending INVALID_KE_PAYLOAD, requesting DH group {group}",
    "The CGW's KE payload is for a DH group AWS did not select; AWS asks for group {group} (RFC 7296 §1.2).",
);
pub(crate) const RECEIVED_AUTHENTICATION_FAILED: CatalogueEntry = ikesim(
    "ikesim-received-auth-failed",
    V2,
    "AWS tunnel received AUTHENTICATION_FAILED from cgw: {cgw}",
    "AWS initiated and the CGW rejected AWS's AUTH (e.g. the pre-shared keys differ).",
);
pub(crate) const RECEIVED_NO_PROPOSAL_CHOSEN: CatalogueEntry = ikesim(
    "ikesim-received-no-proposal-chosen",
    V2,
    "AWS tunnel received NO_PROPOSAL_CHOSEN from cgw: {cgw}",
    "AWS initiated and the CGW accepted none of AWS's proposals.",
);
pub(crate) const IKE_SA_INIT_TIMEOUT: CatalogueEntry = ikesim(
    "ikesim-ike-sa-init-timeout",
    V2,
    "AWS tunnel IKE_SA_INIT retransmits exhausted, no response from cgw: {cgw}",
    "AWS initiated and the CGW never answered IKE_SA_INIT.",
);
pub(crate) const SENDING_DELETE_IKE_SA: CatalogueEntry = ikesim(
    "ikesim-sending-delete-ike-sa",
    Both,
    "AWS tunnel is sending DELETE for IKE_SA to cgw: {cgw}",
    "AWS deletes the phase 1 SA (e.g. DPD action clear, lifetime expiry).",
);
pub(crate) const SENDING_DELETE_CHILD_SA: CatalogueEntry = ikesim(
    "ikesim-sending-delete-child-sa",
    Both,
    "AWS tunnel is sending DELETE for Phase 2 SA with SPI: {spi}",
    "AWS deletes a phase 2 SA; {spi} as the DELETE payload carries it (AWS's inbound SPI).",
);
pub(crate) const CHILD_SA_DELETED: CatalogueEntry = ikesim(
    "ikesim-child-sa-deleted",
    V2,
    "AWS tunnel Phase 2 CHILD_SA deleted with SPI: {spi}",
    "The CGW answered AWS's DELETE for a phase 2 SA; {spi} is AWS's inbound SPI.",
);
pub(crate) const IKE_SA_DELETED: CatalogueEntry = ikesim(
    "ikesim-ike-sa-deleted",
    Both,
    "AWS tunnel Phase 1 IKE_SA deleted with cgw: {cgw}",
    "A phase 1 SA delete completed; phase 1 is down.",
);
pub(crate) const REKEYING_IKE_SA: CatalogueEntry = ikesim(
    "ikesim-rekeying-ike-sa",
    Both,
    "AWS tunnel is rekeying Phase 1 IKE_SA with cgw: {cgw}",
    "A phase 1 rekey started: AWS sent or accepted a CREATE_CHILD_SA rekeying the IKE SA (IKEv2), or began the main mode replacing it (IKEv1).",
);
pub(crate) const IKE_SA_REKEYED: CatalogueEntry = ikesim(
    "ikesim-ike-sa-rekeyed",
    Both,
    "AWS tunnel Phase 1 IKE_SA rekeyed, new SPIs: {spi_i}_i {spi_r}_r",
    "The phase 1 rekey completed; the new IKE SA's initiator and responder SPIs.",
);
pub(crate) const CHILD_SA_REKEYED: CatalogueEntry = ikesim(
    "ikesim-child-sa-rekeyed",
    Both,
    "AWS tunnel Phase 2 CHILD_SA rekeyed, new SPIs: {spi_in}_i {spi_out}_o",
    "The phase 2 rekey completed; the new CHILD SA's inbound and outbound ESP SPIs.",
);
pub(crate) const NAT_T_DETECTED: CatalogueEntry = ikesim(
    "ikesim-nat-t-detected",
    Both,
    "AWS tunnel NAT-T detected, cgw: {cgw} is behind NAT",
    "NAT detection shows the CGW behind NAT; IKE and ESP move to UDP 4500 (RFC 7296 §2.23).",
);

/// Every entry: AWS's in the reference's order, then ikesim's.
pub static CATALOGUE: &[CatalogueEntry] = &[
    PEER_DEAD,
    IKEV1_PSK_MISMATCH,
    NO_PROPOSAL_MATCH_BY_AWS,
    NO_PROPOSAL_CHOSEN,
    RECEIVED_DELETE_CHILD_SA,
    RECEIVED_DELETE_IKE_SA,
    DPD_TIMED_OUT,
    CHILD_REKEY_COLLISION_DELETE,
    REDUNDANT_CHILD_SA,
    CHILD_SA_FAILED,
    TS_UNACCEPTABLE,
    SENDING_AUTHENTICATION_FAILED,
    IKEV2_PSK_MISMATCH,
    HALF_OPEN_TIMEOUT,
    PROCESSED_CREATE_CHILD_SA_REQUEST,
    SENDING_CREATE_CHILD_SA_RESPONSE,
    SENDING_CREATE_CHILD_SA_REQUEST,
    PROCESSED_CREATE_CHILD_SA_RESPONSE,
    NEGOTIATING_IKE_SA,
    NEGOTIATING_CHILD_SA,
    IKE_SA_ESTABLISHED,
    CHILD_SA_ESTABLISHED,
    SENDING_INVALID_KE,
    RECEIVED_AUTHENTICATION_FAILED,
    RECEIVED_NO_PROPOSAL_CHOSEN,
    IKE_SA_INIT_TIMEOUT,
    SENDING_DELETE_IKE_SA,
    SENDING_DELETE_CHILD_SA,
    CHILD_SA_DELETED,
    IKE_SA_DELETED,
    REKEYING_IKE_SA,
    IKE_SA_REKEYED,
    CHILD_SA_REKEYED,
    NAT_T_DETECTED,
];
