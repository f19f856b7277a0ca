//! The data plane's glue (docs/data-plane.md): ike-core's CHILD SAs installed into each
//! simulated host's `esp::Sad`, the `lan` networks' packets through them onto the wire.
//!
//! - [`pair_spec`] (`spec.rs`): an `ike_core::ipsec::EspSaPair` as an `esp::PairSpec`.

mod spec;

pub use spec::{pair_spec, selector, suite, SpecError};
