//! The engine's WebSocket: connecting with backoff, sending commands and matching each reply
//! to its command, and routing a play's binary messages to the player.

use std::rc::Rc;

use tapedeck_protocol::{Command, Event, Reply, SongInfo};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{BinaryType, MessageEvent, WebSocket};

use super::{Engine, with};
use crate::account::{self, Account, Who};
use crate::player::{Origin, Player, PlayerError};
use crate::state::{Action, Connection};

/// The longest wait between reconnection attempts.
const MAX_BACKOFF_S: u32 = 10;

/// A socket event handler, kept alive as long as its socket.
pub type Handler = Closure<dyn FnMut(MessageEvent)>;

/// A command sent, waiting for its reply.
#[derive(Debug)]
pub struct Sent {
    command: Command,
    /// The song a `play` plays.
    song: Option<SongInfo>,
    /// A `play` of the song queued to follow the current one.
    pub queued: bool,
    /// A later command ended this play before its reply came: the reply starts nothing.
    superseded: bool,
    /// The library's generation when it was sent.
    generation: u32,
}

impl Engine {
    pub(super) fn send(&self, command: Command, song: Option<SongInfo>, queued: bool) {
        let socket = self.socket.borrow().clone();
        let Some(socket) = socket.filter(|s| s.ready_state() == WebSocket::OPEN) else {
            return self
                .dispatch
                .emit(Action::Error(Some("not connected".into())));
        };
        if socket.send_with_str(&command.to_string()).is_err() {
            return;
        }
        let mut pending = self.pending.borrow_mut();
        if command.ends_play() {
            self.accepting.set(false);
            pending.iter_mut().for_each(|sent| sent.superseded = true);
        }
        pending.push_back(Sent {
            command,
            song,
            queued,
            superseded: false,
            generation: self.generation.get(),
        });
    }

    /// Asks the bridge whether this browser is let in, then opens the WebSocket; shows the
    /// sign-in form instead when it is not.
    pub(super) fn connect(self: &Rc<Self>) {
        self.dispatch
            .emit(Action::Connection(Connection::Connecting));
        let weak = Rc::downgrade(self);
        wasm_bindgen_futures::spawn_local(async move {
            let who = account::who().await;
            let Some(engine) = weak.upgrade() else { return };
            match who {
                Ok(Who::In(user)) => {
                    engine
                        .dispatch
                        .emit(Action::Account(Account::SignedIn(user)));
                    engine.open_socket();
                }
                Ok(Who::Out) => engine.signed_out(None),
                Err(_) => engine.lost(),
            }
        });
    }

    /// Signs in, then connects; a refusal is shown on the form.
    pub fn sign_in(self: &Rc<Self>, user: String, password: String) {
        let weak = Rc::downgrade(self);
        wasm_bindgen_futures::spawn_local(async move {
            let signed = account::sign_in(&user, &password).await;
            let Some(engine) = weak.upgrade() else { return };
            match signed {
                Ok(_) => engine.connect(),
                Err(reason) => engine.signed_out(Some(reason)),
            }
        });
    }

    /// Signs out: the music stops, the session ends everywhere, the form shows.
    pub fn sign_out(self: &Rc<Self>) {
        self.stop();
        self.close_socket();
        let weak = Rc::downgrade(self);
        wasm_bindgen_futures::spawn_local(async move {
            let _ = account::sign_out().await;
            if let Some(engine) = weak.upgrade() {
                engine.signed_out(None);
            }
        });
    }

    /// Not let in: the form shows (with `reason`), and nothing reconnects until signing in.
    fn signed_out(&self, reason: Option<String>) {
        self.place.restored.set(false);
        self.dispatch
            .emit(Action::Connection(Connection::SignedOut));
        self.dispatch.emit(Action::Account(Account::SignIn(reason)));
    }

    /// Closes the WebSocket without reconnecting.
    pub(super) fn close_socket(&self) {
        self.retry.borrow_mut().take();
        let socket = self.socket.borrow_mut().take();
        if let Some(socket) = socket {
            socket.set_onclose(None);
            let _ = socket.close();
        }
        self.pending.borrow_mut().clear();
    }

