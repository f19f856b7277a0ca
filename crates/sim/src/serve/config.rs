//! `ikesim serve`'s configuration file: one or two AWS tunnels, each with the AWS tunnel
//! options exactly as a scenario's `[tunnel.aws]` table spells them, the address the
//! tunnel listens on (its outside IP: AWS identifies itself by it), the VPN connection id
//! (for log stream names) and the customer gateway AWS expects to hear from.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use serde::{Deserialize, Deserializer};

pub use super::dos::DosOptions;
pub use super::vpc::Vpc;
use crate::aws::options::{AwsPsk, CloudWatchLogOptions, StartupAction, TunnelOptions};
use crate::scenario::flows::SiteConfig;
use crate::spelling::line_of;

/// The UDP port a tunnel listens on when `listen` names only an address: the NAT-T port
/// (RFC 3948), which real AWS endpoints also answer on and which needs no privileges.
pub const DEFAULT_PORT: u16 = 4500;

/// Where the first tunnel listens without a configuration file or `--listen`: the
/// scenarios' AWS outside IP.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 1, 1)), DEFAULT_PORT);

/// The VPN connection id used when the file names none.
pub const DEFAULT_VPN_CONNECTION_ID: &str = "vpn-0123456789abcdef0";

/// A commented configuration to start from (`ikesim serve --print-config`). Every AWS
/// option is shown with AWS's default; uncomment to change.
pub const TEMPLATE: &str = r#"# ikesim serve configuration: simulated AWS Site-to-Site VPN tunnels waiting for a real
# customer gateway (CGW). Start with `ikesim serve --config FILE`; see docs/real-cgw.md.

# Names the log streams: <vpn_connection_id>-<tunnel outside IP> (--stream-separator _ for
# <vpn_connection_id>_<tunnel outside IP>).
vpn_connection_id = "vpn-0123456789abcdef0"

# The customer gateway AWS expects (--cgw IP overrides it). AWS answers only this address
# and logs only its records. Left out: any address is answered, and the tunnel's log is
# that of the first address that authenticates (records of an IKE SA wait until it does;
# a CGW that never authenticates, e.g. with a wrong key, is not logged). `port` is where
# AWS initiates to with startup_action = "start".
[cgw]
# outside_ip = "127.0.0.1"
# port = 500

# Flood defences of every tunnel (docs/flood-defence.md), strongSwan's charon options of
# the same names as the model. The values shown are the defaults; 0 turns one off.
[dos]
# cookie_threshold = 30    # half-open IKE SAs from which IKE_SA_INIT needs a COOKIE (0: always)
# block_threshold = 5      # half-open IKE SAs one source IP may hold (0: no bound)
# half_open_limit = 5000   # half-open IKE SAs at most; requests beyond are dropped (0: no bound)

# The simulated VPC behind the tunnels (docs/real-cgw.md, "Traffic through the tunnel"):
# its hosts answer ping and UDP echo (port 7) that the CGW sends through a CHILD SA. Point
# the CGW's remote traffic selector (AWS's remote_ipv4_network_cidr) at it.
[vpc]
# cidr = "10.0.0.0/16"
# hosts = ["10.0.0.10"]

# One [[tunnel]] per AWS tunnel (one or two).
[[tunnel]]
# The tunnel's outside IP and UDP port. AWS identifies itself (IDr) by this address, and
# its IP names the log stream. A file may only name loopback addresses; bind anything else
# with --listen on the command line.
# - Port 500 (needs root): the tunnel listens on 500 and 4500, as AWS does; a CGW starts
#   on 500 and moves to 4500 once it detects a NAT (strongSwan with kernel-libipsec
#   always does). On 4500, IKE datagrams carry the four-byte non-ESP marker.
# - Any other port: that one socket; IKE datagrams carry the non-ESP marker unless the
#   CGW is on port 500 (point the CGW's remote port here).
listen = "127.0.1.1:4500"

