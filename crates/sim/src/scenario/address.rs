//! A simulated host's two addresses (docs/scenario-format.md, "Addresses"): the one it
//! *presents* — `outside_ip`, any unicast address, what AWS's records and stream names show
//! — and the loopback address it really binds, `loopback_ip`.
//!
//! Records, stream names (and so `--out` file names, envelopes, CloudWatch, metrics),
//! `explain` and the timeline's lanes show the presented addresses; datagrams, NAT
//! detection, identities, pcaps and `--keys` keep the loopback ones, because they are what
//! went over the wire: a NAT_DETECTION_*_IP hash computed over an address the packet did
//! not carry would make each side see a NAT that is not there (RFC 7296 §2.23).

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Deserializer};

use super::Scenario;

/// A loopback address a simulated host binds (DESIGN.md, "Loopback by default"):
/// 127.0.0.0/8 or ::1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostIp(pub IpAddr);

impl<'de> Deserialize<'de> for HostIp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ip: IpAddr = s
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not an IP address")))?;
        if !ip.is_loopback() {
            return Err(serde::de::Error::custom(format!(
                "{ip} is not a loopback address: every simulated host lives on 127.0.0.0/8 \
                 or ::1 (e.g. 127.0.1.1); the address records show is `outside_ip`"
            )));
        }
        Ok(HostIp(ip))
    }
}

/// A host's presented address (`outside_ip`): any unicast IPv4 or IPv6 address — what
/// AWS's records, stream names and the timeline show. A loopback one is also the address
/// the host binds unless `loopback_ip` says otherwise (files from before presented
/// addresses keep working).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutsideIp(pub IpAddr);

impl OutsideIp {
    /// Why `ip` cannot be a host's address, if it cannot: it must name one interface.
    pub fn refuse(ip: IpAddr) -> Option<&'static str> {
        if ip.is_unspecified() {
            Some("is the unspecified address, which names no host")
        } else if ip.is_multicast() {
            Some("is a multicast address, which names a group, not a host")
        } else if ip == IpAddr::V4(Ipv4Addr::BROADCAST) {
            Some("is the broadcast address, which names every host")
        } else {
            None
        }
    }
}

impl<'de> Deserialize<'de> for OutsideIp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ip: IpAddr = s.parse().map_err(|_| {
            serde::de::Error::custom(format!(
                "`{s}` is not an IP address (e.g. 192.0.2.1 or 2001:db8::1)"
            ))
        })?;
        match OutsideIp::refuse(ip) {
            Some(why) => Err(serde::de::Error::custom(format!(
                "{ip} {why}: give a unicast address (the documentation ranges 192.0.2.0/24, \
                 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32 are meant for examples)"
            ))),
            None => Ok(OutsideIp(ip)),
        }
    }
}

/// The loopback address a host binds: `loopback_ip` when given, else `outside_ip` when it
/// is loopback itself, else `default`.
pub(crate) fn bind_ip(outside: OutsideIp, loopback: Option<HostIp>, default: IpAddr) -> IpAddr {
    match loopback {
        Some(l) => l.0,
        None if outside.0.is_loopback() => outside.0,
        None => default,
    }
}

/// How AWS names a connection's hosts: each host's loopback address → its presented one.
/// An address it does not know (a real peer of `serve`) is shown as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Presentation {
    pairs: Vec<(IpAddr, IpAddr)>,
}

impl Presentation {
    /// A presentation of `(loopback, presented)` pairs.
    pub fn new(pairs: impl IntoIterator<Item = (IpAddr, IpAddr)>) -> Presentation {
        Presentation {
            pairs: pairs.into_iter().collect(),
        }
    }

    /// What records show for the host at `ip`.
    pub fn present(&self, ip: IpAddr) -> IpAddr {
        self.pairs
            .iter()
            .find(|(real, _)| *real == ip)
            .map_or(ip, |&(_, shown)| shown)
    }
}

/// One host of a scenario, as the address checks see it.
struct Host {
    /// The table that configures it, as docs/scenario-format.md names it (`tunnel[1]`).
    table: String,
    /// Where that table starts in the file, if it can be found.
    offset: Option<usize>,
    shown: IpAddr,
    bound: IpAddr,
    /// Whether `loopback_ip` is given (then a clash of bound addresses is that key's).
    explicit: bool,
}

