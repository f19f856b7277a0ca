//! One connection of a fleet, made from the fleet's seed and its index alone: its VPN id,
//! addresses, profile and configuration, written as scenario text.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sim::{Scenario, ScenarioError};

use crate::addresses::{self, CGW_LOOPBACK, NAT_LOOPBACK};
use crate::profile::{duration, psk, quoted, Draft, Draw, Scope};
use crate::FleetSpec;

/// The addresses a connection presents: in records and stream names (`outside_ip`), while
/// its hosts bind the same loopback addresses in every connection (`loopback_ip`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presented {
    /// Each tunnel's AWS outside IP.
    pub aws: [Ipv4Addr; 2],
    /// The CGW host's own address: public, or private behind a NAT.
    pub cgw: Ipv4Addr,
    /// The NAT's public address, when the CGW is behind one: what AWS sees as the CGW.
    pub nat: Option<Ipv4Addr>,
}

impl Presented {
    /// The address AWS sees the CGW at: the NAT's, else the CGW's.
    pub fn cgw_seen(&self) -> Ipv4Addr {
        self.nat.unwrap_or(self.cgw)
    }
}

/// One generated connection.
#[derive(Clone, Debug)]
pub struct Connection {
    /// Its index in the fleet, 0-based.
    pub index: usize,
    /// `vpn-` + 17 hex digits.
    pub vpn_connection_id: String,
    /// Its profile's name.
    pub profile: &'static str,
    /// The tunnel a tunnel profile applies to (0 or 1); `None` for a connection profile.
    pub tunnel: Option<usize>,
    /// Its addresses.
    pub presented: Presented,
    /// Its scenario file: `ikesim run` runs it alone, with the records it has in the fleet.
    pub text: String,
}

impl Connection {
    /// The name its scenario carries in errors and `list`-like output.
    pub fn name(&self) -> String {
        format!("fleet connection {}", self.index)
    }

    /// Its scenario, parsed.
    pub fn scenario(&self) -> Result<Scenario, ScenarioError> {
        Scenario::parse(&self.text, &self.name(), &self.name())
    }
}

/// The random stream of connection `index`: ChaCha20 keyed by the fleet's seed, one
/// stream per index, so that a connection is the same whatever the fleet's size, shard
/// or `--jobs` (that is what makes shards add up).
fn stream(seed: u64, index: usize) -> ChaCha20Rng {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    rng.set_stream(index as u64);
    rng
}

/// Makes connection `index` of the fleet `spec` (deterministic per seed and index).
pub fn connection(spec: &FleetSpec, index: usize) -> Connection {
    let mut rng = stream(spec.seed, index);
    let vpn_connection_id = format!("vpn-{:x}{:016x}", rng.gen_range(0..16u8), rng.gen::<u64>());
    let aws = addresses::aws_tunnel_pair(&mut rng);
    let public = addresses::cgw_public(&mut rng);
    let private = addresses::cgw_private(&mut rng);
    let seed = u64::from(rng.gen::<u32>()) + 1;
    let entry = spec.mix.pick(&mut rng);
    let drawn_tunnel = rng.gen_range(0..2usize);
    let mut draft = Draft::new();
    base(&mut draft, &spec.mix.base, &mut rng);
    let tunnel = (entry.profile.scope == Scope::Tunnel).then_some(drawn_tunnel);
    (entry.profile.apply)(
        &mut draft,
        &mut Draw {
            rng: &mut rng,
            tunnel: tunnel.unwrap_or(0),
            ranges: &entry.ranges,
            run: spec.duration,
        },
    );
    let presented = Presented {
        aws,
        cgw: if draft.nat.is_some() { private } else { public },
        nat: draft.nat.is_some().then_some(public),
    };
    let mut c = Connection {
        index,
        vpn_connection_id,
        profile: entry.profile.name,
        tunnel,
        presented,
        text: String::new(),
    };
    c.text = render(spec, &c, seed, &draft);
    c
}

fn pick<'a>(rng: &mut ChaCha20Rng, choices: &[(&'a str, f64)]) -> &'a str {
    let total: f64 = choices.iter().map(|c| c.1).sum();
    let mut x = rng.gen_range(0.0..total);
    for (c, w) in choices {
        if x < *w {
            return c;
        }
        x -= w;
    }
    choices[choices.len() - 1].0
}

