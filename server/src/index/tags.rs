//! Reads one file's tags and audio properties: lofty, and `tapedeck_media` where the
//! container says it better.

use std::error::Error as _;
use std::path::Path;

use lofty::file::{AudioFile, TaggedFileExt};
use lofty::probe::Probe;
use lofty::tag::{Accessor, ItemKey};
use tapedeck_media::{Format, average_bitrate};
use tracing::{debug, warn};

use super::art::Art;
use super::scan::extension;

/// What a file's tags and audio say: a song but for its id and name, which the index gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub title: String,
    pub artist: String,
    pub album: String,
    pub duration_ms: u64,
    /// The lower-case extension (`mp3`, `flac`, ...).
    pub format: String,
    pub sample_rate: u32,
    pub channels: u8,
    /// Average bits per second of the audio alone.
    pub bitrate: u32,
    pub gains: Gains,
    /// Where its cover art is, if it has any.
    pub art: Option<Art>,
}

/// ReplayGain, as the tags say it: each value absent when the file has none (or an absurd
/// one).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Gains {
    pub track_gain_db: Option<f32>,
    pub track_peak: Option<f32>,
    pub album_gain_db: Option<f32>,
    pub album_peak: Option<f32>,
}

/// The largest gain believed, either way, in dB (real ones stay within about 20).
const MAX_GAIN_DB: f32 = 64.0;
/// The largest peak believed (1.0 is full scale; a float master can pass it a little).
const MAX_PEAK: f32 = 64.0;
/// What R128 gains (Opus) are relative to, -23 LUFS, is 5 dB below ReplayGain's reference.
const R128_TO_REPLAY_GAIN_DB: f32 = 5.0;

/// Why a file's metadata could not be read: the file is skipped.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("the file is empty")]
    Empty,
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}: {source}", source = .0.source().map(ToString::to_string).unwrap_or_default())]
    Parse(#[from] lofty::error::FileParseError),
}

/// Reads the tags and audio properties of the file at `path`, `size` octets long.
pub fn read(path: &Path, size: u64) -> Result<Facts, MetadataError> {
    if size == 0 {
        return Err(MetadataError::Empty);
    }
    let tagged = Probe::open(path)?.guess_file_type()?.read()?;
    let props = tagged.properties();
    let audio = audio_facts(path, size);
    let duration_ms = audio
        .exact_ms
        .unwrap_or_else(|| u64::try_from(props.duration().as_millis()).unwrap_or(u64::MAX));
    let tag = tagged.primary_tag().or_else(|| tagged.first_tag());
    let text = |get: fn(&lofty::tag::Tag) -> Option<std::borrow::Cow<'_, str>>| {
        tag.and_then(get)
            .map(|s| bounded(s.trim(), path))
            .unwrap_or_default()
    };
    let title = Some(text(|t| t.title()))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| stem(path));
    Ok(Facts {
        title,
        artist: text(|t| t.artist()),
        album: text(|t| t.album()),
        duration_ms,
        format: extension(path).unwrap_or_default(),
        sample_rate: props.sample_rate().unwrap_or(0),
        channels: props.channels().unwrap_or(0),
        bitrate: audio
            .octets
            .map_or(0, |octets| average_bitrate(octets, duration_ms)),
        gains: gains(tagged.tags(), path),
        art: super::art::embedded(tagged.tags()).then_some(Art::Embedded),
    })
}