# AWS's tunnel options, as a scenario's [tunnel.aws] table spells them. The values shown
# are AWS's defaults.
[tunnel.aws]
# Absent: 32 random letters and digits (printed on stderr at start), as AWS generates.
# --psk on the command line overrides it.
# pre_shared_key = "ikesim.example_psk_1"
# ike_versions = ["ikev1", "ikev2"]
# phase1_encryption_algorithms = ["AES128", "AES256", "AES128-GCM-16", "AES256-GCM-16"]
# phase2_encryption_algorithms = ["AES128", "AES256", "AES128-GCM-16", "AES256-GCM-16"]
# phase1_integrity_algorithms = ["SHA1", "SHA2-256", "SHA2-384", "SHA2-512"]
# phase2_integrity_algorithms = ["SHA1", "SHA2-256", "SHA2-384", "SHA2-512"]
# phase1_dh_group_numbers = [2, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]
# phase2_dh_group_numbers = [2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]
# phase1_lifetime_seconds = 28800
# phase2_lifetime_seconds = 3600
# rekey_margin_time_seconds = 270
# rekey_fuzz_percentage = 100
# replay_window_size = 1024
# dpd_timeout_seconds = 30
# dpd_timeout_action = "clear"     # clear | none | restart
# startup_action = "add"           # add: the CGW initiates; start: AWS initiates to [cgw]
# local_ipv4_network_cidr = "0.0.0.0/0"
# remote_ipv4_network_cidr = "0.0.0.0/0"

# Where and how this tunnel's log is published (AWS's LogOptions). log_enabled: AWS's
# default is false, ikesim's true (logs are its point); false writes nothing for this
# tunnel. No log_group_arn: the group /aws/vendedlogs/ikesim (or --log-group). ikesim has
# no BGP yet: the bgp_* options are checked, but no BGP records are written.
# [tunnel.aws.log_options.cloudwatch_log_options]
# log_enabled = true
# log_group_arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/ikesim"
# log_output_format = "json"       # json | text (--format overrides it)
# bgp_log_enabled = false
# bgp_log_group_arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/ikesim"
# bgp_log_output_format = "json"   # json | text

# A second tunnel needs its own address:
# [[tunnel]]
# listen = "127.0.1.2:4500"
# [tunnel.aws]
"#;

/// A configuration that cannot be used, with where and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {file}: {source}")]
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
        /// The path as given.
        file: String,
        /// toml's message, with the offending line quoted.
        message: String,
    },
    /// Well-formed but refused by a rule across keys (a non-loopback `listen`, two tunnels
    /// on one address, AWS's cross-option rules).
    #[error("{file}{line}: `{key}`: {message}")]
    Invalid {
        /// The path as given.
        file: String,
        /// `:N` for the offending key's line, or empty when it has no place in the file.
        line: String,
        /// The key as the template spells it.
        key: String,
        /// What is wrong and what is allowed.
        message: String,
    },
}

/// `ip:port`, or an IP alone (port [`DEFAULT_PORT`]).
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = s
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(SocketAddr::new(ip, DEFAULT_PORT));
    }
    Err(format!(
        "`{s}` is not an address such as 127.0.1.1:4500 (or 127.0.1.1, port {DEFAULT_PORT})"
    ))
}

/// A listen address from the file: any address here; the loopback rule is checked in
/// [`ServeConfig::parse`] so its error names the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listen(pub SocketAddr);

impl<'de> Deserialize<'de> for Listen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_listen(&s)
            .map(Listen)
            .map_err(serde::de::Error::custom)
    }
}

/// The customer gateway AWS expects to hear from.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExpectedCgw {
    /// Datagrams from any other IP are dropped (AWS talks only to the configured customer
    /// gateway). `None`: any.
    pub outside_ip: Option<IpAddr>,
    /// The CGW's IKE port, where AWS initiates to (startup action `start`).
    pub port: u16,
}

impl Default for ExpectedCgw {
    fn default() -> Self {
        ExpectedCgw {
            outside_ip: None,
            port: 500,
        }
    }
}

/// One AWS tunnel of `serve`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeTunnel {
    /// `listen`: the tunnel's outside IP (loopback) and port, [`DEFAULT_PORT`] if none.
    pub listen: toml::Spanned<Listen>,
    /// `[tunnel.aws]`: AWS's tunnel options, as a scenario spells them.
    #[serde(default)]
    pub aws: TunnelOptions,
}

