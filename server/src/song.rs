//! The songs of a library, kept in a few large allocations: a library holds a million of
//! them. Each song is a record of fixed size; the texts of every song (name, title, artist,
//! album) are one string; what few songs have (a file of their own path, a folder image that
//! a folder's songs share) is kept beside. A [`Song`] is a view of one, and its song object
//! (`SongInfo`) is made only when a reply needs it.
//!
//! One string and one array instead of an allocation or three a song: about 150 bytes a song
//! less, and nothing for the allocator to keep once a snapshot is let go (BENCHMARKS.md).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tapedeck_protocol::{SongId, SongInfo};

use crate::index::art::Art;
use crate::index::{EXTENSIONS, Facts};

/// Every song of a snapshot, in the order they were pushed (the library's: by name).
#[derive(Debug, Default)]
pub struct Songs {
    records: Vec<Record>,
    /// The texts of every song, one song after the other.
    text: String,
    /// The canonical path of the file of each song (by place) that is not the music folder
    /// joined with its name (a link was followed), in order of place.
    paths: Vec<(u32, Box<Path>)>,
    /// The folder images songs name (by `Record::art`).
    images: Vec<Arc<Path>>,
    /// While songs are pushed: where each image is in `images`.
    image_at: HashMap<Arc<Path>, u32>,
}

/// One song's facts of fixed size.
#[derive(Debug)]
struct Record {
    /// Where its texts start in `Songs::text`.
    start: usize,
    /// The lengths of its name, title and artist (the album runs to the next song's start);
    /// a tag is at most 1,024 characters (`tags::MAX_TAG_CHARS`), so 16 bits hold it.
    lens: (u32, u16, u16),
    id: SongId,
    size: u64,
    /// Up to 49 days.
    duration_ms: u32,
    sample_rate: u32,
    bitrate: u32,
    /// Track gain, track peak, album gain, album peak; NaN where the file has none.
    gains: [f32; 4],
    channels: u8,
    /// Its extension's place in [`EXTENSIONS`].
    format: u8,
    /// [`NO_ART`], [`EMBEDDED`], or [`FIRST_IMAGE`] plus the image's place in `images`.
    art: u32,
}

const NO_ART: u32 = 0;
const EMBEDDED: u32 = 1;
const FIRST_IMAGE: u32 = 2;

impl Songs {
    /// Adds a whole song: its id, name, file (`None` when it is the music folder joined with
    /// the name), size and what its tags say.
    pub(crate) fn push(
        &mut self,
        id: SongId,
        name: &str,
        path: Option<PathBuf>,
        size: u64,
        facts: Facts,
    ) {
        let place = u32::try_from(self.records.len()).unwrap_or(u32::MAX);
        let start = self.text.len();
        let (title, artist) = (at_most_u16(&facts.title), at_most_u16(&facts.artist));
        let short = |text: &str| u16::try_from(text.len()).unwrap_or(u16::MAX);
        let name_len = u32::try_from(name.len()).unwrap_or(u32::MAX);
        let lens = (name_len, short(title), short(artist));
        for part in [name, title, artist, &facts.album] {
            self.text.push_str(part);
        }
        if let Some(path) = path {
            self.paths.push((place, path.into_boxed_path()));
        }
        let art = match facts.art {
            None => NO_ART,
            Some(Art::Embedded) => EMBEDDED,
            Some(Art::Image(image)) => FIRST_IMAGE.saturating_add(self.image(image)),
        };
        let format = EXTENSIONS.iter().position(|e| *e == facts.format);
        let g = facts.gains;
        let gain = |value: Option<f32>| value.unwrap_or(f32::NAN);
        self.records.push(Record {
            start,
            lens,
            id,
            size,
            duration_ms: u32::try_from(facts.duration_ms).unwrap_or(u32::MAX),
            sample_rate: facts.sample_rate,
            bitrate: facts.bitrate,
            gains: [g.track_gain_db, g.track_peak, g.album_gain_db, g.album_peak].map(gain),
            channels: facts.channels,
            format: format.and_then(|f| u8::try_from(f).ok()).unwrap_or(u8::MAX),
            art,
        });
    }

    /// The place of `image` in `images`, added if new.
    fn image(&mut self, image: Arc<Path>) -> u32 {
        let next = u32::try_from(self.images.len()).unwrap_or(u32::MAX);
        *self.image_at.entry(image).or_insert_with_key(|image| {
            self.images.push(Arc::clone(image));
            next
        })
    }

