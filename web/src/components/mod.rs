//! One component per file.

pub mod app;
pub mod library;
pub mod now_playing;
pub mod status;
