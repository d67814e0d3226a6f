//! The operating system's media controls (Media Session API): the current song's title, artist
//! and album, and play, stop, next and previous handlers.

use js_sys::{Array, Function, Object, Reflect};
use tapedeck_protocol::SongInfo;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use yew::prelude::*;

/// Handlers for the media keys.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaKeys {
    pub play: Callback<()>,
    pub stop: Callback<()>,
    pub next: Callback<()>,
    pub previous: Callback<()>,
}

/// Keeps `navigator.mediaSession` in step with the current song, where the browser has it.
#[hook]
pub fn use_media_session(song: Option<SongInfo>, keys: MediaKeys) {
    use_effect_with(song, |song| {
        if let Some(session) = media_session() {
            let metadata = song.as_ref().and_then(metadata).unwrap_or(JsValue::NULL);
            let _ = Reflect::set(&session, &"metadata".into(), &metadata);
        }
    });
    use_effect_with(keys, |keys| {
        let handlers: Vec<Closure<dyn Fn()>> = [
            ("play", keys.play.clone()),
            ("pause", keys.stop.clone()),
            ("stop", keys.stop.clone()),
            ("nexttrack", keys.next.clone()),
            ("previoustrack", keys.previous.clone()),
        ]
        .into_iter()
        .filter_map(|(action, callback)| set_handler(action, callback))
        .collect();
        move || {
            for action in ["play", "pause", "stop", "nexttrack", "previoustrack"] {
                clear_handler(action);
            }
            drop(handlers);
        }
    });
}

fn media_session() -> Option<Object> {
    let navigator = Reflect::get(&JsValue::from(web_sys::window()?), &"navigator".into()).ok()?;
    Reflect::get(&navigator, &"mediaSession".into())
        .ok()?
        .dyn_into()
        .ok()
}

fn metadata(song: &SongInfo) -> Option<JsValue> {
    let constructor: Function =
        Reflect::get(&JsValue::from(web_sys::window()?), &"MediaMetadata".into())
            .ok()?
            .dyn_into()
            .ok()?;
    let init = Object::new();
    for (key, value) in [
        ("title", &song.title),
        ("artist", &song.artist),
        ("album", &song.album),
    ] {
        let _ = Reflect::set(&init, &key.into(), &value.into());
    }
    Reflect::construct(&constructor, &Array::of1(&init)).ok()
}

fn set_handler(action: &str, callback: Callback<()>) -> Option<Closure<dyn Fn()>> {
    let session = media_session()?;
    let set: Function = Reflect::get(&session, &"setActionHandler".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let handler = Closure::<dyn Fn()>::new(move || callback.emit(()));
    set.call2(&session, &action.into(), handler.as_ref()).ok()?;
    Some(handler)
}

fn clear_handler(action: &str) {
    let Some(session) = media_session() else {
        return;
    };
    if let Ok(set) =
        Reflect::get(&session, &"setActionHandler".into()).and_then(|f| f.dyn_into::<Function>())
    {
        let _ = set.call2(&session, &action.into(), &JsValue::NULL);
    }
}
