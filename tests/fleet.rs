//! `ikesim fleet` through the binary: a small fleet is deterministic whatever `--jobs`,
//! its files keep the golden logs' record invariants, shards add up to the unsplit run
//! file for file, one connection replays alone with `ikesim run`, the summary counts what
//! the files hold, and a bad `--mix` file is placed (file:line:column) with exit 2.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::records::check_stream;
use common::{run, run_ok, temp_dir};

/// Every file of `dir`: name → contents.
fn files(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .expect("output directory")
        .map(|e| {
            let path = e.expect("entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).expect("read"))
        })
        .collect()
}

const SMALL: [&str; 5] = ["fleet", "--connections", "20", "--duration", "2h"];

fn fleet(dir: &Path, extra: &[&str]) -> BTreeMap<String, String> {
    let mut args: Vec<&str> = SMALL.to_vec();
    let out = dir.to_str().unwrap();
    args.extend(["--out", out]);
    args.extend(extra);
    run_ok(&args);
    files(dir)
}

#[test]
fn a_small_fleet_is_deterministic_keeps_the_invariants_and_is_summed_up() {
    let tmp = temp_dir("fleet-determinism");
    let summary = tmp.join("summary.json");
    let one = fleet(
        &tmp.join("a"),
        &[
            "--seed",
            "7",
            "--jobs",
            "2",
            "--summary-json",
            summary.to_str().unwrap(),
        ],
    );
    let two = fleet(&tmp.join("b"), &["--seed", "7", "--jobs", "1"]);
    assert_eq!(one, two, "same seed, other --jobs: the same files");
    let other = fleet(&tmp.join("c"), &["--seed", "8"]);
    assert_ne!(one, other, "another seed, another fleet");

    // Two streams per connection, named as AWS names them, each keeping the invariants.
    assert_eq!(one.len(), 40);
    let mut by_message = BTreeMap::<String, u64>::new();
    let mut ids = std::collections::BTreeSet::new();
    let mut records = 0;
    for (name, text) in &one {
        let stream = name.strip_suffix(".jsonl").expect("JSON lines");
        let (id, ip) = stream.split_at(21);
        assert!(
            id.starts_with("vpn-") && id[4..].bytes().all(|b| b.is_ascii_hexdigit()),
            "{name}"
        );
        assert!(
            ip.strip_prefix('-')
                .unwrap()
                .parse::<std::net::IpAddr>()
                .is_ok(),
            "{name}"
        );
        ids.insert(id.to_owned());
        let rs = check_stream(name, text).unwrap_or_else(|e| panic!("{e}"));
        records += rs.len() as u64;
        for r in rs {
            let id = vpn_log::lookup(&r.details).unwrap().id;
            *by_message.entry(id.to_owned()).or_default() += 1;
        }
    }
    assert_eq!(ids.len(), 20, "one VPN id per connection");

    // The summary counts what the files hold.
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(s["connections"], 20);
    assert_eq!(s["tunnels"], 40);
    assert_eq!(s["shard"], "0/1");
    assert_eq!(s["seed"], 7);
    assert_eq!(s["simulated_seconds"], 7200);
    assert_eq!(s["records"], records);
    let summed: BTreeMap<String, u64> =
        serde_json::from_value(s["records_by_message"].clone()).unwrap();
    assert_eq!(summed, by_message);
    assert_eq!(s["handshakes"], by_message["ikesim-ike-sa-established"]);
    let phase2 = by_message
        .get("ikesim-child-sa-rekeyed")
        .copied()
        .unwrap_or(0);
    assert_eq!(s["rekeys"]["phase2"], phase2);
    assert!(phase2 > 0, "two hours of hourly CHILD SAs rekey");
    let profiles: BTreeMap<String, u64> = serde_json::from_value(s["profiles"].clone()).unwrap();
    assert_eq!(profiles.values().sum::<u64>(), 20);
    assert!(profiles["healthy"] >= 10, "{profiles:?}");
    let up = s["tunnels_up"].as_u64().unwrap();
    assert_eq!(up + s["tunnels_down"].as_u64().unwrap(), 40);
    assert!(s["peak_rss_bytes"].as_u64().unwrap() > 0);
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn shards_add_up_to_the_unsplit_run_and_a_connection_replays_alone() {
    let tmp = temp_dir("fleet-shards");
    let whole = fleet(&tmp.join("whole"), &["--seed", "3"]);
    let mut union = BTreeMap::new();
    for i in 0..3 {
        let shard = format!("{i}/3");
        let part = fleet(
            &tmp.join(format!("shard{i}")),
            &["--seed", "3", "--shard", &shard],
        );
        assert!(!part.is_empty(), "shard {shard} has connections");
        for (name, text) in part {
            assert!(
                union.insert(name.clone(), text).is_none(),
                "{name} in two shards"
            );
        }
    }
    assert_eq!(
        union, whole,
        "the shards' files are the unsplit run's, file for file"
    );

    // Connection 4's scenario, run alone, writes the files it has in the fleet.
    let scenario = run_ok(&[
        SMALL[0],
        SMALL[1],
        SMALL[2],
        SMALL[3],
        SMALL[4],
        "--seed",
        "3",
        "--scenario-of",
        "4",
    ]);
    let file = tmp.join("connection-4.toml");
    std::fs::write(&file, scenario).unwrap();
    let alone = tmp.join("alone");
    run_ok(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        alone.to_str().unwrap(),
    ]);
    let alone = files(&alone);
    assert_eq!(alone.len(), 2);
    for (name, text) in alone {
        assert_eq!(whole.get(&name), Some(&text), "{name}");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn a_bad_mix_file_is_placed_and_refused() {
    let tmp = temp_dir("fleet-mix");
    let mix = tmp.join("mix.toml");
    std::fs::write(
        &mix,
        "[healthy]\nweight = 90\n\n[cgw-reboot]\nweight = 5\ndowntime = [\"5m\", \"10s\"]\n",
    )
    .unwrap();
    let mut args: Vec<&str> = SMALL.to_vec();
    args.extend(["--mix", mix.to_str().unwrap()]);
    let out = run(&args);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:6:12: `cgw-reboot.downtime`: the range's low end (5m) is above its high end",
            mix.display()
        )),
        "{stderr}"
    );
    std::fs::write(&mix, "[healthy]\nweight = 1\n[reboot]\n").unwrap();
    let out = run(&args);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:3:2: unknown profile `reboot`", mix.display())),
        "{stderr}"
    );

    // A good one is used: only the profiles it names are drawn.
    std::fs::write(
        &mix,
        "[healthy]\nweight = 1\n\n[psk-mismatch]\nweight = 1\n",
    )
    .unwrap();
    let summary = tmp.join("summary.json");
    args.extend(["--summary-json", summary.to_str().unwrap()]);
    let out_dir = tmp.join("out");
    args.extend(["--out", out_dir.to_str().unwrap()]);
    run_ok(&args);
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    let profiles: BTreeMap<String, u64> = serde_json::from_value(s["profiles"].clone()).unwrap();
    assert_eq!(
        profiles.keys().map(String::as_str).collect::<Vec<_>>(),
        ["healthy", "psk-mismatch"]
    );
    assert!(
        s["records_by_message"]["ikev2-psk-mismatch"]
            .as_u64()
            .unwrap_or(0)
            > 0
            || s["records_by_message"]["ikev1-psk-mismatch"]
                .as_u64()
                .unwrap_or(0)
                > 0
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

/// SIGTERM (or Ctrl-C) in the middle of a long fleet: the estates stop between two steps,
/// every record made so far is written whole, the summary says where the run stopped, and
/// the exit status is 130.
#[test]
fn a_signal_stops_the_fleet_with_every_record_whole() {
    let dir = temp_dir("fleet-signal");
    let d = dir.to_string_lossy().to_string();
    let summary = dir.join("summary.json");
    let mut child = common::ikesim()
        .args([
            "fleet",
            "--connections",
            "100",
            "--duration",
            "30d",
            "--jobs",
            "2",
        ])
        .args(["--out", &format!("{d}/out"), "--summary-json"])
        .arg(&summary)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ikesim fleet starts");
    // Running once its threads are there: the signal watcher and the two estates.
    let status = format!("/proc/{}/status", child.id());
    let threads = || {
        std::fs::read_to_string(&status)
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("Threads:"))?.to_owned();
                line.split_whitespace().nth(1)?.parse::<u32>().ok()
            })
            .unwrap_or(0)
    };
    while threads() < 3 {
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the fleet ended early"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().expect("the fleet exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("interrupted at"), "{stderr}");
    let written = files(&dir.join("out"));
    assert!(!written.is_empty(), "{stderr}");
    for (name, text) in &written {
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "{name}: a torn last line"
        );
        check_stream(name, text).unwrap_or_else(|e| panic!("{e}"));
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("the summary"))
            .expect("JSON");
    let at = json["interrupted_at_seconds"][0]
        .as_f64()
        .expect("where it stopped");
    assert!(at < 30.0 * 86_400.0, "{json}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ikesim fleet --connections 3 --duration 10m --mix MIX --summary-json FILE ARGS`: the
/// summary's `data_plane` and stderr.
fn fleet_data_plane(dir: &Path, mix: &str, extra: &[&str]) -> (serde_json::Value, String) {
    std::fs::create_dir_all(dir).unwrap();
    let mix_file = dir.join("mix.toml");
    std::fs::write(&mix_file, mix).unwrap();
    let summary = dir.join("summary.json");
    let mut args = vec![
        "fleet",
        "--connections",
        "3",
        "--duration",
        "10m",
        "--mix",
        mix_file.to_str().unwrap(),
        "--summary-json",
        summary.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    (doc["data_plane"].clone(), stderr)
}

#[test]
fn pings_give_fleet_connections_a_data_plane_summed_as_their_runs_alone_count_it() {
    let tmp = temp_dir("fleet-pings");
    let mix = "[healthy]\npings = 1\n";
    let (d, stderr) = fleet_data_plane(&tmp.join("fleet"), mix, &["--jobs", "2"]);
    assert_eq!(d["connections"], 3, "{d}");
    assert!(
        stderr.contains("data plane: 3 connections with flows"),
        "{stderr}"
    );
    // Each connection run alone with --counters: the fleet's sums are theirs.
    let (mut bytes_in, mut bytes_out, mut sent) = (0, 0, 0);
    for i in 0..3 {
        let scenario = run_ok(&[
            "fleet",
            "--connections",
            "3",
            "--duration",
            "10m",
            "--mix",
            tmp.join("fleet/mix.toml").to_str().unwrap(),
            "--scenario-of",
            &i.to_string(),
        ]);
        assert!(scenario.contains("[[flow]]"), "{scenario}");
        assert!(!scenario.contains("traffic = "), "{scenario}");
        let file = tmp.join(format!("connection-{i}.toml"));
        std::fs::write(&file, scenario).unwrap();
        let counters = tmp.join(format!("counters-{i}.json"));
        run_ok(&[
            "run",
            file.to_str().unwrap(),
            "--counters",
            counters.to_str().unwrap(),
        ]);
        let c: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&counters).unwrap()).unwrap();
        for t in c["tunnels"].as_array().unwrap() {
            for h in t["hosts"].as_array().unwrap() {
                if h["host"].as_str().unwrap().starts_with("aws-") {
                    bytes_in += h["total"]["bytes_in"].as_u64().unwrap();
                    bytes_out += h["total"]["bytes_out"].as_u64().unwrap();
                }
            }
        }
        for f in c["flows"].as_array().unwrap() {
            sent += f["sent"].as_u64().unwrap();
        }
    }
    assert!(bytes_in > 0 && bytes_out > 0);
    assert_eq!(d["aws"]["bytes_in"], bytes_in, "{d}");
    assert_eq!(d["aws"]["bytes_out"], bytes_out, "{d}");
    assert_eq!(d["flow_sent"], sent, "{d}");
    // What AWS sealed, the CGWs opened (a clean path), and the other way — but for the
    // last pings, still in flight when the run ended (at most one per flow).
    let n = |side: &str, key: &str| d[side][key].as_u64().unwrap();
    for (sent, got) in [("aws", "cgw"), ("cgw", "aws")] {
        let (out, came) = (n(sent, "packets_out"), n(got, "packets_in"));
        assert!(came <= out && out - came <= 6, "{sent} → {got}: {d}");
    }
    // The same fleet on one thread sums the same.
    let (one, _) = fleet_data_plane(&tmp.join("one-job"), mix, &["--jobs", "1"]);
    assert_eq!(one, d);
    // Without the key no connection has flows.
    let (none, stderr) = fleet_data_plane(&tmp.join("none"), "[healthy]\n", &[]);
    assert_eq!(none["connections"], 0, "{none}");
    assert_eq!(none["aws"]["packets_in"], 0, "{none}");
    assert!(!stderr.contains("data plane:"), "{stderr}");
    let _ = std::fs::remove_dir_all(&tmp);
}
