//! The `[network]` section: the path between AWS and the CGW (DESIGN.md, "Network
//! conditions without false NAT").
//!
//! ```toml
//! [network]
//! latency = "15ms"          # one-way delay, both directions (default 15ms)
//! loss = 0.2                # conditions here apply to both directions …
//! jitter = "5ms"
//! [network.cgw_to_aws]      # … and a direction's own table overrides them, key by key
//! loss = 0.5
//! [[network.blackhole]]     # the path is down: everything dropped
//! from = "2h"
//! to = "2h5m"
//! direction = "both"        # or "aws_to_cgw", "cgw_to_aws"
//! [network.nat]             # a NAT in front of the CGW
//! outside_ip = "203.0.113.1" # presented (binds 127.0.3.1 unless `loopback_ip` says)
//! mapping_timeout = "30s"
//! rebind_at = ["3h"]
//! ```
//!
//! Condition keys (all optional; crate::network says how each is applied):
//! `loss` (0–1), `burst_loss` (0–1: probability that a datagram starts a burst),
//! `burst_length` (1–1000 datagrams, default 3), `delay` (added to `latency`), `jitter`,
//! `jitter_distribution` (`uniform` ± jitter, default, or `normal` with σ = jitter),
//! `duplicate` (0–1), `reorder` (0–1), `reorder_delay` (how long a reordered datagram is
//! held back, default 100ms), `mtu` (68–65535 bytes of IP packet).

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::{HostIp, OutsideIp};
use crate::duration::SimDuration;
use crate::network::nat::NatConfig;
use crate::network::{Conditions, JitterDistribution};

/// A probability, 0 to 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Probability(pub f64);

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if (0.0..=1.0).contains(&v) {
            Ok(Probability(v))
        } else {
            Err(serde::de::Error::custom(format!(
                "{v} is out of range: a probability from 0 to 1 (0.2 is 20 %)"
            )))
        }
    }
}

/// A whole number restricted to `MIN..=MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounded<const MIN: u32, const MAX: u32>(pub u32);

impl<'de, const MIN: u32, const MAX: u32> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        match u32::try_from(v) {
            Ok(v) if (MIN..=MAX).contains(&v) => Ok(Bounded(v)),
            _ => Err(serde::de::Error::custom(format!(
                "{v} is out of range: {MIN} to {MAX}"
            ))),
        }
    }
}

/// Datagrams one loss burst drops.
pub type BurstLength = Bounded<1, 1000>;
/// The largest IP packet a path carries (68 is IPv4's minimum MTU).
pub type Mtu = Bounded<68, 65_535>;

/// One direction's conditions as written; absent keys fall back to `[network]`'s, then to
/// a clean path.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathConditions {
    /// `loss`: probability that a datagram is dropped (default 0).
    pub loss: Option<Probability>,
    /// `burst_loss`: probability that a datagram starts a loss burst of `burst_length`.
    pub burst_loss: Option<Probability>,
    /// `burst_length`: datagrams one burst drops (default 3).
    pub burst_length: Option<BurstLength>,
    /// `delay`: added to `[network]`'s `latency`.
    pub delay: Option<SimDuration>,
    /// `jitter`: spread of the delay (never below zero), so it can reorder by itself.
    pub jitter: Option<SimDuration>,
    /// `jitter_distribution`: `uniform` (delay ± jitter, the default) or `normal` (σ = jitter).
    pub jitter_distribution: Option<JitterDistribution>,
    /// `duplicate`: probability that a datagram arrives twice.
    pub duplicate: Option<Probability>,
    /// `reorder`: probability that a datagram is held back `reorder_delay`.
    pub reorder: Option<Probability>,
    /// `reorder_delay`: how long a reordered datagram is held back (default 100ms).
    pub reorder_delay: Option<SimDuration>,
    /// `mtu`: the largest IP packet the path carries; larger datagrams are dropped.
    pub mtu: Option<Mtu>,
}

impl PathConditions {
    /// `self`, with `fallback`'s keys where `self` has none.
    fn or(&self, fallback: &PathConditions) -> PathConditions {
        PathConditions {
            loss: self.loss.or(fallback.loss),
            burst_loss: self.burst_loss.or(fallback.burst_loss),
            burst_length: self.burst_length.or(fallback.burst_length),
            delay: self.delay.or(fallback.delay),
            jitter: self.jitter.or(fallback.jitter),
            jitter_distribution: self.jitter_distribution.or(fallback.jitter_distribution),
            duplicate: self.duplicate.or(fallback.duplicate),
            reorder: self.reorder.or(fallback.reorder),
            reorder_delay: self.reorder_delay.or(fallback.reorder_delay),
            mtu: self.mtu.or(fallback.mtu),
        }
    }
}

