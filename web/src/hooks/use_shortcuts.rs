//! Keyboard shortcuts on the whole page: space play/pause, left/right back/forward 10 s, shift
//! left/right (or p/n) previous/next, up/down volume, m mute, / search, ? help. Keys typed into
//! the search box are left to it.

use gloo_events::EventListener;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, KeyboardEvent};
use yew::prelude::*;

/// What each shortcut does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    Toggle,
    /// Seek by this many seconds (negative: back).
    Seek(i8),
    Previous,
    Next,
    VolumeUp,
    VolumeDown,
    Mute,
    Search,
    Help,
}

/// How far the arrow keys seek, in seconds.
pub const SEEK_STEP_S: i8 = 10;

/// The shortcut for a key (with Shift held or not), if any.
pub fn shortcut(key: &str, shift: bool) -> Option<Shortcut> {
    Some(match key {
        " " => Shortcut::Toggle,
        "ArrowLeft" if shift => Shortcut::Previous,
        "ArrowRight" if shift => Shortcut::Next,
        "ArrowLeft" => Shortcut::Seek(-SEEK_STEP_S),
        "ArrowRight" => Shortcut::Seek(SEEK_STEP_S),
        "p" | "P" => Shortcut::Previous,
        "n" | "N" => Shortcut::Next,
        "ArrowUp" => Shortcut::VolumeUp,
        "ArrowDown" => Shortcut::VolumeDown,
        "m" | "M" => Shortcut::Mute,
        "/" => Shortcut::Search,
        "?" => Shortcut::Help,
        _ => return None,
    })
}

/// Listens for shortcuts while mounted.
#[hook]
pub fn use_shortcuts(on_shortcut: Callback<Shortcut>) {
    use_effect_with(on_shortcut, |on_shortcut| {
        let on_shortcut = on_shortcut.clone();
        let listener = web_sys::window()
            .and_then(|w| w.document())
            .map(|document| {
                EventListener::new(&document, "keydown", move |event| {
                    let Some(event) = event.dyn_ref::<KeyboardEvent>() else {
                        return;
                    };
                    let typing = event
                        .target()
                        .and_then(|t| t.dyn_into::<HtmlElement>().ok())
                        .is_some_and(|t| {
                            t.tag_name() == "INPUT"
                                && t.get_attribute("type").as_deref() == Some("search")
                        });
                    if typing || event.ctrl_key() || event.alt_key() || event.meta_key() {
                        return;
                    }
                    if let Some(shortcut) = shortcut(&event.key(), event.shift_key()) {
                        event.prevent_default();
                        on_shortcut.emit(shortcut);
                    }
                })
            });
        move || drop(listener)
    });
}

#[cfg(test)]
mod tests {
    use super::{Shortcut, shortcut};
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn keys_map_to_shortcuts() {
        assert_eq!(shortcut(" ", false), Some(Shortcut::Toggle));
        assert_eq!(shortcut("ArrowRight", false), Some(Shortcut::Seek(10)));
        assert_eq!(shortcut("ArrowLeft", false), Some(Shortcut::Seek(-10)));
        assert_eq!(shortcut("ArrowRight", true), Some(Shortcut::Next));
        assert_eq!(shortcut("p", false), Some(Shortcut::Previous));
        assert_eq!(shortcut("M", false), Some(Shortcut::Mute));
        assert_eq!(shortcut("/", false), Some(Shortcut::Search));
        assert_eq!(shortcut("x", false), None);
    }
}
