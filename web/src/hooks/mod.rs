//! Hooks: the engine, the library's fetching, the keyboard and the OS media controls, each tied to the component that
//! uses it and cleaned up on unmount.

mod use_engine;
mod use_library;
mod use_media_session;
mod use_scroller;
mod use_shortcuts;

pub use use_engine::use_engine;
pub use use_library::use_library;
pub use use_media_session::{MediaKeys, use_media_session};
pub use use_scroller::use_scroller;
pub use use_shortcuts::{Shortcut, use_shortcuts};
