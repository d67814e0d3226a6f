//! Hooks: the engine's lifetime tied to the component that uses it.

mod use_engine;

pub use use_engine::use_engine;