impl ServeTunnel {
    /// `[tunnel.aws.log_options.cloudwatch_log_options]`: whether this tunnel's records are
    /// written, to which log group, in which format (see [`CloudWatchLogOptions`]).
    pub fn log_options(&self) -> &CloudWatchLogOptions {
        self.aws.cloudwatch_log_options()
    }
}

/// The whole file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// `vpn_connection_id`, default [`DEFAULT_VPN_CONNECTION_ID`]: names the log streams.
    #[serde(default = "default_vpn_connection_id")]
    pub vpn_connection_id: String,
    /// `[cgw]`: the customer gateway AWS expects.
    #[serde(default)]
    pub cgw: ExpectedCgw,
    /// `[dos]`: the flood defences of every tunnel.
    #[serde(default)]
    pub dos: DosOptions,
    /// `[vpc]`: the simulated VPC behind the tunnels ([`Vpc`]).
    #[serde(default)]
    pub vpc: SiteConfig,
    /// `[[tunnel]]`: one or two.
    pub tunnel: Vec<ServeTunnel>,
}

fn default_vpn_connection_id() -> String {
    DEFAULT_VPN_CONNECTION_ID.into()
}

impl Default for ServeConfig {
    /// One tunnel with AWS's defaults on [`DEFAULT_LISTEN`], any CGW.
    fn default() -> Self {
        ServeConfig {
            vpn_connection_id: default_vpn_connection_id(),
            cgw: ExpectedCgw::default(),
            dos: DosOptions::default(),
            vpc: SiteConfig::default(),
            tunnel: vec![ServeTunnel {
                listen: toml::Spanned::new(0..0, Listen(DEFAULT_LISTEN)),
                aws: TunnelOptions::default(),
            }],
        }
    }
}

