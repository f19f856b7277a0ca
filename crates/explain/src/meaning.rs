//! What one record means in IKE terms: its catalogue entry's meaning with the
//! placeholders' values filled in, and how the phase states changed since the stream's
//! previous record. A `details` string in no catalogue entry is said to be unknown, never
//! guessed (docs/log-messages.md lists every entry).

use vpn_log::{CatalogueEntry, IkeVersion, PhaseState, TunnelRecord};

/// The words for a `details` string that is in no catalogue entry.
pub const UNKNOWN: &str = "unknown message (not in AWS's catalogue)";

/// One record's meaning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meaning {
    /// The catalogue entry the `details` string comes from, if any.
    pub entry: Option<&'static CatalogueEntry>,
    /// The placeholders' values as the record carries them (`("spi", "87be839f")`).
    pub values: Vec<(&'static str, String)>,
    /// One line: the meaning, then the phase states' change in brackets when there is one.
    pub text: String,
}

impl Meaning {
    /// Whether the message is in the catalogue.
    pub fn known(&self) -> bool {
        self.entry.is_some()
    }

    /// The catalogue id (`ikev2-psk-mismatch`), if known.
    pub fn id(&self) -> Option<&'static str> {
        self.entry.map(|e| e.id)
    }

    /// The value of placeholder `name`, if the message has one.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A stream's IKE version as far as its messages tell (some are logged by one version
/// only): IKEv1 if any message is IKEv1's alone, else IKEv2 if any is IKEv2's, else `None`.
pub fn ike_version<'a>(meanings: impl IntoIterator<Item = &'a Meaning>) -> Option<IkeVersion> {
    let mut seen = None;
    for m in meanings {
        match m.entry.map(|e| e.ike) {
            Some(IkeVersion::V1) => return Some(IkeVersion::V1),
            Some(IkeVersion::V2) => seen = Some(IkeVersion::V2),
            _ => {}
        }
    }
    seen
}

/// What `record` means, `previous` being the stream's record before it (`None` for the
/// first: both phases count as down before it).
pub fn of(previous: Option<&TunnelRecord>, record: &TunnelRecord) -> Meaning {
    let entry = vpn_log::lookup(&record.details);
    let values = entry
        .and_then(|e| e.captures(&record.details))
        .unwrap_or_default();
    let mut text = match entry {
        Some(e) => fill(e.meaning, &values),
        None => UNKNOWN.to_owned(),
    };
    let change = state_change(previous, record);
    if !change.is_empty() {
        text.push_str(" [");
        text.push_str(&change);
        text.push(']');
    }
    Meaning {
        entry,
        values,
        text,
    }
}

/// "phase 1 negotiating → established, phase 2 down → negotiating"; empty when neither
/// phase changed.
pub fn state_change(previous: Option<&TunnelRecord>, record: &TunnelRecord) -> String {
    let (p1, p2) = previous.map_or((PhaseState::Down, PhaseState::Down), |p| {
        (p.ike_phase1_state, p.ike_phase2_state)
    });
    let mut parts = Vec::new();
    for (n, before, after) in [
        (1, p1, record.ike_phase1_state),
        (2, p2, record.ike_phase2_state),
    ] {
        if before != after {
            parts.push(format!("phase {n} {before} → {after}"));
        }
    }
    parts.join(", ")
}

/// `text` with each `{name}` that has a value replaced by it.
fn fill(text: &str, values: &[(&'static str, String)]) -> String {
    let mut out = text.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(p1: PhaseState, p2: PhaseState, details: &str) -> TunnelRecord {
        TunnelRecord {
            time: chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default(),
            dpd_enabled: true,
            nat_t_detected: false,
            ike_phase1_state: p1,
            ike_phase2_state: p2,
            details: details.to_owned(),
        }
    }

    #[test]
    fn known_message_with_values_and_state_change() {
        use PhaseState::{Down, Established, Negotiating};
        let before = record(Established, Negotiating, "x");
        let r = record(Down, Down, "AWS tunnel DPD timed out after 5 retransmits");
        let m = of(Some(&before), &r);
        assert_eq!(m.id(), Some("ikev2-dpd-timeout"));
        assert_eq!(m.value("retry_count"), Some("5"));
        assert_eq!(
            m.text,
            "No answer to DPD after 5 retransmits: the DPD timeout action runs. \
             [phase 1 established → down, phase 2 negotiating → down]"
        );
        let spis = record(
            Established,
            Established,
            "AWS tunnel Phase 2 CHILD_SA rekeyed, new SPIs: c0ffee01_i 0badf00d_o",
        );
        let m = of(Some(&spis), &spis);
        assert_eq!(m.value("spi_in"), Some("c0ffee01"));
        assert_eq!(m.value("spi_out"), Some("0badf00d"));
        assert!(!m.text.contains('['), "{}", m.text);
    }

    #[test]
    fn unknown_message_is_never_guessed() {
        let r = record(
            PhaseState::Down,
            PhaseState::Down,
            "AWS tunnel DPD timed out after retransmits",
        );
        let m = of(None, &r);
        assert!(!m.known());
        assert_eq!(m.text, UNKNOWN);
    }
}
