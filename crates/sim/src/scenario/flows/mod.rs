//! The data plane's keys (docs/scenario-format.md, "Traffic"): the networks behind each end
//! of the tunnel and the flows between their hosts. A scenario with a `[[flow]]` has a data
//! plane: real ESP between the simulated hosts (docs/data-plane.md); without one, the
//! `traffic` model stays.
//!
//! ```toml
//! [vpc]                       # behind AWS (default: its remote_ts, else 10.0.0.0/16)
//! cidr = "10.0.0.0/16"
//! hosts = ["10.0.0.10"]
//! prefer_tunnel = 2           # send over tunnel 2 while it is up (default: the lowest up)
//! [onprem]                    # behind the CGW (default: its local_ts, else 172.16.0.0/16)
//! cidr = "172.16.0.0/16"
//! firewall = "stateful"       # per-tunnel connection tracking (default "none")
//! [[flow]]
//! kind = "icmp"               # icmp | udp | request-response
//! from = "onprem"             # the sender's side; answers come back
//! rate = "1/s"
//! pattern = { on = "30s", off = "30s" }
//! ```
//!
//! [`resolve`] fills in the defaults; [`check`] refuses what cannot run, naming the key.

mod check;
mod values;

use std::net::Ipv4Addr;
use std::time::Duration;

use serde::Deserialize;

pub(super) use check::check;
pub(crate) use check::check_keys;
pub use values::{FirewallMode, HostV4, Pattern, Prefix, Rate, TunnelNumber};

use super::Scenario;
use crate::duration::SimDuration;
/// A network behind the tunnel as written (serve's `[vpc]`): both keys optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// `cidr`: the network.
    pub cidr: Option<Prefix>,
    /// `hosts`: the hosts in it that answer ICMP echo and UDP echo (port 7).
    pub hosts: Option<Vec<HostV4>>,
}

/// A scenario's `[vpc]` or `[onprem]` as written: the network (as [`SiteConfig`]) and how
/// that side routes over the tunnels. Every key optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SideConfig {
    /// `cidr`: the network.
    pub cidr: Option<Prefix>,
    /// `hosts`: the hosts in it that answer ICMP echo and UDP echo (port 7).
    pub hosts: Option<Vec<HostV4>>,
    /// `prefer_tunnel`: send over this tunnel while it is up, else over another that is
    /// (default: the lowest-numbered up).
    pub prefer_tunnel: Option<TunnelNumber>,
    /// `firewall` (`[onprem]` only): `none` (default) or `stateful`.
    pub firewall: Option<FirewallMode>,
}

/// One side's network, defaults filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// The network.
    pub cidr: Prefix,
    /// Its hosts, at least one.
    pub hosts: Vec<Ipv4Addr>,
    /// The tunnel (from 1) it sends over while that one is up; `None`: the lowest-numbered
    /// up.
    pub prefer_tunnel: Option<usize>,
}

/// The side of the tunnel a flow's sender is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Behind the CGW.
    Onprem,
    /// Behind AWS.
    Vpc,
}

/// What a flow sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlowKind {
    /// ICMP echo requests, answered with echo replies (as ping).
    Icmp,
    /// UDP datagrams to the echo port (7), echoed back.
    Udp,
    /// A TCP-like request/response: each request waits for its answer.
    RequestResponse,
}

fn default_kind() -> FlowKind {
    FlowKind::Icmp
}

fn default_from() -> Side {
    Side::Onprem
}

fn default_rate() -> Rate {
    Rate {
        interval: Duration::from_secs(1),
    }
}

fn default_size() -> u32 {
    84
}

