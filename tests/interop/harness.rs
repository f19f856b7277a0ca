//! A test's two ends, `ikesim serve` and a strongSwan CGW ([`Interop`]), and the checks
//! that the two agree on the SAs.

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::relay::Relay;
use crate::serve::Serve;
use crate::strongswan::{assert_strongswan_checked, test_dir, text, Peer};

/// A test's two ends: ikesim serve and strongSwan (through a relay, for some).
pub struct Interop {
    pub serve: Serve,
    pub peer: Peer,
    pub relay: Option<Relay>,
}

/// Test `n` (unique per test within the suite) gets ikesim on 127.0.1.(100+n); charon's
/// ports are whatever is free.
pub fn interop(name: &str, n: u16, aws_options: &str, peer: &[(&str, &str)]) -> Interop {
    interop_with(name, n, aws_options, peer, false)
}

pub fn interop_with(
    name: &str,
    n: u16,
    aws_options: &str,
    peer: &[(&str, &str)],
    out: bool,
) -> Interop {
    interop_full(name, n, aws_options, peer, out, false)
}

/// charon talks to serve through a [`Relay`] (not blocking yet).
pub fn interop_relayed(name: &str, n: u16, aws_options: &str, peer: &[(&str, &str)]) -> Interop {
    interop_full(name, n, aws_options, peer, false, true)
}

pub fn interop_full(
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
    pub fn report(&self) -> String {
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
    pub fn wait_record(&self, needle: &str, timeout: Duration) -> Value {
        self.wait_records(needle, 1, timeout).swap_remove(0)
    }

    /// Waits until `count` records' `details` contain `needle`; returns them all.
    pub fn wait_records(&self, needle: &str, count: usize, timeout: Duration) -> Vec<Value> {
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

    /// Waits until `swanctl --list-sas` satisfies `ok`.
    pub fn wait_list(&self, ok: impl Fn(&str) -> bool, timeout: Duration) {
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

    pub fn initiate(&self) -> Output {
        self.peer.run("initiate")
    }

    /// strongSwan brings the tunnel up; returns the AWS records for phase 1 and phase 2.
    pub fn establish(&self) -> (Value, Value) {
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

    pub fn last(&self) -> Value {
        self.serve
            .records()
            .pop()
            .unwrap_or_else(|| panic!("no records{}", self.report()))
    }

    pub fn assert_states(&self, record: &Value, phase1: &str, phase2: &str) {
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
pub fn spis(record: &Value) -> Vec<String> {
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
pub fn assert_same_sas(t: &Interop, p1: &Value, p2: &Value) {
    assert_same_sas_of(t, p1, p2, "IKEv2");
}

pub fn assert_same_sas_of(t: &Interop, p1: &Value, p2: &Value, version: &str) {
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
