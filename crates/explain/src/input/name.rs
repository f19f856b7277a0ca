//! The stream name of an input whose content does not say it (record lines,
//! `get-log-events` output, an Insights export without `@logStream`).

use std::net::IpAddr;

/// The tunnel log stream name in the file's name, when it has one
/// (`vpn-0123456789abcdef0-203.0.113.10.json`, `export-vpn-1234abcd_198.51.100.7.csv`: AWS
/// names a tunnel's stream `<vpn-connection-id>-<outside-ip>`, reference §1), else in the
/// nearest directory's name that has one (an export to Amazon S3 writes
/// `<prefix>/<task-id>/<stream>/000000.gz`), else the path as given (`stdin` for `-`): two
/// unrelated files never merge by accident.
pub(super) fn stream_name(path: &str) -> String {
    if path == "-" {
        return "stdin".to_owned();
    }
    path.rsplit(['/', '\\'])
        .find_map(tunnel_stream)
        .unwrap_or_else(|| path.to_owned())
}

/// The first `vpn-<8 or 17 hex>[-_]<ip>` in `text`.
fn tunnel_stream(text: &str) -> Option<String> {
    let mut from = 0;
    while let Some(at) = text[from..].find("vpn-") {
        let start = from + at;
        if let Some(len) = tunnel_len(&text[start..]) {
            return Some(text[start..start + len].to_owned());
        }
        from = start + 4;
    }
    None
}

/// The length of the tunnel stream name `text` starts with.
fn tunnel_len(text: &str) -> Option<usize> {
    let rest = text.strip_prefix("vpn-")?;
    let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
    if hex != 8 && hex != 17 {
        return None;
    }
    let after = &rest[hex..];
    if !after.starts_with(['-', '_']) {
        return None;
    }
    let ip = &after[1..];
    // The longest prefix of address characters that is an address: `203.0.113.10.json`
    // gives `203.0.113.10` (the `.c` of `.csv` is hex, so try shorter ones too).
    let run = ip
        .bytes()
        .take_while(|b| b.is_ascii_hexdigit() || *b == b'.' || *b == b':')
        .count();
    (1..=run)
        .rev()
        .find(|&n| ip[..n].parse::<IpAddr>().is_ok())
        .map(|n| 4 + hex + 1 + n)
}

#[cfg(test)]
mod tests {
    use super::stream_name;

    #[test]
    fn names_from_file_names() {
        let cases = [
            (
                "exports/vpn-0123456789abcdef0-203.0.113.10.json",
                "vpn-0123456789abcdef0-203.0.113.10",
            ),
            ("vpn-1234abcd-203.0.113.10", "vpn-1234abcd-203.0.113.10"),
            ("out/vpn-1234abcd-127.0.1.1.jsonl", "vpn-1234abcd-127.0.1.1"),
            (
                "insights-vpn-1234abcd_198.51.100.7.csv",
                "vpn-1234abcd_198.51.100.7",
            ),
            ("vpn-1234abcd-2001:db8::1.log", "vpn-1234abcd-2001:db8::1"),
            // Not a connection id (7 hex digits), then a real one.
            (
                "vpn-1234abc-1.2.3.4-vpn-1234abcd-1.2.3.4",
                "vpn-1234abcd-1.2.3.4",
            ),
            ("tunnel1.json", "tunnel1.json"),
            (
                "logs/vpn-1234abcd-notanip.json",
                "logs/vpn-1234abcd-notanip.json",
            ),
            ("-", "stdin"),
            ("vpn-", "vpn-"),
            ("dir/vpn-1234abcdé", "dir/vpn-1234abcdé"),
            (
                "s3/exportedlogs/4f1c/vpn-1234abcd-203.0.113.10/000000.gz",
                "vpn-1234abcd-203.0.113.10",
            ),
            (
                "vpn-1234abcd-203.0.113.10/vpn-1234abcd-1.1.1.1.json",
                "vpn-1234abcd-1.1.1.1",
            ),
        ];
        for (path, name) in cases {
            assert_eq!(stream_name(path), name, "{path}");
        }
    }
}
