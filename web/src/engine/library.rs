//! The library through the engine: pages asked for once each, and searches one at a time,
//! the latest query typed going next (a query typed while one is answered waits for it, so
//! typing never queues more than one search, and the last one typed is always answered).

use tapedeck_protocol::{Command, Order};

use super::Engine;
use crate::listing::{PAGE, SEARCH_COUNT};
use crate::state::Action;

impl Engine {
    /// Asks for page `page` of the library in `order`, unless it is on its way.
    pub fn ask_page(&self, order: Order, page: usize) {
        let key = (self.generation.get(), order, page);
        if !self.asked.borrow_mut().insert(key) {
            return;
        }
        let (Ok(from), Ok(count)) = (u32::try_from(page * PAGE), u32::try_from(PAGE)) else {
            return;
        };
        self.send(Command::Songs { from, count, order }, None, false);
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

    /// A `songs` or `search` was answered (or failed, or the connection went): what was on
    /// its way is no longer, and the query typed meanwhile goes out.
    pub(super) fn answered(&self, command: &Command, generation: u32) {
        match command {
            Command::Songs { from, order, .. } => {
                let page = *from as usize / PAGE;
                self.asked.borrow_mut().remove(&(generation, *order, page));
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
