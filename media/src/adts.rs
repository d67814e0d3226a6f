//! AAC in ADTS frames (`.aac` files): each frame says its length and holds 1024 samples per
//! raw data block. A stream from a position is the file from the frame before the one that
//! holds the target (AAC's transform overlaps the frame before): frames need nothing else.

use crate::clock::{Step, Walk};
use crate::read::{ReadAt, read_vec};
use crate::seek::{Part, Plan, SeekError, target_frame};
use crate::tags::{self, id3v2_len};
use crate::{Format, MediaError};

const RATES: [u32; 13] = [
    96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000,
    7_350,
];

/// An ADTS frame header, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub sample_rate: u32,
    /// The frame's length in octets, header included.
    pub len: u64,
    /// Sample frames per channel in the frame.
    pub samples: u32,
}

impl Header {
    pub fn parse(b: &[u8]) -> Option<Self> {
        let b: [u8; 7] = b.get(..7)?.try_into().ok()?;
        // Sync word, then layer 0.
        if b[0] != 0xFF || b[1] & 0xF6 != 0xF0 {
            return None;
        }
        let sample_rate = *RATES.get(usize::from((b[2] >> 2) & 0xF))?;
        let len = u64::from(b[3] & 3) << 11 | u64::from(b[4]) << 3 | u64::from(b[5] >> 5);
        let header = if b[1] & 1 == 1 { 7 } else { 9 };
        if len < header {
            return None;
        }
        let blocks = u32::from(b[6] & 3) + 1;
        Some(Self {
            sample_rate,
            len,
            samples: blocks * 1024,
        })
    }
}

/// Walks ADTS frames; media time counts the samples of the frames before.
#[derive(Debug, Default)]
pub struct Walker {
    rate: Option<u32>,
    samples: u64,
}

impl Walk for Walker {
    fn window(&self) -> usize {
        10
    }

    fn elapsed(&self) -> Option<f64> {
        self.rate.map(|rate| self.samples as f64 / f64::from(rate))
    }

    fn step(&mut self, _at: u64, w: &[u8]) -> Step {
        if let Some(len) = id3v2_len(w) {
            return Step::Skip(len);
        }
        if w.starts_with(b"TAG") || w.starts_with(b"APETAGEX") {
            return Step::Done;
        }
        let header = match Header::parse(w) {
            Some(h) if self.rate.is_none_or(|r| r == h.sample_rate) => h,
            _ => return Step::Skip(1),
        };
        let rate = *self.rate.get_or_insert(header.sample_rate);
        let time = self.samples as f64 / f64::from(rate);
        self.samples += u64::from(header.samples);
        Step::Frame {
            time,
            len: header.len,
        }
    }
}

/// A play of the ADTS file from `ms` milliseconds (PROTOCOL.md 5.4.1): frames are walked
/// from the first, header by header.
pub fn seek(file: &(impl ReadAt + ?Sized), size: u64, ms: u64) -> Result<Plan, SeekError> {
    let start = tags::leading(file, size)?;
    let end = size - tags::trailing(file, size)?;
    let first = read_vec(file, start, 9)?;
    let rate = Header::parse(&first)
        .ok_or(MediaError::Malformed {
            format: Format::Adts,
            reason: "no ADTS frame where the audio starts",
        })?
        .sample_rate;
    let target = target_frame(ms, rate);
    // (offset, first sample) of the frame before the one being looked at.
    let (mut before, mut at, mut sample) = ((start, 0u64), start, 0u64);
    loop {
        let head = read_vec(file, at, 9)?;
        let header = match Header::parse(&head) {
            Some(h) if h.sample_rate == rate && at + h.len <= end => h,
            _ => return Err(SeekError::PastEnd),
        };
        let next = sample + u64::from(header.samples);
        if target < next {
            break;
        }
        before = (at, sample);
        (at, sample) = (at + header.len, next);
    }
    let (from, first_out) = if sample == 0 { (start, 0) } else { before };
    Ok(Plan {
        parts: vec![Part::File(from..end)],
        skip: target - first_out,
        rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_header() {
        // 44.1 kHz (index 4), 371 octets, one block, no CRC.
        let len = 371u32;
        let b = [
            0xFF,
            0xF1,
            0x50,
            0x80 | (len >> 11) as u8,
            (len >> 3) as u8,
            ((len & 7) << 5) as u8 | 0x1F,
            0xFC,
        ];
        let h = Header::parse(&b).expect("header");
        assert_eq!((h.sample_rate, h.len, h.samples), (44_100, 371, 1024));
        assert_eq!(
            Header::parse(&[0xFF, 0xF1, 0x50, 0x80, 0, 0x1F, 0xFC]),
            None,
            "too short"
        );
    }
}
