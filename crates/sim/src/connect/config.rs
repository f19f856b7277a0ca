//! `connect`'s configuration: the file (one CGW connection exactly as a scenario's
//! `[tunnel.cgw]` table spells it, plus `local`, our address) and the command line
//! ([`ConnectOptions`]), and the addresses they make.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use ike_core::nat_t::{IKE_PORT, NAT_T_PORT};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::scenario::flows::{self, DataPlaneSpec, Keys, Side};
use crate::scenario::{CgwConnection, CgwStartup, FlowConfig, SideConfig, SiteConfig};
use crate::serve::ConfigError;
use crate::spelling::line_of;

/// How long `connect` waits for the tunnel without `--duration` or `--stay`.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);
/// Our address when neither the file nor the command line names one.
pub const DEFAULT_LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A commented configuration (a test fixture: the keys a `connect` file may have).
#[cfg(test)]
const TEMPLATE: &str = r#"# ikesim connect configuration: one simulated customer gateway (CGW) connection, with
# the keys of a scenario's [tunnel.cgw] table (docs/scenario-format.md), plus `local`.
# Start it with `ikesim connect --config FILE --peer ADDR`; see docs/real-cgw.md.

# Our address (the CGW's outside IP; IDi is this IP). A file may only name loopback
# addresses; give any other with --local. Without a port the OS picks one.
local = "127.0.0.1"

ike_version = 2
pre_shared_key = "ikesim.example_psk_1"
ike_proposals = ["aes256-sha256-modp2048"]    # strongSwan syntax
esp_proposals = ["aes256-sha256-modp2048"]    # a DH group here means PFS
# local_ts = ["0.0.0.0/0"]
# remote_ts = ["0.0.0.0/0"]
# ike_lifetime = "8h"
# child_lifetime = "1h"
# rekey_margin = "9m"
# rekey_fuzz = 100
# rekey = true
# dpd_delay = "0s"                            # 0s: no DPD of our own (we still answer)
# dpd_action = "clear"
# abandon_after_ike_sa_init = false           # stop after IKE_SA_INIT / main mode 4 (half-open SA)
# terminate_at = "30s"                        # delete the IKE SA at this time
# crash_at = "30s"                            # go silent (and exit) at this time

# Traffic through the tunnel (docs/real-cgw.md): simulated hosts behind the CGW and flows
# from them to hosts behind the responder; their counters are shown at the end.
# [onprem]
# cidr = "172.16.0.0/16"                      # default: local_ts, else 172.16.0.0/16
# hosts = ["172.16.0.10"]
# [[flow]]
# kind = "icmp"                               # icmp | udp | request-response
# dst = "10.0.0.10"                           # default: remote_ts's tenth host, else 10.0.0.10
# rate = "5/s"
# stop = "10s"                                # from when the first CHILD SA is up
"#;

/// `ip:port`, or an IP alone (port `None`).
pub fn parse_addr(s: &str) -> Result<(IpAddr, Option<u16>), String> {
    let s = s.trim();
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok((addr.ip(), Some(addr.port())));
    }
    if let Ok(ip) = s
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok((ip, None));
    }
    Err(format!(
        "`{s}` is not an address such as 127.0.0.1:500 or 127.0.0.1"
    ))
}

/// Our address from the file or `--local`: an IP and maybe a port (absent: the OS picks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Local {
    /// The address to bind.
    pub ip: IpAddr,
    /// The IKE port; `None` lets the OS pick one.
    pub port: Option<u16>,
}

impl<'de> Deserialize<'de> for Local {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_addr(&s)
            .map(|(ip, port)| Local { ip, port })
            .map_err(serde::de::Error::custom)
    }
}

/// The whole file: a CGW connection, our address, and the traffic behind us.
#[derive(Clone, Debug, Default)]
pub struct ConnectConfig {
    /// `local`: our address, with where the file says it (for error messages).
    pub local: Option<toml::Spanned<Local>>,
    /// The scenario's `[tunnel.cgw]` keys: proposals, PSK, DPD, lifetimes, ….
    pub cgw: CgwConnection,
    /// `[onprem]`: the simulated network behind the CGW (a scenario's key).
    pub onprem: Option<SiteConfig>,
    /// `[[flow]]`: its traffic into the tunnel (a scenario's key; only `from = "onprem"`).
    pub flow: Vec<FlowConfig>,
}

