//! The scenario file (TOML): a VPN connection's AWS tunnels with AWS's options, the CGW's
//! configuration for each, simulated start, duration and seed. A scenario is configuration
//! and conditions only — what the log says is up to the protocol.
//!
//! ```toml
//! description = "…"
//! seed = 1
//! duration = "5m"
//! [vpn_connection]
//! id = "vpn-0123456789abcdef0"
//! [cgw]
//! outside_ip = "198.51.100.1"      # presented: what records show (binds 127.0.2.1)
//! [[tunnel]]
//! outside_ip = "192.0.2.1"         # presented: records, the stream name (binds 127.0.1.1)
//! [tunnel.aws]                     # AWS tunnel options, AWS's names and defaults
//! pre_shared_key = "…"
//! [tunnel.cgw]                     # the CGW's configuration for this tunnel
//! ike_proposals = ["aes256gcm16-prfsha384-ecp384"]
//! ```
//! docs/scenario-format.md lists every key.

use std::net::IpAddr;
use std::path::Path;

use chrono::{DateTime, Utc};
use ike_core::{parse_proposal, ProposalKind, ProposalSpec};
use serde::{Deserialize, Deserializer};

use crate::aws::options::{CloudWatchLogOptions, TunnelOptions};
use crate::duration::SimDuration;
use crate::spelling::line_of;

/// A commented scenario to start from (`ikesim new-scenario`).
pub const TEMPLATE: &str = include_str!("scenario/template.toml");

/// A scenario that cannot be used, with where and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {file}: {source}")]
    Io {
        /// The path as given.
        file: String,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// Not TOML, an unknown key, or a value out of shape or out of AWS's range; toml's
    /// message carries the line and column.
    #[error("{file}: {message}")]
    Syntax {
        /// The path, or the built-in scenario's name.
        file: String,
        /// toml's message, with the offending line quoted.
        message: String,
    },
    /// Well-formed but refused by a rule across keys (e.g. phase 2 lifetime not below
    /// phase 1, as AWS requires).
    #[error("{file}:{line}: `{key}`: {message}")]
    Invalid {
        /// The path, or the built-in scenario's name.
        file: String,
        /// 1-based line of the offending key (0 when it has no place in the file).
        line: usize,
        /// The key as docs/scenario-format.md names it.
        key: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// The argument is neither a built-in scenario's name nor an existing file.
    #[error("no built-in scenario and no file named `{0}`: `ikesim list` shows the built-in scenarios; a file path must exist")]
    NotFound(String),
}

fn default_seed() -> u64 {
    1
}

fn default_start() -> StartTime {
    StartTime("2026-01-01T00:00:00Z".parse().expect("literal"))
}

fn default_duration() -> SimDuration {
    SimDuration(std::time::Duration::from_secs(300))
}

/// When the simulated clock starts (RFC 3339, UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartTime(pub DateTime<Utc>);

impl<'de> Deserialize<'de> for StartTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| StartTime(t.with_timezone(&Utc)))
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "`{s}` is not an RFC 3339 time such as 2026-01-01T00:00:00Z"
                ))
            })
    }
}

/// A strongSwan-style proposal string, checked when read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposalText<const ESP: bool>(pub String, pub ProposalSpec);

impl<'de, const ESP: bool> Deserialize<'de> for ProposalText<ESP> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let kind = if ESP {
            ProposalKind::Esp
        } else {
            ProposalKind::Ike
        };
        parse_proposal(&s, kind)
            .map(|spec| ProposalText(s, spec))
            .map_err(serde::de::Error::custom)
    }
}

/// `[vpn_connection]` (docs/scenario-format.md): the AWS VPN connection the tunnels
/// belong to.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpnConnection {
    /// `id`: `vpn-` and 8 or 17 hex digits; names the log streams (reference §5).
    pub id: String,
}

/// `[cgw]` (docs/scenario-format.md): the customer gateway host, shared by the tunnels.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CgwHost {
    /// `outside_ip`: the CGW's public address as AWS sees it when no NAT is in between
    /// (presented: what records show).
    pub outside_ip: OutsideIp,
    /// `loopback_ip`: the address the CGW binds (default: `outside_ip` if loopback, else
    /// 127.0.2.1).
    pub loopback_ip: Option<HostIp>,
}

