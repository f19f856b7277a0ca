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
//! Uses tests/interop/strongswan-peer.sh. The machinery is in tests/interop/ (pulled in
//! with `#[path]`, so tests/flood.rs shares it): `strongswan.rs` (the charon, the run's
//! directories), `serve.rs` (`ikesim serve` as a child), `relay.rs`, `harness.rs` (a
//! test's two ends) and `connect.rs` (`ikesim connect` against a strongSwan responder).
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
#[path = "interop/connect.rs"]
mod connect;
#[path = "interop/connect_pings.rs"]
mod connect_pings;
#[path = "interop/harness.rs"]
mod harness;
#[path = "interop/netns.rs"]
mod netns;
#[path = "interop/pings.rs"]
mod pings;
#[path = "interop/relay.rs"]
mod relay;
#[path = "interop/serve.rs"]
mod serve;
#[path = "interop/strongswan.rs"]
mod strongswan;
#[path = "interop/traffic.rs"]
mod traffic;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use connect::{assert_child_matches, connect_test, line_spis};
use harness::{
    assert_same_sas, assert_same_sas_of, interop, interop_relayed, interop_with, spis, Interop,
};
use serve::{collect, Serve};
use strongswan::{assert_strongswan_checked, needs_strongswan, test_dir, text, Peer, PSK};

#[test]
fn aes128_sha256_modp2048_establishes_and_ctrl_c_exits_130() {
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
    // Ctrl-C: records flushed, exit status 130 (128 + SIGINT, as every command exits
    // after SIGINT; issue 14 §3).
    let before = t.serve.records().len();
    let status = t.serve.interrupt();
    assert!(
        status.code() == Some(130),
        "ikesim serve exited with {status} on SIGINT, not 130{}",
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
    assert_eq!(status.code(), Some(130), "{status}");
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
