//! The Xing/Info frame that LAME and ffmpeg put first in an MPEG audio file, read the way
//! symphonia reads it: its frame count, and the LAME tag's encoder delay and padding, which a
//! gapless decoder trims.

use std::io;

use super::{Header, is_tag_frame};
use crate::read::{ReadAt, read_vec};

/// What a decoder trims at the start on top of the encoder delay a LAME tag states (ffmpeg's
/// and symphonia's 528 + 1).
pub(crate) const DECODER_DELAY: u64 = 529;

/// The first frame's Xing/Info tag, as a decoder reads it.
#[derive(Debug, Clone)]
pub(crate) struct InfoFrame {
    /// The whole frame, to be patched and sent again.
    pub bytes: Vec<u8>,
    /// Where the LAME extension starts in `bytes`, if the decoder honours it.
    pub lame: Option<usize>,
    /// Where the frame count is, if the tag has one.
    pub frames_at: Option<usize>,
    pub frames: Option<u64>,
    /// Samples the decoder trims at the start and at the end.
    pub delay: u64,
    pub padding: u64,
}

/// The first frame's Xing/Info tag, if it has one, read the way symphonia reads it.
pub(crate) fn info_frame(
    file: &(impl ReadAt + ?Sized),
    at: u64,
    header: &Header,
) -> io::Result<Option<InfoFrame>> {
    let Some(len) = header.len() else {
        return Ok(None);
    };
    let bytes = read_vec(file, at, usize::try_from(len).unwrap_or(0))?;
    let tag = header.tag_offset();
    let side_info = 4 + if header.crc { 2 } else { 0 }..tag;
    let zeroed = bytes
        .get(side_info)
        .is_some_and(|s| s.iter().all(|&b| b == 0));
    if header.layer != 3
        || !zeroed
        || !is_tag_frame(header, &bytes)
        || bytes.get(tag..tag + 4).is_some_and(|t| t == b"VBRI")
    {
        return Ok(None);
    }
    Ok(Some(parse_tag(bytes, tag, header.crc)))
}

fn parse_tag(bytes: Vec<u8>, tag: usize, header_crc: bool) -> InfoFrame {
    let be32 = |at: usize| crate::read::be32(&bytes, at);
    let flags = be32(tag + 4).unwrap_or(0);
    let mut at = tag + 8;
    let frames_at = (flags & 1 != 0).then_some(at);
    let frames = frames_at.and_then(be32).map(u64::from);
    at += 4 * usize::from(flags & 1 != 0) + 4 * usize::from(flags & 2 != 0);
    at += 100 * usize::from(flags & 4 != 0) + 4 * usize::from(flags & 8 != 0);
    let lame = honoured_lame(&bytes, at, header_crc);
    let (delay, padding) = lame.map_or((0, 0), |lame| {
        let trim = u64::from(bytes[lame + 21]) << 16
            | u64::from(bytes[lame + 22]) << 8
            | u64::from(bytes[lame + 23]);
        (
            DECODER_DELAY + (trim >> 12),
            (trim & 0xFFF).saturating_sub(DECODER_DELAY),
        )
    });
    InfoFrame {
        bytes,
        lame,
        frames_at,
        frames,
        delay,
        padding,
    }
}

/// Where a LAME extension at `at` starts, if a decoder honours it: an encoder it knows, and a
/// tag CRC that is absent, zero or right. (symphonia, like LAME, reads a CRC only when the
/// encoder is LAME or the header says there is one.)
fn honoured_lame(bytes: &[u8], at: usize, header_crc: bool) -> Option<usize> {
    let encoder = bytes.get(at..at + 4)?;
    if ![b"LAME", b"Lavf", b"Lavc"].iter().any(|e| *e == encoder) {
        return None;
    }
    bytes.get(at + 24)?;
    let crc = bytes
        .get(at + 34..at + 36)
        .filter(|_| header_crc || encoder == b"LAME");
    let Some(crc) = crc else {
        return Some(at);
    };
    let crc = u16::from_be_bytes([crc[0], crc[1]]);
    (crc == 0 || crc == crc16(&bytes[..at + 34])).then_some(at)
}

/// CRC-16/ARC (polynomial 0x8005, reflected, initial 0): the LAME tag's.
fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |mut crc, &b| {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                crc >> 1 ^ 0xA001
            } else {
                crc >> 1
            };
        }
        crc
    })
}

impl InfoFrame {
    /// Sample frames a gapless decoder gives for the whole stream, if the tag counts frames.
    pub(crate) fn samples(&self, per_frame: u64) -> Option<u64> {
        let all = self.frames?.checked_mul(per_frame)?;
        Some(all.saturating_sub(self.delay + self.padding))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_matches_the_reference() {
        // The check value of CRC-16/ARC for "123456789".
        assert_eq!(crc16(b"123456789"), 0xBB3D);
    }
}
