//! PCM in RIFF WAVE (RF64 too) and AIFF (and AIFF-C): the format chunk gives the codec, then
//! the sound data chunk is cut into packets of whole sample frames. The chunks before the
//! format chunk are read whole (they are small in any real file); those after it are skipped
//! as they arrive, however large. Codecs are named as symphonia's readers name them, so that
//! symphonia's PCM decoder gives the same samples.

use symphonia::core::audio::Channels;
use symphonia::core::codecs::audio::well_known as codec;
use symphonia::core::codecs::audio::{AudioCodecId, AudioCodecParameters};
use symphonia::core::errors::{Error, Result, decode_error, unsupported_error};
use symphonia::core::packet::Packet;
use symphonia::core::units::{Duration, Timestamp};
use tapedeck_media::read::{be16, be32, le16, le32, le64};

use super::{Bytes, Demux, not_yet};

/// Octets of sound data a packet holds at most (whole frames; at least one frame).
const PACKET: usize = 16 * 1024;

/// The most channels a stream may have: the Web Audio API's limit.
const MAX_CHANNELS: u16 = 32;

/// Chunks walked at most before the sound data.
const MAX_CHUNKS: usize = 1024;

/// Where the reader is in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Before the format chunk.
    Start,
    /// Between chunks, after the format chunk: `n` chunks walked.
    Chunks(usize),
    /// Skipping `left` octets: the rest of a chunk (then the next chunk, `walked` walked), or
    /// the padding before the samples (then `sound` octets of them).
    Skipping {
        left: u64,
        walked: usize,
        sound: Option<u64>,
    },
    /// In the sound data: this many octets left (`u64::MAX`: up to the end of the input).
    Sound(u64),
    Done,
}

/// A WAV or AIFF demuxer.
pub struct Riff {
    bytes: Bytes,
    big_endian: bool,
    at: At,
    params: Option<AudioCodecParameters>,
    /// Octets of one sample frame (all channels).
    frame: usize,
    /// Frames read so far.
    ts: u64,
    /// The data chunk's size from an RF64 file's `ds64` chunk.
    data_size: Option<u64>,
}

impl Riff {
    /// A demuxer of RIFF WAVE (`big_endian` false) or AIFF (true) from the input's first octet.
    pub fn new(bytes: Bytes, big_endian: bool) -> Self {
        Self {
            bytes,
            big_endian,
            at: At::Start,
            params: None,
            frame: 0,
            ts: 0,
            data_size: None,
        }
    }

    /// The chunk length at `at` in `b`, in the file's byte order.
    fn chunk_len(&self, b: &[u8], at: usize) -> Option<u32> {
        if self.big_endian {
            be32(b, at)
        } else {
            le32(b, at)
        }
    }

    /// Walks the chunks up to the format chunk, all of them buffered, and reads it (and an
    /// RF64 file's `ds64` chunk before it, with the size of the data chunk).
    fn read_format(&mut self) -> Result<()> {
        let big = self.big_endian;
        let found = self.bytes.look(|b, finished| {
            let aifc = match (b.get(..4), b.get(8..12)) {
                (Some(b"RIFF" | b"RF64"), Some(b"WAVE")) if !big => false,
                (Some(b"FORM"), Some(b"AIFF")) if big => false,
                (Some(b"FORM"), Some(b"AIFC")) if big => true,
                (Some(_), Some(_)) => {
                    return unsupported_error("neither a RIFF WAVE nor an AIFF header");
                }
                _ => return Err(not_yet(finished)),
            };
            let (mut at, mut ds64) = (12u64, None);
            for _ in 0..MAX_CHUNKS {
                let head = slice(b, at, 8).ok_or_else(|| not_yet(finished))?;
                let len = u64::from(self.chunk_len(head, 4).unwrap_or(0));
                // At most 1024 chunks of at most 4 GiB each: no overflow.
                let (body, end) = (at + 8, at + 8 + len + (len & 1));
                match &head[..4] {
                    b"fmt " | b"COMM" => {
                        let body = slice(b, body, len).ok_or_else(|| not_yet(finished))?;
                        return Ok((format_of(body, big, aifc)?, end, ds64));
                    }
                    b"ds64" => {
                        let sizes = slice(b, body, 16).ok_or_else(|| not_yet(finished))?;
                        ds64 = le64(sizes, 8);
                    }
                    b"data" | b"SSND" => {
                        return unsupported_error("sound data before its format chunk");
                    }
                    _ => {}
                }
                at = end;
            }
            unsupported_error("no format chunk among the first chunks")
        });
        let ((params, frame), end, ds64) = found?;
        self.bytes
            .take(usize::try_from(end).unwrap_or(usize::MAX))?;
        self.params = Some(params);
        self.frame = frame;
        self.data_size = ds64;
        self.at = At::Chunks(0);
        Ok(())
    }

