//! Network conditions and the simulated NAT, end to end: the real binary runs scenarios
//! written to a temporary directory — ikev2-happy's configuration over an impaired path.

mod common;

use std::path::{Path, PathBuf};

use common::{repo, run_ok, temp_dir};
use vpn_log::{PhaseState, TunnelRecord};

const DPD_TIMEOUT: &str = "AWS tunnel DPD timed out after 2 retransmits";

/// Writes ikev2-happy with `network` (TOML tables) added and `cgw` keys appended to its
/// `[tunnel.cgw]`, and returns the file.
fn scenario(dir: &Path, name: &str, network: &str, cgw: &str) -> PathBuf {
    let happy = std::fs::read_to_string(repo().join("scenarios/ikev2-happy.toml"))
        .expect("ikev2-happy.toml");
    let text = happy
        .replace("[vpn_connection]", &format!("{network}\n[vpn_connection]"))
        .replace("[tunnel.cgw]\n", &format!("[tunnel.cgw]\n{cgw}\n"));
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, text).expect("write scenario");
    file
}

fn run(file: &Path, extra: &[&str]) -> String {
    let mut args = vec!["run", file.to_str().expect("UTF-8 path")];
    args.extend_from_slice(extra);
    run_ok(&args)
}

fn records(out: &str) -> Vec<TunnelRecord> {
    out.lines()
        .map(|l| TunnelRecord::parse_json(l).expect("record"))
        .collect()
}

fn established(records: &[TunnelRecord]) -> bool {
    let p1 = records
        .iter()
        .any(|r| r.details.contains("Phase 1 IKE_SA established"));
    let p2 = records
        .iter()
        .any(|r| r.details.contains("Phase 2 CHILD_SA established"));
    p1 && p2
}

#[test]
fn twenty_percent_loss_and_reordering_both_ways_still_establish() {
    let dir = temp_dir("network-lossy");
    let network = "[network]\nloss = 0.2\nreorder = 0.2\nreorder_delay = \"5s\"\n";
    let file = scenario(&dir, "lossy", network, "");
    let clean = records(&run_ok(&["run", "ikev2-happy"]));
    let mut late = 0;
    for seed in ["1", "2", "3", "4"] {
        let out = run(&file, &["--seed", seed]);
        assert_eq!(
            out,
            run(&file, &["--seed", seed]),
            "seed {seed}: two runs differ"
        );
        let got = records(&out);
        assert!(
            established(&got),
            "seed {seed}: retransmission should carry the exchanges through:\n{out}"
        );
        assert!(
            got.iter().all(|r| !r.nat_t_detected),
            "an impaired path is no NAT:\n{out}"
        );
        if got[0].time > clean[0].time {
            late += 1;
        }
    }
    assert!(late > 0, "losses should cost some runs a retransmission");
}

#[test]
fn a_nat_in_front_of_the_cgw_is_detected() {
    let dir = temp_dir("network-nat");
    let file = scenario(
        &dir,
        "nat",
        "[network.nat]\noutside_ip = \"203.0.113.1\"\n",
        "",
    );
    let out = run(&file, &[]);
    let got = records(&out);
    assert!(established(&got), "{out}");
    assert!(
        got.iter().all(|r| r.nat_t_detected),
        "every record says NAT-T:\n{out}"
    );
    assert!(
        got[0].details.ends_with("with cgw: 203.0.113.1"),
        "AWS sees the NAT's (presented) address:\n{out}"
    );
    let without = records(&run_ok(&["run", "ikev2-happy"]));
    assert!(without.iter().all(|r| !r.nat_t_detected));
}

/// The NAT gives the CGW a new outside port at 3 minutes. AWS, whose DPD checks run every
/// 10 s once NAT is detected, keeps sending to the old port — unless it hears from the new
/// one first (the CGW's own DPD) and follows it (RFC 7296 §2.23).
#[test]
fn aws_follows_the_cgw_to_its_new_port_after_a_rebind() {
    let dir = temp_dir("network-rebind");
    let nat = "[network.nat]\noutside_ip = \"203.0.113.1\"\nmapping_timeout = \"30s\"\nrebind_at = [\"3m\"]\n";
    let silent = run(&scenario(&dir, "silent", nat, ""), &["--duration", "5m"]);
    let timeout = records(&silent)
        .into_iter()
        .find(|r| r.details == DPD_TIMEOUT);
    let timeout =
        timeout.unwrap_or_else(|| panic!("the old port is dead, so is the tunnel:\n{silent}"));
    let since_start = timeout.time - records(&silent)[0].time;
    assert!(
        (180..=230).contains(&since_start.num_seconds()),
        "timed out {since_start} in:\n{silent}"
    );

    let talking = run(
        &scenario(&dir, "talking", nat, "dpd_delay = \"10s\""),
        &["--duration", "5m"],
    );
    let got = records(&talking);
    assert!(
        established(&got) && got.iter().all(|r| r.details != DPD_TIMEOUT),
        "{talking}"
    );
    assert_eq!(
        got.last().map(|r| (r.ike_phase1_state, r.ike_phase2_state)),
        Some((PhaseState::Established, PhaseState::Established))
    );
}

