//! Browsing by album and artist (PROTOCOL.md 5.9): the album grid (all albums, or one
//! artist's), the artists, and an album opened, whose songs then are the ones shown and
//! played in order.

use std::rc::Rc;

use tapedeck_protocol::{AlbumInfo, AlbumPage, AlbumSongs, ArtistInfo, ArtistPage, SongId};

use crate::listing::Listing;
use crate::state::State;

/// What the library part of the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// Every song (or the search results).
    #[default]
    Songs,
    /// The album grid.
    Albums,
    Artists,
    /// One album's songs.
    Album,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Browse {
    pub albums: Listing<AlbumInfo>,
    /// Whose albums the grid shows (every album when none).
    pub albums_of: Option<String>,
    pub artists: Listing<ArtistInfo>,
    /// The album opened: the song it was opened by, and the album once it came.
    pub album: Option<(SongId, Option<Rc<AlbumSongs>>)>,
    /// The songs shown for playing are the opened album's: it was the last list of songs
    /// shown (the grid and the artists show none).
    pub playing_album: bool,
}

impl Browse {
    /// The opened album's songs, once they came.
    pub fn album_songs(&self) -> Option<Rc<Vec<tapedeck_protocol::SongInfo>>> {
        let album = self.album.as_ref()?.1.as_ref()?;
        Some(Rc::new(album.songs.clone()))
    }
}

impl State {
    pub(crate) fn show(&mut self, view: View) {
        self.view = view;
        match view {
            View::Songs => self.browse.playing_album = false,
            View::Album => self.browse.playing_album = true,
            View::Albums | View::Artists => {}
        }
        self.place_current();
    }

    /// The grid of `artist`'s albums (every album when `None`).
    pub(crate) fn albums_of(&mut self, artist: Option<String>) {
        if self.browse.albums_of != artist {
            self.browse.albums_of = artist;
            self.browse.albums = Listing::new(self.library.generation);
        }
        self.show(View::Albums);
    }

    pub(crate) fn open_album(&mut self, id: SongId) {
        let same = self
            .browse
            .album
            .as_ref()
            .is_some_and(|(asked, _)| *asked == id);
        if !same {
            self.browse.album = Some((id, None));
        }
        self.show(View::Album);
    }

    pub(crate) fn albums_page(&mut self, generation: u32, artist: Option<String>, page: AlbumPage) {
        if generation == self.library.generation && artist == self.browse.albums_of {
            self.browse.albums.generation = generation;
            let (from, total) = (page.from as usize, page.total as usize);
            self.browse.albums.add(from, total, page.albums);
        }
    }

    pub(crate) fn artists_page(&mut self, generation: u32, page: ArtistPage) {
        if generation == self.library.generation {
            self.browse.artists.generation = generation;
            let (from, total) = (page.from as usize, page.total as usize);
            self.browse.artists.add(from, total, page.artists);
        }
    }

    pub(crate) fn album_songs(&mut self, generation: u32, asked: SongId, album: AlbumSongs) {
        let wanted = self
            .browse
            .album
            .as_ref()
            .is_some_and(|(id, _)| *id == asked);
        if generation == self.library.generation && wanted {
            self.browse.album = Some((asked, Some(Rc::new(album))));
            self.place_current();
        }
    }

    /// A newer library: albums and artists are fetched again, and so is the album opened.
    pub(crate) fn renew_browse(&mut self, generation: u32) {
        self.browse.albums = Listing::new(generation);
        self.browse.artists = Listing::new(generation);
        if let Some((_, album)) = &mut self.browse.album {
            *album = None;
        }
    }
}

/// An album's title as shown.
pub fn album_title(album: &AlbumInfo) -> &str {
    if album.title.is_empty() {
        "Unknown album"
    } else {
        &album.title
    }
}

/// An artist's name as shown.
pub fn artist_name(name: &str) -> &str {
    if name.is_empty() {
        "Unknown artist"
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Action;
    use tapedeck_protocol::SongInfo;
    use wasm_bindgen_test::wasm_bindgen_test;
    use yew::Reducible;

    fn album(id: u32, songs: &[u32]) -> AlbumSongs {
        AlbumSongs {
            id: SongId(id),
            title: "A".into(),
            artist: "B".into(),
            total: songs.len() as u32,
            songs: songs
                .iter()
                .map(|&id| SongInfo {
                    id: SongId(id),
                    ..SongInfo::default()
                })
                .collect(),
        }
    }

    #[wasm_bindgen_test]
    fn an_album_opened_is_what_plays_until_the_songs_are_shown_again() {
        let state = Rc::new(State::default())
            .reduce(Action::Changed(1))
            .reduce(Action::OpenAlbum(SongId(5)))
            .reduce(Action::AlbumSongs {
                generation: 1,
                asked: SongId(9),
                album: album(5, &[5, 6]),
            });
        assert_eq!(state.rows().len(), 0, "not the album asked for");
        let state = state.reduce(Action::AlbumSongs {
            generation: 1,
            asked: SongId(5),
            album: album(5, &[5, 6]),
        });
        assert_eq!(state.rows().get(1).map(|s| s.id), Some(SongId(6)));
        let state = state.reduce(Action::AlbumsOf(Some("B".into())));
        assert_eq!(state.view, View::Albums);
        assert_eq!(
            state.rows().len(),
            2,
            "the grid shows no songs: the album still plays"
        );
        let state = state.reduce(Action::View(View::Songs));
        assert_eq!(
            state.rows().len(),
            0,
            "the library's songs, not yet fetched"
        );
        let state = state.reduce(Action::Albums {
            generation: 1,
            artist: None,
            page: AlbumPage {
                total: 1,
                from: 0,
                albums: Vec::new(),
            },
        });
        assert_eq!(
            state.browse.albums.total, None,
            "a page of another artist's grid"
        );
    }
}
