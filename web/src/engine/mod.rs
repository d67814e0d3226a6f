//! The session with the bridge and the player: one WebSocket, its replies matched to
//! commands in order, each play's audio fed to the player, reconnection with backoff. It
//! reports to the UI only through [`Action`]s, and keeps no copy of the library or of the
//! play order: the app tells it which song to play and which comes next
//! ([`Engine::set_upcoming`], the one answer of [`crate::order`]).
//!
//! Gapless: once the current song's stream is complete and its end is near, the engine asks
//! for the upcoming song and queues it in the player, which joins it to the current one on
//! the same audio clock.

mod library;
mod place;
mod socket;

use std::cell::{Cell, RefCell};
use std::collections::{HashSet, VecDeque};
use std::rc::{Rc, Weak};

use gloo_timers::callback::{Interval, Timeout};
use tapedeck_protocol::{Command, SongId, SongInfo};
use web_sys::WebSocket;
use yew::Callback;

use crate::level::{Leveling, level};
use crate::player::{Origin, Output, Player, Stats};
use crate::state::{Action, Playback, Progress};
use socket::{Handler, Sent};

/// How often the player is pumped and the progress shown.
const TICK_MS: u32 = 100;
/// The upcoming song is asked for this long before the current one ends (once the current
/// one's stream is complete: the protocol has one play per client at a time).
const GAPLESS_LEAD_S: f64 = 12.0;

/// The app's connection and player.
pub struct Engine {
    dispatch: Callback<Action>,
    socket: RefCell<Option<WebSocket>>,
    /// Commands sent whose replies have not come, oldest first.
    pending: RefCell<VecDeque<Sent>>,
    /// Whether the audio and events arriving belong to a play the player has: not after a
    /// command that ended the play was sent, until the reply of a play that is wanted.
    accepting: Cell<bool>,
    player: RefCell<Player>,
    /// The song playing.
    current: RefCell<Option<SongInfo>>,
    /// The song that plays after it, as the app's play order says.
    upcoming: RefCell<Option<SongInfo>>,
    /// The song asked for (or queued in the player) to follow the current one gaplessly.
    queued: RefCell<Option<SongInfo>>,
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
    backoff_s: Cell<u32>,
    /// Keeps the socket's callbacks, the timer and a pending reconnection alive.
    handlers: RefCell<Vec<Handler>>,
    ticker: RefCell<Option<Interval>>,
    retry: RefCell<Option<Timeout>>,
    /// The library's generation: counts its changes and the connections (a page or a search
    /// answered is of the generation it was asked in).
    generation: Cell<u32>,
    /// Pages and albums asked for and not yet answered: (generation, command).
    asked: RefCell<HashSet<(u32, String)>>,
    /// A search has been sent and not answered.
    searching: Cell<bool>,
    /// The query to search for once the search under way is answered (the latest typed).
    search_next: RefCell<Option<String>>,
    /// Which ReplayGain applies to the songs played.
    leveling: Cell<Leveling>,
    /// The volume set (for the place saved).
    volume: Cell<f32>,
    /// Where the user left off, restored and saved.
    place: Places,
}

