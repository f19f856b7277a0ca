//! The CGW's configuration for one tunnel (a scenario's `[tunnel.cgw]`, and `connect`'s
//! file): strongSwan-like keys, checked, and translated into the core's configuration.

use ike_core::{
    parse_proposal, DpdAction, DpdConfig, EndpointConfig, IkeVersion, Lifetimes, Policy,
    ProposalKind, ProposalSpec, Selection,
};
use serde::Deserialize;

use super::ProposalText;
use crate::aws::options::Cidr;
use crate::duration::SimDuration;

/// Whether the CGW brings the tunnel up itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CgwStartup {
    /// Initiate at the start of the scenario (strongSwan `start_action = start`).
    #[default]
    Start,
    /// Wait for AWS to initiate.
    Add,
}

/// What a CGW with no connection for a tunnel (`configured = false`) does with the
/// IKE_SA_INIT AWS sends it (startup action `start`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unconfigured {
    /// Answers NO_PROPOSAL_CHOSEN, as strongSwan does ("no IKE config found for …,
    /// sending NO_PROPOSAL_CHOSEN": libcharon's ike_init task).
    #[default]
    NoProposalChosen,
    /// Answers nothing (a router that drops IKE from peers it has no policy for).
    Silence,
}

/// The CGW's configuration for one tunnel.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CgwConnection {
    /// `1` or `2` in the file.
    #[serde(deserialize_with = "crate::spelling::ike_version_number")]
    pub ike_version: IkeVersion,
    /// Absent: the same key as the AWS tunnel (a correctly configured CGW).
    pub pre_shared_key: Option<String>,
    /// strongSwan proposal strings for the IKE SA, in the CGW's order; an algorithm AWS does
    /// not support may be offered, to be refused. Default `["aes256-sha256-modp2048"]`.
    pub ike_proposals: Vec<ProposalText<false>>,
    /// The same for the CHILD SA (ESP); a DH group means PFS on rekeys. Default
    /// `["aes256-sha256-modp2048"]`.
    pub esp_proposals: Vec<ProposalText<true>>,
    /// The CGW's side of its encryption domain: its TSi when it initiates (RFC 7296 §2.9).
    pub local_ts: Vec<Cidr>,
    /// The AWS side of the CGW's encryption domain.
    pub remote_ts: Vec<Cidr>,
    /// `start` (the default) or `add`.
    pub startup_action: CgwStartup,
    /// IKE SA lifetime; rekeyed `rekey_margin` (plus fuzz) before it ends.
    pub ike_lifetime: SimDuration,
    /// CHILD SA lifetime.
    pub child_lifetime: SimDuration,
    /// How long before a lifetime ends the CGW rekeys; at most half of each lifetime.
    pub rekey_margin: SimDuration,
    /// Percentage of `rekey_margin` over which the rekey time is randomised (0–100).
    pub rekey_fuzz: u32,
    /// `false`: never rekey; SAs are deleted when their lifetime ends.
    pub rekey: bool,
    /// Send a liveness check after this long without hearing from AWS ("0s": no DPD).
    pub dpd_delay: SimDuration,
    /// `clear`, `none` or `restart` in the file.
    #[serde(deserialize_with = "crate::spelling::dpd_action")]
    pub dpd_action: DpdAction,
    /// Stop after IKE_SA_INIT, never sending IKE_AUTH (leaves a half-open SA at AWS).
    pub abandon_after_ike_sa_init: bool,
    /// The CGW dies at this time: it stops sending and answering, for good.
    pub crash_at: Option<SimDuration>,
    /// The CGW reboots at this time: it loses every SA, is down for `reboot_downtime`,
    /// then starts over (with INITIAL_CONTACT).
    pub reboot_at: Option<SimDuration>,
    /// How long a reboot (`reboot_at`) keeps the CGW down.
    pub reboot_downtime: SimDuration,
    /// An administrator deletes the CGW's IKE SA at this time (`swanctl --terminate`).
    pub terminate_at: Option<SimDuration>,
    /// `false`: the CGW has no connection for this tunnel (one tunnel configured): it
    /// never initiates, and answers AWS as `unconfigured_reply` says.
    pub configured: bool,
    /// What an unconfigured CGW does with AWS's IKE_SA_INIT.
    pub unconfigured_reply: Unconfigured,
    /// Behind a NAT, send a NAT keepalive (RFC 3948 §4) this often (strongSwan's
    /// `keep_alive`, 20 s by default there); none when absent.
    pub nat_keepalive: Option<SimDuration>,
}

