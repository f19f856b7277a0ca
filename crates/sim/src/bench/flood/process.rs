//! The processes a flood figure runs: `ikesim serve` with two or more tunnels and
//! `ikesim connect` CGWs (children of the current executable), and what /proc says about
//! them (proc(5): VmRSS and VmHWM in /proc/PID/status, utime and stime in /proc/PID/stat).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use vpn_log::TunnelRecord;

use crate::bench::BenchError;

/// The VPN connection of the bench's `serve` (it names the record files).
const VPN: &str = "vpn-0f100d00000000000";

/// AWS's DPD time-out the tunnels are given: the least AWS allows.
pub const DPD_TIMEOUT_S: u64 = 30;

/// The clock ticks per second of utime and stime: USER_HZ, 100 on Linux everywhere
/// (proc(5), `getconf CLK_TCK`).
const TICKS_PER_S: f64 = 100.0;

/// A running `ikesim serve`: its tunnels' addresses, record files and stderr.
pub struct Serve {
    child: Child,
    dir: PathBuf,
    /// Where each tunnel listens.
    pub tunnels: Vec<SocketAddr>,
}

fn unexpected(what: String) -> BenchError {
    BenchError::Unexpected(what)
}

impl Serve {
    /// Starts `exe serve` in `dir` with `tunnels` tunnels on 127.0.1.(`first_ip`+i), ports
    /// chosen by the OS, AWS's options but the shortest DPD time-out, no expected CGW (it
    /// answers any address, as the issue measured), records to files (`--out`), `-v`.
    pub fn start(exe: &Path, dir: &Path, tunnels: u8, first_ip: u8) -> Result<Serve, BenchError> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir)?;
        let mut text = format!("vpn_connection_id = \"{VPN}\"\n");
        for t in 0..tunnels {
            let _ = write!(
                text,
                "[[tunnel]]\nlisten = \"127.0.1.{}:0\"\n[tunnel.aws]\npre_shared_key = \
                 \"{}\"\ndpd_timeout_seconds = {DPD_TIMEOUT_S}\n",
                first_ip.wrapping_add(t),
                psk(usize::from(t))
            );
        }
        let config = dir.join("serve.toml");
        std::fs::write(&config, text)?;
        let stderr = std::fs::File::create(dir.join("serve.stderr"))?;
        let child = Command::new(exe)
            .args(["serve", "-v", "--config"])
            .arg(&config)
            .arg("--out")
            .arg(dir.join("records"))
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()?;
        let mut serve = Serve {
            child,
            dir: dir.to_owned(),
            tunnels: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let said = serve.stderr();
            serve.tunnels = said
                .lines()
                .filter_map(|l| {
                    let rest = l.split(" listening on ").nth(1)?;
                    rest.split_whitespace().next()?.parse().ok()
                })
                .collect();
            if serve.tunnels.len() == usize::from(tunnels) {
                return Ok(serve);
            }
            if let Ok(Some(status)) = serve.child.try_wait() {
                return Err(unexpected(format!(
                    "ikesim serve exited ({status}): {said}"
                )));
            }
            if Instant::now() > deadline {
                return Err(unexpected(format!("ikesim serve did not listen: {said}")));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything serve said on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("serve.stderr")).unwrap_or_default()
    }

    /// Tunnel `t`'s records so far (0-based).
    pub fn records(&self, t: usize) -> Vec<TunnelRecord> {
        let Some(addr) = self.tunnels.get(t) else {
            return Vec::new();
        };
        let file = self
            .dir
            .join("records")
            .join(format!("{VPN}-{}.jsonl", addr.ip()));
        std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| TunnelRecord::parse_json(l).ok())
            .collect()
    }

    /// Waits up to `timeout` for a record of tunnel `t` whose details contain `needle`.
    pub fn wait_record(
        &self,
        t: usize,
        needle: &str,
        timeout: Duration,
    ) -> Result<TunnelRecord, BenchError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self
                .records(t)
                .into_iter()
                .find(|r| r.details.contains(needle))
            {
                return Ok(r);
            }
            if Instant::now() > deadline {
                return Err(unexpected(format!(
                    "no record of tunnel {} with {needle:?} within {timeout:?}",
                    t + 1
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A `kB` line of /proc/PID/status (`VmRSS`, `VmHWM`), in KiB.
    pub fn status_kib(&self, key: &str) -> Result<u64, BenchError> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        status
            .lines()
            .find_map(|line| {
                let rest = line.strip_prefix(key)?.strip_prefix(':')?;
                rest.split_whitespace().next()?.parse().ok()
            })
            .ok_or_else(|| unexpected(format!("/proc/{}/status has no {key}", self.pid())))
    }

    /// The CPU time serve has used so far (user + system), from /proc/PID/stat.
    pub fn cpu(&self) -> Result<Duration, BenchError> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))?;
        // The command name (field 2) is in parentheses and may hold spaces: count from
        // after its closing one, where field 3 starts; utime and stime are fields 14, 15.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
        match (tick(11), tick(12)) {
            (Some(u), Some(s)) => Ok(Duration::from_secs_f64(
                super::super::float(u + s) / TICKS_PER_S,
            )),
            _ => Err(unexpected(format!("/proc/{}/stat: {stat}", self.pid()))),
        }
    }

    /// Ctrl-C, and everything serve said (its `counters` lines among it).
    pub fn stop(mut self) -> Result<String, BenchError> {
        let _ = Command::new("kill")
            .args(["-INT", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return Err(unexpected("ikesim serve did not stop on SIGINT".into()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(self.stderr())
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

/// Tunnel `t`'s pre-shared key.
fn psk(t: usize) -> String {
    format!("ikesim.flood_bench_{t}")
}

/// A simulated CGW (`ikesim connect`) for one tunnel.
pub struct Cgw {
    child: Child,
    /// When it was started.
    pub started: Instant,
}

impl Cgw {
    /// `exe connect` from `local` (an IP; the OS picks the port) to tunnel `t` of
    /// `serve`; it answers AWS's DPD and sends none of its own (so AWS's DPD timing is the
    /// one measured); `stay` keeps it up until killed.
    pub fn start(
        exe: &Path,
        serve: &Serve,
        t: usize,
        local: &str,
        stay: bool,
    ) -> Result<Cgw, BenchError> {
        let peer = serve
            .tunnels
            .get(t)
            .ok_or_else(|| unexpected(format!("serve has no tunnel {}", t + 1)))?;
        let config = serve.dir.join(format!("cgw-{local}.toml"));
        std::fs::write(
            &config,
            format!(
                "local = \"{local}\"\npre_shared_key = \"{}\"\ndpd_delay = \"0s\"\n",
                psk(t)
            ),
        )?;
        let mut cmd = Command::new(exe);
        cmd.args(["connect", "--config"]).arg(&config).args([
            "--peer",
            &peer.to_string(),
            "--duration",
            "120s",
        ]);
        if stay {
            cmd.arg("--stay");
        }
        let child = cmd
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(Cgw {
            child,
            started: Instant::now(),
        })
    }

    /// Waits for a CGW without `stay` to end: how long it took to bring the tunnel up
    /// (from its start; it exits as soon as phase 2 is up).
    pub fn establishment(mut self) -> Result<Duration, BenchError> {
        let status = self.child.wait()?;
        let took = self.started.elapsed();
        if !status.success() {
            return Err(unexpected(format!(
                "ikesim connect failed ({status}) after {took:?}"
            )));
        }
        Ok(took)
    }

    /// SIGKILL: the CGW vanishes without a word. Returns when (UTC, the records' clock).
    pub fn kill(mut self) -> Result<DateTime<Utc>, BenchError> {
        let at = Utc::now();
        self.child.kill()?;
        let _ = self.child.wait();
        Ok(at)
    }
}

impl Drop for Cgw {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The numbers of the `counters` lines serve logs at exit (`stats = Stats { … }`):
/// `name: value` pairs summed over the tunnels, for the names given.
pub fn counters(stderr: &str, names: &[&str]) -> Vec<(String, u64)> {
    names
        .iter()
        .filter_map(|name| {
            let needle = format!("{name}: ");
            let mut found = false;
            let sum = stderr
                .lines()
                .filter(|l| l.contains("counters"))
                .filter_map(|l| {
                    let rest = l.split(&needle).nth(1)?;
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    found = true;
                    digits.parse::<u64>().ok()
                })
                .sum();
            found.then(|| ((*name).to_owned(), sum))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_summed_over_the_tunnels_and_absent_names_left_out() {
        let said = "INFO tunnel=1 stats=Stats { datagrams_in: 12, cookies_sent: 3, \
                    drops: Drops { a: 1 } } counters\n\
                    INFO tunnel=2 stats=Stats { datagrams_in: 30, cookies_sent: 0 } counters\n\
                    INFO datagrams_in: 99 elsewhere";
        assert_eq!(
            counters(said, &["datagrams_in", "cookies_sent", "half_open_expired"]),
            vec![
                ("datagrams_in".to_owned(), 42),
                ("cookies_sent".to_owned(), 3)
            ]
        );
    }
}
