//! A real strongSwan charon for the end-to-end tests (tests/interop.rs, tests/flood.rs):
//! what a test against one needs, the charon itself ([`Peer`], driven by
//! tests/interop/strongswan-peer.sh), and the run's work directories (see interop.rs's
//! module comment for how two runs at once stay apart).

#![allow(dead_code)] // Each test crate uses its own part of this module.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

use crate::common::{self, Need};

/// The pre-shared key of the tunnels and charons of these tests.
pub const PSK: &str = "TestPSK123456";

/// What a test against a real charon needs.
pub const STRONGSWAN: &[Need] = &[Need::Root, Need::StrongSwan];

/// Returns from the calling test, which then passes, when strongSwan cannot run here
/// (`common::can_run` says what is missing; `IKESIM_REQUIRE_PEERS=1` fails instead).
macro_rules! needs_strongswan {
    () => {
        if !$crate::common::can_run($crate::strongswan::STRONGSWAN) {
            return;
        }
    };
}
pub(crate) use needs_strongswan;

/// For the helpers that start a charon: the test must have checked first.
pub fn assert_strongswan_checked() {
    assert!(
        common::have(STRONGSWAN),
        "this test starts a charon without checking: begin it with needs_strongswan!()"
    );
}

/// One strongSwan charon driven by tests/interop/strongswan-peer.sh.
pub struct Peer {
    pub dir: PathBuf,
    /// `start` (an initiator for `ikesim serve`) or `respond`.
    pub mode: &'static str,
    pub env: Vec<(String, String)>,
    /// charon's IKE port and NAT-T port (it moves there after IKE_SA_INIT).
    pub port: u16,
    pub natt_port: u16,
    /// How many charons this peer has started: each restart keeps the log of the one
    /// before as `charon.log.<n>`.
    pub starts: u32,
    /// The network namespace charon and every command of the script run in, if any.
    pub netns: Option<String>,
}

/// Two UDP ports for a charon, its IKE port and its NAT-T port, free right now: the OS
/// picks them on the wildcard address, which charon binds, and none is handed out twice
/// in this run. Another process may still take one before charon binds it:
/// [`Peer::start_charon`] then tries other ports.
pub fn free_udp_ports() -> (u16, u16) {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    // Each socket stays bound until both ports are chosen, so the two differ.
    let mut held = Vec::new();
    let mut ports = Vec::new();
    while ports.len() < 2 {
        let socket = UdpSocket::bind("0.0.0.0:0").expect("bind a UDP socket to find a free port");
        let port = socket.local_addr().expect("the socket's address").port();
        if !given.contains(&port) {
            given.push(port);
            ports.push(port);
        }
        held.push(socket);
    }
    (ports[0], ports[1])
}

impl Peer {
    pub fn script() -> PathBuf {
        common::repo().join("tests/interop/strongswan-peer.sh")
    }

    /// Writes the configuration and starts charon, the CGW of `ikesim serve` at `sim`.
    pub fn start(dir: &Path, sim: SocketAddr, settings: &[(&str, &str)]) -> Peer {
        let env = [
            ("SIM_HOST", sim.ip().to_string()),
            ("SIM_PORT", sim.port().to_string()),
        ];
        Peer::launch(dir, "start", &env, settings)
    }

    /// [`Peer::start`] in the network namespace `netns` (tests/interop/netns.rs), where
    /// `serve` at `sim` runs too.
    pub fn start_in(dir: &Path, sim: SocketAddr, settings: &[(&str, &str)], netns: &str) -> Peer {
        let env = [
            ("SIM_HOST", sim.ip().to_string()),
            ("SIM_PORT", sim.port().to_string()),
        ];
        Peer::launch_in(dir, "start", &env, settings, Some(netns))
    }

    /// Writes a responder configuration and starts charon: it only listens, accepting the
    /// simulated CGW of `ikesim connect` at `cgw`.
    pub fn respond(dir: &Path, cgw: &str, settings: &[(&str, &str)]) -> Peer {
        Peer::launch(dir, "respond", &[("CGW_HOST", cgw.into())], settings)
    }

    pub fn launch(
        dir: &Path,
        mode: &'static str,
        env: &[(&str, String)],
        settings: &[(&str, &str)],
    ) -> Peer {
        Peer::launch_in(dir, mode, env, settings, None)
    }