/// What a file gives besides the CGW connection.
#[derive(Default)]
struct Ours {
    local: Option<toml::Spanned<Local>>,
    onprem: Option<SiteConfig>,
    flow: Option<Vec<FlowConfig>>,
}

/// Deserializes the file: `local`, `onprem` and `flow` are ours, every other key goes to
/// [`CgwConnection`]
/// (with its `deny_unknown_fields`), straight from the TOML deserializer so that errors
/// keep their line numbers.
impl<'de> Deserialize<'de> for ConnectConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(FileVisitor)
    }
}

struct FileVisitor;

impl<'de> Visitor<'de> for FileVisitor {
    type Value = ConnectConfig;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "a CGW connection (the keys of a scenario's [tunnel.cgw]), `local`, [onprem] and \
             [[flow]]",
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ConnectConfig, A::Error> {
        let mut ours = Ours::default();
        let cgw =
            CgwConnection::deserialize(serde::de::value::MapAccessDeserializer::new(TakeOurs {
                inner: map,
                ours: &mut ours,
            }))?;
        Ok(ConnectConfig {
            local: ours.local,
            cgw,
            onprem: ours.onprem,
            flow: ours.flow.unwrap_or_default(),
        })
    }
}

/// A map that hands our keys ([`Ours`]) to their slots and everything else on.
struct TakeOurs<'a, A> {
    inner: A,
    ours: &'a mut Ours,
}

/// Our keys.
#[derive(Clone, Copy)]
enum OurKey {
    Local,
    Onprem,
    Flow,
}

/// A key: one of ours, or another one deserialized by the wrapped seed. The seed comes
/// back unused with ours, for the next key.
enum Key<S, V> {
    Ours(OurKey, S),
    Other(V),
}