/// One `[[flow]]` as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowConfig {
    /// `name`, default `kind-N` (N: its place among the flows, from 1).
    pub name: Option<String>,
    /// `kind`: `icmp` (default), `udp` or `request-response`.
    #[serde(default = "default_kind")]
    pub kind: FlowKind,
    /// `from`: the sender's side, `onprem` (default) or `vpc`.
    #[serde(default = "default_from")]
    pub from: Side,
    /// `src`: the sender, one of its side's hosts (default: the first).
    pub src: Option<HostV4>,
    /// `dst`: where it sends (default: the other side's first host).
    pub dst: Option<HostV4>,
    /// `rate`, default `1/s`.
    #[serde(default = "default_rate")]
    pub rate: Rate,
    /// `size`: the IP total length of each packet, 28–65535 bytes (default 84, as ping).
    #[serde(default = "default_size")]
    pub size: u32,
    /// `response_size`: a request/response flow's answers, IP total length (default:
    /// `size`).
    pub response_size: Option<u32>,
    /// `df`: the Don't Fragment bit (default false).
    #[serde(default)]
    pub df: bool,
    /// `start`: when it begins (default 0s).
    pub start: Option<SimDuration>,
    /// `stop`: when it ends (default: the end of the run).
    pub stop: Option<SimDuration>,
    /// `pattern`, default steady.
    pub pattern: Option<Pattern>,
}

/// A flow with its defaults filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Its name (counters and `-v` show it).
    pub name: String,
    /// What it sends.
    pub kind: FlowKind,
    /// The sender's side.
    pub from: Side,
    /// The sender.
    pub src: Ipv4Addr,
    /// The destination.
    pub dst: Ipv4Addr,
    /// How often.
    pub rate: Rate,
    /// IP total length of each packet.
    pub size: u16,
    /// IP total length of a request/response flow's answers.
    pub response_size: u16,
    /// Don't Fragment.
    pub df: bool,
    /// When it begins, from the start of the run.
    pub start: Duration,
    /// When it ends (`None`: at the end of the run).
    pub stop: Option<Duration>,
    /// When it sends.
    pub pattern: Pattern,
}

/// A scenario's data plane: both networks and the flows between them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataPlaneSpec {
    /// Behind AWS.
    pub vpc: Site,
    /// Behind the CGW.
    pub onprem: Site,
    /// The flows, in file order.
    pub flows: Vec<Flow>,
    /// What filters on-premises' packets to and from the tunnels.
    pub firewall: FirewallMode,
}

impl FlowKind {
    /// As the file spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::Icmp => "icmp",
            FlowKind::Udp => "udp",
            FlowKind::RequestResponse => "request-response",
        }
    }
}

/// A side's network, its defaults filled in (`default` when `cidr` is absent).
fn site(config: Option<&SideConfig>, default: Prefix) -> Site {
    let cidr = config.and_then(|c| c.cidr).unwrap_or(default);
    let hosts = config.and_then(|c| c.hosts.as_ref()).map_or_else(
        || vec![cidr.tenth_host()],
        |h| h.iter().map(|h| h.0).collect(),
    );
    let prefer_tunnel = config.and_then(|c| c.prefer_tunnel).map(|t| t.0);
    Site {
        cidr,
        hosts,
        prefer_tunnel,
    }
}

/// The network a CGW's traffic selectors name: the first, when narrower than 0.0.0.0/0.
pub(crate) fn selector_network(ts: &[crate::aws::options::Cidr]) -> Option<Prefix> {
    ts.first()
        .and_then(|c| c.1.parse::<Prefix>().ok())
        .filter(|p| p.len > 0)
}

/// The VPC's default network when the CGW's selectors name none: 10.0.0.0/16 (its tenth
/// host 10.0.0.10).
pub(crate) const VPC_DEFAULT: Prefix = Prefix {
    addr: Ipv4Addr::new(10, 0, 0, 0),
    len: 16,
};

/// On-premises' default network when the CGW's selectors name none: 172.16.0.0/16.
pub(crate) const ONPREM_DEFAULT: Prefix = Prefix {
    addr: Ipv4Addr::new(172, 16, 0, 0),
    len: 16,
};