#[test]
fn a_blackhole_longer_than_the_dpd_timeout_kills_a_steady_tunnel_a_short_one_does_not() {
    let dir = temp_dir("network-blackhole");
    let blackhole = |from: &str, to: &str, direction: &str| {
        format!("[[network.blackhole]]\nfrom = \"{from}\"\nto = \"{to}\"\ndirection = \"{direction}\"\n")
    };
    let run_with = |name: &str, network: &str| {
        let out = run(&scenario(&dir, name, network, ""), &["--duration", "15m"]);
        let got = records(&out);
        assert!(established(&got), "{name}:\n{out}");
        (
            got.iter()
                .filter(|r| r.details == DPD_TIMEOUT)
                .map(|r| r.time)
                .collect::<Vec<_>>(),
            out,
        )
    };

    let (timeouts, out) = run_with("long", &blackhole("10m", "12m", "both"));
    assert_eq!(timeouts.len(), 1, "{out}");
    // AWS last heard the CGW's last ping before 10m (they come every 2 s): checks 10, 20
    // and 30 s after it, dead 40 s after it — within 2 s before 10m40s.
    let dead = timeouts[0].format("%H:%M:%S%.3f").to_string();
    assert!(
        ("00:10:38.000".."00:10:40.000").contains(&dead.as_str()),
        "{dead}:\n{out}"
    );

    let (timeouts, out) = run_with("short", &blackhole("10m", "10m20s", "both"));
    assert!(
        timeouts.is_empty(),
        "a 20 s outage is over before the DPD timeout:\n{out}"
    );
    assert_eq!(
        records(&out).len(),
        3,
        "nothing happens but the setup:\n{out}"
    );

    // Only the CGW's datagrams lost: AWS's checks arrive, the answers do not.
    let (timeouts, out) = run_with("upstream", &blackhole("10m", "12m", "cgw_to_aws"));
    assert_eq!(timeouts.len(), 1, "{out}");
    // Only AWS's lost: AWS still hears the CGW's traffic, so its DPD has nothing to ask.
    let (timeouts, out) = run_with("downstream", &blackhole("10m", "12m", "aws_to_cgw"));
    assert!(timeouts.is_empty(), "{out}");
}

/// The same for IKEv1: main mode and quick mode get through 20 % loss and reordering both
/// ways, by retransmission (and by answering retransmitted messages from cache).
#[test]
fn ikev1_gets_through_twenty_percent_loss_and_reordering() {
    let dir = temp_dir("network-lossy-v1");
    let happy = std::fs::read_to_string(repo().join("scenarios/ikev1-happy.toml"))
        .expect("ikev1-happy.toml");
    let network = "[network]\nloss = 0.2\nreorder = 0.2\nreorder_delay = \"5s\"\n";
    let file = dir.join("lossy-v1.toml");
    std::fs::write(
        &file,
        happy.replace("[vpn_connection]", &format!("{network}\n[vpn_connection]")),
    )
    .unwrap();
    for seed in ["1", "2", "3", "4"] {
        let out = run(&file, &["--seed", seed]);
        assert_eq!(
            out,
            run(&file, &["--seed", seed]),
            "seed {seed}: two runs differ"
        );
        assert!(
            established(&records(&out)),
            "seed {seed}: IKEv1 should get through:\n{out}"
        );
    }
}

/// The wall-clock driver over real loopback UDP, through the NAT and the move to the NAT-T
/// ports, both versions: the same records as the accelerated driver's, but for their times.
#[test]
fn realtime_behind_a_nat_tells_the_same_story_as_accelerated() {
    for name in ["ikev2-nat", "ikev1-nat"] {
        let details = |extra: &[&str]| -> Vec<(String, bool)> {
            let mut args = vec!["run", name, "--duration", "2s"];
            args.extend_from_slice(extra);
            records(&run_ok(&args))
                .into_iter()
                .map(|r| (r.details, r.nat_t_detected))
                .collect()
        };
        let accelerated = details(&[]);
        let realtime = details(&["--realtime"]);
        assert!(
            accelerated
                .iter()
                .any(|(d, nat)| d.contains("CHILD_SA established") && *nat),
            "{accelerated:?}"
        );
        assert_eq!(realtime, accelerated, "{name}");
    }
}
