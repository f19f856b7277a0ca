//! The data-plane model and what a scenario does to its hosts besides speaking IKE —
//! crashes, reboots, an administrator's terminate, IPsec SAs cleared without a DELETE,
//! blackholes, AWS's endpoint replacements
//! — in one place.
//!
//! Until an ESP data plane exists, whether a tunnel carries traffic is stated by the
//! scenario (DESIGN.md, "Traffic and DPD"): on a `steady` tunnel each side keeps hearing
//! from its peer, so on-demand DPD stays quiet; on an `idle` one nothing but IKE flows. The
//! core is told with `Endpoint::set_peer_traffic`. What interrupts that traffic is what
//! stops it: the CGW dying (AWS hears nothing more), a blackhole on one direction (the
//! receiving side hears nothing while it lasts). [`tunnel_actions`] turns one tunnel's
//! configuration into the timed [`Action`]s the driver applies with [`apply`]. (`serve`,
//! where real ESP arrives, tells the core with `Endpoint::esp_arrived`.)

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ike_core::{Endpoint, EndpointConfig};

use crate::driver::Host;
use crate::scenario::{Direction, Network, Scenario, Traffic, Tunnel, Unconfigured};

/// The two hosts of one simulated tunnel (indices into the driver's hosts): the AWS
/// endpoint and the CGW that talks to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelHosts {
    pub aws: usize,
    pub cgw: usize,
}

/// Something the scenario makes happen at a given time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The host dies for good (power cut, process killed).
    Crash { host: usize },
    /// The data-plane model: the host starts or stops receiving its peer's traffic.
    Traffic { host: usize, flowing: bool },
    /// A crashed host comes back with no memory of its SAs (a reboot) and, if it has a
    /// peer to call, initiates at once — with INITIAL_CONTACT.
    Boot { host: usize },
    /// An administrator deletes the host's IKE SAs (`swanctl --terminate`).
    Terminate { host: usize },
    /// The host's IPsec SAs are cleared without a DELETE; its IKE SAs stay
    /// (`Endpoint::forget_child_sas`).
    ForgetChildSas { host: usize },
    /// AWS replaces the tunnel's endpoint (maintenance, or modified tunnel options:
    /// [`crate::scenario::events`]): the endpoint goes with every SA it held, sending
    /// nothing (no DELETE: the instance is gone), and nothing answers until the host's
    /// [`Action::Boot`]. `options` picks the configuration the new endpoint runs with from
    /// the host's [`Reboot::options`] (`None`: the one it had).
    Replace { host: usize, options: Option<usize> },
}

/// Whom a host calls when it boots: at once, or on its first packet (a trap policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// `Endpoint::initiate` (startup action `start`).
    Call(SocketAddr),
    /// `Endpoint::trap` (the CGW's `start_action = trap`).
    Trap(SocketAddr),
}

/// What a host boots with: its configuration, a fresh seed, and whom it calls.
pub struct Reboot {
    pub config: EndpointConfig,
    pub seed: u64,
    pub peer: Option<Peer>,
    /// Whether it hears its peer's traffic once up (the scenario's traffic model).
    pub traffic: bool,
    /// The configurations an [`Action::Replace`] may switch to (modified tunnel options,
    /// in time order); empty for a CGW.
    pub options: Vec<EndpointConfig>,
}

/// Whether the scenario's hosts hear their peer's traffic from the start (the model,
/// `traffic_flows = false`). Otherwise there is no model: real ESP arrivals tell the
/// endpoints (crate::dataplane).
pub fn flowing(scenario: &Scenario) -> bool {
    scenario.traffic_model() && scenario.traffic == Traffic::Steady
}

/// Every host starts hearing its peer's traffic, or not, at `now` (the start).
pub fn start(hosts: &mut [Host], now: Instant, flowing: bool) {
    for h in hosts {
        h.endpoint.set_peer_traffic(now, flowing);
    }
}

