//! `ikesim serve` as the end-to-end tests against real peers run it: a child process whose
//! records (stdout or `--out`) and diagnostics (stderr) are collected as they come.

#![allow(dead_code)] // Each test crate uses its own part of this module.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common;
use crate::strongswan::PSK;

/// The VPN connection of every `serve` here (it names the log streams).
pub const VPN: &str = "vpn-0123456789abcdef0";

/// `ikesim serve` with its stdout (records) and stderr (diagnostics) collected.
pub struct Serve {
    pub child: Child,
    pub addr: SocketAddr,
    pub stdout: Arc<Mutex<String>>,
    pub stderr: Arc<Mutex<String>>,
    /// Records go to this file (`--out`) instead of stdout.
    pub out_file: Option<PathBuf>,
}

pub fn collect(stream: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
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
    pub fn start(dir: &Path, ip: &str, aws_options: &str, out: bool) -> Serve {
        Serve::listen(dir, &format!("{ip}:0"), aws_options, out)
    }

    /// Starts `ikesim serve` listening on `listen` (`ip:port`).
    pub fn listen(dir: &Path, listen: &str, aws_options: &str, out: bool) -> Serve {
        let text = Serve::config_text(listen, aws_options);
        Serve::configured(dir, &text, out, ("-vv", "sim=debug,info"))
    }

    /// The configuration of one tunnel on `listen` for the CGW 127.0.0.1 with [`PSK`] and
    /// these `[tunnel.aws]` options (the last table: more tables may follow them).
    pub fn config_text(listen: &str, aws_options: &str) -> String {
        format!(
            "vpn_connection_id = \"{VPN}\"\n[cgw]\noutside_ip = \"127.0.0.1\"\n[[tunnel]]\nlisten = \"{listen}\"\n\
             [tunnel.aws]\npre_shared_key = \"{PSK}\"\n{aws_options}\n"
        )
    }

    /// Starts `ikesim serve` with the configuration `text` (written to `dir`/serve.toml),
    /// `verbosity` its flag and `RUST_LOG`, records to `dir`/logs (`out`) or stdout.
    pub fn configured(dir: &Path, text: &str, out: bool, verbosity: (&str, &str)) -> Serve {
        Serve::configured_in(dir, text, out, verbosity, None, &[])
    }

    /// [`Serve::configured`] inside the network namespace `netns` (`ip netns exec`, which
    /// execs ikesim: the child is serve itself), when one is named, with more arguments.
    pub fn configured_in(
        dir: &Path,
        text: &str,
        out: bool,
        verbosity: (&str, &str),
        netns: Option<&str>,
        args: &[&str],
    ) -> Serve {
        let config = dir.join("serve.toml");
        std::fs::write(&config, text).expect("write serve config");
        let mut cmd = match netns {
            Some(name) => {
                let mut cmd = Command::new("ip");
                cmd.args(["netns", "exec", name, env!("CARGO_BIN_EXE_ikesim")]);
                cmd
            }
            None => common::ikesim(),
        };
        cmd.args(["serve", verbosity.0, "--config"])
            .arg(&config)
            .args(args);
        let out_dir = dir.join("logs");
        if out {
            cmd.arg("--out").arg(&out_dir);
        }
        let mut child = cmd
            .env("RUST_LOG", verbosity.1)
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
    pub fn records(&self) -> Vec<Value> {
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

    /// Every record written so far to the `--out` file of the tunnel on `ip` (JSON).
    pub fn records_at(&self, ip: std::net::IpAddr) -> Vec<Value> {
        let dir = self.out_file.as_ref().and_then(|f| f.parent());
        let file = dir.map(|d| d.join(format!("{VPN}-{ip}.jsonl")));
        let text = file
            .and_then(|f| std::fs::read_to_string(f).ok())
            .unwrap_or_default();
        text.lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("record {l:?} is not JSON: {e}"))
            })
            .collect()
    }

    /// Where each tunnel listens, in order (`serve`'s `listening on` lines).
    pub fn tunnels(&self) -> Vec<SocketAddr> {
        self.stderr()
            .lines()
            .filter_map(|l| {
                let rest = l.split(" listening on ").nth(1)?;
                rest.split_whitespace().next()?.parse().ok()
            })
            .collect()
    }

    pub fn details(&self) -> Vec<String> {
        self.records()
            .iter()
            .map(|r| r["details"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sends SIGINT (Ctrl-C) and returns the exit status.
    pub fn interrupt(&mut self) -> std::process::ExitStatus {
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
