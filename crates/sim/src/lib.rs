//! ikesim's simulation layer: scenarios, the simulated AWS side (options and tunnel log),
//! the drivers (accelerated and real-time) and the runner that ties them together.

pub mod aws;
pub mod bench;
pub mod builtin;
pub mod capture;
pub mod connect;
pub mod driver;
pub mod duration;
pub mod framing;
pub mod narration;
pub mod network;
pub mod runner;
pub mod scenario;
pub mod serve;
pub mod spelling;
pub mod traffic;

pub use driver::Clock;
pub use duration::SimDuration;
pub use runner::{run, RunError, RunOptions, RunOutput};
pub use scenario::{Scenario, ScenarioError};
