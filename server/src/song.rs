//! One servable song, kept small: a library holds a million of them. Its four texts (name,
//! title, artist, album) share one allocation, its format is one of the extensions listed,
//! and its song object (`SongInfo`) is made only when a reply needs it.

use std::path::{Path, PathBuf};

use tapedeck_protocol::{SongId, SongInfo};

use crate::index::art::Art;
use crate::index::{EXTENSIONS, Facts};

#[derive(Debug)]
pub struct Song {
    id: SongId,
    /// The name, title, artist and album, one after the other.
    text: Box<str>,
    /// Where the name, the title and the artist end in `text`.
    ends: [u32; 3],
    /// The extension in lower case (one of [`EXTENSIONS`]).
    format: &'static str,
    duration_ms: u64,
    size: u64,
    sample_rate: u32,
    bitrate: u32,
    channels: u8,
    /// Track gain, track peak, album gain, album peak.
    gains: [Option<f32>; 4],
    /// The canonical path of the file (checked to lie inside the music directory) when it
    /// is not the music directory joined with the name (a symbolic link was followed).
    path: Option<Box<Path>>,
    /// Where its cover art is.
    pub art: Option<Art>,
}

impl Song {
    /// A whole song: its id, name, file (`None` when it is the music directory joined with
    /// the name), size and what its tags say.
    pub(crate) fn new(
        id: SongId,
        name: String,
        path: Option<PathBuf>,
        size: u64,
        facts: Facts,
    ) -> Self {
        let path = path.map(PathBuf::into_boxed_path);
        let mut text = String::with_capacity(
            name.len() + facts.title.len() + facts.artist.len() + facts.album.len(),
        );
        let mut ends = [0; 3];
        for (at, part) in [&name, &facts.title, &facts.artist, &facts.album]
            .into_iter()
            .enumerate()
        {
            text.push_str(part);
            if let Some(end) = ends.get_mut(at) {
                *end = u32::try_from(text.len()).unwrap_or(u32::MAX);
            }
        }
        let g = facts.gains;
        Self {
            id,
            text: text.into_boxed_str(),
            ends,
            format: EXTENSIONS
                .iter()
                .find(|e| **e == facts.format)
                .copied()
                .unwrap_or(""),
            duration_ms: facts.duration_ms,
            size,
            sample_rate: facts.sample_rate,
            bitrate: facts.bitrate,
            channels: facts.channels,
            gains: [g.track_gain_db, g.track_peak, g.album_gain_db, g.album_peak],
            path,
            art: facts.art,
        }
    }

    /// The `n`th of the four texts.
    fn part(&self, n: usize) -> &str {
        let end = |i: usize| self.ends.get(i).map_or(self.text.len(), |&e| e as usize);
        let start = if n == 0 { 0 } else { end(n - 1) };
        self.text.get(start..end(n)).unwrap_or_default()
    }

    pub fn id(&self) -> SongId {
        self.id
    }

    pub fn name(&self) -> &str {
        self.part(0)
    }

    pub fn title(&self) -> &str {
        self.part(1)
    }

    pub fn artist(&self) -> &str {
        self.part(2)
    }

    pub fn album(&self) -> &str {
        self.part(3)
    }

    pub fn format(&self) -> &'static str {
        self.format
    }

    pub fn duration_ms(&self) -> u64 {
        self.duration_ms
    }

    /// The file's canonical path when it is not `root` joined with the name.
    pub(crate) fn own_path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The song object (PROTOCOL.md 6.2).
    pub fn info(&self) -> SongInfo {
        let [track_gain_db, track_peak, album_gain_db, album_peak] = self.gains;
        SongInfo {
            id: self.id,
            name: self.name().to_owned(),
            title: self.title().to_owned(),
            artist: self.artist().to_owned(),
            album: self.album().to_owned(),
            duration_ms: self.duration_ms,
            format: self.format.to_owned(),
            sample_rate: self.sample_rate,
            channels: self.channels,
            bitrate: self.bitrate,
            size: self.size,
            track_gain_db,
            track_peak,
            album_gain_db,
            album_peak,
            art: self.art.is_some(),
        }
    }
}

#[cfg(test)]
impl Song {
    /// The `i`th of a made-up library: `{i:07}.mp3`, id `i + 1`, a second of 128 kbit/s mp3
    /// with these tags (for tests).
    pub(crate) fn made_up(i: usize, title: String, artist: String, album: String) -> Self {
        let facts = Facts {
            title,
            artist,
            album,
            duration_ms: 1000,
            format: "mp3".into(),
            sample_rate: 44_100,
            channels: 2,
            bitrate: 128_000,
            gains: crate::index::Gains::default(),
            art: None,
        };
        let id = SongId(u32::try_from(i).unwrap_or(u32::MAX).saturating_add(1));
        Song::new(id, format!("{i:07}.mp3"), None, 1, facts)
    }

    /// Changes the song's facts as `change` changes its song object (for tests).
    pub(crate) fn edit(&mut self, change: impl FnOnce(&mut SongInfo)) {
        let mut info = self.info();
        change(&mut info);
        let facts = Facts {
            title: info.title,
            artist: info.artist,
            album: info.album,
            duration_ms: info.duration_ms,
            format: info.format,
            sample_rate: info.sample_rate,
            channels: info.channels,
            bitrate: info.bitrate,
            gains: crate::index::Gains {
                track_gain_db: info.track_gain_db,
                track_peak: info.track_peak,
                album_gain_db: info.album_gain_db,
                album_peak: info.album_peak,
            },
            art: self.art.take(),
        };
        *self = Song::new(info.id, info.name, None, info.size, facts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Gains;

    #[test]
    fn a_song_gives_back_what_it_was_made_of() {
        let facts = Facts {
            title: "Título".into(),
            artist: String::new(),
            album: "𝄞 Album".into(),
            duration_ms: 61_000,
            format: "flac".into(),
            sample_rate: 48_000,
            channels: 2,
            bitrate: 900_000,
            gains: Gains {
                track_gain_db: Some(-3.5),
                ..Gains::default()
            },
            art: Some(Art::Embedded),
        };
        let song = Song::new(SongId(7), "a/b.flac".into(), None, 9, facts);
        let info = song.info();
        assert_eq!(
            (
                info.name.as_str(),
                info.title.as_str(),
                info.artist.as_str(),
                info.album.as_str()
            ),
            ("a/b.flac", "Título", "", "𝄞 Album")
        );
        assert_eq!(
            (info.format.as_str(), info.size, info.art),
            ("flac", 9, true)
        );
        assert_eq!(info.track_gain_db, Some(-3.5));
        assert!(song.own_path().is_none(), "the folder joined with the name");
    }
}
