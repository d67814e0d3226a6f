//! `use_engine`: starts the session with the bridge on mount, exposes `window.tapedeck` for
//! automation (`stats()`, `seek(seconds)`, `capture(seconds)`), and shuts everything down on
//! unmount.

use std::rc::Rc;

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use yew::prelude::*;

use crate::engine::Engine;
use crate::state::Action;

/// The engine, once mounted.
#[hook]
pub fn use_engine(dispatch: Callback<Action>) -> Option<Rc<Engine>> {
    let engine = use_state(|| None::<Rc<Engine>>);
    {
        let engine = engine.clone();
        use_effect_with((), move |()| {
            let started = Engine::start(dispatch);
            let stats = install_stats(&started);
            engine.set(Some(started.clone()));
            move || {
                uninstall_stats();
                drop(stats);
                started.shut_down();
            }
        });
    }
    (*engine).clone()
}

/// The functions `window.tapedeck` holds, kept alive while it does.
struct Api {
    _stats: Closure<dyn Fn() -> JsValue>,
    _seek: Closure<dyn Fn(f64)>,
    _capture: Closure<dyn Fn(f64) -> js_sys::Promise>,
}

/// Defines `window.tapedeck`: `stats()`, returning a plain object
/// `{state, song, position_s, duration_s, buffered_s, underruns, first_sound_ms, bytes,
/// wasm_bytes}` (the last: the WebAssembly heap, for benchmarks);
/// `seek(seconds)`, which moves the current song there; and `capture(seconds)`, a promise of
/// `{rate, samples}`: the page's output, first channel, recorded in real time from the call.
fn install_stats(engine: &Rc<Engine>) -> Api {
    let weak = Rc::downgrade(engine);
    let stats = Closure::<dyn Fn() -> JsValue>::new(move || {
        weak.upgrade()
            .map_or(JsValue::NULL, |engine| stats_object(&engine).into())
    });
    let weak = Rc::downgrade(engine);
    let seek = Closure::<dyn Fn(f64)>::new(move |seconds: f64| {
        if let Some(engine) = weak.upgrade().filter(|_| seconds.is_finite()) {
            engine.seek(seconds);
        }
    });
    let weak = Rc::downgrade(engine);
    let capture = Closure::<dyn Fn(f64) -> js_sys::Promise>::new(move |seconds: f64| {
        match weak
            .upgrade()
            .filter(|_| seconds.is_finite() && seconds >= 0.0)
        {
            Some(engine) => engine.capture(seconds),
            None => js_sys::Promise::reject(&"capture(seconds) takes a number of seconds".into()),
        }
    });
    let api = Object::new();
    for (name, function) in [
        ("stats", stats.as_ref().unchecked_ref::<Function>()),
        ("seek", seek.as_ref().unchecked_ref::<Function>()),
        ("capture", capture.as_ref().unchecked_ref::<Function>()),
    ] {
        let _ = Reflect::set(&api, &name.into(), function);
    }
    if let Some(window) = web_sys::window() {
        let _ = Reflect::set(&window, &"tapedeck".into(), &api);
    }
    Api {
        _stats: stats,
        _seek: seek,
        _capture: capture,
    }
}

fn uninstall_stats() {
    if let Some(window) = web_sys::window() {
        let _ = Reflect::delete_property(&window, &"tapedeck".into());
    }
}

fn stats_object(engine: &Engine) -> Object {
    let (playback, stats) = engine.stats();
    let object = Object::new();
    let set = |key: &str, value: JsValue| {
        let _ = Reflect::set(&object, &key.into(), &value);
    };
    set("state", playback.as_str().into());
    set(
        "song",
        engine
            .current()
            .map_or(JsValue::NULL, |id| f64::from(id.0).into()),
    );
    set("position_s", stats.position_s.into());
    set(
        "duration_s",
        stats.duration_s.map_or(JsValue::NULL, JsValue::from),
    );
    set("buffered_s", stats.buffered_s.into());
    set("underruns", stats.underruns.into());
    set(
        "first_sound_ms",
        stats.first_sound_ms.map_or(JsValue::NULL, JsValue::from),
    );
    set("bytes", (stats.bytes as f64).into());
    set("wasm_bytes", wasm_bytes().into());
    object
}

/// The WebAssembly heap's size: it only grows, so it is also the peak.
fn wasm_bytes() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    f64::from(
        memory
            .buffer()
            .unchecked_into::<js_sys::ArrayBuffer>()
            .byte_length(),
    )
}
