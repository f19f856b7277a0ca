//! The simulated AWS side: tunnel options (what AWS lets you configure) and the tunnel log
//! (how AWS reports what its endpoint did). This is the only place where AWS's wording
//! meets the protocol.

mod log;
pub mod options;

pub use log::TunnelLog;
pub use options::TunnelOptions;
