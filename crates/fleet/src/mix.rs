//! The mix: which profiles a fleet's connections are drawn from, with what weight and
//! which parameter ranges. [`Mix::default`] is the table's weights and ranges; a `--mix`
//! file (TOML, one table per profile) replaces it:
//!
//! ```toml
//! [healthy]
//! weight = 90
//! ikev1 = 0.2              # a probability: one value …
//!
//! [cgw-reboot]
//! weight = 5
//! downtime = ["10s", "5m"] # … or a range, drawn uniformly
//! at = [0.25, 0.75]        # a time in the run, as a fraction of --duration
//! ```
//!
//! Only the profiles a file names are drawn (a profile's `weight` defaults to the
//! table's); parameters it leaves out keep their default ranges. Errors name the file,
//! line and column, as scenario files' do.

use std::collections::BTreeMap;

use rand::Rng;
use toml::Spanned;

use crate::profile::{self, Kind, ParamDef, ProfileDef, HEALTHY, PROFILES};

/// One profile in a mix.
#[derive(Clone, Debug)]
pub struct MixEntry {
    /// The profile.
    pub profile: &'static ProfileDef,
    /// Its weight (a share of connections: weight ÷ the sum of the mix's weights).
    pub weight: f64,
    /// Each parameter's range, inclusive (seconds for durations).
    pub ranges: Vec<(&'static str, (f64, f64))>,
}

/// Profiles with weights and parameter ranges (module documentation).
#[derive(Clone, Debug)]
pub struct Mix {
    /// The profiles drawn from, in the table's order.
    pub entries: Vec<MixEntry>,
    /// The healthy base's ranges (the `healthy` entry's, else the defaults): every tunnel
    /// starts from it, whatever its profile.
    pub base: Vec<(&'static str, (f64, f64))>,
}

fn defaults(p: &ProfileDef) -> Vec<(&'static str, (f64, f64))> {
    p.params.iter().map(|d| (d.name, d.default)).collect()
}

impl Default for Mix {
    /// The table's weights and ranges (docs/fleet.md lists them).
    fn default() -> Mix {
        let entries = PROFILES
            .iter()
            .map(|p| MixEntry {
                profile: p,
                weight: p.weight,
                ranges: defaults(p),
            })
            .collect();
        Mix {
            entries,
            base: healthy_defaults(),
        }
    }
}

fn healthy_defaults() -> Vec<(&'static str, (f64, f64))> {
    profile::by_name(HEALTHY).map(defaults).unwrap_or_default()
}

/// A `--mix` file that cannot be used: where and why.
#[derive(Debug, thiserror::Error)]
pub enum MixError {
    /// The file could not be read.
    #[error("cannot read the mix file {file}: {source}")]
    Io {
        /// The path as given.
        file: String,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// Not TOML, or a profile, weight or range that is not allowed.
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        /// The path as given.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what is allowed.
        message: String,
    },
}

/// 1-based line and column of byte `offset` in `text`.
fn place(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

struct Reader<'a> {
    text: &'a str,
    file: &'a str,
}

impl Reader<'_> {
    fn error(&self, offset: usize, message: String) -> MixError {
        let (line, column) = place(self.text, offset);
        MixError::Invalid {
            file: self.file.to_owned(),
            line,
            column,
            message,
        }
    }
}

impl Mix {
    /// Reads a `--mix` file.
    pub fn load(path: &std::path::Path) -> Result<Mix, MixError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| MixError::Io {
            file: file.clone(),
            source,
        })?;
        Mix::parse(&text, &file)
    }

    /// Reads a mix from `text`; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Mix, MixError> {
        let r = Reader { text, file };
        let top: BTreeMap<Spanned<String>, Spanned<toml::Value>> =
            toml::from_str(text).map_err(|e| {
                let offset = e.span().map_or(0, |s| s.start);
                r.error(offset, e.message().to_owned())
            })?;
        let mut entries = Vec::new();
        let mut base = healthy_defaults();
        for (name, value) in &top {
            let Some(profile) = profile::by_name(name.get_ref()) else {
                return Err(r.error(
                    name.span().start,
                    format!(
                        "unknown profile `{}`: the profiles are {}",
                        name.get_ref(),
                        names()
                    ),
                ));
            };
            let table = match value.get_ref() {
                toml::Value::Table(t) => t,
                _ => {
                    return Err(r.error(
                        value.span().start,
                        format!(
                            "`{}` must be a table: [{}] with `weight = …` and its parameters",
                            profile.name, profile.name
                        ),
                    ))
                }
            };
            let entry = read_entry(&r, profile, name.span().start, table)?;
            if profile.name == HEALTHY {
                base.clone_from(&entry.ranges);
            }
            entries.push(entry);
        }
        entries.sort_by_key(|e| PROFILES.iter().position(|p| p.name == e.profile.name));
        if entries.iter().all(|e| e.weight <= 0.0) {
            return Err(r.error(
                0,
                "no profile has a weight above 0: give at least one a positive `weight`".into(),
            ));
        }
        Ok(Mix { entries, base })
    }

    /// Draws a profile by weight.
    pub fn pick(&self, rng: &mut impl Rng) -> &MixEntry {
        let total: f64 = self.entries.iter().map(|e| e.weight).sum();
        let mut x = rng.gen_range(0.0..total);
        for e in &self.entries {
            if x < e.weight {
                return e;
            }
            x -= e.weight;
        }
        // Rounding left `x` at the very end: the last weighted entry.
        self.entries
            .iter()
            .rfind(|e| e.weight > 0.0)
            .unwrap_or(&self.entries[0])
    }
}

