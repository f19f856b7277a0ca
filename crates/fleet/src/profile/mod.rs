//! Profiles: what a connection of the fleet is like — healthy, or failing the way one of
//! the library's scenarios fails, with its parameters drawn from ranges. A profile never
//! writes a log line: it sets configuration and conditions (a CGW's key, proposals, a
//! crash time, a lossy path), and what AWS logs is whatever the protocol makes of it.
//!
//! [`PROFILES`] is the one table of them. A profile applies to one tunnel (chosen by a
//! draw; the other stays healthy) or to the whole connection where it must: a CGW reboot
//! takes both tunnels, a path's loss hits both.

use std::fmt::Write as _;
use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha20Rng;

mod table;

/// What a parameter's values are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A duration (`"30s"`, `"2m"`), kept in seconds.
    Duration,
    /// A time in the run, as a fraction of `--duration` (0 to 1): the run's length is the
    /// fleet's, so an event "in the middle" stays in the middle whatever it is.
    Fraction,
    /// A probability, 0 to 1.
    Probability,
    /// A whole number.
    Count,
}

/// One parameter of a profile: its name in `--mix` files, its kind and default range.
#[derive(Clone, Copy, Debug)]
pub struct ParamDef {
    /// The key in a `--mix` file.
    pub name: &'static str,
    /// What its values are.
    pub kind: Kind,
    /// The default range, inclusive (seconds for durations).
    pub default: (f64, f64),
    /// The smallest and largest values allowed.
    pub limits: (f64, f64),
    /// What it sets, in one line (docs/fleet.md).
    pub about: &'static str,
}

/// Whether a profile applies to one tunnel or to the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One tunnel of the two (drawn); the other is healthy.
    Tunnel,
    /// Both tunnels and the path between the CGW and AWS.
    Connection,
}

/// One profile of the table.
#[derive(Clone, Copy, Debug)]
pub struct ProfileDef {
    /// Its name (in `--mix` files, the summary and each connection's scenario).
    pub name: &'static str,
    /// Tunnel or connection.
    pub scope: Scope,
    /// Its weight in the default mix (shares of connections; they sum to 100).
    pub weight: f64,
    /// The built-in scenario it varies (`ikesim run NAME` shows one instance).
    pub scenario: &'static str,
    /// What it is, in one line.
    pub about: &'static str,
    /// Its parameters.
    pub params: &'static [ParamDef],
    /// Sets its configuration and conditions on a connection being made.
    pub apply: fn(&mut Draft, &mut Draw<'_>),
}

/// The parameters of the healthy base every tunnel starts from.
pub const HEALTHY: &str = "healthy";

pub use table::PROFILES;

/// Looks a profile up by name.
pub fn by_name(name: &str) -> Option<&'static ProfileDef> {
    PROFILES.iter().find(|p| p.name == name)
}

