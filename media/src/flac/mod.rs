//! FLAC: the metadata blocks (where the audio starts) and the frame headers, which carry their
//! own frame or sample number, so a frame's time needs no counting.

use std::io;

mod seek;

pub use seek::seek;

use crate::clock::{Step, Walk};
use crate::read::{ReadAt, be32, read_vec};
use crate::tags::{self, id3v2_len};

/// Metadata blocks walked at most, against a file of endless tiny blocks.
const MAX_BLOCKS: usize = 1024;

/// The audio region `(start, end)`: after the metadata blocks, before trailing tags.
pub fn audio(file: &(impl ReadAt + ?Sized), size: u64) -> io::Result<Option<(u64, u64)>> {
    let mut at = tags::leading(file, size)?;
    if read_vec(file, at, 4)? != b"fLaC" {
        return Ok(None);
    }
    at += 4;
    for _ in 0..MAX_BLOCKS {
        let head = read_vec(file, at, 4)?;
        let Some(word) = be32(&head, 0) else {
            return Ok(None);
        };
        at += 4 + u64::from(word & 0x00FF_FFFF);
        if word & 0x8000_0000 != 0 {
            let end = size.saturating_sub(tags::trailing(file, size)?);
            return Ok((at <= end).then_some((at, end)));
        }
    }
    Ok(None)
}

/// CRC-8 with polynomial x^8 + x^2 + x + 1, as FLAC frame headers use.
fn crc8(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |mut crc, &b| {
        crc ^= b;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                crc << 1 ^ 0x07
            } else {
                crc << 1
            };
        }
        crc
    })
}

/// A frame header, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Whether `number` counts samples (variable block size) rather than frames.
    pub variable: bool,
    pub number: u64,
    pub block_size: u32,
    /// From the header, when it says; else the stream's.
    pub sample_rate: Option<u32>,
}

/// The UTF-8-like coded number at the start of `b`: (value, octets used).
fn coded_number(b: &[u8]) -> Option<(u64, usize)> {
    let first = *b.first()?;
    let len = match first.leading_ones() {
        0 => return Some((u64::from(first), 1)),
        n @ 2..=7 => n as usize,
        _ => return None,
    };
    let mut value = u64::from(first) & (0x7F >> len);
    for &byte in b.get(1..len)? {
        if byte & 0xC0 != 0x80 {
            return None;
        }
        value = value << 6 | u64::from(byte & 0x3F);
    }
    Some((value, len))
}

impl FrameHeader {
    /// Decodes the frame header at the start of `b` (CRC checked), if there is one.
    pub fn parse(b: &[u8]) -> Option<Self> {
        if *b.first()? != 0xFF || b.get(1)? & 0xFE != 0xF8 {
            return None;
        }
        let (size_code, rate_code) = (b.get(2)? >> 4, b.get(2)? & 0xF);
        let (channels, bits) = (b.get(3)? >> 4, (b.get(3)? >> 1) & 7);
        if size_code == 0 || rate_code == 15 || channels > 10 || bits == 3 || b[3] & 1 != 0 {
            return None;
        }
        let (number, used) = coded_number(b.get(4..)?)?;
        let mut at = 4 + used;
        let mut extra = |n: usize| -> Option<u32> {
            let v = b
                .get(at..at + n)?
                .iter()
                .fold(0u32, |v, &x| v << 8 | u32::from(x));
            at += n;
            Some(v)
        };
        let block_size = match size_code {
            1 => 192,
            2..=5 => 576 << (size_code - 2),
            6 => extra(1)? + 1,
            7 => extra(2)? + 1,
            _ => 256 << (size_code - 8),
        };
        let sample_rate = match rate_code {
            0 => None,
            1..=11 => Some(
                [
                    88_200, 176_400, 192_000, 8_000, 16_000, 22_050, 24_000, 32_000, 44_100,
                    48_000, 96_000,
                ][usize::from(rate_code) - 1],
            ),
            12 => Some(extra(1)? * 1000),
            13 => Some(extra(2)?),
            _ => Some(extra(2)? * 10),
        };
        (crc8(&b[..at]) == *b.get(at)?).then_some(Self {
            variable: b[1] & 1 == 1,
            number,
            block_size,
            sample_rate,
        })
    }
}

