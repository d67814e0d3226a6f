//! MPEG audio frames (layers I, II and III; MPEG-1, 2 and 2.5), walked header to header.

mod info;
mod seek;

pub use seek::seek;

use crate::clock::{Step, Walk};
use crate::tags::id3v2_len;

/// A frame header, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// 1 for MPEG-1, 2 for MPEG-2, 25 for MPEG-2.5.
    pub version: u8,
    /// 1, 2 or 3.
    pub layer: u8,
    /// Bits per second; 0 for "free format" (the frame length is then unknown).
    pub bitrate: u32,
    pub sample_rate: u32,
    pub padding: bool,
    pub mono: bool,
    /// Whether a CRC follows the header.
    pub crc: bool,
}

const BITRATES_V1: [[u16; 15]; 3] = [
    [
        0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
    ],
    [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
    ],
    [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ],
];
const BITRATES_V2: [[u16; 15]; 2] = [
    [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
    ],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
];

impl Header {
    /// Decodes the four octets of a frame header, if they are one.
    pub fn parse(b: &[u8]) -> Option<Self> {
        let b: [u8; 4] = b.get(..4)?.try_into().ok()?;
        if b[0] != 0xFF || b[1] & 0xE0 != 0xE0 {
            return None;
        }
        let version = match (b[1] >> 3) & 3 {
            0 => 25,
            2 => 2,
            3 => 1,
            _ => return None,
        };
        let layer = match (b[1] >> 1) & 3 {
            1 => 3,
            2 => 2,
            3 => 1,
            _ => return None,
        };
        let index = usize::from(b[2] >> 4);
        let rate_index = usize::from((b[2] >> 2) & 3);
        if index == 15 || rate_index == 3 || b[3] & 3 == 2 {
            return None;
        }
        let kbps = match (version, layer) {
            (1, l) => BITRATES_V1[usize::from(l) - 1][index],
            (_, 1) => BITRATES_V2[0][index],
            _ => BITRATES_V2[1][index],
        };
        let base = [44_100, 48_000, 32_000][rate_index];
        let sample_rate = match version {
            1 => base,
            2 => base / 2,
            _ => base / 4,
        };
        Some(Self {
            version,
            layer,
            bitrate: u32::from(kbps) * 1000,
            sample_rate,
            padding: b[2] & 2 != 0,
            mono: b[3] >> 6 == 3,
            crc: b[1] & 1 == 0,
        })
    }

    /// Sample frames per channel in one frame.
    pub fn samples(&self) -> u32 {
        match (self.layer, self.version) {
            (1, _) => 384,
            (3, 2 | 25) => 576,
            _ => 1152,
        }
    }

    /// The frame's length in octets, header included; `None` for free format.
    pub fn len(&self) -> Option<u64> {
        if self.bitrate == 0 {
            return None;
        }
        let (rate, br, pad) = (
            u64::from(self.sample_rate),
            u64::from(self.bitrate),
            u64::from(self.padding),
        );
        Some(match self.layer {
            1 => (12 * br / rate + pad) * 4,
            _ => u64::from(self.samples()) / 8 * br / rate + pad,
        })
    }

    /// Octets of side information (layer III), after the header and its CRC.
    pub fn side_info_len(&self) -> usize {
        match (self.version, self.mono) {
            (1, false) => 32,
            (1, true) | (_, false) => 17,
            (_, true) => 9,
        }
    }

    /// Octets of the frame that carry main data (layer III): what the bit reservoir holds.
    pub fn main_data_len(&self) -> u64 {
        let overhead = 4 + if self.crc { 2 } else { 0 } + self.side_info_len() as u64;
        self.len().unwrap_or(0).saturating_sub(overhead)
    }

    /// The offset of a Xing, Info or VBRI tag in the frame, after the side information.
    pub(crate) fn tag_offset(&self) -> usize {
        4 + self.side_info_len()
    }

    /// Whether this header belongs to the same stream as `first`.
    pub(crate) fn same_stream(&self, first: &Self) -> bool {
        (self.version, self.layer, self.sample_rate)
            == (first.version, first.layer, first.sample_rate)
    }
}

/// Whether the frame in `window` carries a Xing, Info or VBRI tag instead of audio (the first
/// frame of most encoders' files: decoders skip it).
fn is_tag_frame(header: &Header, window: &[u8]) -> bool {
    let at = header.tag_offset();
    let xing = window
        .get(at..at + 4)
        .is_some_and(|t| t == b"Xing" || t == b"Info");
    xing || window.get(36..40).is_some_and(|t| t == b"VBRI")
}

/// The first frame header in `b` that another header of the same stream follows where its
/// length says: (offset in `b`, header).
pub(crate) fn first_frame(b: &[u8]) -> Option<(usize, Header)> {
    (0..b.len()).find_map(|i| {
        let header = Header::parse(&b[i..])?;
        let next = i + usize::try_from(header.len()?).ok()?;
        let follows = Header::parse(b.get(next..)?)?;
        follows.same_stream(&header).then_some((i, header))
    })
}

/// Octets looked at to find a frame.
pub(crate) const PROBE: usize = 8 * 1024;

