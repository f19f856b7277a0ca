//! What [`crate::input`] hands to the rest: streams of records, and what could not be read.

use vpn_log::TunnelRecord;

/// Where a record (or a problem) came from: the file as the user named it (`-` for
/// stdin) and its 1-based line. Forms without lines (a JSON document, a gzip'd delivery)
/// give the line the element starts on when it is known, else 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The path as given on the command line (or found in a directory), `-` for stdin.
    pub file: String,
    /// 1-based line; 0 when the form has no lines to point at.
    pub line: usize,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}", self.file, self.line)
        }
    }
}

/// One record of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its place in the stream after sorting by time, from 0: what JSON findings' evidence
    /// points at.
    pub index: usize,
    /// Where it was read.
    pub source: Source,
    /// The record.
    pub record: TunnelRecord,
}

/// One log stream: one tunnel's records, in time order (ties keep their input order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stream {
    /// The log stream's name (`vpn-<id>-<outside-ip>`, `_` as separator too) when the
    /// input says it (an export's `logStreamName` / `@logStream`, a delivery's
    /// `logStream`), or a tunnel stream name found in the file's or its nearest
    /// directory's name (`--out DIR`'s `<stream>.jsonl`, an S3 export's directories); else
    /// the path as given (`stdin` for `-`), so that unrelated `tunnel.json` files in two
    /// directories do not merge.
    pub name: String,
    /// The records.
    pub entries: Vec<Entry>,
}

impl Stream {
    /// The VPN connection id and the tunnel's outside IP address, when the name is a
    /// tunnel log stream's (`vpn-0123456789abcdef0-203.0.113.10`, either separator).
    pub fn tunnel(&self) -> Option<(&str, std::net::IpAddr)> {
        let rest = self.name.strip_prefix("vpn-")?;
        let cut = rest.find(['-', '_'])?;
        let ip = rest[cut + 1..].parse().ok()?;
        Some((&self.name[..4 + cut], ip))
    }
}

/// Something in the input that could not be read: the rest is still explained, and the
/// exit status says something was skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where.
    pub source: Source,
    /// What, and what to do about it.
    pub message: String,
}

/// Everything read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    /// The streams, in the order their names first appeared in the input.
    pub streams: Vec<Stream>,
    /// What could not be read, in input order.
    pub problems: Vec<Problem>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tunnel_of_a_stream_name() {
        let s = |name: &str| Stream {
            name: name.to_owned(),
            entries: Vec::new(),
        };
        let ip: std::net::IpAddr = "203.0.113.10".parse().unwrap();
        assert_eq!(
            s("vpn-0123456789abcdef0-203.0.113.10").tunnel(),
            Some(("vpn-0123456789abcdef0", ip))
        );
        assert_eq!(
            s("vpn-0123456789abcdef0_203.0.113.10").tunnel(),
            Some(("vpn-0123456789abcdef0", ip))
        );
        assert_eq!(s("-").tunnel(), None);
        assert_eq!(s("vpn-abc-notanip").tunnel(), None);
    }
}
