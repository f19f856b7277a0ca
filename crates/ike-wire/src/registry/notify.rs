//! Notify message types (RFC 7296 §3.10.1 and the IANA "IKEv2 Notify Message Types"
//! registry).

use super::registry;

registry! {
    /// Notify message type. Values below 16384 report errors, values from 16384 up carry
    /// status (RFC 7296 §3.10.1).
    pub struct NotifyType(u16);
    prefix = "";
    // Error types (RFC 7296 §3.10.1; 40 and 41 from RFC 4555 MOBIKE).
    UNSUPPORTED_CRITICAL_PAYLOAD = 1,
    INVALID_IKE_SPI = 4,
    INVALID_MAJOR_VERSION = 5,
    INVALID_SYNTAX = 7,
    INVALID_MESSAGE_ID = 9,
    INVALID_SPI = 11,
    NO_PROPOSAL_CHOSEN = 14,
    INVALID_KE_PAYLOAD = 17,
    AUTHENTICATION_FAILED = 24,
    SINGLE_PAIR_REQUIRED = 34,
    NO_ADDITIONAL_SAS = 35,
    INTERNAL_ADDRESS_FAILURE = 36,
    FAILED_CP_REQUIRED = 37,
    TS_UNACCEPTABLE = 38,
    INVALID_SELECTORS = 39,
    UNACCEPTABLE_ADDRESSES = 40,
    UNEXPECTED_NAT_DETECTED = 41,
    TEMPORARY_FAILURE = 43,
    CHILD_SA_NOT_FOUND = 44,
    // Status types (RFC 7296 §3.10.1 and later RFCs).
    INITIAL_CONTACT = 16384,
    SET_WINDOW_SIZE = 16385,
    ADDITIONAL_TS_POSSIBLE = 16386,
    IPCOMP_SUPPORTED = 16387,
    NAT_DETECTION_SOURCE_IP = 16388,
    NAT_DETECTION_DESTINATION_IP = 16389,
    COOKIE = 16390,
    USE_TRANSPORT_MODE = 16391,
    HTTP_CERT_LOOKUP_SUPPORTED = 16392,
    REKEY_SA = 16393,
    ESP_TFC_PADDING_NOT_SUPPORTED = 16394,
    NON_FIRST_FRAGMENTS_ALSO = 16395,
    MOBIKE_SUPPORTED = 16396,
    ADDITIONAL_IP4_ADDRESS = 16397,
    ADDITIONAL_IP6_ADDRESS = 16398,
    NO_ADDITIONAL_ADDRESSES = 16399,
    UPDATE_SA_ADDRESSES = 16400,
    COOKIE2 = 16401,
    NO_NATS_ALLOWED = 16402,
    AUTH_LIFETIME = 16403,
    MULTIPLE_AUTH_SUPPORTED = 16404,
    ANOTHER_AUTH_FOLLOWS = 16405,
    REDIRECT_SUPPORTED = 16406,
    REDIRECT = 16407,
    REDIRECTED_FROM = 16408,
    TICKET_LT_OPAQUE = 16409,
    TICKET_REQUEST = 16410,
    TICKET_ACK = 16411,
    TICKET_NACK = 16412,
    TICKET_OPAQUE = 16413,
    LINK_ID = 16414,
    USE_WESP_MODE = 16415,
    ROHC_SUPPORTED = 16416,
    EAP_ONLY_AUTHENTICATION = 16417,
    CHILDLESS_IKEV2_SUPPORTED = 16418,
    QUICK_CRASH_DETECTION = 16419,
    IKEV2_MESSAGE_ID_SYNC_SUPPORTED = 16420,
    IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED = 16421,
    IKEV2_MESSAGE_ID_SYNC = 16422,
    IPSEC_REPLAY_COUNTER_SYNC = 16423,
    SECURE_PASSWORD_METHODS = 16424,
    PSK_PERSIST = 16425,
    PSK_CONFIRM = 16426,
    ERX_SUPPORTED = 16427,
    IFOM_CAPABILITY = 16428,
    SENDER_REQUEST_ID = 16429,
    IKEV2_FRAGMENTATION_SUPPORTED = 16430,
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
