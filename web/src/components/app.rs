//! The root component: state, the engine, and the layout.

use std::rc::Rc;

use tapedeck_protocol::SongId;
use yew::prelude::*;

use crate::components::library::Library;
use crate::components::now_playing::NowPlaying;
use crate::components::status::Status;
use crate::engine::Engine;
use crate::hooks::use_engine;
use crate::state::{Action, Playback, State, visible};

#[component]
pub fn App() -> Html {
    let state = use_reducer(State::default);
    let dispatch = {
        let dispatcher = state.dispatcher();
        Callback::from(move |action: Action| dispatcher.dispatch(action))
    };
    let engine = use_engine(dispatch.clone());
    let songs = Rc::new(visible(&state));
    let current = state
        .current
        .and_then(|id| state.songs.iter().find(|s| s.id == id).cloned());
    let command = |f: fn(&Engine, &[SongId], Option<SongId>)| {
        let (engine, ids, current) = (
            engine.clone(),
            songs.iter().map(|s| s.id).collect::<Vec<_>>(),
            state.current,
        );
        Callback::from(move |()| {
            if let Some(engine) = &engine {
                f(engine, &ids, current);
            }
        })
    };
    let on_play = {
        let engine = engine.clone();
        Callback::from(move |id| {
            if let Some(engine) = &engine {
                engine.play(id);
            }
        })
    };
    let on_volume = {
        let engine = engine.clone();
        Callback::from(move |volume| {
            if let Some(engine) = &engine {
                engine.set_volume(volume);
            }
        })
    };
    let stopped = state.playback == Playback::Stopped && state.current.is_none();
    html! {
        <main class="tapedeck">
            <header class="top">
                <h1>{ "Tapedeck" }</h1>
                <span class="version">{ format!("version {}", crate::VERSION) }</span>
                <Status connection={state.connection} error={state.error.clone()} />
            </header>
            <Library songs={songs.clone()} query={state.query.clone()} sort={state.sort}
                current={state.current} on_play={on_play}
                on_query={dispatch.reform(Action::Query)}
                on_sort={dispatch.reform(Action::Sort)} />
            <NowPlaying song={current} playback={if stopped { Playback::Stopped } else { state.playback }}
                progress={state.progress}
                on_toggle={command(|engine, ids, current| match current {
                    Some(_) => engine.stop(),
                    None => if let Some(first) = ids.first() { engine.play(*first) },
                })}
                on_previous={command(|engine, ids, current| step(engine, ids, current, -1))}
                on_next={command(|engine, ids, current| step(engine, ids, current, 1))}
                on_volume={on_volume} />
        </main>
    }
}

/// Plays the song `by` places from the current one in the shown order, wrapping around.
fn step(engine: &Engine, ids: &[SongId], current: Option<SongId>, by: isize) {
    if ids.is_empty() {
        return;
    }
    let at = current
        .and_then(|c| ids.iter().position(|&id| id == c))
        .map_or(0, |i| i as isize + by);
    let len = ids.len() as isize;
    engine.play(ids[at.rem_euclid(len) as usize]);
}
