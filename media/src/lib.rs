//! What Tapedeck knows about audio containers without decoding them:
//!
//! - [`layout`]: where a file's audio lies, so that its average bitrate counts audio alone
//!   (not tags, cover art, indexes or padding), and [`exact_duration`];
//! - [`Clock`]: the media time at which a player needs each octet of a stream, which is what
//!   the server paces by.
//!
//! Pure parsing over [`ReadAt`] (positioned reads) and byte slices: no other I/O, no
//! decoding, nothing async. Every parser takes hostile input: it returns `None` or an error,
//! never panics, and reads a bounded amount.

mod adts;
mod clock;
pub mod flac;
mod mp3;
pub mod mp4;
pub mod ogg;
pub mod read;
mod riff;
pub mod seek;
mod tags;

pub use clock::Clock;
pub use read::ReadAt;

/// A container Tapedeck can look into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// MPEG audio (layer I, II or III), with ID3 and APE tags around it.
    Mp3,
    /// AAC in ADTS frames (`.aac`).
    Adts,
    Flac,
    /// Ogg with Vorbis, Opus or FLAC inside.
    Ogg,
    Wav,
    Aiff,
    /// MPEG-4 audio (`.m4a`, AAC or ALAC).
    Mp4,
}

impl Format {
    /// The container of a file with this extension (any case).
    pub fn from_extension(ext: &str) -> Option<Self> {
        Some(match ext.to_ascii_lowercase().as_str() {
            "mp3" | "mp2" | "mpga" => Self::Mp3,
            "aac" => Self::Adts,
            "flac" => Self::Flac,
            "ogg" | "oga" | "opus" => Self::Ogg,
            "wav" => Self::Wav,
            "aif" | "aiff" | "aifc" => Self::Aiff,
            "m4a" | "mp4" | "m4b" => Self::Mp4,
            _ => return None,
        })
    }
}

/// Where a file's audio lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The offset of the first octet of audio.
    pub audio_start: u64,
    /// Octets of audio: the file less its tags, cover art, index, headers and padding.
    pub audio_octets: u64,
}

/// Why a file's layout or clock could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// Reading the file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The file is not the container its name says, or is broken where it matters.
    #[error("not a valid {format:?} file: {reason}")]
    Malformed {
        format: Format,
        reason: &'static str,
    },
}

/// Reads just enough of a file of `size` octets to find where its audio lies.
pub fn layout(
    format: Format,
    file: &(impl ReadAt + ?Sized),
    size: u64,
) -> Result<Layout, MediaError> {
    let malformed = |reason| MediaError::Malformed { format, reason };
    let range = match format {
        Format::Mp3 | Format::Adts => {
            let start = tags::leading(file, size)?;
            let end = size - tags::trailing(file, size)?;
            Some((start, end.max(start)))
        }
        Format::Flac => flac::audio(file, size)?,
        Format::Ogg => ogg::audio(file, size)?,
        Format::Wav | Format::Aiff => riff::pcm(format, file, size)?.map(|p| (p.start, p.end)),
        Format::Mp4 => mp4::audio(file, size)?,
    };
    let (start, end) = range.ok_or_else(|| malformed("no audio found"))?;
    Ok(Layout {
        audio_start: start,
        audio_octets: end.saturating_sub(start),
    })
}

/// The playing time in seconds as a gapless decoder plays it, where the container says it
/// better than a tag reader's estimate: MPEG audio whose Xing/LAME tag counts its frames (less
/// the encoder delay and padding), and raw streams whose length only counting tells (ADTS AAC;
/// MPEG audio without a header whose frames vary in bitrate: counted frame by frame, reading
/// the whole file; mp4, whose index counts it, less the priming and padding its edit list or
/// iTunes tag states). `None` for every other file.
pub fn exact_duration(
    format: Format,
    file: &(impl ReadAt + ?Sized),
    size: u64,
) -> Result<Option<f64>, MediaError> {
    let walk: Box<dyn clock::Walk + Send> = match format {
        Format::Adts => Box::new(adts::Walker::default()),
        Format::Mp3 => {
            let layout = layout(format, file, size)?;
            if let Some(seconds) = mp3::stated_duration(file, layout.audio_start)? {
                return Ok(Some(seconds));
            }
            let end = layout.audio_start + layout.audio_octets;
            if !mp3::needs_counting(file, layout.audio_start, end)? {
                return Ok(None);
            }
            Box::new(mp3::Walker::default())
        }
        Format::Mp4 => return mp4_duration(file, size),
        _ => return Ok(None),
    };
    Ok(clock::count(walk, file, size)?)
}

fn mp4_duration(file: &(impl ReadAt + ?Sized), size: u64) -> Result<Option<f64>, MediaError> {
    let Some(moov) = mp4::read_moov(file, size)? else {
        return Ok(None);
    };
    // Only a fragmented file's samples need walking; an index that lists them all is summed
    // (this runs for every file of a scan).
    let sound = if mp4::is_fragmented(&moov) {
        mp4::timeline(file, size, &moov)?.map(|(_, sound)| sound)
    } else {
        mp4::gapless(&moov)
    };
    Ok(sound.map(|g| g.frames as f64 / f64::from(g.timescale)))
}

/// The average bitrate in bits per second of `octets` of audio lasting `duration_ms`; 0 when
/// the duration is unknown.
pub fn average_bitrate(octets: u64, duration_ms: u64) -> u32 {
    if duration_ms == 0 {
        return 0;
    }
    let bits = u128::from(octets) * 8000;
    let rate = (bits + u128::from(duration_ms) / 2) / u128::from(duration_ms);
    u32::try_from(rate).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_name_containers_in_any_case() {
        assert_eq!(Format::from_extension("MP3"), Some(Format::Mp3));
        assert_eq!(Format::from_extension("opus"), Some(Format::Ogg));
        assert_eq!(Format::from_extension("M4A"), Some(Format::Mp4));
        assert_eq!(Format::from_extension("txt"), None);
    }

    #[test]
    fn the_average_rounds_and_knows_no_duration() {
        assert_eq!(average_bitrate(40_000, 1000), 320_000);
        assert_eq!(average_bitrate(1, 3), 2667);
        assert_eq!(average_bitrate(1000, 0), 0);
        assert_eq!(average_bitrate(u64::MAX, 1), u32::MAX);
    }
}
