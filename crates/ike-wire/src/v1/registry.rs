//! ISAKMP registries that have their own code points in IKEv1: exchange types, payload
//! types and notify message types (RFC 2408 §3.1, §3.14.1; RFC 2407 §4.6.3; RFC 3706;
//! RFC 3947), and the header flags.

use std::fmt;
use std::ops::BitOr;

use crate::registry::registry;

registry! {
    /// Exchange type of an ISAKMP message (RFC 2408 §3.1, RFC 2409 §5).
    pub struct ExchangeType(u8);
    prefix = "";
    /// No exchange type (RFC 2408 §3.1).
    NONE = 0,
    /// Base exchange (RFC 2408 §4.4).
    BASE = 1,
    /// Main mode (RFC 2409 §5): identities travel encrypted.
    IDENTITY_PROTECTION = 2,
    /// Authentication Only exchange (RFC 2408 §4.6).
    AUTHENTICATION_ONLY = 3,
    /// Aggressive mode: identities in the clear, three messages (RFC 2408 §4.7, RFC 2409 §5).
    AGGRESSIVE = 4,
    /// Informational exchange: notifications and deletes, DPD included (RFC 2408 §4.8, RFC 2409
    /// §5.7).
    INFORMATIONAL = 5,
    /// Mode Config / XAUTH (draft-ietf-ipsec-isakmp-mode-cfg).
    TRANSACTION = 6,
    /// Phase 2 (RFC 2409 §5.5).
    QUICK_MODE = 32,
    /// New Group Mode (RFC 2409 §5.6).
    NEW_GROUP_MODE = 33,
}

impl ExchangeType {
    /// IKE's name for the identity protection exchange (RFC 2409 §5).
    pub const MAIN_MODE: ExchangeType = ExchangeType::IDENTITY_PROTECTION;
}

registry! {
    /// Payload type, as carried in every "Next Payload" field (RFC 2408 §3.1).
    pub struct PayloadType(u8);
    prefix = "";
    /// No next payload: ends a payload chain.
    NONE = 0,
    /// Security Association (RFC 2408 §3.4).
    SA = 1,
    /// Only inside an SA payload (RFC 2408 §3.5).
    PROPOSAL = 2,
    /// Only inside a proposal (RFC 2408 §3.6).
    TRANSFORM = 3,
    /// Key Exchange (RFC 2408 §3.7).
    KE = 4,
    /// Identification (RFC 2408 §3.8).
    ID = 5,
    /// Certificate (RFC 2408 §3.9).
    CERT = 6,
    /// Certificate Request (RFC 2408 §3.10).
    CR = 7,
    /// Hash (RFC 2408 §3.11).
    HASH = 8,
    /// Signature (RFC 2408 §3.12).
    SIG = 9,
    /// Nonce (RFC 2408 §3.13).
    NONCE = 10,
    /// Notification (RFC 2408 §3.14).
    NOTIFICATION = 11,
    /// Delete (RFC 2408 §3.15).
    DELETE = 12,
    /// Vendor ID (RFC 2408 §3.16).
    VENDOR_ID = 13,
    /// Mode Config attributes (draft-ietf-ipsec-isakmp-mode-cfg).
    ATTRIBUTE = 14,
    /// NAT discovery (RFC 3947 §3.2).
    NAT_D = 20,
    /// NAT original address (RFC 3947 §5.2).
    NAT_OA = 21,
    /// NAT-D of draft-ietf-ipsec-nat-t-ike-02/03, still sent by older peers.
    NAT_D_DRAFT = 130,
    /// NAT-OA of draft-ietf-ipsec-nat-t-ike-02/03.
    NAT_OA_DRAFT = 131,
    /// IKEv1 fragmentation (a Cisco extension, also spoken by strongSwan).
    FRAGMENT = 132,
}

