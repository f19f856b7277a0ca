//! Traffic through a real CGW's tunnel (issue 15 §4): strongSwan with kernel-libipsec and
//! `ikesim serve` in a network namespace of the test's own (tests/interop/netns.rs), charon
//! routing the VPC into its TUN device, a real `ping` and a UDP echo from the CGW's inside
//! address into serve's simulated VPC.

#![allow(dead_code)] // Each test crate uses its own part of this module.

use std::net::SocketAddr;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{self, Need};
use crate::harness::Interop;
use crate::netns::{Netns, ON_PREM, VPC};
use crate::serve::{collect, Serve};
use crate::strongswan::{assert_strongswan_checked, test_dir, Peer};

/// What a traffic test needs: strongSwan (root, /dev/net/tun) and `ip` and `ping`.
pub const TRAFFIC: &[Need] = &[Need::Root, Need::StrongSwan, Need::Netns];

/// Returns from the calling test, which then passes, when it cannot run here (says what is
/// missing and how to install it; `IKESIM_REQUIRE_PEERS=1` fails instead).
macro_rules! needs_traffic {
    ($($more:expr),*) => {
        let needs: Vec<$crate::common::Need> = $crate::traffic::TRAFFIC
            .iter()
            .copied()
            .chain([$($more),*])
            .collect();
        if !$crate::common::can_run(&needs) {
            return;
        }
    };
}
pub(crate) use needs_traffic;

/// A test's two ends in its namespace; the namespace goes last (fields drop in order).
pub struct Traffic {
    pub t: Interop,
    pub ns: Netns,
}

/// `serve`'s `[tunnel.aws]` traffic selectors for the namespace's networks: AWS's local
/// network is the customer's (on-premises) side, its remote network the VPC.
pub fn aws_networks() -> String {
    format!("local_ipv4_network_cidr = \"{ON_PREM}\"\nremote_ipv4_network_cidr = \"{VPC}\"\n")
}

/// charon's settings for routing the VPC into its tunnel: its TUN device gets the routes
/// (`install_routes = yes`, source the CGW's inside address), the CHILD SA the
/// namespace's networks as traffic selectors.
pub fn routed<'a>(settings: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![
        ("INSTALL_ROUTES", "yes"),
        ("LOCAL_TS", ON_PREM),
        ("REMOTE_TS", VPC),
    ];
    all.extend_from_slice(settings);
    all
}

/// Test `n` (unique in the suite, as for `harness::interop`): namespace `n`, `serve` on
/// 127.0.1.(100+n) in it with `aws_options` (with [`aws_networks`] for the keys they do
/// not set) and `extra` tables after `[tunnel.aws]`, charon in it with [`routed`] settings
/// (`peer` last: they may replace them).
pub fn traffic(
    name: &str,
    n: u16,
    aws_options: &str,
    extra: &str,
    peer: &[(&str, &str)],
) -> Traffic {
    traffic_with_args(name, n, aws_options, extra, peer, &[])
}