fn names() -> String {
    PROFILES
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where the value of `key` is written in the table whose header names the profile at
/// `header` (the lines up to the next header), for errors about it; the header itself
/// when the table is written another way (inline).
fn key_offset(r: &Reader<'_>, header: usize, key: &str) -> usize {
    let from = r.text[..header.min(r.text.len())]
        .rfind('\n')
        .map_or(0, |n| n + 1);
    let mut at = from;
    for (i, line) in r.text[from..].split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        if i > 0 && trimmed.starts_with('[') {
            break;
        }
        if let Some(rest) = trimmed.strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                let eq = line.find('=').unwrap_or(0);
                let gap = line[eq + 1..].len() - line[eq + 1..].trim_start().len();
                return at + eq + 1 + gap;
            }
        }
        at += line.len();
    }
    header
}

fn read_entry(
    r: &Reader<'_>,
    profile: &'static ProfileDef,
    header: usize,
    table: &toml::Table,
) -> Result<MixEntry, MixError> {
    let mut entry = MixEntry {
        profile,
        weight: profile.weight,
        ranges: defaults(profile),
    };
    for (key, value) in table {
        let key = key.as_str();
        let at = key_offset(r, header, key);
        if key == "weight" {
            let w = match value {
                toml::Value::Integer(i) => i.to_string().parse::<f64>().unwrap_or(f64::NAN),
                toml::Value::Float(f) => *f,
                _ => f64::NAN,
            };
            if !w.is_finite() || w < 0.0 {
                return Err(r.error(
                    at,
                    format!(
                        "`{}.weight` must be a number, 0 or more (a share of connections: \
                         weight ÷ the sum of the weights), e.g. `weight = 5`",
                        profile.name
                    ),
                ));
            }
            entry.weight = w;
            continue;
        }
        let Some(def) = profile.params.iter().find(|d| d.name == key) else {
            let known: Vec<&str> = profile.params.iter().map(|d| d.name).collect();
            return Err(r.error(
                at,
                format!(
                    "`{}` has no parameter `{key}`: {}",
                    profile.name,
                    if known.is_empty() {
                        "it has none, only `weight`".to_owned()
                    } else {
                        format!("its parameters are weight, {}", known.join(", "))
                    }
                ),
            ));
        };
        let range = read_range(def, value)
            .map_err(|why| r.error(at, format!("`{}.{key}`: {why}", profile.name)))?;
        if let Some(slot) = entry.ranges.iter_mut().find(|(n, _)| *n == key) {
            slot.1 = range;
        }
    }
    Ok(entry)
}

fn scalar(def: &ParamDef, v: &toml::Value) -> Result<f64, String> {
    let x = match (def.kind, v) {
        (Kind::Duration, toml::Value::String(s)) => {
            s.parse::<sim::SimDuration>().map(|d| d.0.as_secs_f64())?
        }
        (Kind::Count, toml::Value::Integer(i)) => i.to_string().parse::<f64>().unwrap_or(-1.0),
        (Kind::Fraction | Kind::Probability, toml::Value::Float(f)) => *f,
        (Kind::Fraction | Kind::Probability, toml::Value::Integer(i)) => {
            i.to_string().parse::<f64>().unwrap_or(-1.0)
        }
        _ => return Err(format!("expected {}", shape(def.kind))),
    };
    let (lo, hi) = def.limits;
    if !x.is_finite() || x < lo || x > hi {
        return Err(format!(
            "{} is out of range: {} to {}",
            show(def.kind, x),
            show(def.kind, lo),
            show(def.kind, hi)
        ));
    }
    Ok(x)
}