/// The data plane's keys as a file gives them — a scenario's, or `connect`'s (which has
/// no `[vpc]`: the network behind its responder is real) — with the networks to assume
/// where the file names none.
pub(crate) struct Keys<'a> {
    /// `[vpc]`.
    pub vpc: Option<SideConfig>,
    /// `[onprem]`.
    pub onprem: Option<SideConfig>,
    /// `[[flow]]`.
    pub flow: &'a [FlowConfig],
    /// The VPC's network without `[vpc]`'s `cidr`.
    pub vpc_default: Prefix,
    /// On-premises' network without `[onprem]`'s `cidr`.
    pub onprem_default: Prefix,
    /// The `traffic` word to expand into flows when there are none (unless
    /// `traffic_flows = false` keeps the model).
    pub preset: Option<super::Traffic>,
}

impl From<&SiteConfig> for SideConfig {
    fn from(s: &SiteConfig) -> SideConfig {
        SideConfig {
            cidr: s.cidr,
            hosts: s.hosts.clone(),
            ..SideConfig::default()
        }
    }
}

impl<'a> Keys<'a> {
    /// A scenario's: each side's network defaults to the first tunnel's CGW selector of
    /// that side (`remote_ts` for the VPC, `local_ts` for on-premises) when narrower than
    /// 0.0.0.0/0, else [`VPC_DEFAULT`], [`ONPREM_DEFAULT`].
    pub(crate) fn of(scenario: &'a Scenario) -> Keys<'a> {
        let cgw = scenario.tunnel.first().map(|t| &t.cgw);
        Keys {
            vpc: scenario.vpc.clone(),
            onprem: scenario.onprem.clone(),
            flow: &scenario.flow,
            vpc_default: cgw
                .and_then(|c| selector_network(&c.remote_ts))
                .unwrap_or(VPC_DEFAULT),
            onprem_default: cgw
                .and_then(|c| selector_network(&c.local_ts))
                .unwrap_or(ONPREM_DEFAULT),
            preset: (scenario.flow.is_empty() && !scenario.traffic_model())
                .then_some(scenario.traffic),
        }
    }

    /// The data plane, defaults filled in; `None` without a `[[flow]]` or a preset.
    pub(crate) fn resolve(&self) -> Option<DataPlaneSpec> {
        if self.flow.is_empty() && self.preset.is_none() {
            return None;
        }
        let vpc = site(self.vpc.as_ref(), self.vpc_default);
        let onprem = site(self.onprem.as_ref(), self.onprem_default);
        let flows = match self.preset {
            Some(traffic) if self.flow.is_empty() => preset(traffic, &vpc, &onprem),
            _ => written_flows(self.flow, &vpc, &onprem),
        };
        let firewall = self
            .onprem
            .as_ref()
            .and_then(|o| o.firewall)
            .unwrap_or_default();
        Some(DataPlaneSpec {
            vpc,
            onprem,
            flows,
            firewall,
        })
    }
}

/// How often `traffic = "steady"` pings each way: five times in AWS's
/// DPD delay (10 s), so that a lost ping or two does not leave AWS 10 s without hearing.
pub const PRESET_INTERVAL: Duration = Duration::from_secs(2);

/// `traffic` as packets (unless `traffic_flows = false`): `steady` a ping from on-premises to the VPC every
/// [`PRESET_INTERVAL`] and one the other way, half an interval later; `idle` nothing.
fn preset(traffic: super::Traffic, vpc: &Site, onprem: &Site) -> Vec<Flow> {
    if traffic == super::Traffic::Idle {
        return Vec::new();
    }
    let ping = |name: &str, from: Side, src: Ipv4Addr, dst: Ipv4Addr, start: Duration| Flow {
        name: name.into(),
        kind: FlowKind::Icmp,
        from,
        src,
        dst,
        rate: Rate {
            interval: PRESET_INTERVAL,
        },
        size: default_size() as u16,
        response_size: default_size() as u16,
        df: false,
        start,
        stop: None,
        pattern: Pattern::Steady,
    };
    vec![
        ping(
            "steady-to-vpc",
            Side::Onprem,
            onprem.hosts[0],
            vpc.hosts[0],
            Duration::ZERO,
        ),
        ping(
            "steady-from-vpc",
            Side::Vpc,
            vpc.hosts[0],
            onprem.hosts[0],
            PRESET_INTERVAL / 2,
        ),
    ]
}

/// The scenario's data plane, defaults filled in; `None` without a `[[flow]]` or
/// `traffic_flows`.
pub fn resolve(scenario: &Scenario) -> Option<DataPlaneSpec> {
    Keys::of(scenario).resolve()
}

/// The `[[flow]]`s as written, their defaults filled in.
fn written_flows(flow: &[FlowConfig], vpc: &Site, onprem: &Site) -> Vec<Flow> {
    (1..)
        .zip(flow)
        .map(|(n, f)| {
            let (own, other) = match f.from {
                Side::Onprem => (onprem, vpc),
                Side::Vpc => (vpc, onprem),
            };
            Flow {
                name: f
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("{}-{n}", f.kind.as_str())),
                kind: f.kind,
                from: f.from,
                src: f.src.map_or(own.hosts[0], |h| h.0),
                dst: f.dst.map_or(other.hosts[0], |h| h.0),
                rate: f.rate,
                size: u16::try_from(f.size).unwrap_or(u16::MAX),
                response_size: u16::try_from(f.response_size.unwrap_or(f.size)).unwrap_or(u16::MAX),
                df: f.df,
                start: f.start.map_or(Duration::ZERO, |s| s.0),
                stop: f.stop.map(|s| s.0),
                pattern: f.pattern.unwrap_or(Pattern::Steady),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "description = \"t\"\n[vpn_connection]\nid = \"vpn-0123456789abcdef0\"\n\
        [cgw]\noutside_ip = \"127.0.2.1\"\n[[tunnel]]\noutside_ip = \"127.0.1.1\"\n\
        [tunnel.cgw]\nlocal_ts = [\"192.168.0.0/24\"]\n";

    #[test]
    fn defaults_fill_in_both_sites_and_the_flows() {
        let text = format!(
            "{MINIMAL}[[flow]]\n[[flow]]\nkind = \"udp\"\nfrom = \"vpc\"\nrate = \"10/s\"\n\
             pattern = {{ every = \"10s\", burst = 5 }}\n"
        );
        let s = Scenario::parse(&text, "t.toml", "t").unwrap();
        let spec = s.data_plane().unwrap();
        assert_eq!(spec.vpc.hosts, [Ipv4Addr::new(10, 0, 0, 10)]);
        assert_eq!(spec.onprem.cidr.to_string(), "192.168.0.0/24");
        assert_eq!(spec.onprem.hosts, [Ipv4Addr::new(192, 168, 0, 10)]);
        let (a, b) = (&spec.flows[0], &spec.flows[1]);
        assert_eq!(
            (a.name.as_str(), a.size, a.src, a.dst),
            ("icmp-1", 84, spec.onprem.hosts[0], spec.vpc.hosts[0])
        );
        assert_eq!((b.name.as_str(), b.src), ("udp-2", spec.vpc.hosts[0]));
        assert_eq!(
            b.pattern,
            Pattern::Bursts {
                every: Duration::from_secs(10),
                burst: 5
            }
        );
        let preset = Scenario::parse(MINIMAL, "t.toml", "t")
            .unwrap()
            .data_plane();
        let names: Vec<_> = preset
            .iter()
            .flat_map(|p| &p.flows)
            .map(|f| &f.name)
            .collect();
        assert_eq!(
            names,
            ["steady-to-vpc", "steady-from-vpc"],
            "steady as pings"
        );
        assert!(
            Scenario::parse(&format!("traffic_flows = false\n{MINIMAL}"), "t.toml", "t")
                .unwrap()
                .data_plane()
                .is_none(),
            "the model"
        );
        let e = Scenario::parse(
            &format!("{MINIMAL}[[flow]]\nname = \"a\"\n[[flow]]\nname = \"a\"\n"),
            "t.toml",
            "t",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("t.toml:13: `flow[2].name`"), "{e}");
        let e = Scenario::parse(
            &format!("{MINIMAL}[vpc]\ncidr = \"192.168.0.0/16\"\n[[flow]]\n"),
            "t.toml",
            "t",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("overlap"), "{e}");
    }
}
