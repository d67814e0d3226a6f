//! The session with the bridge: one WebSocket, its replies matched to commands in order, the
//! player fed with each play's audio, reconnection with backoff. It reports to the UI only
//! through [`Action`]s; it knows nothing about components.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use gloo_timers::callback::{Interval, Timeout};
use tapedeck_protocol::{Command, Event, Reply, SongId, SongInfo};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{BinaryType, MessageEvent, WebSocket};
use yew::Callback;

use crate::player::{Origin, Output, Player, PlayerError, Stats};
use crate::state::{Action, Connection, Playback, Progress, Repeat};

/// How often the player is pumped and the progress shown.
const TICK_MS: u32 = 100;
/// The longest wait between reconnection attempts.
const MAX_BACKOFF_S: u32 = 10;

/// A socket event handler, kept alive as long as its socket.
type Handler = Closure<dyn FnMut(MessageEvent)>;

/// The app's connection and player.
pub struct Engine {
    dispatch: Callback<Action>,
    socket: RefCell<Option<WebSocket>>,
    /// Commands sent whose replies have not come, oldest first.
    pending: RefCell<VecDeque<Command>>,
    player: RefCell<Player>,
    songs: RefCell<Vec<SongInfo>>,
    current: Cell<Option<SongId>>,
    /// When the user asked for the latest play (`performance.now()`), for time to first sound.
    asked_at: Cell<f64>,
    /// Whether the play asked for last starts paused (a seek while paused stays paused).
    start_paused: Cell<bool>,
    /// The current play's stream was given up while paused (more than the player may hold
    /// would have piled up): resuming asks for the song again from where it stands.
    dropped: Cell<bool>,
    /// The connection dropped during a song: once it is back, the song goes on from where
    /// the listener is by then (the player plays what it had meanwhile).
    resume: Cell<bool>,
    playback: Cell<Playback>,
    /// What to play at the end of a song: (shuffle, repeat).
    order: Cell<(bool, Repeat)>,
    backoff_s: Cell<u32>,
    /// Keeps the socket's callbacks, the timer and a pending reconnection alive.
    handlers: RefCell<Vec<Handler>>,
    ticker: RefCell<Option<Interval>>,
    retry: RefCell<Option<Timeout>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("current", &self.current.get())
            .finish_non_exhaustive()
    }
}

/// Engines are the same when they are the same one (for hook dependencies).
impl PartialEq for Engine {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Engine {
    /// Connects, and starts the player's timer.
    pub fn start(dispatch: Callback<Action>) -> Rc<Self> {
        let engine = Rc::new(Self {
            dispatch,
            socket: RefCell::default(),
            pending: RefCell::default(),
            player: RefCell::new(Player::new(Output::Live)),
            songs: RefCell::default(),
            current: Cell::new(None),
            asked_at: Cell::new(0.0),
            start_paused: Cell::new(false),
            dropped: Cell::new(false),
            resume: Cell::new(false),
            playback: Cell::new(Playback::Stopped),
            order: Cell::new((false, Repeat::Off)),
            backoff_s: Cell::new(1),
            handlers: RefCell::default(),
            ticker: RefCell::default(),
            retry: RefCell::default(),
        });
        let weak = Rc::downgrade(&engine);
        *engine.ticker.borrow_mut() =
            Some(Interval::new(TICK_MS, move || with(&weak, Engine::tick)));
        engine.connect();
        engine
    }

    /// Closes everything (on unmount).
    pub fn shut_down(&self) {
        self.ticker.borrow_mut().take();
        self.retry.borrow_mut().take();
        self.with_player(Player::stop);
        let socket = self.socket.borrow_mut().take();
        if let Some(socket) = socket {
            socket.set_onclose(None);
            let _ = socket.close();
        }
    }

    pub fn play(&self, id: SongId) {
        self.play_from(id, None, false);
    }

    /// Plays `id` from `from_s` seconds (PROTOCOL.md 5.4.1), or from its start; paused there if
    /// `paused`.
    fn play_from(&self, id: SongId, from_s: Option<f64>, paused: bool) {
        self.asked_at.set(crate::player::now_ms());
        self.start_paused.set(paused);
        self.dropped.set(false);
        self.with_player(Player::stop);
        let ms = from_s.map(|s| (s.max(0.0) * 1000.0).round().min(f64::from(u32::MAX)) as u32);
        self.send(Command::Play(id, ms));
    }

    /// Moves the current song to `seconds`, staying paused if it is. The player asks for the
    /// song from there: the server sends what decodes on its own from that position.
    pub fn seek(&self, seconds: f64) {
        let Some(id) = self.current.get() else {
            return;
        };
        let (paused, duration) = {
            let player = self.player.borrow();
            (player.is_paused(), player.stats().duration_s)
        };
        // Past the end there is nothing to play: the last moment of the song instead.
        let seconds = duration.map_or(seconds, |d| seconds.min((d - 0.1).max(0.0)));
        self.play_from(id, Some(seconds), paused);
    }

