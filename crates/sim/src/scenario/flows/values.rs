//! The values the data plane's keys take, parsed and checked where they are read (so
//! toml's error names the line and column): prefixes, IPv4 hosts, rates, patterns, tunnel
//! numbers, firewalls.

use std::net::Ipv4Addr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

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
    pub(super) fn tenth_host(self) -> Ipv4Addr {
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

/// `prefer_tunnel`: a tunnel of a VPN connection by its number, 1 or 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelNumber(pub usize);

impl<'de> Deserialize<'de> for TunnelNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match i64::deserialize(d)? {
            1 => Ok(TunnelNumber(1)),
            2 => Ok(TunnelNumber(2)),
            n => Err(serde::de::Error::custom(format!(
                "tunnel {n} does not exist: a VPN connection's tunnels are 1 and 2"
            ))),
        }
    }
}

/// `[onprem] firewall`: what filters the packets between on-premises and the tunnels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FirewallMode {
    /// Nothing: every packet the tunnels carry is delivered.
    #[default]
    None,
    /// Connection tracking per tunnel (`lan::Firewall`): a reply on another tunnel than its
    /// request's is dropped.
    Stateful,
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

impl Rate {
    /// Packets per second.
    pub fn per_second(self) -> f64 {
        1.0 / self.interval.as_secs_f64()
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
}
