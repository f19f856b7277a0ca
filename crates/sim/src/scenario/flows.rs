//! The data plane's keys (docs/scenario-format.md, "Traffic"): the networks behind each end
//! of the tunnel and the flows between their hosts. A scenario with a `[[flow]]` has a data
//! plane: real ESP between the simulated hosts (docs/data-plane.md); without one, the
//! `traffic` model stays.
//!
//! ```toml
//! [vpc]                       # behind AWS (default 10.0.0.0/16, one host 10.0.0.10)
//! cidr = "10.0.0.0/16"
//! hosts = ["10.0.0.10"]
//! [onprem]                    # behind the CGW (default: its local_ts, else 172.16.0.0/16)
//! cidr = "172.16.0.0/16"
//! [[flow]]
//! kind = "icmp"               # icmp | udp | request-response
//! from = "onprem"             # the sender's side; answers come back
//! rate = "1/s"
//! pattern = { on = "30s", off = "30s" }
//! ```
//!
//! [`resolve`] fills in the defaults; [`check`] refuses what cannot run, naming the key.

use std::net::Ipv4Addr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::Scenario;
use crate::duration::SimDuration;

/// An IPv4 prefix (`10.0.0.0/16`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    /// The network address (host bits zero).
    pub addr: Ipv4Addr,
    /// The prefix length, 0–32.
    pub len: u8,
}

impl Prefix {
    fn mask(self) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0)
    }

    /// Whether `ip` is inside the prefix.
    pub fn contains(self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.addr)
    }

    /// Whether the two prefixes share an address.
    pub fn overlaps(self, other: Prefix) -> bool {
        self.contains(other.addr) || other.contains(self.addr)
    }

    /// The prefix's `.10` host (network address + 10), or its first address when the
    /// prefix is too small to have one.
    fn tenth_host(self) -> Ipv4Addr {
        let n = u32::from(self.addr);
        if self.len <= 28 {
            Ipv4Addr::from(n + 10)
        } else {
            self.addr
        }
    }
}

impl std::str::FromStr for Prefix {
    type Err = String;

    fn from_str(s: &str) -> Result<Prefix, String> {
        let bad = || format!("`{s}` is not an IPv4 prefix such as 10.0.0.0/16");
        let (addr, len) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
        let len: u8 = len.parse().ok().filter(|l| *l <= 32).ok_or_else(bad)?;
        let p = Prefix { addr, len };
        if u32::from(addr) & !p.mask() != 0 {
            return Err(format!(
                "`{s}` has host bits set: the network is {}/{len}",
                Ipv4Addr::from(u32::from(addr) & p.mask())
            ));
        }
        Ok(p)
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl<'de> Deserialize<'de> for Prefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// An IPv4 host address as a scenario writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostV4(pub Ipv4Addr);

impl<'de> Deserialize<'de> for HostV4 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map(HostV4).map_err(|_| {
            serde::de::Error::custom(format!(
                "`{s}` is not an IPv4 address (the data plane carries IPv4 inside the tunnel)"
            ))
        })
    }
}

/// `[vpc]` or `[onprem]` as written: both keys optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// `cidr`: the network.
    pub cidr: Option<Prefix>,
    /// `hosts`: the hosts in it that answer ICMP echo and UDP echo (port 7).
    pub hosts: Option<Vec<HostV4>>,
}

/// One side's network, defaults filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// The network.
    pub cidr: Prefix,
    /// Its hosts, at least one.
    pub hosts: Vec<Ipv4Addr>,
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

/// `rate`: how often a flow sends — `10/s`, `1/5s`, `0.5/s`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Time between two packets.
    pub interval: Duration,
}

/// The fastest a flow may send: one packet per 10 µs (100,000/s).
const FASTEST: Duration = Duration::from_micros(10);

impl std::str::FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Rate, String> {
        let bad = || format!("`{s}` is not a rate: write packets per time, e.g. 10/s, 1/5s, 0.5/s");
        let (n, per) = s.trim().split_once('/').ok_or_else(bad)?;
        let n: f64 = n.trim().parse().map_err(|_| bad())?;
        if !n.is_finite() || n <= 0.0 {
            return Err(bad());
        }
        let per = per.trim();
        let per = if per.starts_with(|c: char| c.is_ascii_digit()) {
            per.parse::<SimDuration>().map_err(|_| bad())?.0
        } else {
            format!("1{per}")
                .parse::<SimDuration>()
                .map_err(|_| bad())?
                .0
        };
        let interval = per.div_f64(n);
        if interval < FASTEST {
            return Err(format!(
                "`{s}` is too fast: at most 100000/s (one packet per 10 µs)"
            ));
        }
        if per.is_zero() {
            return Err(bad());
        }
        Ok(Rate { interval })
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// `pattern`: when a flow sends, within its `start`–`stop`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// At the rate all the time (the default).
    Steady,
    /// At the rate for `on`, then silent for `off`, over again.
    OnOff {
        /// How long it sends.
        on: Duration,
        /// How long it is silent.
        off: Duration,
    },
    /// `burst` packets at the rate every `every`.
    Bursts {
        /// From the start of one burst to the next.
        every: Duration,
        /// Packets per burst, 1–10,000.
        burst: u32,
    },
}

