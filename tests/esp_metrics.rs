//! TunnelDataIn / TunnelDataOut from real bytes: a run whose hosts ping through the tunnel
//! writes `--metrics FILE` whose data datapoints add up to what the AWS side's data plane
//! counted (`-v`'s `esp host=aws-tunnel-1 … bytes_in=… bytes_out=…`): bytes received after
//! decryption, bytes sent before encryption, each minute in the period it ends in.

mod common;

use common::{run, temp_dir};

/// Pings from the on-premises host, one a second, for ten minutes.
const SCENARIO: &str = r#"description = "pings through the tunnel"
produces = []
seed = 1
start = "2026-01-01T00:00:00Z"
duration = "10m"

[vpn_connection]
id = "vpn-0a1b2c3d4e5f60718"

[cgw]
outside_ip = "198.51.100.1"

[[tunnel]]
outside_ip = "192.0.2.1"

[tunnel.aws]
pre_shared_key = "ikesim.example_psk_1"

[tunnel.cgw]
ike_proposals = ["aes256gcm16-prfsha384-ecp384"]
esp_proposals = ["aes256gcm16-ecp384"]

[[flow]]
kind = "icmp"
from = "onprem"
rate = "1/s"
"#;

/// The value of `key=` in the `-v` line that contains `line_with`.
fn counter(stderr: &str, line_with: &str, key: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.contains(line_with))
        .unwrap_or_else(|| panic!("no `{line_with}` line in: {stderr}"));
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key}= in: {line}"))
}

/// Runs the scenario with `--metrics FILE --metrics-period SECONDS` and returns the
/// datapoints (name, timestamp, value) and the AWS side's byte counters (in, out).
fn run_with_metrics(name: &str, period: u64) -> (Vec<(String, String, f64)>, u64, u64) {
    let dir = temp_dir(name);
    let scenario = dir.join("pings.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let file = dir.join("metrics.json");
    let out = run(&[
        "run",
        scenario.to_str().unwrap(),
        "-v",
        "--metrics",
        file.to_str().unwrap(),
        "--metrics-period",
        &period.to_string(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let request: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let datums = request["MetricData"]
        .as_array()
        .expect("MetricData")
        .iter()
        .map(|d| {
            (
                d["MetricName"].as_str().unwrap().to_owned(),
                d["Timestamp"].as_str().unwrap().to_owned(),
                d["Value"].as_f64().unwrap(),
            )
        })
        .collect();
    let aws = "esp host=aws-tunnel-1 ";
    (
        datums,
        counter(&stderr, aws, "bytes_in"),
        counter(&stderr, aws, "bytes_out"),
    )
}

fn sum(datums: &[(String, String, f64)], name: &str) -> f64 {
    datums.iter().filter(|d| d.0 == name).map(|d| d.2).sum()
}

#[test]
fn tunnel_data_in_and_out_add_up_to_the_bytes_the_aws_side_carried() {
    let (datums, bytes_in, bytes_out) = run_with_metrics("esp-metrics-5m", 300);
    assert!(bytes_in > 0 && bytes_out > 0, "{bytes_in} {bytes_out}");
    // Two periods, both carrying pings (every datapoint non-zero).
    let data_in: Vec<f64> = datums
        .iter()
        .filter(|d| d.0 == "TunnelDataIn")
        .map(|d| d.2)
        .collect();
    assert_eq!(data_in.len(), 2, "{datums:?}");
    assert!(data_in.iter().all(|&v| v > 0.0), "{datums:?}");
    #[allow(clippy::cast_precision_loss)] // Far below 2^53.
    let (bytes_in, bytes_out) = (bytes_in as f64, bytes_out as f64);
    assert_eq!(sum(&datums, "TunnelDataIn"), bytes_in, "{datums:?}");
    assert_eq!(sum(&datums, "TunnelDataOut"), bytes_out, "{datums:?}");
    // Minute by minute the same bytes, in ten periods.
    let (minutes, _, _) = run_with_metrics("esp-metrics-1m", 60);
    assert_eq!(minutes.iter().filter(|d| d.0 == "TunnelDataIn").count(), 10);
    assert_eq!(sum(&minutes, "TunnelDataIn"), bytes_in, "{minutes:?}");
    assert_eq!(sum(&minutes, "TunnelDataOut"), bytes_out, "{minutes:?}");
}