/// One tunnel's configuration being made: `[tunnel.aws]` and `[tunnel.cgw]` keys with
/// their values as TOML text.
#[derive(Clone, Debug, Default)]
pub struct Keys(Vec<(&'static str, String)>);

impl Keys {
    /// Sets `key` (replacing an earlier value).
    pub fn set(&mut self, key: &'static str, value: String) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// Writes the keys as TOML lines.
    pub(crate) fn write(&self, out: &mut String) {
        for (k, v) in &self.0 {
            let _ = writeln!(out, "{k} = {v}");
        }
    }
}

/// A connection being made: what the profiles set, before it becomes scenario text.
#[derive(Clone, Debug)]
pub struct Draft {
    /// `traffic`: `steady` or `idle`.
    pub traffic: &'static str,
    /// Real ESP instead of the `steady` model: a ping a second from each side
    /// (`[[flow]]`s; the `idle` model stays idle).
    pub pings: bool,
    /// Each tunnel's `[tunnel.aws]` keys.
    pub aws: [Keys; 2],
    /// Each tunnel's `[tunnel.cgw]` keys.
    pub cgw: [Keys; 2],
    /// `[network]` condition keys (both directions).
    pub network: Vec<(&'static str, String)>,
    /// `[[network.blackhole]]` windows, from and to.
    pub blackholes: Vec<(Duration, Duration)>,
    /// `[network.nat]` keys other than the addresses, when the CGW is behind a NAT.
    pub nat: Option<Vec<(&'static str, String)>>,
    /// Each tunnel's own tables after its `[tunnel.cgw]` (AWS-side events such as
    /// `[[tunnel.maintenance]]`), as TOML text.
    pub tables: [Vec<String>; 2],
}

impl Draft {
    pub(crate) fn new() -> Draft {
        Draft {
            traffic: "steady",
            pings: false,
            aws: [Keys::default(), Keys::default()],
            cgw: [Keys::default(), Keys::default()],
            network: Vec::new(),
            blackholes: Vec::new(),
            nat: None,
            tables: [Vec::new(), Vec::new()],
        }
    }

    /// Tunnel `t`'s AWS options.
    pub fn aws(&mut self, t: usize) -> &mut Keys {
        &mut self.aws[t.min(1)]
    }

    /// Tunnel `t`'s CGW configuration.
    pub fn cgw(&mut self, t: usize) -> &mut Keys {
        &mut self.cgw[t.min(1)]
    }
}

/// Draws for one profile's application: its parameter ranges, the random stream, the
/// tunnel it applies to and the run's length.
pub struct Draw<'a> {
    /// The connection's random stream.
    pub rng: &'a mut ChaCha20Rng,
    /// The tunnel a tunnel profile applies to (0 or 1); 0 for a connection profile.
    pub tunnel: usize,
    /// The parameters' ranges, by name (the mix's, else the defaults).
    pub ranges: &'a [(&'static str, (f64, f64))],
    /// The fleet's `--duration`.
    pub run: Duration,
}

impl Draw<'_> {
    fn range(&self, name: &str) -> (f64, f64) {
        let found = self.ranges.iter().find(|(n, _)| *n == name);
        debug_assert!(
            found.is_some(),
            "`{name}` is not in the profile's parameters"
        );
        found.map_or((0.0, 0.0), |(_, r)| *r)
    }

    fn uniform(&mut self, name: &str) -> f64 {
        let (lo, hi) = self.range(name);
        if hi > lo {
            self.rng.gen_range(lo..=hi)
        } else {
            lo
        }
    }

    /// A duration parameter's draw: to the second from 10 s up (as people write them),
    /// to the millisecond below (latencies).
    pub fn duration(&mut self, name: &str) -> Duration {
        let s = self.uniform(name);
        if s >= 10.0 {
            Duration::from_secs(secs_to_ms(s) / 1000)
        } else {
            Duration::from_millis(secs_to_ms(s))
        }
    }

    /// A time in the run (a fraction parameter's draw times the run's length), to the
    /// second.
    pub fn time(&mut self, name: &str) -> Duration {
        let f = self.uniform(name);
        Duration::from_secs(secs_to_ms(self.run.as_secs_f64() * f) / 1000)
    }

    /// A probability parameter's draw.
    pub fn probability(&mut self, name: &str) -> f64 {
        self.uniform(name).clamp(0.0, 1.0)
    }

    /// A count parameter's draw.
    pub fn count(&mut self, name: &str) -> u64 {
        let (lo, hi) = self.range(name);
        let (lo, hi) = (to_u64(lo), to_u64(hi));
        if hi > lo {
            self.rng.gen_range(lo..=hi)
        } else {
            lo
        }
    }
}

fn to_u64(x: f64) -> u64 {
    // Ranges are checked to lie in their limits (non-negative, finite) when a mix is read.
    format!("{:.0}", x.max(0.0)).parse().unwrap_or(0)
}

fn secs_to_ms(s: f64) -> u64 {
    to_u64(s * 1000.0)
}

/// A TOML string.
pub(crate) fn quoted(s: &str) -> String {
    format!("\"{s}\"")
}

/// A duration as a TOML string in the scenario's spelling (`"1h30m"`, `"250ms"`).
pub(crate) fn duration(d: Duration) -> String {
    quoted(&sim::SimDuration(d).to_string())
}

/// A pre-shared key as AWS makes them: 32 letters and digits, not starting with 0.
pub(crate) fn psk(rng: &mut ChaCha20Rng) -> String {
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..32)
        .map(|i| {
            let n = if i == 0 {
                ALNUM.len() - 10
            } else {
                ALNUM.len()
            };
            char::from(ALNUM[rng.gen_range(0..n)])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sound() {
        let total: f64 = PROFILES.iter().map(|p| p.weight).sum();
        assert!((total - 100.0).abs() < 1e-9, "weights sum to {total}");
        for (i, p) in PROFILES.iter().enumerate() {
            assert!(
                PROFILES[..i].iter().all(|q| q.name != p.name),
                "{} twice",
                p.name
            );
            assert!(
                sim::builtin::get(p.scenario).is_some(),
                "{}: {}",
                p.name,
                p.scenario
            );
            for param in p.params {
                let (lo, hi) = param.default;
                assert!(
                    lo <= hi && lo >= param.limits.0 && hi <= param.limits.1,
                    "{}",
                    param.name
                );
            }
        }
    }
}

#[cfg(test)]
mod docs {
    use super::*;

    fn show(kind: Kind, x: f64) -> String {
        match kind {
            Kind::Duration => sim::SimDuration(Duration::from_millis(secs_to_ms(x))).to_string(),
            _ => format!("{x}"),
        }
    }

    /// docs/fleet.md's row for profile `p`.
    fn row(p: &ProfileDef) -> String {
        let params: Vec<String> = p
            .params
            .iter()
            .map(|d| {
                let (lo, hi) = d.default;
                if (hi - lo).abs() < f64::EPSILON {
                    format!("`{}` {}", d.name, show(d.kind, lo))
                } else {
                    format!("`{}` {}–{}", d.name, show(d.kind, lo), show(d.kind, hi))
                }
            })
            .collect();
        format!(
            "| `{}` | {} | {} | {} | `{}` | {} |",
            p.name,
            p.weight,
            match p.scope {
                Scope::Tunnel => "one tunnel",
                Scope::Connection => "connection",
            },
            p.about,
            p.scenario,
            if params.is_empty() {
                "—".to_owned()
            } else {
                params.join(", ")
            }
        )
    }

    #[test]
    fn docs_fleet_md_lists_the_default_mix() {
        let page = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/fleet.md"),
        )
        .expect("docs/fleet.md");
        let rows: Vec<String> = PROFILES.iter().map(row).collect();
        let missing: Vec<&String> = rows.iter().filter(|r| !page.contains(r.as_str())).collect();
        assert!(
            missing.is_empty(),
            "docs/fleet.md's mix table lacks these rows (or has them otherwise):\n{}",
            missing
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
