//! `use_library`: fetches what the library shows, and nothing more: the pages of the places
//! in view and of the places next to the current song in the play order, and the search for
//! the query typed (the engine keeps one search on its way at a time).

use std::rc::Rc;

use yew::prelude::*;

use crate::engine::Engine;
use crate::listing::query_words;
use crate::state::{Connection, State};

/// Returns the callback the library calls with the places in view, `(first, end)`.
#[hook]
pub fn use_library(
    engine: Option<Rc<Engine>>,
    state: &State,
    around: [Option<usize>; 3],
) -> Callback<(usize, usize)> {
    let view = use_state(|| (0_usize, 0_usize));
    let connected = state.connection == Connection::Connected;
    let (first, end) = *view;
    let wanted = state
        .rows()
        .missing((first..end).chain(around.into_iter().flatten()));
    let library = (state.library.generation, state.library.order);
    use_effect_with(
        (engine.clone(), connected, library, wanted),
        |(engine, connected, (_, order), wanted)| {
            if let (Some(engine), true) = (engine, *connected) {
                for page in wanted {
                    engine.ask_page(*order, *page);
                }
            }
        },
    );
    let query = query_words(&state.query);
    use_effect_with(
        (engine, connected, state.library.generation, query),
        |(engine, connected, _, query)| {
            if let (Some(engine), true, false) = (engine, *connected, query.is_empty()) {
                engine.search(query.clone());
            }
        },
    );
    let view = view.setter();
    Callback::from(move |range| view.set(range))
}
