//! What the server says about its songs.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A song's number, stable for the life of a server process.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SongId(pub u32);

impl fmt::Display for SongId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The answer to `list`: each song's name (its path relative to the music directory, with `/`
/// separators) mapped to its id. A `BTreeMap` so the JSON is sorted by name and deterministic.
pub type SongList = BTreeMap<String, SongId>;

/// One song's metadata, as sent by `info`. Clients must ignore keys they do not know: servers
/// may add more.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SongInfo {
    /// The song's id, as in `list`.
    pub id: SongId,
    /// The song's name, as in `list`.
    pub name: String,
    /// The title tag, or the file name without its extension when the file has none.
    pub title: String,
    /// The artist tag; empty when unknown.
    pub artist: String,
    /// The album tag; empty when unknown.
    pub album: String,
    /// Playing time in milliseconds; 0 when unknown.
    pub duration_ms: u64,
    /// The file's extension in lower case (`mp3`, `flac`, ...).
    pub format: String,
    /// Samples per second per channel; 0 when unknown.
    pub sample_rate: u32,
    /// Number of channels; 0 when unknown.
    pub channels: u8,
    /// Average audio bitrate in bits per second; 0 when unknown.
    pub bitrate: u32,
    /// The file's size in bytes when the library was scanned.
    pub size: u64,
    /// The ReplayGain of the track, in dB (from its tags; absent when it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_gain_db: Option<f32>,
    /// The track's peak sample, 1.0 being full scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_peak: Option<f32>,
    /// The ReplayGain of the album the track is on, in dB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub album_gain_db: Option<f32>,
    /// The album's peak sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub album_peak: Option<f32>,
    /// The song has cover art (`art <id>`); absent when it has none.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub art: bool,
}

/// The answer to `songs <from> <count>`: `total` songs in the library, and `songs`, those from
/// the `from`th on (fewer than asked at the end of the library or at the reply's bounds; the
/// next page starts at `from + songs.len()`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SongPage {
    pub total: u32,
    pub from: u32,
    pub songs: Vec<SongInfo>,
}

/// The answer to `search <count> <query>`: how many songs match (`total`), and the best of
/// them, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Found {
    pub total: u32,
    pub songs: Vec<SongInfo>,
}

/// One artist in the answer to `artists`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtistInfo {
    /// The artist tag as the first of its songs (in name order) has it; empty for songs
    /// without one.
    pub name: String,
    pub albums: u32,
    pub songs: u32,
}

/// The answer to `artists <from> <count>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtistPage {
    pub total: u32,
    pub from: u32,
    pub artists: Vec<ArtistInfo>,
}

/// One album in the answer to `albums`: `id` is its first song's (in name order), which
/// `album <id>` takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlbumInfo {
    pub id: SongId,
    pub title: String,
    pub artist: String,
    pub songs: u32,
    /// A song of the album that has cover art, the first in name order (`art <id>` gives the
    /// album's picture); absent when none has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub art: Option<SongId>,
}

/// The answer to `albums <from> <count> [<artist>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlbumPage {
    pub total: u32,
    pub from: u32,
    pub albums: Vec<AlbumInfo>,
}

/// The answer to `album <id>`: the album and its songs, in name order (at most the bounds of
/// a page; `total` says how many it has).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlbumSongs {
    pub id: SongId,
    pub title: String,
    pub artist: String,
    pub total: u32,
    pub songs: Vec<SongInfo>,
}
