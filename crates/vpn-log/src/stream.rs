//! Log group and log stream naming (reference §1).

use std::net::IpAddr;

use crate::RecordError;

/// ikesim's default log group; AWS recommends the `/aws/vendedlogs/` prefix.
pub const DEFAULT_LOG_GROUP: &str = "/aws/vendedlogs/ikesim";

/// One stream per tunnel: `<vpn-connection-id>_<tunnel-outside-ip>`, the separator AWS's
/// BGP records use for a tunnel (`vpn-1234abcd_1.2.3.4`); AWS leaves it open.
pub fn stream_name(vpn_connection_id: &str, tunnel_outside_ip: IpAddr) -> String {
    format!("{vpn_connection_id}_{tunnel_outside_ip}")
}

/// `vpn-` followed by 8 or 17 lowercase hex digits, the shape of AWS's ids.
pub fn validate_vpn_connection_id(id: &str) -> Result<(), RecordError> {
    let valid = id.strip_prefix("vpn-").is_some_and(|hex| {
        matches!(hex.len(), 8 | 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    if valid {
        Ok(())
    } else {
        Err(RecordError::InvalidVpnConnectionId(id.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_join_id_and_outside_ip() {
        let ip: IpAddr = "1.2.3.4".parse().unwrap();
        assert_eq!(stream_name("vpn-1234abcd", ip), "vpn-1234abcd_1.2.3.4");
        let ip: IpAddr = "127.0.10.1".parse().unwrap();
        assert_eq!(
            stream_name("vpn-0123456789abcdef0", ip),
            "vpn-0123456789abcdef0_127.0.10.1"
        );
        assert!(DEFAULT_LOG_GROUP.starts_with("/aws/vendedlogs/"));
    }

    #[test]
    fn vpn_connection_ids() {
        for good in ["vpn-1234abcd", "vpn-0123456789abcdef0", "vpn-00000000"] {
            assert_eq!(validate_vpn_connection_id(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "vpn-",
            "vpn-1234abc",
            "vpn-1234abcde",
            "vpn-1234ABCD",
            "vpn-1234abcg",
            "vpn-0123456789abcdef",
            "vpn-0123456789abcdef01",
            "VPN-1234abcd",
            "vpn_1234abcd",
            " vpn-1234abcd",
            "vpn-1234abcd ",
            "vpn-١٢٣٤abcd",
            "tgw-1234abcd",
        ] {
            let err = validate_vpn_connection_id(bad).unwrap_err();
            assert_eq!(err, RecordError::InvalidVpnConnectionId(bad.to_owned()));
        }
        let message = validate_vpn_connection_id("vpn-x").unwrap_err().to_string();
        assert!(message.contains("\"vpn-\" followed by 8 or 17 lowercase hex digits"));
        assert!(message.contains("vpn-x"));
    }
}
