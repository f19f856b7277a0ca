//! The tunnel option `LogOptions`: where and how AWS publishes a tunnel's logs (EC2 API
//! reference, `VpnTunnelLogOptionsSpecification` and `CloudWatchLogOptionsSpecification`;
//! reference §1 and §4). Spelled in snake_case like the other options and like Terraform's
//! `aws_vpn_connection` (`tunnel1_log_options { cloudwatch_log_options { … } }`):
//!
//! ```toml
//! [tunnel.aws.log_options.cloudwatch_log_options]
//! log_enabled = true
//! log_group_arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/ikesim"
//! log_output_format = "json"
//! ```
//!
//! This module only reads and checks the options; the outputs of `run` and `serve` apply
//! them (and let the command line override them for every tunnel).

use serde::{Deserialize, Deserializer};
use vpn_log::{Format, LogGroupArn, DEFAULT_LOG_GROUP};

/// `[tunnel.aws.log_options]`: AWS's `LogOptions`, whose one member today is the
/// CloudWatch Logs destination.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogOptions {
    /// `[tunnel.aws.log_options.cloudwatch_log_options]`: AWS's `CloudWatchLogOptions`.
    pub cloudwatch_log_options: CloudWatchLogOptions,
}

/// AWS's `CloudWatchLogOptions` for one tunnel: whether its tunnel log (and, since
/// November 2025, its BGP log) is published, to which log group, in which format.
///
/// Defaults are AWS's except one: AWS's `LogEnabled` defaults to false, ikesim's
/// `log_enabled` to **true**, because ikesim exists to produce these logs
/// (docs/scenario-format.md says so). ikesim has no BGP yet: the `bgp_*` options are read
/// and checked as AWS would, but no BGP records are written.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CloudWatchLogOptions {
    /// `log_enabled` (`LogEnabled`): whether the tunnel's log records are written at all.
    /// Default true (AWS: false; see the type's doc).
    pub log_enabled: bool,
    /// `log_group_arn` (`LogGroupArn`): the group the records go to. `None`: ikesim's
    /// default group [`DEFAULT_LOG_GROUP`], or `--log-group` on the command line.
    #[serde(deserialize_with = "log_group_arn")]
    pub log_group_arn: Option<LogGroupArn>,
    /// `log_output_format` (`LogOutputFormat`): `json` (default) or `text`.
    #[serde(deserialize_with = "output_format")]
    pub log_output_format: Format,
    /// `bgp_log_enabled` (`BgpLogEnabled`), default false as on AWS. Accepted, but there is
    /// no BGP in ikesim yet, so nothing is written.
    pub bgp_log_enabled: bool,
    /// `bgp_log_group_arn` (`BgpLogGroupArn`): checked like `log_group_arn`; unused yet.
    #[serde(deserialize_with = "log_group_arn")]
    pub bgp_log_group_arn: Option<LogGroupArn>,
    /// `bgp_log_output_format` (`BgpLogOutputFormat`): `json` (default) or `text`; unused
    /// yet.
    #[serde(deserialize_with = "output_format")]
    pub bgp_log_output_format: Format,
}

impl Default for CloudWatchLogOptions {
    fn default() -> Self {
        CloudWatchLogOptions {
            log_enabled: true,
            log_group_arn: None,
            log_output_format: Format::Json,
            bgp_log_enabled: false,
            bgp_log_group_arn: None,
            bgp_log_output_format: Format::Json,
        }
    }
}

impl CloudWatchLogOptions {
    /// The log group the tunnel's records go to: the ARN's group name, else
    /// [`DEFAULT_LOG_GROUP`] (`--log-group` overrides either; that is the caller's part).
    pub fn log_group_name(&self) -> &str {
        self.log_group_arn
            .as_ref()
            .map_or(DEFAULT_LOG_GROUP, |arn| arn.name.as_str())
    }
}