/// Which way datagrams travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From the AWS endpoint to the CGW (`[network.aws_to_cgw]`).
    AwsToCgw,
    /// From the CGW to the AWS endpoint (`[network.cgw_to_aws]`).
    CgwToAws,
}

/// Which directions a blackhole takes down.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Directions {
    /// `both` (the default): the path is down both ways.
    #[default]
    Both,
    /// `aws_to_cgw`: the CGW hears nothing from AWS; AWS still hears the CGW.
    AwsToCgw,
    /// `cgw_to_aws`: AWS hears nothing from the CGW.
    CgwToAws,
}

impl Directions {
    /// Whether a blackhole in these directions drops datagrams travelling `d`.
    pub(crate) fn includes(self, d: Direction) -> bool {
        match self {
            Directions::Both => true,
            Directions::AwsToCgw => d == Direction::AwsToCgw,
            Directions::CgwToAws => d == Direction::CgwToAws,
        }
    }
}

/// A window in which the path is down (`from` inclusive, `to` exclusive, from the start).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Blackhole {
    /// `from`: when the path goes down.
    pub from: SimDuration,
    /// `to`: when it comes back; after `from`.
    pub to: SimDuration,
    /// `direction`: `both`, `aws_to_cgw` or `cgw_to_aws`.
    #[serde(default)]
    pub direction: Directions,
}

/// A NAT in front of the CGW (crate::network::nat describes the model).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatOptions {
    /// `outside_ip`: the NAT's public address, what AWS sees as the CGW's (presented:
    /// records show it).
    pub outside_ip: OutsideIp,
    /// `loopback_ip`: the address the NAT binds (default: `outside_ip` if loopback, else
    /// 127.0.3.1).
    pub loopback_ip: Option<HostIp>,
    /// How long a mapping lives without outbound traffic (default 5m, RFC 4787 REQ-5's
    /// recommendation).
    #[serde(default = "default_mapping_timeout")]
    pub mapping_timeout: SimDuration,
    /// When the NAT drops its mappings, giving the CGW a new outside port.
    #[serde(default)]
    pub rebind_at: Vec<SimDuration>,
}

impl NatOptions {
    /// The loopback address the NAT binds.
    pub fn bind_ip(&self) -> IpAddr {
        super::address::bind_ip(self.outside_ip, self.loopback_ip, [127, 0, 3, 1].into())
    }
}

fn default_mapping_timeout() -> SimDuration {
    SimDuration(Duration::from_secs(300))
}

fn default_latency() -> SimDuration {
    SimDuration(Duration::from_millis(15))
}

/// The `[network]` section. Its condition keys repeat [`PathConditions`]'s (serde cannot
/// flatten a struct that denies unknown fields) and apply to both directions.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// One-way delay of every datagram.
    #[serde(default = "default_latency")]
    pub latency: SimDuration,
    /// `loss`: probability that a datagram is dropped (default 0).
    pub loss: Option<Probability>,
    /// `burst_loss`: probability that a datagram starts a loss burst of `burst_length`.
    pub burst_loss: Option<Probability>,
    /// `burst_length`: datagrams one burst drops (default 3).
    pub burst_length: Option<BurstLength>,
    /// `delay`: added to `[network]`'s `latency`.
    pub delay: Option<SimDuration>,
    /// `jitter`: spread of the delay (never below zero), so it can reorder by itself.
    pub jitter: Option<SimDuration>,
    /// `jitter_distribution`: `uniform` (delay ± jitter, the default) or `normal` (σ = jitter).
    pub jitter_distribution: Option<JitterDistribution>,
    /// `duplicate`: probability that a datagram arrives twice.
    pub duplicate: Option<Probability>,
    /// `reorder`: probability that a datagram is held back `reorder_delay`.
    pub reorder: Option<Probability>,
    /// `reorder_delay`: how long a reordered datagram is held back (default 100ms).
    pub reorder_delay: Option<SimDuration>,
    /// `mtu`: the largest IP packet the path carries; larger datagrams are dropped.
    pub mtu: Option<Mtu>,
    /// `[network.aws_to_cgw]`: this direction's own conditions, key by key over the above.
    #[serde(default)]
    pub aws_to_cgw: PathConditions,
    /// `[network.cgw_to_aws]`: the other direction's.
    #[serde(default)]
    pub cgw_to_aws: PathConditions,
    /// `[[network.blackhole]]`: windows in which the path is down.
    #[serde(default)]
    pub blackhole: Vec<Blackhole>,
    /// `[network.nat]`: a NAT in front of the CGW; absent, none.
    pub nat: Option<NatOptions>,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            latency: default_latency(),
            loss: None,
            burst_loss: None,
            burst_length: None,
            delay: None,
            jitter: None,
            jitter_distribution: None,
            duplicate: None,
            reorder: None,
            reorder_delay: None,
            mtu: None,
            aws_to_cgw: PathConditions::default(),
            cgw_to_aws: PathConditions::default(),
            blackhole: Vec::new(),
            nat: None,
        }
    }
}