struct KeySeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<S> {
    type Value = Key<S, S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let key = String::deserialize(d)?;
        let ours = match key.as_str() {
            "local" => Some(OurKey::Local),
            "onprem" => Some(OurKey::Onprem),
            "flow" => Some(OurKey::Flow),
            _ => None,
        };
        if let Some(ours) = ours {
            return Ok(Key::Ours(ours, self.0));
        }
        self.0
            .deserialize(serde::de::value::StringDeserializer::<D::Error>::new(key))
            .map(Key::Other)
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for TakeOurs<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let mut seed = seed;
        loop {
            match self.inner.next_key_seed(KeySeed(seed))? {
                None => return Ok(None),
                Some(Key::Other(v)) => return Ok(Some(v)),
                Some(Key::Ours(key, s)) => {
                    match key {
                        OurKey::Local => self.ours.local = Some(self.inner.next_value()?),
                        OurKey::Onprem => self.ours.onprem = Some(self.inner.next_value()?),
                        OurKey::Flow => self.ours.flow = Some(self.inner.next_value()?),
                    }
                    seed = s;
                }
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }
}

impl ConnectConfig {
    /// Reads and checks a configuration; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<ConnectConfig, ConfigError> {
        let config: ConnectConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            file: file.into(),
            message: crate::scenario::excerpt_cut(&e.to_string()),
        })?;
        let invalid = |span: Option<std::ops::Range<usize>>, key: &str, message: String| {
            ConfigError::Invalid {
                file: file.into(),
                line: span.map_or(String::new(), |s| format!(":{}", line_of(text, s.start))),
                key: key.into(),
                message,
            }
        };
        let key_line = |key: &str| {
            text.lines()
                .position(|l| {
                    l.trim_start()
                        .strip_prefix(key)
                        .is_some_and(|r| r.trim_start().starts_with('='))
                })
                .map(|i| {
                    let offset: usize = text.lines().take(i).map(|l| l.len() + 1).sum();
                    offset..offset + 1
                })
        };
        if let Some(local) = &config.local {
            let ip = local.get_ref().ip;
            if !ip.is_loopback() {
                return Err(invalid(
                    Some(local.span()),
                    "local",
                    format!(
                        "{ip} is not a loopback address: a file only binds loopback; to use another address, \
                         give it explicitly with --local"
                    ),
                ));
            }
        }
        let cgw = &config.cgw;
        if let Err((key, message)) = cgw.check() {
            let span = if key.is_empty() { None } else { key_line(key) };
            return Err(invalid(
                span,
                if key.is_empty() { "ike_proposals" } else { key },
                message,
            ));
        }
        if cgw.startup_action == CgwStartup::Add {
            return Err(invalid(
                key_line("startup_action"),
                "startup_action",
                "\"add\" waits for the peer to initiate; `connect` initiates (leave it out, or \"start\")".into(),
            ));
        }
        if cgw.startup_action == CgwStartup::Trap {
            return Err(invalid(
                key_line("startup_action"),
                "startup_action",
                "\"trap\" is for `ikesim run`: `connect` initiates at once (leave it out, or \"start\")".into(),
            ));
        }
        if cgw.reboot_at.is_some() {
            return Err(invalid(
                key_line("reboot_at"),
                "reboot_at",
                "not supported by `connect`: stop it (kill -9) and start it again instead".into(),
            ));
        }
        if cgw.forget_child_sas_at.is_some() {
            return Err(invalid(
                key_line("forget_child_sas_at"),
                "forget_child_sas_at",
                "not supported by `connect` (only a scenario's CGW forgets its CHILD SAs): \
                 leave it out"
                    .into(),
            ));
        }
        if !cgw.configured {
            return Err(invalid(
                key_line("configured"),
                "configured",
                "`connect` is the CGW's connection for the tunnel: a CGW without one has \
                 nothing to connect (leave it out)"
                    .into(),
            ));
        }
        if cgw.nat_keepalive.is_some() {
            return Err(invalid(
                key_line("nat_keepalive"),
                "nat_keepalive",
                "not supported by `connect` (it sends no NAT keepalives of its own yet): \
                 leave it out"
                    .into(),
            ));
        }
        if let (Some(c), Some(t)) = (cgw.crash_at, cgw.terminate_at) {
            if t >= c {
                return Err(invalid(
                    key_line("terminate_at"),
                    "terminate_at",
                    format!("{t} is after crash_at ({c}): the CGW is gone by then"),
                ));
            }
        }
        config.check_data_plane(text, file)?;
        Ok(config)
    }

    /// The data plane's keys, as a scenario's: the responder's side is real, so it has no
    /// `[vpc]`; its network is `remote_ts`'s (else 10.0.0.0/16), on-premises `local_ts`'s
    /// (else 172.16.0.0/16).
    fn keys(&self) -> Keys<'_> {
        Keys {
            vpc: None,
            onprem: self.onprem.as_ref().map(SideConfig::from),
            flow: &self.flow,
            vpc_default: flows::selector_network(&self.cgw.remote_ts).unwrap_or(flows::VPC_DEFAULT),
            onprem_default: flows::selector_network(&self.cgw.local_ts)
                .unwrap_or(flows::ONPREM_DEFAULT),
            preset: None,
        }
    }

    /// The traffic behind the CGW, defaults filled in; `None` without a `[[flow]]`.
    pub fn data_plane(&self) -> Option<DataPlaneSpec> {
        self.keys().resolve()
    }

    /// A scenario's checks of `[onprem]` and `[[flow]]` (flows::check_keys), and that every
    /// flow starts on-premises.
    fn check_data_plane(&self, text: &str, file: &str) -> Result<(), ConfigError> {
        let refused = |offset: Option<usize>, key: String, message: String| ConfigError::Invalid {
            file: file.into(),
            line: offset.map_or(String::new(), |o| format!(":{}", line_of(text, o))),
            key,
            message,
        };
        if self.flow.is_empty() && self.onprem.is_some() {
            return Err(refused(
                text.find("[onprem]"),
                "onprem".into(),
                "a network behind the CGW needs a [[flow]] to send (without flows `connect` \
                 carries no traffic)"
                    .into(),
            ));
        }
        flows::check_keys(&self.keys(), 1, text).map_err(|(o, k, m)| refused(o, k, m))?;
        if let Some(i) = self.flow.iter().position(|f| f.from == Side::Vpc) {
            return Err(refused(
                crate::scenario::key_in_section(text, "[[flow]]", i, "from"),
                format!("flow[{}].from", i + 1),
                "the responder's side is real: `connect`'s flows start on-premises, behind \
                 the CGW (leave `from` out); what the responder's hosts send, ours answer"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Reads and checks the file at `path` (errors name file, line and column).
    pub fn from_file(path: &Path) -> Result<ConnectConfig, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            file: file.clone(),
            source,
        })?;
        ConnectConfig::parse(&text, &file)
    }
}

