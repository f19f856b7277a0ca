//! AWS's tunnel options (reference §3): names as AWS's API spells them (snake_case in
//! scenario files), AWS's defaults and allowed ranges, and their translation into the
//! core's configuration for the simulated AWS endpoint.

use std::fmt;
use std::net::IpAddr;

use std::time::Duration;

use ike_core::{
    Cipher, DpdAction, DpdConfig, EndpointConfig, IkeVersion, Lifetimes, NewChildSa, Policy,
    ProposalSpec, Selection,
};
use ike_wire::{DhGroup, EncrId, IntegId, PrfId, TrafficSelector};
use serde::{Deserialize, Deserializer};

pub use super::log_options::{CloudWatchLogOptions, LogOptions};

/// AWS's phase 1/2 encryption choices, in AWS's order ("lowest value first").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub enum AwsEncryption {
    /// `AES128`: AES-CBC, 128-bit key (RFC 3602).
    #[serde(rename = "AES128")]
    Aes128,
    /// `AES256`: AES-CBC, 256-bit key.
    #[serde(rename = "AES256")]
    Aes256,
    /// `AES128-GCM-16`: AES-GCM with a 16-octet ICV, 128-bit key (RFC 5282, RFC 4106).
    #[serde(rename = "AES128-GCM-16")]
    Aes128Gcm16,
    /// `AES256-GCM-16`: the same with a 256-bit key.
    #[serde(rename = "AES256-GCM-16")]
    Aes256Gcm16,
}

impl AwsEncryption {
    /// Every choice, in AWS's order: the default of both phases (reference §3).
    pub(crate) const ALL: [AwsEncryption; 4] = [
        Self::Aes128,
        Self::Aes256,
        Self::Aes128Gcm16,
        Self::Aes256Gcm16,
    ];

    /// The IKEv2 ENCR transform and key length (RFC 7296 §3.3.2) this choice proposes.
    pub(crate) fn cipher(self) -> Cipher {
        match self {
            Self::Aes128 => Cipher::new(EncrId::AES_CBC, Some(128)),
            Self::Aes256 => Cipher::new(EncrId::AES_CBC, Some(256)),
            Self::Aes128Gcm16 => Cipher::new(EncrId::AES_GCM_16, Some(128)),
            Self::Aes256Gcm16 => Cipher::new(EncrId::AES_GCM_16, Some(256)),
        }
    }
}

/// AWS's integrity choices; in IKEv2 each also names the PRF.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub enum AwsIntegrity {
    /// `SHA1`: HMAC-SHA1-96 (RFC 2404), PRF HMAC-SHA1.
    #[serde(rename = "SHA1")]
    Sha1,
    /// `SHA2-256`: HMAC-SHA2-256-128 (RFC 4868), PRF HMAC-SHA2-256.
    #[serde(rename = "SHA2-256")]
    Sha2_256,
    /// `SHA2-384`: HMAC-SHA2-384-192 (RFC 4868), PRF HMAC-SHA2-384.
    #[serde(rename = "SHA2-384")]
    Sha2_384,
    /// `SHA2-512`: HMAC-SHA2-512-256 (RFC 4868), PRF HMAC-SHA2-512.
    #[serde(rename = "SHA2-512")]
    Sha2_512,
}

impl AwsIntegrity {
    /// Every choice, in AWS's order: the default of both phases (reference §3).
    pub(crate) const ALL: [AwsIntegrity; 4] =
        [Self::Sha1, Self::Sha2_256, Self::Sha2_384, Self::Sha2_512];

    /// The INTEG transform (RFC 7296 §3.3.2) this choice proposes.
    pub(crate) fn integ(self) -> IntegId {
        match self {
            Self::Sha1 => IntegId::HMAC_SHA1_96,
            Self::Sha2_256 => IntegId::HMAC_SHA2_256_128,
            Self::Sha2_384 => IntegId::HMAC_SHA2_384_192,
            Self::Sha2_512 => IntegId::HMAC_SHA2_512_256,
        }
    }

    /// The PRF transform this choice proposes for the IKE SA (AWS names one hash for both).
    pub(crate) fn prf(self) -> PrfId {
        match self {
            Self::Sha1 => PrfId::HMAC_SHA1,
            Self::Sha2_256 => PrfId::HMAC_SHA2_256,
            Self::Sha2_384 => PrfId::HMAC_SHA2_384,
            Self::Sha2_512 => PrfId::HMAC_SHA2_512,
        }
    }
}