    pub fn launch_in(
        dir: &Path,
        mode: &'static str,
        env: &[(&str, String)],
        settings: &[(&str, &str)],
        netns: Option<&str>,
    ) -> Peer {
        let charon = dir.join("charon");
        let mut all: Vec<(String, String)> = vec![
            ("WORKDIR".into(), charon.display().to_string()),
            ("PSK".into(), PSK.into()),
        ];
        all.extend(env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        for (k, v) in settings {
            all.retain(|(key, _)| key != k);
            all.push(((*k).into(), (*v).into()));
        }
        // Built before charon starts, so that its Drop stops charon whatever happens next.
        let mut peer = Peer {
            dir: charon,
            mode,
            env: all,
            port: 0,
            natt_port: 0,
            starts: 0,
            netns: netns.map(str::to_owned),
        };
        peer.start_charon();
        peer
    }

    /// Starts charon on two free ports; other ports when it could not bind them (exit
    /// status 3 of the script).
    pub fn start_charon(&mut self) {
        if self.starts > 0 {
            let _ = std::fs::rename(
                self.dir.join("charon.log"),
                self.dir.join(format!("charon.log.{}", self.starts)),
            );
        }
        self.starts += 1;
        for attempt in 1..=5 {
            let (port, natt_port) = free_udp_ports();
            (self.port, self.natt_port) = (port, natt_port);
            self.env
                .retain(|(k, _)| k != "PEER_PORT" && k != "PEER_NATT_PORT");
            self.env.push(("PEER_PORT".into(), port.to_string()));
            self.env
                .push(("PEER_NATT_PORT".into(), natt_port.to_string()));
            let out = self.run(self.mode);
            if out.status.success() {
                return;
            }
            if out.status.code() != Some(3) || attempt == 5 {
                panic!(
                    "strongSwan did not start ({}):\n{}{}",
                    out.status,
                    text(&out.stdout),
                    text(&out.stderr)
                );
            }
        }
    }

    /// A fresh charon with the same configuration (on new ports), after `kill`.
    pub fn restart(&mut self) {
        self.start_charon();
    }

    pub fn command(&self, command: &str) -> Command {
        let mut cmd = match &self.netns {
            Some(name) => {
                let mut cmd = Command::new("ip");
                cmd.args(["netns", "exec", name, "sh"]);
                cmd
            }
            None => Command::new("sh"),
        };
        cmd.arg(Self::script())
            .arg(command)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, command: &str) -> Output {
        self.command(command)
            .output()
            .expect("run strongswan-peer.sh")
    }

    /// `swanctl --list-sas`.
    pub fn list(&self) -> String {
        text(&self.run("list").stdout)
    }

    /// The log of the charon running now (the last one started).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("charon.log")).unwrap_or_default()
    }

    /// The log of the charon before the last restart, if any.
    pub fn previous_log(&self) -> Option<String> {
        std::fs::read_to_string(
            self.dir
                .join(format!("charon.log.{}", self.starts.checked_sub(1)?)),
        )
        .ok()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.run("stop");
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// This run's work directory, `$TMPDIR/ikesim-interop-<uid>/<pid>`, one subdirectory per test.
/// The first call clears up after earlier runs that are over: a directory named after a
/// process that is no longer this suite's is removed, after its charons and `ikesim serve`s
/// are stopped, which an interrupted run leaves running (the script's `reap` signals only
/// a charon started from that directory, [`reap_serve`] only a serve with its
/// configuration). Directories of a run still going (another checkout, another target
/// directory) are left alone.
pub fn run_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // One base per user: another user's runs (root's, in CI) are not ours to clear, and
        // their directory is not ours to write in.
        let uid = std::os::unix::fs::MetadataExt::uid(
            &std::fs::metadata("/proc/self").expect("read /proc/self"),
        );
        let base = std::env::temp_dir().join(format!("ikesim-interop-{uid}"));
        let me = std::process::id();
        let live = |pid: u32| {
            pid != me
                && std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.starts_with("interop") || c.starts_with("flood"))
        };
        for entry in std::fs::read_dir(&base).into_iter().flatten().flatten() {
            // Only <pid> directories: anything else is not this layout's.
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if live(pid) {
                continue;
            }
            for test in std::fs::read_dir(entry.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                reap_serve(&test.path());
                let charon = test.path().join("charon");
                if charon.join("charon.pid").exists() {
                    let _ = Command::new("sh")
                        .arg(Peer::script())
                        .arg("reap")
                        .env("WORKDIR", &charon)
                        .stdin(Stdio::null())
                        .output();
                }
            }
            let _ = std::fs::remove_dir_all(entry.path());
        }
        let dir = base.join(me.to_string());
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot create the run's directory {}: {e}", dir.display());
        }
        dir
    })
}

/// Kills the `ikesim serve` a test in `dir` started, if it still runs: the process its
/// `serve.pid` names, if that is an ikesim whose command line names `dir`'s serve.toml.
pub fn reap_serve(dir: &Path) {
    let Some(pid) = std::fs::read_to_string(dir.join("serve.pid"))
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
    else {
        return;
    };
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return;
    };
    let args: Vec<String> = cmdline
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let config = dir.join("serve.toml").display().to_string();
    let is_ikesim = args.first().is_some_and(|exe| exe.ends_with("/ikesim"));
    if is_ikesim && args.get(1).is_some_and(|a| a == "serve") && args.contains(&config) {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
}

/// A fresh directory for one test of this run.
pub fn test_dir(name: &str) -> PathBuf {
    let dir = run_dir().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create test directory");
    dir
}
