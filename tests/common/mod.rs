//! Shared helpers for the end-to-end tests: they run the real `ikesim` binary, whose
//! hosts talk over real loopback UDP.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

pub mod records;

pub fn ikesim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ikesim"))
}

/// Runs `ikesim ARGS`, asserts it succeeded, and returns stdout.
pub fn run_ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "ikesim {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

pub fn run(args: &[&str]) -> Output {
    ikesim().args(args).output().expect("run ikesim")
}

/// The repository's top directory.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Names of the built-in scenarios, from `ikesim list --json`.
pub fn builtin_scenarios() -> Vec<String> {
    run_ok(&["list", "--json"])
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).expect("list --json gives JSON lines");
            v["name"].as_str().expect("name").to_owned()
        })
        .collect()
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ikesim-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// The variable that turns a missing dependency from a skip into a failure. `.ci/run` sets
/// it, so CI never skips silently.
pub const REQUIRE_PEERS: &str = "IKESIM_REQUIRE_PEERS";

/// Something outside the workspace a test needs: privileges or a real program to talk to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Root: charon binds ports and opens a TUN device.
    Root,
    /// A real strongSwan (charon, swanctl, the kernel-libipsec plugin) and /dev/net/tun,
    /// which kernel-libipsec's userspace ESP needs.
    StrongSwan,
    /// Wireshark's command-line dissector.
    Tshark,
    /// moto's server and boto3 in the venv `.ci/moto-venv` makes (the CloudWatch tests).
    Moto,
    /// Debian's Chromium, headless, for the timeline page's browser test.
    Chromium,
    /// `ip` (network namespaces, addresses) and `ping`: traffic through a real CGW's tunnel
    /// runs in a namespace the test creates (tests/interop/netns.rs).
    Netns,
}

const CHARON: &str = "/usr/lib/ipsec/charon";
/// Debian's Chromium (package chromium) installs this command.
pub const CHROMIUM: &str = "chromium";
const KERNEL_LIBIPSEC: &str = "/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so";

impl Need {
    /// What of it this machine lacks (empty when it is all there).
    fn missing(self) -> Vec<String> {
        let mut missing = Vec::new();
        match self {
            Need::Root => {
                if !is_root() {
                    missing.push("root (charon binds ports and opens a TUN device)".to_owned());
                }
            }
            Need::StrongSwan => {
                if !std::path::Path::new(CHARON).exists() {
                    missing.push(format!("{CHARON} (package strongswan-charon)"));
                }
                if !on_path("swanctl") {
                    missing.push("swanctl (package strongswan-swanctl)".to_owned());
                }
                if !std::path::Path::new(KERNEL_LIBIPSEC).exists() {
                    missing.push(
                        "the kernel-libipsec plugin (package libcharon-extra-plugins)".to_owned(),
                    );
                }
                if !std::path::Path::new("/dev/net/tun").exists() {
                    missing.push("/dev/net/tun (kernel-libipsec's userspace ESP needs it)".into());
                }
            }
            Need::Tshark => {
                if !on_path("tshark") {
                    missing.push("tshark (package tshark)".to_owned());
                }
            }
            Need::Moto => missing.extend(moto_missing()),
            Need::Chromium => {
                if !on_path(CHROMIUM) {
                    missing.push("chromium (package chromium)".to_owned());
                }
            }
            Need::Netns => {
                if !on_path("ip") {
                    missing.push("ip (package iproute2)".to_owned());
                }
                if !on_path("ping") {
                    missing.push("ping (package iputils-ping)".to_owned());
                }
            }
        }
        missing
    }

    /// How to get it, as .ci/run does.
    fn install(self) -> &'static str {
        match self {
            Need::Root => "run the tests as root (sudo -E cargo test --workspace)",
            Need::StrongSwan => {
                "apt-get install --no-install-recommends strongswan-charon strongswan-swanctl \
                 libstrongswan-standard-plugins libcharon-extra-plugins"
            }
            Need::Tshark => "apt-get install --no-install-recommends tshark",
            Need::Moto => MOTO_INSTALL,
            Need::Chromium => "apt-get install --no-install-recommends chromium",
            Need::Netns => "apt-get install --no-install-recommends iproute2 iputils-ping",
        }
    }
}

