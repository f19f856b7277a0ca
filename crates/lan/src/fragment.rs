//! IPv4 fragmentation (RFC 791 §3.2, "Fragmentation and reassembly"): what a link with a
//! smaller MTU does to a packet, or why it cannot.

use etherparse::{IpFragOffset, Ipv4Slice};

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
    let ipv4 = Ipv4Slice::from_slice(packet)
        .map_err(|_| FragmentError::Malformed("bad header or length"))?;
    let header = ipv4.header().to_header();
    let total = usize::from(header.total_len);
    if mtu < MIN_MTU {
        return Err(FragmentError::MtuTooSmall(mtu));
    }
    if total <= usize::from(mtu) {
        return Ok(vec![packet[..total].to_vec()]);
    }
    if header.dont_fragment {
        return Err(FragmentError::TooBig { len: total, mtu });
    }
    let payload = &packet[header.header_len()..total];
    let mut later = header.clone();
    later.options = copied_options(header.options.as_slice())?
        .as_slice()
        .try_into()
        .map_err(|_| FragmentError::Malformed("bad options"))?;
    let base = usize::from(header.fragment_offset.byte_offset());
    let mut fragments = Vec::new();
    let mut pos = 0;
    while pos < payload.len() {
        let mut h = if pos == 0 {
            header.clone()
        } else {
            later.clone()
        };
        // At least 8: the MTU is at least 68 and a header at most 60 bytes.
        let room = (usize::from(mtu) - h.header_len()) & !7;
        let chunk = room.min(payload.len() - pos);
        let offset = u16::try_from((base + pos) / 8)
            .ok()
            .and_then(|o| IpFragOffset::try_new(o).ok())
            .ok_or(FragmentError::Malformed(
                "fragment offset beyond 65,528 bytes",
            ))?;
        h.fragment_offset = offset;
        h.more_fragments = pos + chunk < payload.len() || header.more_fragments;
        h.set_payload_len(chunk)
            .map_err(|_| FragmentError::Malformed("too long"))?;
        h.header_checksum = h.calc_header_checksum();
        let mut bytes = Vec::with_capacity(h.header_len() + chunk);
        bytes.extend_from_slice(&h.to_bytes());
        bytes.extend_from_slice(&payload[pos..pos + chunk]);
        fragments.push(bytes);
        pos += chunk;
    }
    Ok(fragments)
}

/// The smallest MTU an IPv4 link may have (RFC 791: every module must forward a 68-byte
/// datagram without fragmenting it).
const MIN_MTU: u16 = 68;

/// The options that go into every fragment: those whose copied flag (the type's top bit) is
/// set (RFC 791 §3.1), padded with End of Option List to a multiple of 4 bytes.
fn copied_options(options: &[u8]) -> Result<Vec<u8>, FragmentError> {
    let mut copied = Vec::new();
    let mut i = 0;
    while i < options.len() {
        let kind = options[i];
        let len = match kind {
            0 => break,
            1 => 1,
            _ => usize::from(
                *options
                    .get(i + 1)
                    .ok_or(FragmentError::Malformed("bad options"))?,
            ),
        };
        if len < 1 || (kind > 1 && len < 2) || i + len > options.len() {
            return Err(FragmentError::Malformed("bad options"));
        }
        if kind & 0x80 != 0 {
            copied.extend_from_slice(&options[i..i + len]);
        }
        i += len;
    }
    copied.resize(copied.len().div_ceil(4) * 4, 0);
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{build, Ip, Transport};
    use etherparse::Ipv4HeaderSlice;
    use std::net::Ipv4Addr;

    fn packet(len: usize, df: bool) -> Vec<u8> {
        let ip = Ip {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 1, 0, 1),
            id: 77,
            df,
        };
        let payload: Vec<u8> = (0..len - 28).map(|i| (i % 251) as u8).collect();
        build(ip, Transport::Udp { src: 5, dst: 7 }, &payload)
    }

    #[test]
    fn fits_df_and_small_mtus() {
        let p = packet(1400, true);
        assert_eq!(fragment(&p, 1400).unwrap(), vec![p.clone()]);
        assert_eq!(
            fragment(&p, 1399),
            Err(FragmentError::TooBig {
                len: 1400,
                mtu: 1399
            })
        );
        assert_eq!(fragment(&p, 67), Err(FragmentError::MtuTooSmall(67)));
        assert!(matches!(
            fragment(&p[..30], 1000),
            Err(FragmentError::Malformed(_))
        ));
    }

    #[test]
    fn fragments_are_aligned_and_flagged() {
        let p = packet(1400, false);
        let frags = fragment(&p, 576).unwrap();
        let layout: Vec<_> = frags
            .iter()
            .map(|f| {
                let h = Ipv4HeaderSlice::from_slice(f).unwrap();
                assert_eq!(usize::from(h.total_len()), f.len());
                assert_eq!(h.identification(), 77);
                let h = h.to_header();
                assert_eq!(h.header_checksum, h.calc_header_checksum());
                (f.len(), h.fragment_offset.byte_offset(), h.more_fragments)
            })
            .collect();
        // 1380 payload bytes in 552-byte pieces (576 - 20, rounded down to 8).
        assert_eq!(
            layout,
            [(572, 0, true), (572, 552, true), (296, 1104, false)]
        );
        // A fragment fragmented again keeps its offset and its More Fragments bit.
        let again = fragment(&frags[1], 300).unwrap();
        let offsets: Vec<_> = again
            .iter()
            .map(|f| {
                let h = Ipv4HeaderSlice::from_slice(f).unwrap();
                (h.fragments_offset().byte_offset(), h.more_fragments())
            })
            .collect();
        assert_eq!(offsets, [(552, true), (832, true)]);
    }

    #[test]
    fn only_copied_options_repeat() {
        // Options: NOP, a copied option (type 0x94, router alert, 4 bytes), record route
        // (type 7, not copied, 7 bytes), end of list.
        let options = [1u8, 0x94, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0];
        assert_eq!(copied_options(&options).unwrap(), vec![0x94, 4, 0, 0]);
        assert!(copied_options(&[7, 9, 0]).is_err());
        assert!(copied_options(&[7, 1, 0, 0]).is_err());
        let mut header = etherparse::Ipv4Header::new(
            1000,
            64,
            etherparse::IpNumber::UDP,
            [1, 2, 3, 4],
            [5, 6, 7, 8],
        )
        .unwrap();
        header.dont_fragment = false;
        header.options = options.as_slice().try_into().unwrap();
        header.set_payload_len(1000).unwrap();
        header.header_checksum = header.calc_header_checksum();
        let mut p = header.to_bytes().to_vec();
        p.extend((0..1000).map(|i| (i % 256) as u8));
        let frags = fragment(&p, 500).unwrap();
        let lens: Vec<_> = frags
            .iter()
            .map(|f| Ipv4HeaderSlice::from_slice(f).unwrap().slice().len())
            .collect();
        assert_eq!(lens, [32, 24, 24]);
    }
}