/// `pattern`'s inline table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternKeys {
    on: Option<SimDuration>,
    off: Option<SimDuration>,
    every: Option<SimDuration>,
    burst: Option<i64>,
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let k = PatternKeys::deserialize(d)?;
        let positive = |what: &str, v: SimDuration| {
            if v.0.is_zero() {
                Err(D::Error::custom(format!("`{what}` must be longer than 0s")))
            } else {
                Ok(v.0)
            }
        };
        match k {
            PatternKeys {
                on: Some(on),
                off: Some(off),
                every: None,
                burst: None,
            } => Ok(Pattern::OnOff {
                on: positive("on", on)?,
                off: positive("off", off)?,
            }),
            PatternKeys {
                on: None,
                off: None,
                every: Some(every),
                burst: Some(burst),
            } => {
                let burst = u32::try_from(burst)
                    .ok()
                    .filter(|b| (1..=10_000).contains(b))
                    .ok_or_else(|| {
                        D::Error::custom(format!("burst = {burst} is out of range: 1 to 10000"))
                    })?;
                Ok(Pattern::Bursts {
                    every: positive("every", every)?,
                    burst,
                })
            }
            _ => Err(D::Error::custom(
                "a pattern is { on = \"30s\", off = \"30s\" } or { every = \"10s\", burst = 5 }",
            )),
        }
    }
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
fn site(config: Option<&SiteConfig>, default: Prefix) -> Site {
    let cidr = config.and_then(|c| c.cidr).unwrap_or(default);
    let hosts = config.and_then(|c| c.hosts.as_ref()).map_or_else(
        || vec![cidr.tenth_host()],
        |h| h.iter().map(|h| h.0).collect(),
    );
    Site { cidr, hosts }
}

/// The on-premises default: the first tunnel's CGW `local_ts` when narrower than
/// 0.0.0.0/0, else 172.16.0.0/16.
fn onprem_default(scenario: &Scenario) -> Prefix {
    let fallback = Prefix {
        addr: Ipv4Addr::new(172, 16, 0, 0),
        len: 16,
    };
    scenario
        .tunnel
        .first()
        .and_then(|t| t.cgw.local_ts.first())
        .and_then(|c| c.1.parse::<Prefix>().ok())
        .filter(|p| p.len > 0)
        .unwrap_or(fallback)
}

/// The scenario's data plane, defaults filled in; `None` without a `[[flow]]`.
pub fn resolve(scenario: &Scenario) -> Option<DataPlaneSpec> {
    if scenario.flow.is_empty() {
        return None;
    }
    let vpc_default = Prefix {
        addr: Ipv4Addr::new(10, 0, 0, 0),
        len: 16,
    };
    let vpc = site(scenario.vpc.as_ref(), vpc_default);
    let onprem = site(scenario.onprem.as_ref(), onprem_default(scenario));
    let flows = (1..)
        .zip(&scenario.flow)
        .map(|(n, f)| {
            let (own, other) = match f.from {
                Side::Onprem => (&onprem, &vpc),
                Side::Vpc => (&vpc, &onprem),
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
                df: f.df,
                start: f.start.map_or(Duration::ZERO, |s| s.0),
                stop: f.stop.map(|s| s.0),
                pattern: f.pattern.unwrap_or(Pattern::Steady),
            }
        })
        .collect();
    Some(DataPlaneSpec { vpc, onprem, flows })
}

/// An error's place (an offset into the file), key and message.
type Refusal = (Option<usize>, String, String);

