//! The simulated AWS side: tunnel options (what AWS lets you configure), the tunnel view
//! (how AWS derives a tunnel's state from its SAs' facts) and the tunnel log (how AWS
//! reports what its endpoint did). This is the only place where AWS's wording meets the
//! protocol.

mod log;
mod log_options;
pub mod options;
mod view;

pub use log::TunnelLog;
#[cfg(test)]
pub(crate) use log_options::template_block as log_options_block;
pub use options::TunnelOptions;
pub use view::{TunnelState, TunnelView};
