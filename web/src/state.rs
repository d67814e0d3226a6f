//! The app's state and the actions that change it (a Yew reducer).

use std::rc::Rc;

use tapedeck_protocol::{SongId, SongInfo};
use yew::Reducible;

use crate::order::Mode;

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
    pub songs: Rc<Vec<SongInfo>>,
    pub query: String,
    pub sort: (Column, bool),
    pub current: Option<SongId>,
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
    pub help: bool,
    pub nerd_stats: bool,
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
            volume: 1.0,
            muted: false,
            shuffle: false,
            seed: 0,
            repeat: Repeat::Off,
            help: false,
            nerd_stats: false,
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
    /// Sets the volume (clamped to 0.0..=1.0) and unmutes.
    Volume(f32),
    ToggleMute,
    /// Turns shuffle on, in a new order (from the seed given), or off.
    ToggleShuffle(u64),
    CycleRepeat,
    ToggleHelp,
    ToggleNerdStats,
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
            Action::Volume(volume) => (next.volume, next.muted) = (volume.clamp(0.0, 1.0), false),
            Action::ToggleMute => next.muted = !next.muted,
            Action::ToggleShuffle(seed) => (next.shuffle, next.seed) = (!next.shuffle, seed),
            Action::CycleRepeat => next.repeat = next.repeat.next(),
            Action::ToggleHelp => next.help = !next.help,
            Action::ToggleNerdStats => next.nerd_stats = !next.nerd_stats,
        }
        if next == *self { self } else { Rc::new(next) }
    }
}

/// The songs matching the search, in the chosen order.
pub fn visible(state: &State) -> Vec<SongInfo> {
    select(&state.songs, &state.query, state.sort)
}

/// The `songs` matching `query` (case-insensitive, in title, artist, album or name), sorted by
/// `sort`.
pub fn select(songs: &[SongInfo], query: &str, sort: (Column, bool)) -> Vec<SongInfo> {
    let query = query.to_lowercase();
    let mut songs: Vec<SongInfo> = songs
        .iter()
        .filter(|s| {
            query.is_empty()
                || [&s.title, &s.artist, &s.album, &s.name]
                    .iter()
                    .any(|f| f.to_lowercase().contains(&query))
        })
        .cloned()
        .collect();
    let (column, ascending) = sort;
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

impl State {
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
        }
    }

    #[wasm_bindgen_test]
    fn search_and_sort() {
        let state = Rc::new(State::default()).reduce(Action::Library(vec![
            song(1, "b", "Zed", 3),
            song(2, "A", "yan", 1),
            song(3, "c", "Xu", 2),
        ]));
        let titles = |s: &State| visible(s).into_iter().map(|s| s.title).collect::<Vec<_>>();
        assert_eq!(titles(&state), ["A", "b", "c"]);
        let state = state.reduce(Action::Sort(Column::Title));
        assert_eq!(
            titles(&state),
            ["c", "b", "A"],
            "the same column again reverses"
        );
        let state = state.reduce(Action::Sort(Column::Duration));
        assert_eq!(titles(&state), ["A", "c", "b"]);
        let state = state.reduce(Action::Query("Y".into()));
        assert_eq!(
            titles(&state),
            ["A"],
            "search is case-insensitive, across fields"
        );
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
}
