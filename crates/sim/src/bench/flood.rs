//! `ikesim bench flood`: issue 14's flood table, measured the same way before and after
//! the flood defences (docs/performance.md, "Floods").
//!
//! - [`generator`]: spoofed IKE_SA_INIT requests from many loopback addresses (optionally
//!   proposing MODP-8192, optionally answering COOKIEs), malformed datagrams, and what came
//!   back, classified and counted per second ([`flood`], [`FloodSpec`], [`FloodReport`]).
//! - [`flood_figures`]: `ikesim serve` and `ikesim connect` children of the current
//!   executable under those floods: half-open SAs, serve's memory, its answer rate, the
//!   COOKIEs it sent, a killed CGW's DPD time-out, a CGW's establishment time and serve's
//!   CPU per MODP-8192 request, each beside its same-run baseline.

mod answers;
mod figures;
pub mod generator;
mod process;

pub use figures::{flood_figures, scratch_dir};
pub use generator::{flood, Answer, Answers, FloodReport, FloodSpec, Second};
