//! The CGW's configuration for one tunnel (a scenario's `[tunnel.cgw]`, and `connect`'s
//! file): strongSwan-like keys, checked, and translated into the core's configuration.

use ike_core::{
    parse_proposal, CloseAction, DpdAction, DpdConfig, EndpointConfig, IkeVersion, Lifetimes,
    Policy, ProposalKind, ProposalSpec, Selection, TsPair,
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
    /// A trap policy and no negotiation (strongSwan `start_action = trap`, `auto = route`):
    /// the first packet from on premises for the tunnel's selectors negotiates the IKE SA,
    /// and so does the first after it is gone (`ike_core::Endpoint::trap`). Needs packets:
    /// not with `traffic_flows = false`.
    Trap,
}

/// What the CGW does when AWS deletes one of its CHILD SAs (strongSwan's `close_action`,
/// see `ike_core::CloseAction`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CgwCloseAction {
    /// The CHILD SA stays gone.
    #[default]
    None,
    /// A trap policy negotiates it anew when its traffic comes (`trap_delay` later).
    Trap,
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
    /// A policy-based CGW: each `local_ts[i]`/`remote_ts[i]` pair is a CHILD SA of its own
    /// (strongSwan: one child per pair; Cisco: one SA per crypto-map ACL entry), the first
    /// with IKE_AUTH, the others by CREATE_CHILD_SA (RFC 7296 §1.3.1). A side with one
    /// entry pairs with every entry of the other. `false`: one CHILD SA for all of them.
    pub policy_based: bool,
    /// `none` (default) or `trap`: what the CGW does when AWS deletes one of its CHILD SAs.
    pub close_action: CgwCloseAction,
    /// With `close_action = "trap"`: how long after the DELETE the pair's next packet
    /// comes and negotiates it anew (only while `traffic` flows). Default 30s.
    pub trap_delay: SimDuration,
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
    /// The CGW's IPsec SAs are cleared at this time without a DELETE (a data-plane
    /// restart, an HA failover that kept the IKE SA): its IKE SA stays up, so AWS's next
    /// CHILD SA rekey gets CHILD_SA_NOT_FOUND (RFC 7296 §2.25; `Endpoint::forget_child_sas`).
    pub forget_child_sas_at: Option<SimDuration>,
    /// `false`: the CGW has no connection for this tunnel (one tunnel configured): it
    /// never initiates, and answers AWS as `unconfigured_reply` says.
    pub configured: bool,
    /// What an unconfigured CGW does with AWS's IKE_SA_INIT.
    pub unconfigured_reply: Unconfigured,
    /// Behind a NAT, send a NAT keepalive (RFC 3948 §4) this often (strongSwan's
    /// `keep_alive`, 20 s by default there); none when absent.
    pub nat_keepalive: Option<SimDuration>,
    /// The CGW's ESP anti-replay window in packets (strongSwan's `replay_window`, 32 by
    /// default there; RFC 4303 §3.4.3), 1–2048; only a scenario with flows uses it.
    pub replay_window: u32,
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
            policy_based: false,
            close_action: CgwCloseAction::None,
            trap_delay: secs(30),
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
            forget_child_sas_at: None,
            configured: true,
            unconfigured_reply: Unconfigured::NoProposalChosen,
            nat_keepalive: None,
            replay_window: 32,
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
        if !(1..=2_048).contains(&self.replay_window) {
            return Err((
                "replay_window",
                format!(
                    "{} is out of range: 1 to 2048 packets (strongSwan's default is 32)",
                    self.replay_window
                ),
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
        if self.policy_based {
            let (l, r) = (self.local_ts.len(), self.remote_ts.len());
            if l != r && l != 1 && r != 1 {
                return Err((
                    "policy_based",
                    format!(
                        "local_ts has {l} entries and remote_ts {r}: a policy-based CGW pairs \
                         them one by one, so give both the same number (or one of them a \
                         single entry, paired with each of the other's)"
                    ),
                ));
            }
        }
        if self.trap_delay.0.is_zero() && self.close_action == CgwCloseAction::Trap {
            return Err((
                "trap_delay",
                "must be more than 0s: the trap's next packet comes after the DELETE".into(),
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
        let local: Vec<_> = self.local_ts.iter().map(|c| c.0.clone()).collect();
        let remote: Vec<_> = self.remote_ts.iter().map(|c| c.0.clone()).collect();
        if self.policy_based {
            let mut pairs = ts_pairs(&local, &remote).into_iter();
            if let Some(first) = pairs.next() {
                config.local_ts = first.local;
                config.remote_ts = first.remote;
            }
            config.more_children = pairs.collect();
        } else {
            config.local_ts = local;
            config.remote_ts = remote;
        }
        config.close_action = match self.close_action {
            CgwCloseAction::None => CloseAction::None,
            CgwCloseAction::Trap => CloseAction::Trap {
                after: self.trap_delay.0,
            },
        };
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

/// A policy-based CGW's CHILD SAs: `local[i]` with `remote[i]`, or one side's single entry
/// with each of the other's (`CgwConnection::check` has refused other shapes).
fn ts_pairs(
    local: &[ike_wire::TrafficSelector],
    remote: &[ike_wire::TrafficSelector],
) -> Vec<TsPair> {
    let n = local.len().max(remote.len());
    let at = |side: &[ike_wire::TrafficSelector], i: usize| {
        side.get(if side.len() == 1 { 0 } else { i })
            .cloned()
            .into_iter()
            .collect::<Vec<_>>()
    };
    (0..n)
        .map(|i| TsPair {
            local: at(local, i),
            remote: at(remote, i),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cgw(text: &str) -> CgwConnection {
        toml::from_str(text).expect("valid [tunnel.cgw]")
    }

    #[test]
    fn a_policy_based_cgw_has_a_child_per_pair() {
        let c = cgw(r#"
            policy_based = true
            local_ts = ["10.0.1.0/24", "10.0.2.0/24"]
            remote_ts = ["172.31.0.0/16"]
            close_action = "trap"
            trap_delay = "5m"
        "#);
        assert!(c.check().is_ok());
        let config = c.endpoint_config("psk.psk.psk");
        let show = |t: &[ike_wire::TrafficSelector]| {
            t.iter().map(ike_core::ts::display).collect::<Vec<_>>()
        };
        assert_eq!(show(&config.local_ts), ["10.0.1.0/24"]);
        assert_eq!(show(&config.remote_ts), ["172.31.0.0/16"]);
        assert_eq!(config.more_children.len(), 1);
        assert_eq!(show(&config.more_children[0].local), ["10.0.2.0/24"]);
        assert_eq!(show(&config.more_children[0].remote), ["172.31.0.0/16"]);
        assert_eq!(
            config.close_action,
            CloseAction::Trap {
                after: std::time::Duration::from_secs(300)
            }
        );
        // Route-based (the default): one CHILD SA with every selector.
        let c = cgw(r#"local_ts = ["10.0.1.0/24", "10.0.2.0/24"]"#);
        let config = c.endpoint_config("psk.psk.psk");
        assert_eq!(config.local_ts.len(), 2);
        assert!(config.more_children.is_empty());
        assert_eq!(config.close_action, CloseAction::None);
    }

    #[test]
    fn pairs_that_do_not_pair_up_are_refused() {
        let c = cgw(r#"
            policy_based = true
            local_ts = ["10.0.1.0/24", "10.0.2.0/24"]
            remote_ts = ["172.31.0.0/16", "172.30.0.0/16", "172.29.0.0/16"]
        "#);
        let (key, message) = c.check().expect_err("2 × 3 entries do not pair up");
        assert_eq!(key, "policy_based");
        assert!(message.contains("same number"), "{message}");
    }
}