impl ServeConfig {
    /// Reads and checks a configuration; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<ServeConfig, ConfigError> {
        let config: ServeConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            file: file.into(),
            message: crate::scenario::excerpt_cut(&e.to_string()),
        })?;
        let invalid = |span: Option<std::ops::Range<usize>>, key: String, message: String| {
            ConfigError::Invalid {
                file: file.into(),
                line: span
                    .filter(|s| !s.is_empty())
                    .map_or(String::new(), |s| format!(":{}", line_of(text, s.start))),
                key,
                message,
            }
        };
        config.dos.check(text, file)?;
        config.vpc().check(text, file)?;
        vpn_log::validate_vpn_connection_id(&config.vpn_connection_id)
            .map_err(|e| invalid(None, "vpn_connection_id".into(), e.to_string()))?;
        if config.tunnel.is_empty() || config.tunnel.len() > 2 {
            let n = config.tunnel.len();
            return Err(invalid(
                None,
                "tunnel".into(),
                format!("{n} tunnels given: a VPN connection has one or two ([[tunnel]])"),
            ));
        }
        for (i, t) in config.tunnel.iter().enumerate() {
            let key = |k: &str| format!("tunnel[{}].{k}", i + 1);
            let listen = t.listen.get_ref().0;
            if !listen.ip().is_loopback() {
                return Err(invalid(
                    Some(t.listen.span()),
                    key("listen"),
                    format!(
                        "{} is not a loopback address: a file only binds loopback; to bind another \
                         address, give it explicitly with --listen",
                        listen.ip()
                    ),
                ));
            }
            if let Err((span, k, message)) = t.aws.check() {
                return Err(invalid(Some(span), key(&format!("aws.{k}")), message));
            }
            if t.aws.startup_action == StartupAction::Start && config.cgw.outside_ip.is_none() {
                return Err(invalid(
                    None,
                    key("aws.startup_action"),
                    "\"start\" needs the customer gateway's address to initiate to: set [cgw] outside_ip".into(),
                ));
            }
            if config
                .tunnel
                .iter()
                .take(i)
                .any(|o| o.listen.get_ref().0 == listen)
            {
                return Err(invalid(
                    Some(t.listen.span()),
                    key("listen"),
                    "each tunnel needs its own listen address".into(),
                ));
            }
        }
        Ok(config)
    }

    /// The simulated VPC, `[vpc]`'s defaults filled in.
    pub fn vpc(&self) -> Vpc {
        Vpc::resolve(&self.vpc)
    }

    /// Reads and checks the file at `path` ([`ServeConfig::parse`]).
    pub fn from_file(path: &Path) -> Result<ServeConfig, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            file: file.clone(),
            source,
        })?;
        ServeConfig::parse(&text, &file)
    }

    /// `--cgw IP`: the customer gateway AWS expects, in place of the file's `[cgw]
    /// outside_ip` (any address: the command line may name one outside loopback).
    pub fn set_cgw(&mut self, ip: IpAddr) -> Result<(), String> {
        if ip.is_unspecified() || ip.is_multicast() {
            return Err(format!(
                "--cgw {ip}: name the address the customer gateway's datagrams come from"
            ));
        }
        self.cgw.outside_ip = Some(ip);
        Ok(())
    }

    /// Applies the command line: `--listen` replaces the first tunnel's address (any
    /// address: naming it explicitly is what allows leaving loopback), `--psk` every
    /// tunnel's pre-shared key.
    pub fn apply_overrides(
        &mut self,
        listen: Option<SocketAddr>,
        psk: Option<&str>,
    ) -> Result<(), String> {
        if let Some(addr) = listen {
            if addr.ip().is_unspecified() {
                return Err(format!(
                    "--listen {addr}: name the address the customer gateway connects to, not a wildcard: \
                     AWS identifies itself by its outside IP"
                ));
            }
            if self
                .tunnel
                .iter()
                .skip(1)
                .any(|t| t.listen.get_ref().0 == addr)
            {
                return Err(format!(
                    "--listen {addr}: the second tunnel already listens there"
                ));
            }
            if let Some(first) = self.tunnel.first_mut() {
                first.listen = toml::Spanned::new(0..0, Listen(addr));
            }
        }
        if let Some(psk) = psk {
            AwsPsk::check(psk).map_err(|e| format!("--psk: {e}"))?;
            for t in &mut self.tunnel {
                t.aws.pre_shared_key = Some(AwsPsk(psk.to_owned()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_parses_to_the_defaults() {
        let c = ServeConfig::parse(TEMPLATE, "template").unwrap();
        let d = ServeConfig::default();
        assert_eq!(c.vpn_connection_id, d.vpn_connection_id);
        assert_eq!(c.cgw, d.cgw);
        assert_eq!(c.tunnel.len(), 1);
        assert_eq!(c.tunnel[0].listen.get_ref(), d.tunnel[0].listen.get_ref());
        assert_eq!(
            c.tunnel[0].aws.phase1_dh_group_numbers,
            d.tunnel[0].aws.phase1_dh_group_numbers
        );
        // Every commented AWS option is a real option with its default value.
        let aws: String = TEMPLATE
            .lines()
            .skip_while(|l| *l != "[tunnel.aws]")
            .skip(1)
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| l.contains(" = "))
            .map(|l| format!("{}\n", l.split("  ").next().unwrap_or(l)))
            .collect();
        let full = TEMPLATE.replacen("[tunnel.aws]\n", &format!("[tunnel.aws]\n{aws}"), 1);
        let c = ServeConfig::parse(&full, "template").unwrap();
        let a = &c.tunnel[0].aws;
        assert_eq!(
            a.pre_shared_key.as_ref().map(|p| p.0.as_str()),
            Some("ikesim.example_psk_1")
        );
        assert_eq!(a.phase1_lifetime_seconds.get_ref().0, 28_800);
        assert_eq!(
            a.phase2_dh_group_numbers,
            d.tunnel[0].aws.phase2_dh_group_numbers
        );
        assert_eq!(a.dpd_timeout_seconds.0, 30);
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = ServeConfig::parse("[[tunnel]]\nlisten = \"10.0.0.1:4500\"\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("s.toml:2: `tunnel[1].listen`") && e.contains("--listen"),
            "{e}"
        );
        let text =
            "[[tunnel]]\nlisten = \"127.0.1.1\"\n[tunnel.aws]\nphase2_lifetime_seconds = 3000\n\
                    rekey_margin_time_seconds = 1600\n";
        let e = ServeConfig::parse(text, "s.toml").unwrap_err().to_string();
        assert!(
            e.starts_with("s.toml:5: `tunnel[1].aws.rekey_margin_time_seconds`"),
            "{e}"
        );
        let e = ServeConfig::parse("[[tunnel]]\nlisten = \"127.0.1.1\"\nfoo = 1\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `foo`"), "{e}");
        let text = "[[tunnel]]\nlisten = \"127.0.1.1\"\n[tunnel.aws]\nstartup_action = \"start\"\n";
        let e = ServeConfig::parse(text, "s.toml").unwrap_err().to_string();
        assert!(e.contains("outside_ip"), "{e}");
        let text = "[[tunnel]]\nlisten = \"127.0.1.1\"\n[[tunnel]]\nlisten = \"127.0.1.1:4500\"\n";
        let e = ServeConfig::parse(text, "s.toml").unwrap_err().to_string();
        assert!(e.contains("own listen address"), "{e}");
    }

    #[test]
    fn the_templates_log_options_block_holds_the_defaults() {
        let block = crate::aws::log_options_block(TEMPLATE);
        assert!(block.contains("bgp_log_output_format"), "{block}");
        // The template ends inside the first tunnel's [tunnel.aws]: the block belongs there.
        let c = ServeConfig::parse(&format!("{TEMPLATE}{block}"), "template").unwrap();
        let o = c.tunnel[0].log_options();
        let d = CloudWatchLogOptions::default();
        assert_eq!(o.log_enabled, d.log_enabled);
        assert_eq!(o.log_group_name(), vpn_log::DEFAULT_LOG_GROUP);
        assert_eq!(
            o.log_group_arn.as_ref().map(|a| a.account.as_str()),
            Some("123456789012")
        );
        assert_eq!(o.log_output_format, d.log_output_format);
        assert_eq!(o.bgp_log_enabled, d.bgp_log_enabled);
        assert_eq!(o.bgp_log_output_format, d.bgp_log_output_format);
        assert_eq!(ServeConfig::default().tunnel[0].log_options(), &d);
    }

    #[test]
    fn a_log_group_arn_that_is_not_one_is_refused_with_its_line() {
        let text = "[[tunnel]]\nlisten = \"127.0.1.1\"\n\
                    [tunnel.aws.log_options.cloudwatch_log_options]\n\
                    log_group_arn = \"arn:aws:logs:us-east-1:12345:log-group:g\"\n";
        let e = ServeConfig::parse(text, "s.toml").unwrap_err().to_string();
        assert!(e.starts_with("s.toml: ") && e.contains("line 4"), "{e}");
        assert!(
            e.contains("not 12 digits") && e.contains("log-group:<name>"),
            "{e}"
        );
    }

    #[test]
    fn command_line_overrides() {
        let mut c = ServeConfig::default();
        let lan: SocketAddr = "192.0.2.10:4500".parse().unwrap();
        c.apply_overrides(Some(lan), Some("abcdefgh12")).unwrap();
        assert_eq!(c.tunnel[0].listen.get_ref().0, lan);
        assert_eq!(
            c.tunnel[0]
                .aws
                .pre_shared_key
                .as_ref()
                .map(|p| p.0.as_str()),
            Some("abcdefgh12")
        );
        let e = c
            .apply_overrides(Some("0.0.0.0:4500".parse().unwrap()), None)
            .unwrap_err();
        assert!(e.contains("wildcard"), "{e}");
        let e = c.apply_overrides(None, Some("0bad")).unwrap_err();
        assert!(e.contains("--psk"), "{e}");
        c.set_cgw("203.0.113.5".parse().unwrap()).unwrap();
        assert_eq!(c.cgw.outside_ip, Some("203.0.113.5".parse().unwrap()));
        assert!(c.set_cgw("0.0.0.0".parse().unwrap()).is_err());
        assert_eq!(
            parse_listen("127.0.0.5").unwrap(),
            "127.0.0.5:4500".parse().unwrap()
        );
        assert_eq!(
            parse_listen("[::1]").unwrap(),
            "[::1]:4500".parse().unwrap()
        );
        assert!(parse_listen("localhost:1").is_err());
    }
}
