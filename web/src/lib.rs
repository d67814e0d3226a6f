//! The Tapedeck web app. `main.rs` only renders [`App`]; everything lives here.

mod components;
pub mod player;

pub use components::app::App;

/// The app's version, shown on the page.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
