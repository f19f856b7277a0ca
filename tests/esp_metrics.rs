//! TunnelDataIn / TunnelDataOut from real bytes, period by period: `ikesim run ikev2-ping`
//! (pings both ways) writes `--metrics FILE` whose data datapoints add up to what the AWS
//! side's data plane counted (`-v`'s `esp host=aws-tunnel-1 … bytes_in=… bytes_out=…`):
//! bytes received after decryption, bytes sent before encryption, each minute in the
//! period it ends in. (tests/data_plane.rs checks the default 5-minute periods.)

mod common;

use common::{run, temp_dir};

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

/// Runs ikev2-ping for ten minutes with `--metrics FILE --metrics-period SECONDS` and
/// returns the datapoints (name, timestamp, value) and the AWS side's byte counters (in,
/// out).
fn run_with_metrics(name: &str, period: u64) -> (Vec<(String, String, f64)>, u64, u64) {
    let dir = temp_dir(name);
    let file = dir.join("metrics.json");
    let out = run(&[
        "run",
        "ikev2-ping",
        "--duration",
        "10m",
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
fn tunnel_data_in_and_out_minute_by_minute_add_up_to_the_bytes_aws_carried() {
    let (datums, bytes_in, bytes_out) = run_with_metrics("esp-metrics-1m", 60);
    assert!(bytes_in > 0 && bytes_out > 0, "{bytes_in} {bytes_out}");
    // Ten one-minute periods, each carrying pings both ways.
    for name in ["TunnelDataIn", "TunnelDataOut"] {
        let values: Vec<f64> = datums.iter().filter(|d| d.0 == name).map(|d| d.2).collect();
        assert_eq!(values.len(), 10, "{name}: {datums:?}");
        assert!(values.iter().all(|&v| v > 0.0), "{name}: {datums:?}");
    }
    #[allow(clippy::cast_precision_loss)] // Far below 2^53.
    let (bytes_in, bytes_out) = (bytes_in as f64, bytes_out as f64);
    assert_eq!(sum(&datums, "TunnelDataIn"), bytes_in, "{datums:?}");
    assert_eq!(sum(&datums, "TunnelDataOut"), bytes_out, "{datums:?}");
}
