//! The rules, as data. Messages are catalogue ids (docs/log-messages.md); the causes come
//! from the failure-mode guide (docs/failures/) and AWS's tunnel options (reference §3).

mod build;
mod summaries;

pub use summaries::SUMMARIES;

use build::{after, before, repro, repro_if, repro_v1, BASE, NOT_UP, PROPOSAL_REFUSED, UP};
use vpn_log::IkeVersion::V1;

use super::{Guide, Outcome, Pattern, Repro, Rule, Severity, Test, When};

/// Every rule, in the order findings of equal severity are listed.
pub static RULES: &[Rule] = &[
    Rule {
        id: "psk-mismatch",
        trigger: Pattern::messages(&["ikev2-psk-mismatch", "ikev1-psk-mismatch"]),
        also: &[after(&["ikev2-sending-auth-failed"], 1)],
        title: "phase 1 not authenticated: pre-shared key mismatch ({count:attempt})",
        cause: "The CGW's pre-shared key differs from this tunnel's. Each tunnel of a VPN \
                connection has its own key: copy this tunnel's key (console: Modify VPN \
                tunnel options, or the downloaded configuration) onto the CGW's peer entry \
                for this tunnel's outside IP, without spaces or quotes.",
        guide: Guide::OfMessage("ikev2-psk-mismatch"),
        repro: &[repro_v1("ikev1-psk-mismatch"), repro("ikev2-psk-mismatch")],
        ..BASE
    },
    Rule {
        id: "cgw-refused-auth",
        trigger: Pattern::messages(&["ikesim-received-auth-failed"]),
        title: "phase 1 refused by the CGW: AUTHENTICATION_FAILED ({count:attempt}) while AWS \
                initiates",
        cause: "AWS initiated (startup action start, or DPD action restart) and the CGW could \
                not verify AWS's AUTH payload: most likely the pre-shared keys differ, else \
                the CGW expects another identity (IDr) for AWS. Fix the key or identity on the \
                CGW.",
        guide: Guide::Page("ikev2-psk-mismatch"),
        repro: &[repro("ikev2-aws-start-psk-mismatch")],
        ..BASE
    },
    Rule {
        id: "auth-failed",
        trigger: Pattern::messages(&["ikev2-sending-auth-failed"]),
        without: &[before(&["ikev2-psk-mismatch"], 1)],
        title: "phase 1 not authenticated: AWS refused the CGW's IKE_AUTH ({count:time})",
        cause: "AWS answered AUTHENTICATION_FAILED without logging a key mismatch: the CGW's \
                authentication method or identity is not what the tunnel expects (a \
                certificate-based CGW against a PSK tunnel, or the other way round).",
        guide: Guide::OfMessage("ikev2-sending-auth-failed"),
        ..BASE
    },
    Rule {
        id: "phase1-proposal-unsupported",
        trigger: Pattern {
            phase1: NOT_UP,
            ..Pattern::messages(&["no-proposal-match-by-aws"])
        },
        title: "phase 1 refused by AWS: the CGW offered nothing AWS supports ({count:time})",
        cause: "No Proposal Match Found by AWS: every phase 1 proposal of the CGW uses an \
                algorithm AWS never supports (3DES, MD5, DH group 1 or 5). Configure AES128 or \
                AES256 (GCM too), SHA1/SHA2 and DH group 14–24 on the CGW.",
        guide: Guide::OfMessage("no-proposal-match-by-aws"),
        repro: &[
            repro_v1("ikev1-proposal-unsupported"),
            repro("ikev2-proposal-unsupported"),
        ],
        ..BASE
    },
    Rule {
        id: "phase1-proposal-not-allowed",
        trigger: Pattern {
            phase1: NOT_UP,
            ..Pattern::messages(&["no-proposal-chosen"])
        },
        title: "phase 1 refused: none of the CGW's proposals is allowed by the tunnel's options \
                ({count:time})",
        cause: "Notifying with \"No proposal chosen\": AWS supports what the CGW offers, but this \
                tunnel's phase 1 options (encryption, integrity, DH groups, IKE version) \
                exclude it. Compare the CGW's IKE proposal with the tunnel options and widen one \
                of them.",
        guide: Guide::OfMessage("no-proposal-chosen"),
        repro: &[repro("ikev2-proposal-mismatch")],
        ..BASE
    },
    Rule {
        id: "cgw-refused-proposals",
        trigger: Pattern {
            phase1: NOT_UP,
            ..Pattern::messages(&["ikesim-received-no-proposal-chosen"])
        },
        title: "phase 1 refused by the CGW: NO_PROPOSAL_CHOSEN ({count:time}) while AWS \
                initiates",
        cause: "AWS initiated and the CGW accepted none of AWS's proposals: the CGW's IKE \
                proposals allow nothing the tunnel's options offer. Add one of AWS's \
                algorithms to the CGW, or widen the tunnel options.",
        guide: Guide::Page("no-proposal-chosen"),
        repro: &[repro("ikev2-aws-start-proposal-mismatch")],
        ..BASE
    },
    Rule {
        id: "phase2-proposal-unsupported",
        trigger: Pattern {
            phase1: UP,
            ..Pattern::messages(&["no-proposal-match-by-aws"])
        },
        when: When::AtSetup,
        title: "phase 2 refused by AWS at setup: the CGW offered nothing AWS supports \
                ({count:time})",
        cause: "Phase 1 is up, but every phase 2 proposal of the CGW uses an algorithm AWS \
                never supports (3DES, MD5, an unsupported PFS group). Configure AES128/AES256 \
                and SHA1/SHA2 for phase 2 on the CGW.",
        guide: Guide::OfMessage("no-proposal-match-by-aws"),
        repro: &[repro("ikev2-phase2-proposal-unsupported")],
        ..BASE
    },
    Rule {
        id: "phase2-proposal-not-allowed",
        trigger: Pattern {
            phase1: UP,
            ..Pattern::messages(&["no-proposal-chosen", "ikesim-received-no-proposal-chosen"])
        },
        when: When::AtSetup,
        title: "phase 2 refused at setup: none of the CGW's phase 2 proposals is allowed \
                ({count:time})",
        cause: "Phase 1 is up, but the phase 2 proposals (encryption, integrity, PFS DH group) \
                match nothing the tunnel's phase 2 options allow. Most often the PFS group: \
                set the CGW's to one of the tunnel's phase 2 DH groups.",
        guide: Guide::OfMessage("no-proposal-chosen"),
        repro: &[repro("ikev1-phase2-proposal-mismatch")],
        ..BASE
    },
    Rule {
        id: "phase2-refused-at-rekey",
        trigger: Pattern {
            phase1: UP,
            ..Pattern::messages(PROPOSAL_REFUSED)
        },
        when: When::AfterFirstUp,
        title: "phase 2 refused at {count:rekey} after it first came up: at {times}",
        cause: "Phase 2 came up at setup, so the algorithms match, but its rekeys are refused: \
                a rekey (CREATE_CHILD_SA, or IKEv1 quick mode) carries a KE payload for PFS, \
                and the DH group the CGW puts there is not allowed, or it sends none. Set the \
                CGW's PFS group to one of the tunnel's phase 2 DH groups.",
        guide: Guide::OfMessage("no-proposal-chosen"),
        repro: &[repro("ikev2-pfs-mismatch-at-rekey")],
        ..BASE
    },
    Rule {
        id: "ts-unacceptable",
        trigger: Pattern::messages(&["ikev2-ts-unacceptable"]),
        title: "phase 2 refused by the CGW: TS_UNACCEPTABLE for AWS's traffic selectors \
                ({count:time})",
        cause: "AWS initiated the CHILD SA and the CGW refused its traffic selectors: the \
                tunnel's local/remote IPv4 network CIDRs are not what the CGW's policy \
                (encryption domain) allows. Make both sides name the same networks (0.0.0.0/0 \
                on both for a route-based CGW).",
        guide: Guide::OfMessage("ikev2-ts-unacceptable"),
        repro: &[repro("ikev2-aws-start-ts-unacceptable")],
        ..BASE
    },
    Rule {
        id: "phase2-refused",
        trigger: Pattern::messages(&["ikev2-child-sa-failed"]),
        without: &[
            before(PROPOSAL_REFUSED, 1),
            before(&["ikev2-ts-unacceptable"], 1),
            before(&["ikev2-child-rekey-collision-delete"], 1),
            // AWS creates phase 2 anew at once: the CGW had lost it (`cgw-lost-child-sa`).
            after(&["ikev2-sending-create-child-sa-request"], 1),
        ],
        title: "phase 2 refused while phase 1 stays up ({count:time}, at {times})",
        cause: "AWS logs no reason with it: most often the traffic selectors (the CGW proposes \
                networks outside the tunnel's local/remote IPv4 network CIDRs, or a \
                policy-based CGW asks for one SA per subnet pair), else the phase 2 proposals \
                or PFS group. The CGW's log names the notify it got (TS_UNACCEPTABLE or \
                NO_PROPOSAL_CHOSEN).",
        guide: Guide::OfMessage("ikev2-child-sa-failed"),
        repro: &[repro("ikev2-ts-unacceptable")],
        ..BASE
    },
    Rule {
        id: "cgw-lost-child-sa",
        severity: Severity::Warning,
        trigger: Pattern::messages(&["ikev2-child-sa-failed"]),
        with: &[
            before(&["ikev2-processed-create-child-sa-response"], 1),
            after(&["ikev2-sending-create-child-sa-request"], 1),
        ],
        without: &[
            before(PROPOSAL_REFUSED, 1),
            before(&["ikev2-ts-unacceptable"], 1),
            before(&["ikev2-child-rekey-collision-delete"], 1),
        ],
        outcomes: &[
            Outcome {
                label: "and AWS set it up again",
                prefix: "",
                explain: "AWS's new CHILD SA came up.",
                test: Test::Near(after(&["ikesim-child-sa-established"], 60)),
            },
            Outcome {
                label: "and it stayed down",
                prefix: "",
                explain: "AWS's new CHILD SA did not come up: see the records after it.",
                test: Test::Otherwise,
            },
        ],
        title: "the CGW did not know the phase 2 SA AWS rekeyed ({count:time}, at {times}) \
                {outcome}",
        cause: "AWS's rekey failed and AWS sent a new CREATE_CHILD_SA at once: the CGW \
                answered CHILD_SA_NOT_FOUND (RFC 7296 §2.25), so AWS dropped its stale SA \
                without a DELETE and created phase 2 from scratch. The CGW had lost its IPsec \
                SAs without telling AWS (a data-plane or IPsec service restart, an HA \
                failover that kept the IKE SA, SAs cleared by hand). Traffic stopped from then \
                until AWS's rekey: find what cleared the CGW's SAs, or make it send a DELETE.",
        guide: Guide::Page("ikev2-processed-create-child-sa-response"),
        repro: &[repro("ikev2-cgw-lost-child-sa")],
        ..BASE
    },
    Rule {
        id: "cgw-deleted-during-rekey",
        severity: Severity::Warning,
        trigger: Pattern::messages(&["ikev2-child-rekey-collision-delete"]),
        outcomes: &[
            Outcome {
                label: "then came back",
                prefix: "",
                explain: "Phase 2 was set up again afterwards.",
                test: Test::Near(after(
                    &["ikesim-child-sa-established", "ikesim-child-sa-rekeyed"],
                    600,
                )),
            },
            Outcome {
                label: "and it stayed down",
                prefix: "",
                explain: "Phase 2 stayed down afterwards (phase 1 kept): until the CGW \
                          initiates a new CHILD SA no traffic flows.",
                test: Test::Otherwise,
            },
        ],
        title: "the CGW deleted phase 2 while AWS was rekeying it ({count:time}) {outcome}",
        cause: "A CHILD_REKEY collision seen as CHILD_DELETE: the CGW's phase 2 lifetime ran out \
                (or it tore the SA down) at the moment AWS rekeyed it. Give the CGW a phase 2 \
                lifetime at least AWS's (3600 s by default) so AWS rekeys first, and keep the \
                rekey fuzz on.",
        guide: Guide::OfMessage("ikev2-child-rekey-collision-delete"),
        repro: &[repro("ikev2-delete-during-rekey")],
        ..BASE
    },
    Rule {
        id: "sa-pair-replaced",
        severity: Severity::Warning,
        trigger: Pattern {
            phase2: UP,
            ..Pattern::messages(&["ikesim-sending-delete-child-sa"])
        },
        when: When::AfterFirstUp,
        with: &[before(&["ikesim-child-sa-established"], 1)],
        without: &[before(&["ikesim-child-sa-rekeyed"], 1)],
        title: "AWS deleted a phase 2 SA the moment another one came up ({count:time}, at \
                {times})",
        title_many: "phase 2 SAs replacing each other: {count} times ({rate}), phase 2 up \
                     throughout",
        many: 3,
        cause: "A new CHILD SA (no rekey) came up while one was up, and AWS deleted the older: \
                AWS allows one SA pair per tunnel. Most likely a policy-based CGW negotiates \
                one CHILD SA per subnet pair (one per crypto-map ACL entry or strongSwan \
                child) and brings each deleted one back when its traffic comes, so each \
                subnet pair works only part of the time. Give the CGW one pair of traffic \
                selectors (0.0.0.0/0 on both sides, or one summary network each, and filter \
                on the CGW), or use a route-based (VTI) configuration.",
        guide: Guide::Page("ikev2-processed-create-child-sa-request"),
        repro: &[
            repro_v1("ikev1-policy-based-two-subnets"),
            repro("ikev2-policy-based-two-subnets"),
        ],
        ..BASE
    },
    Rule {
        id: "rekey-collisions",
        severity: Severity::Warning,
        trigger: Pattern::messages(&["ikev2-redundant-child-sa"]),
        title: "a phase 2 rekey collision ({rate}): both sides rekeyed at once, resolved",
        title_many: "phase 2 rekey collisions: {count} ({rate}): both sides rekey at the same \
                     moment",
        many: 3,
        cause: "Both ends started a CREATE_CHILD_SA for the same SA together; the SA with the \
                lower nonce is deleted (RFC 7296 §2.8.1). Harmless once, but often means \
                equal lifetimes without jitter on both sides: set the rekey fuzz (AWS: 100 % by \
                default) and a different phase 2 lifetime on the CGW, or let one side rekey.",
        guide: Guide::OfMessage("ikev2-redundant-child-sa"),
        repro: &[
            Repro {
                at_least: 3,
                ..repro("ikev2-lifetimes-collide-daily")
            },
            repro("ikev2-child-rekey-collision"),
        ],
        ..BASE
    },
    Rule {
        id: "dpd-timeout",
        severity: Severity::Warning,
        trigger: Pattern::messages(&["ikev2-dpd-timeout", "ikev1-dpd-peer-dead"]),
        outcomes: &[
            Outcome {
                label: "restart",
                prefix: "flapping: ",
                explain: "DPD action restart: AWS starts a new phase 1 itself each time.",
                test: Test::Near(after(&["ikesim-negotiating-ike-sa"], 5)),
            },
            Outcome {
                label: "none",
                prefix: "",
                explain: "DPD action none: AWS keeps the SAs and keeps declaring the CGW dead.",
                test: Test::Itself(Pattern {
                    phase1: UP,
                    ..Pattern::messages(&[])
                }),
            },
            Outcome {
                label: "clear",
                prefix: "flapping: ",
                explain: "DPD action clear: the tunnel stays down until the CGW initiates again.",
                test: Test::Otherwise,
            },
        ],
        title: "DPD timed out ({count:time}): the CGW stopped answering, DPD action {outcome}",
        title_many: "{prefix}{count} DPD time-outs in {span}, DPD action {outcome}",
        many: 3,
        cause: "AWS heard nothing from the CGW for 10 s, sent DPD, and got no answer after its \
                retransmits (about 30–40 s in all). Check the path (loss, a NAT or firewall \
                dropping UDP 500/4500) and that the CGW answers DPD (R-U-THERE / empty \
                INFORMATIONAL); a CGW that reboots or loses its SAs looks the same.",
        guide: Guide::OfMessage("ikev2-dpd-timeout"),
        repro: &[
            repro_if("restart", "ikev2-dpd-restart"),
            repro_if("none", "ikev2-dpd-none"),
            Repro {
                ike: Some(V1),
                ..repro("ikev1-dpd")
            },
            repro("ikev2-dpd-clear"),
        ],
        ..BASE
    },
    Rule {
        id: "half-open",
        trigger: Pattern::messages(&["ikev2-half-open-timeout"]),
        title: "phase 1 half-open: AWS answered the CGW's first exchange, the next message never \
                came ({count:time})",
        cause: "AWS answered IKE_SA_INIT (IKEv1: main mode 1–4) but IKE_AUTH (main mode 5) never \
                arrived: AWS's answer did not reach the CGW (a firewall or NAT dropping UDP 500 \
                back, or 4500 after NAT-T), the CGW's IKE_AUTH was fragmented and lost (large \
                certificates, a small MTU), or a second CGW or a stale configuration starts \
                negotiations it abandons.",
        guide: Guide::OfMessage("ikev2-half-open-timeout"),
        repro: &[repro("ikev2-half-open")],
        ..BASE
    },
    Rule {
        id: "cgw-unreachable",
        trigger: Pattern::messages(&["ikesim-ike-sa-init-timeout"]),
        title: "AWS's IKE_SA_INIT got no answer from the CGW ({count:time}, at {times})",
        cause: "AWS initiates (startup action start, or DPD action restart) and nothing comes \
                back: the CGW is down or unreachable, or UDP 500 to it is blocked.",
        repro: &[repro("ikev2-dpd-restart")],
        ..BASE
    },
    Rule {
        id: "rekey-unanswered",
        severity: Severity::Warning,
        trigger: Pattern::messages(&["ikev2-sending-create-child-sa-request"]),
        without: &[after(&["ikev2-processed-create-child-sa-response"], 120)],
        title: "AWS's rekey got no answer ({count:time}, at {times})",
        cause: "AWS sent CREATE_CHILD_SA and no response came: the CGW is gone (DPD action none \
                keeps a dead peer's SAs until a rekey fails) or the path drops it. The SAs \
                expire afterwards.",
        repro: &[repro("ikev2-dpd-none-rekey-unanswered")],
        ..BASE
    },
    Rule {
        id: "cgw-deleted-ike-sa",
        severity: Severity::Warning,
        trigger: Pattern {
            phase1: NOT_UP,
            ..Pattern::messages(&["received-delete-ike-sa"])
        },
        outcomes: &[
            Outcome {
                label: "renegotiated",
                prefix: "",
                explain: "A new phase 1 followed: the CGW restarted the tunnel.",
                test: Test::Near(after(&["ikesim-negotiating-ike-sa"], 300)),
            },
            Outcome {
                label: "left the tunnel down",
                prefix: "",
                explain: "Nothing followed: the tunnel stays down until the CGW initiates \
                          again.",
                test: Test::Otherwise,
            },
        ],
        title: "the CGW deleted phase 1 ({count:time}, at {times}) and {outcome}",
        cause: "The CGW sent a DELETE for the IKE SA, leaving phase 1 down: an \
                administrator cleared it (ipsec down, swanctl --terminate, clear crypto), its \
                IKE lifetime ran out without rekeying, an idle timeout, or it shut down.",
        guide: Guide::OfMessage("received-delete-ike-sa"),
        repro: &[repro_if("left the tunnel down", "ikev2-cgw-terminate")],
        ..BASE
    },
    Rule {
        id: "cgw-deleted-child-sa",
        severity: Severity::Warning,
        trigger: Pattern {
            phase1: UP,
            phase2: NOT_UP,
            ..Pattern::messages(&["received-delete-child-sa"])
        },
        outcomes: &[
            Outcome {
                label: "it came back",
                prefix: "",
                explain: "A new phase 2 followed.",
                test: Test::Near(after(&["ikesim-child-sa-established"], 300)),
            },
            Outcome {
                label: "left phase 2 down",
                prefix: "",
                explain: "No phase 2 replaced it: no traffic flows until the CGW negotiates \
                          one.",
                test: Test::Otherwise,
            },
        ],
        title: "the CGW deleted phase 2 without a replacement ({count:time}, at {times}); \
                {outcome}",
        cause: "The CGW sent a DELETE for its phase 2 SA while none replaced it: its phase 2 \
                lifetime ran out without rekeying (an idle timeout, rekey off), or an \
                administrator cleared it.",
        guide: Guide::OfMessage("received-delete-child-sa"),
        repro: &[repro_if("left phase 2 down", "ikev2-idle-tunnel-expires")],
        ..BASE
    },
    Rule {
        id: "cgw-restarted",
        severity: Severity::Warning,
        trigger: Pattern {
            phase1_before: UP,
            ..Pattern::messages(&["ikesim-negotiating-ike-sa"])
        },
        without: &[
            after(
                &["received-delete-ike-sa", "ikesim-sending-delete-ike-sa"],
                300,
            ),
            before(&["ikev2-dpd-timeout", "ikev1-dpd-peer-dead"], 5),
        ],
        title: "the CGW started a new phase 1 while one was up, without deleting the old \
                ({count:time}, at {times})",
        cause: "A fresh IKE SA (INITIAL_CONTACT) replaced the one that was up and the old one \
                was never deleted: the CGW rebooted or lost its SAs. Traffic stops until the \
                new SAs are up; check the CGW's uptime and crash logs.",
        repro: &[repro_v1("ikev1-cgw-reboot"), repro("ikev2-cgw-reboot")],
        ..BASE
    },
    Rule {
        id: "endpoint-replaced",
        severity: Severity::Warning,
        trigger: Pattern {
            phase1_before: UP,
            ..Pattern::messages(&["ikesim-ike-sa-deleted"])
        },
        without: &[before(
            &[
                "ikev2-dpd-timeout",
                "ikev1-dpd-peer-dead",
                "received-delete-ike-sa",
                "ikesim-sending-delete-ike-sa",
                "ikesim-sending-delete-child-sa",
                "ikev2-sending-create-child-sa-request",
                "ikesim-rekeying-ike-sa",
            ],
            300,
        )],
        outcomes: &[
            Outcome {
                label: "the tunnel came back",
                prefix: "",
                explain: "A new phase 1 followed: the CGW (its DPD or a lifetime) or AWS \
                          (startup action start) negotiated again.",
                test: Test::Near(after(&["ikesim-ike-sa-established"], 900)),
            },
            Outcome {
                label: "it stayed down",
                prefix: "",
                explain: "No phase 1 followed: the tunnel stays down until the CGW negotiates \
                          again.",
                test: Test::Otherwise,
            },
        ],
        title: "phase 1 went down with nothing exchanged ({count:time}, at {times}); {outcome}",
        cause: "The tunnel went from up to down with no DELETE either way, no DPD time-out \
                and no unanswered request before it: AWS's side of the tunnel went away, as \
                when AWS replaces the tunnel endpoint (maintenance, or modified tunnel \
                options; the AWS Health Dashboard announces it). The new endpoint knows none \
                of the CGW's SAs: with IKEv1 or startup action add, the CGW has to notice \
                (DPD with action restart) and negotiate again.",
        guide: Guide::Page("README"),
        repro: &[
            Repro {
                ike: Some(V1),
                ..repro_if("it stayed down", "ikev1-endpoint-replacement")
            },
            repro_if("it stayed down", "ikev2-modify-options-mismatch"),
            repro("ikev2-endpoint-replacement"),
        ],
        ..BASE
    },
    Rule {
        id: "invalid-ke",
        severity: Severity::Info,
        trigger: Pattern::messages(&["ikesim-sending-invalid-ke"]),
        title: "the CGW's first DH group was not AWS's choice: AWS asked for group {value} \
                ({count:time})",
        cause: "AWS answered INVALID_KE_PAYLOAD (RFC 7296 §1.2); harmless when the CGW retries \
                with group {value} (one more round trip). Put that group first on the CGW to \
                save it.",
        repro: &[repro("ikev2-invalid-ke")],
        ..BASE
    },
    Rule {
        id: "nat-t",
        severity: Severity::Info,
        trigger: Pattern::messages(&["ikesim-nat-t-detected"]),
        title: "the CGW is behind NAT ({value})",
        cause: "IKE and ESP move to UDP 4500 (RFC 7296 §2.23) and AWS sends DPD periodically to \
                keep the NAT mapping alive; a NAT that drops idle UDP mappings quickly shows as \
                DPD time-outs.",
        repro: &[repro_v1("ikev1-nat"), repro("ikev2-nat")],
        ..BASE
    },
];
