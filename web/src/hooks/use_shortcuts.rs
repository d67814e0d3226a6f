//! Keyboard shortcuts on the whole page: space play/stop, left/right previous/next, up/down
//! volume, m mute, / search, ? help. Keys typed into the search box are left to it.

use gloo_events::EventListener;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, KeyboardEvent};
use yew::prelude::*;

/// What each shortcut does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    Toggle,
    Previous,
    Next,
    VolumeUp,
    VolumeDown,
    Mute,
    Search,
    Help,
}

/// The shortcut for a key, if any.
pub fn shortcut(key: &str) -> Option<Shortcut> {
    Some(match key {
        " " => Shortcut::Toggle,
        "ArrowLeft" => Shortcut::Previous,
        "ArrowRight" => Shortcut::Next,
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
                    if let Some(shortcut) = shortcut(&event.key()) {
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
        assert_eq!(shortcut(" "), Some(Shortcut::Toggle));
        assert_eq!(shortcut("ArrowRight"), Some(Shortcut::Next));
        assert_eq!(shortcut("M"), Some(Shortcut::Mute));
        assert_eq!(shortcut("/"), Some(Shortcut::Search));
        assert_eq!(shortcut("x"), None);
    }
}
