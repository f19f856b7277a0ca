//! Sans-IO IKEv2 state machines: an [`Endpoint`] per simulated host, holding IKE SAs and
//! CHILD SAs for either role. No sockets, no clock: every input carries `now`, outputs
//! are pulled (`poll_transmit`, `poll_timeout`, `poll_event`). See docs/architecture.md.

mod child;
pub mod config;
mod endpoint;
pub mod event;
pub mod nat_t;
pub mod proposal;
mod sa;
mod shell;
pub mod ts;
mod v1;

pub use config::{DpdAction, DpdConfig, EndpointConfig, Impair, Lifetimes, RetransmitConfig};
pub use endpoint::Endpoint;
pub use event::{
    ChildFailure, Direction, DropReason, Drops, Event, EventKind, IkeSaSecrets, IkeVersion,
    SaState, Stats,
};
pub use nat_t::NatTPorts;
pub use proposal::{
    parse_proposal, Cipher, Policy, ProposalKind, ProposalSpec, Selected, Selection,
};
pub use shell::{Role, Transmit};
