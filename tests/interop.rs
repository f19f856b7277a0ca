//! Interop with a real peer, both ways round:
//! - `ikesim serve` (the simulated AWS endpoint) against a real strongSwan charon as the CGW,
//!   IKEv2 and IKEv1 (main mode + quick mode), including a charon SIGKILLed halfway through
//!   its authentication, one that comes back with INITIAL_CONTACT after a SIGKILL, and one
//!   that starts on `serve`'s port 500 and moves to 4500;
//! - `ikesim connect` (the simulated CGW) against a strongSwan responder (the script's
//!   `respond` mode), IKEv2 and IKEv1; our CGW moves to its NAT-T port (strongSwan's
//!   kernel-libipsec fakes a NAT) and strongSwan follows.
//!
//! Each test checks what ikesim says (the AWS tunnel log records, or `connect`'s lines and
//! exit status) and strongSwan's own view of the same SAs (`swanctl --list-sas`, its log).
//! Uses tests/interop/strongswan-peer.sh.
//!
//! Needs root, /dev/net/tun and strongSwan (`strongswan-charon strongswan-swanctl
//! libstrongswan-standard-plugins libcharon-extra-plugins`, see .ci/run); without them each
//! such test says `skipped: needs …, install with …` on stderr and passes, or fails with
//! `IKESIM_REQUIRE_PEERS=1` (as in CI). The check is `common::can_run`.
//!
//! Tests run in parallel, and so may two runs of this suite (two checkouts, two target
//! directories): nothing is fixed that a second run would also take.
//! - charon's two UDP ports (it binds them on every address) are free ports the OS hands
//!   out at run time; if another process takes one before charon binds it, charon is
//!   started again on other ports (the script exits with 3 when charon could not bind).
//! - Each run works in `$TMPDIR/ikesim-interop-<uid>/<pid of the test process>/<test>/`
//!   (configs, `charon.log`, the pid files). Every charon has its own /run (mount namespace).
//! - An interrupted run (killed before its Drops ran) leaves charons and `ikesim serve`s
//!   running: the next run stops them and removes that directory, once its process is gone,
//!   killing only a process its pid file names that is a charon started with that
//!   directory's configuration (or an `ikesim serve` of that directory's serve.toml).
//! - Test `n` has its own ikesim address within the run: `serve` on 127.0.1.(100+n) (port
//!   chosen by the OS), `connect`'s CGW on 127.0.2.(100+n). Another run uses the same
//!   addresses on other ports, which is no conflict.
//! - `serve` on the fixed ports 500 and 4500 (as AWS) gets an address of the run's own,
//!   127.(40+n).x.y with x.y from the test process id.
//!
//! The slowest tests wait on AWS's timers: DPD (about 50 s), INITIAL_CONTACT (46 s: no DPD
//! time-out for the stale SA), the half-open SA (about 31 s), the `connect --stay` rekey
//! (30 s). The last tests check `serve`'s and `connect`'s command lines (and `connect`
//! against `serve`) and need no strongSwan.

mod common;

use common::Need;

use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

const PSK: &str = "TestPSK123456";
const VPN: &str = "vpn-0123456789abcdef0";

/// What a test against a real charon needs.
const STRONGSWAN: &[Need] = &[Need::Root, Need::StrongSwan];

/// Returns from the calling test, which then passes, when strongSwan cannot run here
/// (`common::can_run` says what is missing; `IKESIM_REQUIRE_PEERS=1` fails instead).
macro_rules! needs_strongswan {
    () => {
        if !common::can_run(STRONGSWAN) {
            return;
        }
    };
}

/// For the helpers that start a charon: the test must have checked first.
fn assert_strongswan_checked() {
    assert!(
        common::have(STRONGSWAN),
        "this test starts a charon without checking: begin it with needs_strongswan!()"
    );
}

/// `ikesim serve` with its stdout (records) and stderr (diagnostics) collected.
struct Serve {
    child: Child,
    addr: SocketAddr,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    /// Records go to this file (`--out`) instead of stdout.
    out_file: Option<PathBuf>,
}

fn collect(stream: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            let mut s = into.lock().unwrap_or_else(|e| e.into_inner());
            s.push_str(&line);
            s.push('\n');
        }
    });
}

impl Serve {
    /// Starts `ikesim serve` on `ip` (the OS picks the port) with these `[tunnel.aws]`
    /// options, and waits until it listens.
    fn start(dir: &Path, ip: &str, aws_options: &str, out: bool) -> Serve {
        Serve::listen(dir, &format!("{ip}:0"), aws_options, out)
    }

