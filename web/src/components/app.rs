//! The root component: state, the engine and the page-wide hooks, and the layout.

use std::rc::Rc;

use tapedeck_protocol::SongInfo;
use yew::prelude::*;

use crate::account::Account;
use crate::browse::View;
use crate::components::album::AlbumView;
use crate::components::albums::AlbumGrid;
use crate::components::artists::ArtistList;
use crate::components::help::Help;
use crate::components::library::Library;
use crate::components::nerd_stats::NerdStats;
use crate::components::now_playing::NowPlaying;
use crate::components::sign_in::SignIn;
use crate::components::status::Status;
use crate::components::tabs::Tabs;
use crate::components::visualizer::Visualizer;
use crate::engine::Engine;
use crate::hooks::{
    MediaKeys, Shortcut, use_engine, use_library, use_media_session, use_shortcuts,
};
use crate::listing::Rows;
use crate::order::{Mode, Step, following};
use crate::state::{Action, Playback, State};
use crate::storage;

/// What the player controls do, given the engine, the rows shown, the current song's place
/// among them and the play order's mode.
#[derive(Clone)]
struct Controls {
    engine: Option<Rc<Engine>>,
    rows: Rows,
    current: Option<SongInfo>,
    cursor: Option<usize>,
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

    /// The place the order gives for `step`.
    fn place(&self, step: Step) -> Option<usize> {
        following(self.rows.len(), self.cursor, self.mode, step)
    }

    /// The song the order gives for `step`, if its page has come (the app fetches the pages
    /// of the places next to the current song's ahead of time).
    fn song(&self, step: Step) -> Option<SongInfo> {
        self.rows.get(self.place(step)?).cloned()
    }