/// ReplayGain from any of the file's tags (ID3 `TXXX`, APE, Vorbis comments, iTunes
/// freeform atoms; R128 for Opus): the first tag that has a value gives it.
fn gains(tags: &[lofty::tag::Tag], path: &Path) -> Gains {
    let find = |key: ItemKey| tags.iter().find_map(|t| t.get_string(key));
    let value = |key: ItemKey, what: &str, max: f32| {
        let text = find(key)?;
        let number = parse_db(text).filter(|v| v.is_finite() && v.abs() <= max);
        if number.is_none() {
            warn!(path = %path.display(), value = text, "an unusable ReplayGain {what}: ignored");
        }
        number
    };
    let r128 = |key: ItemKey| {
        let text = find(key)?;
        let q78 = text.trim().parse::<i16>().ok();
        if q78.is_none() {
            warn!(path = %path.display(), value = text, "an unusable R128 gain: ignored");
        }
        Some(f32::from(q78?) / 256.0 + R128_TO_REPLAY_GAIN_DB)
    };
    let peak = |key: ItemKey| value(key, "peak", MAX_PEAK).filter(|p| *p > 0.0);
    Gains {
        track_gain_db: value(ItemKey::ReplayGainTrackGain, "gain", MAX_GAIN_DB)
            .or_else(|| r128(ItemKey::R128TrackGain)),
        track_peak: peak(ItemKey::ReplayGainTrackPeak),
        album_gain_db: value(ItemKey::ReplayGainAlbumGain, "gain", MAX_GAIN_DB)
            .or_else(|| r128(ItemKey::R128AlbumGain)),
        album_peak: peak(ItemKey::ReplayGainAlbumPeak),
    }
}

/// `-6.54 dB`, `+1.2 dB`, `0.98`: a number, with or without its unit.
fn parse_db(text: &str) -> Option<f32> {
    let text = text.trim();
    let number = text
        .strip_suffix("dB")
        .or_else(|| text.strip_suffix("db"))
        .or_else(|| text.strip_suffix("DB"))
        .unwrap_or(text);
    number.trim().parse().ok()
}

/// What the file's container says of its audio, beyond lofty.
#[derive(Debug, Default)]
struct AudioFacts {
    /// The audio's octets: the file less its tags, cover art, index and padding. Over the
    /// duration, the average bitrate; not the figure a header states (an Ogg stream's nominal
    /// bitrate can be four times its real one).
    octets: Option<u64>,
    /// The duration as a gapless decoder plays it, where the container says it better than
    /// lofty: an MP3's LAME tag (lofty counts the encoder delay and padding in), or counting
    /// frames of raw streams whose length no header states
    /// (lofty's estimate from the first frame of a VBR mp3 can be off by a factor of three).
    exact_ms: Option<u64>,
}

fn audio_facts(path: &Path, size: u64) -> AudioFacts {
    let Some(format) = extension(path).and_then(|e| Format::from_extension(&e)) else {
        return AudioFacts::default();
    };
    let facts = std::fs::File::open(path)
        .map_err(tapedeck_media::MediaError::from)
        .and_then(|file| {
            let layout = tapedeck_media::layout(format, &file, size)?;
            let exact = tapedeck_media::exact_duration(format, &file, size)?;
            Ok(AudioFacts {
                octets: Some(layout.audio_octets),
                exact_ms: exact.map(|s| (s * 1000.0).floor() as u64),
            })
        });
    facts.unwrap_or_else(|err| {
        debug!(path = %path.display(), error = %err, "audio not found: bitrate unknown");
        AudioFacts::default()
    })
}

/// The longest title, artist or album kept, in characters. Longer tags (a lyric pasted into a
/// title, a corrupt frame) are cut there: every song object stays small, and so do the pages
/// of replies built from them.
pub const MAX_TAG_CHARS: usize = 1024;

/// `text` cut to [`MAX_TAG_CHARS`], saying so in the log.
fn bounded(text: &str, path: &Path) -> String {
    match text.char_indices().nth(MAX_TAG_CHARS) {
        Some((end, _)) => {
            warn!(path = %path.display(), chars = text.chars().count(), "a tag cut to {MAX_TAG_CHARS} characters");
            text[..end].to_owned()
        }
        None => text.to_owned(),
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gains_read_with_or_without_their_unit() {
        assert_eq!(parse_db("-6.54 dB"), Some(-6.54));
        assert_eq!(parse_db(" +1.20 db "), Some(1.2));
        assert_eq!(parse_db("0.988525"), Some(0.988_525));
        assert_eq!(parse_db("loud"), None);
    }
}
