//! Subscription event ids: 56-digit decimal strings (reference §5).
//!
//! AWS does not publish their structure. Published deliveries show one: read as a number,
//! an id is the event's timestamp in milliseconds shifted left by 144 bits, then what looks
//! like the ingestion time (shifted by 80) and an opaque part ending in the event's index
//! in the delivery. For example AWS's `35683658089614582423604394983260738922885519999578275840`
//! is `1600110569039 << 144 | 1600110569469 << 80 | …` for an event of timestamp
//! 1600110569039.
//!
//! ikesim keeps the top part and replaces the rest with something deterministic:
//!
//! ```text
//! id = timestamp_ms << 144  |  ordinal << 80
//! ```
//!
//! where `ordinal` is the event's position (from 0) among all the events the run offered
//! for delivery, kept or filtered out alike. So ids are unique within a run (the ordinal
//! is), grow with the timestamp (ties in the order written), are the same in the same run
//! every time, and a record has the same id with or without `--filter-pattern`. A
//! timestamp from 1984 to 2112 makes a 56-digit number, as AWS's are; an earlier one is
//! padded with leading zeros, and one outside 1970–2112 cannot be written.

/// How many decimal digits an id has.
pub const ID_DIGITS: usize = 56;

/// 10^19, the largest power of ten in a u64.
const CHUNK: u64 = 10_000_000_000_000_000_000;

/// The id of the event at `timestamp_ms` that is the run's `ordinal`-th; `None` when it
/// does not fit in [`ID_DIGITS`] digits: a timestamp before 1970, or from
/// 2112-02-05T22:38:05.840Z (`10^56 / 2^144` ms) on.
pub fn event_id(timestamp_ms: i64, ordinal: u64) -> Option<String> {
    let timestamp = u64::try_from(timestamp_ms).ok()?;
    // The 192-bit value as three 64-bit limbs, most significant first: the timestamp sits
    // at bit 144 (16 bits into the top limb), the ordinal at bit 80 (its top 16 bits in the
    // top limb, the rest at the top of the middle one).
    let top = timestamp.checked_mul(1 << 16)? | (ordinal >> 48);
    let mut limbs = [top, (ordinal & ((1 << 48) - 1)) << 16, 0];
    // Decimal, 19 digits at a time.
    let mut chunks = Vec::new();
    while limbs.iter().any(|&l| l != 0) {
        let mut remainder: u128 = 0;
        for limb in &mut limbs {
            let current = (remainder << 64) | u128::from(*limb);
            // Both fit: remainder < CHUNK, so current / CHUNK < 2^64.
            *limb = u64::try_from(current / u128::from(CHUNK)).ok()?;
            remainder = current % u128::from(CHUNK);
        }
        chunks.push(remainder);
    }
    let mut digits = chunks
        .iter()
        .rev()
        .map(|c| format!("{c:019}"))
        .collect::<String>();
    let significant = digits.trim_start_matches('0').len();
    if significant > ID_DIGITS {
        return None;
    }
    digits.drain(..digits.len() - significant);
    Some(format!("{digits:0>ID_DIGITS$}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_56_digits_and_carry_the_timestamp_on_top_as_aws_ids_do() {
        let id = event_id(1_600_110_569_039, 0).unwrap_or_default();
        assert_eq!(id.len(), ID_DIGITS);
        // AWS's id for an event at that millisecond shares the timestamp part.
        let aws = "35683658089614582423604394983260738922885519999578275840";
        // Both are that millisecond << 144 plus less than 2^144 (about 2.2e43), so they
        // agree in the leading digits.
        assert_eq!(id[..12], aws[..12]);
        // The whole value, checked against Python: (1600110569039 << 144) + (5 << 80).
        assert_eq!(
            event_id(1_600_110_569_039, 5).as_deref(),
            Some("35683658089614582421669980001597004507983379593223471104")
        );
        // The simulated default start, 2026-01-01T00:00:00Z.
        let id = event_id(1_767_225_600_000, 7).unwrap_or_default();
        assert_eq!(id.len(), ID_DIGITS);
        assert!(id.bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn ids_order_by_timestamp_then_ordinal() {
        let ids: Vec<String> = [(1_000_i64, 0_u64), (1_000, 1), (1_001, 0), (2_000_000, 5)]
            .iter()
            .filter_map(|&(t, n)| event_id(t, n))
            .collect();
        assert_eq!(ids.len(), 4);
        // Same width, so string order is numeric order.
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        assert_eq!(
            event_id(0, 0).as_deref(),
            Some("0".repeat(ID_DIGITS).as_str())
        );
        // Checked against Python's integers: 1 << 80, and (123 << 144) | ((2^64 - 1) << 80).
        let padded = |digits: &str| format!("{digits:0>56}");
        assert_eq!(event_id(0, 1), Some(padded("1208925819614629174706176")));
        assert_eq!(
            event_id(123, u64::MAX),
            Some(padded("2765292404617797269549220139988782197566865408"))
        );
    }

    #[test]
    fn timestamps_outside_what_56_digits_hold_have_no_id() {
        assert!(event_id(-1, 0).is_none());
        assert!(event_id(4_484_155_085_840, 0).is_none());
        let last = event_id(4_484_155_085_839, 1 << 40).unwrap_or_default();
        assert_eq!(last.len(), ID_DIGITS);
        assert!(!last.starts_with('0'));
    }
}
