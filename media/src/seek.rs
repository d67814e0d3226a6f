//! Streams that start part-way into a song (PROTOCOL.md 5.4): what to send so that the octets
//! decode on their own, and how many decoded sample frames to drop so that what is left is
//! exactly the whole song's decode from the target frame on.
//!
//! The target is a sample frame of the whole song's decode, as a decoder that trims encoder
//! delay and padding gives it (symphonia, Tapedeck's player): frame 0 is the first sample a
//! listener hears. Each container's planner builds the stream from octets it makes up (a
//! header with fixed sizes, the FLAC stream info, a new Xing/LAME frame) and ranges of the file,
//! starting early enough for the decoder to warm up (an MP3 bit reservoir, a transform's
//! overlap), and counts the frames the warm-up decodes to.

use std::ops::Range;

use crate::{Format, MediaError, ReadAt};

/// One piece of a planned stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Octets made up for this stream (a rewritten header).
    Made(Vec<u8>),
    /// A range of the song file, sent unchanged.
    File(Range<u64>),
}

impl Part {
    pub fn len(&self) -> u64 {
        match self {
            Part::Made(bytes) => bytes.len() as u64,
            Part::File(range) => range.end.saturating_sub(range.start),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What to send for a play that starts at a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The stream, in order.
    pub parts: Vec<Part>,
    /// Decoded sample frames to drop before the target.
    pub skip: u64,
    /// The song's sample rate: the target frame is `round(ms * rate / 1000)`.
    pub rate: u32,
}

impl Plan {
    /// The stream's length in octets.
    pub fn len(&self) -> u64 {
        self.parts.iter().map(Part::len).sum()
    }

    /// The stream's octets, given the whole song `file` in memory (for tests and fuzzing; the
    /// server sends the parts from the file). A range past the end of `file` gives what there
    /// is of it.
    pub fn bytes(&self, file: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for part in &self.parts {
            match part {
                Part::Made(bytes) => out.extend_from_slice(bytes),
                Part::File(range) => {
                    let at = |o: u64| usize::try_from(o).unwrap_or(usize::MAX).min(file.len());
                    out.extend_from_slice(
                        &file[at(range.start)..at(range.end).max(at(range.start))],
                    );
                }
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why a play cannot start where it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum SeekError {
    /// The position is at or past the end of the song.
    #[error("position past the end")]
    PastEnd,
    /// The file could not be read, or is not what its name says.
    #[error(transparent)]
    Media(#[from] MediaError),
}

impl From<std::io::Error> for SeekError {
    fn from(err: std::io::Error) -> Self {
        Self::Media(err.into())
    }
}

/// The sample frame at `ms` milliseconds of a song at `rate`: `round(ms * rate / 1000)`.
pub fn target_frame(ms: u64, rate: u32) -> u64 {
    let exact = u128::from(ms) * u128::from(rate);
    u64::try_from((exact + 500) / 1000).unwrap_or(u64::MAX)
}

/// What a play from the start sends: the whole file, as it is; except an mp4 file whose
/// index follows its media data, which is sent with the index first (a player can then
/// decode from the first octets on, see `mp4::faststart`).
pub fn whole(
    format: Option<Format>,
    file: &(impl ReadAt + ?Sized),
    size: u64,
) -> std::io::Result<Vec<Part>> {
    match format {
        Some(Format::Mp4) => crate::mp4::faststart(file, size),
        _ => Ok(vec![Part::File(0..size)]),
    }
}

/// Plans a stream of the song `file` (of `size` octets, in `format`) starting at `ms`.
pub fn plan(
    format: Format,
    file: &(impl ReadAt + ?Sized),
    size: u64,
    ms: u64,
) -> Result<Plan, SeekError> {
    match format {
        Format::Wav | Format::Aiff => crate::riff::seek(format, file, size, ms),
        Format::Flac => crate::flac::seek(file, size, ms),
        Format::Mp3 => crate::mp3::seek(file, size, ms),
        Format::Ogg => crate::ogg::seek(file, size, ms),
        Format::Mp4 => crate::mp4::seek(file, size, ms),
        Format::Adts => crate::adts::seek(file, size, ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_frames_round_to_nearest() {
        assert_eq!(target_frame(0, 44_100), 0);
        assert_eq!(target_frame(1000, 44_100), 44_100);
        assert_eq!(target_frame(1, 44_100), 44);
        assert_eq!(target_frame(3, 22_050), 66);
        assert_eq!(target_frame(u64::MAX, 192_000), u64::MAX);
    }
}
