//! `ikesim connect` (the simulated CGW) against a strongSwan responder: [`ConnectTest`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common;
use crate::packets;
use crate::serve::collect;
use crate::strongswan::{assert_strongswan_checked, test_dir, text, Peer, PSK};

/// `ikesim connect` (the simulated CGW on 127.0.2.(100+n)) and a strongSwan responder on
/// 127.0.0.1 (ports: whatever is free).
pub struct ConnectTest {
    pub dir: PathBuf,
    pub peer: Peer,
    pub cgw: String,
    pub stderr: Arc<Mutex<String>>,
    /// The network namespace both run in, if any (the traffic tests').
    pub netns: Option<String>,
}

/// Starts the responder with `peer` settings and writes the CGW connection: `cgw` holds
/// the `[tunnel.cgw]` keys besides `local` and `pre_shared_key` (the responder's unless
/// `cgw` names one).
pub fn connect_test(name: &str, n: u16, cgw: &str, peer: &[(&str, &str)]) -> ConnectTest {
    connect_test_in(name, n, cgw, peer, None)
}

/// [`connect_test`] with both ends in the network namespace `netns`.
pub fn connect_test_in(
    name: &str,
    n: u16,
    cgw: &str,
    peer: &[(&str, &str)],
    netns: Option<&str>,
) -> ConnectTest {
    assert_strongswan_checked();
    let dir = test_dir(name);
    let cgw_ip = format!("127.0.2.{}", 100 + n);
    let psk = if cgw.contains("pre_shared_key") {
        String::new()
    } else {
        format!("pre_shared_key = \"{PSK}\"\n")
    };
    std::fs::write(
        dir.join("cgw.toml"),
        format!("local = \"{cgw_ip}\"\n{psk}{cgw}\n"),
    )
    .expect("write CGW config");
    let peer = Peer::launch_in(
        &dir,
        "respond",
        &[("CGW_HOST", cgw_ip.clone())],
        peer,
        netns,
    );
    ConnectTest {
        dir,
        peer,
        cgw: cgw_ip,
        stderr: Arc::new(Mutex::new(String::new())),
        netns: netns.map(str::to_owned),
    }
}

impl ConnectTest {
    pub fn command(&self, extra: &[&str]) -> Command {
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns])
                    .arg(common::ikesim().get_program());
                c
            }
            None => common::ikesim(),
        };
        cmd.arg("connect")
            .arg("--config")
            .arg(self.dir.join("cgw.toml"))
            .args(["--peer", &format!("127.0.0.1:{}", self.peer.port)])
            .args(extra)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `ikesim connect` to the end.
    pub fn run(&self, extra: &[&str]) -> Output {
        let out = self.command(extra).output().expect("run ikesim connect");
        *self.stderr.lock().unwrap_or_else(|e| e.into_inner()) = text(&out.stderr);
        out
    }

    /// Starts `ikesim connect` and collects its stderr as it comes.
    pub fn spawn(&self, extra: &[&str]) -> Child {
        let mut child = self
            .command(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ikesim connect");
        collect(child.stderr.take().expect("stderr"), self.stderr.clone());
        child
    }

    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Our CGW's IKE port and NAT-T port, from connect's first line
    /// (`CGW ip:port -> …; NAT-T port N`).
    pub fn ports(&self) -> (u16, u16) {
        let first = self.line("ikesim connect: CGW");
        let ike = first
            .split("CGW ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .map(str::parse::<SocketAddr>);
        let nat_t = first
            .split("NAT-T port ")
            .nth(1)
            .map(|r| r.trim().parse::<u16>());
        match (ike, nat_t) {
            (Some(Ok(ike)), Some(Ok(nat_t))) => (ike.port(), nat_t),
            _ => panic!("no ports in {first:?}{}", self.report()),
        }
    }

    /// strongSwan heard our first message on our IKE port and the rest on our NAT-T port,
    /// which it answered.
    pub fn assert_moved_to_nat_t(&self) {
        let (ike, nat_t) = self.ports();
        let log = self.peer.log();
        let from = |port: u16| format!("received packet: from {}[{port}]", self.cgw);
        let to = |port: u16| {
            format!(
                "sending packet: from 127.0.0.1[{}] to {}[{port}]",
                self.peer.port, self.cgw
            )
        };
        let first = log
            .find(&from(ike))
            .unwrap_or_else(|| panic!("nothing from our IKE port{}", self.report()));
        let moved = log
            .find(&from(nat_t))
            .unwrap_or_else(|| panic!("nothing from our NAT-T port{}", self.report()));
        assert!(first < moved, "the IKE port first{}", self.report());
        let plain = if self.stderr().contains("IKEv1") {
            2
        } else {
            1
        };
        assert_eq!(
            packets(&log, &from(ike)),
            plain,
            "only IKE_SA_INIT / main mode 1, 3 from the IKE port{}",
            self.report()
        );
        assert!(
            log.contains(&to(nat_t)),
            "strongSwan answered on the NAT-T port{}",
            self.report()
        );
    }

    pub fn report(&self) -> String {
        let tail = |s: String, n: usize| {
            let lines: Vec<&str> = s.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        };
        format!(
            "\n--- ikesim connect stderr ---\n{}\n--- swanctl --list-sas ---\n{}\n--- charon.log (tail) ---\n{}\n",
            self.stderr(),
            self.peer.list(),
            tail(self.peer.log(), 80)
        )
    }

    pub fn wait_log(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.peer.log().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "strongSwan never logged {needle:?} within {timeout:?}{}",
                self.report()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The line of connect's stderr that contains `needle`, waiting for it.
    pub fn wait_line(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self.stderr().lines().find(|l| l.contains(needle)) {
                return l.to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "ikesim connect never said {needle:?} within {timeout:?}{}",
                self.report()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn line(&self, needle: &str) -> String {
        self.stderr()
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("ikesim connect did not say {needle:?}{}", self.report()))
            .to_owned()
    }
}

/// The `<hex>_i <hex>_o` (or `_r`) SPIs of a line of `ikesim connect`, in order.
pub fn line_spis(line: &str) -> Vec<String> {
    line.split_whitespace()
        .filter_map(|w| w.trim_end_matches([',', ')']).rsplit_once('_'))
        .filter(|(hex, suffix)| {
            ["i", "r", "o"].contains(suffix)
                && hex.len() >= 8
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
        })
        .map(|(hex, _)| hex.to_owned())
        .collect()
}

/// strongSwan (the responder) logged the CHILD SA `ikesim connect` logged, SPIs mirrored:
/// our inbound SPI is its outbound one.
pub fn assert_child_matches(t: &ConnectTest, ours: &str) {
    let s = line_spis(ours);
    assert_eq!(s.len(), 2, "{ours}");
    t.wait_log(
        &format!("established with SPIs {}_i {}_o", s[1], s[0]),
        Duration::from_secs(5),
    );
}