impl CgwHost {
    /// The loopback address the CGW binds.
    pub fn bind_ip(&self) -> IpAddr {
        address::bind_ip(self.outside_ip, self.loopback_ip, [127, 0, 2, 1].into())
    }
}

/// One `[[tunnel]]` (docs/scenario-format.md): an AWS tunnel and the CGW's side of it; a
/// VPN connection has one or two.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tunnel {
    /// `outside_ip`: the AWS tunnel's outside IP address (presented: records and the
    /// stream name show it).
    pub outside_ip: OutsideIp,
    /// `loopback_ip`: the address the AWS endpoint binds (default: `outside_ip` if
    /// loopback, else 127.0.1.N for tunnel N).
    pub loopback_ip: Option<HostIp>,
    /// `[tunnel.aws]`: AWS's tunnel options, AWS's defaults when absent.
    #[serde(default)]
    pub aws: TunnelOptions,
    /// `[tunnel.cgw]`: the CGW's configuration for this tunnel.
    #[serde(default)]
    pub cgw: CgwConnection,
    /// `[[tunnel.maintenance]]`: AWS replaces the tunnel's endpoint (see [`events`]).
    #[serde(default)]
    pub maintenance: Vec<Maintenance>,
    /// `[[tunnel.modify_options]]`: ModifyVpnTunnelOptions, an endpoint replacement with
    /// new options (see [`events`]).
    #[serde(default)]
    pub modify_options: Vec<ModifyOptions>,
}

impl Tunnel {
    /// The loopback address the AWS endpoint of tunnel `number` (1 or 2) binds.
    pub fn bind_ip(&self, number: u8) -> IpAddr {
        address::bind_ip(
            self.outside_ip,
            self.loopback_ip,
            [127, 0, 1, number].into(),
        )
    }

    /// `[tunnel.aws.log_options.cloudwatch_log_options]`: whether this tunnel's records are
    /// written, to which log group, in which format (see [`CloudWatchLogOptions`]).
    pub fn log_options(&self) -> &CloudWatchLogOptions {
        self.aws.cloudwatch_log_options()
    }
}

mod address;
mod cgw;
pub mod events;
pub mod flows;
mod network;
pub use address::{HostIp, OutsideIp, Presentation};
pub use cgw::{CgwConnection, CgwStartup, Unconfigured};
pub use events::{Maintenance, ModifyOptions};
pub use flows::{DataPlaneSpec, FlowConfig, SideConfig, SiteConfig};
pub use network::{
    Blackhole, Direction, Directions, NatOptions, Network, PathConditions, Probability,
};

/// `traffic` (docs/scenario-format.md, "Traffic"): the data plane's effect on DPD until
/// there is an ESP data plane (DESIGN.md, "Traffic and DPD").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Traffic {
    /// `steady` (the default): AWS keeps hearing from the CGW; on-demand DPD stays quiet.
    #[default]
    Steady,
    /// `idle`: AWS hears nothing between exchanges and probes every 10 s.
    Idle,
}

