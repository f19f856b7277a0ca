//! Scenario → simulated hosts → driver → AWS log records.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ike_core::{Endpoint, EndpointConfig, Event, Transmit};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use vpn_log::TunnelRecord;

use crate::aws::options::{AwsPsk, StartupAction};
use crate::aws::TunnelLog;
use crate::capture::{wireshark_key_line, PcapSink};
use crate::driver::{self, Action, Clock, Host, Net, Observer};
use crate::network::{Egress, Nat};
use crate::scenario::{CgwStartup, Direction, Network, Scenario, Traffic, Tunnel};

/// How to run a scenario (command-line overrides and outputs).
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub seed: Option<u64>,
    pub duration: Option<Duration>,
    pub clock: Clock,
    /// Write every datagram to this pcap file.
    pub pcap: Option<PathBuf>,
    /// Write the IKE SA keys as Wireshark's `ikev2_decryption_table` and
    /// `ikev1_decryption_table` into this directory.
    pub keys: Option<PathBuf>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            seed: None,
            duration: None,
            clock: Clock::Accelerated,
            pcap: None,
            keys: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
}

/// What a run produced.
pub struct RunOutput {
    /// One log per AWS tunnel.
    pub tunnels: Vec<TunnelLog>,
    /// Every record in the order written, with the index of its tunnel.
    pub records: Vec<(usize, TunnelRecord)>,
    /// The endpoints' counters (AWS tunnel 1, CGW for tunnel 1, …).
    pub stats: Vec<(String, ike_core::Stats)>,
}

/// A well-mixed 64-bit seed for host `index` (SplitMix64 step).
fn host_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn cgw_config(tunnel: &Tunnel, aws_psk: &str) -> EndpointConfig {
    tunnel.cgw.endpoint_config(aws_psk)
}

/// What lies between the hosts (AWS hosts at even indices, their CGWs after them): each
/// host's egress with its direction's conditions and its own random stream, and the NAT in
/// front of the CGW.
fn network(network: &Network, hosts: &[Host], seed: u64, t0: Instant) -> std::io::Result<Net> {
    let egress = (0..hosts.len())
        .map(|i| {
            let direction = if i % 2 == 0 {
                Direction::AwsToCgw
            } else {
                Direction::CgwToAws
            };
            Egress::new(network.conditions(direction), t0, host_seed(seed, i as u64))
        })
        .collect();
    let nat = match network.nat_config() {
        Some(config) => {
            let mut nat = Nat::bind(config, t0)?;
            for cgw in hosts.iter().skip(1).step_by(2) {
                for addr in cgw.addrs() {
                    nat.put_behind(addr);
                }
            }
            Some(nat)
        }
        None => None,
    };
    Ok(Net { egress, nat })
}

/// The data-plane model meets the blackholes (on a steady tunnel): AWS hears the CGW's
/// traffic while the CGW is up and the CGW→AWS direction is not blackholed; the CGW hears
/// AWS's while AWS→CGW is not. `cgw_down` are the windows in which the CGW is dead (`None`:
/// for good). At every instant where one of these changes, the state is restated — after the
/// crash and boot actions of the same instant, so it has the last word.
fn blackhole_actions(
    network: &Network,
    cgw_down: &[(Duration, Option<Duration>)],
    aws: usize,
    cgw: usize,
) -> Vec<(Duration, Action)> {
    let inside = |windows: &[(Duration, Duration)], t: Duration| {
        windows.iter().any(|&(from, to)| from <= t && t < to)
    };
    let mut actions = Vec::new();
    let upstream = network.blackholes(Direction::CgwToAws);
    if !upstream.is_empty() {
        let dead = |t: Duration| {
            cgw_down
                .iter()
                .any(|&(from, to)| from <= t && to.is_none_or(|to| t < to))
        };
        let mut changes: Vec<Duration> =
            upstream.iter().flat_map(|&(from, to)| [from, to]).collect();
        changes.extend(
            cgw_down
                .iter()
                .flat_map(|&(from, to)| [Some(from), to])
                .flatten(),
        );
        changes.sort();
        changes.dedup();
        for t in changes {
            actions.push((
                t,
                Action::Traffic {
                    host: aws,
                    flowing: !inside(&upstream, t) && !dead(t),
                },
            ));
        }
    }
    let downstream = network.blackholes(Direction::AwsToCgw);
    if !downstream.is_empty() {
        // A CGW that boots inside a blackhole hears nothing either.
        let mut changes: Vec<Duration> = downstream
            .iter()
            .flat_map(|&(from, to)| [from, to])
            .collect();
        changes.extend(cgw_down.iter().filter_map(|&(_, to)| to));
        changes.sort();
        changes.dedup();
        for t in changes {
            actions.push((
                t,
                Action::Traffic {
                    host: cgw,
                    flowing: !inside(&downstream, t),
                },
            ));
        }
    }
    actions
}