    /// Pauses the current song, or resumes it: from the buffered audio when it is still
    /// there, else by asking for the song again from where it stands.
    pub fn toggle_pause(&self) {
        let paused = self.player.borrow().is_paused();
        match (paused, self.dropped.get(), self.current.get()) {
            (false, _, Some(_)) => self.with_player(|p| p.set_paused(true)),
            (true, true, Some(id)) => {
                let at = self.player.borrow().stats().position_s;
                self.play_from(id, Some(at), false);
            }
            (true, false, Some(_)) => self.with_player(|p| p.set_paused(false)),
            (_, _, None) => {}
        }
    }

    pub fn stop(&self) {
        self.with_player(Player::stop);
        self.current.set(None);
        self.dispatch.emit(Action::Current(None));
        self.send(Command::Stop);
    }

    /// Lets the current play's stream go while paused; what was buffered stays, and resuming
    /// asks for the song again from where it stands.
    fn drop_stream(&self) {
        if !self.dropped.replace(true) {
            self.send(Command::Stop);
        }
    }

    /// Gives up on the current play: silence, the reason shown, the server told to stop
    /// sending. The next click plays as usual.
    fn fail(&self, reason: String) {
        self.stop();
        self.dispatch.emit(Action::Error(Some(reason)));
    }

    /// Runs `f` on the player. The borrow ends when `f` returns: nothing that may call back
    /// into the engine (a dispatch can render at once, and rendering asks the engine about
    /// the player) may happen while it lasts.
    fn with_player<R>(&self, f: impl FnOnce(&mut Player) -> R) -> R {
        f(&mut self.player.borrow_mut())
    }

    /// What to play when a song ends.
    pub fn set_order(&self, shuffle: bool, repeat: Repeat) {
        self.order.set((shuffle, repeat));
    }

    pub fn set_volume(&self, volume: f32) {
        self.player.borrow_mut().set_volume(volume);
    }

    /// The analyser tap of the current audio graph, for a visualizer.
    pub fn analyser(&self) -> Option<web_sys::AnalyserNode> {
        self.player.borrow().analyser()
    }

    pub fn current(&self) -> Option<SongId> {
        self.current.get()
    }

    /// The current play's figures, and its state.
    pub fn stats(&self) -> (Playback, Stats) {
        (self.playback.get(), self.player.borrow().stats())
    }

    fn send(&self, command: Command) {
        let socket = self.socket.borrow().clone();
        let Some(socket) = socket.filter(|s| s.ready_state() == WebSocket::OPEN) else {
            return self
                .dispatch
                .emit(Action::Error(Some("not connected".into())));
        };
        if socket.send_with_str(&command.to_string()).is_ok() {
            self.pending.borrow_mut().push_back(command);
        }
    }

    fn connect(self: &Rc<Self>) {
        self.dispatch
            .emit(Action::Connection(Connection::Connecting));
        let Some(url) = socket_url() else { return };
        let Ok(socket) = WebSocket::new(&url) else {
            return self.lost();
        };
        socket.set_binary_type(BinaryType::Arraybuffer);
        let weak = Rc::downgrade(self);
        let on_message = Handler::new({
            let weak = weak.clone();
            move |event: MessageEvent| with(&weak, |e| e.on_message(&event))
        });
        let on_open = Handler::new({
            let weak = weak.clone();
            move |_| with(&weak, Engine::on_open)
        });
        let on_close = Handler::new(move |_| {
            if let Some(engine) = weak.upgrade() {
                engine.on_close();
            }
        });
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        *self.handlers.borrow_mut() = vec![on_message, on_open, on_close];
        *self.socket.borrow_mut() = Some(socket);
    }

    fn on_open(&self) {
        self.backoff_s.set(1);
        self.pending.borrow_mut().clear();
        self.dispatch
            .emit(Action::Connection(Connection::Connected));
        self.dispatch.emit(Action::Error(None));
        self.send(Command::Info(None));
        if let Some(id) = self.current.get().filter(|_| self.resume.take()) {
            let (position, paused) = {
                let player = self.player.borrow();
                (player.stats().position_s, player.is_paused())
            };
            self.play_from(id, Some(position), paused);
        }
    }

    /// The connection is gone: the song, if one plays, keeps playing what the player holds,
    /// and goes on from there once the connection is back.
    fn on_close(self: &Rc<Self>) {
        self.socket.borrow_mut().take();
        self.pending.borrow_mut().clear();
        self.resume.set(self.current.get().is_some());
        self.lost();
    }

    /// Waits, then tries again; the wait doubles up to [`MAX_BACKOFF_S`].
    fn lost(self: &Rc<Self>) {
        let wait = self.backoff_s.get();
        self.backoff_s.set((wait * 2).min(MAX_BACKOFF_S));
        self.dispatch
            .emit(Action::Connection(Connection::Disconnected {
                retry_s: wait,
            }));
        let weak = Rc::downgrade(self);
        let retry = Timeout::new(wait * 1000, move || {
            if let Some(engine) = weak.upgrade() {
                engine.connect();
            }
        });
        *self.retry.borrow_mut() = Some(retry);
    }

