//! `use_library`: fetches what the library shows, and nothing more: the pages of the places
//! in view and of the places next to the current song in the play order, the search for the
//! query typed (the engine keeps one search on its way at a time), and in the other views
//! the pages of albums or artists in view, or the album opened.

use std::rc::Rc;

use yew::prelude::*;

use crate::browse::View;
use crate::engine::Engine;
use crate::listing::{self, query_words};
use crate::state::{Connection, State};

/// What the view shown still needs, besides songs.
#[derive(Debug, Clone, PartialEq)]
enum Wanted {
    Nothing,
    /// Pages of the album grid (of an artist's albums).
    Albums(Option<String>, Vec<usize>),
    Artists(Vec<usize>),
    /// The album a song is on.
    Album(tapedeck_protocol::SongId),
}

impl Wanted {
    fn ask(&self, engine: &Engine) {
        match self {
            Self::Nothing => {}
            Self::Albums(artist, pages) => {
                for page in pages {
                    engine.ask_albums(artist.clone(), *page);
                }
            }
            Self::Artists(pages) => {
                for page in pages {
                    engine.ask_artists(*page);
                }
            }
            Self::Album(id) => engine.ask_album(*id),
        }
    }
}

/// Returns the callback the library calls with the places in view, `(first, end)`.
#[hook]
pub fn use_library(
    engine: Option<Rc<Engine>>,
    state: &State,
    around: [Option<usize>; 3],
) -> Callback<(usize, usize)> {
    // Told again whenever a page comes: an equal range is no change (no render).
    let view = use_state_eq(|| (0_usize, 0_usize));
    let connected = state.connection == Connection::Connected;
    let (first, end) = *view;
    let wanted = state
        .rows()
        .missing((first..end).chain(around.into_iter().flatten()));
    let library = (state.library.generation, listing::order(state.sort));
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
    let browse = &state.browse;
    let wanted = match state.view {
        View::Albums => Wanted::Albums(browse.albums_of.clone(), browse.albums.missing(first..end)),
        View::Artists => Wanted::Artists(browse.artists.missing(first..end)),
        View::Album => match &browse.album {
            Some((id, None)) => Wanted::Album(*id),
            _ => Wanted::Nothing,
        },
        View::Songs => Wanted::Nothing,
    };
    use_effect_with(
        (engine.clone(), connected, state.library.generation, wanted),
        |(engine, connected, _, wanted)| {
            if let (Some(engine), true) = (engine, *connected) {
                wanted.ask(engine);
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