impl Network {
    /// The keys given for both directions.
    fn both(&self) -> PathConditions {
        PathConditions {
            loss: self.loss,
            burst_loss: self.burst_loss,
            burst_length: self.burst_length,
            delay: self.delay,
            jitter: self.jitter,
            jitter_distribution: self.jitter_distribution,
            duplicate: self.duplicate,
            reorder: self.reorder,
            reorder_delay: self.reorder_delay,
            mtu: self.mtu,
        }
    }

    /// What datagrams going `direction` meet.
    pub fn conditions(&self, direction: Direction) -> Conditions {
        let own = match direction {
            Direction::AwsToCgw => &self.aws_to_cgw,
            Direction::CgwToAws => &self.cgw_to_aws,
        };
        let p = own.or(&self.both());
        let probability = |p: Option<Probability>| p.map_or(0.0, |p| p.0);
        let duration = |d: Option<SimDuration>, default: Duration| d.map_or(default, |d| d.0);
        Conditions {
            delay: self.latency.0 + duration(p.delay, Duration::ZERO),
            jitter: duration(p.jitter, Duration::ZERO),
            distribution: p.jitter_distribution.unwrap_or_default(),
            loss: probability(p.loss),
            burst_loss: probability(p.burst_loss),
            burst_length: p.burst_length.map_or(3, |b| b.0),
            duplicate: probability(p.duplicate),
            reorder: probability(p.reorder),
            reorder_delay: duration(p.reorder_delay, Duration::from_millis(100)),
            mtu: p.mtu.map(|m| m.0),
            blackholes: self.blackholes(direction),
        }
    }

    /// The windows `[from, to)` in which `direction` is down, merged and in order.
    pub fn blackholes(&self, direction: Direction) -> Vec<(Duration, Duration)> {
        let mut windows: Vec<(Duration, Duration)> = self
            .blackhole
            .iter()
            .filter(|b| b.direction.includes(direction))
            .map(|b| (b.from.0, b.to.0))
            .collect();
        windows.sort();
        let mut merged: Vec<(Duration, Duration)> = Vec::new();
        for (from, to) in windows {
            match merged.last_mut() {
                Some(last) if from <= last.1 => last.1 = last.1.max(to),
                _ => merged.push((from, to)),
            }
        }
        merged
    }

    /// The NAT, if the CGW sits behind one.
    pub fn nat_config(&self) -> Option<NatConfig> {
        self.nat.as_ref().map(|n| NatConfig {
            outside_ip: n.bind_ip(),
            mapping_timeout: n.mapping_timeout.0,
            rebind_at: n.rebind_at.iter().map(|d| d.0).collect(),
        })
    }