/// The scenario's hosts: its tunnels' AWS endpoints, the CGW, the NAT.
fn hosts(scenario: &Scenario, text: &str) -> Vec<Host> {
    let mut tunnels = text.match_indices("[[tunnel]]").map(|(o, _)| o);
    let mut hosts: Vec<Host> = (1u8..)
        .zip(&scenario.tunnel)
        .map(|(n, t)| Host {
            table: format!("tunnel[{n}]"),
            offset: tunnels.next(),
            shown: t.outside_ip.0,
            bound: t.bind_ip(n),
            explicit: t.loopback_ip.is_some(),
        })
        .collect();
    hosts.push(Host {
        table: "cgw".into(),
        offset: text.find("[cgw]"),
        shown: scenario.cgw.outside_ip.0,
        bound: scenario.cgw.bind_ip(),
        explicit: scenario.cgw.loopback_ip.is_some(),
    });
    if let Some(nat) = &scenario.network.nat {
        hosts.push(Host {
            table: "network.nat".into(),
            offset: text.find("[network.nat]"),
            shown: nat.outside_ip.0,
            bound: nat.bind_ip(),
            explicit: nat.loopback_ip.is_some(),
        });
    }
    hosts
}

/// The offset of `key`'s line in the table starting at `table`, else the table's.
fn key_offset(text: &str, table: Option<usize>, key: &str) -> Option<usize> {
    let at = table?;
    let rest = &text[at..];
    let end = rest[1..].find("\n[").map_or(rest.len(), |e| e + 1);
    Some(
        rest[..end]
            .find(&format!("\n{key}"))
            .map_or(at, |p| at + p + 1),
    )
}

/// Checks the hosts' addresses across tables: each host presents an address of its own
/// (records and stream names would mix two up) and binds one of its own, all of one
/// family (an IPv4 socket cannot reach an IPv6 one). `(offset, key, message)` on error.
pub(super) fn check(
    scenario: &Scenario,
    text: &str,
) -> Result<(), (Option<usize>, String, String)> {
    let hosts = hosts(scenario, text);
    for (i, h) in hosts.iter().enumerate() {
        let earlier = &hosts[..i];
        if let Some(other) = earlier.iter().find(|o| o.shown == h.shown) {
            return Err((
                key_offset(text, h.offset, "outside_ip"),
                format!("{}.outside_ip", h.table),
                format!(
                    "{} is {}'s outside_ip too: every host needs an address of its own, or \
                     its records and stream would be told apart from the other's by nothing",
                    h.shown, other.table
                ),
            ));
        }
        let key = if h.explicit {
            "loopback_ip"
        } else {
            "outside_ip"
        };
        if let Some(other) = earlier.iter().find(|o| o.bound == h.bound) {
            let how = if h.explicit {
                "its loopback_ip"
            } else if h.shown.is_loopback() {
                "its outside_ip, a loopback address"
            } else {
                "the default for its outside_ip, which is not loopback"
            };
            return Err((
                key_offset(text, h.offset, key),
                format!("{}.{key}", h.table),
                format!(
                    "{} binds {} ({how}), as {} does: each simulated host needs a loopback \
                     address of its own; set `loopback_ip` in [{}] to another 127.x.y.z",
                    h.table, h.bound, other.table, h.table
                ),
            ));
        }
        if let Some(other) = earlier
            .iter()
            .find(|o| o.bound.is_ipv4() != h.bound.is_ipv4())
        {
            return Err((
                key_offset(text, h.offset, key),
                format!("{}.{key}", h.table),
                format!(
                    "{} binds {} but {} binds {}: the hosts' loopback addresses must be of one \
                     family (IPv4 127.x.y.z or IPv6 ::1), or their datagrams cannot reach \
                     each other; set `loopback_ip`",
                    h.table, h.bound, other.table, other.bound
                ),
            ));
        }
    }
    Ok(())
}

