//! Building a scenario's connection: its hosts on their sockets, the network between
//! them (egress conditions, the NAT), the data plane, the timed actions and the recorder.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ike_core::Endpoint;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::aws::options::{AwsPsk, StartupAction};
use crate::aws::{TunnelLog, TunnelView};
use crate::capture::PcapSink;
use crate::driver::{self, Host, Net};
use crate::network::{Egress, Nat};
use crate::scenario::{CgwStartup, Direction, Network, Scenario};
use crate::timeline::{Collector, HostSpec, Lanes};
use crate::traffic::{self, Action, Peer, Reboot, TunnelHosts};

use super::plane;
use super::{Recorder, RunError, RunOptions, Sockets};

/// A well-mixed 64-bit seed for host `index` (SplitMix64 step).
pub(super) fn host_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// What lies between the hosts: each host's egress with its direction's conditions and its
/// own random stream, and the NAT in front of the CGWs.
fn network(
    network: &Network,
    hosts: &[Host],
    tunnels: &[TunnelHosts],
    seed: u64,
    t0: Instant,
) -> std::io::Result<Net> {
    let egress = (0..hosts.len())
        .map(|i| {
            let direction = if tunnels.iter().any(|t| t.aws == i) {
                Direction::AwsToCgw
            } else {
                Direction::CgwToAws
            };
            let conditions = network.conditions(direction);
            (!conditions.is_clear()).then(|| Egress::new(conditions, t0, host_seed(seed, i as u64)))
        })
        .collect();
    let nat = match network.nat_config() {
        Some(config) => {
            let mut nat = Nat::bind(config, t0)?;
            for t in tunnels {
                for addr in hosts[t.cgw].addrs() {
                    nat.put_behind(addr);
                }
            }
            Some(Box::new(nat))
        }
        None => None,
    };
    Ok(Net {
        egress,
        nat,
        plane: None,
    })
}

/// A scenario's connection, built and ready to drive from `t0`: its hosts, what lies
/// between them, the scenario's timed actions and the recorder that turns the AWS
/// endpoints' events into records.
pub(crate) struct Connection {
    pub(crate) hosts: Vec<Host>,
    pub(crate) net: Net,
    pub(crate) schedule: Vec<(Instant, Action)>,
    pub(crate) recorder: Recorder,
    /// Each host's name, in host order (`aws-tunnel-1`, `cgw-tunnel-1`, …).
    pub(crate) names: Vec<String>,
    /// The seed the run uses (the option's, else the scenario's).
    pub(crate) seed: u64,
    /// Simulated time to run.
    pub(crate) duration: Duration,
}