/// How long AWS keeps an IKE SA whose initiator never completes IKE_AUTH (ikesim's
/// choice: AWS does not publish it; strongSwan's default).
pub(crate) const HALF_OPEN_TIMEOUT: Duration = Duration::from_secs(30);

/// Phase1DHGroupNumbers: the DH groups AWS allows in phase 1, all by default; no group 5
/// (reference §3).
pub(crate) const PHASE1_DH_GROUPS: [u16; 12] = [2, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24];
/// Phase2DHGroupNumbers: the DH groups AWS allows in phase 2, all by default (reference §3).
pub(crate) const PHASE2_DH_GROUPS: [u16; 13] = [2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24];

/// A list of DH group numbers checked against what AWS allows in one phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DhGroups<const PHASE: u8>(pub Vec<u16>);

impl<const PHASE: u8> DhGroups<PHASE> {
    /// What AWS allows in this phase: [`PHASE1_DH_GROUPS`] or [`PHASE2_DH_GROUPS`].
    pub(crate) fn allowed() -> &'static [u16] {
        if PHASE == 1 {
            &PHASE1_DH_GROUPS
        } else {
            &PHASE2_DH_GROUPS
        }
    }
}

impl<'de, const PHASE: u8> Deserialize<'de> for DhGroups<PHASE> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let groups = Vec::<u16>::deserialize(d)?;
        if groups.is_empty() {
            return Err(serde::de::Error::custom(format!(
                "phase {PHASE} needs at least one DH group"
            )));
        }
        for g in &groups {
            if !Self::allowed().contains(g) {
                let list: Vec<String> = Self::allowed().iter().map(u16::to_string).collect();
                return Err(serde::de::Error::custom(format!(
                    "DH group {g} is not allowed in phase {PHASE}; AWS allows {}",
                    list.join(", ")
                )));
            }
        }
        Ok(DhGroups(groups))
    }
}

/// A number AWS restricts to a range; the error quotes the range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ranged<const MIN: u32, const MAX: u32>(pub u32);

impl<'de, const MIN: u32, const MAX: u32> Deserialize<'de> for Ranged<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        match u32::try_from(v) {
            Ok(v) if (MIN..=MAX).contains(&v) => Ok(Ranged(v)),
            _ if MAX == u32::MAX => Err(serde::de::Error::custom(format!(
                "{v} is out of range: AWS allows {MIN} or more"
            ))),
            _ => Err(serde::de::Error::custom(format!(
                "{v} is out of range: AWS allows {MIN} to {MAX}"
            ))),
        }
    }
}

/// Who brings the tunnel up: `add` (the CGW initiates) or `start` (AWS initiates).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StartupAction {
    /// `add`: AWS waits for the CGW's IKE_SA_INIT (or main mode) — AWS's default.
    #[default]
    Add,
    /// `start`: AWS initiates the IKE SA itself; IKEv2 only (reference §3).
    Start,
}

/// A pre-shared key as AWS accepts it: 8–64 letters, digits, `.` and `_`, not starting
/// with `0`.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsPsk(pub String);

impl fmt::Debug for AwsPsk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AwsPsk(..)")
    }
}

impl AwsPsk {
    /// AWS's generated key: 32 letters and digits, not starting with `0`. `rng` is the
    /// scenario's seeded stream in `run`, the OS's in `serve`.
    pub(crate) fn generate(rng: &mut impl rand::Rng) -> AwsPsk {
        const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut psk = String::new();
        while psk.len() < 32 {
            let c = ALNUM[rng.gen_range(0..ALNUM.len())] as char;
            if !(psk.is_empty() && c == '0') {
                psk.push(c);
            }
        }
        AwsPsk(psk)
    }