/// What `connect` runs with besides the file (the command line).
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// The responder: an IP and maybe a port (absent: 500, or 4500 when ours is 4500).
    pub peer: (IpAddr, Option<u16>),
    /// `--local`: our address, any one (naming it is what allows leaving loopback).
    pub local: Option<(IpAddr, Option<u16>)>,
    /// `--psk`: replaces the file's pre-shared key.
    pub psk: Option<String>,
    /// `--duration`: the longest the run may last (default `DEFAULT_WAIT`, or no limit
    /// with `stay`).
    pub duration: Option<Duration>,
    /// `--stay`: keep the tunnel up (answering DPD, rekeying) until Ctrl-C or `duration`.
    pub stay: bool,
}

/// The addresses of a run: ours (port 0: the OS picks) and the responder's.
pub fn addresses(
    config: &ConnectConfig,
    options: &ConnectOptions,
) -> Result<(SocketAddr, SocketAddr), String> {
    let (local_ip, local_port) = match (options.local, &config.local) {
        (Some((ip, port)), _) => (ip, port),
        (None, Some(l)) => (l.get_ref().ip, l.get_ref().port),
        (None, None) => (DEFAULT_LOCAL, None),
    };
    let (peer_ip, peer_port) = options.peer;
    if local_ip.is_unspecified() {
        return Err(format!(
            "--local {local_ip}: name our address, not a wildcard: the CGW identifies itself (IDi) by it"
        ));
    }
    if peer_ip.is_unspecified() || peer_ip.is_multicast() {
        return Err(format!("--peer {peer_ip}: name the responder's address"));
    }
    if local_ip.is_ipv4() != peer_ip.is_ipv4() {
        return Err(format!(
            "our address {local_ip} and the peer's {peer_ip} are not of the same IP version"
        ));
    }
    if local_ip.is_loopback() && !peer_ip.is_loopback() {
        return Err(format!(
            "the peer {peer_ip} is not on loopback, and our address is {local_ip}: give this machine's address \
             the responder reaches with --local"
        ));
    }
    let local_port = local_port.unwrap_or(0);
    let peer_port = peer_port.unwrap_or(if local_port == NAT_T_PORT {
        NAT_T_PORT
    } else {
        IKE_PORT
    });
    if peer_port == 0 {
        return Err(format!("--peer {peer_ip}:0: name the responder's port"));
    }
    Ok((
        SocketAddr::new(local_ip, local_port),
        SocketAddr::new(peer_ip, peer_port),
    ))
}

#[cfg(test)]
mod tests {
    use ike_core::IkeVersion;

    use super::*;

    fn parse(text: &str) -> Result<ConnectConfig, String> {
        ConnectConfig::parse(text, "c.toml").map_err(|e| e.to_string())
    }