/// [`traffic`] with more arguments for `ikesim serve`.
pub fn traffic_with_args(
    name: &str,
    n: u16,
    aws_options: &str,
    extra: &str,
    peer: &[(&str, &str)],
    args: &[&str],
) -> Traffic {
    assert_strongswan_checked();
    assert!(
        common::have(TRAFFIC),
        "this test needs a namespace without checking: begin it with needs_traffic!()"
    );
    let dir = test_dir(name);
    let ns = Netns::create(n);
    // An option given here replaces the namespace's default of the same key.
    let defaults: String = aws_networks()
        .lines()
        .filter(|l| {
            let key = l.split(" = ").next().unwrap_or_default();
            !aws_options
                .lines()
                .any(|o| o.starts_with(&format!("{key} ")))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let options = format!("{defaults}{aws_options}\n{extra}");
    let text = Serve::config_text(&format!("127.0.1.{}:0", 100 + n), &options);
    let serve = Serve::configured_in(
        &dir,
        &text,
        false,
        ("-vv", "sim=debug,info"),
        Some(&ns.name),
        args,
    );
    let peer = Peer::start_in(&dir, serve.addr, &routed(peer), &ns.name);
    Traffic {
        t: Interop {
            serve,
            peer,
            relay: None,
        },
        ns,
    }
}

impl Traffic {
    /// [`Interop::report`] with the namespace's routes.
    pub fn report(&self) -> String {
        format!(
            "{}--- routes in {} ---\n{}",
            self.t.report(),
            self.ns.name,
            self.ns.routes()
        )
    }

    /// Waits until charon has routed its remote traffic selector into its TUN device
    /// (kernel-libipsec installs the route once the CHILD SA is up).
    pub fn wait_route(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        // kernel-libipsec's routes go into table 220 (charon's routing table).
        while !self.ns.routes().lines().any(|l| l.contains(" table 220 ")) {
            assert!(
                Instant::now() < deadline,
                "charon installed no route into its TUN device{}",
                self.report()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A live capture on the namespace's `lo` (tshark, one line per datagram as it is seen:
/// UDP destination port, ESP SPI and sequence number, ESP-in-UDP decoded on `port`).
pub struct Capture {
    child: Child,
    lines: Arc<Mutex<String>>,
}

/// Where the capture's probes go (nothing listens there in the namespace).
const PROBE_PORT: u16 = 9;

impl Capture {
    /// Starts tshark in `ns` on the datagrams `filter` selects (and the probes) and waits
    /// until it sees them: a probe to 127.0.0.1:9 every 100 ms until tshark shows one.
    pub fn start(ns: &Netns, filter: &str, port: u16) -> Capture {
        let mut child = ns
            .command("tshark")
            .args(["-l", "-n", "-i", "lo", "-f"])
            .arg(format!("({filter}) or (udp and dst port {PROBE_PORT})"))
            .args(["-d", &format!("udp.port=={port},udpencap")])
            .args(["-T", "fields", "-e", "udp.dstport", "-e", "esp.spi"])
            .args(["-e", "esp.sequence"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tshark in the namespace");
        let lines = Arc::new(Mutex::new(String::new()));
        collect(child.stdout.take().expect("tshark's stdout"), lines.clone());
        let capture = Capture { child, lines };
        let probe = ns
            .udp_socket("127.0.0.1:0".parse().expect("an address"))
            .expect("a probe socket in the namespace");
        let deadline = Instant::now() + Duration::from_secs(20);
        let to = SocketAddr::from(([127, 0, 0, 1], PROBE_PORT));
        while !capture
            .text()
            .lines()
            .any(|l| l.starts_with(&format!("{PROBE_PORT}\t")))
        {
            assert!(
                Instant::now() < deadline,
                "tshark saw no probe within 20 s: {}",
                capture.text()
            );
            let _ = probe.send_to(b"probe", to);
            std::thread::sleep(Duration::from_millis(100));
        }
        capture
    }

    fn text(&self) -> String {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The ESP datagrams seen so far: (SPI as tshark prints it, `0x…`; sequence number).
    pub fn esp(&self) -> Vec<(String, u32)> {
        self.text()
            .lines()
            .filter_map(|l| {
                let mut fields = l.split('\t').skip(1);
                let spi = fields.next().filter(|s| !s.is_empty())?;
                Some((spi.to_owned(), fields.next()?.trim().parse().ok()?))
            })
            .collect()
    }

    /// Waits up to `timeout` until at least `count` ESP datagrams were seen; returns them.
    pub fn wait_esp(&self, count: usize, timeout: Duration) -> Vec<(String, u32)> {
        let deadline = Instant::now() + timeout;
        loop {
            let esp = self.esp();
            if esp.len() >= count || Instant::now() >= deadline {
                return esp;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