fn read_range(def: &ParamDef, v: &toml::Value) -> Result<(f64, f64), String> {
    let bad = || {
        format!(
            "expected {} or a range [low, high] of them",
            shape(def.kind)
        )
    };
    match v {
        toml::Value::Array(items) => {
            let [lo, hi] = items.as_slice() else {
                return Err(bad());
            };
            let (lo, hi) = (scalar(def, lo)?, scalar(def, hi)?);
            if lo > hi {
                return Err(format!(
                    "the range's low end ({}) is above its high end ({})",
                    show(def.kind, lo),
                    show(def.kind, hi)
                ));
            }
            Ok((lo, hi))
        }
        other => scalar(def, other).map(|x| (x, x)),
    }
}

fn shape(kind: Kind) -> &'static str {
    match kind {
        Kind::Duration => "a duration such as \"30s\" or \"2m\"",
        Kind::Fraction => "a fraction of --duration, 0 to 1",
        Kind::Probability => "a probability, 0 to 1",
        Kind::Count => "a whole number",
    }
}

fn show(kind: Kind, x: f64) -> String {
    match kind {
        Kind::Duration => {
            let ms = format!("{:.0}", x * 1000.0).parse::<u64>().unwrap_or(0);
            sim::SimDuration(std::time::Duration::from_millis(ms)).to_string()
        }
        _ => format!("{x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Mix::parse(text, "mix.toml").unwrap_err().to_string()
    }

    #[test]
    fn a_file_replaces_the_mix_and_keeps_default_ranges() {
        let mix = Mix::parse(
            "[healthy]\nweight = 9\nikev1 = 0.5\n\n[cgw-reboot]\ndowntime = [\"10s\", \"1m\"]\n",
            "mix.toml",
        )
        .unwrap();
        let names: Vec<_> = mix.entries.iter().map(|e| e.profile.name).collect();
        assert_eq!(names, ["healthy", "cgw-reboot"]);
        assert!((mix.entries[1].weight - 2.0).abs() < 1e-9);
        let reboot = &mix.entries[1].ranges;
        assert!(reboot.contains(&("downtime", (10.0, 60.0))));
        assert!(reboot.contains(&("at", (0.05, 0.95))));
        assert!(mix.base.contains(&("ikev1", (0.5, 0.5))));
    }

    #[test]
    fn bad_files_are_placed() {
        assert_eq!(
            err("[healthy]\nweight = 1\n\n[reboot]\nweight = 2\n"),
            format!(
                "mix.toml:4:2: unknown profile `reboot`: the profiles are {}",
                names()
            )
        );
        assert!(err("[nat]\nweight = -1\n").starts_with("mix.toml:2:10: `nat.weight` must be"));
        assert!(err("[nat]\nweight = \"lots\"\n").starts_with("mix.toml:2:10: "));
        assert_eq!(
            err("[cgw-reboot]\ndowntime = [\"5m\", \"10s\"]\n"),
            "mix.toml:2:12: `cgw-reboot.downtime`: the range's low end (5m) is above its high \
             end (10s)"
        );
        assert_eq!(
            err("[lossy-path]\n  loss = 1.5\n"),
            "mix.toml:2:10: `lossy-path.loss`: 1.5 is out of range: 0 to 1"
        );
        assert!(err("[nat]\nspeed = 3\n").starts_with("mix.toml:2:9: `nat` has no parameter"));
        assert!(err("[nat]\nweight = 0\n").starts_with("mix.toml:1:1: no profile"));
        assert!(err("[nat\n").starts_with("mix.toml:1:"));
        assert!(err("nat = 3\n").starts_with("mix.toml:1:7: `nat` must be a table"));
    }

    #[test]
    fn picks_follow_the_weights() {
        use rand::SeedableRng;
        let mix = Mix::default();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let n = 100_000;
        let mut healthy = 0;
        let mut reboot = 0;
        for _ in 0..n {
            match mix.pick(&mut rng).profile.name {
                "healthy" => healthy += 1,
                "cgw-reboot" => reboot += 1,
                _ => {}
            }
        }
        // 76 % and 2 %, within a few standard deviations (fixed seed: not flaky).
        assert!((75_000..77_000).contains(&healthy), "{healthy}");
        assert!((1_700..2_300).contains(&reboot), "{reboot}");
    }
}
