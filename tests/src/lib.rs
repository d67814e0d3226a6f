//! Test support shared by every crate's tests: fixtures (audio files, hashes) and real
//! processes (the built binaries, started and watched). End-to-end tests live in `tests/tests`.

pub mod fixtures;
pub mod media;
pub mod process;
pub mod system;
pub mod usage;
pub mod webdriver;

pub use process::{PATIENCE, Process, binary, repo};