    fn open_socket(self: &Rc<Self>) {
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
        self.renew();
        self.ask_place();
        let song = self.current.borrow().clone();
        if let Some(song) = song.filter(|_| self.resume.take()) {
            let (position, paused) = {
                let player = self.player.borrow();
                (player.stats().position_s, player.is_paused())
            };
            self.play_from(&song, Some(position), paused);
        }
    }

    /// The connection is gone: the song, if one plays, keeps playing what the player holds,
    /// and goes on from there once the connection is back. A queued song is forgotten.
    fn on_close(self: &Rc<Self>) {
        self.socket.borrow_mut().take();
        self.pending.borrow_mut().clear();
        self.queued.borrow_mut().take();
        self.with_player(Player::drop_next);
        self.resume.set(self.current.borrow().is_some());
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
        let retry = gloo_timers::callback::Timeout::new(wait * 1000, move || {
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
            if !self.accepting.get() {
                return;
            }
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
            // The end of a play that was ended already (PROTOCOL.md 16.4: it comes, if at
            // all, before the reply of the command that ended it).
            Some(Event::End) if !self.accepting.get() => {}
            Some(Event::End) => self.with_player(Player::finish),
            Some(Event::Error(reason)) => {
                // A play cut short: play what came, then end (no more will come).
                if self.accepting.get() {
                    self.with_player(Player::finish);
                }
                self.dispatch.emit(Action::Error(Some(reason)));
            }
            // The server's songs changed: what is shown is asked for again (it replaces what
            // is shown when it comes; ids that still name songs keep them).
            Some(Event::LibraryChanged) => self.renew(),
            Some(Event::Other(_)) => {}
            None => {
                let sent = self.pending.borrow_mut().pop_front();
                if let Some(sent) = sent {
                    self.on_reply(sent, text);
                }
            }
        }
    }

    fn on_reply(&self, sent: Sent, line: &str) {
        self.answered(&sent.command, sent.generation);
        let generation = sent.generation;
        let reply = Reply::parse(&sent.command, line);
        // The place is the engine's own business: a server that keeps none says so, quietly.
        match (&sent.command, reply) {
            (Command::Place(None), Ok(Reply::Place(place))) => self.restore_place(Some(place)),
            (Command::Place(None), _) => self.restore_place(None),
            (Command::Info(Some(_)), Ok(Reply::Song(song))) => self.resume_song(&song),
            (Command::Place(Some(_)) | Command::Info(Some(_)), _) => {}
            (_, reply) => self.on_other_reply(sent, generation, reply),
        }
    }

    fn on_other_reply(
        &self,
        sent: Sent,
        generation: u32,
        reply: Result<Reply, tapedeck_protocol::ReplyError>,
    ) {
        match (reply, sent.song) {
            (Ok(Reply::Error(reason)), _) => {
                if sent.queued {
                    self.queued.borrow_mut().take();
                }
                self.dispatch.emit(Action::Error(Some(reason)));
            }
            (Ok(Reply::Page(page)), _) => {
                if let Command::Songs { order, .. } = sent.command {
                    self.dispatch.emit(Action::Page {
                        generation,
                        order,
                        page,
                    });
                }
            }
            (Ok(Reply::Albums(page)), _) => {
                if let Command::Albums { artist, .. } = sent.command {
                    self.dispatch.emit(Action::Albums {
                        generation,
                        artist,
                        page,
                    });
                }
            }
            (Ok(Reply::Artists(page)), _) => {
                self.dispatch.emit(Action::Artists { generation, page });
            }
            (Ok(Reply::Album(album)), _) => {
                if let Command::Album(asked) = sent.command {
                    self.dispatch.emit(Action::AlbumSongs {
                        generation,
                        asked,
                        album,
                    });
                }
            }
            (Ok(Reply::Found(found)), _) => {
                if let Command::Search { query, .. } = sent.command {
                    self.dispatch.emit(Action::Found {
                        generation,
                        query,
                        found,
                    });
                }
            }
            (Ok(Reply::Port { skip, .. }), Some(song)) if !sent.superseded => {
                let start_s = match sent.command {
                    Command::Play(_, Some(ms)) => f64::from(ms) / 1000.0,
                    _ => 0.0,
                };
                let origin = Origin {
                    start_s,
                    skip: skip.unwrap_or(0),
                };
                self.begin(song, origin, sent.queued);
            }
            (Err(err), _) => self.dispatch.emit(Action::Error(Some(err.to_string()))),
            _ => {}
        }
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
