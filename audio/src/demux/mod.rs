//! Where the decoder's packets come from: one of symphonia's readers (MPEG audio, ADTS), the
//! page's mp4 reader, or one of Tapedeck's own demuxers for PCM in WAV and AIFF ([`pcm`]),
//! native FLAC ([`flac`]) and Ogg ([`ogg`]).
//!
//! The own demuxers read the shared input buffer in place and take a unit (a page, a frame, a
//! chunk header) only once all of it is buffered: short of it they answer "not yet"
//! ([`not_yet`]), and are asked again once more bytes came. They read no tags: symphonia's
//! readers for these formats parse Vorbis comments, pictures and RIFF INFO through its metadata
//! crate and a regex engine, which cost the page's bundle about 60 KB gzipped.

use std::io;

use symphonia::core::codecs::audio::AudioCodecParameters;
use symphonia::core::errors::{Error, Result};
use symphonia::core::formats::{FormatReader, TrackType};
use symphonia::core::packet::Packet;

use crate::source::Input;

mod crc;
pub mod flac;
pub mod ogg;
pub mod pcm;
mod xiph;

/// A source of one audio track's packets.
pub trait Demux {
    /// Reads what comes before the audio until the track's codec parameters are known.
    /// `Ok(())` at once for a demuxer that knew them when it was made.
    fn prepare(&mut self) -> Result<()>;

    /// The track's id and codec parameters, once known.
    fn track(&self) -> Option<(u32, &AudioCodecParameters)>;

    /// The next packet, `None` at the end of the track.
    fn next_packet(&mut self) -> Result<Option<Packet>>;

    /// Whether a packet may only be read while the decoder's `MARGIN` is buffered beyond it
    /// (symphonia's readers, which cannot resume a packet cut short); the own demuxers wait
    /// for a whole unit themselves.
    fn needs_margin(&self) -> bool {
        false
    }
}

impl Demux for Box<dyn FormatReader> {
    fn prepare(&mut self) -> Result<()> {
        Ok(())
    }

    fn track(&self) -> Option<(u32, &AudioCodecParameters)> {
        let track = self.default_track(TrackType::Audio)?;
        Some((track.id, track.codec_params.as_ref()?.audio()?))
    }

    fn next_packet(&mut self) -> Result<Option<Packet>> {
        FormatReader::next_packet(self.as_mut())
    }

    fn needs_margin(&self) -> bool {
        true
    }
}

/// The error of a read that needs bytes not buffered yet: "would block" while more may come,
/// an unexpected end once the input is complete.
pub fn not_yet(finished: bool) -> Error {
    let kind = if finished {
        io::ErrorKind::UnexpectedEof
    } else {
        io::ErrorKind::WouldBlock
    };
    Error::IoError(io::Error::from(kind))
}

/// Whether `err` is [`not_yet`]'s "would block".
pub fn is_not_yet(err: &Error) -> bool {
    matches!(err, Error::IoError(err) if err.kind() == io::ErrorKind::WouldBlock)
}

/// The input as the own demuxers read it: whole units, in place.
#[derive(Debug, Clone)]
pub struct Bytes(Input);

impl Bytes {
    pub fn new(input: Input) -> Self {
        Self(input)
    }

    /// Runs `f` on the unread bytes (contiguous) and whether the input is complete.
    pub fn look<T>(&self, f: impl FnOnce(&[u8], bool) -> T) -> T {
        self.0.with(|shared| {
            let finished = shared.finished;
            f(shared.unread.make_contiguous(), finished)
        })
    }

    /// How many bytes are buffered, and whether the input is complete (without making the
    /// buffer contiguous, as [`Self::look`] does).
    pub fn buffered(&self) -> (usize, bool) {
        self.0.with(|shared| (shared.unread.len(), shared.finished))
    }

    /// The first `n` unread bytes, taken, once all are buffered.
    pub fn take(&self, n: usize) -> Result<Box<[u8]>> {
        self.0.with(|shared| {
            if shared.unread.len() < n {
                return Err(not_yet(shared.finished));
            }
            let (front, back) = shared.unread.as_slices();
            let mut taken = Vec::with_capacity(n);
            taken.extend_from_slice(&front[..n.min(front.len())]);
            taken.extend_from_slice(&back[..n - taken.len()]);
            shared.unread.drain(..n);
            Ok(taken.into_boxed_slice())
        })
    }

    /// Drops up to `n` unread bytes, as many as are buffered: how many were dropped.
    pub fn skip(&self, n: u64) -> u64 {
        self.0.with(|shared| {
            let n = usize::try_from(n)
                .unwrap_or(usize::MAX)
                .min(shared.unread.len());
            shared.unread.drain(..n);
            n as u64
        })
    }

    /// Drops `*left` bytes as they come: `Ok` once all are dropped, else "not yet".
    pub fn skip_all(&self, left: &mut u64) -> Result<()> {
        *left -= self.skip(*left);
        if *left == 0 {
            return Ok(());
        }
        Err(not_yet(self.buffered().1))
    }
}
