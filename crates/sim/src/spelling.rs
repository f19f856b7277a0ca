//! How the configuration files (scenarios, `serve`, `connect`) spell the core's own types,
//! so that each concept has one type — ike_core's — and the file keeps its words:
//! `ike_version = 1` (a CGW), `ike_versions = ["ikev1", "ikev2"]` (AWS's tunnel option),
//! `dpd_action = "clear"` / `dpd_timeout_action = "clear"`. Also where in a file's text an
//! error is, for messages that name the line.

use ike_core::{DpdAction, IkeVersion};
use serde::{Deserialize, Deserializer};

/// The line (from 1) of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// `clear`, `none` or `restart` (AWS's DPD timeout action, strongSwan's `dpd_action`).
pub(crate) fn dpd_action<'de, D: Deserializer<'de>>(d: D) -> Result<DpdAction, D::Error> {
    const NAMES: &[&str] = &["clear", "none", "restart"];
    let s = String::deserialize(d)?;
    match s.as_str() {
        "clear" => Ok(DpdAction::Clear),
        "none" => Ok(DpdAction::None),
        "restart" => Ok(DpdAction::Restart),
        _ => Err(serde::de::Error::unknown_variant(&s, NAMES)),
    }
}

/// A CGW's IKE version as a number: 1 or 2.
pub(crate) fn ike_version_number<'de, D: Deserializer<'de>>(d: D) -> Result<IkeVersion, D::Error> {
    match i64::deserialize(d)? {
        1 => Ok(IkeVersion::V1),
        2 => Ok(IkeVersion::V2),
        n => Err(serde::de::Error::custom(format!(
            "{n} is not an IKE version: use 1 or 2"
        ))),
    }
}

/// The number `ike_version` is written with.
pub fn ike_version_number_of(version: IkeVersion) -> u8 {
    match version {
        IkeVersion::V1 => 1,
        IkeVersion::V2 => 2,
    }
}

/// AWS's `ike_versions` tunnel option: a list of `ikev1` / `ikev2`.
pub(crate) fn ike_version_names<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<IkeVersion>, D::Error> {
    const NAMES: &[&str] = &["ikev1", "ikev2"];
    Vec::<String>::deserialize(d)?
        .into_iter()
        .map(|s| match s.as_str() {
            "ikev1" => Ok(IkeVersion::V1),
            "ikev2" => Ok(IkeVersion::V2),
            _ => Err(serde::de::Error::unknown_variant(&s, NAMES)),
        })
        .collect()
}