    /// Whether AWS accepts `s` as a key; the error says which rule it breaks.
    pub(crate) fn check(s: &str) -> Result<(), String> {
        if !(8..=64).contains(&s.len()) {
            return Err(format!(
                "the pre-shared key has {} characters; AWS requires 8 to 64",
                s.len()
            ));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '.' || *c == '_'))
        {
            return Err(format!(
                "the pre-shared key contains `{c}`; AWS allows letters, digits, `.` and `_`"
            ));
        }
        if s.starts_with('0') {
            return Err("the pre-shared key starts with `0`, which AWS does not allow".into());
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for AwsPsk {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        AwsPsk::check(&s).map_err(serde::de::Error::custom)?;
        Ok(AwsPsk(s))
    }
}

/// An IPv4/IPv6 CIDR such as `10.0.0.0/16`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cidr(pub TrafficSelector, pub String);

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ike_core::ts::parse_cidr(&s)
            .map(|ts| Cidr(ts, s.clone()))
            .ok_or_else(|| {
                serde::de::Error::custom(format!("`{s}` is not a CIDR such as 10.0.0.0/16"))
            })
    }
}

impl Default for Cidr {
    fn default() -> Self {
        Cidr(ike_core::ts::any_ipv4(), "0.0.0.0/0".into())
    }
}

/// What the AWS endpoint does when a CGW negotiates a second CHILD SA (other selectors)
/// on a tunnel that has one: AWS allows one SA pair per tunnel (reference §6) and does not
/// say how it enforces that, so both readings are here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecondSaPair {
    /// The newest wins: the new CHILD SA is installed and the old one deleted, the
    /// flapping policy-based CGWs report (ikesim's default).
    #[default]
    Replace,
    /// The first wins: the new one is refused with TS_UNACCEPTABLE.
    Refuse,
}

/// One AWS tunnel's options, with AWS's defaults (reference §3).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TunnelOptions {
    /// Absent: 32 random alphanumerics (drawn from the scenario seed), as AWS does.
    /// PreSharedKey: see [`AwsPsk`] for what AWS accepts (reference §3).
    pub pre_shared_key: Option<AwsPsk>,
    /// IKEVersions: `ikev1`, `ikev2`, default both (reference §3).
    #[serde(deserialize_with = "crate::spelling::ike_version_names")]
    pub ike_versions: Vec<IkeVersion>,
    /// Phase1EncryptionAlgorithms: default all (reference §3).
    pub phase1_encryption_algorithms: Vec<AwsEncryption>,
    /// Phase2EncryptionAlgorithms: default all (reference §3).
    pub phase2_encryption_algorithms: Vec<AwsEncryption>,
    /// Phase1IntegrityAlgorithms: default all (reference §3).
    pub phase1_integrity_algorithms: Vec<AwsIntegrity>,
    /// Phase2IntegrityAlgorithms: default all (reference §3).
    pub phase2_integrity_algorithms: Vec<AwsIntegrity>,
    /// Phase1DHGroupNumbers: 2, 14–24, default all (reference §3).
    pub phase1_dh_group_numbers: DhGroups<1>,
    /// Phase2DHGroupNumbers: 2, 5, 14–24, default all (reference §3).
    pub phase2_dh_group_numbers: DhGroups<2>,
    /// Phase1LifetimeSeconds: 900–28,800 s, default 28,800 (reference §3). Spanned so
    /// `TunnelOptions::check` can point at it.
    pub phase1_lifetime_seconds: toml::Spanned<Ranged<900, 28_800>>,
    /// Phase2LifetimeSeconds: 900–3,600 s and below phase 1, default 3,600 (reference §3).
    pub phase2_lifetime_seconds: toml::Spanned<Ranged<900, 3_600>>,
    /// RekeyMarginTimeSeconds: 60 s to half the phase 2 lifetime, default 270
    /// (reference §3); the range here is the widest, `TunnelOptions::check` the rest.
    pub rekey_margin_time_seconds: toml::Spanned<Ranged<60, 1_800>>,
    /// RekeyFuzzPercentage: 0–100 %, default 100 (reference §3).
    pub rekey_fuzz_percentage: Ranged<0, 100>,
    /// ReplayWindowSize: 64–2,048 packets, default 1,024 (reference §3). Checked but not yet
    /// used: there is no ESP data plane.
    pub replay_window_size: Ranged<64, 2_048>,
    /// DPDTimeoutSeconds: 30 s or more, default 30 (reference §3).
    pub dpd_timeout_seconds: Ranged<30, { u32::MAX }>,
    /// DPDTimeoutAction: `clear`, `none`, `restart`, default `clear` (reference §3).
    #[serde(deserialize_with = "crate::spelling::dpd_action")]
    pub dpd_timeout_action: DpdAction,
    /// StartupAction: `add` or `start` (IKEv2 only), default `add` (reference §3).
    pub startup_action: StartupAction,
    /// LocalIpv4NetworkCidr: the customer gateway's side, default `0.0.0.0/0` (AWS names
    /// the sides from the customer's view; the AWS endpoint's remote traffic selector).
    pub local_ipv4_network_cidr: Cidr,
    /// RemoteIpv4NetworkCidr: the AWS side, default `0.0.0.0/0` (the AWS endpoint's local
    /// traffic selector).
    pub remote_ipv4_network_cidr: Cidr,
    /// Not an AWS option: what the endpoint does with a second SA pair, which AWS does not
    /// publish (it allows one SA pair per tunnel, reference §6). `replace` (default): the
    /// new CHILD SA is taken and the old one deleted; `refuse`: TS_UNACCEPTABLE. See
    /// docs/failures/ikev2-processed-create-child-sa-request.md.
    pub second_sa_pair: SecondSaPair,
    /// `[tunnel.aws.log_options]` (LogOptions): whether, where and in which format the
    /// tunnel's log is published; logging on, default group, JSON by default (ikesim's
    /// default for `log_enabled` differs from AWS's, see [`CloudWatchLogOptions`]).
    pub log_options: LogOptions,
}