registry! {
    /// Notify message type (RFC 2408 §3.14.1). Values 1–16383 report errors; the IPsec DOI
    /// status types (RFC 2407 §4.6.3) and DPD (RFC 3706 §4) sit in the private ranges.
    pub struct NotifyType(u16);
    prefix = "";
    /// INVALID-PAYLOAD-TYPE error (RFC 2408 §3.14.1).
    INVALID_PAYLOAD_TYPE = 1,
    /// DOI-NOT-SUPPORTED error (RFC 2408 §3.14.1).
    DOI_NOT_SUPPORTED = 2,
    /// SITUATION-NOT-SUPPORTED error (RFC 2408 §3.14.1).
    SITUATION_NOT_SUPPORTED = 3,
    /// INVALID-COOKIE error (RFC 2408 §3.14.1).
    INVALID_COOKIE = 4,
    /// INVALID-MAJOR-VERSION error (RFC 2408 §3.14.1).
    INVALID_MAJOR_VERSION = 5,
    /// INVALID-MINOR-VERSION error (RFC 2408 §3.14.1).
    INVALID_MINOR_VERSION = 6,
    /// INVALID-EXCHANGE-TYPE error (RFC 2408 §3.14.1).
    INVALID_EXCHANGE_TYPE = 7,
    /// INVALID-FLAGS error (RFC 2408 §3.14.1).
    INVALID_FLAGS = 8,
    /// INVALID-MESSAGE-ID error (RFC 2408 §3.14.1).
    INVALID_MESSAGE_ID = 9,
    /// INVALID-PROTOCOL-ID error (RFC 2408 §3.14.1).
    INVALID_PROTOCOL_ID = 10,
    /// INVALID-SPI error (RFC 2408 §3.14.1).
    INVALID_SPI = 11,
    /// INVALID-TRANSFORM-ID error (RFC 2408 §3.14.1).
    INVALID_TRANSFORM_ID = 12,
    /// ATTRIBUTES-NOT-SUPPORTED error (RFC 2408 §3.14.1).
    ATTRIBUTES_NOT_SUPPORTED = 13,
    /// NO-PROPOSAL-CHOSEN error: none of the offered proposals is acceptable (RFC 2408 §3.14.1).
    NO_PROPOSAL_CHOSEN = 14,
    /// BAD-PROPOSAL-SYNTAX error (RFC 2408 §3.14.1).
    BAD_PROPOSAL_SYNTAX = 15,
    /// PAYLOAD-MALFORMED error: a payload did not parse, e.g. after decryption with the wrong key
    /// (RFC 2408 §3.14.1).
    PAYLOAD_MALFORMED = 16,
    /// INVALID-KEY-INFORMATION error (RFC 2408 §3.14.1).
    INVALID_KEY_INFORMATION = 17,
    /// INVALID-ID-INFORMATION error (RFC 2408 §3.14.1).
    INVALID_ID_INFORMATION = 18,
    /// INVALID-CERT-ENCODING error (RFC 2408 §3.14.1).
    INVALID_CERT_ENCODING = 19,
    /// INVALID-CERTIFICATE error (RFC 2408 §3.14.1).
    INVALID_CERTIFICATE = 20,
    /// BAD-CERT-REQUEST-SYNTAX error (RFC 2408 §3.14.1).
    BAD_CERT_REQUEST_SYNTAX = 21,
    /// INVALID-CERT-AUTHORITY error (RFC 2408 §3.14.1).
    INVALID_CERT_AUTHORITY = 22,
    /// INVALID-HASH-INFORMATION error: a HASH payload did not verify (RFC 2408 §3.14.1).
    INVALID_HASH_INFORMATION = 23,
    /// AUTHENTICATION-FAILED error (RFC 2408 §3.14.1).
    AUTHENTICATION_FAILED = 24,
    /// INVALID-SIGNATURE error (RFC 2408 §3.14.1).
    INVALID_SIGNATURE = 25,
    /// ADDRESS-NOTIFICATION error (RFC 2408 §3.14.1).
    ADDRESS_NOTIFICATION = 26,
    /// NOTIFY-SA-LIFETIME error (RFC 2408 §3.14.1).
    NOTIFY_SA_LIFETIME = 27,
    /// CERTIFICATE-UNAVAILABLE error (RFC 2408 §3.14.1).
    CERTIFICATE_UNAVAILABLE = 28,
    /// UNSUPPORTED-EXCHANGE-TYPE error (RFC 2408 §3.14.1).
    UNSUPPORTED_EXCHANGE_TYPE = 29,
    /// UNEQUAL-PAYLOAD-LENGTHS error (RFC 2408 §3.14.1).
    UNEQUAL_PAYLOAD_LENGTHS = 30,
    /// CONNECTED status: the SA may be used (the commit bit's acknowledgement) (RFC 2408 §3.14.1).
    CONNECTED = 16384,
    /// The responder's lifetime for the SA, when shorter than proposed (RFC 2407 §4.6.3.1).
    RESPONDER_LIFETIME = 24576,
    /// REPLAY-STATUS: whether the sender runs anti-replay on the SA (RFC 2407 §4.6.3.2).
    REPLAY_STATUS = 24577,
    /// INITIAL-CONTACT: the sender has no other SA with the recipient, so old ones can go (RFC 2407
    /// §4.6.3.3).
    INITIAL_CONTACT = 24578,
    /// Dead peer detection request (RFC 3706 §5.1).
    R_U_THERE = 36136,
    /// Dead peer detection answer (RFC 3706 §5.1).
    R_U_THERE_ACK = 36137,
}