fn param(ranges: &[(&'static str, (f64, f64))], name: &str) -> f64 {
    ranges
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(0.0, |(_, (lo, hi))| (lo + hi) / 2.0)
        .clamp(0.0, 1.0)
}

/// The healthy base every tunnel starts from: a customer gateway's realistic settings,
/// drawn once per connection (one device serves both tunnels). The DH group is most of a
/// tunnel's cost (DESIGN.md's measured costs): ECP-256 is cheap, ECP-384 and MODP groups
/// cost several times more, so the default shares keep them a minority, as is common on
/// modern gateways.
fn base(d: &mut Draft, ranges: &[(&'static str, (f64, f64))], rng: &mut ChaCha20Rng) {
    let v1 = rng.gen_bool(param(ranges, "ikev1"));
    let modp = rng.gen_bool(param(ranges, "modp"));
    let ecp384 = rng.gen_bool(param(ranges, "ecp384"));
    let dpd = rng.gen_bool(param(ranges, "cgw_dpd"));
    let (ike, esp) = match (v1, modp, ecp384) {
        (true, true, _) => ("aes128-sha1-modp1024", "aes128-sha1-modp1024"),
        (true, false, _) => ("aes128-sha256-ecp256", "aes128-sha256-ecp256"),
        (false, true, _) => ("aes256-sha256-modp2048", "aes256-sha256-modp2048"),
        (false, false, true) => ("aes256gcm16-prfsha384-ecp384", "aes256gcm16-ecp384"),
        (false, false, false) => pick_pair(rng),
    };
    let ike_lifetime = pick(rng, &[("8h", 0.6), ("4h", 0.25), ("24h", 0.15)]);
    let child_lifetime = pick(rng, &[("1h", 0.9), ("30m", 0.1)]);
    let action = pick(rng, &[("clear", 0.7), ("restart", 0.3)]);
    for t in 0..2 {
        let key = psk(rng);
        let a = d.aws(t);
        a.set("pre_shared_key", quoted(&key));
        a.set("dpd_timeout_action", quoted(action));
        let c = d.cgw(t);
        c.set("ike_version", if v1 { "1" } else { "2" }.into());
        c.set("ike_proposals", format!("[{}]", quoted(ike)));
        c.set("esp_proposals", format!("[{}]", quoted(esp)));
        c.set("ike_lifetime", quoted(ike_lifetime));
        c.set("child_lifetime", quoted(child_lifetime));
        if dpd {
            c.set("dpd_delay", quoted("10s"));
            c.set("dpd_action", quoted("restart"));
        }
    }
    // Drawn last, and only when asked for: fleets without it draw what they always drew.
    let pings = param(ranges, "pings");
    d.pings = pings > 0.0 && rng.gen_bool(pings);
}

/// A ping a second from each side, for the whole run: the data plane of `ikev2-ping`.
const PINGS: &str = "\n[[flow]]\nname = \"ping-from-onprem\"\nkind = \"icmp\"\nfrom = \"onprem\"\n\
                     rate = \"1/s\"\n\n[[flow]]\nname = \"ping-from-vpc\"\nkind = \"icmp\"\n\
                     from = \"vpc\"\nrate = \"1/s\"\n";

fn pick_pair(rng: &mut ChaCha20Rng) -> (&'static str, &'static str) {
    if rng.gen_bool(0.6) {
        ("aes256gcm16-prfsha256-ecp256", "aes256gcm16-ecp256")
    } else {
        ("aes128-sha256-ecp256", "aes128-sha256-ecp256")
    }
}

/// A host's address lines: the presented address and the loopback address it binds
/// (docs/scenario-format.md, "Addresses").
fn address_lines(out: &mut String, presented: Ipv4Addr, loopback: Ipv4Addr) {
    let _ = writeln!(out, "outside_ip = \"{presented}\"");
    let _ = writeln!(out, "loopback_ip = \"{loopback}\"");
}

fn render(spec: &FleetSpec, c: &Connection, seed: u64, d: &Draft) -> String {
    let mut out = String::new();
    let profile = match c.tunnel {
        Some(t) => format!("{} (tunnel {})", c.profile, t + 1),
        None => c.profile.to_owned(),
    };
    let _ = writeln!(
        out,
        "# Connection {} of `ikesim fleet --seed {}`: `ikesim run` runs it alone.",
        c.index, spec.seed
    );
    let _ = writeln!(
        out,
        "description = \"fleet connection {}: {profile}\"",
        c.index
    );
    let _ = writeln!(out, "seed = {seed}");
    let _ = writeln!(
        out,
        "start = \"{}\"",
        spec.start.format("%Y-%m-%dT%H:%M:%SZ")
    );
    let _ = writeln!(out, "duration = {}", duration(spec.duration));
    let flows = d.pings && d.traffic == "steady";
    if !flows {
        // The model, not packets: fleets run at volume (docs/fleet.md, "Real traffic").
        let _ = writeln!(out, "traffic = \"{}\"\ntraffic_flows = false", d.traffic);
    }
    let _ = writeln!(out, "\n[vpn_connection]\nid = \"{}\"", c.vpn_connection_id);
    out.push_str("\n[cgw]\n");
    address_lines(&mut out, c.presented.cgw, CGW_LOOPBACK);
    if !d.network.is_empty() || !d.blackholes.is_empty() || d.nat.is_some() {
        out.push_str("\n[network]\n");
        for (k, v) in &d.network {
            let _ = writeln!(out, "{k} = {v}");
        }
        for (from, to) in &d.blackholes {
            let _ = writeln!(
                out,
                "\n[[network.blackhole]]\nfrom = {}\nto = {}",
                duration(*from),
                duration(*to)
            );
        }
        if let (Some(nat), Some(ip)) = (&d.nat, c.presented.nat) {
            out.push_str("\n[network.nat]\n");
            address_lines(&mut out, ip, NAT_LOOPBACK);
            for (k, v) in nat {
                let _ = writeln!(out, "{k} = {v}");
            }
        }
    }
    for t in 0..2 {
        out.push_str("\n[[tunnel]]\n");
        address_lines(&mut out, c.presented.aws[t], addresses::tunnel_loopback(t));
        out.push_str("\n[tunnel.aws]\n");
        d.aws[t].write(&mut out);
        out.push_str("\n[tunnel.cgw]\n");
        d.cgw[t].write(&mut out);
        for table in &d.tables[t] {
            out.push('\n');
            out.push_str(table);
        }
    }
    if flows {
        out.push_str(PINGS);
    }
    out
}

/// The address AWS's records name as the CGW's.
pub fn cgw_in_records(c: &Connection) -> IpAddr {
    IpAddr::V4(c.presented.cgw_seen())
}
