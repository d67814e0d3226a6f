//! The app's state and the actions that change it (a Yew reducer).

use std::rc::Rc;

use tapedeck_protocol::{
    AlbumPage, AlbumSongs, ArtistPage, Found, Order, Queue, SongId, SongInfo, SongPage,
};
use yew::Reducible;

use crate::account::Account;
use crate::browse::{Browse, View};
use crate::level::Leveling;
use crate::listing::{self, Listing, Results, Rows};
use crate::order::Mode;

/// The link to the bridge, as the page says it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Connection {
    Connecting,
    Connected,
    /// Not signed in: nothing connects until the user signs in.
    SignedOut,
    /// Lost; the next attempt is in this many seconds.
    Disconnected {
        retry_s: u32,
    },
}

impl Connection {
    /// The state in words, for people.
    pub fn words(self) -> String {
        match self {
            Self::Connecting => "Connecting…".into(),
            Self::Connected => "Connected".into(),
            Self::SignedOut => "Signed out".into(),
            Self::Disconnected { retry_s } => {
                format!("Disconnected — reconnecting in {retry_s} s…")
            }
        }
    }
}

/// What the player is doing, as `window.tapedeck.stats().state` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Playback {
    Stopped,
    Buffering,
    Playing,
    /// The listener paused: the song stays where it is, one click from going on.
    Paused,
}

impl Playback {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stopped => "stopped",
            Self::Buffering => "buffering",
            Self::Playing => "playing",
            Self::Paused => "paused",
        }
    }
}

/// The library's sortable columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Title,
    Artist,
    Album,
    Duration,
    Format,
}

/// Where the current song is, and the figures of "stats for nerds".
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Progress {
    pub position_s: f64,
    pub duration_s: f64,
    pub buffered_s: f64,
    pub underruns: u32,
    pub first_sound_ms: Option<f64>,
    pub bytes: u64,
}

/// What happens at the end of a song.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Repeat {
    /// Play on through the list, and stop after the last song.
    #[default]
    Off,
    /// Play on, and start again after the last song.
    All,
    /// Play the same song again.
    One,
}

impl Repeat {
    pub fn next(self) -> Self {
        match self {
            Self::Off => Self::All,
            Self::All => Self::One,
            Self::One => Self::Off,
        }
    }

