//! A network namespace of one test, for traffic through a real CGW's tunnel: charon (with
//! kernel-libipsec's TUN device and the routes it installs) and `ikesim serve` both run in
//! it, so the ping the test sends is routed into charon's tunnel without touching the
//! machine's own routing. Loopback is per namespace: the two still talk over `lo`.
//!
//! The namespace has `lo` up and the CGW's inside address [`CGW_INSIDE`] on it; charon's
//! traffic selectors are [`ON_PREM`] ↔ [`VPC`], and with `install_routes = yes` it routes
//! the VPC through its TUN device with that address as the source.

#![allow(dead_code)] // Each test crate uses its own part of this module.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::strongswan::text;

/// The CGW's inside address: the source of the pings (on `lo` in the namespace).
pub const CGW_INSIDE: Ipv4Addr = Ipv4Addr::new(172, 16, 0, 10);
/// The on-premises network behind the CGW (charon's `local_ts`, AWS's
/// `local_ipv4_network_cidr`).
pub const ON_PREM: &str = "172.16.0.0/16";
/// The VPC (charon's `remote_ts`, AWS's `remote_ipv4_network_cidr`, serve's `[vpc]` cidr).
pub const VPC: &str = "10.0.0.0/16";
/// The VPC host serve's simulated VPC has by default: it answers ICMP and UDP echo.
pub const VPC_HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 10);

/// What names this suite's namespaces: `ikesim-<pid of the test process>-<n>`.
const PREFIX: &str = "ikesim-";

/// One test's network namespace, deleted on drop (after what runs in it: drop it last).
pub struct Netns {
    pub name: String,
}

/// `ip ARGS`, which must succeed.
fn ip(args: &[&str]) -> Output {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run ip");
    assert!(
        out.status.success(),
        "ip {} failed ({}): {}{}",
        args.join(" "),
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// Deletes the namespaces of earlier runs that are over (an interrupted run leaves them;
/// their charons and serves are stopped by `strongswan::run_dir`'s clean-up). Once per run.
fn reap_stale() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let me = std::process::id();
        let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
            return;
        };
        for line in text(&out.stdout).lines() {
            let Some(name) = line.split_whitespace().next() else {
                continue;
            };
            let Some(pid) = name
                .strip_prefix(PREFIX)
                .and_then(|rest| rest.split_once('-'))
                .and_then(|(pid, _)| pid.parse::<u32>().ok())
            else {
                continue;
            };
            let live = std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.starts_with("interop") || c.starts_with("flood"));
            if pid != me && !live {
                let _ = Command::new("ip").args(["netns", "del", name]).output();
            }
        }
    });
}

impl Netns {
    /// Creates namespace `n` of this run (unique per test), `lo` up with [`CGW_INSIDE`].
    pub fn create(n: u16) -> Netns {
        Netns::create_with(n, &[CGW_INSIDE])
    }

    /// Creates namespace `n` of this run, `lo` up with `addrs` (/32 each): the hosts that
    /// answer there (a host behind strongSwan as a responder, say).
    pub fn create_with(n: u16, addrs: &[Ipv4Addr]) -> Netns {
        reap_stale();
        let name = format!("{PREFIX}{}-{n}", std::process::id());
        // Left from a test of this run that panicked before its drop: start afresh.
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        ip(&["netns", "add", &name]);
        let ns = Netns { name };
        ip(&["-n", &ns.name, "link", "set", "lo", "up"]);
        for addr in addrs {
            let addr = format!("{addr}/32");
            ip(&["-n", &ns.name, "addr", "add", &addr, "dev", "lo"]);
        }
        ns
    }

    /// `program` run inside the namespace (`ip netns exec NAME program`: ip execs it, so
    /// the child's pid is the program's).
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]);
        cmd
    }

    /// `ping -c COUNT -s SIZE -i 0.2 -W 1 -I CGW_INSIDE TO` in the namespace; returns how
    /// many replies came back, and ping's output.
    pub fn ping(&self, to: Ipv4Addr, count: u32, size: usize) -> (u32, String) {
        let out = self
            .command("ping")
            .args(["-n", "-c", &count.to_string(), "-s", &size.to_string()])
            .args(["-i", "0.2", "-W", "1", "-I", &CGW_INSIDE.to_string()])
            .arg(to.to_string())
            .stdin(Stdio::null())
            .output()
            .expect("run ping in the namespace");
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        // "3 packets transmitted, 3 received, 0% packet loss, …"
        let received = said
            .lines()
            .find_map(|l| {
                let (_, rest) = l.split_once(" transmitted, ")?;
                rest.split_whitespace().next()?.parse().ok()
            })
            .unwrap_or(0);
        (received, said)
    }

    /// A UDP socket bound to `addr` inside the namespace: a thread moves into it, binds,
    /// and hands the socket back (a socket stays in the namespace it was made in).
    pub fn udp_socket(&self, addr: SocketAddr) -> std::io::Result<UdpSocket> {
        let path = format!("/run/netns/{}", self.name);
        std::thread::scope(|s| {
            s.spawn(|| {
                let ns = std::fs::File::open(&path)?;
                rustix::thread::move_into_link_name_space(
                    std::os::fd::AsFd::as_fd(&ns),
                    Some(rustix::thread::LinkNameSpaceType::Network),
                )?;
                UdpSocket::bind(addr)
            })
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the namespace thread panicked")))
        })
    }

    /// Sends `payload` from the CGW's inside address to `to` and waits up to `wait` for the
    /// answer; returns what came back and from where, or `None`.
    pub fn udp_echo(
        &self,
        to: SocketAddr,
        payload: &[u8],
        wait: Duration,
    ) -> Option<(Vec<u8>, SocketAddr)> {
        let socket = self
            .udp_socket(SocketAddr::new(CGW_INSIDE.into(), 0))
            .expect("a UDP socket in the namespace");
        socket.set_read_timeout(Some(wait)).expect("read timeout");
        socket.send_to(payload, to).expect("send the UDP datagram");
        let mut buf = vec![0; 65_536];
        let (len, from) = socket.recv_from(&mut buf).ok()?;
        buf.truncate(len);
        Some((buf, from))
    }

    /// The namespace's routes, every table (for reports).
    pub fn routes(&self) -> String {
        let out = Command::new("ip")
            .args(["-n", &self.name, "route", "show", "table", "all"])
            .output();
        out.map(|o| text(&o.stdout)).unwrap_or_default()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}
