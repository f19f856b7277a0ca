//! The `details` message catalogue as data (reference §2): every string AWS publishes,
//! verbatim, plus ikesim's own wording for events AWS logs without publishing a string.

use crate::template;

pub use crate::entries::CATALOGUE;

/// AWS's heading "IKEv1 errors" (reference §2); strings AWS lists for both versions too.
pub const SECTION_IKEV1_ERRORS: &str = "IKEv1 errors";
/// AWS's heading "IKEv2 errors" (reference §2).
pub const SECTION_IKEV2_ERRORS: &str = "IKEv2 errors";
/// AWS's heading "IKEv2 negotiation" (reference §2): the CREATE_CHILD_SA exchange lines.
pub const SECTION_IKEV2_NEGOTIATION: &str = "IKEv2 negotiation";
/// Not an AWS heading: ikesim's wording for events AWS logs without publishing a string.
pub const SECTION_IKESIM: &str = "ikesim";

/// Where an entry's wording comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// AWS's published string, character for character.
    Aws,
    /// ikesim's wording for an event AWS logs without publishing the string.
    Ikesim,
}

/// Which IKE version logs an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IkeVersion {
    /// IKEv1 only (RFC 2409): main mode, quick mode, RFC 3706 DPD.
    V1,
    /// IKEv2 only (RFC 7296).
    V2,
    /// Both versions log the same string.
    Both,
}

/// One message of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CatalogueEntry {
    /// Stable kebab-case id, e.g. `ikev2-psk-mismatch`.
    pub id: &'static str,
    /// The IKE version(s) whose log carries the entry (`docs/log-messages.md` column).
    pub ike: IkeVersion,
    /// Whether the wording is AWS's, verbatim, or ikesim's.
    pub origin: Origin,
    /// `IKEv1 errors`, `IKEv2 errors`, `IKEv2 negotiation` (AWS's headings; a string AWS
    /// lists under both IKEv1 and IKEv2 keeps its first, IKEv1) or `ikesim`.
    pub section: &'static str,
    /// The message with `{name}` placeholders: `{spi}`, `{id}`, `{cgw}`, `{retry_count}`, ….
    pub template: &'static str,
    /// What the message means, in one line.
    pub meaning: &'static str,
}

impl CatalogueEntry {
    /// Whether `details` is this template with every placeholder filled by non-empty text
    /// (literal parts exact, whole string).
    pub fn pattern_matches(&self, details: &str) -> bool {
        template::matches(self.template, details)
    }

    /// The placeholders' values when `details` is this template filled in
    /// (`[("spi", "87be839f")]`), or `None` when it is not.
    pub fn captures(&self, details: &str) -> Option<Vec<(&'static str, String)>> {
        template::captures(self.template, details)
    }

    /// The placeholder names of the template, in order.
    pub fn placeholders(&self) -> Vec<&'static str> {
        template::placeholders(self.template)
    }
}

impl IkeVersion {
    /// `IKEv1`, `IKEv2` or `IKEv1, IKEv2`.
    pub fn as_str(self) -> &'static str {
        match self {
            IkeVersion::V1 => "IKEv1",
            IkeVersion::V2 => "IKEv2",
            IkeVersion::Both => "IKEv1, IKEv2",
        }
    }
}

/// The entry a `details` string comes from. Patterns do not overlap, so there is at most one.
pub fn lookup(details: &str) -> Option<&'static CatalogueEntry> {
    CATALOGUE
        .iter()
        .find(|entry| entry.pattern_matches(details))
}