impl NotifyType {
    /// Whether this type reports an error (RFC 2408 §3.14.1: 1–16383).
    pub const fn is_error(self) -> bool {
        self.0 != 0 && self.0 < 16384
    }

    /// Whether this is R-U-THERE or R-U-THERE-ACK (RFC 3706 §5.1).
    pub const fn is_dpd(self) -> bool {
        self.0 == NotifyType::R_U_THERE.0 || self.0 == NotifyType::R_U_THERE_ACK.0
    }
}

/// ISAKMP header flags (RFC 2408 §3.1). Unknown bits are kept as received.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Flags(pub u8);

impl Flags {
    /// E: everything after the header is encrypted (RFC 2408 §3.1).
    pub const ENCRYPTION: Flags = Flags(0x01);
    /// C: the sender wants an acknowledgement before using the SA.
    pub const COMMIT: Flags = Flags(0x02);
    /// A: the payloads are authenticated but not encrypted.
    pub const AUTHENTICATION_ONLY: Flags = Flags(0x04);

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The E bit.
    pub const fn is_encrypted(self) -> bool {
        self.contains(Flags::ENCRYPTION)
    }
}

impl BitOr for Flags {
    type Output = Flags;

    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Flags::ENCRYPTION, "ENCRYPTION"),
            (Flags::COMMIT, "COMMIT"),
            (Flags::AUTHENTICATION_ONLY, "AUTH_ONLY"),
        ];
        let known = names.iter().fold(0, |acc, (flag, _)| acc | flag.0);
        let mut parts: Vec<String> = names
            .iter()
            .filter(|(flag, _)| self.contains(*flag))
            .map(|(_, name)| (*name).to_string())
            .collect();
        let other = self.0 & !known;
        if other != 0 || parts.is_empty() {
            parts.push(format!("{other:#04x}"));
        }
        write!(f, "Flags({})", parts.join("|"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_unknown_values() {
        assert_eq!(ExchangeType::MAIN_MODE.to_string(), "IDENTITY_PROTECTION");
        assert_eq!(format!("{:?}", ExchangeType(32)), "QUICK_MODE");
        assert_eq!(ExchangeType(99).to_string(), "ExchangeType(99)");
        assert_eq!(PayloadType(130).to_string(), "NAT_D_DRAFT");
        assert_eq!(PayloadType(200).to_string(), "PayloadType(200)");
        assert_eq!(NotifyType(36136).to_string(), "R_U_THERE");
        assert_eq!(NotifyType(23).to_string(), "INVALID_HASH_INFORMATION");
        assert_eq!(NotifyType(31).to_string(), "NotifyType(31)");
    }

    #[test]
    fn notify_ranges() {
        assert!(NotifyType::NO_PROPOSAL_CHOSEN.is_error());
        assert!(!NotifyType::INITIAL_CONTACT.is_error());
        assert!(!NotifyType::R_U_THERE.is_error());
        assert!(NotifyType::R_U_THERE_ACK.is_dpd());
        assert!(!NotifyType::CONNECTED.is_dpd());
    }

    #[test]
    fn flags() {
        let f = Flags::ENCRYPTION | Flags::COMMIT;
        assert!(f.is_encrypted() && f.contains(Flags::COMMIT));
        assert!(!Flags(0).is_encrypted());
        assert_eq!(format!("{f:?}"), "Flags(ENCRYPTION|COMMIT)");
        assert_eq!(format!("{:?}", Flags(0)), "Flags(0x00)");
        assert_eq!(format!("{:?}", Flags(0x41)), "Flags(ENCRYPTION|0x40)");
    }
}
