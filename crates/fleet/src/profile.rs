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

const MIN: f64 = 60.0;
const HOUR: f64 = 3600.0;

const P_AT: ParamDef = ParamDef {
    name: "at",
    kind: Kind::Fraction,
    default: (0.05, 0.95),
    limits: (0.0, 1.0),
    about: "when it happens, as a fraction of --duration",
};

const P_DOWNTIME: ParamDef = ParamDef {
    name: "downtime",
    kind: Kind::Duration,
    default: (30.0, 5.0 * MIN),
    limits: (0.0, 24.0 * HOUR),
    about: "how long nothing answers on AWS's side",
};

/// Every profile (module documentation).
pub const PROFILES: &[ProfileDef] = &[
    ProfileDef {
        name: HEALTHY,
        scope: Scope::Connection,
        weight: 76.0,
        scenario: "ikev2-happy",
        about: "both tunnels up all along: steady traffic, rekeys, realistic proposals and lifetimes",
        params: &[
            ParamDef {
                name: "ikev1",
                kind: Kind::Probability,
                default: (0.08, 0.08),
                limits: (0.0, 1.0),
                about: "share of CGWs speaking IKEv1 (also the base of every other profile)",
            },
            ParamDef {
                name: "modp",
                kind: Kind::Probability,
                default: (0.03, 0.03),
                limits: (0.0, 1.0),
                about: "share of tunnels on a MODP group (2048-bit, or 1024 for IKEv1): several times the cost of ECP-256",
            },
            ParamDef {
                name: "ecp384",
                kind: Kind::Probability,
                default: (0.05, 0.05),
                limits: (0.0, 1.0),
                about: "share of tunnels on ECP-384 (the rest use ECP-256)",
            },
            ParamDef {
                name: "cgw_dpd",
                kind: Kind::Probability,
                default: (0.4, 0.4),
                limits: (0.0, 1.0),
                about: "share of CGWs running their own DPD (10 s delay, restart)",
            },
        ],
        apply: |_, _| {},
    },
    ProfileDef {
        name: "psk-mismatch",
        scope: Scope::Tunnel,
        weight: 2.0,
        scenario: "ikev2-psk-mismatch",
        about: "the CGW's pre-shared key is not the tunnel's",
        params: &[],
        apply: |d, w| {
            let psk = psk(w.rng);
            d.cgw(w.tunnel).set("pre_shared_key", quoted(&psk));
        },
    },
    ProfileDef {
        name: "proposal-mismatch",
        scope: Scope::Tunnel,
        weight: 1.5,
        scenario: "ikev2-proposal-mismatch",
        about: "no phase 1 proposal in common: AWS's tunnel options narrowed, or the CGW offers what AWS refuses (3DES, MODP-1024 with SHA1 only)",
        params: &[],
        apply: |d, w| {
            if w.rng.gen_bool(0.5) {
                let t = d.aws(w.tunnel);
                t.set("phase1_encryption_algorithms", r#"["AES256-GCM-16"]"#.into());
                t.set("phase1_integrity_algorithms", r#"["SHA2-384"]"#.into());
                t.set("phase1_dh_group_numbers", "[20]".into());
                let c = d.cgw(w.tunnel);
                c.set("ike_proposals", r#"["aes128-sha256-ecp256"]"#.into());
            } else {
                let c = d.cgw(w.tunnel);
                c.set("ike_proposals", r#"["3des-sha1-modp1024"]"#.into());
                c.set("esp_proposals", r#"["3des-sha1"]"#.into());
            }
        },
    },
    ProfileDef {
        name: "phase2-proposal-mismatch",
        scope: Scope::Tunnel,
        weight: 1.0,
        scenario: "ikev2-phase2-proposal-unsupported",
        about: "phase 1 comes up, the CGW's ESP proposals match nothing AWS allows",
        params: &[],
        apply: |d, w| {
            d.cgw(w.tunnel)
                .set("esp_proposals", r#"["3des-sha1"]"#.into());
        },
    },
    ProfileDef {
        name: "ts-unacceptable",
        scope: Scope::Tunnel,
        weight: 1.0,
        scenario: "ikev2-ts-unacceptable",
        about: "the CGW's encryption domain is not the tunnel's (AWS's local/remote CIDRs)",
        params: &[],
        apply: |d, w| {
            let a = d.aws(w.tunnel);
            a.set("local_ipv4_network_cidr", quoted("192.168.0.0/16"));
            a.set("remote_ipv4_network_cidr", quoted("10.0.0.0/16"));
            let c = d.cgw(w.tunnel);
            c.set("local_ts", r#"["172.16.0.0/12"]"#.into());
            c.set("remote_ts", r#"["10.0.0.0/16"]"#.into());
        },
    },
    ProfileDef {
        name: "half-open",
        scope: Scope::Tunnel,
        weight: 0.5,
        scenario: "ikev2-half-open",
        about: "the CGW stops after IKE_SA_INIT (IKEv1: main mode 4): AWS drops the half-open SA",
        params: &[],
        apply: |d, w| {
            d.cgw(w.tunnel)
                .set("abandon_after_ike_sa_init", "true".into());
        },
    },
    ProfileDef {
        name: "pfs-mismatch-at-rekey",
        scope: Scope::Tunnel,
        weight: 1.0,
        scenario: "ikev2-pfs-mismatch-at-rekey",
        about: "the CGW's PFS group is not in the tunnel's phase 2 groups: up for a lifetime, then refused at the first rekey",
        params: &[],
        apply: |d, w| {
            d.aws(w.tunnel)
                .set("phase2_dh_group_numbers", "[14]".into());
            let c = d.cgw(w.tunnel);
            c.set("ike_version", "2".into());
            c.set("ike_proposals", r#"["aes256gcm16-prfsha256-ecp256"]"#.into());
            c.set("esp_proposals", r#"["aes256gcm16-ecp256"]"#.into());
        },
    },
    ProfileDef {
        name: "idle-expiry",
        scope: Scope::Tunnel,
        weight: 1.0,
        scenario: "ikev2-idle-tunnel-expires",
        about: "a CGW that never rekeys lets its SAs expire",
        params: &[ParamDef {
            name: "child_lifetime",
            kind: Kind::Duration,
            default: (30.0 * MIN, HOUR),
            limits: (5.0 * MIN, 8.0 * HOUR),
            about: "the CGW's CHILD SA lifetime (its IKE SA lives twice as long)",
        }],
        apply: |d, w| {
            let child = w.duration("child_lifetime");
            let c = d.cgw(w.tunnel);
            c.set("rekey", "false".into());
            c.set("child_lifetime", duration(child));
            c.set("ike_lifetime", duration(child * 2));
            c.set("rekey_margin", quoted("1m"));
        },
    },
    ProfileDef {
        name: "cgw-terminate",
        scope: Scope::Tunnel,
        weight: 0.5,
        scenario: "ikev2-cgw-terminate",
        about: "an administrator deletes the CGW's IKE SA (swanctl --terminate)",
        params: &[P_AT],
        apply: |d, w| {
            let at = w.time("at");
            d.cgw(w.tunnel).set("terminate_at", duration(at));
        },
    },
    ProfileDef {
        name: "cgw-crash",
        scope: Scope::Connection,
        weight: 2.0,
        scenario: "ikev2-dpd-clear",
        about: "the CGW dies for good: AWS's DPD times out on both tunnels (action clear, restart or none)",
        params: &[P_AT],
        apply: |d, w| {
            let at = w.time("at");
            let action = ["clear", "restart", "none"][w.rng.gen_range(0..3)];
            for t in 0..2 {
                d.cgw(t).set("crash_at", duration(at));
                d.aws(t).set("dpd_timeout_action", quoted(action));
            }
        },
    },
    ProfileDef {
        name: "cgw-reboot",
        scope: Scope::Connection,
        weight: 2.0,
        scenario: "ikev2-cgw-reboot",
        about: "the CGW reboots: both tunnels lose their SAs and come back with INITIAL_CONTACT",
        params: &[
            P_AT,
            ParamDef {
                name: "downtime",
                kind: Kind::Duration,
                default: (5.0, 3.0 * MIN),
                limits: (0.0, 24.0 * HOUR),
                about: "how long the CGW is down",
            },
        ],
        apply: |d, w| {
            let at = w.time("at");
            let down = w.duration("downtime");
            for t in 0..2 {
                d.cgw(t).set("reboot_at", duration(at));
                d.cgw(t).set("reboot_downtime", duration(down));
            }
        },
    },
    ProfileDef {
        name: "nat",
        scope: Scope::Connection,
        weight: 2.0,
        scenario: "ikev2-nat",
        about: "the CGW sits behind a NAT (AWS detects it and probes every 10 s); the NAT may rebind",
        params: &[
            ParamDef {
                name: "mapping_timeout",
                kind: Kind::Duration,
                default: (30.0, 5.0 * MIN),
                limits: (1.0, 24.0 * HOUR),
                about: "the NAT's UDP mapping timeout",
            },
            ParamDef {
                name: "rebind",
                kind: Kind::Probability,
                default: (0.3, 0.3),
                limits: (0.0, 1.0),
                about: "chance that the NAT drops its mappings once during the run",
            },
            P_AT,
        ],
        apply: |d, w| {
            let timeout = w.duration("mapping_timeout");
            let rebind = w.probability("rebind");
            let at = w.time("at");
            let mut nat = vec![("mapping_timeout", duration(timeout))];
            if w.rng.gen_bool(rebind) {
                nat.push(("rebind_at", format!("[{}]", duration(at))));
            }
            d.nat = Some(nat);
            for t in 0..2 {
                d.cgw(t).set("dpd_delay", quoted("10s"));
                d.cgw(t).set("dpd_action", quoted("restart"));
            }
        },
    },
    ProfileDef {
        name: "lossy-path",
        scope: Scope::Connection,
        weight: 2.5,
        scenario: "ikev2-lossy-path",
        about: "a lossy, jittery path: retransmissions, sometimes a DPD timeout",
        params: &[
            ParamDef {
                name: "loss",
                kind: Kind::Probability,
                default: (0.01, 0.2),
                limits: (0.0, 1.0),
                about: "probability that a datagram is lost",
            },
            ParamDef {
                name: "latency",
                kind: Kind::Duration,
                default: (0.005, 0.15),
                limits: (0.0, 10.0),
                about: "one-way delay",
            },
        ],
        apply: |d, w| {
            let loss = w.probability("loss");
            let latency = w.duration("latency");
            d.network.push(("loss", format!("{loss:.3}")));
            d.network.push(("latency", duration(latency)));
            d.network.push(("jitter", duration(latency / 3)));
        },
    },
    ProfileDef {
        name: "flapping-link",
        scope: Scope::Connection,
        weight: 2.0,
        scenario: "ikev2-internet-weather",
        about: "the path goes down and comes back: outages shorter or longer than the DPD timeout",
        params: &[
            P_AT,
            ParamDef {
                name: "outages",
                kind: Kind::Count,
                default: (1.0, 4.0),
                limits: (0.0, 1000.0),
                about: "how many outages during the run",
            },
            ParamDef {
                name: "outage",
                kind: Kind::Duration,
                default: (10.0, 5.0 * MIN),
                limits: (0.0, 24.0 * HOUR),
                about: "how long each outage lasts",
            },
        ],
        apply: |d, w| {
            let n = w.count("outages");
            let action = ["clear", "restart"][w.rng.gen_range(0..2)];
            for t in 0..2 {
                d.aws(t).set("dpd_timeout_action", quoted(action));
            }
            let mut holes = Vec::new();
            for _ in 0..n {
                let from = w.time("at");
                let len = w.duration("outage");
                holes.push((from, from + len));
            }
            holes.sort();
            d.blackholes = holes;
        },
    },
    ProfileDef {
        name: "idle-traffic",
        scope: Scope::Connection,
        weight: 1.0,
        scenario: "ikev2-idle-tunnel-expires",
        about: "healthy but silent tunnels: AWS's DPD probes every 10 s",
        params: &[],
        apply: |d, _| d.traffic = "idle",
    },
    ProfileDef {
        name: "endpoint-replacement",
        scope: Scope::Tunnel,
        weight: 1.0,
        scenario: "ikev2-endpoint-replacement",
        about: "AWS replaces the tunnel's endpoint (maintenance): down until the CGW's DPD or its next rekey notices",
        params: &[P_AT, P_DOWNTIME],
        apply: |d, w| {
            let at = w.time("at");
            let down = w.duration("downtime");
            d.tables[w.tunnel.min(1)].push(format!(
                "[[tunnel.maintenance]]\nat = {}\ndowntime = {}\n",
                duration(at),
                duration(down)
            ));
        },
    },
    ProfileDef {
        name: "options-modified",
        scope: Scope::Tunnel,
        weight: 0.5,
        scenario: "ikev2-modify-options-mismatch",
        about: "ModifyVpnTunnelOptions restarts the tunnel; half the time the new options drop the CGW's DH group",
        params: &[P_AT, P_DOWNTIME],
        apply: |d, w| {
            let at = w.time("at");
            let down = w.duration("downtime");
            let t = w.tunnel.min(1);
            let mut table = format!(
                "[[tunnel.modify_options]]\nat = {}\ndowntime = {}\n[tunnel.modify_options.aws]\n",
                duration(at),
                duration(down)
            );
            if w.rng.gen_bool(0.5) {
                // The CGW offers MODP-2048 only; the new options allow the ECP groups.
                let c = d.cgw(t);
                c.set("ike_proposals", r#"["aes256-sha256-modp2048"]"#.into());
                c.set("esp_proposals", r#"["aes256-sha256-modp2048"]"#.into());
                table.push_str("phase1_dh_group_numbers = [19, 20, 21]\n");
            } else {
                table.push_str("dpd_timeout_seconds = 40\n");
            }
            let c = d.cgw(t);
            c.set("dpd_delay", quoted("10s"));
            c.set("dpd_action", quoted("restart"));
            d.tables[t].push(table);
        },
    },
    ProfileDef {
        name: "policy-based",
        scope: Scope::Tunnel,
        weight: 1.0,
        scenario: "ikev2-policy-based-two-subnets",
        about: "a policy-based CGW with several subnet pairs against AWS's one SA pair per tunnel: the CHILD SAs replace each other",
        params: &[
            ParamDef {
                name: "pairs",
                kind: Kind::Count,
                default: (2.0, 4.0),
                limits: (2.0, 16.0),
                about: "subnet pairs (CHILD SAs) the CGW wants",
            },
            ParamDef {
                name: "trap_delay",
                kind: Kind::Duration,
                default: (MIN, 30.0 * MIN),
                limits: (1.0, 24.0 * HOUR),
                about: "how soon the CGW's trap policy brings a deleted pair back",
            },
        ],
        apply: |d, w| {
            let pairs = w.count("pairs");
            let delay = w.duration("trap_delay");
            let local: Vec<String> = (1..=pairs).map(|i| format!("\"10.{i}.0.0/16\"")).collect();
            let c = d.cgw(w.tunnel);
            c.set("policy_based", "true".into());
            c.set("local_ts", format!("[{}]", local.join(", ")));
            c.set("remote_ts", r#"["172.31.0.0/16"]"#.into());
            c.set("close_action", quoted("trap"));
            c.set("trap_delay", duration(delay));
        },
    },
    ProfileDef {
        name: "nat-mapping-expiry",
        scope: Scope::Connection,
        weight: 0.5,
        scenario: "ikev2-nat-mapping-expiry",
        about: "a NAT whose UDP mappings expire faster than AWS probes an idle tunnel, and no keepalives: DPD lands on a dead mapping",
        params: &[ParamDef {
            name: "mapping_timeout",
            kind: Kind::Duration,
            default: (3.0, 9.0),
            limits: (1.0, 24.0 * HOUR),
            about: "the NAT's UDP mapping timeout (AWS probes every 10 s)",
        }],
        apply: |d, w| {
            let timeout = w.duration("mapping_timeout");
            d.nat = Some(vec![("mapping_timeout", duration(timeout))]);
            d.traffic = "idle";
        },
    },
    ProfileDef {
        name: "one-tunnel-configured",
        scope: Scope::Tunnel,
        weight: 1.0,
        scenario: "ikev2-one-tunnel-configured",
        about: "the CGW has no connection for one tunnel: its stream is empty, or AWS's own attempts when it starts the tunnel",
        params: &[],
        apply: |d, w| {
            let t = w.tunnel.min(1);
            d.cgw(t).set("configured", "false".into());
            let reply = ["no_proposal_chosen", "silence"][w.rng.gen_range(0..2)];
            d.cgw(t).set("unconfigured_reply", quoted(reply));
            if w.rng.gen_bool(0.5) {
                d.aws(t).set("startup_action", quoted("start"));
            }
        },
    },
];

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