    /// Reads the next chunk header after the format chunk.
    fn next_chunk(&mut self, walked: usize) -> Result<()> {
        if walked >= MAX_CHUNKS {
            return unsupported_error("no sound data among the first chunks");
        }
        let (head, finished) = self
            .bytes
            .look(|b, finished| (b[..b.len().min(16)].to_vec(), finished));
        let need = if head.starts_with(b"SSND") { 16 } else { 8 };
        if head.len() < need {
            if finished {
                self.at = At::Done;
                return Ok(());
            }
            return Err(not_yet(false));
        }
        self.bytes.take(need)?;
        let len = u64::from(self.chunk_len(&head, 4).unwrap_or(0));
        self.at = match &head[..4] {
            // A stream written to a pipe leaves the size 0 or all ones; RF64 says it in ds64.
            b"data" if len == u64::from(u32::MAX) && self.data_size.is_some() => {
                At::Sound(self.data_size.unwrap_or(u64::MAX))
            }
            b"data" if len == 0 || len == u64::from(u32::MAX) => At::Sound(u64::MAX),
            b"data" => At::Sound(len),
            // The payload starts with an offset to the samples and a block size.
            b"SSND" => {
                let offset = u64::from(be32(&head, 8).unwrap_or(0));
                At::Skipping {
                    left: offset,
                    walked,
                    sound: Some(len.saturating_sub(8 + offset)),
                }
            }
            _ => At::Skipping {
                left: len + (len & 1),
                walked: walked + 1,
                sound: None,
            },
        };
        Ok(())
    }

    /// The next packet of sound data, `left` octets of it left.
    fn sound(&mut self, left: u64) -> Result<Option<Packet>> {
        let whole = (PACKET / self.frame).max(1) * self.frame;
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(whole);
        let (buffered, finished) = self.bytes.buffered();
        let n = if buffered >= want {
            want
        } else if finished {
            buffered - buffered % self.frame
        } else {
            return Err(not_yet(false));
        };
        if n < self.frame {
            self.at = At::Done;
            return Ok(None);
        }
        let n = n - n % self.frame;
        let data = self.bytes.take(n)?;
        self.at = At::Sound(if left == u64::MAX {
            left
        } else {
            left - n as u64
        });
        let frames = (n / self.frame) as u64;
        let pts = Timestamp::new(i64::try_from(self.ts).unwrap_or(i64::MAX));
        self.ts += frames;
        Ok(Some(Packet::new(0, pts, Duration::new(frames), data)))
    }
}

impl Demux for Riff {
    fn prepare(&mut self) -> Result<()> {
        if self.params.is_none() {
            self.read_format()?;
        }
        Ok(())
    }

    fn track(&self) -> Option<(u32, &AudioCodecParameters)> {
        Some((0, self.params.as_ref()?))
    }