/// One tunnel's timed actions, counted from the start, in the order they apply at the same
/// instant: an unconfigured silent CGW's absence, the CGW's crash, reboot and terminate,
/// AWS's endpoint replacements, and the traffic each side hears.
pub fn tunnel_actions(
    scenario: &Scenario,
    tunnel: &Tunnel,
    hosts: TunnelHosts,
) -> Vec<(Duration, Action)> {
    let TunnelHosts { aws, cgw } = hosts;
    let steady = flowing(scenario);
    let silenced = Action::Traffic {
        host: aws,
        flowing: false,
    };
    let mut actions = Vec::new();
    if !tunnel.cgw.configured && tunnel.cgw.unconfigured_reply == Unconfigured::Silence {
        // No connection and no answer: as far as this tunnel goes, the CGW is not there.
        actions.push((Duration::ZERO, Action::Crash { host: cgw }));
    }
    if let Some(at) = tunnel.cgw.crash_at {
        actions.push((at.0, Action::Crash { host: cgw }));
        actions.push((at.0, silenced));
    }
    if let Some(at) = tunnel.cgw.reboot_at {
        let back = at.0 + tunnel.cgw.reboot_downtime.0;
        actions.push((at.0, Action::Crash { host: cgw }));
        actions.push((at.0, silenced));
        actions.push((back, Action::Boot { host: cgw }));
        if steady {
            let heard = Action::Traffic {
                host: aws,
                flowing: true,
            };
            actions.push((back, heard));
        }
    }
    if let Some(at) = tunnel.cgw.terminate_at {
        actions.push((at.0, Action::Terminate { host: cgw }));
    }
    if let Some(at) = tunnel.cgw.forget_child_sas_at {
        actions.push((at.0, Action::ForgetChildSas { host: cgw }));
    }
    actions.extend(replacement_actions(tunnel, hosts, steady));
    if steady {
        let crash = tunnel.cgw.crash_at.map(|at| (at.0, None));
        let reboot = tunnel
            .cgw
            .reboot_at
            .map(|at| (at.0, Some(at.0 + tunnel.cgw.reboot_downtime.0)));
        let cgw_down: Vec<_> = crash.into_iter().chain(reboot).collect();
        actions.extend(blackhole_actions(&scenario.network, &cgw_down, hosts));
    }
    actions
}

/// AWS's endpoint replacements of one tunnel ([`crate::scenario::events`]): the endpoint
/// goes, and comes back `downtime` later as a new one. On a steady tunnel the CGW stops
/// hearing AWS's traffic when the endpoint goes (the new endpoint has none of the SAs the
/// traffic ran over), so the CGW's own DPD — if it has one — finds out; the CGW's SAs made
/// later hear none either (the data-plane model is per host: their liveness is DPD's).
fn replacement_actions(
    tunnel: &Tunnel,
    hosts: TunnelHosts,
    steady: bool,
) -> Vec<(Duration, Action)> {
    let mut actions = Vec::new();
    let mut modified = 0;
    for r in crate::scenario::events::replacements(&tunnel.maintenance, &tunnel.modify_options) {
        let options = r.options.map(|_| {
            modified += 1;
            modified - 1
        });
        actions.push((
            r.at,
            Action::Replace {
                host: hosts.aws,
                options,
            },
        ));
        if steady {
            let silent = Action::Traffic {
                host: hosts.cgw,
                flowing: false,
            };
            actions.push((r.at, silent));
        }
        actions.push((r.at + r.downtime, Action::Boot { host: hosts.aws }));
    }
    actions
}

/// The data-plane model meets the blackholes (on a steady tunnel): AWS hears the CGW's
/// traffic while the CGW is up and the CGW→AWS direction is not blackholed; the CGW hears
/// AWS's while AWS→CGW is not. `cgw_down` are the windows in which the CGW is dead (`None`:
/// for good). At every instant where one of these changes, the state is restated — after the
/// crash and boot actions of the same instant, so it has the last word.
fn blackhole_actions(
    network: &Network,
    cgw_down: &[(Duration, Option<Duration>)],
    hosts: TunnelHosts,
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
                    host: hosts.aws,
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
                    host: hosts.cgw,
                    flowing: !inside(&downstream, t),
                },
            ));
        }
    }
    actions
}

/// Applies a scenario action to the hosts at `now`.
pub fn apply(action: Action, hosts: &mut [Host], now: Instant) {
    tracing::debug!(?action, "scenario action");
    match action {
        Action::Crash { host } => hosts[host].alive = false,
        Action::Traffic { host, flowing } => hosts[host].endpoint.set_peer_traffic(now, flowing),
        Action::Boot { host } => boot(&mut hosts[host], now),
        Action::Terminate { host } => hosts[host].endpoint.delete_ike_sas(now),
        Action::ForgetChildSas { host } => hosts[host].endpoint.forget_child_sas(now),
        Action::Replace { host, options } => replace(&mut hosts[host], options),
    }
}

/// The endpoint is gone: the host answers nothing until it boots, and boots with the new
/// options if there are any. The old endpoint's SAs are forgotten at the boot, which
/// builds the new one.
fn replace(host: &mut Host, options: Option<usize>) {
    host.alive = false;
    if let Some(r) = host.reboot.as_mut() {
        if let Some(config) = options.and_then(|i| r.options.get(i)) {
            r.config = config.clone();
        }
    }
}