/// The engine's record of the user's place.
#[derive(Debug, Default)]
struct Places {
    /// Whether the place was asked for and answered (nothing is saved before: it would
    /// overwrite the place of another device with this page's nothing).
    restored: Cell<bool>,
    /// The position to resume the restored song at, until its `info` comes.
    resume_ms: Cell<Option<u64>>,
    /// The place last saved or restored.
    saved: RefCell<Option<tapedeck_protocol::Place>>,
    /// When it was saved (`performance.now()`).
    saved_at: Cell<f64>,
    /// The queue the app shows (it tells the engine, as it tells the next song).
    queue: RefCell<Option<tapedeck_protocol::Queue>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("current", &self.current())
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
            accepting: Cell::new(false),
            player: RefCell::new(Player::new(Output::Live)),
            current: RefCell::default(),
            upcoming: RefCell::default(),
            queued: RefCell::default(),
            asked_at: Cell::new(0.0),
            start_paused: Cell::new(false),
            dropped: Cell::new(false),
            resume: Cell::new(false),
            playback: Cell::new(Playback::Stopped),
            backoff_s: Cell::new(1),
            handlers: RefCell::default(),
            ticker: RefCell::default(),
            retry: RefCell::default(),
            generation: Cell::new(0),
            asked: RefCell::default(),
            searching: Cell::new(false),
            search_next: RefCell::default(),
            leveling: Cell::new(Leveling::Off),
            volume: Cell::new(1.0),
            place: Places::default(),
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
        self.close_socket();
    }

    pub fn play(&self, song: &SongInfo) {
        self.play_from(song, None, false);
    }

    /// Plays `song` from `from_s` seconds (PROTOCOL.md 5.4.1), or from its start; paused there
    /// if `paused`.
    fn play_from(&self, song: &SongInfo, from_s: Option<f64>, paused: bool) {
        self.asked_at.set(crate::player::now_ms());
        self.start_paused.set(paused);
        self.dropped.set(false);
        self.queued.borrow_mut().take();
        self.with_player(Player::stop);
        let ms = from_s.map(|s| (s.max(0.0) * 1000.0).round().min(f64::from(u32::MAX)) as u32);
        self.send(Command::Play(song.id, ms), Some(song.clone()), false);
    }

    /// Moves the current song to `seconds`, staying paused if it is. The player asks for the
    /// song from there: the server sends what decodes on its own from that position.
    pub fn seek(&self, seconds: f64) {
        let Some(song) = self.current.borrow().clone() else {
            return;
        };
        let (paused, duration) = {
            let player = self.player.borrow();
            (player.is_paused(), player.stats().duration_s)
        };
        // Past the end there is nothing to play: the last moment of the song instead.
        let seconds = duration.map_or(seconds, |d| seconds.min((d - 0.1).max(0.0)));
        self.play_from(&song, Some(seconds), paused);
    }

    /// Pauses the current song, or resumes it: from the buffered audio when it is still
    /// there, else by asking for the song again from where it stands.
    pub fn toggle_pause(&self) {
        let Some(song) = self.current.borrow().clone() else {
            return;
        };
        let paused = self.player.borrow().is_paused();
        if !paused {
            self.with_player(|p| p.set_paused(true));
        } else if self.dropped.get() {
            let at = self.player.borrow().stats().position_s;
            self.play_from(&song, Some(at), false);
        } else {
            self.with_player(|p| p.set_paused(false));
        }
    }

    pub fn stop(&self) {
        self.with_player(Player::stop);
        self.current.borrow_mut().take();
        self.queued.borrow_mut().take();
        self.dispatch.emit(Action::Current(None));
        self.send(Command::Stop, None, false);
    }

    /// Says which song plays after the current one. A different song than the one already
    /// queued replaces it.
    pub fn set_upcoming(&self, song: Option<SongInfo>) {
        let changed = self.queued.borrow().as_ref().map(|s| s.id) != song.as_ref().map(|s| s.id);
        if changed && self.queued.borrow().is_some() {
            self.unqueue();
        }
        *self.upcoming.borrow_mut() = song;
    }

    /// Forgets the queued song; its stream, if still coming, is stopped.
    fn unqueue(&self) {
        let streaming = self.queued.borrow_mut().take().is_some() && {
            let player = self.player.borrow();
            player.has_next() || self.pending.borrow().iter().any(|s| s.queued)
        };
        self.with_player(Player::drop_next);
        if streaming {
            self.send(Command::Stop, None, false);
        }
    }

    /// Lets the current play's stream go while paused; what was buffered stays, and resuming
    /// asks for the song again from where it stands.
    fn drop_stream(&self) {
        if !self.dropped.replace(true) {
            self.send(Command::Stop, None, false);
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

    pub fn set_volume(&self, volume: f32) {
        self.volume.set(volume);
        self.player.borrow_mut().set_volume(volume);
    }

    /// Chooses which ReplayGain applies: at once to the song playing and the one queued.
    pub fn set_leveling(&self, leveling: Leveling) {
        self.leveling.set(leveling);
        let current = self.current.borrow().as_ref().map(|s| level(s, leveling));
        let queued = self.queued.borrow().as_ref().map(|s| level(s, leveling));
        self.with_player(|player| {
            if let Some(current) = current {
                player.set_level(current);
            }
            if let Some(queued) = queued {
                player.set_next_level(queued);
            }
        });
    }

    /// Records `seconds` of what the page outputs (`window.tapedeck.capture`).
    pub fn capture(&self, seconds: f64) -> js_sys::Promise {
        self.player.borrow().capture(seconds)
    }

    /// The analyser tap of the current audio graph, for a visualizer.
    pub fn analyser(&self) -> Option<web_sys::AnalyserNode> {
        self.player.borrow().analyser()
    }

    pub fn current(&self) -> Option<SongId> {
        self.current.borrow().as_ref().map(|s| s.id)
    }

    /// The current play's figures, and its state.
    pub fn stats(&self) -> (Playback, Stats) {
        (self.playback.get(), self.player.borrow().stats())
    }

    /// A play's audio is about to flow: start the player for that song, or queue it behind
    /// the current one.
    fn begin(&self, song: SongInfo, origin: Origin, queued: bool) {
        self.accepting.set(true);
        let duration = Some(song.duration_ms as f64 / 1000.0).filter(|d| *d > 0.0);
        let format = Some(song.format.as_str());
        let level = level(&song, self.leveling.get());
        if queued {
            return self.with_player(|player| {
                player.queue(format, duration, origin);
                player.set_next_level(level);
            });
        }
        let (asked_at, paused) = (self.asked_at.get(), self.start_paused.get());
        self.with_player(|player| {
            player.start(format, duration, origin);
            player.set_level(level);
            player.requested_at(asked_at);
            player.set_paused(paused);
        });
        *self.current.borrow_mut() = Some(song.clone());
        self.dispatch.emit(Action::Current(Some(song)));
        self.dispatch.emit(Action::Error(None));
    }

    /// Pumps the player, reports progress, asks for the next song in time for a gapless
    /// join, and moves on at the end of a song.
    fn tick(&self) {
        // The pump's result is taken before anything else: the player's borrow ends with the
        // statement (an `if let` on it would hold the borrow through its body).
        let pumped = self.with_player(Player::pump);
        if let Err(err) = pumped {
            self.fail(err.to_string());
        }
        if self.with_player(Player::moved_on) {
            self.moved_on();
        }
        self.keep_place();
        if self.current.borrow().is_none() {
            return self.report(Playback::Stopped, Progress::default());
        }
        if self.player.borrow().is_done() {
            let upcoming = self.upcoming.borrow().clone();
            return match upcoming {
                Some(next) => self.play(&next),
                None => self.stop(),
            };
        }
        self.ask_for_upcoming();
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

    /// The queued song now plays.
    fn moved_on(&self) {
        let song = self.queued.borrow_mut().take();
        self.current.borrow_mut().clone_from(&song);
        self.dispatch.emit(Action::Current(song));
    }

    /// Asks for the upcoming song once the current one's stream is complete and its end is
    /// within [`GAPLESS_LEAD_S`].
    fn ask_for_upcoming(&self) {
        if self.queued.borrow().is_some() || self.dropped.get() {
            return;
        }
        let Some(next) = self.upcoming.borrow().clone() else {
            return;
        };
        let near_end = {
            let player = self.player.borrow();
            let stats = player.stats();
            let left = stats.duration_s.map_or(0.0, |d| d - stats.position_s);
            player.input_done() && left <= GAPLESS_LEAD_S
        };
        if near_end {
            *self.queued.borrow_mut() = Some(next.clone());
            self.send(Command::Play(next.id, None), Some(next), true);
        }
    }

    fn report(&self, playback: Playback, progress: Progress) {
        self.playback.set(playback);
        self.dispatch.emit(Action::Playback(playback, progress));
    }
}

/// Runs `f` on the engine if it still exists.
fn with(weak: &Weak<Engine>, f: impl FnOnce(&Engine)) {
    if let Some(engine) = weak.upgrade() {
        f(&engine);
    }
}