    fn next_packet(&mut self) -> Result<Option<Packet>> {
        loop {
            match self.at {
                At::Start => self.read_format()?,
                At::Chunks(walked) => self.next_chunk(walked)?,
                At::Skipping {
                    mut left,
                    walked,
                    sound,
                } => {
                    let done = self.bytes.skip_all(&mut left);
                    self.at = At::Skipping {
                        left,
                        walked,
                        sound,
                    };
                    done?;
                    self.at = sound.map_or(At::Chunks(walked), At::Sound);
                }
                At::Sound(left) => return self.sound(left),
                At::Done => return Ok(None),
            }
        }
    }
}

/// `len` octets of `b` from `at`, if they are there.
fn slice(b: &[u8], at: u64, len: u64) -> Option<&[u8]> {
    let (at, len) = (usize::try_from(at).ok()?, usize::try_from(len).ok()?);
    b.get(at..at.checked_add(len)?)
}

/// The codec parameters a WAV `fmt ` or an AIFF `COMM` chunk's payload states (`aifc`: one
/// that names its compression), and the octets of a sample frame.
fn format_of(body: &[u8], big_endian: bool, aifc: bool) -> Result<(AudioCodecParameters, usize)> {
    let (id, channels, rate, bits, valid) = if big_endian {
        aiff_format(body, aifc)?
    } else {
        wav_format(body)?
    };
    if channels == 0 || rate == 0 {
        return decode_error("a format chunk with no channels or no rate");
    }
    if channels > MAX_CHANNELS {
        return unsupported_error("more than 32 channels are not supported");
    }
    let width = usize::from(bits.div_ceil(8));
    let frame = match id {
        codec::CODEC_ID_PCM_ALAW | codec::CODEC_ID_PCM_MULAW => 1,
        _ => width,
    } * usize::from(channels);
    let mut params = AudioCodecParameters::new();
    params
        .for_codec(id)
        .with_sample_rate(rate)
        .with_channels(Channels::Discrete(channels));
    if let Some(valid) = valid {
        params
            .with_bits_per_sample(u32::from(valid))
            .with_bits_per_coded_sample(u32::from(valid));
    }
    Ok((params, frame))
}

/// The codec, channels, rate, container bits and (for integers) valid bits a format chunk
/// states.
type Stated = (AudioCodecId, u16, u32, u16, Option<u16>);

fn wav_format(body: &[u8]) -> Result<Stated> {
    let field = |at| le16(body, at).ok_or(Error::DecodeError("wav: a short format chunk"));
    let (mut tag, channels, bits) = (field(0)?, field(2)?, field(14)?);
    let rate = le32(body, 4).unwrap_or(0);
    let mut valid = bits;
    if tag == 0xFFFE {
        // WAVE_FORMAT_EXTENSIBLE: valid bits, a channel mask, then the sub-format's GUID,
        // which starts with the format tag it stands for.
        valid = field(18)?;
        tag = field(24)?;
        if valid > bits {
            return decode_error("wav: more valid bits than bits");
        }
        if valid == 0 {
            valid = bits;
        }
    }
    let int = |id| Ok((id, channels, rate, bits, Some(valid)));
    match (tag, bits) {
        (1, 8) => int(codec::CODEC_ID_PCM_U8),
        (1, 16) => int(codec::CODEC_ID_PCM_S16LE),
        (1, 24) => int(codec::CODEC_ID_PCM_S24LE),
        (1, 32) => int(codec::CODEC_ID_PCM_S32LE),
        (3, 32) => Ok((codec::CODEC_ID_PCM_F32LE, channels, rate, bits, None)),
        (3, 64) => Ok((codec::CODEC_ID_PCM_F64LE, channels, rate, bits, None)),
        (6, _) => Ok((codec::CODEC_ID_PCM_ALAW, channels, rate, 8, None)),
        (7, _) => Ok((codec::CODEC_ID_PCM_MULAW, channels, rate, 8, None)),
        (tag, _) => Err(Error::Unsupported(unsupported_wav(tag))),
    }
}

