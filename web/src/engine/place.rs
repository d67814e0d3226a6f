//! Where the listener is, kept by the server per user (PROTOCOL.md 5.13): restored once a
//! connection is up (the song shown paused where it was last heard, one click from going on),
//! and saved every few seconds while it changes.

use tapedeck_protocol::{Command, Place, Queue, SongInfo};
use web_sys::WebSocket;

use super::Engine;
use crate::level::Leveling;
use crate::state::Action;

/// How often the place is saved while it changes, in milliseconds.
const SAVE_EVERY_MS: f64 = 5000.0;

impl Engine {
    /// Asks where the user left off, unless a song is already here (a reconnection).
    pub(super) fn ask_place(&self) {
        if self.current.borrow().is_some() || self.place.restored.get() {
            self.place.restored.set(true);
            return;
        }
        self.send(Command::Place(None), None, false);
    }

    /// The answer to `place`: the settings it holds apply, and its song is asked for.
    pub(super) fn restore_place(&self, place: Option<Place>) {
        self.place.restored.set(true);
        let Some(place) = place else { return };
        if let Some(volume) = place.volume {
            self.dispatch
                .emit(Action::Volume(f32::from(volume) / 100.0));
        }
        if let Some(gain) = &place.gain {
            self.dispatch
                .emit(Action::SetLeveling(Leveling::from_word(gain)));
        }
        if let Some(queue) = &place.queue {
            self.dispatch
                .emit(Action::Restore(queue.clone(), crate::order::random_seed()));
        }
        if let Some(song) = place.song {
            self.place.resume_ms.set(Some(place.position_ms));
            self.send(Command::Info(Some(song)), None, false);
        }
        *self.place.saved.borrow_mut() = Some(place);
    }

    /// The song of the place restored: shown paused where it was.
    pub(super) fn resume_song(&self, song: &SongInfo) {
        if let Some(ms) = self.place.resume_ms.take() {
            self.play_from(song, Some(ms as f64 / 1000.0), true);
        }
    }

    /// The queue the app shows now, for the place saved.
    pub fn set_queue(&self, queue: Queue) {
        *self.place.queue.borrow_mut() = Some(queue);
    }

    /// Saves the place if it changed and the last save is old enough.
    pub(super) fn keep_place(&self) {
        let now = crate::player::now_ms();
        let open = self
            .socket
            .borrow()
            .as_ref()
            .is_some_and(|s| s.ready_state() == WebSocket::OPEN);
        if !open || !self.place.restored.get() || now - self.place.saved_at.get() < SAVE_EVERY_MS {
            return;
        }
        let position_ms = if self.current.borrow().is_some() {
            (self.player.borrow().stats().position_s.max(0.0) * 1000.0) as u64
        } else {
            0
        };
        let place = Place {
            song: self.current(),
            position_ms,
            volume: Some((self.volume.get().clamp(0.0, 1.0) * 100.0).round() as u8),
            gain: Some(self.leveling.get().word().to_owned()),
            queue: self.place.queue.borrow().clone(),
        };
        if self.place.saved.borrow().as_ref() == Some(&place) {
            return;
        }
        self.place.saved_at.set(now);
        self.send(Command::Place(Some(place.clone())), None, false);
        *self.place.saved.borrow_mut() = Some(place);
    }
}
