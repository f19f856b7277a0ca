//! The header at the start of every flow packet's payload: which flow, which packet, when it
//! was sent, and (for a request) the size of the response it asks for.

/// The first bytes of a flow packet's payload (ICMP echo data or UDP payload), network byte
/// order:
///
/// ```text
///  0       4    5    6      8              16             24     26     28
///  | "IKSL" |kind| 0  | flow |     seq      |   sent (ns)  | resp |  0   |
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Marker {
    /// What the packet asks of its destination.
    pub(crate) kind: MarkerKind,
    /// The flow's index in its site.
    pub(crate) flow: u16,
    /// The packet's index in its flow, from 0.
    pub(crate) seq: u64,
    /// When it was sent, in nanoseconds after the sending Lan's start.
    pub(crate) sent_ns: u64,
    /// For a [`MarkerKind::Request`]: the IP total length of the response asked for.
    pub(crate) response_size: u16,
}

/// What a marked packet asks of its destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MarkerKind {
    /// An ICMP or UDP echo request (the answer is the echo service's copy of it).
    Echo,
    /// A request/response flow's request: answer with `response_size` bytes.
    Request,
    /// The answer to a [`MarkerKind::Request`].
    Response,
}

impl Marker {
    /// The marker's length in bytes.
    pub(crate) const LEN: usize = 28;
    /// Its first four bytes.
    const MAGIC: [u8; 4] = *b"IKSL";

    /// The marker as bytes.
    pub(crate) fn to_bytes(self) -> [u8; Marker::LEN] {
        let mut b = [0u8; Marker::LEN];
        b[..4].copy_from_slice(&Marker::MAGIC);
        b[4] = match self.kind {
            MarkerKind::Echo => 1,
            MarkerKind::Request => 2,
            MarkerKind::Response => 3,
        };
        b[6..8].copy_from_slice(&self.flow.to_be_bytes());
        b[8..16].copy_from_slice(&self.seq.to_be_bytes());
        b[16..24].copy_from_slice(&self.sent_ns.to_be_bytes());
        b[24..26].copy_from_slice(&self.response_size.to_be_bytes());
        b
    }

    /// The marker at the start of `payload`, if there is one.
    pub(crate) fn parse(payload: &[u8]) -> Option<Marker> {
        let b: &[u8; Marker::LEN] = payload.get(..Marker::LEN)?.try_into().ok()?;
        if b[..4] != Marker::MAGIC {
            return None;
        }
        let kind = match b[4] {
            1 => MarkerKind::Echo,
            2 => MarkerKind::Request,
            3 => MarkerKind::Response,
            _ => return None,
        };
        let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        let u64_at = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i..i + 8]);
            u64::from_be_bytes(w)
        };
        Some(Marker {
            kind,
            flow: u16_at(6),
            seq: u64_at(8),
            sent_ns: u64_at(16),
            response_size: u16_at(24),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects() {
        let m = Marker {
            kind: MarkerKind::Request,
            flow: 513,
            seq: 1 << 40,
            sent_ns: 123_456_789,
            response_size: 1400,
        };
        let mut bytes = m.to_bytes().to_vec();
        bytes.extend_from_slice(b"padding");
        assert_eq!(Marker::parse(&bytes), Some(m));
        assert_eq!(Marker::parse(&bytes[..Marker::LEN - 1]), None);
        bytes[4] = 9;
        assert_eq!(Marker::parse(&bytes), None);
        bytes[4] = 2;
        bytes[0] = b'X';
        assert_eq!(Marker::parse(&bytes), None);
    }
}