/// Checks the data plane's keys across each other: sites' hosts inside their networks,
/// networks apart, senders among their side's hosts, sizes, times, names; and that
/// `traffic` is not given beside flows.
pub(super) fn check(scenario: &Scenario, text: &str) -> Result<(), Refusal> {
    let flow_key = |i: usize, k: &str| {
        (
            super::key_in_section(text, "[[flow]]", i, k),
            format!("flow[{}].{k}", i + 1),
        )
    };
    if scenario.flow.is_empty() {
        if scenario.vpc.is_some() || scenario.onprem.is_some() {
            let (offset, key) = match text.find("[vpc]") {
                Some(o) => (Some(o), "vpc"),
                None => (text.find("[onprem]"), "onprem"),
            };
            return Err((
                offset,
                key.into(),
                "a network behind the tunnel needs a [[flow]] to carry (without flows the \
                 `traffic` model stands in for the data plane)"
                    .into(),
            ));
        }
        return Ok(());
    }
    let given: Option<toml::Table> = toml::from_str(text).ok();
    if given.is_some_and(|t| t.contains_key("traffic")) {
        let offset = text
            .match_indices("traffic")
            .find(|(o, _)| *o == 0 || text[..*o].ends_with('\n'))
            .map(|(o, _)| o);
        return Err((
            offset,
            "traffic".into(),
            "flows replace traffic: with [[flow]]s the tunnel carries real packets and DPD \
             follows them; remove `traffic`"
                .into(),
        ));
    }
    let Some(spec) = resolve(scenario) else {
        return Ok(());
    };
    for (name, site) in [("vpc", &spec.vpc), ("onprem", &spec.onprem)] {
        let section = format!("[{name}]");
        let at = |k: &str| super::key_in_section(text, &section, 0, k);
        if let Some(h) = site.hosts.iter().find(|h| !site.cidr.contains(**h)) {
            return Err((
                at("hosts"),
                format!("{name}.hosts"),
                format!("{h} is outside {name}'s cidr {}", site.cidr),
            ));
        }
        if site.hosts.is_empty() {
            return Err((
                at("hosts"),
                format!("{name}.hosts"),
                "give at least one host".into(),
            ));
        }
        if let Some((i, h)) = (1..)
            .zip(&site.hosts)
            .find(|(i, h)| site.hosts[..*i - 1].contains(h))
        {
            return Err((
                at("hosts"),
                format!("{name}.hosts"),
                format!("{h} is given twice (host {i})"),
            ));
        }
    }
    if spec.vpc.cidr.overlaps(spec.onprem.cidr) {
        let offset = super::key_in_section(text, "[onprem]", 0, "cidr")
            .or_else(|| super::key_in_section(text, "[vpc]", 0, "cidr"));
        return Err((
            offset,
            "onprem.cidr".into(),
            format!(
                "the networks overlap (vpc {}, onprem {}): the two ends of a tunnel route \
                 apart networks",
                spec.vpc.cidr, spec.onprem.cidr
            ),
        ));
    }
    for (i, (f, written)) in spec.flows.iter().zip(&scenario.flow).enumerate() {
        let own = match f.from {
            Side::Onprem => &spec.onprem,
            Side::Vpc => &spec.vpc,
        };
        let side = if f.from == Side::Vpc { "vpc" } else { "onprem" };
        if !own.hosts.contains(&f.src) {
            let (offset, key) = flow_key(i, "src");
            return Err((
                offset,
                key,
                format!(
                    "{} is not one of {side}'s hosts ({}): a flow from {side} is sent by one \
                     of them",
                    f.src,
                    list(&own.hosts)
                ),
            ));
        }
        if !(28..=65_535).contains(&written.size) {
            let (offset, key) = flow_key(i, "size");
            return Err((
                offset,
                key,
                format!(
                    "{} is out of range: an IP packet of 28 (headers only) to 65535 bytes",
                    written.size
                ),
            ));
        }
        if f.stop.is_some_and(|stop| stop <= f.start) {
            let (offset, key) = flow_key(i, "stop");
            return Err((offset, key, "must come after `start`".into()));
        }
        if let Some(j) = spec.flows[..i].iter().position(|o| o.name == f.name) {
            let (offset, key) = flow_key(i, "name");
            return Err((
                offset,
                key,
                format!(
                    "`{}` is flow {}'s name too: names tell flows apart",
                    f.name,
                    j + 1
                ),
            ));
        }
    }
    Ok(())
}

fn list(hosts: &[Ipv4Addr]) -> String {
    hosts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_prefixes_parse() {
        let r = |s: &str| s.parse::<Rate>().map(|r| r.interval);
        assert_eq!(r("10/s"), Ok(Duration::from_millis(100)));
        assert_eq!(r("1/5s"), Ok(Duration::from_secs(5)));
        assert_eq!(r("0.5/s"), Ok(Duration::from_secs(2)));
        assert_eq!(r("2/m"), Ok(Duration::from_secs(30)));
        for bad in [
            "",
            "10",
            "0/s",
            "-1/s",
            "x/s",
            "1/",
            "1/0s",
            "1000000/s",
            "nan/s",
        ] {
            assert!(r(bad).is_err(), "{bad}");
        }
        let p: Prefix = "10.0.0.0/16".parse().unwrap();
        assert!(p.contains(Ipv4Addr::new(10, 0, 255, 1)));
        assert!(!p.contains(Ipv4Addr::new(10, 1, 0, 1)));
        assert_eq!(p.tenth_host(), Ipv4Addr::new(10, 0, 0, 10));
        assert!("10.0.0.1/16".parse::<Prefix>().is_err());
        assert!("10.0.0.0/33".parse::<Prefix>().is_err());
        let all: Prefix = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(Ipv4Addr::new(1, 2, 3, 4)) && all.overlaps(p));
    }

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
        assert!(Scenario::parse(MINIMAL, "t.toml", "t")
            .unwrap()
            .data_plane()
            .is_none());
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