/// Builds `scenario`'s hosts on `sockets` and everything they need to run from `t0`.
pub(crate) async fn build(
    scenario: &Scenario,
    options: &RunOptions,
    t0: Instant,
    mut sockets: Sockets<'_>,
) -> Result<Connection, RunError> {
    let seed = options.seed.unwrap_or(scenario.seed);
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let export = options.keys.is_some();
    let spec = scenario.data_plane();
    let data_plane = spec.is_some();
    // Exactly as many as there will be: an estate keeps thousands of connections.
    let mut hosts: Vec<Host> = Vec::with_capacity(2 * scenario.tunnel.len());
    let mut topology: Vec<TunnelHosts> = Vec::with_capacity(scenario.tunnel.len());
    let mut names = Vec::new();
    let mut tunnels = Vec::new();
    // (initiator host, responder host, a trap policy rather than a negotiation now)
    let mut starts: Vec<(usize, usize, bool)> = Vec::new();
    let mut actions: Vec<(Duration, Action)> = Vec::new();
    let mut reboots = Vec::new(); // (host, config, seed, modified configs)
    for (i, tunnel) in (1u8..).zip(&scenario.tunnel) {
        let psk = match &tunnel.aws.pre_shared_key {
            Some(p) => p.0.clone(),
            None => AwsPsk::generate(&mut rng).0,
        };
        // Each host binds its loopback address; records show the presented ones.
        let (aws_ip, cgw_ip) = (tunnel.bind_ip(i), scenario.cgw.bind_ip());
        let mut aws_config = tunnel.aws.endpoint_config(&psk, aws_ip);
        aws_config.export_secrets = export;
        aws_config.trace = options.timeline;
        aws_config.data_plane = data_plane;
        let mut cgw_config = tunnel.cgw.endpoint_config(&psk);
        cgw_config.export_secrets = export;
        cgw_config.trace = options.timeline;
        cgw_config.data_plane = data_plane;
        let ids = TunnelHosts {
            aws: hosts.len(),
            cgw: hosts.len() + 1,
        };
        let cgw_seed = host_seed(seed, ids.cgw as u64);
        let mut aws = sockets
            .host(aws_ip, |addr| {
                Endpoint::new(aws_config, addr, host_seed(seed, ids.aws as u64))
            })
            .await?;
        let mut cgw = sockets
            .host(cgw_ip, |addr| Endpoint::new(cgw_config, addr, cgw_seed))
            .await?;
        // Each knows where the other's NAT-T port is (a real host's is 4500).
        aws.set_peer_nat_t_port(cgw.nat_t_addr().port());
        cgw.set_peer_nat_t_port(aws.nat_t_addr().port());
        if tunnel.cgw.configured {
            match tunnel.cgw.startup_action {
                CgwStartup::Start => starts.push((ids.cgw, ids.aws, false)),
                CgwStartup::Trap => starts.push((ids.cgw, ids.aws, true)),
                CgwStartup::Add => {}
            }
        }
        if tunnel.aws.startup_action == StartupAction::Start {
            starts.push((ids.aws, ids.cgw, false));
        }
        actions.extend(traffic::tunnel_actions(scenario, tunnel, ids));
        if tunnel.cgw.reboot_at.is_some() {
            let mut config = tunnel.cgw.endpoint_config(&psk);
            config.trace = options.timeline;
            config.data_plane = data_plane;
            reboots.push((ids.cgw, config, cgw_seed ^ 0x5eed, Vec::new()));
        }
        if !tunnel.maintenance.is_empty() || !tunnel.modify_options.is_empty() {
            // AWS's endpoint replacements (scenario::events): the new endpoints, in order.
            let aws_config = |o: &crate::aws::options::TunnelOptions| {
                let psk = o
                    .pre_shared_key
                    .as_ref()
                    .map_or(psk.as_str(), |p| p.0.as_str());
                let mut config = o.endpoint_config(psk, tunnel.outside_ip.0);
                config.export_secrets = export;
                config.trace = options.timeline;
                config.data_plane = data_plane;
                config
            };
            let modified =
                crate::scenario::events::replacements(&tunnel.maintenance, &tunnel.modify_options)
                    .into_iter()
                    .filter_map(|r| r.options.map(aws_config))
                    .collect();
            let seed = host_seed(seed, ids.aws as u64) ^ 0x5eed;
            reboots.push((ids.aws, aws_config(&tunnel.aws), seed, modified));
        }
        hosts.push(aws);
        hosts.push(cgw);
        topology.push(ids);
        names.extend([format!("aws-tunnel-{i}"), format!("cgw-tunnel-{i}")]);
        tunnels.push(
            TunnelLog::new(
                &scenario.vpn_connection.id,
                tunnel.outside_ip.0,
                options.stream_separator,
            )
            .presenting(scenario.presentation()),
        );
    }

    let start = options.start.unwrap_or(scenario.start.0);
    // An ESP port per host before the NAT puts the CGW's addresses behind it.
    let setup = match &spec {
        Some(_) => plane::seats(scenario, &mut hosts, &topology, seed).await?,
        None => Vec::new(),
    };
    let mut net = network(&scenario.network, &hosts, &topology, seed, t0)?;
    if let Some(spec) = &spec {
        net.plane = Some(plane::build(spec, setup, t0, start, seed, export)?);
    }
    for (tunnel, ids) in scenario.tunnel.iter().zip(&topology) {
        // NAT keepalives from a CGW behind the NAT, to AWS's NAT-T port (RFC 3948 §4).
        let behind = net
            .nat
            .as_ref()
            .is_some_and(|n| n.is_behind(hosts[ids.cgw].addr()));
        if let Some(every) = tunnel.cgw.nat_keepalive.filter(|_| behind) {
            let to = hosts[ids.aws].nat_t_addr();
            hosts[ids.cgw].keepalive = Some(driver::Keepalive {
                every: every.0,
                to,
                next: t0 + every.0,
            });
        }
    }
    let flowing = traffic::flowing(scenario);
    traffic::start(&mut hosts, t0, flowing);
    let schedule = actions
        .into_iter()
        .map(|(at, action)| (t0 + at, action))
        .collect();
    let mut peers = std::collections::HashMap::new();
    for (from, to, trap) in starts {
        let mut remote: SocketAddr = hosts[to].addr();
        if let Some(nat) = net.nat.as_ref().filter(|n| n.is_behind(remote)) {
            // AWS knows the CGW by its public address: the NAT's, at a port the NAT maps
            // only if the CGW has sent from it (and does not preserve ports).
            remote = SocketAddr::new(nat.outside_ip(), remote.port());
        }
        let peer = if trap {
            hosts[from].endpoint.trap(remote);
            Peer::Trap(remote)
        } else {
            hosts[from].endpoint.initiate(t0, remote);
            Peer::Call(remote)
        };
        peers.insert(from, peer);
    }
    for (c, config, seed, modified) in reboots {
        // A rebooted CGW calls AWS again (or sets its trap again) if it did at the start
        // (a new AWS endpoint: if its startup action is `start`).
        let peer = peers.get(&c).copied();
        hosts[c].reboot = Some(Box::new(Reboot {
            config,
            seed,
            peer,
            traffic: flowing,
            options: modified,
        }));
    }
    let pcap = match options.pcap.as_deref() {
        Some(path) => Some(PcapSink::create(path).map_err(|source| RunError::Unusable {
            what: "--pcap",
            path: path.to_owned(),
            source,
        })?),
        None => None,
    };
    let timeline = options.timeline.then(|| {
        let specs: Vec<HostSpec> = topology
            .iter()
            .enumerate()
            .flat_map(|(tunnel, ids)| {
                [(ids.aws, true), (ids.cgw, false)].map(|(host, aws)| HostSpec {
                    host,
                    addrs: hosts[host].addrs().collect(),
                    tunnel,
                    aws,
                })
            })
            .collect();
        let nat = net.nat.as_ref().map(|n| (n.outside_ip(), n.inside_addr()));
        Box::new(Collector::new(
            t0,
            Lanes::new(&specs, nat).presenting(&scenario.presentation()),
        ))
    });
    let esp_ports = net
        .plane
        .as_ref()
        .map(|p| p.esp_ports().collect())
        .unwrap_or_default();
    let recorder = Recorder {
        esp_ports,
        start,
        t0,
        hosts: topology,
        views: tunnels.iter().map(|_| TunnelView::new()).collect(),
        tunnels,
        records: Vec::new(),
        pcap,
        pcap_error: None,
        timeline,
    };
    Ok(Connection {
        hosts,
        net,
        schedule,
        recorder,
        names,
        seed,
        duration: options.duration.unwrap_or(scenario.duration.0),
    })
}