fn secs(s: u64) -> SimDuration {
    SimDuration(std::time::Duration::from_secs(s))
}

impl Default for CgwConnection {
    fn default() -> Self {
        let ike = "aes256-sha256-modp2048";
        let esp = "aes256-sha256-modp2048";
        CgwConnection {
            ike_version: IkeVersion::V2,
            pre_shared_key: None,
            ike_proposals: vec![ProposalText(
                ike.into(),
                parse_proposal(ike, ProposalKind::Ike).expect("literal"),
            )],
            esp_proposals: vec![ProposalText(
                esp.into(),
                parse_proposal(esp, ProposalKind::Esp).expect("literal"),
            )],
            local_ts: vec![Cidr::default()],
            remote_ts: vec![Cidr::default()],
            startup_action: CgwStartup::Start,
            ike_lifetime: secs(28_800),
            child_lifetime: secs(3_600),
            rekey_margin: secs(540),
            rekey_fuzz: 100,
            rekey: true,
            dpd_delay: secs(0),
            dpd_action: DpdAction::Clear,
            abandon_after_ike_sa_init: false,
            crash_at: None,
            reboot_at: None,
            reboot_downtime: secs(0),
            terminate_at: None,
            configured: true,
            unconfigured_reply: Unconfigured::NoProposalChosen,
            nat_keepalive: None,
        }
    }
}

impl CgwConnection {
    /// Checks what the types alone do not: the key (within `[tunnel.cgw]`) and the message.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.nat_keepalive.is_some_and(|k| k.0.is_zero()) {
            return Err((
                "nat_keepalive",
                "0s is no interval: leave the key out for no NAT keepalives".into(),
            ));
        }
        if self.rekey_fuzz > 100 {
            return Err((
                "rekey_fuzz",
                format!("{} is out of range: 0 to 100", self.rekey_fuzz),
            ));
        }
        let (ike, child, margin) = (
            self.ike_lifetime.0,
            self.child_lifetime.0,
            self.rekey_margin.0,
        );
        if margin * 2 > child || margin * 2 > ike {
            return Err((
                "rekey_margin",
                format!(
                    "{} must be at most half of child_lifetime and ike_lifetime",
                    self.rekey_margin
                ),
            ));
        }
        if self.ike_proposals.is_empty() || self.esp_proposals.is_empty() {
            return Err((
                "",
                "ike_proposals and esp_proposals need at least one proposal each".into(),
            ));
        }
        Ok(())
    }

    /// The core's configuration for this CGW. `default_psk` is used when the connection
    /// names no key of its own (in a scenario: the AWS tunnel's, a correctly configured CGW).
    pub fn endpoint_config(&self, default_psk: &str) -> EndpointConfig {
        let policy = |specs: Vec<ProposalSpec>| Policy {
            proposals: specs,
            selection: Selection::LocalPreference,
            universe: None,
        };
        let mut config = EndpointConfig::new(
            self.pre_shared_key
                .clone()
                .unwrap_or_else(|| default_psk.to_owned())
                .into_bytes(),
            policy(self.ike_proposals.iter().map(|p| p.1.clone()).collect()),
            policy(self.esp_proposals.iter().map(|p| p.1.clone()).collect()),
        );
        config.local_ts = self.local_ts.iter().map(|c| c.0.clone()).collect();
        config.remote_ts = self.remote_ts.iter().map(|c| c.0.clone()).collect();
        config.lifetimes = Lifetimes {
            ike: self.ike_lifetime.0,
            child: self.child_lifetime.0,
            margin: self.rekey_margin.0,
            fuzz_percent: self.rekey_fuzz,
            rekey: self.rekey,
        };
        if !self.dpd_delay.0.is_zero() {
            config.dpd = Some(DpdConfig {
                delay: self.dpd_delay.0,
                timeout: None,
                action: self.dpd_action,
            });
        }
        if !self.configured {
            // No connection: whatever AWS proposes, nothing is configured to match it.
            config.ike.proposals.clear();
            config.esp.proposals.clear();
        }
        config.impair.abandon_after_sa_init = self.abandon_after_ike_sa_init;
        // A CGW speaks the one IKE version it is configured for.
        config.ike_version = self.ike_version;
        config.accept_ikev1 = self.ike_version == IkeVersion::V1;
        config.accept_ikev2 = self.ike_version == IkeVersion::V2;
        config
    }
}
