//! One component per file.

pub mod album;
pub mod albums;
pub mod app;
pub mod artists;
pub mod help;
pub mod library;
pub mod nerd_stats;
pub mod now_playing;
pub mod scrubber;
pub mod sign_in;
pub mod status;
pub mod tabs;
pub mod visualizer;