/// Whether the duration of the MPEG audio in `start..end` can only be had by counting its
/// frames: it has no Xing, Info or VBRI header, and frames at a quarter, half and three
/// quarters of it differ in bitrate from the first (so it is VBR, and a duration estimated
/// from the size and the first frame's bitrate is wrong).
pub fn needs_counting(
    file: &(impl crate::ReadAt + ?Sized),
    start: u64,
    end: u64,
) -> std::io::Result<bool> {
    let head = crate::read::read_vec(file, start, PROBE)?;
    let Some((at, first)) = first_frame(&head) else {
        return Ok(false);
    };
    if is_tag_frame(&first, &head[at..]) {
        return Ok(false);
    }
    for quarter in 1..4 {
        let probe = start + (end - start) / 4 * quarter;
        let b = crate::read::read_vec(file, probe, PROBE)?;
        if first_frame(&b).is_some_and(|(_, h)| h.bitrate != first.bitrate) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The playing time in seconds that the first frame's Xing/LAME tag states: its frames less
/// the encoder delay and padding a gapless decoder trims. `None` without such a tag.
pub fn stated_duration(
    file: &(impl crate::ReadAt + ?Sized),
    start: u64,
) -> std::io::Result<Option<f64>> {
    let head = crate::read::read_vec(file, start, PROBE)?;
    let Some((offset, first)) = first_frame(&head) else {
        return Ok(None);
    };
    let info = info::info_frame(file, start + offset as u64, &first)?;
    let samples = info.and_then(|i| i.samples(u64::from(first.samples())));
    Ok(samples.map(|s| s as f64 / f64::from(first.sample_rate)))
}

/// Walks MPEG audio frames; media time counts the samples of the frames before.
#[derive(Debug, Default)]
pub struct Walker {
    first: Option<Header>,
    samples: u64,
}

impl Walk for Walker {
    fn window(&self) -> usize {
        40
    }

    fn elapsed(&self) -> Option<f64> {
        self.first
            .map(|first| self.samples as f64 / f64::from(first.sample_rate))
    }

    fn step(&mut self, _at: u64, w: &[u8]) -> Step {
        if let Some(len) = id3v2_len(w) {
            return Step::Skip(len);
        }
        if w.starts_with(b"TAG") || w.starts_with(b"APETAGEX") || w.starts_with(b"LYRICSBEGIN") {
            return Step::Done;
        }
        let header = match Header::parse(w) {
            Some(h) if self.first.is_none_or(|first| h.same_stream(&first)) => h,
            _ => return Step::Skip(1),
        };
        let Some(len) = header.len() else {
            return Step::Skip(1);
        };
        let first = self.first.is_none();
        self.first.get_or_insert(header);
        let time = self.samples as f64 / f64::from(header.sample_rate);
        if !(first && is_tag_frame(&header, w)) {
            self.samples += u64::from(header.samples());
        }
        Step::Frame { time, len }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A frame of MPEG-1 layer III, 128 kbit/s, 44.1 kHz, stereo, no padding: 417 octets.
    pub fn frame() -> Vec<u8> {
        let mut f = vec![0xFF, 0xFB, 0x90, 0x00];
        f.resize(417, 0x11);
        f
    }

    #[test]
    fn decodes_headers() {
        let h = Header::parse(&[0xFF, 0xFB, 0x90, 0x00]).expect("header");
        assert_eq!(
            (h.version, h.layer, h.bitrate, h.sample_rate),
            (1, 3, 128_000, 44_100)
        );
        assert_eq!((h.len(), h.samples()), (Some(417), 1152));
        let padded = Header::parse(&[0xFF, 0xFB, 0x92, 0x00]).expect("header");
        assert_eq!(padded.len(), Some(418));
        // MPEG-2 layer III, 64 kbit/s, 22.05 kHz: 72 * 64000 / 22050 = 208.
        let v2 = Header::parse(&[0xFF, 0xF3, 0x80, 0x00]).expect("header");
        assert_eq!(
            (v2.sample_rate, v2.samples(), v2.len()),
            (22_050, 576, Some(208))
        );
        assert_eq!(
            Header::parse(&[0xFF, 0xFB, 0xF0, 0x00]),
            None,
            "bad bitrate"
        );
        assert_eq!(Header::parse(&[0xFF, 0xFB, 0x9C, 0x00]), None, "bad rate");
        assert_eq!(
            Header::parse(&[0xFF, 0xF9, 0x90, 0x00]),
            None,
            "reserved layer"
        );
    }

    #[test]
    fn a_xing_frame_carries_no_time() {
        let mut tag = frame();
        tag[36..40].copy_from_slice(b"Xing");
        let mut walker = Walker::default();
        assert_eq!(
            walker.step(0, &tag[..40]),
            Step::Frame {
                time: 0.0,
                len: 417
            }
        );
        assert_eq!(
            walker.step(417, &frame()[..40]),
            Step::Frame {
                time: 0.0,
                len: 417
            }
        );
        let Step::Frame { time, .. } = walker.step(834, &frame()[..40]) else {
            panic!("frame")
        };
        assert!((time - 1152.0 / 44_100.0).abs() < 1e-12);
    }
}
