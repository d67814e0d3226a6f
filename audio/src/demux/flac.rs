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

use super::crc::{crc16, crc16_step};
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
    /// STREAMINFO's block size, when every frame but the last has it.
    fixed_block: Option<u32>,
    scan: Scan,
}

impl Flac {
    pub fn new(bytes: Bytes) -> Self {
        Self {
            bytes,
            at: At::Start,
            params: None,
            fixed_block: None,
            scan: Scan::default(),
        }
    }

    /// Reads the signature and STREAMINFO, the first metadata block.
    fn read_info(&mut self) -> Result<()> {
        let head = self.bytes.look(|b, finished| {
            b.get(..42)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| not_yet(finished))
        })?;
        if &head[..4] != b"fLaC"
            || head[4] & 0x7F != 0
            || head[5] != 0
            || be16(&head, 6) != Some(34)
        {
            return unsupported_error("flac: no stream info first");
        }
        let (params, fixed_block) = stream_info(&head[8..42])?;
        self.fixed_block = fixed_block;
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
        let scan = self.scan;
        let found = self.bytes.look(|b, finished| {
            // Junk before the first header is dropped (once: a scan under way starts on one).
            let start = match scan.next {
                0 => (0..b.len().saturating_sub(1))
                    .find(|&at| FrameHeader::parse(&b[at..]).is_some())
                    .unwrap_or(b.len().saturating_sub(MAX_HEADER)),
                _ => 0,
            };
            let b = &b[start..];
            // Err(None): the end; Err(Some(scan)): not yet, the search so far.
            let Some(header) = FrameHeader::parse(b) else {
                return (start, Err((!finished).then_some(Scan::default())));
            };
            match scan.search(b, &header, finished) {
                Ok(found) => (start, Ok((header, found))),
                Err(_) if finished => match last_frame_end(b) {
                    Some(end) => (start, Ok((header, (end, true)))),
                    None => (start, Err(None)),
                },
                Err(scan) => (start, Err(Some(scan))),
            }
        });
        let (junk, found) = found;
        self.bytes.take(junk)?;
        let (header, (end, whole)) = match found {
            Ok(found) => found,
            Err(None) => return Ok(None),
            Err(Some(scan)) => {
                self.scan = scan;
                return Err(not_yet(false));
            }
        };
        self.scan = Scan::default();
        let data = self.bytes.take(end)?;
        // A damaged frame is dropped, not decoded into noise (or into a decoder's overflow).
        if !whole {
            return decode_error("flac: a frame whose CRC-16 fails");
        }
        let block = u64::from(header.block_size);
        let ts = if header.variable {
            header.number
        } else {
            header
                .number
                .saturating_mul(u64::from(self.fixed_block.unwrap_or(header.block_size)))
        };
        let pts = Timestamp::new(i64::try_from(ts).unwrap_or(i64::MAX));
        Ok(Some(Packet::new(0, pts, Duration::new(block), data)))
    }
}

/// The decoder's parameters from a STREAMINFO block's payload (34 octets), and the block size
/// of a stream whose frames all have one (all but the last).
pub fn stream_info(info: &[u8]) -> Result<(AudioCodecParameters, Option<u32>)> {
    let Some(info) = info.get(..34) else {
        return decode_error("flac: a short stream info");
    };
    let rate = (u32::from(info[10]) << 12) | (u32::from(info[11]) << 4) | u32::from(info[12] >> 4);
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
    let (min, max) = (be16(info, 0), be16(info, 2));
    let fixed = min.filter(|&min| Some(min) == max).map(u32::from);
    Ok((params, fixed))
}

/// How far the search for the end of the frame at the start of the buffer has gone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Scan {
    /// The next place to look for a header (0: the search has not begun).
    next: usize,
    /// The CRC-16 of the frame's first `fed` octets.
    fed: usize,
    crc: u16,
}

impl Scan {
    /// Looks on through `b`, which starts with the frame `first`, for the next frame's header:
    /// where the octets before it end on their CRC-16, or where its number follows `first`'s
    /// (exactly, or a few frames on, past a header too damaged to be found: the frame then
    /// fails its CRC and is dropped). The frame's length, and whether its CRC holds; else how
    /// far the search went (a header cut at the end of the buffer is looked at again).
    fn search(
        mut self,
        b: &[u8],
        first: &FrameHeader,
        finished: bool,
    ) -> std::result::Result<(usize, bool), Self> {
        let stop = if finished {
            b.len()
        } else {
            b.len().saturating_sub(MAX_HEADER)
        };
        let mut at = self.next.max(MIN_FRAME);
        // From one sync byte to the next, the CRC taken over the octets between in one go.
        while let Some(found) = b
            .get(at..stop)
            .and_then(|rest| rest.iter().position(|&x| x == 0xFF))
        {
            at += found;
            self.crc = crc16(self.crc, &b[self.fed..at - 2]);
            self.fed = at - 2;
            if let Some(next) = FrameHeader::parse(&b[at..]) {
                let whole = be16(b, at - 2) == Some(self.crc);
                if next.variable == first.variable && (whole || follows(first, &next)) {
                    return Ok((at, whole));
                }
            }
            at += 1;
        }
        self.next = stop.max(MIN_FRAME);
        Err(self)
    }
}

/// Whether frame `next` comes after `first` in the same stream, at most 16 frames on.
fn follows(first: &FrameHeader, next: &FrameHeader) -> bool {
    let step = if first.variable {
        u64::from(first.block_size)
    } else {
        1
    };
    next.number > first.number && next.number - first.number <= 16 * step
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
    use super::last_frame_end;
    use crate::demux::crc::crc16;

    #[test]
    fn the_last_frame_ends_on_its_crc() {
        let mut frame = b"\xff\xf8 a frame's bytes".to_vec();
        frame.extend(crc16(0, &frame).to_be_bytes());
        let n = frame.len();
        assert_eq!(last_frame_end(&frame), Some(n));
        let tagged = [&frame[..], b"TAG and some junk after"].concat();
        assert_eq!(last_frame_end(&tagged), Some(n));
        assert_eq!(last_frame_end(&frame[..n - 5]), None, "cut short");
    }
}
