//! The golden logs' record invariants, for any log stream: the golden logs and the fleet's
//! files are held to the same rules (issue 13: "the fleet's output passes the golden logs'
//! record invariants").

use vpn_log::{PhaseState, TunnelRecord};

/// Checks one log stream's JSON lines (`what` names it in the messages): every line is an
/// AWS record whose message is in the catalogue (a state never moves without a record
/// saying why), the records are in time order, and neither phase goes from down to
/// established without negotiating in between. Returns the records.
pub fn check_stream(what: &str, text: &str) -> Result<Vec<TunnelRecord>, String> {
    let mut records = Vec::new();
    let (mut p1, mut p2) = (PhaseState::Down, PhaseState::Down);
    let mut last = None;
    for (n, line) in text.lines().enumerate() {
        let at = format!("{what}:{}", n + 1);
        let r = TunnelRecord::parse_json(line).map_err(|e| format!("{at}: {e}"))?;
        if vpn_log::lookup(&r.details).is_none() {
            return Err(format!("{at}: unknown message {:?}", r.details));
        }
        if last.is_some_and(|t| r.time < t) {
            return Err(format!("{at}: earlier than the record before it"));
        }
        last = Some(r.time);
        for (before, after) in [(p1, r.ike_phase1_state), (p2, r.ike_phase2_state)] {
            if before == PhaseState::Down && after == PhaseState::Established {
                return Err(format!("{at}: down → established without negotiating"));
            }
        }
        (p1, p2) = (r.ike_phase1_state, r.ike_phase2_state);
        records.push(r);
    }
    Ok(records)
}