/// The entry with this id.
pub fn by_id(id: &str) -> Option<&'static CatalogueEntry> {
    CATALOGUE.iter().find(|entry| entry.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Reference §2, copied literally (duplicates between the IKEv1 and IKEv2 lists kept).
    const AWS_STRINGS: &[&str] = &[
        // IKEv1 errors
        "Peer is not responsive - Declaring peer dead",
        "AWS tunnel payload decryption was unsuccessful due to invalid Pre-shared Key",
        "No Proposal Match Found by AWS",
        "No Proposal Match Found. Notifying with \"No proposal chosen\"",
        "AWS tunnel received DELETE for Phase 2 SA with SPI: xxxx",
        "AWS tunnel received DELETE for IKE_SA from CGW",
        // IKEv2 errors
        "AWS tunnel DPD timed out after {retry_count} retransmits",
        "AWS tunnel received DELETE for IKE_SA from CGW",
        "AWS tunnel received DELETE for Phase 2 SA with SPI: xxxx",
        "AWS tunnel detected a (CHILD_REKEY) collision as CHILD_DELETE",
        "AWS tunnel (CHILD_SA) redundant SA is being deleted due to detected collision",
        "AWS tunnel Phase 2 was unable to establish while keeping Phase 1",
        "AWS: Traffic Selector: TS_UNACCEPTABLE: received from responder",
        "AWS tunnel is sending AUTHENTICATION_FAILED as the response",
        "AWS tunnel detected a pre-shared key mismatch with cgw: xxxx",
        "AWS tunnel Timeout: deleting un-established Phase 1 IKE_SA with cgw: xxxx",
        "No Proposal Match Found. Notifying with \"No proposal chosen\"",
        "No Proposal Match Found by AWS",
        // IKEv2 negotiation
        "AWS tunnel processed request (id=xxx) for CREATE_CHILD_SA",
        "AWS tunnel is sending response (id=xxx) for CREATE_CHILD_SA",
        "AWS tunnel is sending request (id=xxx) for CREATE_CHILD_SA",
        "AWS tunnel processed response (id=xxx) for CREATE_CHILD_SA",
    ];

    /// The reference's placeholders as the catalogue spells them.
    fn placeholders_mapped(aws: &str) -> String {
        aws.replace("SPI: xxxx", "SPI: {spi}")
            .replace("cgw: xxxx", "cgw: {cgw}")
            .replace("(id=xxx)", "(id={id})")
    }

    #[test]
    fn every_aws_string_is_a_template_verbatim() {
        for aws in AWS_STRINGS {
            let template = placeholders_mapped(aws);
            let entry = CATALOGUE
                .iter()
                .find(|e| e.template == template)
                .unwrap_or_else(|| panic!("not in the catalogue: {template}"));
            assert_eq!(entry.origin, Origin::Aws, "{template}");
        }
        let aws_templates: HashSet<String> =
            AWS_STRINGS.iter().map(|s| placeholders_mapped(s)).collect();
        let aws_entries = CATALOGUE.iter().filter(|e| e.origin == Origin::Aws);
        for entry in aws_entries {
            assert!(aws_templates.contains(entry.template), "{}", entry.id);
        }
        assert_eq!(aws_templates.len(), 18);
    }

    #[test]
    fn strings_in_both_lists_are_one_entry_for_both_versions() {
        for template in [
            "AWS tunnel received DELETE for IKE_SA from CGW",
            "AWS tunnel received DELETE for Phase 2 SA with SPI: {spi}",
            "No Proposal Match Found by AWS",
            "No Proposal Match Found. Notifying with \"No proposal chosen\"",
        ] {
            let entries: Vec<_> = CATALOGUE
                .iter()
                .filter(|e| e.template == template)
                .collect();
            assert_eq!(entries.len(), 1, "{template}");
            assert_eq!(entries[0].ike, IkeVersion::Both, "{template}");
        }
    }

    #[test]
    fn entries_are_well_formed() {
        let mut ids = HashSet::new();
        let mut templates = HashSet::new();
        for entry in CATALOGUE {
            assert!(ids.insert(entry.id), "duplicate id {}", entry.id);
            assert!(
                templates.insert(entry.template),
                "duplicate {}",
                entry.template
            );
            assert!(
                entry.id.split('-').all(|w| !w.is_empty()
                    && w.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())),
                "id not kebab-case: {}",
                entry.id
            );
            assert!(!entry.meaning.is_empty() && !entry.meaning.contains('\n'));
            match entry.origin {
                Origin::Aws => assert!(
                    [
                        SECTION_IKEV1_ERRORS,
                        SECTION_IKEV2_ERRORS,
                        SECTION_IKEV2_NEGOTIATION
                    ]
                    .contains(&entry.section),
                    "{}",
                    entry.id
                ),
                Origin::Ikesim => {
                    assert_eq!(entry.section, SECTION_IKESIM, "{}", entry.id);
                    assert!(entry.id.starts_with("ikesim-"), "{}", entry.id);
                    assert!(entry.template.starts_with("AWS tunnel "), "{}", entry.id);
                }
            }
            assert_eq!(by_id(entry.id), Some(entry));
        }
        assert_eq!(by_id("no-such-entry"), None);
    }

    #[test]
    fn no_string_matches_two_entries() {
        for (i, a) in CATALOGUE.iter().enumerate() {
            for b in &CATALOGUE[i + 1..] {
                assert!(
                    !template::overlap(a.template, b.template),
                    "{} and {} can match the same string",
                    a.id,
                    b.id
                );
            }
        }
    }

    #[test]
    fn lookup_finds_aws_strings_and_rejects_others() {
        let entry = lookup("AWS tunnel detected a pre-shared key mismatch with cgw: 203.0.113.9");
        assert_eq!(entry.map(|e| e.id), Some("ikev2-psk-mismatch"));
        let entry = lookup("No Proposal Match Found. Notifying with \"No proposal chosen\"");
        assert_eq!(entry.map(|e| e.id), Some("no-proposal-chosen"));
        assert_eq!(
            lookup("AWS tunnel detected a pre-shared key mismatch with cgw: "),
            None
        );
        assert_eq!(lookup("No Proposal Match Found by AWS."), None);
        assert_eq!(lookup(""), None);
    }
}
