//! The traffic tests (issue 15 §4): a real `ping` and UDP echo from strongSwan's side into
//! `serve`'s simulated VPC, in a namespace of each test's own (tests/interop/traffic.rs).

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use crate::common::Need;
use crate::harness::spis;
use crate::netns::VPC_HOST;
use crate::strongswan::text;
use crate::traffic::{needs_traffic, traffic, traffic_with_args, Capture, Traffic};

/// charon routes a ping from the CGW's inside address into its tunnel: ESP-in-UDP from its
/// NAT-T port to serve's port, on the SPI of AWS's inbound CHILD SA, one per echo request.
#[test]
fn a_ping_into_the_vpc_leaves_strongswan_as_esp_in_udp_to_serve() {
    needs_traffic!(Need::Tshark);
    let tr = traffic("ping-esp", 40, "", "", &[]);
    let (_, p2) = tr.t.establish();
    tr.wait_route(Duration::from_secs(5));
    let (serve_port, natt) = (tr.t.serve.addr.port(), tr.t.peer.natt_port);
    let filter = format!("udp and src port {natt} and dst port {serve_port}");
    let capture = Capture::start(&tr.ns, &filter, serve_port);
    let (_, said) = tr.ns.ping(VPC_HOST, 3, 56);
    // AWS's inbound SPI is charon's outbound one (the record's first CHILD SA SPI).
    let aws_in = format!("0x{}", spis(&p2)[0]);
    let seen = capture.wait_esp(3, Duration::from_secs(5));
    let expected: Vec<(String, u32)> = (1..=3).map(|seq| (aws_in.clone(), seq)).collect();
    assert_eq!(seen, expected, "{said}{}", tr.report());
    // charon encrypted just those: its outbound SA counts three packets.
    assert_eq!(
        sa_packets(&tr.t.peer.list(), "out", &spis(&p2)[0]),
        Some(3),
        "{}",
        tr.report()
    );
}

/// Pings and a UDP echo from the CGW's inside address into serve's VPC host: every echo
/// request answered through the tunnel, the UDP payload back from 10.0.0.10:7, and
/// charon's inbound CHILD SA counting exactly those answers.
fn ping_and_udp_echo(tr: &mut Traffic) {
    let (_, p2) = tr.t.establish();
    tr.wait_route(Duration::from_secs(5));
    let (received, said) = tr.ns.ping(VPC_HOST, 5, 56);
    assert_eq!(received, 5, "{said}{}", tr.report());
    // A bigger ping: 1,000 bytes of ICMP payload, one ESP packet each way (no fragments).
    let (received, said) = tr.ns.ping(VPC_HOST, 2, 1_000);
    assert_eq!(received, 2, "{said}{}", tr.report());
    let echo = SocketAddr::from((VPC_HOST, 7));
    let payload = b"ikesim UDP echo through a real CGW's tunnel";
    let back = tr.ns.udp_echo(echo, payload, Duration::from_secs(3));
    assert_eq!(
        back,
        Some((payload.to_vec(), echo)),
        "no UDP echo from {echo}{}",
        tr.report()
    );
    // AWS's outbound SPI is charon's inbound one (the record's second CHILD SA SPI).
    let list = tr.t.peer.list();
    let aws = spis(&p2);
    assert_eq!(sa_packets(&list, "in", &aws[1]), Some(8), "{}", tr.report());
    assert_eq!(
        sa_packets(&list, "out", &aws[0]),
        Some(8),
        "{}",
        tr.report()
    );
    // serve's side: no ESP dropped (its counters when it stops).
    let _ = tr.t.serve.interrupt();
    let counters = tr.t.serve.stderr();
    let line = counters
        .lines()
        .find(|l| l.contains("counters"))
        .unwrap_or_default();
    assert!(
        line.contains("esp=8 esp_not_live=0") && line.contains("esp_drops=[]"),
        "{line}{}",
        tr.report()
    );
}

#[test]
fn ping_and_udp_echo_through_strongswan_into_serves_vpc() {
    needs_traffic!();
    let mut tr = traffic("ping-v2", 41, "", "", &[]);
    ping_and_udp_echo(&mut tr);
}

#[test]
fn ikev1_ping_and_udp_echo_through_strongswan_into_serves_vpc() {
    needs_traffic!();
    let mut tr = traffic("ping-v1", 42, "", "", &crate::ikev1_with(&[]));
    ping_and_udp_echo(&mut tr);
}

