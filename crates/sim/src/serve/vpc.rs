//! `[vpc]` of `serve`'s configuration: the simulated VPC behind the AWS tunnels, whose hosts
//! answer what a real CGW sends through them (ICMP echo, UDP echo on port 7). The same keys
//! as a scenario's `[vpc]` (docs/scenario-format.md, "Traffic"): `cidr` (default
//! 10.0.0.0/16) and `hosts` (default the network's `.10`, 10.0.0.10).

use std::net::Ipv4Addr;

use crate::scenario::flows::{Prefix, SiteConfig};
use crate::scenario::key_in_section;
use crate::spelling::line_of;

use super::ConfigError;

/// The VPC's network when `[vpc]` names none.
pub const DEFAULT_VPC: Prefix = Prefix {
    addr: Ipv4Addr::new(10, 0, 0, 0),
    len: 16,
};

/// The simulated VPC, defaults filled in and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vpc {
    /// The network.
    pub cidr: Prefix,
    /// Its hosts (at least one), each answering ICMP echo and UDP echo on port 7.
    pub hosts: Vec<Ipv4Addr>,
}

impl Default for Vpc {
    fn default() -> Vpc {
        Vpc::resolve(&SiteConfig::default())
    }
}

impl Vpc {
    /// `[vpc]` as written, its defaults filled in (not checked: [`Vpc::check`]).
    pub fn resolve(config: &SiteConfig) -> Vpc {
        let cidr = config.cidr.unwrap_or(DEFAULT_VPC);
        let hosts = match &config.hosts {
            Some(hosts) => hosts.iter().map(|h| h.0).collect(),
            None => vec![tenth_host(cidr)],
        };
        Vpc { cidr, hosts }
    }

    /// Refuses hosts outside the network, twice over, or none; `text` is the file (for the
    /// line), `file` its name.
    pub fn check(&self, text: &str, file: &str) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            file: file.into(),
            line: key_in_section(text, "[vpc]", 0, key)
                .map_or(String::new(), |at| format!(":{}", line_of(text, at))),
            key: format!("vpc.{key}"),
            message,
        };
        if self.hosts.is_empty() {
            return Err(invalid(
                "hosts",
                "no hosts: the VPC needs at least one to answer (e.g. hosts = [\"10.0.0.10\"])"
                    .into(),
            ));
        }
        for (i, h) in self.hosts.iter().enumerate() {
            if !self.cidr.contains(*h) {
                return Err(invalid(
                    "hosts",
                    format!("{h} is outside the VPC's network {}", self.cidr),
                ));
            }
            if self.hosts[..i].contains(h) {
                return Err(invalid("hosts", format!("{h} is listed twice")));
            }
        }
        Ok(())
    }

    /// The VPC as the `lan` crate simulates it: every host answers ping and UDP echo on
    /// port 7; no flows of its own (it answers the CGW's traffic).
    pub fn site(&self) -> lan::Site {
        lan::Site {
            hosts: self.hosts.iter().map(|h| lan::HostSpec::echo(*h)).collect(),
            flows: Vec::new(),
        }
    }
}

/// The network's `.10` host, or its first address when it is too small to have one (as a
/// scenario's `[vpc]` default).
fn tenth_host(cidr: Prefix) -> Ipv4Addr {
    if cidr.len <= 28 {
        Ipv4Addr::from(u32::from(cidr.addr) + 10)
    } else {
        cidr.addr
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::flows::HostV4;

    #[test]
    fn defaults_and_checks() {
        let d = Vpc::default();
        assert_eq!(d.cidr.to_string(), "10.0.0.0/16");
        assert_eq!(d.hosts, [Ipv4Addr::new(10, 0, 0, 10)]);
        assert!(d.check("", "s.toml").is_ok());
        let small = Vpc::resolve(&SiteConfig {
            cidr: Some("192.168.5.0/30".parse().unwrap()),
            hosts: None,
        });
        assert_eq!(small.hosts, [Ipv4Addr::new(192, 168, 5, 0)]);
        let text = "[[tunnel]]\nlisten = \"127.0.1.1\"\n[vpc]\ncidr = \"10.1.0.0/16\"\nhosts = [\"10.2.0.1\"]\n";
        let outside = Vpc::resolve(&SiteConfig {
            cidr: Some("10.1.0.0/16".parse().unwrap()),
            hosts: Some(vec![HostV4(Ipv4Addr::new(10, 2, 0, 1))]),
        });
        let e = outside.check(text, "s.toml").unwrap_err().to_string();
        assert_eq!(
            e,
            "s.toml:5: `vpc.hosts`: 10.2.0.1 is outside the VPC's network 10.1.0.0/16"
        );
        let twice = Vpc {
            cidr: DEFAULT_VPC,
            hosts: vec![Ipv4Addr::new(10, 0, 0, 1); 2],
        };
        assert!(twice
            .check("", "s.toml")
            .unwrap_err()
            .to_string()
            .contains("twice"));
        let none = Vpc {
            cidr: DEFAULT_VPC,
            hosts: Vec::new(),
        };
        assert!(none.check("", "s.toml").is_err());
        assert_eq!(d.site().hosts, [lan::HostSpec::echo(d.hosts[0])]);
    }
}