    /// Checks what the types alone cannot: `(offset in text, key, message)` on error.
    pub(super) fn check(&self, text: &str) -> Result<(), (Option<usize>, String, String)> {
        let mut sections = text.match_indices("[[network.blackhole]]").map(|(o, _)| o);
        for (i, b) in self.blackhole.iter().enumerate() {
            // The `to` line of the i-th [[network.blackhole]] table (or the table itself).
            let offset = sections
                .next()
                .map(|o| text[o..].find("\nto").map_or(o, |p| o + p + 1));
            if b.to <= b.from {
                return Err((
                    offset,
                    format!("network.blackhole[{}].to", i + 1),
                    format!("{} must be after `from` ({})", b.to, b.from),
                ));
            }
        }
        if let Some(nat) = &self.nat {
            let offset = text.find("[network.nat]");
            if nat.mapping_timeout.0.is_zero() {
                return Err((
                    offset,
                    "network.nat.mapping_timeout".into(),
                    "must be longer than 0s".into(),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    const MINIMAL: &str = r#"
description = "test"
[vpn_connection]
id = "vpn-0123456789abcdef0"
[cgw]
outside_ip = "127.0.2.1"
[[tunnel]]
outside_ip = "127.0.1.1"
"#;

    fn parse(extra: &str) -> Result<Scenario, String> {
        Scenario::parse(&format!("{MINIMAL}{extra}"), "t.toml", "t").map_err(|e| e.to_string())
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn latency_alone_is_a_clean_path() {
        let s = parse("[network]\nlatency = \"20ms\"\n").unwrap();
        for d in [Direction::AwsToCgw, Direction::CgwToAws] {
            let expected = Conditions {
                burst_length: 3,
                reorder_delay: 100 * MS,
                ..Conditions::delay(20 * MS)
            };
            assert_eq!(s.network.conditions(d), expected);
        }
        let s = parse("").unwrap();
        assert_eq!(s.network.conditions(Direction::AwsToCgw).delay, 15 * MS);
        assert!(s.network.nat_config().is_none());
    }

    #[test]
    fn a_direction_overrides_both_key_by_key() {
        let s = parse(
            "[network]\nloss = 0.2\ndelay = \"5ms\"\njitter = \"2ms\"\n\
             [network.cgw_to_aws]\nloss = 0.5\nmtu = 1280\n",
        )
        .unwrap();
        let up = s.network.conditions(Direction::CgwToAws);
        let down = s.network.conditions(Direction::AwsToCgw);
        assert_eq!(
            (up.loss, up.mtu, up.delay, up.jitter),
            (0.5, Some(1280), 20 * MS, 2 * MS)
        );
        assert_eq!((down.loss, down.mtu, down.delay), (0.2, None, 20 * MS));
    }

    #[test]
    fn blackholes_apply_to_their_direction_and_merge() {
        let s = parse(
            "[[network.blackhole]]\nfrom = \"1h\"\nto = \"1h5m\"\n\
             [[network.blackhole]]\nfrom = \"1h2m\"\nto = \"1h10m\"\ndirection = \"cgw_to_aws\"\n\
             [[network.blackhole]]\nfrom = \"2h\"\nto = \"2h1m\"\ndirection = \"aws_to_cgw\"\n",
        )
        .unwrap();
        let h = |m: u64| Duration::from_secs(m * 60);
        assert_eq!(
            s.network.blackholes(Direction::CgwToAws),
            vec![(h(60), h(70))]
        );
        assert_eq!(
            s.network.blackholes(Direction::AwsToCgw),
            vec![(h(60), h(65)), (h(120), h(121))]
        );
    }

    #[test]
    fn the_nat_section_reads_and_defaults() {
        let s = parse("[network.nat]\noutside_ip = \"127.0.3.1\"\nrebind_at = [\"3h\"]\n").unwrap();
        let nat = s.network.nat_config().unwrap();
        assert_eq!(nat.outside_ip.to_string(), "127.0.3.1");
        assert_eq!(nat.mapping_timeout, Duration::from_secs(300));
        assert_eq!(nat.rebind_at, vec![Duration::from_secs(3 * 3600)]);
    }

    #[test]
    fn errors_name_the_key_and_the_allowed_range() {
        let e = parse("[network]\nloss = 1.5\n").unwrap_err();
        assert!(
            e.contains("line 10") && e.contains("loss = 1.5") && e.contains("0 to 1"),
            "{e}"
        );
        let e = parse("[network.aws_to_cgw]\nduplicate = -0.1\n").unwrap_err();
        assert!(e.contains("duplicate") && e.contains("0 to 1"), "{e}");
        let e = parse("[network]\nmtu = 40\n").unwrap_err();
        assert!(e.contains("mtu") && e.contains("68 to 65535"), "{e}");
        let e = parse("[network]\nburst_length = 0\n").unwrap_err();
        assert!(e.contains("burst_length") && e.contains("1 to 1000"), "{e}");
        let e = parse("[network]\ncorrupt = 0.1\n").unwrap_err();
        assert!(e.contains("unknown field `corrupt`"), "{e}");
        let e = parse("[network]\njitter_distribution = \"pareto\"\n").unwrap_err();
        assert!(e.contains("uniform") && e.contains("normal"), "{e}");
        let e = parse("[[network.blackhole]]\nfrom = \"2h\"\nto = \"1h\"\n").unwrap_err();
        assert!(e.starts_with("t.toml:11: `network.blackhole[1].to`"), "{e}");
        let e = parse("[[network.blackhole]]\nfrom = \"2h\"\nto = \"3h\"\ndirection = \"up\"\n")
            .unwrap_err();
        assert!(e.contains("aws_to_cgw") && e.contains("cgw_to_aws"), "{e}");
        let e = parse("[network.nat]\noutside_ip = \"127.0.2.1\"\n").unwrap_err();
        assert!(
            e.contains("`network.nat.outside_ip`") && e.contains("cgw's outside_ip too"),
            "{e}"
        );
        let e = parse("[network.nat]\noutside_ip = \"127.0.3.1\"\nmapping_timeout = \"0s\"\n")
            .unwrap_err();
        assert!(e.contains("`network.nat.mapping_timeout`"), "{e}");
        let e = parse("[network.nat]\noutside_ip = \"10.0.0.1\"\nloopback_ip = \"10.0.0.1\"\n")
            .unwrap_err();
        assert!(e.contains("not a loopback address"), "{e}");
    }
}