/// A crashed host comes back with a fresh endpoint (no SAs, a new seed), hearing its peer's
/// traffic as the scenario says, and calls its peer if it has one.
fn boot(host: &mut Host, now: Instant) {
    let addr = host.addr();
    let Some(r) = host.reboot.as_mut() else {
        return;
    };
    let ports = host.endpoint.nat_t_ports();
    host.endpoint = Endpoint::new(r.config.clone(), addr, r.seed);
    host.endpoint.set_nat_t_ports(ports);
    r.seed = r.seed.wrapping_add(1);
    host.alive = true;
    host.endpoint.set_peer_traffic(now, r.traffic);
    match r.peer {
        Some(Peer::Call(peer)) => host.endpoint.initiate(now, peer),
        Some(Peer::Trap(peer)) => host.endpoint.trap(peer),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTS: TunnelHosts = TunnelHosts { aws: 0, cgw: 1 };

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
    fn an_endpoint_replacement_takes_the_endpoint_away_for_its_downtime() {
        // The traffic model (with packets, the data plane tells the endpoints instead).
        let text = "description = \"t\"\ntraffic_flows = false\n\
             [vpn_connection]\nid = \"vpn-0123456789abcdef0\"\n\
             [cgw]\noutside_ip = \"127.0.2.1\"\n[[tunnel]]\noutside_ip = \"127.0.1.1\"\n\
             [[tunnel.modify_options]]\nat = \"3h\"\ndowntime = \"5m\"\n\
             [tunnel.modify_options.aws]\nphase1_dh_group_numbers = [20]\n\
             [[tunnel.maintenance]]\nat = \"1h\"\n[tunnel.cgw]\nconfigured = false\n\
             unconfigured_reply = \"silence\"\n";
        let s = Scenario::parse(text, "t.toml", "t").expect("scenario");
        let actions = tunnel_actions(&s, &s.tunnel[0], HOSTS);
        let h = |n: u64| Duration::from_secs(n * 3600);
        let expected = vec![
            // No connection, no answer: the CGW's host is down for this tunnel from the start.
            (Duration::ZERO, Action::Crash { host: 1 }),
            (
                h(1),
                Action::Replace {
                    host: 0,
                    options: None,
                },
            ),
            // Steady traffic: the CGW hears none once the endpoint is gone.
            (
                h(1),
                Action::Traffic {
                    host: 1,
                    flowing: false,
                },
            ),
            (h(1) + m(2, 0), Action::Boot { host: 0 }),
            (
                h(3),
                Action::Replace {
                    host: 0,
                    options: Some(0),
                },
            ),
            (
                h(3),
                Action::Traffic {
                    host: 1,
                    flowing: false,
                },
            ),
            (h(3) + m(5, 0), Action::Boot { host: 0 }),
        ];
        assert_eq!(actions, expected);
    }

    #[test]
    fn a_blackhole_stops_the_traffic_each_side_hears_while_it_lasts() {
        let both = network("[[network.blackhole]]\nfrom = \"10m\"\nto = \"12m\"\n");
        let actions = blackhole_actions(&both, &[], HOSTS);
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
        let actions = blackhole_actions(&up, &[], HOSTS);
        assert_eq!(traffic(&actions, 0).len(), 2);
        assert!(traffic(&actions, 1).is_empty());
        assert!(blackhole_actions(&network(""), &[(m(5, 0), None)], HOSTS).is_empty());
    }

    #[test]
    fn traffic_comes_back_only_when_the_path_is_up_and_the_cgw_alive() {
        let both = network("[[network.blackhole]]\nfrom = \"10m\"\nto = \"12m\"\n");
        // Dies inside the blackhole: AWS never hears it again.
        let actions = blackhole_actions(&both, &[(m(11, 0), None)], HOSTS);
        assert_eq!(
            traffic(&actions, 0),
            vec![(m(10, 0), false), (m(11, 0), false), (m(12, 0), false)]
        );
        // Reboots inside it, back up before the path is: traffic once both are.
        let actions = blackhole_actions(&both, &[(m(9, 0), Some(m(11, 0)))], HOSTS);
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
        let actions = blackhole_actions(&both, &[(m(11, 0), Some(m(13, 0)))], HOSTS);
        assert_eq!(traffic(&actions, 0).last(), Some(&(m(13, 0), true)));
    }
}
