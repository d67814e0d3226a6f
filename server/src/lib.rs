//! The Tapedeck music server as a library: [`run`] serves a music directory over the Tapedeck
//! protocol (see `PROTOCOL.md`) on a listener the caller bound, until a shutdown signal.
//!
//! Layers, one per module: `index` (the songs, kept in SQLite: the walk, the tags, the store),
//! `library` (the snapshot served), `startup` (warm and cold starts), `follow` (rescans on
//! notifications and periodically), `server` (accept loop and
//! shutdown), `shared`, `connection` (framing and replies), `session` (per-client state and
//! commands), `stream`, `claim` and `pace` (one play's data port).

pub mod accounts;
mod art;
mod body;
mod browse;
mod claim;
mod config;
mod connection;
mod error;
mod follow;
mod index;
mod library;
mod open;
mod pace;
mod ports;
mod search;
mod send;
mod server;
mod session;
mod shared;
mod sign_in;
mod song;
mod source;
mod startup;
mod store;
mod stream;

pub use config::{Config, Follow, Pacing};
pub use error::{LibraryError, ServerError};
pub use index::{EXTENSIONS, StoreError};
pub use library::{Library, Song, Songs};
pub use pace::{BURST_SLACK, schedule};
pub use server::run;