/// Why a WAV format is refused, for the error a listener sees.
fn unsupported_wav(tag: u16) -> &'static str {
    match tag {
        2 | 0x11 => "wav: ADPCM is not supported",
        1 | 3 => "wav: PCM of this sample size is not supported",
        _ => "wav: this codec is not supported",
    }
}

fn aiff_format(body: &[u8], aifc: bool) -> Result<Stated> {
    let short = || Error::DecodeError("aiff: a short COMM chunk");
    let (channels, bits) = (
        be16(body, 0).ok_or_else(short)?,
        be16(body, 6).ok_or_else(short)?,
    );
    let rate = extended_rate(body.get(8..18).ok_or_else(short)?);
    // AIFF-C names its compression after the rate (in either case); AIFF is big-endian
    // integers, their bits left-justified in whole octets. (Symphonia read `sowt` at 16 bits
    // only; it is read at 24 and 32 too.)
    let compression = match body.get(18..22) {
        Some(name) if aifc => name.to_ascii_uppercase(),
        _ => b"NONE".to_vec(),
    };
    let int = |id| Ok((id, channels, rate, bits, Some(bits)));
    let float = |id, bits| Ok((id, channels, rate, bits, None));
    match (&compression[..], bits.div_ceil(8)) {
        (b"NONE" | b"TWOS", 1) => int(codec::CODEC_ID_PCM_S8),
        (b"NONE" | b"TWOS", 2) => int(codec::CODEC_ID_PCM_S16BE),
        (b"NONE" | b"TWOS" | b"IN24", 3) => int(codec::CODEC_ID_PCM_S24BE),
        (b"NONE" | b"TWOS" | b"IN32", 4) => int(codec::CODEC_ID_PCM_S32BE),
        (b"RAW ", 1) => int(codec::CODEC_ID_PCM_U8),
        (b"SOWT", 2) => int(codec::CODEC_ID_PCM_S16LE),
        (b"SOWT", 3) => int(codec::CODEC_ID_PCM_S24LE),
        (b"SOWT" | b"23NI", 4) => int(codec::CODEC_ID_PCM_S32LE),
        (b"FL32", _) => float(codec::CODEC_ID_PCM_F32BE, 32),
        (b"FL64", _) => float(codec::CODEC_ID_PCM_F64BE, 64),
        (b"ALAW", _) => float(codec::CODEC_ID_PCM_ALAW, 8),
        (b"ULAW", _) => float(codec::CODEC_ID_PCM_MULAW, 8),
        (b"IMA4", _) => unsupported_error("aiff: IMA ADPCM (ima4) is not supported"),
        _ => unsupported_error("aiff: this compression is not supported"),
    }
}

/// An 80-bit IEEE 754 extended float (AIFF's sample rate), as a whole number of hertz; 0 when
/// it is not one a file could have.
fn extended_rate(b: &[u8]) -> u32 {
    let (Some(exponent), Some(high)) = (be16(b, 0), be32(b, 2)) else {
        return 0;
    };
    // Rates are positive and below 2^32: an unbiased exponent in 0..32.
    match exponent.checked_sub(16383) {
        Some(shift) if shift < 32 => high >> (31 - shift),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::extended_rate;

    #[test]
    fn reads_aiff_rates() {
        assert_eq!(
            extended_rate(&[0x40, 0x0E, 0xAC, 0x44, 0, 0, 0, 0, 0, 0]),
            44_100
        );
        assert_eq!(
            extended_rate(&[0x40, 0x0E, 0xBB, 0x80, 0, 0, 0, 0, 0, 0]),
            48_000
        );
        assert_eq!(
            extended_rate(&[0xC0, 0x0E, 0xAC, 0x44, 0, 0, 0, 0, 0, 0]),
            0
        );
        assert_eq!(extended_rate(&[0x7F, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0]), 0);
        assert_eq!(extended_rate(&[0x40]), 0);
    }
}