/// A whole scenario.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The built-in name or the file's path: what `list` and errors show (not a key).
    #[serde(skip)]
    pub name: String,
    /// `description` (required): one line for `ikesim list`.
    pub description: String,
    /// `seed`, default 1: fixes SPIs, nonces, fuzz and impairments (DESIGN.md principle 3).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// `start`, default 2026-01-01T00:00:00Z: the records' first timestamp.
    #[serde(default = "default_start")]
    pub start: StartTime,
    /// `duration`, default 5m: simulated time to run.
    #[serde(default = "default_duration")]
    pub duration: SimDuration,
    /// `[network]`: loss, delay, blackholes and NAT between the hosts.
    #[serde(default)]
    pub network: Network,
    /// Whether the tunnel carries traffic (the data-plane model of DESIGN.md): `steady`
    /// keeps AWS hearing from the CGW, so on-demand DPD stays quiet; `idle` leaves AWS a
    /// liveness check every 10 s.
    #[serde(default)]
    pub traffic: Traffic,
    /// The AWS catalogue messages this scenario is meant to show (catalogue ids, see
    /// docs/log-messages.md). Documentation checked by the tests against the scenario's
    /// golden log — never used to produce anything.
    #[serde(default)]
    pub produces: Vec<String>,
    /// `[vpn_connection]`.
    pub vpn_connection: VpnConnection,
    /// `[cgw]`.
    pub cgw: CgwHost,
    /// `[[tunnel]]`: one or two.
    pub tunnel: Vec<Tunnel>,
    /// `[vpc]`: the network behind AWS (with flows only; see [`flows`]).
    pub vpc: Option<SideConfig>,
    /// `[onprem]`: the network behind the CGW (with flows only).
    pub onprem: Option<SideConfig>,
    /// `[[flow]]`: the data plane's traffic; with one, real ESP replaces `traffic`.
    #[serde(default)]
    pub flow: Vec<FlowConfig>,
    /// `traffic_flows`, default true: `traffic` as real packets — `steady` a ping each way
    /// every 2 s between the first hosts of `[vpc]` and `[onprem]`, `idle` a data plane
    /// with nothing to carry. `false` keeps the model instead: no ESP, each side simply
    /// hears its peer or does not (docs/data-plane.md, "`traffic` as packets, and the
    /// model"). `None`: not given.
    #[serde(default)]
    pub traffic_flows: Option<bool>,
}

impl Scenario {
    /// Reads and checks a scenario. `file` names it in errors; `name` is what `list` shows.
    pub fn parse(text: &str, file: &str, name: &str) -> Result<Scenario, ScenarioError> {
        let mut scenario: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Syntax {
            file: file.into(),
            message: excerpt_cut(&e.to_string()),
        })?;
        scenario.name = name.into();
        let invalid =
            |offset: Option<usize>, key: String, message: String| ScenarioError::Invalid {
                file: file.into(),
                line: offset.map_or(0, |o| line_of(text, o)),
                key,
                message,
            };
        if let Some(unknown) = scenario
            .produces
            .iter()
            .find(|id| vpn_log::by_id(id).is_none())
        {
            return Err(invalid(
                text.find("produces"),
                "produces".into(),
                format!("`{unknown}` is not a catalogue id (docs/log-messages.md lists them)"),
            ));
        }
        vpn_log::validate_vpn_connection_id(&scenario.vpn_connection.id).map_err(|e| {
            invalid(
                text.find("[vpn_connection]"),
                "vpn_connection.id".into(),
                e.to_string(),
            )
        })?;
        if scenario.tunnel.is_empty() || scenario.tunnel.len() > 2 {
            let n = scenario.tunnel.len();
            // The third [[tunnel]]; with none, the top of the file.
            let third = text
                .match_indices("[[tunnel]]")
                .nth(2)
                .map_or(0, |(o, _)| o);
            return Err(invalid(
                Some(third),
                "tunnel".into(),
                format!("{n} tunnels given: a VPN connection has one or two ([[tunnel]])"),
            ));
        }
        for (i, t) in scenario.tunnel.iter_mut().enumerate() {
            events::resolve(text, i, &mut t.modify_options).map_err(|(k, message)| {
                // The line of the offending option after the first modification, else the
                // modification's.
                let anchor = text.find("modify_options");
                let option = k
                    .rsplit('.')
                    .next()
                    .filter(|o| !o.is_empty() && *o != "aws");
                let offset = anchor.map(|a| {
                    option
                        .and_then(|o| text[a..].find(&format!("{o} =")))
                        .map_or(a, |o| a + o)
                });
                invalid(offset, format!("tunnel[{}].{k}", i + 1), message)
            })?;
        }
        for (i, t) in scenario.tunnel.iter().enumerate() {
            let key = |k: &str| format!("tunnel[{}].{k}", i + 1);
            if let Err((span, k, message)) = t.aws.check() {
                let offset = (!span.is_empty())
                    .then_some(span.start)
                    .or_else(|| key_in_section(text, "[tunnel.aws]", i, k));
                return Err(invalid(offset, key(&format!("aws.{k}")), message));
            }
            if let Err((k, message)) = t.cgw.check() {
                let offset = key_in_section(text, "[tunnel.cgw]", i, k);
                let k = if k.is_empty() {
                    "cgw".to_owned()
                } else {
                    format!("cgw.{k}")
                };
                return Err(invalid(offset, key(&k), message));
            }
        }
        address::check(&scenario, text)
            .and_then(|()| scenario.network.check(text))
            .and_then(|()| flows::check(&scenario, text))
            .map_err(|(offset, key, message)| invalid(offset, key, message))?;
        Ok(scenario)
    }

    /// Whether the scenario keeps the traffic model (`traffic_flows = false`, no flows of
    /// its own): no packets, each side simply hears its peer or not (DESIGN.md, "Traffic
    /// and DPD").
    pub fn traffic_model(&self) -> bool {
        self.flow.is_empty() && self.traffic_flows == Some(false)
    }

    /// The data plane (both networks and the flows), unless the scenario keeps the traffic
    /// model ([`Scenario::traffic_model`]).
    pub fn data_plane(&self) -> Option<DataPlaneSpec> {
        flows::resolve(self)
    }

    /// Reads a scenario from a file.
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            file: file.clone(),
            source,
        })?;
        let name = path
            .file_stem()
            .map_or_else(|| file.clone(), |s| s.to_string_lossy().into_owned());
        Scenario::parse(&text, &file, &name)
    }

    /// A built-in scenario by name, or a file path.
    pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
        if let Some(text) = crate::builtin::get(name_or_path) {
            let file = format!("scenarios/{name_or_path}.toml (built in)");
            return Scenario::parse(text, &file, name_or_path);
        }
        let path = Path::new(name_or_path);
        if path.exists() {
            return Scenario::from_file(path);
        }
        Err(ScenarioError::NotFound(name_or_path.into()))
    }
}

