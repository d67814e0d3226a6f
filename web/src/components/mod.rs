//! One component per file.

pub mod app;
pub mod help;
pub mod library;
pub mod nerd_stats;
pub mod now_playing;
pub mod scrubber;
pub mod status;
pub mod visualizer;
