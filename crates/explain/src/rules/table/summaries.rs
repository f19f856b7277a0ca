//! The stream-wide findings the engine makes itself (healthy, never up, unknown messages),
//! listed for the documentation's table.

use super::super::{Severity, Summary};

/// The stream-wide findings (see the engine), for the documentation's table.
pub static SUMMARIES: &[Summary] = &[
    Summary {
        id: "never-up",
        severity: Severity::Error,
        when: "phase 2 never up and no other error explains it",
        scenario: None,
    },
    Summary {
        id: "healthy",
        severity: Severity::Info,
        when: "phase 2 came up and no warning or error: counts the rekeys",
        scenario: Some("ikev2-happy"),
    },
    Summary {
        id: "unknown-messages",
        severity: Severity::Info,
        when: "some records' details are in no catalogue entry",
        scenario: None,
    },
    Summary {
        id: "unknown-only",
        severity: Severity::Warning,
        when: "no record's details is in the catalogue: nothing is diagnosed",
        scenario: None,
    },
];
