//! The Tapedeck web app. `main.rs` only renders [`App`]; everything lives here.

pub mod account;
pub mod browse;
pub mod components;
pub mod crash;
mod engine;
mod hooks;
pub mod level;
pub mod listing;
pub mod order;
pub mod player;
pub mod state;
mod storage;

pub use components::app::App;

/// The app's version, shown on the page.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
