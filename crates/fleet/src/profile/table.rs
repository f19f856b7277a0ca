//! The profile table: every profile's name, scope, weight, scenario, parameters and what
//! it sets (docs/fleet.md lists it, and a test keeps the two equal).

use rand::Rng;

use super::{duration, psk, quoted, Kind, ParamDef, ProfileDef, Scope, HEALTHY};

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
            ParamDef {
                name: "pings",
                kind: Kind::Probability,
                default: (0.0, 0.0),
                limits: (0.0, 1.0),
                about: "share of connections carrying real ESP (a ping a second each way) instead of the steady-traffic model; their counters are in the summary's data plane",
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