impl Default for TunnelOptions {
    fn default() -> Self {
        TunnelOptions {
            pre_shared_key: None,
            ike_versions: vec![IkeVersion::V1, IkeVersion::V2],
            phase1_encryption_algorithms: AwsEncryption::ALL.to_vec(),
            phase2_encryption_algorithms: AwsEncryption::ALL.to_vec(),
            phase1_integrity_algorithms: AwsIntegrity::ALL.to_vec(),
            phase2_integrity_algorithms: AwsIntegrity::ALL.to_vec(),
            phase1_dh_group_numbers: DhGroups(PHASE1_DH_GROUPS.to_vec()),
            phase2_dh_group_numbers: DhGroups(PHASE2_DH_GROUPS.to_vec()),
            phase1_lifetime_seconds: toml::Spanned::new(0..0, Ranged(28_800)),
            phase2_lifetime_seconds: toml::Spanned::new(0..0, Ranged(3_600)),
            rekey_margin_time_seconds: toml::Spanned::new(0..0, Ranged(270)),
            rekey_fuzz_percentage: Ranged(100),
            replay_window_size: Ranged(1_024),
            dpd_timeout_seconds: Ranged(30),
            dpd_timeout_action: DpdAction::Clear,
            startup_action: StartupAction::Add,
            local_ipv4_network_cidr: Cidr::default(),
            remote_ipv4_network_cidr: Cidr::default(),
            second_sa_pair: SecondSaPair::Replace,
            log_options: LogOptions::default(),
        }
    }
}

/// Everything AWS would ever accept (the universe against which a CGW's proposal is
/// "unsupported" rather than merely "not configured").
fn universe(phase: u8) -> ProposalSpec {
    let groups: &[u16] = if phase == 1 {
        &PHASE1_DH_GROUPS
    } else {
        &PHASE2_DH_GROUPS
    };
    spec(&AwsEncryption::ALL, &AwsIntegrity::ALL, groups, phase == 1)
}

fn spec(enc: &[AwsEncryption], integ: &[AwsIntegrity], groups: &[u16], ike: bool) -> ProposalSpec {
    // AWS evaluates from the lowest configured value, whatever order either side lists.
    let mut enc = enc.to_vec();
    enc.sort();
    enc.dedup();
    let mut integ = integ.to_vec();
    integ.sort();
    integ.dedup();
    let mut groups = groups.to_vec();
    groups.sort();
    groups.dedup();
    ProposalSpec {
        encryption: enc.iter().map(|e| e.cipher()).collect(),
        integrity: integ.iter().map(|i| i.integ()).collect(),
        prf: if ike {
            integ.iter().map(|i| i.prf()).collect()
        } else {
            Vec::new()
        },
        dh: groups
            .into_iter()
            .map(DhGroup)
            .filter(|g| ike_crypto::dh_supported(*g))
            .collect(),
        esn: Vec::new(),
    }
}