    /// Starts `ikesim serve` listening on `listen` (`ip:port`).
    fn listen(dir: &Path, listen: &str, aws_options: &str, out: bool) -> Serve {
        let config = dir.join("serve.toml");
        let text = format!(
            "vpn_connection_id = \"{VPN}\"\n[cgw]\noutside_ip = \"127.0.0.1\"\n[[tunnel]]\nlisten = \"{listen}\"\n\
             [tunnel.aws]\npre_shared_key = \"{PSK}\"\n{aws_options}\n"
        );
        std::fs::write(&config, text).expect("write serve config");
        let mut cmd = common::ikesim();
        cmd.args(["serve", "-vv", "--config"]).arg(&config);
        let out_dir = dir.join("logs");
        if out {
            cmd.arg("--out").arg(&out_dir);
        }
        let mut child = cmd
            .env("RUST_LOG", "sim=debug,info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ikesim serve");
        // For the next run, should this one be killed before it can stop serve (see run_dir).
        let _ = std::fs::write(dir.join("serve.pid"), child.id().to_string());
        let (stdout, stderr) = (
            Arc::new(Mutex::new(String::new())),
            Arc::new(Mutex::new(String::new())),
        );
        collect(child.stdout.take().expect("stdout"), stdout.clone());
        collect(child.stderr.take().expect("stderr"), stderr.clone());
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = loop {
            let text = stderr.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let listening = text.lines().find_map(|l| {
                let rest = l.split("listening on ").nth(1)?;
                rest.split_whitespace().next()?.parse::<SocketAddr>().ok()
            });
            if let Some(addr) = listening {
                break addr;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("ikesim serve exited ({status}) before listening:\n{text}");
            }
            assert!(
                Instant::now() < deadline,
                "ikesim serve did not start listening within 10 s:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let out_file = out.then(|| out_dir.join(format!("{VPN}-{}.jsonl", addr.ip())));
        Serve {
            child,
            addr,
            stdout,
            stderr,
            out_file,
        }
    }

    /// Every record written so far (JSON).
    fn records(&self) -> Vec<Value> {
        let text = match &self.out_file {
            Some(f) => std::fs::read_to_string(f).unwrap_or_default(),
            None => self
                .stdout
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        };
        text.lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("record {l:?} is not JSON: {e}"))
            })
            .collect()
    }

    fn details(&self) -> Vec<String> {
        self.records()
            .iter()
            .map(|r| r["details"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sends SIGINT (Ctrl-C) and returns the exit status.
    fn interrupt(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("ikesim serve did not stop within 5 s of SIGINT");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One strongSwan charon driven by tests/interop/strongswan-peer.sh.
struct Peer {
    dir: PathBuf,
    /// `start` (an initiator for `ikesim serve`) or `respond`.
    mode: &'static str,
    env: Vec<(String, String)>,
    /// charon's IKE port and NAT-T port (it moves there after IKE_SA_INIT).
    port: u16,
    natt_port: u16,
    /// How many charons this peer has started: each restart keeps the log of the one
    /// before as `charon.log.<n>`.
    starts: u32,
}

/// Two UDP ports for a charon, its IKE port and its NAT-T port, free right now: the OS
/// picks them on the wildcard address, which charon binds, and none is handed out twice
/// in this run. Another process may still take one before charon binds it:
/// [`Peer::start_charon`] then tries other ports.
fn free_udp_ports() -> (u16, u16) {
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
    fn script() -> PathBuf {
        common::repo().join("tests/interop/strongswan-peer.sh")
    }

    /// Writes the configuration and starts charon, the CGW of `ikesim serve` at `sim`.
    fn start(dir: &Path, sim: SocketAddr, settings: &[(&str, &str)]) -> Peer {
        let env = [
            ("SIM_HOST", sim.ip().to_string()),
            ("SIM_PORT", sim.port().to_string()),
        ];
        Peer::launch(dir, "start", &env, settings)
    }

    /// Writes a responder configuration and starts charon: it only listens, accepting the
    /// simulated CGW of `ikesim connect` at `cgw`.
    fn respond(dir: &Path, cgw: &str, settings: &[(&str, &str)]) -> Peer {
        Peer::launch(dir, "respond", &[("CGW_HOST", cgw.into())], settings)
    }

    fn launch(
        dir: &Path,
        mode: &'static str,
        env: &[(&str, String)],
        settings: &[(&str, &str)],
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
        };
        peer.start_charon();
        peer
    }

    /// Starts charon on two free ports; other ports when it could not bind them (exit
    /// status 3 of the script).
    fn start_charon(&mut self) {
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
    fn restart(&mut self) {
        self.start_charon();
    }

    fn command(&self, command: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg(Self::script())
            .arg(command)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, command: &str) -> Output {
        self.command(command)
            .output()
            .expect("run strongswan-peer.sh")
    }

    /// `swanctl --list-sas`.
    fn list(&self) -> String {
        text(&self.run("list").stdout)
    }

    /// The log of the charon running now (the last one started).
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("charon.log")).unwrap_or_default()
    }

    /// The log of the charon before the last restart, if any.
    fn previous_log(&self) -> Option<String> {
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

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// This run's work directory, `$TMPDIR/ikesim-interop-<uid>/<pid>`, one subdirectory per test.
/// The first call clears up after earlier runs that are over: a directory named after a
/// process that is no longer this suite's is removed, after its charons and `ikesim serve`s
/// are stopped, which an interrupted run leaves running (the script's `reap` signals only
/// a charon started from that directory, [`reap_serve`] only a serve with its
/// configuration). Directories of a run still going (another checkout, another target
/// directory) are left alone.
fn run_dir() -> &'static Path {
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
                    .is_ok_and(|c| c.starts_with("interop"))
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
fn reap_serve(dir: &Path) {
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
fn test_dir(name: &str) -> PathBuf {
    let dir = run_dir().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create test directory");
    dir
}

/// A UDP relay between charon and `ikesim serve`, a NAT in effect: charon sends to `addr`
/// (on serve's IP, so serve's identity is still the one charon expects), and each of
/// charon's source addresses gets its own socket on 127.0.0.1 that talks to serve. While
/// `blocking`, charon's IKE_AUTH requests (IKEv2) and encrypted main mode messages (IKEv1
/// message 5) are dropped and counted: IKE_SA_INIT (main mode 1 to 4) is answered, the
/// authentication never arrives.
struct Relay {
    addr: SocketAddr,
    blocking: Arc<AtomicBool>,
    dropped: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// An IKE message behind the non-ESP marker that the relay holds back: an IKEv2 IKE_AUTH
/// (exchange type 35) or an IKEv1 main mode (2) message with the encryption flag.
fn held_back(datagram: &[u8]) -> bool {
    let Some(ike) = datagram.strip_prefix(&[0u8; 4][..]) else {
        return false;
    };
    if ike.len() < 28 {
        return false;
    }
    match (ike[17] >> 4, ike[18]) {
        (2, 35) => true,
        (1, 2) => ike[19] & 1 != 0,
        _ => false,
    }
}

impl Relay {
    fn start(ip: IpAddr, serve: SocketAddr) -> Relay {
        let inside = UdpSocket::bind((ip, 0)).expect("bind the relay");
        inside
            .set_nonblocking(true)
            .expect("non-blocking relay socket");
        let addr = inside.local_addr().expect("the relay's address");
        let (blocking, dropped, stop) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (b, d, s) = (blocking.clone(), dropped.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut nat: Vec<(SocketAddr, UdpSocket)> = Vec::new();
            let mut buf = vec![0u8; 65_536];
            while !s.load(Ordering::SeqCst) {
                let mut idle = true;
                while let Ok((n, from)) = inside.recv_from(&mut buf) {
                    idle = false;
                    if b.load(Ordering::SeqCst) && held_back(&buf[..n]) {
                        d.fetch_add(1, Ordering::SeqCst);
                        continue;
                    }
                    let i = match nat.iter().position(|(charon, _)| *charon == from) {
                        Some(i) => i,
                        None => {
                            let outside =
                                UdpSocket::bind("127.0.0.1:0").expect("bind a relay socket");
                            outside
                                .set_nonblocking(true)
                                .expect("non-blocking relay socket");
                            nat.push((from, outside));
                            nat.len() - 1
                        }
                    };
                    let _ = nat[i].1.send_to(&buf[..n], serve);
                }
                for (charon, outside) in &nat {
                    while let Ok((n, _)) = outside.recv_from(&mut buf) {
                        idle = false;
                        let _ = inside.send_to(&buf[..n], charon);
                    }
                }
                if idle {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        });
        Relay {
            addr,
            blocking,
            dropped,
            stop,
            thread: Some(thread),
        }
    }

    fn block(&self, on: bool) {
        self.blocking.store(on, Ordering::SeqCst);
    }

    fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A test's two ends: ikesim serve and strongSwan (through a relay, for some).
struct Interop {
    serve: Serve,
    peer: Peer,
    relay: Option<Relay>,
}

/// Test `n` (unique per test within the suite) gets ikesim on 127.0.1.(100+n); charon's
/// ports are whatever is free.
fn interop(name: &str, n: u16, aws_options: &str, peer: &[(&str, &str)]) -> Interop {
    interop_with(name, n, aws_options, peer, false)
}

fn interop_with(
    name: &str,
    n: u16,
    aws_options: &str,
    peer: &[(&str, &str)],
    out: bool,
) -> Interop {
    interop_full(name, n, aws_options, peer, out, false)
}

/// charon talks to serve through a [`Relay`] (not blocking yet).
fn interop_relayed(name: &str, n: u16, aws_options: &str, peer: &[(&str, &str)]) -> Interop {
    interop_full(name, n, aws_options, peer, false, true)
}

fn interop_full(
    name: &str,
    n: u16,
    aws_options: &str,
    peer: &[(&str, &str)],
    out: bool,
    relay: bool,
) -> Interop {
    assert_strongswan_checked();
    let dir = test_dir(name);
    let serve = Serve::start(&dir, &format!("127.0.1.{}", 100 + n), aws_options, out);
    let relay = relay.then(|| Relay::start(serve.addr.ip(), serve.addr));
    let peer = Peer::start(&dir, relay.as_ref().map_or(serve.addr, |r| r.addr), peer);
    Interop { serve, peer, relay }
}

impl Interop {
    /// Everything needed to understand a failure: records, ikesim's diagnostics, strongSwan's log.
    fn report(&self) -> String {
        let tail = |s: String, n: usize| {
            let lines: Vec<&str> = s.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        };
        let mut extra = String::new();
        if let Some(relay) = &self.relay {
            extra += &format!("--- relay: {} datagrams held back ---\n", relay.dropped());
        }
        if let Some(log) = self.peer.previous_log() {
            extra += &format!(
                "--- charon.log of the charon before (tail) ---\n{}\n",
                tail(log, 40)
            );
        }
        format!(
            "\n--- AWS records ---\n{}\n--- ikesim serve stderr (tail) ---\n{}\n--- swanctl --list-sas ---\n{}\n\
             {extra}--- charon.log (tail) ---\n{}\n",
            self.serve.details().join("\n"),
            tail(self.serve.stderr(), 60),
            self.peer.list(),
            tail(self.peer.log(), 80)
        )
    }

    /// Waits for a record whose `details` contains `needle`; returns it.
    fn wait_record(&self, needle: &str, timeout: Duration) -> Value {
        self.wait_records(needle, 1, timeout).swap_remove(0)
    }

    /// Waits until `count` records' `details` contain `needle`; returns them all.
    fn wait_records(&self, needle: &str, count: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let found: Vec<Value> = self
                .serve
                .records()
                .into_iter()
                .filter(|r| r["details"].as_str().is_some_and(|d| d.contains(needle)))
                .collect();
            if found.len() >= count {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "not {count} AWS records with {needle:?} within {timeout:?}{}",
                self.report()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until strongSwan's log contains `needle`.
    fn wait_log(&self, needle: &str, timeout: Duration) {
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

    /// Waits until `swanctl --list-sas` satisfies `ok`.
    fn wait_list(&self, ok: impl Fn(&str) -> bool, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !ok(&self.peer.list()) {
            assert!(
                Instant::now() < deadline,
                "swanctl --list-sas never showed the expected SAs{}",
                self.report()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn initiate(&self) -> Output {
        self.peer.run("initiate")
    }

    /// strongSwan brings the tunnel up; returns the AWS records for phase 1 and phase 2.
    fn establish(&self) -> (Value, Value) {
        let out = self.initiate();
        assert!(
            out.status.success(),
            "swanctl --initiate failed:\n{}{}",
            text(&out.stdout),
            self.report()
        );
        let p1 = self.wait_record("Phase 1 IKE_SA established", Duration::from_secs(5));
        let p2 = self.wait_record("Phase 2 CHILD_SA established", Duration::from_secs(5));
        (p1, p2)
    }

    fn last(&self) -> Value {
        self.serve
            .records()
            .pop()
            .unwrap_or_else(|| panic!("no records{}", self.report()))
    }

    fn assert_states(&self, record: &Value, phase1: &str, phase2: &str) {
        assert_eq!(
            (
                record["ike_phase1_state"].as_str(),
                record["ike_phase2_state"].as_str()
            ),
            (Some(phase1), Some(phase2)),
            "{record}{}",
            self.report()
        );
    }
}

/// The SPIs in a record's details: `925b571e74d96524_i 7ff82b95f8a5ffeb_r` → both hex strings.
fn spis(record: &Value) -> Vec<String> {
    record["details"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|w| w.trim_end_matches(',').rsplit_once('_'))
        .filter(|(hex, suffix)| {
            ["i", "r", "o"].contains(suffix)
                && hex.len() >= 8
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
        })
        .map(|(hex, _)| hex.to_owned())
        .collect()
}

/// strongSwan's list shows the IKE SA AWS logged, with the same SPIs (strongSwan is the
/// initiator: `<spi_i>_i* <spi_r>_r`), and the CHILD SA with AWS's inbound SPI as its
/// outbound one.
fn assert_same_sas(t: &Interop, p1: &Value, p2: &Value) {
    assert_same_sas_of(t, p1, p2, "IKEv2");
}

fn assert_same_sas_of(t: &Interop, p1: &Value, p2: &Value, version: &str) {
    let list = t.peer.list();
    let ike = spis(p1);
    assert_eq!(ike.len(), 2, "{p1}");
    assert!(
        list.contains(&format!(
            "ESTABLISHED, {version}, {}_i* {}_r",
            ike[0], ike[1]
        )),
        "{}",
        t.report()
    );
    let esp = spis(p2);
    assert_eq!(esp.len(), 2, "{p2}");
    assert!(list.contains("INSTALLED, TUNNEL-in-UDP"), "{}", t.report());
    assert!(
        list.contains(&format!("in  {},", esp[1])) && list.contains(&format!("out {},", esp[0])),
        "{}",
        t.report()
    );
}

#[test]
fn aes128_sha256_modp2048_establishes_and_ctrl_c_exits_0() {
    needs_strongswan!();
    let mut t = interop(
        "aes128",
        1,
        "",
        &[("IKE_PROPOSALS", "aes128-sha256-modp2048")],
    );
    let (p1, p2) = t.establish();
    assert_eq!(
        t.serve.details()[0],
        "AWS tunnel is negotiating Phase 1 IKE_SA with cgw: 127.0.0.1",
        "{}",
        t.report()
    );
    t.assert_states(&p2, "established", "established");
    // kernel-libipsec forces UDP encapsulation by faking a NAT: AWS's NAT detection sees it.
    assert_eq!(p2["nat_t_detected"], true, "{p2}");
    assert_same_sas(&t, &p1, &p2);
    assert!(
        t.peer
            .list()
            .contains("AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048"),
        "{}",
        t.report()
    );
    // Ctrl-C: records flushed, exit status 0.
    let before = t.serve.records().len();
    let status = t.serve.interrupt();
    assert!(
        status.success(),
        "ikesim serve exited with {status} on SIGINT{}",
        t.report()
    );
    assert_eq!(t.serve.records().len(), before);
}

#[test]
fn aes256gcm16_prfsha384_ecp384_establishes() {
    needs_strongswan!();
    let t = interop(
        "gcm",
        2,
        "",
        &[
            ("IKE_PROPOSALS", "aes256gcm16-prfsha384-ecp384"),
            ("ESP_PROPOSALS", "aes256gcm16-ecp384"),
        ],
    );
    let (p1, p2) = t.establish();
    t.assert_states(&p2, "established", "established");
    assert_same_sas(&t, &p1, &p2);
    let list = t.peer.list();
    assert!(
        list.contains("AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384"),
        "{}",
        t.report()
    );
    assert!(list.contains("ESP:AES_GCM_16-256"), "{}", t.report());
}

#[test]
fn invalid_ke_payload_then_the_cgw_retries_with_the_group_aws_asks_for() {
    needs_strongswan!();
    // strongSwan sends its KE for ecp256 (its first group); AWS picks the lowest group
    // both allow, MODP-2048 (14), and asks for it; strongSwan retries.
    let t = interop(
        "invalid-ke",
        3,
        "",
        &[("IKE_PROPOSALS", "aes128-sha256-ecp256-modp2048")],
    );
    let (p1, p2) = t.establish();
    let details = t.serve.details();
    assert!(
        details
            .iter()
            .any(|d| d == "AWS tunnel is sending INVALID_KE_PAYLOAD, requesting DH group 14"),
        "{}",
        t.report()
    );
    assert!(
        t.peer
            .log()
            .contains("peer didn't accept DH group ECP_256, it requested MODP_2048"),
        "{}",
        t.report()
    );
    assert_same_sas(&t, &p1, &p2);
    assert!(
        t.peer.list().contains("PRF_HMAC_SHA2_256/MODP_2048"),
        "{}",
        t.report()
    );
}

#[test]
fn wrong_psk_is_a_pre_shared_key_mismatch() {
    needs_strongswan!();
    let t = interop("psk", 4, "", &[("PSK", "NotTheAwsPsk99")]);
    let out = t.initiate();
    assert!(
        !out.status.success(),
        "swanctl --initiate succeeded with the wrong PSK{}",
        t.report()
    );
    t.wait_record(
        "AWS tunnel is sending AUTHENTICATION_FAILED as the response",
        Duration::from_secs(5),
    );
    let details = t.serve.details();
    let mismatch = details
        .iter()
        .position(|d| d == "AWS tunnel detected a pre-shared key mismatch with cgw: 127.0.0.1")
        .unwrap_or_else(|| panic!("no PSK mismatch record{}", t.report()));
    assert_eq!(
        details[mismatch + 1],
        "AWS tunnel is sending AUTHENTICATION_FAILED as the response"
    );
    t.assert_states(&t.last(), "down", "down");
    t.wait_log(
        "received AUTHENTICATION_FAILED notify error",
        Duration::from_secs(5),
    );
    assert!(!t.peer.list().contains("ESTABLISHED"), "{}", t.report());
}

#[test]
fn ike_proposal_aws_does_not_support_3des() {
    needs_strongswan!();
    let t = interop("3des", 5, "", &[("IKE_PROPOSALS", "3des-sha256-modp2048")]);
    let out = t.initiate();
    assert!(
        !out.status.success(),
        "swanctl --initiate succeeded with 3DES{}",
        t.report()
    );
    t.wait_record("No Proposal Match Found by AWS", Duration::from_secs(5));
    t.assert_states(&t.last(), "down", "down");
    t.wait_log(
        "received NO_PROPOSAL_CHOSEN notify error",
        Duration::from_secs(5),
    );
}

#[test]
fn ike_proposal_aws_is_not_configured_for_modp1024() {
    needs_strongswan!();
    // MODP-1024 (group 2) is one AWS allows, but this tunnel's options leave it out.
    let t = interop(
        "modp1024",
        6,
        "phase1_dh_group_numbers = [14, 19, 20]",
        &[("IKE_PROPOSALS", "aes128-sha256-modp1024")],
    );
    let out = t.initiate();
    assert!(
        !out.status.success(),
        "swanctl --initiate succeeded with MODP-1024{}",
        t.report()
    );
    t.wait_record(
        "No Proposal Match Found. Notifying with \"No proposal chosen\"",
        Duration::from_secs(5),
    );
    t.assert_states(&t.last(), "down", "down");
    t.wait_log(
        "received NO_PROPOSAL_CHOSEN notify error",
        Duration::from_secs(5),
    );
}

#[test]
fn esp_proposal_mismatch_keeps_phase_1() {
    needs_strongswan!();
    let t = interop(
        "esp",
        7,
        "phase2_encryption_algorithms = [\"AES256-GCM-16\"]",
        &[("ESP_PROPOSALS", "aes128-sha256-modp2048")],
    );
    let out = t.initiate();
    assert!(
        !out.status.success(),
        "swanctl --initiate succeeded without a common ESP proposal{}",
        t.report()
    );
    let failed = t.wait_record(
        "AWS tunnel Phase 2 was unable to establish while keeping Phase 1",
        Duration::from_secs(5),
    );
    t.assert_states(&failed, "established", "down");
    let details = t.serve.details();
    assert!(
        details
            .iter()
            .any(|d| d.starts_with("AWS tunnel Phase 1 IKE_SA established")),
        "{}",
        t.report()
    );
    assert!(
        details
            .iter()
            .any(|d| d == "No Proposal Match Found. Notifying with \"No proposal chosen\""),
        "{}",
        t.report()
    );
    t.wait_log(
        "received NO_PROPOSAL_CHOSEN notify, no CHILD_SA built",
        Duration::from_secs(5),
    );
    let list = t.peer.list();
    assert!(
        list.contains("ESTABLISHED, IKEv2") && !list.contains("sim-child"),
        "{}",
        t.report()
    );
}

#[test]
fn child_sa_rekey_initiated_by_strongswan() {
    needs_strongswan!();
    let t = interop("rekey-child", 8, "", &[]);
    let (_, p2) = t.establish();
    let out = t.peer.run("rekey-child");
    assert!(
        out.status.success(),
        "swanctl --rekey --child failed{}",
        t.report()
    );
    // IKE_SA_INIT was message 0, IKE_AUTH 1: the rekey is request 2.
    t.wait_record(
        "AWS tunnel processed request (id=2) for CREATE_CHILD_SA",
        Duration::from_secs(5),
    );
    t.wait_record(
        "AWS tunnel is sending response (id=2) for CREATE_CHILD_SA",
        Duration::from_secs(5),
    );
    let rekeyed = t.wait_record("CHILD_SA rekeyed", Duration::from_secs(5));
    t.assert_states(&rekeyed, "established", "established");
    // strongSwan deletes the old CHILD SA by its own inbound SPI: AWS's outbound one.
    let old = spis(&p2);
    t.wait_record(
        &format!(
            "AWS tunnel received DELETE for Phase 2 SA with SPI: {}",
            old[1]
        ),
        Duration::from_secs(5),
    );
    t.wait_log("CHILD_SA sim-child{2} established", Duration::from_secs(5));
    // strongSwan lists the new CHILD SA as installed and the old one, which it keeps for a
    // few seconds (delete_rekeyed_delay), as deleted.
    let new = spis(&rekeyed);
    let (new_in, new_out, old_in) = (
        format!("in  {},", new[1]),
        format!("out {},", new[0]),
        format!("in  {},", old[1]),
    );
    t.wait_list(
        |l| {
            let children: Vec<&str> = l.split("sim-child:").skip(1).collect();
            let state = |spi: &str| {
                children
                    .iter()
                    .find(|c| c.contains(spi))
                    .map(|c| c.contains("INSTALLED"))
            };
            state(&new_in) == Some(true) && l.contains(&new_out) && state(&old_in) != Some(true)
        },
        Duration::from_secs(5),
    );
}

#[test]
fn ike_sa_rekey_initiated_by_strongswan() {
    needs_strongswan!();
    let t = interop("rekey-ike", 9, "", &[]);
    let (p1, _) = t.establish();
    let out = t.peer.run("rekey-ike");
    assert!(
        out.status.success(),
        "swanctl --rekey --ike failed{}",
        t.report()
    );
    t.wait_record(
        "AWS tunnel processed request (id=2) for CREATE_CHILD_SA",
        Duration::from_secs(5),
    );
    let rekeyed = t.wait_record("IKE_SA rekeyed", Duration::from_secs(5));
    let new = spis(&rekeyed);
    assert_eq!(new.len(), 2, "{rekeyed}");
    assert_ne!(new, spis(&p1));
    t.wait_log("IKE_SA sim[2] rekeyed", Duration::from_secs(5));
    // strongSwan then deletes the old IKE SA; the new one carries on, with the CHILD SA.
    t.wait_log("IKE_SA deleted", Duration::from_secs(5));
    let list = t.peer.list();
    assert!(
        list.contains(&format!("ESTABLISHED, IKEv2, {}_i* {}_r", new[0], new[1])),
        "{}",
        t.report()
    );
    assert!(list.contains("INSTALLED"), "{}", t.report());
    std::thread::sleep(Duration::from_millis(200));
    t.assert_states(&t.last(), "established", "established");
}

#[test]
fn strongswan_terminating_sends_delete_and_out_writes_the_stream_file() {
    needs_strongswan!();
    let t = interop_with("terminate", 10, "", &[], true);
    t.establish();
    let out = t.peer.run("terminate");
    assert!(
        out.status.success(),
        "swanctl --terminate failed{}",
        t.report()
    );
    let deleted = t.wait_record(
        "AWS tunnel received DELETE for IKE_SA from CGW",
        Duration::from_secs(5),
    );
    t.assert_states(&deleted, "down", "down");
    assert!(!t.peer.list().contains("sim:"), "{}", t.report());
    assert!(t.peer.log().contains("IKE_SA deleted"), "{}", t.report());
    // --out: the records went to <vpn-id>-<outside-ip>.jsonl, not stdout.
    assert!(t
        .serve
        .stdout
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .is_empty());
}

#[test]
fn strongswan_killed_dpd_times_out_on_the_aws_side() {
    needs_strongswan!();
    let t = interop("dpd", 11, "dpd_timeout_seconds = 30", &[]);
    t.establish();
    // An idle tunnel: AWS checks liveness after 10 s of silence. strongSwan moved to its
    // NAT-T port in IKE_AUTH, and AWS's check must reach it there: a check sent to the old
    // port makes strongSwan see its own address change and rekey its CHILD SA.
    t.wait_log(
        "parsed INFORMATIONAL request 0 [ ]",
        Duration::from_secs(15),
    );
    let log = t.peer.log();
    assert!(
        log.contains(&format!("to 127.0.0.1[{}]", t.peer.natt_port)),
        "{}",
        t.report()
    );
    assert!(!log.contains("endpoint changed"), "{}", t.report());
    assert_eq!(
        t.serve
            .details()
            .iter()
            .filter(|d| d.contains("CREATE_CHILD_SA"))
            .count(),
        0,
        "{}",
        t.report()
    );

    let killed = Instant::now();
    let out = t.peer.run("kill");
    assert!(out.status.success());
    let dead = t.wait_record("AWS tunnel DPD timed out after", Duration::from_secs(50));
    let took = killed.elapsed();
    assert_eq!(
        dead["details"],
        "AWS tunnel DPD timed out after 2 retransmits",
        "{}",
        t.report()
    );
    assert!(
        took <= Duration::from_secs(45),
        "DPD took {took:?}{}",
        t.report()
    );
    std::thread::sleep(Duration::from_millis(200));
    t.assert_states(&t.last(), "down", "down");
}

// `ikesim serve` on port 500 listens on 4500 too, as AWS: strongSwan starts on 500 and
// moves to 4500 (its faked NAT makes it), where every IKE datagram carries the marker.

/// How many datagrams charon's log says match `needle` (it logs each twice: once from the
/// socket, once from the IKE SA with its length).
fn packets(log: &str, needle: &str) -> usize {
    log.lines()
        .filter(|l| l.contains(needle) && l.ends_with("bytes)"))
        .count()
}

/// A loopback address of this run's own for test `n`: `serve` binds ports 500 and 4500
/// there, which another run of the suite at the same time must not share.
fn run_ip(n: u8) -> String {
    let pid = std::process::id();
    format!("127.{}.{}.{}", 40 + n, (pid >> 8) & 0xff, pid & 0xff)
}

fn strongswan_moves_from_500_to_4500(name: &str, n: u8, settings: &[(&str, &str)], version: &str) {
    assert_strongswan_checked();
    let dir = test_dir(name);
    let ip = run_ip(n);
    let serve = Serve::listen(&dir, &format!("{ip}:500"), "", false);
    assert!(
        serve
            .stderr()
            .contains(&format!("listening on {ip}:500 and {ip}:4500 (NAT-T)")),
        "{}",
        serve.stderr()
    );
    let peer = Peer::start(&dir, serve.addr, settings);
    let t = Interop {
        serve,
        peer,
        relay: None,
    };
    let (p1, p2) = t.establish();
    assert_eq!(p2["nat_t_detected"], true, "{p2}");
    assert_same_sas_of(&t, &p1, &p2, version);
    let list = t.peer.list();
    assert!(
        list.contains(&format!("remote '{ip}' @ {ip}[4500]")),
        "{}",
        t.report()
    );
    assert!(
        list.contains(&format!(
            "local  '127.0.0.1' @ 127.0.0.1[{}]",
            t.peer.natt_port
        )),
        "{}",
        t.report()
    );
    // The plain part of the handshake (IKE_SA_INIT; main mode 1-4) to 500, the rest to
    // 4500, answered from there.
    let log = t.peer.log();
    let plain = if version == "IKEv2" { 1 } else { 2 };
    let to_500 = format!(
        "sending packet: from 127.0.0.1[{}] to {ip}[500]",
        t.peer.port
    );
    let to_4500 = format!(
        "sending packet: from 127.0.0.1[{}] to {ip}[4500]",
        t.peer.natt_port
    );
    assert_eq!(packets(&log, &to_500), plain, "{}", t.report());
    assert!(log.find(&to_500) < log.find(&to_4500), "{}", t.report());
    assert!(
        log.contains(&format!("received packet: from {ip}[4500]")),
        "{}",
        t.report()
    );
    // Later exchanges stay there: strongSwan's DELETE reaches AWS on 4500.
    assert!(t.peer.run("terminate").status.success(), "{}", t.report());
    t.wait_record(
        "AWS tunnel received DELETE for IKE_SA from CGW",
        Duration::from_secs(5),
    );
    assert!(
        t.serve.stderr().contains(&format!("local={ip}:4500")),
        "{}",
        t.report()
    );
}

#[test]
fn serve_on_port_500_answers_strongswan_moving_to_4500() {
    needs_strongswan!();
    strongswan_moves_from_500_to_4500(
        "port-500",
        0,
        &[("IKE_PROPOSALS", "aes128-sha256-modp2048")],
        "IKEv2",
    );
}

#[test]
fn ikev1_serve_on_port_500_answers_strongswan_moving_to_4500() {
    needs_strongswan!();
    strongswan_moves_from_500_to_4500("v1-port-500", 1, &IKEV1, "IKEv1");
}

// strongSwan IKEv1 (main mode + quick mode, PFS) as the CGW against `ikesim serve`.

/// strongSwan speaking IKEv1 main mode with AWS's usual IKEv1 suite (PFS in quick mode).
const IKEV1: [(&str, &str); 3] = [
    ("IKE_VERSION", "1"),
    ("IKE_PROPOSALS", "aes256-sha1-modp2048"),
    ("ESP_PROPOSALS", "aes256-sha1-modp2048"),
];

fn ikev1_with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v: Vec<(&str, &str)> = IKEV1.to_vec();
    for (k, val) in extra {
        v.retain(|(key, _)| key != k);
        v.push((k, val));
    }
    v
}

#[test]
fn ikev1_aes256_sha1_modp2048_establishes_main_mode_and_quick_mode() {
    needs_strongswan!();
    let t = interop("v1-aes256", 19, "", &IKEV1);
    let (p1, p2) = t.establish();
    assert_eq!(
        t.serve.details()[0],
        "AWS tunnel is negotiating Phase 1 IKE_SA with cgw: 127.0.0.1",
        "{}",
        t.report()
    );
    t.assert_states(&p1, "established", "down");
    t.assert_states(&p2, "established", "established");
    // The IKEv1 SPIs are the cookies; strongSwan lists them the same way.
    assert_same_sas_of(&t, &p1, &p2, "IKEv1");
    let list = t.peer.list();
    assert!(
        list.contains("AES_CBC-256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_2048"),
        "{}",
        t.report()
    );
    assert!(
        list.contains("ESP:AES_CBC-256/HMAC_SHA1_96/MODP_2048"),
        "{}",
        t.report()
    );
    t.wait_log("CHILD_SA sim-child{1} established", Duration::from_secs(5));
}

#[test]
fn ikev1_wrong_psk_is_a_payload_decryption_failure() {
    needs_strongswan!();
    let t = interop("v1-psk", 20, "", &ikev1_with(&[("PSK", "NotTheAwsPsk99")]));
    let out = t.initiate();
    assert!(
        !out.status.success(),
        "swanctl --initiate succeeded with the wrong PSK{}",
        t.report()
    );
    let failed = t.wait_record(
        "AWS tunnel payload decryption was unsuccessful due to invalid Pre-shared Key",
        Duration::from_secs(5),
    );
    t.assert_states(&failed, "down", "down");
    assert!(
        !t.serve.details().iter().any(|d| d.contains("established")),
        "phase 1 came up with the wrong PSK{}",
        t.report()
    );
    // strongSwan hears nothing back for message 5 and gives up.
    t.wait_log(
        "establishing IKE_SA failed, peer not responding",
        Duration::from_secs(5),
    );
}

#[test]
fn ikev1_3des_is_refused() {
    needs_strongswan!();
    let t = interop(
        "v1-3des",
        21,
        "",
        &ikev1_with(&[("IKE_PROPOSALS", "3des-sha1-modp2048")]),
    );
    let out = t.initiate();
    assert!(
        !out.status.success(),
        "swanctl --initiate succeeded with 3DES{}",
        t.report()
    );
    let refused = t.wait_record("No Proposal Match Found by AWS", Duration::from_secs(5));
    t.assert_states(&refused, "down", "down");
    t.wait_log(
        "received NO_PROPOSAL_CHOSEN error notify",
        Duration::from_secs(5),
    );
}

#[test]
fn ikev1_strongswan_terminating_deletes_phase_2_then_phase_1() {
    needs_strongswan!();
    let t = interop("v1-terminate", 22, "", &IKEV1);
    let (_, p2) = t.establish();
    let out = t.peer.run("terminate");
    assert!(
        out.status.success(),
        "swanctl --terminate failed{}",
        t.report()
    );
    // strongSwan deletes its IPsec SA (by its inbound SPI: AWS's outbound one), then the
    // ISAKMP SA.
    let child = spis(&p2);
    t.wait_record(
        &format!(
            "AWS tunnel received DELETE for Phase 2 SA with SPI: {}",
            child[1]
        ),
        Duration::from_secs(5),
    );
    let deleted = t.wait_record(
        "AWS tunnel received DELETE for IKE_SA from CGW",
        Duration::from_secs(5),
    );
    t.assert_states(&deleted, "down", "down");
    assert!(!t.peer.list().contains("sim:"), "{}", t.report());
}

// strongSwan dying mid-exchange, and coming back after dying, against `ikesim serve`.

/// The half-open SA AWS drops when the CGW never authenticates (AWS's half-open timeout:
/// 30 s after it answered IKE_SA_INIT).
const HALF_OPEN_TIMEOUT: &str =
    "AWS tunnel Timeout: deleting un-established Phase 1 IKE_SA with cgw: 127.0.0.1";

/// AWS declaring the CGW dead by DPD: IKEv2's record, IKEv1's.
const DPD_DEAD: [&str; 2] = [
    "AWS tunnel DPD timed out after",
    "Peer is not responsive - Declaring peer dead",
];

fn dpd_dead(details: &[String]) -> Option<&String> {
    details
        .iter()
        .find(|d| DPD_DEAD.iter().any(|dead| d.contains(dead)))
}

/// strongSwan starts IKE_SA_INIT (IKEv1: main mode messages 1 to 4) and AWS answers, but
/// the relay drops its IKE_AUTH (message 5, logged by charon as `auth_sent`): charon is
/// waiting for the answer when it is SIGKILLed. `ikesim serve` must carry on with the
/// half-open SA; a fresh charon with the same configuration (on new ports, through the
/// relay now letting everything through) establishes; and 30 s after the first exchange
/// the half-open SA times out without taking the new SA down. Both charons have
/// `unique = never`: no INITIAL_CONTACT, which makes AWS drop every other SA of the
/// peer's address at once (the INITIAL_CONTACT tests below).
fn strongswan_killed_before_auth(
    name: &str,
    n: u16,
    settings: &[(&str, &str)],
    version: &str,
    auth_sent: &str,
) {
    let mut settings = settings.to_vec();
    settings.push(("UNIQUE", "never"));
    let mut t = interop_relayed(name, n, "", &settings);
    let relay = t.relay.as_ref().expect("a relay");
    relay.block(true);
    let started = Instant::now();
    // swanctl --initiate waits for an answer that will not come: in the background.
    let mut initiate = t
        .peer
        .command("initiate")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run strongswan-peer.sh initiate");
    t.wait_record(
        "AWS tunnel is negotiating Phase 1 IKE_SA with cgw: 127.0.0.1",
        Duration::from_secs(5),
    );
    t.wait_log(auth_sent, Duration::from_secs(5));
    let deadline = Instant::now() + Duration::from_secs(5);
    while relay.dropped() == 0 {
        assert!(
            Instant::now() < deadline,
            "the relay never held back charon's authentication{}",
            t.report()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = t.peer.run("kill");
    assert!(
        out.status.success(),
        "strongswan-peer.sh kill failed{}",
        t.report()
    );
    // swanctl ends when charon's socket goes away.
    let deadline = Instant::now() + Duration::from_secs(5);
    while initiate
        .try_wait()
        .expect("wait for swanctl --initiate")
        .is_none()
    {
        if Instant::now() > deadline {
            let _ = initiate.kill();
            let _ = initiate.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // serve is still there, and AWS never saw an authentication.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        matches!(t.serve.child.try_wait(), Ok(None)),
        "ikesim serve exited{}",
        t.report()
    );
    assert!(
        !t.serve.details().iter().any(|d| d.contains("established")),
        "{}",
        t.report()
    );
    assert!(!t.serve.stderr().contains("panicked"), "{}", t.report());

    relay.block(false);
    t.peer.restart();
    let (p1, p2) = t.establish();
    t.assert_states(&p2, "established", "established");
    assert_same_sas_of(&t, &p1, &p2, version);
    assert!(
        !t.peer.log().contains("INIT_CONTACT") && !t.peer.log().contains("INITIAL_CONTACT"),
        "{}",
        t.report()
    );
    let details = t.serve.details();
    let negotiating = details
        .iter()
        .filter(|d| d.starts_with("AWS tunnel is negotiating Phase 1"))
        .count();
    assert_eq!(negotiating, 2, "one negotiation per charon{}", t.report());

    // The half-open SA goes, 30 s after AWS answered the first charon; the tunnel stays up.
    let half_open = t.wait_record(
        HALF_OPEN_TIMEOUT,
        Duration::from_secs(40).saturating_sub(started.elapsed()),
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(29),
        "the half-open SA went after {took:?}{}",
        t.report()
    );
    t.assert_states(&half_open, "established", "established");
    std::thread::sleep(Duration::from_millis(500));
    let details = t.serve.details();
    assert_eq!(
        details
            .iter()
            .filter(|d| d.as_str() == HALF_OPEN_TIMEOUT)
            .count(),
        1,
        "{}",
        t.report()
    );
    assert!(
        dpd_dead(&details).is_none() && !details.iter().any(|d| d.contains("DELETE")),
        "{}",
        t.report()
    );
    t.assert_states(&t.last(), "established", "established");
    assert_same_sas_of(&t, &p1, &p2, version);
}

#[test]
fn serve_survives_strongswan_killed_before_ike_auth_and_the_half_open_sa_times_out() {
    needs_strongswan!();
    strongswan_killed_before_auth(
        "killed-before-auth",
        24,
        &[],
        "IKEv2",
        "generating IKE_AUTH request 1 [ IDi",
    );
}

#[test]
fn serve_survives_strongswan_killed_after_main_mode_message_4_and_the_half_open_sa_times_out() {
    needs_strongswan!();
    strongswan_killed_before_auth(
        "v1-killed-before-auth",
        25,
        &IKEV1,
        "IKEv1",
        "generating ID_PROT request 0 [ ID HASH",
    );
}

/// strongSwan is SIGKILLed with its tunnel up and comes back as a fresh charon with the
/// same identity (on new ports): its IKE_AUTH (IKEv1: main mode message 5) carries
/// INITIAL_CONTACT (`initial_contact` in its log), so AWS must forget the SA of the dead
/// charon. Had it kept it, AWS's DPD would declare that one dead 10 s + 30 s after the
/// kill: no DPD time-out may come within 46 s, while the new SA answers AWS's liveness
/// checks (`liveness` in the new charon's log) and stays up.
fn strongswan_reconnects_with_initial_contact(
    name: &str,
    n: u16,
    settings: &[(&str, &str)],
    version: &str,
    initial_contact: &str,
    liveness: &str,
) {
    let mut t = interop(name, n, "dpd_timeout_seconds = 30", settings);
    let (old_p1, old_p2) = t.establish();
    assert_same_sas_of(&t, &old_p1, &old_p2, version);
    let out = t.peer.run("kill");
    assert!(
        out.status.success(),
        "strongswan-peer.sh kill failed{}",
        t.report()
    );
    let killed = Instant::now();
    t.peer.restart();
    let out = t.initiate();
    assert!(
        out.status.success(),
        "swanctl --initiate failed:\n{}{}",
        text(&out.stdout),
        t.report()
    );
    let p1 = t
        .wait_records("Phase 1 IKE_SA established", 2, Duration::from_secs(5))
        .swap_remove(1);
    let p2 = t
        .wait_records("Phase 2 CHILD_SA established", 2, Duration::from_secs(5))
        .swap_remove(1);
    assert_ne!(spis(&p1), spis(&old_p1), "{}", t.report());
    t.assert_states(&p2, "established", "established");
    assert_same_sas_of(&t, &p1, &p2, version);
    assert!(
        t.peer.log().contains(initial_contact),
        "strongSwan sent no INITIAL_CONTACT{}",
        t.report()
    );

    // An idle tunnel whose CGW answers: AWS has nothing to log from here on.
    let before = t.serve.details().len();
    let window = Duration::from_secs(46);
    while killed.elapsed() < window {
        let details = t.serve.details();
        if let Some(dead) = dpd_dead(&details) {
            panic!(
                "AWS kept the dead charon's SA until DPD declared it dead ({dead:?}, {:?} after the kill){}",
                killed.elapsed(),
                t.report()
            );
        }
        t.assert_states(&t.last(), "established", "established");
        std::thread::sleep(Duration::from_millis(250));
    }
    t.wait_log(liveness, Duration::from_secs(1));
    assert_same_sas_of(&t, &p1, &p2, version);
    let details = t.serve.details();
    assert_eq!(
        details[before..],
        [] as [String; 0],
        "AWS logged more after the reconnect{}",
        t.report()
    );
}

#[test]
fn strongswan_reconnecting_with_initial_contact_replaces_the_stale_sa() {
    needs_strongswan!();
    strongswan_reconnects_with_initial_contact(
        "initial-contact",
        26,
        &[],
        "IKEv2",
        "generating IKE_AUTH request 1 [ IDi N(INIT_CONTACT)",
        "parsed INFORMATIONAL request 0 [ ]",
    );
}

#[test]
fn ikev1_strongswan_reconnecting_with_initial_contact_replaces_the_stale_sa() {
    needs_strongswan!();
    strongswan_reconnects_with_initial_contact(
        "v1-initial-contact",
        27,
        &IKEV1,
        "IKEv1",
        "generating ID_PROT request 0 [ ID HASH N(INITIAL_CONTACT) ]",
        "N(DPD)",
    );
}

// `ikesim connect`: the simulated CGW against a strongSwan responder.

/// `ikesim connect` (the simulated CGW on 127.0.2.(100+n)) and a strongSwan responder on
/// 127.0.0.1 (ports: whatever is free).
struct ConnectTest {
    dir: PathBuf,
    peer: Peer,
    cgw: String,
    stderr: Arc<Mutex<String>>,
}

/// Starts the responder with `peer` settings and writes the CGW connection: `cgw` holds
/// the `[tunnel.cgw]` keys besides `local` and `pre_shared_key` (the responder's unless
/// `cgw` names one).
fn connect_test(name: &str, n: u16, cgw: &str, peer: &[(&str, &str)]) -> ConnectTest {
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
    let peer = Peer::respond(&dir, &cgw_ip, peer);
    ConnectTest {
        dir,
        peer,
        cgw: cgw_ip,
        stderr: Arc::new(Mutex::new(String::new())),
    }
}

impl ConnectTest {
    fn command(&self, extra: &[&str]) -> Command {
        let mut cmd = common::ikesim();
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
    fn run(&self, extra: &[&str]) -> Output {
        let out = self.command(extra).output().expect("run ikesim connect");
        *self.stderr.lock().unwrap_or_else(|e| e.into_inner()) = text(&out.stderr);
        out
    }

    /// Starts `ikesim connect` and collects its stderr as it comes.
    fn spawn(&self, extra: &[&str]) -> Child {
        let mut child = self
            .command(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ikesim connect");
        collect(child.stderr.take().expect("stderr"), self.stderr.clone());
        child
    }

    fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Our CGW's IKE port and NAT-T port, from connect's first line
    /// (`CGW ip:port -> …; NAT-T port N`).
    fn ports(&self) -> (u16, u16) {
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
    fn assert_moved_to_nat_t(&self) {
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

    fn report(&self) -> String {
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

    fn wait_log(&self, needle: &str, timeout: Duration) {
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
    fn wait_line(&self, needle: &str, timeout: Duration) -> String {
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

    fn line(&self, needle: &str) -> String {
        self.stderr()
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("ikesim connect did not say {needle:?}{}", self.report()))
            .to_owned()
    }
}

/// The `<hex>_i <hex>_o` (or `_r`) SPIs of a line of `ikesim connect`, in order.
fn line_spis(line: &str) -> Vec<String> {
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
fn assert_child_matches(t: &ConnectTest, ours: &str) {
    let s = line_spis(ours);
    assert_eq!(s.len(), 2, "{ours}");
    t.wait_log(
        &format!("established with SPIs {}_i {}_o", s[1], s[0]),
        Duration::from_secs(5),
    );
}

#[test]
fn connect_ikev2_establishes_against_a_strongswan_responder() {
    needs_strongswan!();
    let t = connect_test(
        "connect-v2",
        12,
        "ike_proposals = [\"aes128-sha256-modp2048\"]\nesp_proposals = [\"aes128-sha256-modp2048\"]",
        &[],
    );
    let started = Instant::now();
    let out = t.run(&[]);
    assert!(
        out.status.success(),
        "ikesim connect failed ({}){}",
        out.status,
        t.report()
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}{}",
        started.elapsed(),
        t.report()
    );
    let ike = t.line("IKE SA established with 127.0.0.1:");
    assert!(
        ike.contains("ENCR_AES_CBC_128/AUTH_HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048"),
        "{}",
        t.report()
    );
    let s = line_spis(&ike);
    t.wait_log(
        &format!(
            "IKE_SA sim[1] established between 127.0.0.1[127.0.0.1]...{0}[{0}]",
            t.cgw
        ),
        Duration::from_secs(5),
    );
    assert_eq!(s.len(), 2, "{ike}");
    assert_child_matches(&t, &t.line("CHILD SA established"));
    assert!(
        t.stderr()
            .contains("tunnel up: phase 1 and phase 2 established"),
        "{}",
        t.report()
    );
    // strongSwan's faked NAT makes our CGW move to its NAT-T port after IKE_SA_INIT.
    assert!(ike.contains("NAT detected"), "{ike}");
    t.assert_moved_to_nat_t();
    // A CGW that stops deletes its IKE SA.
    t.wait_log("received DELETE for IKE_SA sim[1]", Duration::from_secs(5));
}

#[test]
fn connect_ikev1_establishes_main_mode_and_quick_mode_against_strongswan() {
    needs_strongswan!();
    let t = connect_test(
        "connect-v1",
        13,
        "ike_version = 1\nike_proposals = [\"aes256-sha1-modp2048\"]\nesp_proposals = [\"aes256-sha1-modp2048\"]",
        &IKEV1,
    );
    // --stay for a moment: strongSwan must keep the IPsec SA (kernel-libipsec refuses an SA
    // whose encapsulation mode ignores the NAT it faked, and deletes it at once).
    let out = t.run(&["--stay", "--duration", "2s"]);
    assert!(
        out.status.success(),
        "ikesim connect failed ({}){}",
        out.status,
        t.report()
    );
    let ike = t.line("IKE SA established with 127.0.0.1:");
    assert!(
        ike.contains("IKEv1")
            && ike.contains("ENCR_AES_CBC_256/AUTH_HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_2048"),
        "{ike}"
    );
    let child = t.line("CHILD SA established");
    assert!(child.contains("MODP_2048 (PFS)"), "{}", t.report());
    t.wait_log("IKE_SA sim[1] established", Duration::from_secs(5));
    assert_child_matches(&t, &child);
    let log = t.peer.log();
    assert!(
        !log.contains("failed to create SAD entry"),
        "{}",
        t.report()
    );
    assert!(!t.stderr().contains("deleted CHILD SA"), "{}", t.report());
    t.wait_log("received DELETE for IKE_SA sim[1]", Duration::from_secs(5));
    // Main mode 5 and everything after come from our NAT-T port (RFC 3947 §4).
    t.assert_moved_to_nat_t();
}

#[test]
fn connect_stay_rekeys_the_child_sa_against_strongswan() {
    needs_strongswan!();
    // Rekey at 20 s − 5 s (no fuzz): well inside the 30 s run. strongSwan's own lifetimes
    // are hours: the rekey is the CGW's.
    let t = connect_test(
        "connect-rekey",
        14,
        "ike_proposals = [\"aes128-sha256-modp2048\"]\nesp_proposals = [\"aes128-sha256-modp2048\"]\n\
         child_lifetime = \"20s\"\nrekey_margin = \"5s\"\nrekey_fuzz = 0",
        &[],
    );
    let started = Instant::now();
    let mut child = t.spawn(&["--stay", "--duration", "30s"]);
    let first = t.wait_line("CHILD SA established", Duration::from_secs(10));
    let rekeyed = t.wait_line("CHILD SA rekeyed", Duration::from_secs(25));
    let at = started.elapsed();
    assert!(
        at >= Duration::from_secs(14),
        "rekeyed after {at:?}{}",
        t.report()
    );
    // The new CHILD SA, with PFS (the rekey carries a KE), replaces the first one.
    let (old, new) = (line_spis(&first), line_spis(&rekeyed));
    assert_eq!(new.len(), 3, "{rekeyed}");
    assert_eq!(new[2], old[0], "{rekeyed}");
    t.wait_log(
        "parsed CREATE_CHILD_SA request 2 [ N(REKEY_SA) SA No KE TSi TSr ]",
        Duration::from_secs(5),
    );
    // strongSwan lists the new SPIs (ours mirrored) as installed, and the old one not.
    let (new_in, new_out, old_in) = (
        format!("in  {},", new[1]),
        format!("out {},", new[0]),
        format!("in  {},", old[1]),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let list = t.peer.list();
        let children: Vec<&str> = list.split("sim-child:").skip(1).collect();
        let installed = |spi: &str| {
            children
                .iter()
                .any(|c| c.contains(spi) && c.contains("INSTALLED"))
        };
        if installed(&new_in) && list.contains(&new_out) && !installed(&old_in) {
            assert!(
                list.contains("ESP:AES_CBC-128/HMAC_SHA2_256_128/MODP_2048"),
                "{}",
                t.report()
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "swanctl --list-sas never showed the new CHILD SA{}",
            t.report()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The run lasts its 30 s, then the CGW deletes its IKE SA and exits 0.
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for ikesim connect") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "ikesim connect did not stop after 30 s{}",
            t.report()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let took = started.elapsed();
    assert!(
        status.success(),
        "ikesim connect exited with {status}{}",
        t.report()
    );
    assert!(
        took >= Duration::from_secs(30),
        "ended after {took:?}{}",
        t.report()
    );
    t.wait_log("received DELETE for IKE_SA sim[1]", Duration::from_secs(5));
}

#[test]
fn connect_stay_rekeys_the_ikev1_ipsec_sa_with_a_new_quick_mode() {
    needs_strongswan!();
    // Rekey at 12 s − 4 s: strongSwan sees a quick mode for the same selectors ("detected
    // rekeying"), then the CGW deletes the old IPsec SA.
    let t = connect_test(
        "connect-v1-rekey",
        23,
        "ike_version = 1\nike_proposals = [\"aes256-sha1-modp2048\"]\nesp_proposals = [\"aes256-sha1-modp2048\"]\n\
         child_lifetime = \"12s\"\nrekey_margin = \"4s\"\nrekey_fuzz = 0",
        &IKEV1,
    );
    let mut child = t.spawn(&["--stay", "--duration", "12s"]);
    let first = t.wait_line("CHILD SA established", Duration::from_secs(10));
    let rekeyed = t.wait_line("CHILD SA rekeyed", Duration::from_secs(12));
    let (old, new) = (line_spis(&first), line_spis(&rekeyed));
    assert_eq!((new.len(), &new[2]), (3, &old[0]), "{rekeyed}");
    t.wait_log(
        "detected rekeying of CHILD_SA sim-child{1}",
        Duration::from_secs(5),
    );
    t.wait_log(
        &format!(
            "CHILD_SA sim-child{{2}} established with SPIs {}_i {}_o",
            new[1], new[0]
        ),
        Duration::from_secs(5),
    );
    t.wait_log(
        &format!("received DELETE for ESP CHILD_SA with SPI {}", old[0]),
        Duration::from_secs(5),
    );
    let list = t.peer.list();
    assert!(
        list.contains(&format!("in  {},", new[1])) && !list.contains(&format!("in  {},", old[1])),
        "{}",
        t.report()
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for ikesim connect") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "ikesim connect did not stop{}",
            t.report()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        status.success(),
        "ikesim connect exited with {status}{}",
        t.report()
    );
    t.wait_log("received DELETE for IKE_SA sim[1]", Duration::from_secs(5));
}

#[test]
fn connect_wrong_psk_exits_1_and_strongswan_logs_the_auth_failure() {
    needs_strongswan!();
    let t = connect_test(
        "connect-psk",
        15,
        "pre_shared_key = \"NotTheRightPsk1\"\nike_proposals = [\"aes128-sha256-modp2048\"]\n\
         esp_proposals = [\"aes128-sha256-modp2048\"]",
        &[],
    );
    let out = t.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", t.report());
    let err = t.stderr();
    assert!(
        err.contains("tunnel failed: IKE SA failed") && err.contains("AUTHENTICATION_FAILED"),
        "{}",
        t.report()
    );
    t.wait_log("but MAC mismatched", Duration::from_secs(5));
    t.wait_log(
        "generating IKE_AUTH response 1 [ N(AUTH_FAILED) ]",
        Duration::from_secs(5),
    );
}

#[test]
fn connect_ikev1_wrong_psk_exits_1_at_once() {
    needs_strongswan!();
    let t = connect_test(
        "connect-v1-psk",
        16,
        "ike_version = 1\npre_shared_key = \"NotTheRightPsk1\"\nike_proposals = [\"aes256-sha1-modp2048\"]\n\
         esp_proposals = [\"aes256-sha1-modp2048\"]",
        &IKEV1,
    );
    let started = Instant::now();
    let out = t.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", t.report());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}{}",
        started.elapsed(),
        t.report()
    );
    assert!(
        t.stderr().contains("the pre-shared keys differ"),
        "{}",
        t.report()
    );
    // strongSwan cannot decrypt main mode message 5.
    t.wait_log("decryption failed?", Duration::from_secs(5));
}

#[test]
fn connect_refused_proposal_exits_1_with_no_proposal_chosen() {
    needs_strongswan!();
    // strongSwan is configured for AES-128 only; the CGW offers 3DES.
    let t = connect_test(
        "connect-proposal",
        17,
        "ike_proposals = [\"3des-sha256-modp2048\"]\nesp_proposals = [\"aes128-sha256-modp2048\"]",
        &[],
    );
    let out = t.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", t.report());
    assert!(
        t.stderr().contains(
            "tunnel failed: IKE SA failed: the responder accepted none of our IKE proposals (NO_PROPOSAL_CHOSEN)"
        ),
        "{}",
        t.report()
    );
    t.wait_log("received proposals unacceptable", Duration::from_secs(5));
    t.wait_log(
        "generating IKE_SA_INIT response 0 [ N(NO_PROP) ]",
        Duration::from_secs(5),
    );
}

#[test]
fn connect_ikev1_refused_proposals_exit_1_with_no_proposal_chosen() {
    needs_strongswan!();
    let t = connect_test(
        "connect-v1-proposal",
        18,
        "ike_version = 1\nike_proposals = [\"aes128-sha256-modp2048\"]\nesp_proposals = [\"aes256-sha1-modp2048\"]",
        &IKEV1,
    );
    let out = t.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", t.report());
    assert!(
        t.stderr()
            .contains("the responder accepted none of our IKE proposals (NO_PROPOSAL_CHOSEN)"),
        "{}",
        t.report()
    );
    t.wait_log("no proposal found", Duration::from_secs(5));
}

// `serve`'s command line, without strongSwan.

#[test]
fn serve_print_config_is_a_working_config() {
    let dir = common::temp_dir("serve-print-config");
    let out = common::run_ok(&["serve", "--print-config"]);
    let file = dir.join("serve.toml");
    std::fs::write(&file, &out).expect("write config");
    let mut child = common::ikesim()
        .args([
            "serve",
            "--config",
            file.to_str().unwrap_or_default(),
            "--listen",
            "127.0.1.99:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ikesim serve");
    let stderr = Arc::new(Mutex::new(String::new()));
    collect(child.stderr.take().expect("stderr"), stderr.clone());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !stderr
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains("listening on 127.0.1.99:")
    {
        assert!(
            Instant::now() < deadline,
            "not listening: {}",
            stderr.lock().unwrap_or_else(|e| e.into_inner())
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // No pre_shared_key in the template: AWS generates one and says so.
    assert!(stderr
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains("(generated)"));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status}");
}

#[test]
fn serve_binds_outside_loopback_only_when_told_on_the_command_line() {
    let dir = common::temp_dir("serve-non-loopback");
    let file = dir.join("serve.toml");
    std::fs::write(&file, "[[tunnel]]\nlisten = \"192.0.2.10:4500\"\n").expect("write config");
    let out = common::run(&["serve", "--config", file.to_str().unwrap_or_default()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("serve.toml:2")
            && err.contains("tunnel[1].listen")
            && err.contains("--listen"),
        "{err}"
    );
    let out = common::run(&["serve", "--listen", "0.0.0.0:4500"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("wildcard"),
        "{}",
        text(&out.stderr)
    );
    let out = common::run(&["serve", "--psk", "short"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("8 to 64"),
        "{}",
        text(&out.stderr)
    );
}

// `connect`'s command line, and `connect` against `ikesim serve`, without strongSwan.

#[test]
fn connect_bad_input_exits_2_naming_file_line_and_key() {
    let dir = common::temp_dir("connect-bad-input");
    let write = |name: &str, text: &str| {
        let f = dir.join(name);
        std::fs::write(&f, text).expect("write config");
        f.display().to_string()
    };
    let run = |file: &str, extra: &[&str]| {
        let out = common::ikesim()
            .args(["connect", "--config", file, "--peer", "127.0.0.1:24999"])
            .args(extra)
            .env("NO_COLOR", "1")
            .output()
            .expect("run ikesim connect");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{file} {extra:?}: {}",
            text(&out.stderr)
        );
        text(&out.stderr)
    };
    let unknown = write(
        "unknown.toml",
        "pre_shared_key = \"TestPSK123456\"\nike_lifetme = \"1h\"\n",
    );
    let e = run(&unknown, &[]);
    assert!(
        e.contains("line 2") && e.contains("unknown field `ike_lifetme`"),
        "{e}"
    );
    let outside = write(
        "outside.toml",
        "pre_shared_key = \"TestPSK123456\"\nlocal = \"192.0.2.1\"\n",
    );
    let e = run(&outside, &[]);
    assert!(
        e.contains("outside.toml:2: `local`") && e.contains("--local"),
        "{e}"
    );
    let no_psk = write("no-psk.toml", "ike_version = 2\n");
    assert!(run(&no_psk, &[]).contains("pre-shared key"));
    let ok = write("ok.toml", "pre_shared_key = \"TestPSK123456\"\n");
    assert!(run(&ok, &["--local", "0.0.0.0"]).contains("wildcard"));
    let out = common::ikesim()
        .args(["connect", "--config", &ok, "--peer", "not-an-address"])
        .output()
        .expect("run ikesim connect");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(run(&dir.join("missing.toml").display().to_string(), &[]).contains("cannot read"));
}

#[test]
fn connect_to_ikesim_serve_ikev2_and_ikev1_and_nothing_there_is_a_timeout() {
    let dir = test_dir("connect-serve");
    let serve = Serve::start(&dir, "127.0.1.97", "", false);
    let cgw = |name: &str, extra: &str| {
        let f = dir.join(name);
        std::fs::write(
            &f,
            format!("local = \"127.0.0.1\"\npre_shared_key = \"{PSK}\"\n{extra}\n"),
        )
        .expect("write");
        f
    };
    let connect = |file: &Path, peer: &str, extra: &[&str]| {
        common::ikesim()
            .arg("connect")
            .arg("--config")
            .arg(file)
            .args(["--peer", peer])
            .args(extra)
            .env("NO_COLOR", "1")
            .output()
            .expect("run ikesim connect")
    };
    let peer = serve.addr.to_string();
    let v2 = connect(&cgw("v2.toml", ""), &peer, &[]);
    assert!(v2.status.success(), "{}", text(&v2.stderr));
    let v1 = cgw(
        "v1.toml",
        "ike_version = 1\nike_proposals = [\"aes256-sha1-modp2048\"]\nesp_proposals = [\"aes256-sha1-modp2048\"]",
    );
    let out = connect(&v1, &peer, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let details = serve.details();
        let count = |needle: &str| details.iter().filter(|d| d.contains(needle)).count();
        if count("AWS tunnel received DELETE for IKE_SA from CGW") == 2 {
            assert_eq!(
                count("Phase 1 IKE_SA established with cgw: 127.0.0.1"),
                2,
                "{details:?}"
            );
            assert_eq!(count("Phase 2 CHILD_SA established"), 2, "{details:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "AWS records: {details:?}\n{}",
            serve.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // No responder: a timeout, said as such.
    let out = connect(
        &cgw("v2.toml", ""),
        "127.0.1.98:24998",
        &["--duration", "1s"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("timeout: no answer from 127.0.1.98:24998"),
        "{}",
        text(&out.stderr)
    );
}