    /// Lets go of what pushing needed and of spare room: the songs are complete.
    pub(crate) fn complete(&mut self) {
        self.image_at = HashMap::new();
        self.records.shrink_to_fit();
        self.text.shrink_to_fit();
        self.paths.shrink_to_fit();
        self.images.shrink_to_fit();
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The song at `place`.
    pub fn get(&self, place: usize) -> Option<Song<'_>> {
        let record = self.records.get(place)?;
        let end = self
            .records
            .get(place + 1)
            .map_or(self.text.len(), |r| r.start);
        Some(Song {
            songs: self,
            record,
            place,
            text: self.text.get(record.start..end).unwrap_or_default(),
        })
    }

    /// Every song, in order.
    pub fn iter(&self) -> impl Iterator<Item = Song<'_>> {
        (0..self.len()).filter_map(|place| self.get(place))
    }

    /// The octets of every song's texts together.
    pub(crate) fn text_len(&self) -> usize {
        self.text.len()
    }

    /// The id of the song at `place` (without making a view).
    pub(crate) fn id_at(&self, place: usize) -> Option<SongId> {
        self.records.get(place).map(|r| r.id)
    }
}

/// `text`, cut at a character to at most 65,535 octets (what a tag read is never longer than).
fn at_most_u16(text: &str) -> &str {
    let mut end = text.len().min(usize::from(u16::MAX));
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// One song of [`Songs`].
#[derive(Debug, Clone, Copy)]
pub struct Song<'a> {
    songs: &'a Songs,
    record: &'a Record,
    place: usize,
    /// Its name, title, artist and album, one after the other.
    text: &'a str,
}

impl<'a> Song<'a> {
    /// The `n`th of the four texts.
    fn part(self, n: usize) -> &'a str {
        let (name, title, artist) = self.record.lens;
        let lens = [name as usize, usize::from(title), usize::from(artist)];
        let start: usize = lens.iter().take(n).sum();
        let end = lens.get(n).map_or(self.text.len(), |len| start + len);
        self.text.get(start..end).unwrap_or_default()
    }

    pub fn id(self) -> SongId {
        self.record.id
    }

    pub fn name(self) -> &'a str {
        self.part(0)
    }

    pub fn title(self) -> &'a str {
        self.part(1)
    }

    pub fn artist(self) -> &'a str {
        self.part(2)
    }

    pub fn album(self) -> &'a str {
        self.part(3)
    }

    /// The extension in lower case (one of [`EXTENSIONS`]).
    pub fn format(self) -> &'static str {
        EXTENSIONS
            .get(usize::from(self.record.format))
            .copied()
            .unwrap_or_default()
    }

    pub fn duration_ms(self) -> u64 {
        u64::from(self.record.duration_ms)
    }

    /// Where its cover art is.
    pub fn art(self) -> Option<Art> {
        match self.record.art {
            NO_ART => None,
            EMBEDDED => Some(Art::Embedded),
            image => {
                let at = usize::try_from(image - FIRST_IMAGE).ok()?;
                self.songs.images.get(at).cloned().map(Art::Image)
            }
        }
    }

    /// The file's canonical path when it is not the music folder joined with the name.
    pub(crate) fn own_path(self) -> Option<&'a Path> {
        let paths = &self.songs.paths;
        let place = u32::try_from(self.place).ok()?;
        let at = paths.binary_search_by_key(&place, |(p, _)| *p).ok()?;
        paths.get(at).map(|(_, path)| &**path)
    }

    /// The song object (PROTOCOL.md 6.2).
    pub fn info(self) -> SongInfo {
        let r = self.record;
        let [track_gain_db, track_peak, album_gain_db, album_peak] =
            r.gains.map(|g| (!g.is_nan()).then_some(g));
        SongInfo {
            id: r.id,
            name: self.name().to_owned(),
            title: self.title().to_owned(),
            artist: self.artist().to_owned(),
            album: self.album().to_owned(),
            duration_ms: u64::from(r.duration_ms),
            format: self.format().to_owned(),
            sample_rate: r.sample_rate,
            channels: r.channels,
            bitrate: r.bitrate,
            size: r.size,
            track_gain_db,
            track_peak,
            album_gain_db,
            album_peak,
            art: r.art != NO_ART,
        }
    }
}