#[test]
fn ping_and_udp_echo_with_aes_gcm_and_a_vpc_of_its_own() {
    needs_traffic!();
    // The VPC is serve's [vpc]: another network and host; charon's remote TS is the VPC's.
    let tr = traffic(
        "ping-gcm",
        43,
        "remote_ipv4_network_cidr = \"10.1.0.0/16\"",
        "[vpc]\ncidr = \"10.1.0.0/16\"\nhosts = [\"10.1.2.3\"]\n",
        &[
            ("IKE_PROPOSALS", "aes256gcm16-prfsha384-ecp384"),
            ("ESP_PROPOSALS", "aes256gcm16"),
            ("REMOTE_TS", "10.1.0.0/16"),
        ],
    );
    tr.t.establish();
    tr.wait_route(Duration::from_secs(5));
    let host = std::net::Ipv4Addr::new(10, 1, 2, 3);
    let (received, said) = tr.ns.ping(host, 3, 56);
    assert_eq!(received, 3, "{said}{}", tr.report());
    // No host there: the VPC turns it away, nothing comes back.
    let (received, said) = tr.ns.ping(std::net::Ipv4Addr::new(10, 1, 2, 4), 1, 56);
    assert_eq!(received, 0, "{said}{}", tr.report());
}

/// strongSwan rekeys the CHILD SA while a ping runs (5 per second for 8 s): no echo is lost,
/// and the answers after the rekey come on the new SA.
fn pings_cross_a_child_sa_rekey(name: &str, n: u16, peer: &[(&str, &str)]) {
    let tr = traffic(name, n, "", "", peer);
    let (_, p2) = tr.t.establish();
    tr.wait_route(Duration::from_secs(5));
    let ping = tr
        .ns
        .command("ping")
        .args(["-n", "-c", "40", "-i", "0.2", "-W", "2", "-I"])
        .arg(crate::netns::CGW_INSIDE.to_string())
        .arg(VPC_HOST.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ping in the namespace");
    std::thread::sleep(Duration::from_secs(2));
    let out = tr.t.peer.run("rekey-child");
    assert!(
        out.status.success(),
        "swanctl --rekey --child failed{}",
        tr.report()
    );
    let established = "CHILD_SA sim-child{2} established with SPIs ";
    tr.t.wait_log(established, Duration::from_secs(5));
    let out = ping.wait_with_output().expect("ping's output");
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    // Not one echo lost: serve, the rekey's responder, keeps sending on the old CHILD SA
    // until charon's DELETE of it (as strongSwan's responder does), so no answer reaches
    // charon on an SA whose inbound side it has not installed yet (commit 5743cab allowed
    // one loss before ike-core's responder waited).
    assert!(
        said.contains("40 packets transmitted, 40 received"),
        "{said}{}",
        tr.report()
    );
    // The answers after the rekey went out on the new CHILD SA: charon's new inbound SPI
    // (`… established with SPIs <in>_i <out>_o`) counts some.
    let log = tr.t.peer.log();
    let new_in = log
        .split(established)
        .nth(1)
        .and_then(|rest| rest.split('_').next())
        .unwrap_or_default()
        .to_owned();
    assert_ne!(new_in, spis(&p2)[1], "{}", tr.report());
    let on_new = sa_packets(&tr.t.peer.list(), "in", &new_in).unwrap_or(0);
    assert!(
        on_new > 0,
        "no answer on the new CHILD SA {new_in}{}",
        tr.report()
    );
}

#[test]
fn pings_cross_a_child_sa_rekey_without_loss() {
    needs_traffic!();
    pings_cross_a_child_sa_rekey("ping-rekey", 44, &[]);
}

#[test]
fn ikev1_pings_cross_a_quick_mode_rekey_without_loss() {
    needs_traffic!();
    pings_cross_a_child_sa_rekey("ping-rekey-v1", 47, &crate::ikev1_with(&[]));
}

/// AWS's DPD is periodic for a peer behind a NAT ("AWS VPN uses an on-demand DPD mechanism
/// for peers that are not using NAT, and periodic DPDs for peers using NAT", AWS Knowledge
/// Center), and strongSwan's kernel-libipsec fakes a NAT to force UDP encapsulation: while
/// pings flow (twice a second for 15 s), every one answered, AWS still checks liveness 10 s
/// after the last IKE message, and strongSwan answers. (Without a NAT the pings keep AWS
/// quiet: the simulated tunnels show it, tests/data_plane.rs and `ikev2-ping`.)
#[test]
fn periodic_dpd_behind_strongswan_s_nat_checks_liveness_while_pings_flow() {
    needs_traffic!();
    let tr = traffic("ping-dpd", 45, "dpd_timeout_seconds = 30", "", &[]);
    tr.t.establish();
    tr.wait_route(Duration::from_secs(5));
    let dpd = "parsed INFORMATIONAL request 0 [ ]";
    let (received, said) = {
        let out = tr
            .ns
            .command("ping")
            .args(["-n", "-c", "30", "-i", "0.5", "-W", "2", "-I"])
            .arg(crate::netns::CGW_INSIDE.to_string())
            .arg(VPC_HOST.to_string())
            .stdin(Stdio::null())
            .output()
            .expect("run ping in the namespace");
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        (said.contains("30 packets transmitted, 30 received"), said)
    };
    assert!(received, "{said}{}", tr.report());
    assert!(
        tr.t.peer.log().contains(dpd),
        "AWS sent no liveness check in 15 s of pings behind a NAT{}",
        tr.report()
    );
}

/// `--metrics`: TunnelDataIn is what strongSwan sent through the tunnel (the inner bytes
/// its outbound SA counts), TunnelDataOut what came back (its inbound SA's), summed over
/// the one-minute periods once the minute of the traffic is over.
#[test]
fn tunnel_data_in_and_out_are_the_bytes_strongswan_sent_and_got_back() {
    needs_traffic!();
    let name = "ping-metrics";
    let file = crate::strongswan::run_dir().join(name).join("metrics.json");
    let file_arg = file.display().to_string();
    let args = ["--metrics", &file_arg, "--metrics-period", "60"];
    let mut tr = traffic_with_args(name, 46, "", "", &[], &args);
    let (_, p2) = tr.t.establish();
    tr.wait_route(Duration::from_secs(5));
    let (received, said) = tr.ns.ping(VPC_HOST, 4, 500);
    assert_eq!(received, 4, "{said}{}", tr.report());
    let echo = SocketAddr::from((VPC_HOST, 7));
    let back = tr
        .ns
        .udp_echo(echo, b"TunnelDataIn", Duration::from_secs(3));
    assert!(back.is_some(), "no UDP echo{}", tr.report());
    let done = chrono::Utc::now().timestamp();
    let list = tr.t.peer.list();
    let aws = spis(&p2);
    let (sent, got) = (
        sa_bytes(&list, "out", &aws[0]).unwrap_or(0),
        sa_bytes(&list, "in", &aws[1]).unwrap_or(0),
    );
    // Four 528-byte pings and a 40-byte UDP datagram each way.
    assert_eq!((sent, got), (4 * 528 + 40, 4 * 528 + 40), "{}", tr.report());
    // The traffic's minute ends at the next whole minute; a one-minute period of serve's
    // ends within a minute after that.
    let due = (done / 60 + 1) * 60 + 61;
    while chrono::Utc::now().timestamp() < due {
        std::thread::sleep(Duration::from_millis(500));
    }
    let status = tr.t.serve.interrupt();
    assert_eq!(status.code(), Some(130), "{}", tr.report());
    let text = std::fs::read_to_string(&file).expect("serve wrote the metrics file");
    let json: serde_json::Value = serde_json::from_str(&text).expect("the metrics are JSON");
    let sum = |metric: &str| -> f64 {
        json["MetricData"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["MetricName"] == metric)
            .filter_map(|d| d["Value"].as_f64())
            .sum()
    };
    assert_eq!(
        (sum("TunnelDataIn"), sum("TunnelDataOut")),
        (sent as f64, got as f64),
        "{text}{}",
        tr.report()
    );
}

/// The packets `swanctl --list-sas` counts on the CHILD SA `spi` in `direction` (`in` or
/// `out`): `    out 80d48dbd,    252 bytes,     3 packets,     7s ago`.
pub fn sa_packets(list: &str, direction: &str, spi: &str) -> Option<u64> {
    sa_count(list, direction, spi, " packets")
}

/// The (inner) bytes `swanctl --list-sas` counts on the CHILD SA `spi` in `direction`.
pub fn sa_bytes(list: &str, direction: &str, spi: &str) -> Option<u64> {
    sa_count(list, direction, spi, " bytes")
}

fn sa_count(list: &str, direction: &str, spi: &str, unit: &str) -> Option<u64> {
    let spi = format!("{spi},");
    let line = list.lines().find(|l| {
        let mut words = l.split_whitespace();
        words.next() == Some(direction) && words.next() == Some(spi.as_str())
    })?;
    let field = line.split(',').find(|f| f.trim_end().ends_with(unit))?;
    field.trim().trim_end_matches(unit).trim().parse().ok()
}
