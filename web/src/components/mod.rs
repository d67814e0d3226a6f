//! One component per file.

pub mod app;