impl TunnelOptions {
    /// The tunnel's CloudWatch Logs options (`log_options.cloudwatch_log_options`): what
    /// the outputs of `run` and `serve` apply to this tunnel's records.
    pub fn cloudwatch_log_options(&self) -> &CloudWatchLogOptions {
        &self.log_options.cloudwatch_log_options
    }

    /// Cross-option rules AWS enforces; returns the offending option's byte span and the
    /// message.
    pub(crate) fn check(&self) -> Result<(), (std::ops::Range<usize>, &'static str, String)> {
        let p1 = self.phase1_lifetime_seconds.get_ref().0;
        let p2 = self.phase2_lifetime_seconds.get_ref().0;
        let margin = self.rekey_margin_time_seconds.get_ref().0;
        if p2 >= p1 {
            return Err((
                self.phase2_lifetime_seconds.span(),
                "phase2_lifetime_seconds",
                format!("{p2} must be below phase1_lifetime_seconds ({p1})"),
            ));
        }
        if self.startup_action == StartupAction::Start
            && !self.ike_versions.contains(&IkeVersion::V2)
        {
            return Err((
                0..0,
                "startup_action",
                "start needs ikev2 in ike_versions: AWS initiates only with IKEv2".into(),
            ));
        }
        if margin > p2 / 2 {
            return Err((
                self.rekey_margin_time_seconds.span(),
                "rekey_margin_time_seconds",
                format!(
                    "{margin} is out of range: AWS allows 60 to half the phase 2 lifetime ({})",
                    p2 / 2
                ),
            ));
        }
        Ok(())
    }

    /// The simulated AWS endpoint's configuration for this tunnel (IKEv2, and IKEv1 when
    /// `ike_versions` has it).
    pub(crate) fn endpoint_config(&self, psk: &str, outside_ip: IpAddr) -> EndpointConfig {
        let ike = Policy {
            proposals: vec![spec(
                &self.phase1_encryption_algorithms,
                &self.phase1_integrity_algorithms,
                &self.phase1_dh_group_numbers.0,
                true,
            )],
            selection: Selection::LocalPreference,
            universe: Some(universe(1)),
        };
        let esp = Policy {
            proposals: vec![spec(
                &self.phase2_encryption_algorithms,
                &self.phase2_integrity_algorithms,
                &self.phase2_dh_group_numbers.0,
                false,
            )],
            selection: Selection::LocalPreference,
            universe: Some(universe(2)),
        };
        let mut config = EndpointConfig::new(psk.as_bytes().to_vec(), ike, esp);
        config.local_id = Some(ike_wire::Identification::from_ip(outside_ip));
        // AWS names these from the customer's side: "local" is the customer gateway's
        // network, "remote" the AWS side's (EC2 API, ModifyVpnTunnelOptions).
        config.local_ts = vec![self.remote_ipv4_network_cidr.0.clone()];
        config.remote_ts = vec![self.local_ipv4_network_cidr.0.clone()];
        config.initial_contact = false;
        config.lifetimes = Lifetimes {
            ike: Duration::from_secs(self.phase1_lifetime_seconds.get_ref().0.into()),
            child: Duration::from_secs(self.phase2_lifetime_seconds.get_ref().0.into()),
            margin: Duration::from_secs(self.rekey_margin_time_seconds.get_ref().0.into()),
            fuzz_percent: self.rekey_fuzz_percentage.0,
            rekey: true,
        };
        config.dpd = Some(DpdConfig::aws(
            Duration::from_secs(self.dpd_timeout_seconds.0.into()),
            self.dpd_timeout_action,
        ));
        // AWS does not publish its half-open timeout; strongSwan's default (30 s) it is.
        config.half_open_timeout = HALF_OPEN_TIMEOUT;
        config.accept_ikev1 = self.ike_versions.contains(&IkeVersion::V1);
        config.accept_ikev2 = self.ike_versions.contains(&IkeVersion::V2);
        // AWS supports main mode only and says so to an aggressive mode request.
        config.refuse_aggressive_mode = true;
        // One SA pair per tunnel (reference §6), enforced as `second_sa_pair` says.
        config.new_child_sa = match self.second_sa_pair {
            SecondSaPair::Replace => NewChildSa::ReplaceOthers,
            SecondSaPair::Refuse => NewChildSa::Refuse,
        };
        config
    }
}