/// Whether everything in `needs` is on this machine (no output).
pub fn have(needs: &[Need]) -> bool {
    needs.iter().all(|need| need.missing().is_empty())
}

/// Whether the calling test can run here. When something in `needs` is missing it says so
/// on stderr (`skipped: needs …, install with …`; visible with `--nocapture`) and returns
/// false, and the test returns at once and passes — so `cargo test --workspace` passes on a
/// fresh machine. With `IKESIM_REQUIRE_PEERS=1` a missing dependency fails the test instead.
pub fn can_run(needs: &[Need]) -> bool {
    let missing: Vec<(Need, Vec<String>)> = needs
        .iter()
        .map(|&need| (need, need.missing()))
        .filter(|(_, missing)| !missing.is_empty())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let what: Vec<String> = missing.iter().flat_map(|(_, m)| m.clone()).collect();
    let how: Vec<&str> = missing.iter().map(|(need, _)| need.install()).collect();
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_owned();
    let message = format!(
        "needs {}, install with: {} (test {test})",
        what.join(", "),
        how.join("; ")
    );
    assert!(
        std::env::var(REQUIRE_PEERS).as_deref() != Ok("1"),
        "{message}; {REQUIRE_PEERS}=1 is set, so this fails instead of skipping"
    );
    eprintln!("skipped: {message}; set {REQUIRE_PEERS}=1 to fail instead of skipping");
    false
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Whether `program` is an executable file in a directory of `PATH`.
fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

// moto's server for the CloudWatch tests: `Moto` (start on a free port, killed on drop),
// `aws_env` (fake credentials for a child), the venv's paths. One file, shared with
// crates/delivery/tests/moto.rs, which cannot use this module (no ikesim binary there).
#[path = "../cloudwatch/moto.rs"]
mod moto;
#[allow(unused_imports)] // Each test crate uses its own part of this module.
pub use moto::{aws_env, moto_aws_cli, moto_missing, moto_python, moto_venv, Moto, MOTO_INSTALL};

/// A running `ikesim serve` (started from `cmd`, with its stderr piped) and the address it
/// said it listens on; its stderr lines are collected as they come.
pub struct Serving {
    pub child: std::process::Child,
    pub addr: std::net::SocketAddr,
    lines: std::sync::mpsc::Receiver<String>,
    told: Vec<String>,
}

impl Serving {
    /// Spawns `cmd` (an `ikesim serve …`) and waits up to 20 s for "listening on ADDR".
    pub fn start(cmd: &mut Command) -> Serving {
        use std::io::BufRead;
        use std::process::Stdio;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ikesim serve");
        let err = child.stderr.take().expect("stderr");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut told = Vec::new();
        let addr = loop {
            let line = lines
                .recv_timeout(std::time::Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("serve did not start: {told:?}"));
            let listening = line.split("listening on ").nth(1).and_then(|rest| {
                rest.split_whitespace()
                    .next()
                    .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
            });
            told.push(line);
            if let Some(addr) = listening {
                break addr;
            }
        };
        Serving {
            child,
            addr,
            lines,
            told,
        }
    }

    /// `ikesim connect` from `local` with `psk` (its config written into `dir`) to serve:
    /// asserts the tunnel came up.
    pub fn connect(&self, dir: &std::path::Path, local: &str, psk: &str) {
        let cgw = dir.join("cgw.toml");
        std::fs::write(
            &cgw,
            format!("local = \"{local}\"\npre_shared_key = \"{psk}\"\n"),
        )
        .expect("write the CGW's config");
        let out = ikesim()
            .args(["connect", "--config"])
            .arg(&cgw)
            .args(["--peer", &self.addr.to_string()])
            .env("NO_COLOR", "1")
            .output()
            .expect("run ikesim connect");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Ctrl-C: waits for serve to exit and returns its status and everything it said on
    /// stderr.
    pub fn interrupt(mut self) -> (std::process::ExitStatus, String) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().expect("serve exits");
        while let Ok(line) = self.lines.recv_timeout(std::time::Duration::from_secs(2)) {
            self.told.push(line);
        }
        (status, self.told.join("\n"))
    }
}
