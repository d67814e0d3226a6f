//! The root component: state, the engine and the page-wide hooks, and the layout.

use std::rc::Rc;

use tapedeck_protocol::{SongId, SongInfo};
use yew::prelude::*;

use crate::components::help::Help;
use crate::components::library::Library;
use crate::components::nerd_stats::NerdStats;
use crate::components::now_playing::NowPlaying;
use crate::components::status::Status;
use crate::components::visualizer::Visualizer;
use crate::engine::Engine;
use crate::hooks::{MediaKeys, Shortcut, use_engine, use_media_session, use_shortcuts};
use crate::order::{Mode, Step, following};
use crate::state::{Action, Playback, State, select};
use crate::storage;

/// What the player controls do, given the engine, the songs in the order shown and the
/// play order's mode.
#[derive(Clone)]
struct Controls {
    engine: Option<Rc<Engine>>,
    songs: Rc<Vec<SongInfo>>,
    ids: Rc<Vec<SongId>>,
    current: Option<SongId>,
    mode: Mode,
}

impl Controls {
    fn run(&self, f: impl Fn(&Engine, &Controls) + 'static) -> Callback<()> {
        let this = self.clone();
        Callback::from(move |()| {
            if let Some(engine) = &this.engine {
                f(engine, &this);
            }
        })
    }

    /// The song the order gives for `step`.
    fn song(&self, step: Step) -> Option<SongInfo> {
        let id = following(&self.ids, self.current, self.mode, step)?;
        self.songs.iter().find(|s| s.id == id).cloned()
    }

    /// Pauses or resumes the current song; with none, plays the first of the order.
    fn toggle(&self) -> Callback<()> {
        self.run(|engine, this| match this.current {
            Some(_) => engine.toggle_pause(),
            None => {
                if let Some(first) = this.song(Step::Next) {
                    engine.play(&first);
                }
            }
        })
    }

    fn stop(&self) -> Callback<()> {
        self.run(|engine, _| engine.stop())
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

    fn step(&self, step: Step) -> Callback<()> {
        self.run(move |engine, this| {
            if let Some(song) = this.song(step) {
                engine.play(&song);
            }
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
        songs: songs.clone(),
        ids,
        current: state.current,
        mode: state.mode(),
    };
    // Asked on every render (each progress tick): computed only when its inputs change.
    let upcoming = use_memo(
        (controls.ids.clone(), state.current, state.mode()),
        |(ids, current, mode)| following(ids, *current, *mode, Step::End),
    );
    let upcoming = (*upcoming).and_then(|id| songs.iter().find(|s| s.id == id).cloned());
    use_upcoming(engine.clone(), upcoming);
    let keys = MediaKeys {
        play: controls.toggle(),
        pause: controls.toggle(),
        stop: controls.stop(),
        next: controls.step(Step::Next),
        previous: controls.step(Step::Previous),
        seek: controls.seek(),
    };
    use_media_session(current.clone(), keys, state.progress);
    use_shortcuts(on_shortcut(&controls, &state, dispatch.clone()));
    let on_play = {
        let (engine, songs) = (engine.clone(), songs.clone());
        Callback::from(move |id: SongId| {
            let song = songs.iter().find(|s| s.id == id);
            if let (Some(engine), Some(song)) = (&engine, song) {
                engine.play(song);
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
                on_previous={controls.step(Step::Previous)} on_next={controls.step(Step::Next)}
                on_volume={dispatch.reform(Action::Volume)} volume={state.volume} muted={state.muted}
                shuffle={state.shuffle} repeat={state.repeat}
                on_mute={dispatch.reform(|()| Action::ToggleMute)}
                on_shuffle={dispatch.reform(|()| Action::ToggleShuffle(random_seed()))}
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
    let (toggle, previous, next) = (
        controls.toggle(),
        controls.step(Step::Previous),
        controls.step(Step::Next),
    );
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

/// A seed for a new shuffle order.
fn random_seed() -> u64 {
    (js_sys::Math::random() * 2f64.powi(53)) as u64
}

/// Tells the engine which song comes after the current one, whenever the answer changes.
#[hook]
fn use_upcoming(engine: Option<Rc<Engine>>, upcoming: Option<SongInfo>) {
    use_effect_with((engine, upcoming), |(engine, upcoming)| {
        if let Some(engine) = engine {
            engine.set_upcoming(upcoming.clone());
        }
    });
}

/// Loads the volume and mute once, then keeps the engine and localStorage in step with them.
#[hook]
fn use_settings(state: &State, engine: Option<Rc<Engine>>, dispatch: Callback<Action>) {
    use_effect_with((), move |()| {
        let (volume, muted) = storage::load_volume();
        dispatch.emit(Action::Volume(volume));
        if muted {
            dispatch.emit(Action::ToggleMute);
        }
    });
    let settings = (engine, state.volume, state.muted);
    use_effect_with(settings, |(engine, volume, muted)| {
        if let Some(engine) = engine {
            engine.set_volume(if *muted { 0.0 } else { *volume });
        }
        storage::save_volume(*volume, *muted);
    });
}
