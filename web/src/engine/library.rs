//! The library through the engine: pages (of songs, albums, artists) and albums asked for
//! once each, and searches one at a time, the latest query typed going next (a query typed
//! while one is answered waits for it, so typing never queues more than one search, and the
//! last one typed is always answered).

use tapedeck_protocol::{Command, Order, SongId};

use super::Engine;
use crate::listing::{PAGE, SEARCH_COUNT};
use crate::state::Action;

impl Engine {
    /// Asks for page `page` of the library's songs in `order`.
    pub fn ask_page(&self, order: Order, page: usize) {
        if let Some((from, count)) = page_range(page) {
            self.ask(Command::Songs { from, count, order });
        }
    }

    /// Asks for page `page` of the albums, or of one artist's.
    pub fn ask_albums(&self, artist: Option<String>, page: usize) {
        if let Some((from, count)) = page_range(page) {
            self.ask(Command::Albums {
                from,
                count,
                artist,
            });
        }
    }

    /// Asks for page `page` of the artists.
    pub fn ask_artists(&self, page: usize) {
        if let Some((from, count)) = page_range(page) {
            self.ask(Command::Artists { from, count });
        }
    }

    /// Asks for the album song `id` is on.
    pub fn ask_album(&self, id: SongId) {
        self.ask(Command::Album(id));
    }

    /// Sends `command`, unless the same is on its way in this generation.
    fn ask(&self, command: Command) {
        let key = (self.generation.get(), command.to_string());
        if self.asked.borrow_mut().insert(key) {
            self.send(command, None, false);
        }
    }

    /// Searches for `query` (words joined by one space), now or once the search under way is
    /// answered.
    pub fn search(&self, query: String) {
        if self.searching.get() {
            *self.search_next.borrow_mut() = Some(query);
            return;
        }
        self.searching.set(true);
        let command = Command::Search {
            count: SEARCH_COUNT,
            query,
        };
        self.send(command, None, false);
    }

    /// A command was answered (or failed): what was on its way is no longer, and the query
    /// typed meanwhile goes out.
    pub(super) fn answered(&self, command: &Command, generation: u32) {
        match command {
            Command::Songs { .. }
            | Command::Albums { .. }
            | Command::Artists { .. }
            | Command::Album(_) => {
                self.asked
                    .borrow_mut()
                    .remove(&(generation, command.to_string()));
            }
            Command::Search { .. } => {
                self.searching.set(false);
                if let Some(next) = self.search_next.borrow_mut().take() {
                    self.search(next);
                }
            }
            _ => {}
        }
    }

    /// A new library (it changed, or the connection is new): what is asked for from now on
    /// is of a new generation, and the app fetches what it shows again.
    pub(super) fn renew(&self) {
        let generation = self.generation.get() + 1;
        self.generation.set(generation);
        self.asked.borrow_mut().clear();
        self.searching.set(false);
        self.search_next.borrow_mut().take();
        self.dispatch.emit(Action::Changed(generation));
    }
}

/// `from` and `count` of page `page`.
fn page_range(page: usize) -> Option<(u32, u32)> {
    Some((u32::try_from(page * PAGE).ok()?, u32::try_from(PAGE).ok()?))
}
