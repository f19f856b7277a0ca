//! Notify message types (RFC 7296 §3.10.1 and the IANA "IKEv2 Notify Message Types"
//! registry).

use super::registry;

registry! {
    /// Notify message type. Values below 16384 report errors, values from 16384 up carry
    /// status (RFC 7296 §3.10.1).
    pub struct NotifyType(u16);
    prefix = "";
    // Error types (RFC 7296 §3.10.1; 40 and 41 from RFC 4555 MOBIKE).
    /// A payload marked critical was not understood (RFC 7296 §3.10.1).
    UNSUPPORTED_CRITICAL_PAYLOAD = 1,
    /// A message arrived for an IKE SA the recipient does not know (RFC 7296 §3.10.1).
    INVALID_IKE_SPI = 4,
    /// The major version is not one the recipient speaks (RFC 7296 §3.10.1).
    INVALID_MAJOR_VERSION = 5,
    /// A malformed or out-of-place payload; the IKE SA should be deleted (RFC 7296 §3.10.1).
    INVALID_SYNTAX = 7,
    /// A message ID outside the window (RFC 7296 §3.10.1).
    INVALID_MESSAGE_ID = 9,
    /// An ESP or AH packet for an unknown SPI (RFC 7296 §3.10.1).
    INVALID_SPI = 11,
    /// None of the offered proposals is acceptable (RFC 7296 §3.10.1).
    NO_PROPOSAL_CHOSEN = 14,
    /// The KE payload's group is not the one selected; names the expected group (RFC 7296 §3.10.1).
    INVALID_KE_PAYLOAD = 17,
    /// The AUTH payload did not verify (RFC 7296 §3.10.1).
    AUTHENTICATION_FAILED = 24,
    /// Only one pair of traffic selectors is acceptable (RFC 7296 §3.10.1).
    SINGLE_PAIR_REQUIRED = 34,
    /// The responder accepts no more CHILD SAs on this IKE SA (RFC 7296 §3.10.1).
    NO_ADDITIONAL_SAS = 35,
    /// No internal address could be assigned (RFC 7296 §3.10.1).
    INTERNAL_ADDRESS_FAILURE = 36,
    /// A configuration payload was required but absent (RFC 7296 §3.10.1).
    FAILED_CP_REQUIRED = 37,
    /// None of the traffic selectors is acceptable (RFC 7296 §3.10.1).
    TS_UNACCEPTABLE = 38,
    /// An ESP or AH packet did not match its SA's selectors (RFC 7296 §3.10.1).
    INVALID_SELECTORS = 39,
    /// UNACCEPTABLE_ADDRESSES (RFC 4555, MOBIKE).
    UNACCEPTABLE_ADDRESSES = 40,
    /// UNEXPECTED_NAT_DETECTED (RFC 4555, MOBIKE).
    UNEXPECTED_NAT_DETECTED = 41,
    /// Try again later, e.g. during a simultaneous rekey (RFC 7296 §2.25, §3.10.1).
    TEMPORARY_FAILURE = 43,
    /// The CHILD SA to rekey does not exist (RFC 7296 §2.25, §3.10.1).
    CHILD_SA_NOT_FOUND = 44,
    // Status types (RFC 7296 §3.10.1 and later RFCs).
    /// The sender has no other IKE SA with the recipient: delete any old ones (RFC 7296 §2.4).
    INITIAL_CONTACT = 16384,
    /// The number of concurrent requests the sender accepts (RFC 7296 §2.3).
    SET_WINDOW_SIZE = 16385,
    /// The responder narrowed the traffic selectors; more could be negotiated (RFC 7296 §2.9).
    ADDITIONAL_TS_POSSIBLE = 16386,
    /// Offers IP compression for the CHILD SA (RFC 7296 §2.22).
    IPCOMP_SUPPORTED = 16387,
    /// Hash of SPIs, source address and port, for NAT detection (RFC 7296 §2.23).
    NAT_DETECTION_SOURCE_IP = 16388,
    /// Hash of SPIs, destination address and port, for NAT detection (RFC 7296 §2.23).
    NAT_DETECTION_DESTINATION_IP = 16389,
    /// Stateless cookie a busy responder asks the initiator to echo (RFC 7296 §2.6).
    COOKIE = 16390,
    /// Requests a transport-mode CHILD SA (RFC 7296 §1.3.1).
    USE_TRANSPORT_MODE = 16391,
    /// The sender can look up certificates by URL (RFC 7296 §3.10.1).
    HTTP_CERT_LOOKUP_SUPPORTED = 16392,
    /// This CREATE_CHILD_SA rekeys the CHILD SA whose SPI it carries (RFC 7296 §1.3.3).
    REKEY_SA = 16393,
    /// The sender does not accept ESP traffic-flow-confidentiality padding (RFC 7296 §3.10.1).
    ESP_TFC_PADDING_NOT_SUPPORTED = 16394,
    /// Non-first fragments are to be sent on this CHILD SA (RFC 7296 §3.10.1).
    NON_FIRST_FRAGMENTS_ALSO = 16395,
    /// MOBIKE_SUPPORTED (RFC 4555, MOBIKE).
    MOBIKE_SUPPORTED = 16396,
    /// ADDITIONAL_IP4_ADDRESS (RFC 4555, MOBIKE).
    ADDITIONAL_IP4_ADDRESS = 16397,
    /// ADDITIONAL_IP6_ADDRESS (RFC 4555, MOBIKE).
    ADDITIONAL_IP6_ADDRESS = 16398,
    /// NO_ADDITIONAL_ADDRESSES (RFC 4555, MOBIKE).
    NO_ADDITIONAL_ADDRESSES = 16399,
    /// UPDATE_SA_ADDRESSES (RFC 4555, MOBIKE).
    UPDATE_SA_ADDRESSES = 16400,
    /// COOKIE2: return-routability check (RFC 4555, MOBIKE).
    COOKIE2 = 16401,
    /// NO_NATS_ALLOWED (RFC 4555, MOBIKE).
    NO_NATS_ALLOWED = 16402,
    /// AUTH_LIFETIME: seconds until the peer must reauthenticate (RFC 4478).
    AUTH_LIFETIME = 16403,
    /// MULTIPLE_AUTH_SUPPORTED (RFC 4739).
    MULTIPLE_AUTH_SUPPORTED = 16404,
    /// ANOTHER_AUTH_FOLLOWS (RFC 4739).
    ANOTHER_AUTH_FOLLOWS = 16405,
    /// REDIRECT_SUPPORTED (RFC 5685).
    REDIRECT_SUPPORTED = 16406,
    /// REDIRECT (RFC 5685).
    REDIRECT = 16407,
    /// REDIRECTED_FROM (RFC 5685).
    REDIRECTED_FROM = 16408,
    /// TICKET_LT_OPAQUE, session resumption (RFC 5723).
    TICKET_LT_OPAQUE = 16409,
    /// TICKET_REQUEST, session resumption (RFC 5723).
    TICKET_REQUEST = 16410,
    /// TICKET_ACK, session resumption (RFC 5723).
    TICKET_ACK = 16411,
    /// TICKET_NACK, session resumption (RFC 5723).
    TICKET_NACK = 16412,
    /// TICKET_OPAQUE, session resumption (RFC 5723).
    TICKET_OPAQUE = 16413,
    /// LINK_ID (RFC 5739).
    LINK_ID = 16414,
    /// USE_WESP_MODE (RFC 5840).
    USE_WESP_MODE = 16415,
    /// ROHC_SUPPORTED (RFC 5857).
    ROHC_SUPPORTED = 16416,
    /// EAP_ONLY_AUTHENTICATION (RFC 5998).
    EAP_ONLY_AUTHENTICATION = 16417,
    /// CHILDLESS_IKEV2_SUPPORTED (RFC 6023).
    CHILDLESS_IKEV2_SUPPORTED = 16418,
    /// QUICK_CRASH_DETECTION (RFC 6290).
    QUICK_CRASH_DETECTION = 16419,
    /// IKEV2_MESSAGE_ID_SYNC_SUPPORTED (RFC 6311).
    IKEV2_MESSAGE_ID_SYNC_SUPPORTED = 16420,
    /// IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED (RFC 6311).
    IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED = 16421,
    /// IKEV2_MESSAGE_ID_SYNC (RFC 6311).
    IKEV2_MESSAGE_ID_SYNC = 16422,
    /// IPSEC_REPLAY_COUNTER_SYNC (RFC 6311).
    IPSEC_REPLAY_COUNTER_SYNC = 16423,
    /// SECURE_PASSWORD_METHODS (RFC 6467).
    SECURE_PASSWORD_METHODS = 16424,
    /// PSK_PERSIST (RFC 6631).
    PSK_PERSIST = 16425,
    /// PSK_CONFIRM (RFC 6631).
    PSK_CONFIRM = 16426,
    /// ERX_SUPPORTED (RFC 6867).
    ERX_SUPPORTED = 16427,
    /// IFOM_CAPABILITY (3GPP TS 24.303).
    IFOM_CAPABILITY = 16428,
    /// SENDER_REQUEST_ID (draft-yeung-g-ikev2).
    SENDER_REQUEST_ID = 16429,
    /// IKEV2_FRAGMENTATION_SUPPORTED: the sender accepts SKF fragments (RFC 7383 §2.3).
    IKEV2_FRAGMENTATION_SUPPORTED = 16430,
    /// SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4).
    SIGNATURE_HASH_ALGORITHMS = 16431,
}

impl NotifyType {
    /// Whether this type reports an error (RFC 7296 §3.10.1: types below 16384). An
    /// unrecognised error type in a response still means the request failed (§3.10.1).
    pub const fn is_error(self) -> bool {
        self.0 < 16384
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_and_status_ranges() {
        assert!(NotifyType::NO_PROPOSAL_CHOSEN.is_error());
        assert!(NotifyType(8191).is_error());
        assert!(!NotifyType::INITIAL_CONTACT.is_error());
        assert!(!NotifyType::COOKIE.is_error());
    }

    #[test]
    fn names() {
        assert_eq!(NotifyType(14).to_string(), "NO_PROPOSAL_CHOSEN");
        assert_eq!(NotifyType::IKEV2_FRAGMENTATION_SUPPORTED.0, 16430);
        assert_eq!(NotifyType(16418).to_string(), "CHILDLESS_IKEV2_SUPPORTED");
        assert_eq!(NotifyType(12345).to_string(), "NotifyType(12345)");
    }
}