    /// The word a place keeps it as (PROTOCOL.md 5.13).
    pub fn word(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::All => "all",
            Self::One => "one",
        }
    }

    pub fn from_word(word: &str) -> Self {
        match word {
            "all" => Self::All,
            "one" => Self::One,
            _ => Self::Off,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Off => "Repeat: off",
            Self::All => "Repeat: all",
            Self::One => "Repeat: one",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub connection: Connection,
    /// Who the page is signed in as.
    pub account: Account,
    /// The library in the order of `sort`, as far as it has come.
    pub library: Listing,
    /// What is typed in the search box.
    pub query: String,
    /// The latest search answered (perhaps for an earlier query: the one typed is on its way).
    pub found: Option<Results>,
    pub sort: (Column, bool),
    /// What the library part of the page shows.
    pub view: View,
    /// Albums, artists and the album opened.
    pub browse: Browse,
    /// The song playing (or paused).
    pub current: Option<SongInfo>,
    /// Its place among the rows shown, when known.
    pub cursor: Option<usize>,
    pub playback: Playback,
    pub progress: Progress,
    pub error: Option<String>,
    /// 0.0 to 1.0.
    pub volume: f32,
    pub muted: bool,
    pub shuffle: bool,
    /// The shuffle's order, fixed while shuffle stays on (see [`crate::order`]).
    pub seed: u64,
    pub repeat: Repeat,
    /// Which ReplayGain applies.
    pub leveling: Leveling,
    pub help: bool,
    pub nerd_stats: bool,
}

impl Default for State {
    fn default() -> Self {
        Self {
            connection: Connection::Connecting,
            account: Account::Checking,
            library: Listing::new(0),
            query: String::new(),
            found: None,
            sort: (Column::Title, true),
            view: View::Songs,
            browse: Browse::default(),
            current: None,
            cursor: None,
            playback: Playback::Stopped,
            progress: Progress::default(),
            error: None,
            volume: 1.0,
            muted: false,
            shuffle: false,
            seed: 0,
            repeat: Repeat::Off,
            leveling: Leveling::Off,
            help: false,
            nerd_stats: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Connection(Connection),
    /// Signed in, or not (any more).
    Account(Account),
    /// The library changed, or the connection is new: what was fetched is of `generation - 1`
    /// or earlier, and is fetched again.
    Changed(u32),
    /// A page of the library, fetched in `generation` in `order`.
    Page {
        generation: u32,
        order: Order,
        page: SongPage,
    },
    /// The answer to `search` for `query`, fetched in `generation`.
    Found {
        generation: u32,
        query: String,
        found: Found,
    },
    Query(String),
    /// Shows the songs, the album grid or the artists.
    View(View),
    /// Shows the grid of an artist's albums (every album's when `None`).
    AlbumsOf(Option<String>),
    /// Opens the album song `id` is on.
    OpenAlbum(SongId),
    /// A page of albums (of `artist`), fetched in `generation`.
    Albums {
        generation: u32,
        artist: Option<String>,
        page: AlbumPage,
    },
    /// A page of artists, fetched in `generation`.
    Artists {
        generation: u32,
        page: ArtistPage,
    },
    /// The album song `asked` is on, fetched in `generation`.
    AlbumSongs {
        generation: u32,
        asked: SongId,
        album: AlbumSongs,
    },
    /// Sort by a column; the same column again reverses the order.
    Sort(Column),
    Current(Option<SongInfo>),
    Playback(Playback, Progress),
    Error(Option<String>),
    /// Sets the volume (clamped to 0.0..=1.0) and unmutes.
    Volume(f32),
    ToggleMute,
    /// Turns shuffle on, in a new order (from the seed given), or off.
    ToggleShuffle(u64),
    CycleRepeat,
    /// The queue of a place restored (another device's): its order, search, shuffle (with a
    /// new seed) and repeat.
    Restore(Queue, u64),
    SetLeveling(Leveling),
    ToggleHelp,
    ToggleNerdStats,
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Connection(connection) => next.connection = connection,
            Action::Account(account) => next.account = account,
            Action::Changed(generation) => next.changed(generation),
            Action::Page {
                generation,
                order,
                page,
            } => next.page(generation, order, page),
            Action::Found {
                generation,
                query,
                found,
            } => next.found(generation, query, found),
            Action::Query(query) => {
                next.query = query;
                next.place_current();
            }
            Action::Sort(column) => next.sort(column),
            Action::View(view) => next.show(view),
            Action::AlbumsOf(artist) => next.albums_of(artist),
            Action::OpenAlbum(id) => next.open_album(id),
            Action::Albums {
                generation,
                artist,
                page,
            } => next.albums_page(generation, artist, page),
            Action::Artists { generation, page } => next.artists_page(generation, page),
            Action::AlbumSongs {
                generation,
                asked,
                album,
            } => next.album_songs(generation, asked, album),
            Action::Current(current) => {
                next.current = current;
                next.place_current();
            }
            Action::Playback(playback, progress) => {
                (next.playback, next.progress) = (playback, progress)
            }
            Action::Error(error) => next.error = error,
            Action::Volume(volume) => (next.volume, next.muted) = (volume.clamp(0.0, 1.0), false),
            Action::ToggleMute => next.muted = !next.muted,
            Action::ToggleShuffle(seed) => (next.shuffle, next.seed) = (!next.shuffle, seed),
            Action::CycleRepeat => next.repeat = next.repeat.next(),
            Action::Restore(queue, seed) => next.restore(&queue, seed),
            Action::SetLeveling(leveling) => next.leveling = leveling,
            Action::ToggleHelp => next.help = !next.help,
            Action::ToggleNerdStats => next.nerd_stats = !next.nerd_stats,
        }
        if next == *self { self } else { Rc::new(next) }
    }
}

impl State {
    /// The rows shown: the library, or with a query typed, the latest search results.
    pub fn rows(&self) -> Rows {
        if self.browse.playing_album {
            return Rows::Found(self.browse.album_songs().unwrap_or_default());
        }
        if listing::query_words(&self.query).is_empty() {
            return Rows::Library(self.library.clone());
        }
        Rows::Found(
            self.found
                .as_ref()
                .map(|f| f.songs.clone())
                .unwrap_or_default(),
        )
    }

    /// The id of the song playing.
    pub fn current_id(&self) -> Option<SongId> {
        self.current.as_ref().map(|s| s.id)
    }

    /// A newer library: pages and results of older ones are fetched again. What is shown
    /// stays until they come.
    fn changed(&mut self, generation: u32) {
        if generation > self.library.generation {
            self.library = Listing::new(generation);
            self.renew_browse(generation);
        }
    }

    fn page(&mut self, generation: u32, order: Order, page: SongPage) {
        if generation != self.library.generation || order != listing::order(self.sort) {
            return;
        }
        let from = page.from as usize;
        self.library.add(from, page.total as usize, page.songs);
        if self.cursor.is_none() {
            self.place_current();
        }
    }

    fn found(&mut self, generation: u32, query: String, found: Found) {
        if generation < self.library.generation {
            return;
        }
        self.found = Some(Results {
            query,
            total: found.total as usize,
            songs: Rc::new(listing::sorted(found.songs, self.sort)),
        });
        self.place_current();
    }

    /// Sorts by `column` (the same again reverses): the library in the new order is fetched
    /// anew, the search results are sorted here.
    fn sort(&mut self, column: Column) {
        self.sort = match self.sort {
            (c, ascending) if c == column => (c, !ascending),
            _ => (column, true),
        };
        self.library = Listing::new(self.library.generation);
        if let Some(found) = &mut self.found {
            found.songs = Rc::new(listing::sorted((*found.songs).clone(), self.sort));
        }
        self.place_current();
    }

    /// The queue as a place keeps it: the rows shown and how the order goes through them.
    pub fn queue(&self) -> Queue {
        Queue {
            order: listing::order(self.sort).to_string(),
            query: self.query.clone(),
            album: None,
            shuffle: self.shuffle,
            repeat: self.repeat.word().to_owned(),
        }
    }

    fn restore(&mut self, queue: &Queue, seed: u64) {
        let sort = queue.order.parse().ok().and_then(listing::sort_of);
        if let Some(sort) = sort.filter(|s| *s != self.sort) {
            self.sort = sort;
            self.library = Listing::new(self.library.generation);
        }
        self.query.clone_from(&queue.query);
        if queue.shuffle != self.shuffle {
            (self.shuffle, self.seed) = (queue.shuffle, seed);
        }
        self.repeat = Repeat::from_word(&queue.repeat);
        self.place_current();
    }

    /// Finds the current song's place among the rows shown, if it has come.
    pub(crate) fn place_current(&mut self) {
        self.cursor = self.current_id().and_then(|id| self.rows().position(id));
    }
    /// How the play order goes: shuffled or not, and the repeat mode.
    pub fn mode(&self) -> Mode {
        Mode {
            shuffle: self.shuffle.then_some(self.seed),
            repeat: self.repeat,
        }
    }

    /// The gain to apply: the volume, or silence when muted.
    pub fn gain(&self) -> f32 {
        if self.muted { 0.0 } else { self.volume }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn song(id: u32, title: &str, artist: &str, duration_ms: u64) -> SongInfo {
        SongInfo {
            id: SongId(id),
            name: format!("{title}.mp3"),
            title: title.into(),
            artist: artist.into(),
            album: String::new(),
            duration_ms,
            format: "mp3".into(),
            sample_rate: 44_100,
            channels: 2,
            bitrate: 192_000,
            size: 1,
            ..SongInfo::default()
        }
    }

    fn page(generation: u32, from: u32, total: u32, songs: Vec<SongInfo>) -> Action {
        Action::Page {
            generation,
            order: listing::order((Column::Title, true)),
            page: SongPage { total, from, songs },
        }
    }

    #[wasm_bindgen_test]
    fn pages_search_results_sort_and_the_current_place() {
        let state = Rc::new(State::default())
            .reduce(Action::Changed(1))
            .reduce(page(
                1,
                0,
                3,
                vec![song(1, "b", "Zed", 3), song(2, "A", "yan", 1)],
            ))
            .reduce(page(0, 0, 9, vec![song(9, "old", "", 1)]));
        let rows = state.rows();
        assert_eq!(rows.len(), 3, "the total of the page of this library");
        assert_eq!(rows.get(1).map(|s| s.id), Some(SongId(2)));
        assert_eq!(rows.get(2), None, "not yet here");
        let state = state.reduce(Action::Current(Some(song(2, "A", "yan", 1))));
        assert_eq!(state.cursor, Some(1));
        let state = state.reduce(Action::Query("  Y ".into()));
        assert_eq!(state.rows().len(), 0, "no results yet");
        let state = state.reduce(Action::Found {
            generation: 1,
            query: "Y".into(),
            found: Found {
                total: 2,
                songs: vec![song(3, "c", "Xu", 2), song(2, "A", "yan", 1)],
            },
        });
        let titles = |s: &State| {
            let rows = s.rows();
            (0..rows.len())
                .filter_map(|i| rows.get(i).map(|s| s.title.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(titles(&state), ["A", "c"], "sorted by title here");
        assert_eq!(state.cursor, Some(0));
        let state = state.reduce(Action::Sort(Column::Title));
        assert_eq!(titles(&state), ["c", "A"], "the same column again reverses");
        assert_eq!(state.cursor, Some(1));
        let state = state.reduce(Action::Query(String::new()));
        assert_eq!(
            state.rows().len(),
            0,
            "the library in the new order is fetched anew"
        );
        assert_eq!(listing::order(state.sort).to_string(), "-title");
        let state = state.reduce(Action::Changed(2));
        assert_eq!(state.library.generation, 2);
    }

    #[wasm_bindgen_test]
    fn volume_mute_and_repeat() {
        let state = Rc::new(State::default()).reduce(Action::Volume(1.7));
        assert_eq!(state.gain(), 1.0);
        let state = state.reduce(Action::ToggleMute);
        assert_eq!(state.gain(), 0.0);
        let state = state.reduce(Action::Volume(0.3));
        assert_eq!((state.muted, state.gain()), (false, 0.3));
        let cycle: Vec<Repeat> = (0..3)
            .scan(Repeat::Off, |r, _| {
                *r = r.next();
                Some(*r)
            })
            .collect();
        assert_eq!(cycle, [Repeat::All, Repeat::One, Repeat::Off]);
    }

    #[wasm_bindgen_test]
    fn a_queue_restored_sets_the_order_search_shuffle_and_repeat() {
        let state = Rc::new(State::default())
            .reduce(Action::Sort(Column::Duration))
            .reduce(Action::Sort(Column::Duration))
            .reduce(Action::Query("night".into()))
            .reduce(Action::ToggleShuffle(7))
            .reduce(Action::CycleRepeat);
        let queue = state.queue();
        assert_eq!(queue.order, "-duration");
        assert_eq!(
            (queue.query.as_str(), queue.shuffle, queue.repeat.as_str()),
            ("night", true, "all")
        );
        let other = Rc::new(State::default()).reduce(Action::Restore(queue.clone(), 9));
        assert_eq!(other.sort, (Column::Duration, false));
        assert_eq!(other.query, "night");
        assert_eq!(
            (other.shuffle, other.seed, other.repeat),
            (true, 9, Repeat::All)
        );
        assert_eq!(other.queue(), queue);
        // An order no column shows, or nonsense, leaves the sort as it was.
        let odd = Queue {
            order: "-name".into(),
            repeat: "sometimes".into(),
            ..Queue::default()
        };
        let kept = Rc::new(State::default()).reduce(Action::Restore(odd, 1));
        assert_eq!(
            (kept.sort, kept.repeat),
            (State::default().sort, Repeat::Off)
        );
    }
}