#[cfg(test)]
impl Songs {
    /// The songs these objects describe, in this order, none with art (for tests).
    pub(crate) fn of_infos(infos: impl IntoIterator<Item = SongInfo>) -> Self {
        let mut songs = Self::default();
        for info in infos {
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
                art: None,
            };
            songs.push(info.id, &info.name, None, info.size, facts);
        }
        songs.complete();
        songs
    }

    /// The `i`th of a made-up library: `{i:07}.mp3`, id `i + 1`, a second of 128 kbit/s mp3
    /// with these tags (for tests).
    pub(crate) fn made_up(i: usize, title: String, artist: String, album: String) -> SongInfo {
        SongInfo {
            id: SongId(u32::try_from(i).unwrap_or(u32::MAX).saturating_add(1)),
            name: format!("{i:07}.mp3"),
            title,
            artist,
            album,
            duration_ms: 1000,
            format: "mp3".into(),
            sample_rate: 44_100,
            channels: 2,
            bitrate: 128_000,
            size: 1,
            track_gain_db: None,
            track_peak: None,
            album_gain_db: None,
            album_peak: None,
            art: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Gains;

    fn facts(title: &str, art: Option<Art>) -> Facts {
        Facts {
            title: title.into(),
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
            art,
        }
    }

    #[test]
    fn a_song_gives_back_what_it_was_made_of() {
        let image: Arc<Path> = Arc::from(Path::new("/music/a/cover.jpg"));
        let mut songs = Songs::default();
        songs.push(
            SongId(7),
            "a/b.flac",
            None,
            9,
            facts("Título", Some(Art::Embedded)),
        );
        let linked = PathBuf::from("/elsewhere/c.flac");
        let second = facts("", Some(Art::Image(Arc::clone(&image))));
        songs.push(SongId(3), "a/c.flac", Some(linked.clone()), 1, second);
        songs.push(
            SongId(9),
            "a/d.flac",
            None,
            2,
            facts("x", Some(Art::Image(image))),
        );
        songs.complete();
        let first = songs.get(0).expect("a song");
        let info = first.info();
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
        assert_eq!((info.track_gain_db, info.track_peak), (Some(-3.5), None));
        assert!(
            first.own_path().is_none(),
            "the folder joined with the name"
        );
        assert_eq!(first.art(), Some(Art::Embedded));
        let second = songs.get(1).expect("a song");
        assert_eq!((second.id(), second.title()), (SongId(3), ""));
        assert_eq!(second.own_path(), Some(linked.as_path()));
        assert_eq!(songs.images.len(), 1, "one image shared by two songs");
        assert_eq!(second.art(), songs.get(2).and_then(Song::art));
        assert_eq!(
            songs.iter().map(Song::id).collect::<Vec<_>>(),
            [7, 3, 9].map(SongId)
        );
        assert!(songs.get(3).is_none());
    }

    proptest::proptest! {
        /// Whatever the texts (empty, any characters), every song gives back its own.
        #[test]
        fn every_song_gives_back_its_texts(
            texts in proptest::collection::vec(
                ("\\PC{0,12}", "\\PC{0,12}", "\\PC{0,12}", "\\PC{0,12}"),
                0..40,
            )
        ) {
            let mut songs = Songs::default();
            for (i, (name, title, artist, album)) in texts.iter().enumerate() {
                let mut f = facts(title, None);
                (f.artist, f.album) = (artist.clone(), album.clone());
                let id = SongId(u32::try_from(i).unwrap_or(u32::MAX));
                songs.push(id, name, None, 1, f);
            }
            songs.complete();
            proptest::prop_assert_eq!(songs.len(), texts.len());
            for (song, (name, title, artist, album)) in songs.iter().zip(&texts) {
                proptest::prop_assert_eq!(
                    [song.name(), song.title(), song.artist(), song.album()],
                    [name.as_str(), title.as_str(), artist.as_str(), album.as_str()]
                );
            }
        }
    }

    /// Absurd values are held as far as the record goes, and nothing after them moves.
    #[test]
    fn absurd_values_stay_in_their_fields() {
        let mut songs = Songs::default();
        let mut long = facts(&"é".repeat(40_000), None);
        long.duration_ms = u64::MAX;
        songs.push(SongId(1), "a.flac", None, 1, long);
        songs.push(SongId(2), "b.flac", None, 1, facts("b", None));
        let (first, second) = (songs.get(0).expect("a"), songs.get(1).expect("b"));
        assert_eq!(first.title().chars().count(), 32_767, "cut at a character");
        assert_eq!((first.artist(), first.album()), ("", "𝄞 Album"));
        assert_eq!(first.duration_ms(), u64::from(u32::MAX));
        assert_eq!((second.name(), second.title()), ("b.flac", "b"));
        assert_eq!(std::mem::size_of::<Record>(), 64);
    }
}
