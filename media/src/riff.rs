//! PCM in RIFF WAVE and AIFF: the sound data chunk and its byte rate.

use std::io;

use crate::Format;
use crate::read::{ReadAt, be16, be32, le16, le32, read_vec};

/// Chunks walked at most before the sound data.
const MAX_CHUNKS: usize = 1024;

/// Where the samples lie and how fast they play.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pcm {
    pub start: u64,
    pub end: u64,
    pub bytes_per_sec: f64,
}

/// The sound data of a WAV or AIFF file, if it is one whose samples are plain PCM.
pub fn pcm(format: Format, file: &(impl ReadAt + ?Sized), size: u64) -> io::Result<Option<Pcm>> {
    let head = read_vec(file, 0, 12)?;
    let big = match (head.get(..4), head.get(8..12)) {
        (Some(b"RIFF" | b"RF64"), Some(b"WAVE")) if format == Format::Wav => false,
        (Some(b"FORM"), Some(b"AIFF" | b"AIFC")) if format == Format::Aiff => true,
        _ => return Ok(None),
    };
    let mut at = 12u64;
    let mut rate = None;
    for _ in 0..MAX_CHUNKS {
        let chunk = read_vec(file, at, 8 + 18)?;
        let (Some(id), Some(len)) = (
            chunk.get(..4),
            if big {
                be32(&chunk, 4)
            } else {
                le32(&chunk, 4)
            },
        ) else {
            return Ok(None);
        };
        let body = &chunk[8..];
        let start = at + 8;
        match id {
            b"fmt " => rate = wav_rate(body),
            b"COMM" => rate = aiff_rate(body),
            b"data" => return Ok(finish(rate, start, len, size)),
            b"SSND" => {
                let offset = be32(body, 0).map_or(0, u64::from);
                let data = start + 8 + offset;
                return Ok(finish(rate, data, len.saturating_sub(8), size));
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        at = start + u64::from(len) + u64::from(len & 1);
    }
    Ok(None)
}

fn finish(rate: Option<f64>, start: u64, len: u32, size: u64) -> Option<Pcm> {
    // A length of 0xFFFFFFFF (RF64, or a recorder that never finished) means "to the end".
    let end = if len == u32::MAX {
        size
    } else {
        (start + u64::from(len)).min(size)
    };
    Some(Pcm {
        start,
        end: end.max(start),
        bytes_per_sec: rate.filter(|r| *r > 0.0)?,
    })
}

/// Bytes per second from a `fmt ` chunk: the sample rate times the block alignment.
fn wav_rate(fmt: &[u8]) -> Option<f64> {
    let rate = le32(fmt, 4)?;
    let align = le16(fmt, 12)?;
    Some(f64::from(rate) * f64::from(align))
}

/// Bytes per second from a `COMM` chunk: channels, sample size and the 80-bit sample rate.
fn aiff_rate(comm: &[u8]) -> Option<f64> {
    let channels = be16(comm, 0)?;
    let bits = be16(comm, 6)?;
    let rate = extended(comm.get(8..18)?)?;
    let frame = f64::from(channels) * f64::from(bits.div_ceil(8));
    Some(rate * frame)
}

/// An IEEE 754 80-bit extended float, as AIFF stores its sample rate.
fn extended(b: &[u8]) -> Option<f64> {
    let exponent = i32::from(be16(b, 0)? & 0x7FFF) - 16_383 - 63;
    let mantissa = crate::read::be64(b, 2)?;
    (-1100..1100)
        .contains(&exponent)
        .then(|| mantissa as f64 * 2f64.powi(exponent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_data_of_a_wav() {
        let mut wav = b"RIFF\0\0\0\0WAVE".to_vec();
        wav.extend(b"LIST\x03\0\0\0abc\0");
        wav.extend(b"fmt \x10\0\0\0\x01\0\x02\0");
        wav.extend(44_100u32.to_le_bytes());
        wav.extend(176_400u32.to_le_bytes());
        wav.extend(b"\x04\0\x10\0data\x08\0\0\0");
        let start = wav.len() as u64;
        wav.extend([0; 8]);
        let size = wav.len() as u64;
        let pcm = pcm(Format::Wav, &wav, size).expect("read").expect("pcm");
        assert_eq!(
            (pcm.start, pcm.end, pcm.bytes_per_sec),
            (start, start + 8, 176_400.0)
        );
        assert_eq!(super::pcm(Format::Aiff, &wav, size).expect("read"), None);
    }

    #[test]
    fn reads_extended_rates() {
        // 44100 as an 80-bit extended float.
        let b = [0x40, 0x0E, 0xAC, 0x44, 0, 0, 0, 0, 0, 0];
        assert_eq!(extended(&b), Some(44_100.0));
    }
}