struct Recorder {
    start: DateTime<Utc>,
    t0: Instant,
    /// Host index → tunnel index, for AWS hosts.
    aws_hosts: Vec<Option<usize>>,
    tunnels: Vec<TunnelLog>,
    records: Vec<(usize, TunnelRecord)>,
    pcap: Option<PcapSink>,
    pcap_error: Option<std::io::Error>,
}

impl Recorder {
    fn time(&self, now: Instant) -> DateTime<Utc> {
        let since = chrono::Duration::from_std(now.saturating_duration_since(self.t0))
            .unwrap_or(chrono::Duration::MAX);
        self.start + since
    }
}

impl Observer for Recorder {
    fn event(&mut self, host: usize, now: Instant, event: Event) {
        let Some(tunnel) = self.aws_hosts.get(host).copied().flatten() else {
            tracing::debug!(host, ?event.kind, "CGW event");
            return;
        };
        tracing::debug!(tunnel, ?event.kind, "AWS event");
        let time = self.time(now);
        let log = &mut self.tunnels[tunnel];
        let before = log.records.len();
        log.record(time, &event);
        for r in &log.records[before..] {
            self.records.push((tunnel, r.clone()));
        }
    }

    fn datagram(&mut self, now: Instant, t: &Transmit) {
        let since_epoch = self
            .time(now)
            .signed_duration_since(DateTime::<Utc>::UNIX_EPOCH)
            .to_std()
            .unwrap_or_default();
        if let Some(pcap) = &mut self.pcap {
            if let Err(e) = pcap.write(since_epoch, t.src, t.dst, &t.payload) {
                self.pcap_error.get_or_insert(e);
            }
        }
    }
}

/// Runs a scenario to the end and returns its records.
pub fn run(scenario: &Scenario, options: &RunOptions) -> Result<RunOutput, RunError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(scenario, options))
}

