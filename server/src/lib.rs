//! The Tapedeck music server as a library: [`run`] serves a music directory over the Tapedeck
//! protocol (see `PROTOCOL.md`) on a listener the caller bound, until a shutdown signal.
//!
//! Layers, one per module: `library` and `metadata` (the scan), `server` (accept loop and
//! shutdown), `connection` (framing and replies), `session` (per-client state and commands),
//! `stream`, `claim` and `pace` (one play's data port).

mod body;
mod claim;
mod config;
mod connection;
mod error;
mod library;
mod metadata;
mod open;
mod pace;
mod ports;
mod send;
mod server;
mod session;
mod source;
mod stream;

pub use config::{Config, Pacing};
pub use error::{LibraryError, ServerError};
pub use library::{EXTENSIONS, Library, Song};
pub use pace::{BURST_SLACK, schedule};
pub use server::run;
