//! The root component: state, the engine and the page-wide hooks, and the layout.

use std::rc::Rc;

use tapedeck_protocol::SongId;
use yew::prelude::*;

use crate::components::help::Help;
use crate::components::library::Library;
use crate::components::nerd_stats::NerdStats;
use crate::components::now_playing::NowPlaying;
use crate::components::status::Status;
use crate::components::visualizer::Visualizer;
use crate::engine::Engine;
use crate::hooks::{MediaKeys, Shortcut, use_engine, use_media_session, use_shortcuts};
use crate::state::{Action, Playback, State, select};
use crate::storage;

/// What the player controls do, given the engine and the songs in the order shown.
#[derive(Clone)]
struct Controls {
    engine: Option<Rc<Engine>>,
    ids: Rc<Vec<SongId>>,
    current: Option<SongId>,
}

impl Controls {
    fn run(&self, f: impl Fn(&Engine, &[SongId], Option<SongId>) + 'static) -> Callback<()> {
        let this = self.clone();
        Callback::from(move |()| {
            if let Some(engine) = &this.engine {
                f(engine, &this.ids, this.current);
            }
        })
    }

    /// Pauses or resumes the current song; with none, plays the first one shown.
    fn toggle(&self) -> Callback<()> {
        self.run(|engine, ids, current| match current {
            Some(_) => engine.toggle_pause(),
            None => {
                if let Some(first) = ids.first() {
                    engine.play(*first);
                }
            }
        })
    }

    fn stop(&self) -> Callback<()> {
        self.run(|engine, _, _| engine.stop())
    }

    /// Seeks to a position, in seconds.
    fn seek(&self) -> Callback<f64> {
        let engine = self.engine.clone();
        Callback::from(move |seconds: f64| {
            if let Some(engine) = &engine {
                engine.seek(seconds);
            }
        })
    }

    fn step(&self, by: isize) -> Callback<()> {
        self.run(move |engine, ids, current| {
            if ids.is_empty() {
                return;
            }
            let at = current
                .and_then(|c| ids.iter().position(|&id| id == c))
                .map_or(0, |i| i as isize + by);
            engine.play(ids[at.rem_euclid(ids.len() as isize) as usize]);
        })
    }
}

#[component]
pub fn App() -> Html {
    let state = use_reducer(State::default);
    let dispatch = {
        let dispatcher = state.dispatcher();
        Callback::from(move |action: Action| dispatcher.dispatch(action))
    };
    let engine = use_engine(dispatch.clone());
    use_settings(&state, engine.clone(), dispatch.clone());
    // The app re-renders on every progress tick: filter and sort only when their inputs change,
    // so the library (whose props then stay equal) is not re-rendered either.
    let shown = use_memo(
        (state.songs.clone(), state.query.clone(), state.sort),
        |(songs, query, sort)| {
            let songs = Rc::new(select(songs, query, *sort));
            let ids = Rc::new(songs.iter().map(|s| s.id).collect::<Vec<_>>());
            (songs, ids)
        },
    );
    let (songs, ids) = (*shown).clone();
    let current = state
        .current
        .and_then(|id| state.songs.iter().find(|s| s.id == id).cloned());
    let controls = Controls {
        engine: engine.clone(),
        ids,
        current: state.current,
    };
    let keys = MediaKeys {
        play: controls.toggle(),
        pause: controls.toggle(),
        stop: controls.stop(),
        next: controls.step(1),
        previous: controls.step(-1),
        seek: controls.seek(),
    };
    use_media_session(current.clone(), keys, state.progress);
    use_shortcuts(on_shortcut(&controls, &state, dispatch.clone()));
    let on_play = {
        let engine = engine.clone();
        Callback::from(move |id| {
            if let Some(engine) = &engine {
                engine.play(id);
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
                on_query={dispatch.reform(Action::Query)} on_sort={dispatch.reform(Action::Sort)} />
            <Visualizer analyser={engine.as_ref().and_then(|e| e.analyser())} />
            if state.nerd_stats {
                <NerdStats song={current.clone()} progress={state.progress} />
            }
            if state.help {
                <Help on_close={dispatch.reform(|()| Action::ToggleHelp)} />
            }
            <NowPlaying song={current} playback={if stopped { Playback::Stopped } else { state.playback }}
                progress={state.progress} on_toggle={controls.toggle()} on_stop={controls.stop()}
                on_seek={controls.seek()}
                on_previous={controls.step(-1)} on_next={controls.step(1)}
                on_volume={dispatch.reform(Action::Volume)} volume={state.volume} muted={state.muted}
                shuffle={state.shuffle} repeat={state.repeat}
                on_mute={dispatch.reform(|()| Action::ToggleMute)}
                on_shuffle={dispatch.reform(|()| Action::ToggleShuffle)}
                on_repeat={dispatch.reform(|()| Action::CycleRepeat)}
                on_stats={dispatch.reform(|()| Action::ToggleNerdStats)} />
        </main>
    }
}

fn on_shortcut(
    controls: &Controls,
    state: &State,
    dispatch: Callback<Action>,
) -> Callback<Shortcut> {
    let (toggle, previous, next) = (controls.toggle(), controls.step(-1), controls.step(1));
    let (seek, position) = (controls.seek(), state.progress.position_s);
    let volume = state.volume;
    Callback::from(move |shortcut| match shortcut {
        Shortcut::Toggle => toggle.emit(()),
        Shortcut::Seek(by) => seek.emit((position + f64::from(by)).max(0.0)),
        Shortcut::Previous => previous.emit(()),
        Shortcut::Next => next.emit(()),
        Shortcut::VolumeUp => dispatch.emit(Action::Volume(volume + 0.1)),
        Shortcut::VolumeDown => dispatch.emit(Action::Volume(volume - 0.1)),
        Shortcut::Mute => dispatch.emit(Action::ToggleMute),
        Shortcut::Search => focus_search(),
        Shortcut::Help => dispatch.emit(Action::ToggleHelp),
    })
}

fn focus_search() {
    let search = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(".search").ok().flatten());
    if let Some(search) =
        search.and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
    {
        let _ = search.focus();
    }
}

/// Loads the volume and mute once, then keeps the engine and localStorage in step with them
/// and with the shuffle and repeat modes.
#[hook]
fn use_settings(state: &State, engine: Option<Rc<Engine>>, dispatch: Callback<Action>) {
    use_effect_with((), move |()| {
        let (volume, muted) = storage::load_volume();
        dispatch.emit(Action::Volume(volume));
        if muted {
            dispatch.emit(Action::ToggleMute);
        }
    });
    let settings = (
        engine,
        state.volume,
        state.muted,
        state.shuffle,
        state.repeat,
    );
    use_effect_with(settings, |(engine, volume, muted, shuffle, repeat)| {
        if let Some(engine) = engine {
            engine.set_volume(if *muted { 0.0 } else { *volume });
            engine.set_order(*shuffle, *repeat);
        }
        storage::save_volume(*volume, *muted);
    });
}
