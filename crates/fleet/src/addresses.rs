//! The addresses a fleet connection presents (issue 13 §1): AWS's tunnel outside IPs from
//! AWS's published EC2 ranges, customer gateways' public addresses from public unicast
//! space, and the private address of a CGW behind a NAT.
//!
//! Transport stays on loopback: every connection's hosts bind the same loopback addresses
//! (tunnel N on 127.0.1.N, the CGW on 127.0.2.1, the NAT on 127.0.3.1, the defaults of the
//! presented-address contract), and the estate shares their sockets between connections.

use std::net::Ipv4Addr;

use rand::Rng;

/// The region whose ranges AWS's tunnel outside IPs are drawn from.
pub const AWS_REGION: &str = "us-east-1";

/// Blocks of AWS's published ranges (`ip-ranges.json`, service `EC2`, region `us-east-1`;
/// the Amazon AS 14618) that AWS's tunnel outside IPs are drawn from. A VPN tunnel's outside
/// IP is an Amazon-owned public address in the connection's region; these blocks hold many
/// of them.
pub const AWS_BLOCKS: [(Ipv4Addr, u8); 4] = [
    (Ipv4Addr::new(3, 208, 0, 0), 12),
    (Ipv4Addr::new(34, 192, 0, 0), 12),
    (Ipv4Addr::new(44, 192, 0, 0), 11),
    (Ipv4Addr::new(54, 144, 0, 0), 14),
];

/// First octets a CGW's public address never has: special-purpose space (RFC 6890: this
/// network, private, loopback, multicast and reserved) and the /8s where AWS's published
/// ranges are concentrated, so that a CGW never looks like an AWS address.
const EXCLUDED_FIRST_OCTETS: [u8; 12] = [0, 3, 10, 13, 15, 18, 34, 35, 44, 52, 54, 127];

/// Special-purpose blocks inside otherwise public /8s (RFC 6890): shared address space
/// (RFC 6598), link local (RFC 3927), private (RFC 1918), IETF protocol assignments, the
/// documentation ranges (RFC 5737), 6to4 relays and benchmarking (RFC 2544).
const EXCLUDED_BLOCKS: [(Ipv4Addr, u8); 9] = [
    (Ipv4Addr::new(100, 64, 0, 0), 10),
    (Ipv4Addr::new(169, 254, 0, 0), 16),
    (Ipv4Addr::new(172, 16, 0, 0), 12),
    (Ipv4Addr::new(192, 0, 0, 0), 24),
    (Ipv4Addr::new(192, 0, 2, 0), 24),
    (Ipv4Addr::new(192, 88, 99, 0), 24),
    (Ipv4Addr::new(192, 168, 0, 0), 16),
    (Ipv4Addr::new(198, 18, 0, 0), 15),
    (Ipv4Addr::new(198, 51, 100, 0), 24),
];

/// More documentation space (RFC 5737's third block).
const TEST_NET_3: (Ipv4Addr, u8) = (Ipv4Addr::new(203, 0, 113, 0), 24);

/// Whether `addr` lies in `block`.
pub fn in_block(addr: Ipv4Addr, (base, len): (Ipv4Addr, u8)) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    u32::from(addr) & mask == u32::from(base) & mask
}

/// An address of `block` that is neither its first nor its last (no network or broadcast
/// look-alikes).
fn in_of(rng: &mut impl Rng, (base, len): (Ipv4Addr, u8)) -> Ipv4Addr {
    let size = 1u32 << (32 - u32::from(len));
    Ipv4Addr::from(u32::from(base) + rng.gen_range(1..size - 1))
}

/// Two distinct AWS tunnel outside IPs, as one VPN connection's two tunnels have (AWS
/// places them in different blocks more often than not; here each is drawn on its own).
pub fn aws_tunnel_pair(rng: &mut impl Rng) -> [Ipv4Addr; 2] {
    let first = aws_tunnel_ip(rng);
    loop {
        let second = aws_tunnel_ip(rng);
        if second != first {
            return [first, second];
        }
    }
}

fn aws_tunnel_ip(rng: &mut impl Rng) -> Ipv4Addr {
    let block = AWS_BLOCKS[rng.gen_range(0..AWS_BLOCKS.len())];
    in_of(rng, block)
}

/// Whether `addr` may be a CGW's public address: public unicast, not AWS's.
pub fn is_cgw_public(addr: Ipv4Addr) -> bool {
    let [first, .., last] = addr.octets();
    first < 224
        && !EXCLUDED_FIRST_OCTETS.contains(&first)
        && !EXCLUDED_BLOCKS.iter().any(|b| in_block(addr, *b))
        && !in_block(addr, TEST_NET_3)
        && last != 0
        && last != 255
}

/// A customer gateway's public address (or its NAT's), drawn from public unicast space.
pub fn cgw_public(rng: &mut impl Rng) -> Ipv4Addr {
    loop {
        let addr = Ipv4Addr::from(rng.gen::<u32>());
        if is_cgw_public(addr) {
            return addr;
        }
    }
}

/// The private address of a CGW behind a NAT (RFC 1918's 192.168.0.0/16, as home and
/// branch routers number their LANs).
pub fn cgw_private(rng: &mut impl Rng) -> Ipv4Addr {
    in_of(rng, (Ipv4Addr::new(192, 168, 0, 0), 16))
}

/// The loopback address tunnel `tunnel` (0-based) binds: 127.0.1.(tunnel + 1).
pub fn tunnel_loopback(tunnel: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 1, u8::try_from(tunnel + 1).unwrap_or(u8::MAX))
}

/// The loopback address every connection's CGW binds.
pub const CGW_LOOPBACK: Ipv4Addr = Ipv4Addr::new(127, 0, 2, 1);
/// The loopback address every connection's NAT binds.
pub const NAT_LOOPBACK: Ipv4Addr = Ipv4Addr::new(127, 0, 3, 1);

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn aws_addresses_are_in_the_blocks_and_pairs_distinct() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for _ in 0..10_000 {
            let [a, b] = aws_tunnel_pair(&mut rng);
            assert_ne!(a, b);
            for ip in [a, b] {
                assert!(AWS_BLOCKS.iter().any(|blk| in_block(ip, *blk)), "{ip}");
                assert!(!is_cgw_public(ip), "{ip} could pass for a CGW");
            }
        }
    }

    #[test]
    fn cgw_addresses_are_public_unicast_and_not_aws() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        for _ in 0..10_000 {
            let ip = cgw_public(&mut rng);
            assert!(
                !ip.is_private()
                    && !ip.is_loopback()
                    && !ip.is_link_local()
                    && !ip.is_multicast()
                    && !ip.is_documentation()
                    && !ip.is_broadcast()
                    && !ip.is_unspecified(),
                "{ip}"
            );
            assert!(!in_block(ip, (Ipv4Addr::new(100, 64, 0, 0), 10)), "{ip}");
            assert!(!AWS_BLOCKS.iter().any(|b| in_block(ip, *b)), "{ip}");
        }
        // The rule itself refuses what it must.
        for bad in [
            "10.1.2.3",
            "192.0.2.7",
            "198.51.100.1",
            "203.0.113.9",
            "100.64.1.1",
        ] {
            let ip: Ipv4Addr = bad.parse().unwrap();
            assert!(!is_cgw_public(ip), "{ip}");
        }
        assert!(is_cgw_public(Ipv4Addr::new(81, 2, 69, 142)));
    }

    #[test]
    fn private_addresses_are_rfc_1918() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        for _ in 0..1000 {
            assert!(cgw_private(&mut rng).is_private());
        }
    }
}