    /// Pauses or resumes the current song; with none, plays the first of the order.
    fn toggle(&self) -> Callback<()> {
        self.run(|engine, this| match &this.current {
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
    let rows = state.rows();
    let controls = Controls {
        engine: engine.clone(),
        rows: rows.clone(),
        current: state.current.clone(),
        cursor: state.cursor,
        mode: state.mode(),
    };
    // The places next to the current song in the play order: their pages are fetched ahead,
    // so "next", "previous" and the gapless look-ahead have their song at hand.
    let around = [Step::Next, Step::Previous, Step::End].map(|step| controls.place(step));
    let on_view = use_library(engine.clone(), &state, around);
    let upcoming = controls.song(Step::End);
    use_upcoming(engine.clone(), upcoming);
    use_queue(engine.clone(), state.queue());
    let current = state.current.clone();
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
        let engine = engine.clone();
        Callback::from(move |song: SongInfo| {
            if let Some(engine) = &engine {
                engine.play(&song);
            }
        })
    };
    let stopped = state.playback == Playback::Stopped && state.current.is_none();
    let leveling = state.leveling;
    let header = html! {
        <header class="top">
            <h1>{ "Tapedeck" }</h1>
            <span class="version">{ format!("version {}", crate::VERSION) }</span>
            <Status connection={state.connection} error={state.error.clone()} />
            { account(&state.account, engine.as_ref()) }
        </header>
    };
    if let Account::SignIn(error) = &state.account {
        let engine = engine.clone();
        let on_sign_in = Callback::from(move |(user, password): (String, String)| {
            if let Some(engine) = &engine {
                engine.sign_in(user, password);
            }
        });
        return html! {
            <main class="tapedeck">
                { header }
                <SignIn error={error.clone()} {on_sign_in} />
            </main>
        };
    }
    html! {
        <main class="tapedeck">
            { header }
            <Tabs view={state.view} on_view={dispatch.reform(|view| match view {
                View::Albums => Action::AlbumsOf(None),
                view => Action::View(view),
            })} />
            { browsing(&state, &dispatch, rows, on_play, on_view) }
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
                on_shuffle={dispatch.reform(|()| Action::ToggleShuffle(crate::order::random_seed()))}
                on_repeat={dispatch.reform(|()| Action::CycleRepeat)}
                leveling={state.leveling}
                on_leveling={dispatch.reform(move |()| Action::SetLeveling(leveling.next()))}
                on_stats={dispatch.reform(|()| Action::ToggleNerdStats)} />
        </main>
    }
}

/// Who is signed in, and the button to sign out (nothing on a server without accounts).
fn account(account: &Account, engine: Option<&Rc<Engine>>) -> Html {
    let Account::SignedIn(Some(user)) = account else {
        return Html::default();
    };
    let engine = engine.cloned();
    let onclick = Callback::from(move |_| {
        if let Some(engine) = &engine {
            engine.sign_out();
        }
    });
    html! {
        <span class="account">
            <span class="user">{ user.clone() }</span>
            <button class="sign-out" {onclick}>{ "Sign out" }</button>
        </span>
    }
}

/// The library part of the page: the songs, the album grid, the artists or an album.
fn browsing(
    state: &State,
    dispatch: &Callback<Action>,
    rows: Rows,
    on_play: Callback<SongInfo>,
    on_view: Callback<(usize, usize)>,
) -> Html {
    let browse = &state.browse;
    match state.view {
        View::Songs => html! {
            <Library rows={rows} query={state.query.clone()} sort={state.sort}
                current={state.current_id()} note={note(state)} shown_query={shown_query(state)}
                on_play={on_play} on_view={on_view}
                on_query={dispatch.reform(Action::Query)} on_sort={dispatch.reform(Action::Sort)} />
        },
        View::Albums => html! {
            <AlbumGrid albums={browse.albums.clone()} artist={browse.albums_of.clone()}
                on_open={dispatch.reform(Action::OpenAlbum)} on_view={on_view}
                on_all={dispatch.reform(|()| Action::AlbumsOf(None))} />
        },
        View::Artists => html! {
            <ArtistList artists={browse.artists.clone()} on_view={on_view}
                on_artist={dispatch.reform(|name| Action::AlbumsOf(Some(name)))} />
        },
        View::Album => html! {
            <AlbumView album={browse.album.as_ref().and_then(|(_, album)| album.clone())}
                current={state.current_id()} on_play={on_play}
                on_back={dispatch.reform(|()| Action::View(View::Albums))}
                on_artist={dispatch.reform(|name| Action::AlbumsOf(Some(name)))} />
        },
    }
}

/// The query the rows shown answer: empty for the library.
fn shown_query(state: &State) -> String {
    if crate::listing::query_words(&state.query).is_empty() {
        return String::new();
    }
    state
        .found
        .as_ref()
        .map(|f| f.query.clone())
        .unwrap_or_default()
}

/// The line under the search box: what the rows are, when they are not simply the library.
fn note(state: &State) -> Option<String> {
    let query = crate::listing::query_words(&state.query);
    if query.is_empty() {
        return state
            .library
            .total
            .is_none()
            .then(|| "Loading the library…".to_owned());
    }
    let searching = state.found.as_ref().is_none_or(|f| f.query != query);
    let found = state.found.as_ref();
    let (total, shown) = found.map_or((0, 0), |f| (f.total, f.songs.len()));
    Some(match (searching, total) {
        (true, _) if found.is_none() => "Searching…".to_owned(),
        (_, 0) => "No song matches.".to_owned(),
        _ if shown < total => format!("The best {shown} of {total} matches."),
        _ if total == 1 => "1 match.".to_owned(),
        _ => format!("{total} matches."),
    })
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
        // The search box is in the songs' view: shown first, focused once it is drawn.
        Shortcut::Search => {
            dispatch.emit(Action::View(View::Songs));
            gloo_timers::callback::Timeout::new(0, focus_search).forget();
        }
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

/// Tells the engine which song comes after the current one, whenever the answer changes.
#[hook]
fn use_upcoming(engine: Option<Rc<Engine>>, upcoming: Option<SongInfo>) {
    use_effect_with((engine, upcoming), |(engine, upcoming)| {
        if let Some(engine) = engine {
            engine.set_upcoming(upcoming.clone());
        }
    });
}

/// Tells the engine the queue shown, for the place it saves.
#[hook]
fn use_queue(engine: Option<Rc<Engine>>, queue: tapedeck_protocol::Queue) {
    use_effect_with((engine, queue), |(engine, queue)| {
        if let Some(engine) = engine {
            engine.set_queue(queue.clone());
        }
    });
}

/// Loads the volume, mute and ReplayGain setting once, then keeps the engine and localStorage
/// in step with them.
#[hook]
fn use_settings(state: &State, engine: Option<Rc<Engine>>, dispatch: Callback<Action>) {
    use_effect_with((), move |()| {
        let (volume, muted) = storage::load_volume();
        dispatch.emit(Action::Volume(volume));
        if muted {
            dispatch.emit(Action::ToggleMute);
        }
        dispatch.emit(Action::SetLeveling(storage::load_leveling()));
    });
    let engine_for_leveling = engine.clone();
    let settings = (engine, state.volume, state.muted);
    use_effect_with(settings, |(engine, volume, muted)| {
        if let Some(engine) = engine {
            engine.set_volume(if *muted { 0.0 } else { *volume });
        }
        storage::save_volume(*volume, *muted);
    });
    let leveling = (engine_for_leveling, state.leveling);
    use_effect_with(leveling, |(engine, leveling)| {
        if let Some(engine) = engine {
            engine.set_leveling(*leveling);
        }
        storage::save_leveling(*leveling);
    });
}
