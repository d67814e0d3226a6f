//! The operating system's media controls (Media Session API): the current song's title, artist
//! and album, its position, and the play, pause, stop, next, previous and seek handlers.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Reflect};
use tapedeck_protocol::SongInfo;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use yew::prelude::*;

use crate::state::Progress;

/// Handlers for the media keys.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaKeys {
    pub play: Callback<()>,
    pub pause: Callback<()>,
    pub stop: Callback<()>,
    pub next: Callback<()>,
    pub previous: Callback<()>,
    /// A seek to this many seconds into the song.
    pub seek: Callback<f64>,
}

/// What `seekforward` and `seekbackward` skip when the browser names no offset, in seconds.
const DEFAULT_SKIP_S: f64 = 10.0;

/// The actions this hook handles.
const ACTIONS: [&str; 8] = [
    "play",
    "pause",
    "stop",
    "nexttrack",
    "previoustrack",
    "seekto",
    "seekforward",
    "seekbackward",
];

/// Keeps `navigator.mediaSession` in step with the current song, where the browser has it.
#[hook]
pub fn use_media_session(song: Option<SongInfo>, keys: MediaKeys, progress: Progress) {
    use_effect_with(song, |song| {
        if let Some(session) = media_session() {
            let metadata = song.as_ref().and_then(metadata).unwrap_or(JsValue::NULL);
            let _ = Reflect::set(&session, &"metadata".into(), &metadata);
        }
    });
    // The OS scrubber: told the position once a second (and at each seek), not at every tick.
    let whole_seconds = (
        progress.position_s.floor() as i64,
        progress.duration_s as i64,
    );
    use_effect_with(whole_seconds, move |_| set_position(progress));
    // Where the song is now, for the relative seeks: read when a key comes, not captured.
    let position = use_mut_ref(|| 0.0);
    *position.borrow_mut() = progress.position_s;
    use_effect_with(keys, move |keys| {
        let handlers = handlers(keys, position);
        move || {
            for action in ACTIONS {
                clear_handler(action);
            }
            drop(handlers);
        }
    });
}

/// Installs a handler for every action in [`ACTIONS`]; `position` holds where the song is,
/// for the relative seeks.
fn handlers(keys: &MediaKeys, position: Rc<RefCell<f64>>) -> Vec<Closure<dyn Fn(JsValue)>> {
    let plain = [
        ("play", keys.play.clone()),
        ("pause", keys.pause.clone()),
        ("stop", keys.stop.clone()),
        ("nexttrack", keys.next.clone()),
        ("previoustrack", keys.previous.clone()),
    ];
    let seek = keys.seek.clone();
    let by = move |sign: f64| {
        let position = position.clone();
        move |d: JsValue| {
            let offset = number(&d, "seekOffset").unwrap_or(DEFAULT_SKIP_S);
            (*position.borrow() + sign * offset).max(0.0)
        }
    };
    let seeks: [(&str, Callback<JsValue>); 3] = [
        (
            "seekto",
            seek.reform(|d| number(&d, "seekTime").unwrap_or(0.0)),
        ),
        ("seekforward", seek.reform(by(1.0))),
        ("seekbackward", seek.reform(by(-1.0))),
    ];
    plain
        .into_iter()
        .map(|(action, callback)| (action, callback.reform(|_: JsValue| ())))
        .chain(seeks)
        .filter_map(|(action, callback)| set_handler(action, callback))
        .collect()
}

/// A number member of a handler's details object.
fn number(details: &JsValue, key: &str) -> Option<f64> {
    Reflect::get(details, &key.into()).ok()?.as_f64()
}

/// `navigator.mediaSession.setPositionState`, where the browser has it.
fn set_position(progress: Progress) {
    let Some(session) = media_session() else {
        return;
    };
    let Ok(set) =
        Reflect::get(&session, &"setPositionState".into()).and_then(|f| f.dyn_into::<Function>())
    else {
        return;
    };
    if progress.duration_s <= 0.0 {
        let _ = set.call0(&session);
        return;
    }
    let state = Object::new();
    let position = progress.position_s.clamp(0.0, progress.duration_s);
    for (key, value) in [
        ("duration", progress.duration_s),
        ("position", position),
        ("playbackRate", 1.0),
    ] {
        let _ = Reflect::set(&state, &key.into(), &value.into());
    }
    let _ = set.call1(&session, &state);
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
    if song.art {
        let artwork = Object::new();
        let src = crate::components::library::art_url(song, 512);
        let _ = Reflect::set(&artwork, &"src".into(), &src.into());
        let _ = Reflect::set(&artwork, &"sizes".into(), &"512x512".into());
        let _ = Reflect::set(&artwork, &"type".into(), &"image/jpeg".into());
        let _ = Reflect::set(&init, &"artwork".into(), &Array::of1(&artwork));
    }
    Reflect::construct(&constructor, &Array::of1(&init)).ok()
}

fn set_handler(action: &str, callback: Callback<JsValue>) -> Option<Closure<dyn Fn(JsValue)>> {
    let session = media_session()?;
    let set: Function = Reflect::get(&session, &"setActionHandler".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let handler = Closure::<dyn Fn(JsValue)>::new(move |details| callback.emit(details));
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