async fn run_async(scenario: &Scenario, options: &RunOptions) -> Result<RunOutput, RunError> {
    let seed = options.seed.unwrap_or(scenario.seed);
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let export = options.keys.is_some();
    let mut hosts: Vec<Host> = Vec::new();
    let mut aws_hosts = Vec::new();
    let mut names = Vec::new();
    let mut tunnels = Vec::new();
    let mut starts: Vec<(usize, usize)> = Vec::new(); // (initiator host, responder host)
    let mut actions: Vec<(Duration, Action)> = Vec::new();
    let mut reboots = Vec::new(); // (CGW host, config, seed)
    for (i, tunnel) in scenario.tunnel.iter().enumerate() {
        let psk = match &tunnel.aws.pre_shared_key {
            Some(p) => p.0.clone(),
            None => AwsPsk::generate(&mut rng).0,
        };
        let mut aws_config = tunnel.aws.endpoint_config(&psk, tunnel.outside_ip.0);
        aws_config.export_secrets = export;
        let mut cgw = cgw_config(tunnel, &psk);
        cgw.export_secrets = export;
        let base = hosts.len() as u64;
        let aws = Host::bind(tunnel.outside_ip.0, |addr| {
            Endpoint::new(aws_config, addr, host_seed(seed, base))
        })
        .await?;
        let mut cgw = Host::bind(scenario.cgw.outside_ip.0, |addr| {
            Endpoint::new(cgw, addr, host_seed(seed, base + 1))
        })
        .await?;
        // Each knows where the other's NAT-T port is (a real host's is 4500).
        let mut aws = aws;
        aws.set_peer_nat_t_port(cgw.nat_t_addr().port());
        cgw.set_peer_nat_t_port(aws.nat_t_addr().port());
        let (a, c) = (hosts.len(), hosts.len() + 1);
        if tunnel.cgw.startup_action == CgwStartup::Start {
            starts.push((c, a));
        }
        if tunnel.aws.startup_action == StartupAction::Start {
            starts.push((a, c));
        }
        if let Some(at) = tunnel.cgw.crash_at {
            actions.push((at.0, Action::Crash { host: c }));
            actions.push((
                at.0,
                Action::Traffic {
                    host: a,
                    flowing: false,
                },
            ));
        }
        if let Some(at) = tunnel.cgw.reboot_at {
            let back = at.0 + tunnel.cgw.reboot_downtime.0;
            actions.push((at.0, Action::Crash { host: c }));
            actions.push((
                at.0,
                Action::Traffic {
                    host: a,
                    flowing: false,
                },
            ));
            actions.push((back, Action::Boot { host: c }));
            if scenario.traffic == Traffic::Steady {
                actions.push((
                    back,
                    Action::Traffic {
                        host: a,
                        flowing: true,
                    },
                ));
            }
            reboots.push((
                c,
                cgw_config(tunnel, &psk),
                host_seed(seed, base + 1) ^ 0x5eed,
            ));
        }
        if let Some(at) = tunnel.cgw.terminate_at {
            actions.push((at.0, Action::Terminate { host: c }));
        }
        if scenario.traffic == Traffic::Steady {
            let crash = tunnel.cgw.crash_at.map(|at| (at.0, None));
            let reboot = tunnel
                .cgw
                .reboot_at
                .map(|at| (at.0, Some(at.0 + tunnel.cgw.reboot_downtime.0)));
            let cgw_down: Vec<_> = crash.into_iter().chain(reboot).collect();
            actions.extend(blackhole_actions(&scenario.network, &cgw_down, a, c));
        }
        hosts.push(aws);
        hosts.push(cgw);
        aws_hosts.extend([Some(i), None]);
        names.extend([
            format!("aws-tunnel-{}", i + 1),
            format!("cgw-tunnel-{}", i + 1),
        ]);
        tunnels.push(TunnelLog::new(
            &scenario.vpn_connection.id,
            tunnel.outside_ip.0,
        ));
    }

    let t0 = Instant::now();
    let mut net = network(&scenario.network, &hosts, seed, t0)?;
    for h in hosts.iter_mut() {
        h.endpoint
            .set_peer_traffic(t0, scenario.traffic == Traffic::Steady);
    }
    let schedule = actions
        .into_iter()
        .map(|(at, action)| (t0 + at, action))
        .collect();
    let mut peers = std::collections::HashMap::new();
    for (from, to) in starts {
        let mut remote: SocketAddr = hosts[to].addr();
        if let Some(nat) = net.nat.as_ref().filter(|n| n.is_behind(remote)) {
            // AWS knows the CGW by its public address: the NAT's, at a port the NAT maps
            // only if the CGW has sent from it (and does not preserve ports).
            remote = SocketAddr::new(nat.outside_ip(), remote.port());
        }
        hosts[from].endpoint.initiate(t0, remote);
        peers.insert(from, remote);
    }
    for (c, config, seed) in reboots {
        // A rebooted CGW calls AWS again if it called at the start.
        let peer = peers.get(&c).copied();
        let traffic = scenario.traffic == Traffic::Steady;
        hosts[c].reboot = Some(driver::Reboot {
            config,
            seed,
            peer,
            traffic,
        });
    }
    let pcap = options.pcap.as_deref().map(PcapSink::create).transpose()?;
    let mut recorder = Recorder {
        start: scenario.start.0,
        t0,
        aws_hosts,
        tunnels,
        records: Vec::new(),
        pcap,
        pcap_error: None,
    };
    let duration = options.duration.unwrap_or(scenario.duration.0);
    driver::run(
        &mut hosts,
        &mut net,
        options.clock,
        t0,
        duration,
        schedule,
        &mut recorder,
    )
    .await?;

    if let Some(e) = recorder.pcap_error.take() {
        return Err(e.into());
    }
    if let Some(p) = recorder.pcap.take() {
        p.finish()?;
    }
    if let Some(dir) = &options.keys {
        // Wireshark's own file names: point --keys at a Wireshark profile directory.
        let mut seen = HashSet::new();
        let (mut v2, mut v1) = (String::new(), String::new());
        for h in hosts.iter_mut() {
            while let Some(s) = h.endpoint.poll_secrets() {
                let Some(line) = wireshark_key_line(&s).filter(|_| seen.insert((s.spi_i, s.spi_r)))
                else {
                    continue;
                };
                let table = if s.ike_version == ike_core::IkeVersion::V1 {
                    &mut v1
                } else {
                    &mut v2
                };
                table.push_str(&line);
                table.push('\n');
            }
        }
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("ikev2_decryption_table"), v2)?;
        std::fs::write(dir.join("ikev1_decryption_table"), v1)?;
    }
    let stats = names
        .into_iter()
        .zip(hosts.iter().map(|h| h.endpoint.stats()))
        .collect();
    Ok(RunOutput {
        tunnels: recorder.tunnels,
        records: recorder.records,
        stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(blackholes: &str) -> Network {
        let text = format!(
            "description = \"t\"\n{blackholes}\n[vpn_connection]\nid = \"vpn-0123456789abcdef0\"\n\
             [cgw]\noutside_ip = \"127.0.2.1\"\n[[tunnel]]\noutside_ip = \"127.0.1.1\"\n"
        );
        Scenario::parse(&text, "t.toml", "t")
            .expect("scenario")
            .network
    }

    fn m(minutes: u64, seconds: u64) -> Duration {
        Duration::from_secs(minutes * 60 + seconds)
    }

    fn traffic(actions: &[(Duration, Action)], host: usize) -> Vec<(Duration, bool)> {
        actions
            .iter()
            .filter_map(|(t, a)| match a {
                Action::Traffic { host: h, flowing } if *h == host => Some((*t, *flowing)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_blackhole_stops_the_traffic_each_side_hears_while_it_lasts() {
        let both = network("[[network.blackhole]]\nfrom = \"10m\"\nto = \"12m\"\n");
        let actions = blackhole_actions(&both, &[], 0, 1);
        assert_eq!(
            traffic(&actions, 0),
            vec![(m(10, 0), false), (m(12, 0), true)]
        );
        assert_eq!(
            traffic(&actions, 1),
            vec![(m(10, 0), false), (m(12, 0), true)]
        );

        let up = network(
            "[[network.blackhole]]\nfrom = \"10m\"\nto = \"12m\"\ndirection = \"cgw_to_aws\"\n",
        );
        let actions = blackhole_actions(&up, &[], 0, 1);
        assert_eq!(traffic(&actions, 0).len(), 2);
        assert!(traffic(&actions, 1).is_empty());
        assert!(blackhole_actions(&network(""), &[(m(5, 0), None)], 0, 1).is_empty());
    }

    #[test]
    fn traffic_comes_back_only_when_the_path_is_up_and_the_cgw_alive() {
        let both = network("[[network.blackhole]]\nfrom = \"10m\"\nto = \"12m\"\n");
        // Dies inside the blackhole: AWS never hears it again.
        let actions = blackhole_actions(&both, &[(m(11, 0), None)], 0, 1);
        assert_eq!(
            traffic(&actions, 0),
            vec![(m(10, 0), false), (m(11, 0), false), (m(12, 0), false)]
        );
        // Reboots inside it, back up before the path is: traffic once both are.
        let actions = blackhole_actions(&both, &[(m(9, 0), Some(m(11, 0)))], 0, 1);
        let expected = vec![
            (m(9, 0), false),
            (m(10, 0), false),
            (m(11, 0), false),
            (m(12, 0), true),
        ];
        assert_eq!(traffic(&actions, 0), expected);
        // The rebooted CGW boots hearing traffic, which the blackhole takes back.
        assert_eq!(
            traffic(&actions, 1),
            vec![(m(10, 0), false), (m(11, 0), false), (m(12, 0), true)]
        );
        // Back after the path: AWS hears it from the boot on.
        let actions = blackhole_actions(&both, &[(m(11, 0), Some(m(13, 0)))], 0, 1);
        assert_eq!(traffic(&actions, 0).last(), Some(&(m(13, 0), true)));
    }
}