/// The commented-out `[tunnel.aws.log_options.cloudwatch_log_options]` block of a template
/// (`ikesim new-scenario`'s, `serve --print-config`'s), uncommented, for the tests that
/// check it holds the defaults.
#[cfg(test)]
pub(crate) fn template_block(template: &str) -> String {
    template
        .lines()
        .skip_while(|l| !l.contains("[tunnel.aws.log_options.cloudwatch_log_options]"))
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.strip_prefix("# "))
        .map(|l| format!("{}\n", l.split("  #").next().unwrap_or(l)))
        .collect()
}

/// A `LogGroupArn`/`BgpLogGroupArn` value: the ARN of a CloudWatch Logs log group, refused
/// with the expected shape otherwise (toml adds the line and column).
fn log_group_arn<'de, D: Deserializer<'de>>(d: D) -> Result<Option<LogGroupArn>, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map(Some).map_err(serde::de::Error::custom)
}

/// `json` or `text`, AWS's `LogOutputFormat` values.
fn output_format<'de, D: Deserializer<'de>>(d: D) -> Result<Format, D::Error> {
    const NAMES: &[&str] = &["json", "text"];
    let s = String::deserialize(d)?;
    s.parse()
        .map_err(|_| serde::de::Error::unknown_variant(&s, NAMES))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LogOptions, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_enable_logging_to_the_default_group_in_json() {
        let o = parse("").unwrap().cloudwatch_log_options;
        assert_eq!(o, CloudWatchLogOptions::default());
        assert!(o.log_enabled, "ikesim's deviation from AWS: logging is on");
        assert!(!o.bgp_log_enabled);
        assert_eq!(o.log_output_format, Format::Json);
        assert_eq!(o.bgp_log_output_format, Format::Json);
        assert_eq!(o.log_group_name(), DEFAULT_LOG_GROUP);
        assert_eq!(o.log_group_arn, None);
    }

    #[test]
    fn every_aws_option_is_read() {
        let o = parse(
            "[cloudwatch_log_options]\n\
             log_enabled = false\n\
             log_group_arn = \"arn:aws:logs:eu-west-1:111122223333:log-group:vpn/tunnels:*\"\n\
             log_output_format = \"text\"\n\
             bgp_log_enabled = true\n\
             bgp_log_group_arn = \"arn:aws:logs:eu-west-1:111122223333:log-group:vpn/bgp\"\n\
             bgp_log_output_format = \"text\"\n",
        )
        .unwrap()
        .cloudwatch_log_options;
        assert!(!o.log_enabled && o.bgp_log_enabled);
        assert_eq!(o.log_output_format, Format::Text);
        assert_eq!(o.bgp_log_output_format, Format::Text);
        assert_eq!(o.log_group_name(), "vpn/tunnels");
        let arn = o.log_group_arn.as_ref().unwrap();
        assert_eq!(
            (arn.region.as_str(), arn.account.as_str()),
            ("eu-west-1", "111122223333")
        );
        assert_eq!(
            o.bgp_log_group_arn.map(|a| a.name),
            Some("vpn/bgp".to_owned())
        );
    }

    #[test]
    fn bad_values_are_refused_with_the_line_and_what_is_allowed() {
        let e = parse(
            "[cloudwatch_log_options]\n\
             log_group_arn = \"arn:aws:s3:::my-bucket\"\n",
        )
        .unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(e.contains("service `s3`"), "{e}");
        assert!(e.contains("arn:<partition>:logs:<region>"), "{e}");
        let e = parse("[cloudwatch_log_options]\nbgp_log_group_arn = \"/aws/vendedlogs/x\"\n")
            .unwrap_err();
        assert!(
            e.contains("line 2") && e.contains("does not start with `arn:`"),
            "{e}"
        );
        let e = parse("[cloudwatch_log_options]\nlog_output_format = \"csv\"\n").unwrap_err();
        assert!(
            e.contains("unknown variant `csv`, expected `json` or `text`"),
            "{e}"
        );
        let e = parse("[cloudwatch_log_options]\nlog_enabled = \"yes\"\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        let e = parse("[cloudwatch_log_options]\nlog_group = \"x\"\n").unwrap_err();
        assert!(e.contains("unknown field `log_group`"), "{e}");
        let e = parse("[s3_log_options]\n").unwrap_err();
        assert!(e.contains("unknown field `s3_log_options`"), "{e}");
    }
}
