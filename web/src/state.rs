//! The app's state and the actions that change it (a Yew reducer).

use std::rc::Rc;

use tapedeck_protocol::{SongId, SongInfo};
use yew::Reducible;

/// The link to the bridge, as the page says it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Connection {
    Connecting,
    Connected,
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
}

impl Playback {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stopped => "stopped",
            Self::Buffering => "buffering",
            Self::Playing => "playing",
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

/// Where the current song is.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Progress {
    pub position_s: f64,
    pub duration_s: f64,
    pub buffered_s: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub connection: Connection,
    pub songs: Rc<Vec<SongInfo>>,
    pub query: String,
    pub sort: (Column, bool),
    pub current: Option<SongId>,
    pub playback: Playback,
    pub progress: Progress,
    pub error: Option<String>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            connection: Connection::Connecting,
            songs: Rc::default(),
            query: String::new(),
            sort: (Column::Title, true),
            current: None,
            playback: Playback::Stopped,
            progress: Progress::default(),
            error: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Connection(Connection),
    Library(Vec<SongInfo>),
    Query(String),
    /// Sort by a column; the same column again reverses the order.
    Sort(Column),
    Current(Option<SongId>),
    Playback(Playback, Progress),
    Error(Option<String>),
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Connection(connection) => next.connection = connection,
            Action::Library(songs) => next.songs = Rc::new(songs),
            Action::Query(query) => next.query = query,
            Action::Sort(column) if next.sort.0 == column => next.sort.1 = !next.sort.1,
            Action::Sort(column) => next.sort = (column, true),
            Action::Current(current) => next.current = current,
            Action::Playback(playback, progress) => {
                (next.playback, next.progress) = (playback, progress)
            }
            Action::Error(error) => next.error = error,
        }
        if next == *self { self } else { Rc::new(next) }
    }
}

/// The songs matching the search, in the chosen order.
pub fn visible(state: &State) -> Vec<SongInfo> {
    let query = state.query.to_lowercase();
    let mut songs: Vec<SongInfo> = state
        .songs
        .iter()
        .filter(|s| {
            query.is_empty()
                || [&s.title, &s.artist, &s.album, &s.name]
                    .iter()
                    .any(|f| f.to_lowercase().contains(&query))
        })
        .cloned()
        .collect();
    let (column, ascending) = state.sort;
    songs.sort_by(|a, b| {
        let order = match column {
            Column::Title => a.title.to_lowercase().cmp(&b.title.to_lowercase()),
            Column::Artist => a.artist.to_lowercase().cmp(&b.artist.to_lowercase()),
            Column::Album => a.album.to_lowercase().cmp(&b.album.to_lowercase()),
            Column::Duration => a.duration_ms.cmp(&b.duration_ms),
            Column::Format => a.format.cmp(&b.format),
        };
        if ascending { order } else { order.reverse() }
    });
    songs
}
