//! `[dos]` of `ikesim serve`'s configuration: the flood defences of every tunnel
//! (docs/real-cgw.md, docs/flood-defence.md).

use serde::Deserialize;

use super::config::ConfigError;
use crate::spelling::line_of;

/// `[dos]`: the flood defences of every tunnel, with the key names of ike-core's
/// `DosConfig` (after strongSwan's `charon.cookie_threshold`, `charon.block_threshold` and
/// `charon.init_limit_half_open`; docs/flood-defence.md). A key left out keeps the core's
/// default; 0 turns that defence off (`cookie_threshold = 0`: a COOKIE always).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DosOptions {
    /// Half-open IKE SAs (all sources) from which an IKE_SA_INIT must carry a COOKIE
    /// (RFC 7296 §2.6).
    pub cookie_threshold: Option<toml::Spanned<usize>>,
    /// Half-open IKE SAs one source IP may hold; its further requests are dropped.
    pub block_threshold: Option<toml::Spanned<usize>>,
    /// Half-open IKE SAs at most; requests beyond are dropped.
    pub half_open_limit: Option<toml::Spanned<usize>>,
}

/// Above this many half-open IKE SAs a bound protects nothing: each costs a few KiB and a
/// DH computation, so a million of them is already gigabytes.
pub const MAX_HALF_OPEN: usize = 1_000_000;

impl DosOptions {
    /// Whether the file had a `[dos]` key at all.
    pub fn is_set(&self) -> bool {
        self.cookie_threshold.is_some()
            || self.block_threshold.is_some()
            || self.half_open_limit.is_some()
    }

    /// The rules across keys, for the file `file` whose text is `text`: an error names the
    /// value's line and column.
    pub(super) fn check(&self, text: &str, file: &str) -> Result<(), ConfigError> {
        self.rules().map_err(|(span, key, message)| {
            let (line, column) = place(text, span.start);
            ConfigError::Invalid {
                file: file.into(),
                line: format!(":{line}:{column}"),
                key: format!("dos.{key}"),
                message,
            }
        })
    }

    /// The rules across keys: a value's span, its key and what is wrong.
    fn rules(&self) -> Result<(), (std::ops::Range<usize>, &'static str, String)> {
        let value = |v: &Option<toml::Spanned<usize>>| v.as_ref().map(|v| (*v.get_ref(), v.span()));
        for (key, v) in [
            ("cookie_threshold", value(&self.cookie_threshold)),
            ("block_threshold", value(&self.block_threshold)),
            ("half_open_limit", value(&self.half_open_limit)),
        ] {
            if let Some((n, span)) = v.filter(|(n, _)| *n > MAX_HALF_OPEN) {
                return Err((
                    span,
                    key,
                    format!(
                        "{n} is more than {MAX_HALF_OPEN} half-open IKE SAs, which no machine holds: \
                         use a smaller number, or 0 to turn the bound off"
                    ),
                ));
            }
        }
        if let (Some((cookie, span)), Some((limit, _))) =
            (value(&self.cookie_threshold), value(&self.half_open_limit))
        {
            if limit > 0 && cookie > limit {
                return Err((
                    span,
                    "cookie_threshold",
                    format!(
                        "{cookie} is above half_open_limit ({limit}): the limit drops requests \
                         before cookies are ever asked for; use at most {limit}"
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl DosOptions {
    /// Sets the keys the file gave; the others keep the core's defaults.
    pub fn apply(&self, dos: &mut ike_core::DosConfig) {
        let get = |v: &Option<toml::Spanned<usize>>| v.as_ref().map(|v| *v.get_ref());
        dos.cookie_threshold = get(&self.cookie_threshold).unwrap_or(dos.cookie_threshold);
        dos.block_threshold = get(&self.block_threshold).unwrap_or(dos.block_threshold);
        dos.half_open_limit = get(&self.half_open_limit).unwrap_or(dos.half_open_limit);
    }
}

/// The 1-based line and column of byte `offset` of `text`.
fn place(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        line_of(text, offset),
        before[line_start..].chars().count() + 1,
    )
}

#[cfg(test)]
mod tests {
    use crate::serve::config::{ServeConfig, TEMPLATE};

    #[test]
    fn the_dos_table_takes_the_dos_config_keys_and_names_the_place_of_a_bad_value() {
        let ok = "[dos]\ncookie_threshold = 10\nblock_threshold = 0\nhalf_open_limit = 100\n\
                  [[tunnel]]\nlisten = \"127.0.1.1\"\n";
        let c = ServeConfig::parse(ok, "s.toml").unwrap();
        assert!(c.dos.is_set());
        assert_eq!(
            c.dos.cookie_threshold.as_ref().map(|v| *v.get_ref()),
            Some(10)
        );
        assert_eq!(
            c.dos.block_threshold.as_ref().map(|v| *v.get_ref()),
            Some(0)
        );
        assert!(!ServeConfig::default().dos.is_set());
        let e = ServeConfig::parse(
            "[dos]\nhalf_open_limit = 100\ncookie_threshold =  500\n[[tunnel]]\nlisten = \"127.0.1.1\"\n",
            "s.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with(
                "s.toml:3:21: `dos.cookie_threshold`: 500 is above half_open_limit (100)"
            ),
            "{e}"
        );
        let e = ServeConfig::parse(
            "[dos]\nhalf_open_limit = 2000000000\n[[tunnel]]\nlisten = \"127.0.1.1\"\n",
            "s.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("s.toml:2:19: `dos.half_open_limit`"), "{e}");
        for (bad, what) in [
            ("block_threshold = -1", "line 2, column 19"),
            ("cookie_threshold = \"many\"", "line 2, column 20"),
            ("cookie_treshold = 3", "unknown field `cookie_treshold`"),
        ] {
            let text = format!("[dos]\n{bad}\n[[tunnel]]\nlisten = \"127.0.1.1\"\n");
            let e = ServeConfig::parse(&text, "s.toml").unwrap_err().to_string();
            assert!(e.starts_with("s.toml: ") && e.contains(what), "{bad}: {e}");
        }
        // The template's [dos] block, uncommented, is the defaults and parses.
        let block: String = TEMPLATE
            .lines()
            .skip_while(|l| *l != "[dos]")
            .skip(1)
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.strip_prefix("# "))
            .map(|l| format!("{}\n", l.split("  ").next().unwrap_or(l)))
            .collect();
        let full = TEMPLATE.replacen("[dos]\n", &format!("[dos]\n{block}"), 1);
        let c = ServeConfig::parse(&full, "template").unwrap();
        assert_eq!(
            c.dos.half_open_limit.as_ref().map(|v| *v.get_ref()),
            Some(5000)
        );
    }
}
