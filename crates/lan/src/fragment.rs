//! IPv4 fragmentation (RFC 791 §3.2, "Fragmentation and reassembly"): what a link with a
//! smaller MTU does to a packet, or why it cannot.

/// Why [`fragment`] cannot send a packet over a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FragmentError {
    /// The packet is larger than the MTU and has Don't Fragment set: a router drops it (and
    /// would send ICMP "fragmentation needed", which AWS does not).
    #[error("a {len}-byte packet with Don't Fragment set does not fit the {mtu}-byte MTU")]
    TooBig {
        /// The packet's length.
        len: usize,
        /// The link's MTU.
        mtu: u16,
    },
    /// An MTU below the 68 bytes every IPv4 link must carry (RFC 791).
    #[error("an MTU of {0} bytes is below IPv4's minimum of 68")]
    MtuTooSmall(u16),
    /// The bytes are not a well-formed IPv4 packet.
    #[error("not a well-formed IPv4 packet: {0}")]
    Malformed(&'static str),
}

/// `packet` as it crosses a link of `mtu` bytes: itself if it fits, otherwise its fragments in
/// order (each payload but the last a multiple of 8 bytes; options whose copied flag is set
/// repeated in every fragment, the others only in the first; fragmenting a fragment keeps its
/// offset and last More Fragments bit).
///
/// # Errors
/// [`FragmentError::TooBig`] if it does not fit and has DF set; the other variants for an MTU
/// below 68 or bytes that are not IPv4.
pub fn fragment(packet: &[u8], mtu: u16) -> Result<Vec<Vec<u8>>, FragmentError> {
    let _ = (packet, mtu);
    unimplemented!("API commit: the body follows")
}