    fn on_message(&self, event: &MessageEvent) {
        let data = event.data();
        if let Some(text) = data.as_string() {
            return self.on_text(&text);
        }
        if let Ok(buffer) = data.dyn_into::<js_sys::ArrayBuffer>() {
            let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
            let pushed = self.with_player(|player| player.push(bytes).and_then(|()| player.pump()));
            match pushed {
                Ok(()) => {}
                Err(PlayerError::Backlog) if self.player.borrow().is_paused() => self.drop_stream(),
                Err(err) => self.fail(err.to_string()),
            }
        }
    }

    fn on_text(&self, text: &str) {
        match Event::parse(text) {
            Some(Event::End) => self.with_player(Player::finish),
            Some(Event::Error(reason)) => {
                // A play cut short: play what came, then end (no more will come).
                self.with_player(Player::finish);
                self.dispatch.emit(Action::Error(Some(reason)));
            }
            None => {
                let command = self.pending.borrow_mut().pop_front();
                if let Some(command) = command {
                    self.on_reply(command, text);
                }
            }
        }
    }

    fn on_reply(&self, command: Command, line: &str) {
        match (command, Reply::parse(&command, line)) {
            (_, Ok(Reply::Error(reason))) => self.dispatch.emit(Action::Error(Some(reason))),
            (_, Ok(Reply::Info(songs))) => {
                *self.songs.borrow_mut() = songs.clone();
                self.dispatch.emit(Action::Library(songs));
            }
            (Command::Play(id, ms), Ok(Reply::Port { skip, .. })) => {
                let origin = Origin {
                    start_s: ms.map_or(0.0, |ms| f64::from(ms) / 1000.0),
                    skip: skip.unwrap_or(0),
                };
                self.begin(id, origin);
            }
            (_, Err(err)) => self.dispatch.emit(Action::Error(Some(err.to_string()))),
            _ => {}
        }
    }

    /// A play's audio is about to flow: start the player for that song.
    fn begin(&self, id: SongId, origin: Origin) {
        let (format, duration) = {
            let songs = self.songs.borrow();
            let song = songs.iter().find(|s| s.id == id);
            let format = song.map(|s| s.format.clone());
            let duration = song.map(|s| s.duration_ms as f64 / 1000.0);
            (format, duration.filter(|d| *d > 0.0))
        };
        let (asked_at, paused) = (self.asked_at.get(), self.start_paused.get());
        self.with_player(|player| {
            player.start(format.as_deref(), duration, origin);
            player.requested_at(asked_at);
            player.set_paused(paused);
        });
        self.current.set(Some(id));
        self.dispatch.emit(Action::Current(Some(id)));
        self.dispatch.emit(Action::Error(None));
    }

    /// Pumps the player, reports progress, and moves on at the end of a song.
    fn tick(&self) {
        // The pump's result is taken before anything else: the player's borrow ends with the
        // statement (an `if let` on it would hold the borrow through its body).
        let pumped = self.with_player(Player::pump);
        if let Err(err) = pumped {
            self.fail(err.to_string());
        }
        let Some(id) = self.current.get() else {
            return self.report(Playback::Stopped, Progress::default());
        };
        let done = self.player.borrow().is_done();
        if done {
            return match self.after(id) {
                Some(next) => self.play(next),
                None => self.stop(),
            };
        }
        let (stats, paused) = {
            let player = self.player.borrow();
            (player.stats(), player.is_paused())
        };
        let playback = if paused {
            Playback::Paused
        } else if stats.playing {
            Playback::Playing
        } else {
            Playback::Buffering
        };
        let progress = Progress {
            position_s: stats.position_s,
            duration_s: stats.duration_s.unwrap_or(0.0),
            buffered_s: stats.buffered_s,
            underruns: stats.underruns,
            first_sound_ms: stats.first_sound_ms,
            bytes: stats.bytes,
        };
        self.report(playback, progress);
    }

    fn report(&self, playback: Playback, progress: Progress) {
        self.playback.set(playback);
        self.dispatch.emit(Action::Playback(playback, progress));
    }

    /// What plays after `id` ends: the same song (repeat one), a random other one (shuffle),
    /// or the next in the library, wrapping around only with repeat all.
    fn after(&self, id: SongId) -> Option<SongId> {
        let songs = self.songs.borrow();
        let (shuffle, repeat) = self.order.get();
        if repeat == Repeat::One || songs.len() < 2 && repeat == Repeat::All {
            return Some(id);
        }
        let at = songs.iter().position(|s| s.id == id)?;
        if shuffle {
            let pick = (js_sys::Math::random() * (songs.len() - 1) as f64) as usize;
            return songs.iter().filter(|s| s.id != id).nth(pick).map(|s| s.id);
        }
        match songs.get(at + 1) {
            Some(next) => Some(next.id),
            None if repeat == Repeat::All => songs.first().map(|s| s.id),
            None => None,
        }
    }
}

/// Runs `f` on the engine if it still exists.
fn with(weak: &Weak<Engine>, f: impl FnOnce(&Engine)) {
    if let Some(engine) = weak.upgrade() {
        f(&engine);
    }
}

/// `ws://<this page's host>/ws` (`wss` under https).
fn socket_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}/ws", location.host().ok()?))
}