impl Scenario {
    /// How AWS names this scenario's hosts: every host's loopback address → its
    /// `outside_ip` (the NAT's is what AWS sees of a CGW behind it).
    pub fn presentation(&self) -> Presentation {
        Presentation::new(hosts(self, "").into_iter().map(|h| (h.bound, h.shown)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
description = "test"
[vpn_connection]
id = "vpn-0123456789abcdef0"
[cgw]
outside_ip = "127.0.2.1"
[[tunnel]]
outside_ip = "127.0.1.1"
"#;

    fn err(extra: &str) -> String {
        Scenario::parse(&format!("{MINIMAL}{extra}"), "t.toml", "t")
            .unwrap_err()
            .to_string()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_loopback_outside_ip_is_bound_unless_loopback_ip_says_otherwise() {
        let default = ip("127.0.1.1");
        assert_eq!(bind_ip(OutsideIp(ip("192.0.2.1")), None, default), default);
        assert_eq!(
            bind_ip(OutsideIp(ip("127.0.9.9")), None, default),
            ip("127.0.9.9")
        );
        let given = Some(HostIp(ip("::1")));
        assert_eq!(
            bind_ip(OutsideIp(ip("127.0.9.9")), given, default),
            ip("::1")
        );
    }

    #[test]
    fn only_unicast_addresses_are_presented() {
        for bad in ["0.0.0.0", "::", "224.0.0.5", "ff02::1", "255.255.255.255"] {
            assert!(OutsideIp::refuse(ip(bad)).is_some(), "{bad}");
        }
        for good in ["192.0.2.1", "2001:db8::1", "10.0.0.1", "127.0.1.1"] {
            assert!(OutsideIp::refuse(ip(good)).is_none(), "{good}");
        }
    }

    #[test]
    fn unknown_addresses_are_shown_as_they_are() {
        let p = Presentation::new([(ip("127.0.2.1"), ip("198.51.100.1"))]);
        assert_eq!(p.present(ip("127.0.2.1")), ip("198.51.100.1"));
        assert_eq!(p.present(ip("10.1.1.1")), ip("10.1.1.1"));
    }

    #[test]
    fn hosts_present_their_outside_ip_and_bind_a_loopback_address() {
        let presented = MINIMAL
            .replace("127.0.2.1", "198.51.100.1")
            .replace("127.0.1.1", "2001:db8::7");
        let two = format!("{presented}[[tunnel]]\noutside_ip = \"192.0.2.2\"\n");
        let s = Scenario::parse(&two, "t.toml", "t").unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(s.cgw.bind_ip(), ip("127.0.2.1"));
        assert_eq!(s.tunnel[0].bind_ip(1), ip("127.0.1.1"));
        assert_eq!(s.tunnel[1].bind_ip(2), ip("127.0.1.2"));
        let p = s.presentation();
        assert_eq!(p.present(ip("127.0.2.1")), ip("198.51.100.1"));
        assert_eq!(p.present(ip("127.0.1.2")), ip("192.0.2.2"));
        // An old file's loopback outside_ip is bound as it is, and presented as it is.
        let s = Scenario::parse(MINIMAL, "t.toml", "t").unwrap();
        assert_eq!(s.presentation().present(ip("127.0.2.1")), ip("127.0.2.1"));
        let nat = format!(
            "{presented}[network.nat]\noutside_ip = \"203.0.113.1\"\nloopback_ip = \"127.0.3.9\"\n"
        );
        let s = Scenario::parse(&nat, "t.toml", "t").unwrap();
        assert_eq!(s.presentation().present(ip("127.0.3.9")), ip("203.0.113.1"));
    }

    #[test]
    fn bad_addresses_are_refused_where_they_are() {
        let e = Scenario::parse(&MINIMAL.replace("127.0.2.1", "224.0.0.5"), "t.toml", "t")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 6, column 14") && e.contains("multicast"),
            "{e}"
        );
        let e = err("loopback_ip = \"10.0.0.1\"\n");
        assert!(
            e.contains("line 9") && e.contains("not a loopback address"),
            "{e}"
        );
        // Tunnel 2's default loopback address is the one tunnel 1 gives as its own.
        let clash =
            MINIMAL.replace("127.0.1.1", "127.0.1.2") + "[[tunnel]]\noutside_ip = \"192.0.2.2\"\n";
        let e = Scenario::parse(&clash, "t.toml", "t")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.toml:10: `tunnel[2].outside_ip`")
                && e.contains("binds 127.0.1.2")
                && e.contains("as tunnel[1] does")
                && e.contains("loopback_ip"),
            "{e}"
        );
        let e = err("[[tunnel]]\noutside_ip = \"127.0.1.1\"\n");
        assert!(e.contains("tunnel[1]'s outside_ip too"), "{e}");
        let e = err("[[tunnel]]\noutside_ip = \"192.0.2.2\"\nloopback_ip = \"::1\"\n");
        assert!(
            e.starts_with("t.toml:11: `tunnel[2].loopback_ip`") && e.contains("one family"),
            "{e}"
        );
    }
}
