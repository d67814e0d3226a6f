//! Native FLAC: STREAMINFO gives the decoder its parameters, the other metadata blocks (tags,
//! cover art) are skipped as they arrive, and each frame runs from its header to the next
//! one's. A header is a sync code whose CRC-8 holds; the next frame's is taken where it
//! continues the chain of frame numbers, or where the frame before it ends on its CRC-16, so
//! that a look-alike inside a frame's data is not taken for one. A frame whose CRC-16 fails
//! is a bad packet: the decoder skips it.

use symphonia::core::audio::Channels;
use symphonia::core::codecs::audio::AudioCodecParameters;
use symphonia::core::codecs::audio::well_known::CODEC_ID_FLAC;
use symphonia::core::errors::{Result, decode_error, unsupported_error};
use symphonia::core::packet::Packet;
use symphonia::core::units::{Duration, Timestamp};
use tapedeck_media::flac::FrameHeader;
use tapedeck_media::read::be16;

use super::{Bytes, Demux, not_yet};

/// The smallest frame: a header, one subframe header and the CRC-16.
const MIN_FRAME: usize = 10;

/// The longest frame header, its CRC-8 included.
const MAX_HEADER: usize = 16;

/// Where the reader is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Start,
    /// Before a metadata block header.
    Blocks,
    /// Skipping a metadata block: this many octets left, and whether it is the last block.
    Skipping(u64, bool),
    Frames,
}

/// A native FLAC demuxer.
pub struct Flac {
    bytes: Bytes,
    at: At,
    params: Option<AudioCodecParameters>,
    /// How far the search for the next frame's header has looked, from the buffer's start.
    scanned: usize,
}

impl Flac {
    pub fn new(bytes: Bytes) -> Self {
        Self {
            bytes,
            at: At::Start,
            params: None,
            scanned: 0,
        }
    }

    /// Reads the signature and STREAMINFO, the first metadata block.
    fn read_info(&mut self) -> Result<()> {
        let head = self.bytes.look(|b, finished| {
            b.get(..42)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| not_yet(finished))
        })?;
        if &head[..4] != b"fLaC" || head[4] & 0x7F != 0 || be16(&head, 6) != Some(34) {
            return unsupported_error("flac: no stream info first");
        }
        let info = &head[8..42];
        let rate =
            (u32::from(info[10]) << 12) | (u32::from(info[11]) << 4) | u32::from(info[12] >> 4);
        let channels = u16::from((info[12] >> 1) & 7) + 1;
        let bits = (u32::from(info[12] & 1) << 4 | u32::from(info[13] >> 4)) + 1;
        if rate == 0 {
            return decode_error("flac: a sample rate of 0");
        }
        let mut params = AudioCodecParameters::new();
        params
            .for_codec(CODEC_ID_FLAC)
            .with_sample_rate(rate)
            .with_bits_per_sample(bits)
            .with_channels(Channels::Discrete(channels))
            .with_extra_data(Box::from(info));
        self.bytes.take(42)?;
        self.params = Some(params);
        self.at = if head[4] & 0x80 != 0 {
            At::Frames
        } else {
            At::Blocks
        };
        Ok(())
    }

    /// Reads a metadata block's header.
    fn block(&mut self) -> Result<()> {
        let head = self.bytes.take(4)?;
        let len = u64::from(u32::from_be_bytes([0, head[1], head[2], head[3]]));
        self.at = At::Skipping(len, head[0] & 0x80 != 0);
        Ok(())
    }

    /// The next frame, from the start of the buffer (after any junk before a header).
    fn frame(&mut self) -> Result<Option<Packet>> {
        let scanned = self.scanned;
        let found = self.bytes.look(|b, finished| {
            let start = (0..b.len().saturating_sub(1))
                .find(|&at| FrameHeader::parse(&b[at..]).is_some())
                .unwrap_or(b.len().saturating_sub(16));
            let b = &b[start..];
            let Some(header) = FrameHeader::parse(b) else {
                return (start, Err(finished));
            };
            let from = scanned.saturating_sub(start).max(MIN_FRAME);
            let end = (from..b.len().saturating_sub(1))
                .find(|&at| b[at] == 0xFF && next_frame(b, at, &header));
            match end {
                Some(end) => (start, Ok((header, end))),
                None if finished => match last_frame_end(b) {
                    Some(end) => (start, Ok((header, end))),
                    None => (start, Err(true)),
                },
                None => (start, Err(false)),
            }
        });
        let (junk, found) = found;
        self.bytes.take(junk)?;
        let (header, end) = match found {
            Ok(found) => found,
            Err(true) => return Ok(None),
            Err(false) => {
                // A header cut at the end of the buffer is looked at again.
                self.scanned = self.bytes.look(|b, _| b.len()).saturating_sub(MAX_HEADER);
                return Err(not_yet(false));
            }
        };
        self.scanned = 0;
        let data = self.bytes.take(end)?;
        // A damaged frame is dropped, not decoded into noise (or into a decoder's overflow).
        if end < MIN_FRAME || be16(&data, end - 2) != Some(crc16(&data[..end - 2])) {
            return decode_error("flac: a frame whose CRC-16 fails");
        }
        let block = u64::from(header.block_size);
        let ts = if header.variable {
            header.number
        } else {
            header.number.saturating_mul(block)
        };
        let pts = Timestamp::new(i64::try_from(ts).unwrap_or(i64::MAX));
        Ok(Some(Packet::new(0, pts, Duration::new(block), data)))
    }
}

