//! Durations as people write them in scenarios and on the command line: `30d`, `1h30m`,
//! `90s`, `250ms`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A span of simulated time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SimDuration(pub Duration);

impl FromStr for SimDuration {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not a duration: write e.g. 90s, 5m, 1h30m, 30d or 250ms");
        let s = text.trim();
        if s.is_empty() {
            return Err(bad());
        }
        let mut total = Duration::ZERO;
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(bad());
            }
            let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let secs = |k: u64| n.checked_mul(k).map(Duration::from_secs).ok_or_else(bad);
            total += match unit {
                "ms" => Duration::from_millis(n),
                "s" => secs(1)?,
                "m" => secs(60)?,
                "h" => secs(3600)?,
                "d" => secs(86_400)?,
                _ => return Err(bad()),
            };
        }
        Ok(SimDuration(total))
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if !ms.is_multiple_of(1000) {
            return write!(f, "{ms}ms");
        }
        let mut s = self.0.as_secs();
        if s == 0 {
            return write!(f, "0s");
        }
        for (unit, k) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if s >= k {
                write!(f, "{}{unit}", s / k)?;
                s %= k;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for SimDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for (text, secs) in [
            ("30d", 30 * 86_400),
            ("1h30m", 5400),
            ("90s", 90),
            ("5m", 300),
        ] {
            let d: SimDuration = text.parse().unwrap();
            assert_eq!(d.0, Duration::from_secs(secs));
        }
        assert_eq!(
            "250ms".parse::<SimDuration>().unwrap().0,
            Duration::from_millis(250)
        );
        assert_eq!(SimDuration(Duration::from_secs(5400)).to_string(), "1h30m");
        for bad in ["", "5", "m5", "5x", "1.5h", "-1s"] {
            assert!(bad.parse::<SimDuration>().is_err(), "{bad}");
        }
    }
}