/// Walks a FLAC stream: the metadata, then frame headers found by their sync code and CRC,
/// accepted only where they continue the chain of frames before (so a look-alike inside a
/// frame's data is not taken for one).
#[derive(Debug, Default)]
pub struct Walker {
    /// Whether the walk is past the metadata blocks.
    in_frames: bool,
    /// STREAMINFO's sample rate and (fixed) block size.
    rate: Option<u32>,
    fixed_block: Option<u32>,
    /// The first sample of the frame expected next.
    next_sample: Option<u64>,
}

impl Walker {
    fn metadata(&mut self, w: &[u8]) -> Step {
        if w.starts_with(b"fLaC") {
            return Step::Skip(4);
        }
        if let Some(len) = id3v2_len(w) {
            return Step::Skip(len);
        }
        let Some(word) = be32(w, 0) else {
            return Step::Done;
        };
        if word >> 24 & 0x7F == 0 {
            // STREAMINFO: block sizes at 4 and 6, the sample rate in the 20 bits at 14.
            let (min, max) = (crate::read::be16(w, 4), crate::read::be16(w, 6));
            if min.is_some() && min == max {
                self.fixed_block = min.map(u32::from);
            }
            self.rate = be32(w, 14).map(|v| v >> 12).filter(|&r| r > 0);
        }
        self.in_frames = word & 0x8000_0000 != 0;
        Step::Skip(4 + u64::from(word & 0x00FF_FFFF))
    }

    /// The first sample of the frame `h`, if it continues the chain.
    fn first_sample(&self, h: &FrameHeader) -> Option<u64> {
        let start = if h.variable {
            h.number
        } else {
            h.number
                .checked_mul(u64::from(self.fixed_block.unwrap_or(h.block_size)))?
        };
        match self.next_sample {
            Some(expected) if expected != start => None,
            _ => Some(start),
        }
    }
}

impl Walk for Walker {
    fn window(&self) -> usize {
        64
    }

    fn step(&mut self, _at: u64, w: &[u8]) -> Step {
        if !self.in_frames {
            return self.metadata(w);
        }
        if w[0] != 0xFF {
            let to_sync = w[1..]
                .iter()
                .position(|&b| b == 0xFF)
                .map_or(w.len(), |p| p + 1);
            return Step::Skip(to_sync as u64);
        }
        let Some(header) = FrameHeader::parse(w) else {
            return Step::Skip(1);
        };
        let (Some(start), Some(rate)) =
            (self.first_sample(&header), header.sample_rate.or(self.rate))
        else {
            return Step::Skip(1);
        };
        self.next_sample = Some(start + u64::from(header.block_size));
        Step::Frame {
            time: start as f64 / f64::from(rate),
            len: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc8_matches_the_reference() {
        // The check value of CRC-8 (poly 0x07, init 0) for "123456789".
        assert_eq!(crc8(b"123456789"), 0xF4);
    }

    #[test]
    fn coded_numbers_of_every_length() {
        assert_eq!(coded_number(&[0x05]), Some((5, 1)));
        assert_eq!(coded_number(&[0xC2, 0x80]), Some((0x80, 2)));
        assert_eq!(coded_number(&[0xC2, 0x00]), None);
        assert_eq!(coded_number(&[0x80]), None);
        assert_eq!(
            coded_number(&[0xFE, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80]),
            Some((1 << 30, 7))
        );
    }

    fn header(number: u8) -> Vec<u8> {
        // Fixed block size 4096 (code 12), 44.1 kHz (code 9), stereo, 16 bits.
        let mut h = vec![0xFF, 0xF8, 0xC9, 0x18, number];
        h.push(crc8(&h));
        h.resize(64, 0);
        h
    }

    #[test]
    fn frames_in_a_chain_are_accepted_and_look_alikes_are_not() {
        let mut walker = Walker {
            in_frames: true,
            rate: Some(44_100),
            fixed_block: Some(4096),
            next_sample: None,
        };
        assert_eq!(
            walker.step(0, &header(0)),
            Step::Frame { time: 0.0, len: 1 }
        );
        assert_eq!(
            walker.step(9, &header(5)),
            Step::Skip(1),
            "out of the chain"
        );
        let Step::Frame { time, .. } = walker.step(9, &header(1)) else {
            panic!("the next frame")
        };
        assert!((time - 4096.0 / 44_100.0).abs() < 1e-12);
        let mut bad = header(2);
        bad[5] ^= 1;
        assert_eq!(walker.step(20, &bad), Step::Skip(1), "wrong CRC");
    }
}