#[cfg(test)]
mod tests {
    use ike_core::{DpdAction, IkeVersion};

    use super::*;

    const MINIMAL: &str = r#"
description = "test"
[vpn_connection]
id = "vpn-0123456789abcdef0"
[cgw]
outside_ip = "127.0.2.1"
[[tunnel]]
outside_ip = "127.0.1.1"
"#;

    fn err(extra: &str) -> String {
        Scenario::parse(&format!("{MINIMAL}{extra}"), "t.toml", "t")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_template_is_a_valid_scenario() {
        let s = Scenario::parse(TEMPLATE, "template.toml", "template").unwrap();
        assert_eq!(s.tunnel.len(), 1);
    }

    #[test]
    fn defaults_are_aws_defaults() {
        let s = Scenario::parse(MINIMAL, "t.toml", "t").unwrap();
        let aws = &s.tunnel[0].aws;
        assert_eq!(aws.phase1_lifetime_seconds.get_ref().0, 28_800);
        assert_eq!(aws.rekey_margin_time_seconds.get_ref().0, 270);
        assert_eq!(aws.phase1_dh_group_numbers.0.len(), 12);
        assert_eq!(s.seed, 1);
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = err("[tunnel.aws]\nphase1_lifetime_seconds = 100\n");
        assert!(
            e.contains("t.toml") && e.contains("line 10") && e.contains("900 to 28800"),
            "{e}"
        );
        let e = err("[tunnel.aws]\nphase1_dh_group_numbers = [5]\n");
        assert!(e.contains("DH group 5 is not allowed in phase 1"), "{e}");
        let e = err("[tunnel.aws]\nfoo = 1\n");
        assert!(e.contains("unknown field `foo`"), "{e}");
        let e = err("[tunnel.aws]\nphase1_encryption_algorithms = [\"AES512\"]\n");
        assert!(e.contains("AES128-GCM-16"), "{e}");
        let e =
            err("[tunnel.aws]\nphase2_lifetime_seconds = 3000\nrekey_margin_time_seconds = 1600\n");
        assert!(
            e.starts_with("t.toml:11: `tunnel[1].aws.rekey_margin_time_seconds`"),
            "{e}"
        );
        let e = err("[tunnel.cgw]\nike_proposals = [\"aes128-sha9-modp2048\"]\n");
        assert!(e.contains("sha9"), "{e}");
        let e = err("[tunnel.aws]\npre_shared_key = \"0abcdefgh\"\n");
        assert!(e.contains("starts with `0`"), "{e}");
        // The core's types, in the file's words.
        let e = err("[tunnel.cgw]\nike_version = 3\n");
        assert!(e.contains("line 10") && e.contains("use 1 or 2"), "{e}");
        let e = err("[tunnel.cgw]\ndpd_action = \"hold\"\n");
        assert!(e.contains("unknown variant `hold`"), "{e}");
        let e = err("[tunnel.aws]\nike_versions = [\"ikev3\"]\n");
        assert!(e.contains("unknown variant `ikev3`"), "{e}");
        let s = Scenario::parse(
            &format!("{MINIMAL}[tunnel.aws]\nike_versions = [\"ikev1\"]\ndpd_timeout_action = \"restart\"\n[tunnel.cgw]\nike_version = 1\ndpd_action = \"none\"\n"),
            "t.toml",
            "t",
        )
        .unwrap();
        let t = &s.tunnel[0];
        assert_eq!(t.aws.ike_versions, vec![IkeVersion::V1]);
        assert_eq!(t.aws.dpd_timeout_action, DpdAction::Restart);
        assert_eq!(
            (t.cgw.ike_version, t.cgw.dpd_action),
            (IkeVersion::V1, DpdAction::None)
        );
    }

    #[test]
    fn log_options_are_read_per_tunnel_and_checked() {
        let s = Scenario::parse(MINIMAL, "t.toml", "t").unwrap();
        let o = s.tunnel[0].log_options();
        assert!(o.log_enabled);
        assert_eq!(o.log_group_name(), vpn_log::DEFAULT_LOG_GROUP);
        assert_eq!(o.log_output_format, vpn_log::Format::Json);
        let two = format!(
            "{MINIMAL}[tunnel.aws.log_options.cloudwatch_log_options]\n\
             log_group_arn = \"arn:aws:logs:us-west-2:123456789012:log-group:/aws/vendedlogs/a\"\n\
             [[tunnel]]\noutside_ip = \"127.0.1.2\"\n\
             [tunnel.aws.log_options.cloudwatch_log_options]\n\
             log_enabled = false\nlog_output_format = \"text\"\n"
        );
        let s = Scenario::parse(&two, "t.toml", "t").unwrap();
        let (a, b) = (s.tunnel[0].log_options(), s.tunnel[1].log_options());
        assert_eq!(a.log_group_name(), "/aws/vendedlogs/a");
        assert_eq!(
            a.log_group_arn.as_ref().map(|g| g.region.as_str()),
            Some("us-west-2")
        );
        assert!(a.log_enabled && !b.log_enabled);
        assert_eq!(b.log_output_format, vpn_log::Format::Text);
        assert_eq!(b.log_group_name(), vpn_log::DEFAULT_LOG_GROUP);
        let e = err("[tunnel.aws.log_options.cloudwatch_log_options]\n\
             log_group_arn = \"arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:s\"\n");
        assert!(e.starts_with("t.toml: ") && e.contains("line 10"), "{e}");
        assert!(
            e.contains("log stream's ARN") && e.contains("log-group:<name>"),
            "{e}"
        );
    }

    #[test]
    fn the_templates_log_options_block_holds_the_defaults() {
        let block = crate::aws::log_options_block(TEMPLATE);
        assert!(block.contains("bgp_log_output_format"), "{block}");
        let text = TEMPLATE.replacen("\n[tunnel.cgw]", &format!("\n{block}[tunnel.cgw]"), 1);
        let s = Scenario::parse(&text, "template.toml", "template").unwrap();
        let o = s.tunnel[0].log_options();
        let d = CloudWatchLogOptions::default();
        assert_eq!(o.log_enabled, d.log_enabled);
        assert_eq!(o.log_group_name(), vpn_log::DEFAULT_LOG_GROUP);
        assert_eq!(o.log_output_format, d.log_output_format);
        assert_eq!(o.bgp_log_enabled, d.bgp_log_enabled);
        assert_eq!(o.bgp_log_output_format, d.bgp_log_output_format);
    }
}

/// Where `key` (its last dotted part) is set in the `n`-th `section` of `text` (e.g. the
/// second `[tunnel.cgw]`), else where that section starts: the line a check's error names
/// when serde gave it no span.
pub(crate) fn key_in_section(text: &str, section: &str, n: usize, key: &str) -> Option<usize> {
    let (start, _) = text.match_indices(section).nth(n)?;
    let body = &text[start..];
    let end = body[section.len()..]
        .find("\n[")
        .map_or(body.len(), |e| e + section.len());
    let last = key.rsplit('.').next().unwrap_or(key);
    if last.is_empty() {
        return Some(start);
    }
    let mut at = 0;
    for line in body[..end].split_inclusive('\n') {
        let set = line
            .trim_start()
            .strip_prefix(last)
            .is_some_and(|r| r.trim_start().starts_with('='));
        if set {
            return Some(start + at + (line.len() - line.trim_start().len()));
        }
        at += line.len();
    }
    Some(start)
}

/// How wide an echoed source line may be before it is cut around the error's column.
const EXCERPT_WIDTH: usize = 100;

/// A TOML error message whose echoed source line (`N | text`, with `^` under the column
/// on the next line) is cut to a window around the column with `…` where it was cut, as
/// rustc and toml cut long lines: a 1 MB one-line file is not echoed back in full.
pub(crate) fn excerpt_cut(message: &str) -> String {
    let lines: Vec<&str> = message.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let source = line
            .split_once(" | ")
            .filter(|(n, _)| !n.trim().is_empty() && n.trim().bytes().all(|b| b.is_ascii_digit()));
        let caret = lines.get(i + 1).and_then(|c| c.split_once(" | "));
        match (source, caret) {
            (Some((number, code)), Some((gutter, marks)))
                if code.chars().count() > EXCERPT_WIDTH && marks.contains('^') =>
            {
                let chars: Vec<char> = code.chars().collect();
                let column = marks.chars().take_while(|c| *c == ' ').count();
                let half = EXCERPT_WIDTH / 2;
                let from = column.saturating_sub(half).min(chars.len());
                let to = (column + half).min(chars.len());
                let mut cut: String = chars[from..to].iter().collect();
                let mut shift = column - from;
                if from > 0 {
                    cut.insert(0, '…');
                    shift += 1;
                }
                if to < chars.len() {
                    cut.push('…');
                }
                let marks = marks.trim_start();
                let marks: String = marks.chars().take(EXCERPT_WIDTH).collect();
                out.push(format!("{number} | {cut}"));
                out.push(format!("{gutter} | {}{marks}", " ".repeat(shift)));
                i += 2;
            }
            _ => {
                let kept: String = line.chars().take(4 * EXCERPT_WIDTH).collect();
                out.push(if kept.len() < line.len() {
                    format!("{kept}…")
                } else {
                    kept
                });
                i += 1;
            }
        }
    }
    let mut joined = out.join("\n");
    if message.ends_with('\n') {
        joined.push('\n');
    }
    joined
}

#[cfg(test)]
mod excerpt_tests {
    use super::*;

    #[test]
    fn a_huge_line_is_cut_around_the_column() {
        let text = format!("seed = 1 {}", "x".repeat(1_000_000));
        let Err(ScenarioError::Syntax { message, .. }) = Scenario::parse(&text, "big.toml", "b")
        else {
            panic!("a syntax error");
        };
        assert!(message.len() < 1_000, "{}", message.len());
        assert!(message.contains("1 | seed = 1 x"), "{message}");
        assert!(message.contains('…'), "{message}");
    }

    #[test]
    fn a_check_without_a_span_names_the_line_of_its_key() {
        let text = "a = 1\n[tunnel.cgw]\nx = 2\n  y = 3\n[other]\ny = 4\n";
        assert_eq!(
            key_in_section(text, "[tunnel.cgw]", 0, "cgw.y"),
            text.find("y = 3")
        );
        assert_eq!(
            key_in_section(text, "[tunnel.cgw]", 0, "z"),
            text.find("[tunnel.cgw]")
        );
        assert_eq!(key_in_section(text, "[tunnel.cgw]", 1, "y"), None);
    }
}
