//! PCM in RIFF WAVE and AIFF: the sound data chunk, its byte rate, and streams that start at
//! any sample frame (a header with the sizes of what follows, then the samples from there).

use std::io;

use crate::read::{ReadAt, be16, be32, le16, le32, read_vec};
use crate::seek::{Part, Plan, SeekError, target_frame};
use crate::{Format, MediaError};

/// Chunks walked at most before the sound data.
const MAX_CHUNKS: usize = 1024;

/// Where the samples lie and how they are laid out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pcm {
    /// The first octet of sample data.
    pub start: u64,
    /// The octet after the last one of sample data.
    pub end: u64,
    pub bytes_per_sec: f64,
    pub rate: u32,
    /// Octets per sample frame (all channels).
    pub align: u32,
    /// Where the sound data chunk's header starts (`data`, or `SSND`).
    pub data_chunk: u64,
    /// Where the `COMM` chunk's payload starts (AIFF), for its frame count.
    pub comm: Option<u64>,
    big_endian: bool,
}

/// The format chunk's facts, as they are read.
#[derive(Debug, Clone, Copy, Default)]
struct Layout {
    rate: u32,
    align: u32,
    comm: Option<u64>,
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
    let mut layout = Layout::default();
    for _ in 0..MAX_CHUNKS {
        let chunk = read_vec(file, at, 8 + 18)?;
        let len = if big {
            be32(&chunk, 4)
        } else {
            le32(&chunk, 4)
        };
        let (Some(id), Some(len)) = (chunk.get(..4), len) else {
            return Ok(None);
        };
        let body = &chunk[8..];
        let start = at + 8;
        match id {
            b"fmt " => layout = wav_layout(body).unwrap_or_default(),
            b"COMM" => {
                layout = aiff_layout(body).unwrap_or_default();
                layout.comm = Some(start);
            }
            b"data" => return Ok(finish(layout, at, start, len, size, big)),
            b"SSND" => {
                let offset = be32(body, 0).map_or(0, u64::from);
                let data = start + 8 + offset;
                return Ok(finish(layout, at, data, len.saturating_sub(8), size, big));
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        at = start + u64::from(len) + u64::from(len & 1);
    }
    Ok(None)
}

fn finish(layout: Layout, chunk: u64, start: u64, len: u32, size: u64, big: bool) -> Option<Pcm> {
    // A length of 0xFFFFFFFF (RF64, or a recorder that never finished) means "to the end".
    let end = if len == u32::MAX {
        size
    } else {
        (start + u64::from(len)).min(size)
    };
    (layout.rate > 0 && layout.align > 0).then(|| Pcm {
        start,
        end: end.max(start),
        bytes_per_sec: f64::from(layout.rate) * f64::from(layout.align),
        rate: layout.rate,
        align: layout.align,
        data_chunk: chunk,
        comm: layout.comm,
        big_endian: big,
    })
}

/// Sample rate and block alignment from a `fmt ` chunk.
fn wav_layout(fmt: &[u8]) -> Option<Layout> {
    Some(Layout {
        rate: le32(fmt, 4)?,
        align: u32::from(le16(fmt, 12)?),
        comm: None,
    })
}

/// Sample rate and frame size from a `COMM` chunk: channels, sample size and the 80-bit rate.
fn aiff_layout(comm: &[u8]) -> Option<Layout> {
    let channels = u32::from(be16(comm, 0)?);
    let bits = u32::from(be16(comm, 6)?);
    let rate = extended(comm.get(8..18)?)?;
    Some(Layout {
        rate: u32::try_from(rate.round() as u64).ok()?,
        align: channels * bits.div_ceil(8),
        comm: None,
    })
}

/// An IEEE 754 80-bit extended float, as AIFF stores its sample rate.
fn extended(b: &[u8]) -> Option<f64> {
    let exponent = i32::from(be16(b, 0)? & 0x7FFF) - 16_383 - 63;
    let mantissa = crate::read::be64(b, 2)?;
    (-1100..1100)
        .contains(&exponent)
        .then(|| mantissa as f64 * 2f64.powi(exponent))
}

/// A stream of the samples from `ms` on: the file's header up to the sound data, with the
/// sizes of what now follows, then the samples. Every frame decodes on its own: no skip.
pub fn seek(
    format: Format,
    file: &(impl ReadAt + ?Sized),
    size: u64,
    ms: u64,
) -> Result<Plan, SeekError> {
    let malformed = |reason| MediaError::Malformed { format, reason };
    let pcm = pcm(format, file, size)?.ok_or_else(|| malformed("no plain PCM found"))?;
    let frames = (pcm.end - pcm.start) / u64::from(pcm.align);
    let target = target_frame(ms, pcm.rate);
    if target >= frames {
        return Err(SeekError::PastEnd);
    }
    let from = pcm.start + target * u64::from(pcm.align);
    let data_len = frames * u64::from(pcm.align) - target * u64::from(pcm.align);
    let header_len = usize::try_from(pcm.data_chunk).map_err(|_| malformed("header too large"))?;
    let mut header = read_vec(file, 0, header_len)?;
    let data_len = u32::try_from(data_len).map_err(|_| malformed("over 4 GiB of samples"))?;
    if pcm.big_endian {
        aiff_header(&mut header, &pcm, data_len, frames - target)?;
    } else {
        wav_header(&mut header, data_len);
    }
    Ok(Plan {
        parts: vec![
            Part::Made(header),
            Part::File(from..from + u64::from(data_len)),
        ],
        skip: 0,
        rate: pcm.rate,
    })
}

/// Ends a WAV header at its `data` chunk header, with sizes for `data_len` octets of samples.
fn wav_header(header: &mut Vec<u8>, data_len: u32) {
    header[..4].copy_from_slice(b"RIFF");
    header.extend(b"data");
    header.extend(data_len.to_le_bytes());
    let riff = u32::try_from(header.len() - 8)
        .unwrap_or(u32::MAX)
        .saturating_add(data_len);
    header[4..8].copy_from_slice(&riff.to_le_bytes());
}

/// Ends an AIFF header at its `SSND` chunk header, with `frames` sample frames.
fn aiff_header(
    header: &mut Vec<u8>,
    pcm: &Pcm,
    data_len: u32,
    frames: u64,
) -> Result<(), SeekError> {
    let comm = pcm
        .comm
        .and_then(|c| usize::try_from(c).ok())
        .filter(|c| c + 6 <= header.len());
    let Some(comm) = comm else {
        return Err(MediaError::Malformed {
            format: Format::Aiff,
            reason: "no COMM chunk before the sound data",
        }
        .into());
    };
    let frames = u32::try_from(frames).unwrap_or(u32::MAX);
    header[comm + 2..comm + 6].copy_from_slice(&frames.to_be_bytes());
    header.extend(b"SSND");
    header.extend((data_len + 8).to_be_bytes());
    header.extend([0; 8]);
    let form = u32::try_from(header.len() - 8)
        .unwrap_or(u32::MAX)
        .saturating_add(data_len);
    header[4..8].copy_from_slice(&form.to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(frames: u32) -> Vec<u8> {
        let mut wav = b"RIFF\0\0\0\0WAVE".to_vec();
        wav.extend(b"LIST\x03\0\0\0abc\0");
        wav.extend(b"fmt \x10\0\0\0\x01\0\x02\0");
        wav.extend(44_100u32.to_le_bytes());
        wav.extend(176_400u32.to_le_bytes());
        wav.extend(b"\x04\0\x10\0data");
        wav.extend((frames * 4).to_le_bytes());
        wav.extend((0..frames * 4).map(|i| i as u8));
        wav
    }

    #[test]
    fn finds_the_data_of_a_wav() {
        let wav = wav(2);
        let size = wav.len() as u64;
        let pcm = pcm(Format::Wav, &wav, size).expect("read").expect("pcm");
        assert_eq!(
            (pcm.end - pcm.start, pcm.bytes_per_sec, pcm.align),
            (8, 176_400.0, 4)
        );
        assert_eq!(super::pcm(Format::Aiff, &wav, size).expect("read"), None);
    }

    #[test]
    fn a_wav_starts_at_any_frame_with_its_sizes_right() {
        let wav = wav(44_100);
        let plan = seek(Format::Wav, &wav, wav.len() as u64, 500).expect("plan");
        let Part::Made(header) = &plan.parts[0] else {
            panic!("a header")
        };
        let pcm = pcm(Format::Wav, header, header.len() as u64)
            .expect("read")
            .expect("pcm");
        assert_eq!(pcm.start, header.len() as u64);
        assert_eq!(le32(header, 4), Some(header.len() as u32 - 8 + 22_050 * 4));
        assert_eq!(
            plan.parts[1],
            Part::File(pcm_start(&wav) + 22_050 * 4..wav.len() as u64)
        );
        assert_eq!(plan.skip, 0);
        assert!(matches!(
            seek(Format::Wav, &wav, wav.len() as u64, 1000),
            Err(SeekError::PastEnd)
        ));
    }

    fn pcm_start(wav: &[u8]) -> u64 {
        pcm(Format::Wav, wav, wav.len() as u64)
            .expect("read")
            .expect("pcm")
            .start
    }

    #[test]
    fn reads_extended_rates() {
        // 44100 as an 80-bit extended float.
        let b = [0x40, 0x0E, 0xAC, 0x44, 0, 0, 0, 0, 0, 0];
        assert_eq!(extended(&b), Some(44_100.0));
    }
}
