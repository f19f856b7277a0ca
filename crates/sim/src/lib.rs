//! ikesim's simulation layer: scenarios, the simulated AWS side (options and tunnel log),
//! the driver (one network loop, accelerated or on the wall clock) and the commands built
//! on it: `run` (the runner), `serve`, `connect`, `bench`.
//!
//! The public API is what the `ikesim` binary and the end-to-end tests use; the rest is
//! crate-private.

#![warn(missing_docs)]

pub mod aws;
pub mod bench;
pub mod builtin;
pub mod capture;
pub mod connect;
pub mod dataplane;
mod driver;
mod duration;
pub mod estate;
mod framing;
mod narration;
mod network;
mod runner;
pub mod scenario;
pub mod serve;
mod spelling;
pub mod timeline;
mod traffic;

pub use driver::Clock;
pub use duration::SimDuration;
pub use runner::{run, run_streaming, RunError, RunOptions, RunOutput, Signal, Stop};
pub use scenario::{Scenario, ScenarioError};
pub use spelling::ike_version_number_of;
