//! The four phase states of reference §1.

use std::fmt;
use std::str::FromStr;

use crate::RecordError;

/// `ike_phase1_state` / `ike_phase2_state`: lowercase, as AWS's console shows them
/// (reference §1; AWS's prose capitalises them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhaseState {
    /// The SA is up.
    Established,
    /// The SA is up and being replaced by a new one.
    Rekeying,
    /// An exchange to set the SA up is under way.
    Negotiating,
    /// No SA.
    Down,
}

impl PhaseState {
    /// Every state, in the reference's order.
    pub const ALL: [PhaseState; 4] = [
        PhaseState::Established,
        PhaseState::Rekeying,
        PhaseState::Negotiating,
        PhaseState::Down,
    ];

    /// The spelling written to records.
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseState::Established => "established",
            PhaseState::Rekeying => "rekeying",
            PhaseState::Negotiating => "negotiating",
            PhaseState::Down => "down",
        }
    }
}

impl fmt::Display for PhaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PhaseState {
    type Err = RecordError;

    /// Accepts any ASCII case (`Established` as AWS's documentation writes it), so real
    /// records read back whatever their vintage.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PhaseState::ALL
            .into_iter()
            .find(|state| state.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| RecordError::InvalidValue {
                key: "ike_phase_state",
                found: s.to_owned(),
                expected: "established, rekeying, negotiating or down",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        for state in PhaseState::ALL {
            assert_eq!(state.to_string().parse::<PhaseState>(), Ok(state));
            assert_eq!(state.to_string(), state.to_string().to_lowercase());
        }
        assert_eq!("Established".parse(), Ok(PhaseState::Established));
        assert!("up".parse::<PhaseState>().is_err());
        assert!("".parse::<PhaseState>().is_err());
    }

    #[test]
    fn serde_spells_lowercase() {
        assert_eq!(
            serde_json::to_string(&PhaseState::Negotiating)
                .ok()
                .as_deref(),
            Some("\"negotiating\"")
        );
        let down: Result<PhaseState, _> = serde_json::from_str("\"down\"");
        assert_eq!(down.ok(), Some(PhaseState::Down));
    }
}
