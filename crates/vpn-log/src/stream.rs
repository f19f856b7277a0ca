//! Log group and log stream naming (reference §1).

use std::net::IpAddr;

use crate::RecordError;

/// ikesim's default log group; AWS recommends the `/aws/vendedlogs/` prefix.
pub const DEFAULT_LOG_GROUP: &str = "/aws/vendedlogs/ikesim";

/// What joins the VPN connection id and the tunnel's outside IP in a stream name. AWS
/// documents only that the name "uses VpnConnectionID and TunnelOutsideIPAddress"
/// (reference §1); the one public AWS-authored consumer of these logs (the aws-samples
/// VPN monitoring Lambda) splits the name on `-` into exactly three tokens, so `-` is the
/// default. `_` is what AWS's BGP records use in their `resource_id` field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StreamSeparator {
    /// `vpn-1234abcd-1.2.3.4` (`--stream-separator -`, the default).
    #[default]
    Hyphen,
    /// `vpn-1234abcd_1.2.3.4` (`--stream-separator _`).
    Underscore,
}

impl std::str::FromStr for StreamSeparator {
    type Err = String;

    fn from_str(s: &str) -> Result<StreamSeparator, String> {
        match s {
            "-" => Ok(StreamSeparator::Hyphen),
            "_" => Ok(StreamSeparator::Underscore),
            _ => Err(format!(
                "`{s}` is not a stream separator: `-` (vpn-1234abcd-1.2.3.4, the default) or `_` \
                 (vpn-1234abcd_1.2.3.4)"
            )),
        }
    }
}

/// One stream per tunnel: `<vpn-connection-id><separator><tunnel-outside-ip>`.
pub fn stream_name(
    vpn_connection_id: &str,
    tunnel_outside_ip: IpAddr,
    separator: StreamSeparator,
) -> String {
    let sep = match separator {
        StreamSeparator::Hyphen => '-',
        StreamSeparator::Underscore => '_',
    };
    format!("{vpn_connection_id}{sep}{tunnel_outside_ip}")
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
        let name = stream_name("vpn-1234abcd", ip, StreamSeparator::default());
        assert_eq!(name, "vpn-1234abcd-1.2.3.4");
        // What the aws-samples monitoring Lambda does with it: three tokens.
        let tokens: Vec<_> = name.split('-').collect();
        assert_eq!(tokens, ["vpn", "1234abcd", "1.2.3.4"]);
        let ip: IpAddr = "127.0.10.1".parse().unwrap();
        assert_eq!(
            stream_name("vpn-0123456789abcdef0", ip, StreamSeparator::Underscore),
            "vpn-0123456789abcdef0_127.0.10.1"
        );
        assert_eq!("_".parse(), Ok(StreamSeparator::Underscore));
        assert_eq!("-".parse(), Ok(StreamSeparator::Hyphen));
        assert!("/".parse::<StreamSeparator>().unwrap_err().contains("`-`"));
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