    #[test]
    fn the_template_parses_and_local_is_taken_out_of_the_cgw_keys() {
        let c = parse(TEMPLATE).unwrap();
        assert_eq!(
            c.local.as_ref().map(|l| *l.get_ref()),
            Some(Local {
                ip: DEFAULT_LOCAL,
                port: None
            })
        );
        assert_eq!(
            c.cgw.pre_shared_key.as_deref(),
            Some("ikesim.example_psk_1")
        );
        assert_eq!(c.cgw.ike_proposals[0].0, "aes256-sha256-modp2048");
        // `local` may come anywhere, with a port; everything else is [tunnel.cgw]'s.
        let c = parse("ike_version = 1\nlocal = \"127.0.2.1:4500\"\nrekey = false\n").unwrap();
        assert_eq!(
            c.local.map(|l| *l.get_ref()),
            Some(Local {
                ip: "127.0.2.1".parse().unwrap(),
                port: Some(4500)
            })
        );
        assert_eq!((c.cgw.ike_version, c.cgw.rekey), (IkeVersion::V1, false));
        let c = parse("").unwrap();
        assert!(c.local.is_none() && c.cgw.pre_shared_key.is_none());
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = parse("ike_version = 2\nfoo = 1\n").unwrap_err();
        assert!(
            e.contains("c.toml") && e.contains("line 2") && e.contains("unknown field `foo`"),
            "{e}"
        );
        let e = parse("\nike_proposals = [\"aes128-sha9-modp2048\"]\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("sha9"), "{e}");
        let e = parse("local = \"nowhere\"\n").unwrap_err();
        assert!(e.contains("line 1") && e.contains("nowhere"), "{e}");
        let e = parse("ike_version = 2\nlocal = \"192.0.2.1\"\n").unwrap_err();
        assert!(
            e.starts_with("c.toml:2: `local`") && e.contains("--local"),
            "{e}"
        );
        let e = parse("ike_version = 3\n").unwrap_err();
        assert!(
            e.starts_with("c.toml:") && e.contains("line 1") && e.contains("use 1 or 2"),
            "{e}"
        );
        let e = parse("startup_action = \"add\"\n").unwrap_err();
        assert!(
            e.contains("`startup_action`") && e.contains("initiates"),
            "{e}"
        );
        assert!(
            parse("ike_version = 1\nabandon_after_ike_sa_init = true\n").is_ok(),
            "IKEv1: after main mode 4"
        );
        let e = parse("reboot_at = \"1m\"\n").unwrap_err();
        assert!(e.contains("`reboot_at`"), "{e}");
        for (text, key) in [
            ("configured = false\n", "`configured`"),
            ("nat_keepalive = \"20s\"\n", "`nat_keepalive`"),
            ("forget_child_sas_at = \"10m\"\n", "`forget_child_sas_at`"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(key), "{e}");
        }
    }

    #[test]
    fn flows_take_their_networks_from_the_traffic_selectors() {
        let c = parse(
            "local_ts = [\"192.168.1.0/24\"]\nremote_ts = [\"10.9.0.0/16\"]\n[[flow]]\n\
             rate = \"5/s\"\n[[flow]]\nkind = \"udp\"\ndst = \"10.9.8.7\"\n",
        )
        .unwrap();
        let spec = c.data_plane().unwrap();
        assert_eq!(
            spec.onprem.hosts,
            ["192.168.1.10".parse::<Ipv4Addr>().unwrap()]
        );
        let (a, b) = (&spec.flows[0], &spec.flows[1]);
        assert_eq!(
            (a.name.as_str(), a.src, a.dst),
            ("icmp-1", spec.onprem.hosts[0], "10.9.0.10".parse().unwrap())
        );
        assert_eq!(
            (b.name.as_str(), b.dst),
            ("udp-2", "10.9.8.7".parse().unwrap())
        );
        // Without selectors: 172.16.0.0/16 behind us, 10.0.0.10 behind the responder.
        let spec = parse("[[flow]]\n").unwrap().data_plane().unwrap();
        assert_eq!(
            (spec.flows[0].src, spec.flows[0].dst),
            ("172.16.0.10".parse().unwrap(), "10.0.0.10".parse().unwrap())
        );
        assert!(parse("").unwrap().data_plane().is_none());
        let e = parse("ike_version = 2\n[[flow]]\nfrom = \"vpc\"\n").unwrap_err();
        assert!(e.starts_with("c.toml:3: `flow[1].from`"), "{e}");
        let e = parse("[[flow]]\ndst = \"172.16.0.20\"\n").unwrap_err();
        assert!(e.contains("`flow[1].dst`") && e.contains("crosses"), "{e}");
    }

    #[test]
    fn addresses_default_to_loopback_and_ike_ports() {
        let config = ConnectConfig::default();
        let opts = |peer: &str, local: Option<&str>| ConnectOptions {
            peer: parse_addr(peer).unwrap(),
            local: local.map(|l| parse_addr(l).unwrap()),
            psk: None,
            duration: None,
            stay: false,
        };
        let (l, p) = addresses(&config, &opts("127.0.0.1", None)).unwrap();
        assert_eq!(
            (l, p),
            (
                "127.0.0.1:0".parse().unwrap(),
                "127.0.0.1:500".parse().unwrap()
            )
        );
        let (_, p) = addresses(&config, &opts("127.0.1.1", Some("127.0.2.1:4500"))).unwrap();
        assert_eq!(p, "127.0.1.1:4500".parse().unwrap());
        let (_, p) = addresses(&config, &opts("127.0.1.1:14500", None)).unwrap();
        assert_eq!(p.port(), 14500);
        let e = addresses(&config, &opts("192.0.2.1", None)).unwrap_err();
        assert!(e.contains("--local"), "{e}");
        assert!(addresses(&config, &opts("192.0.2.1", Some("192.0.2.10"))).is_ok());
        assert!(addresses(&config, &opts("127.0.0.1", Some("0.0.0.0")))
            .unwrap_err()
            .contains("wildcard"));
        assert!(addresses(&config, &opts("::1", None))
            .unwrap_err()
            .contains("IP version"));
        assert!(parse_addr("localhost").is_err());
    }
}
