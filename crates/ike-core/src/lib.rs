//! Sans-IO IKEv2 (RFC 7296) and IKEv1 (RFC 2409) state machines: an [`Endpoint`] per
//! simulated host, holding IKE SAs and CHILD SAs of either version for either role. No
//! sockets, no clock: every input carries `now`, outputs are pulled (`poll_transmit`,
//! `poll_timeout`, `poll_event`). See docs/architecture.md.
//!
//! - `endpoint`: the one collection of SAs (`Sa::V2` / `Sa::V1`), datagram dispatch, and
//!   the cross-SA effects SAs ask for;
//! - `shell`: what both versions share — `Ctx`, `Role`, `Transmit`, the ids (`IkeSaId`,
//!   `Spi`, `MessageId`), the `Effect` queue, the timer table and its walk, timing rules;
//! - `sa`: the IKEv2 IKE SA (one module per exchange); `v1`: the ISAKMP SA (main mode,
//!   quick mode, informational); `child`: CHILD SAs of both.
//! - `ipsec`: the ESP SAs to install and remove, for a data plane (opt-in:
//!   `EndpointConfig::data_plane`, drained with `Endpoint::poll_ipsec`);
//! - `trace`: what only the core knows, for the timeline — the plaintext of each protected
//!   message sealed or opened and each timer that fired (opt-in: `EndpointConfig::trace`,
//!   drained with `Endpoint::poll_trace`).

#![warn(missing_docs)]

mod child;
pub mod config;
pub(crate) mod dos;
mod endpoint;
pub mod event;
mod failure;
pub mod ipsec;
pub mod nat_t;
pub mod proposal;
mod sa;
mod shell;
pub mod trace;
pub mod ts;
mod v1;

pub use config::{
    CloseAction, DosConfig, DpdAction, DpdConfig, EndpointConfig, Impair, Lifetimes, NewChildSa,
    RetransmitConfig, TsPair,
};
pub use endpoint::Endpoint;
pub use event::{
    ChildFailure, Direction, DropReason, Drops, Event, EventKind, IkeSaSecrets, IkeVersion,
    SaChange, SaFacts, SaHandle, SaState, Stats,
};
pub use failure::{Incompatibilities, Misbehaviours, PeerIncompatible, PeerMisbehaved};
pub use ipsec::{EspKeys, EspSaPair, IpsecChange};
pub use nat_t::{Nat, NatTPorts};
pub use proposal::{
    parse_proposal, Cipher, Policy, ProposalKind, ProposalSpec, Selected, Selection,
};
pub use shell::{Role, Transmit};
pub use trace::{Plaintext, TimerKind, Trace, TraceSa};