/// Whether a frame header at `at` in `b` starts the frame after the one `b` starts with
/// (`first`): it continues the numbering, or the bytes before it end on their CRC-16.
fn next_frame(b: &[u8], at: usize, first: &FrameHeader) -> bool {
    let Some(next) = FrameHeader::parse(&b[at..]) else {
        return false;
    };
    if next.variable != first.variable {
        return false;
    }
    let step = if first.variable {
        u64::from(first.block_size)
    } else {
        1
    };
    next.number == first.number.saturating_add(step) || be16(b, at - 2) == Some(crc16(&b[..at - 2]))
}

/// Where the last frame, at the start of `b` (the rest of a complete input), ends on its
/// CRC-16: at the last place that does, before any tag or junk after it. `None` for a frame
/// cut short.
fn last_frame_end(b: &[u8]) -> Option<usize> {
    let mut crc = 0u16;
    let mut end = None;
    for (at, &byte) in b.iter().enumerate() {
        if at >= MIN_FRAME && be16(b, at) == Some(crc) {
            end = Some(at + 2);
        }
        crc = crc16_step(crc, byte);
    }
    end
}

/// CRC-16 with polynomial x^16 + x^15 + x^2 + 1, as FLAC frame footers use.
fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |crc, &b| crc16_step(crc, b))
}

fn crc16_step(crc: u16, byte: u8) -> u16 {
    (0..8).fold(crc ^ u16::from(byte) << 8, |c, _| {
        if c & 0x8000 != 0 {
            c << 1 ^ 0x8005
        } else {
            c << 1
        }
    })
}

impl Demux for Flac {
    fn prepare(&mut self) -> Result<()> {
        if self.at == At::Start {
            self.read_info()?;
        }
        Ok(())
    }

    fn track(&self) -> Option<(u32, &AudioCodecParameters)> {
        Some((0, self.params.as_ref()?))
    }

    fn next_packet(&mut self) -> Result<Option<Packet>> {
        loop {
            match self.at {
                At::Start => self.read_info()?,
                At::Blocks => self.block()?,
                At::Skipping(mut left, last) => {
                    let done = self.bytes.skip_all(&mut left);
                    self.at = At::Skipping(left, last);
                    done?;
                    self.at = if last { At::Frames } else { At::Blocks };
                }
                At::Frames => return self.frame(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{crc16, last_frame_end};

    #[test]
    fn crc16_is_flacs() {
        // The CRC-16/UMTS check value (FLAC's polynomial, no reflection, initial 0).
        assert_eq!(crc16(b"123456789"), 0xFEE8);
    }

    #[test]
    fn the_last_frame_ends_on_its_crc() {
        let mut frame = b"\xff\xf8 a frame's bytes".to_vec();
        frame.extend(crc16(&frame).to_be_bytes());
        let n = frame.len();
        assert_eq!(last_frame_end(&frame), Some(n));
        let tagged = [&frame[..], b"TAG and some junk after"].concat();
        assert_eq!(last_frame_end(&tagged), Some(n));
        assert_eq!(last_frame_end(&frame[..n - 5]), None, "cut short");
    }
}
