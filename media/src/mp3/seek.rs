//! MPEG audio streams that start part-way in, exact to the sample against a decoder that trims
//! the encoder delay and padding of a LAME tag the way symphonia (and ffmpeg) do.
//!
//! A layer III frame's main data may begin up to 511 octets back, in earlier frames (the bit
//! reservoir), and its output overlaps the frame before (and, through the synthesis filter's
//! history, in MPEG-2 the one before that). So the stream starts a few frames before the one
//! that holds the target: frames `t - 2` and `t - 1` must decode from complete data, which
//! makes frame `t` on bit-exact; what the warm-up frames decode to is skipped. A song
//! whose first frame is a Xing/Info frame with a LAME tag gets a copy of it, patched for the
//! stream that follows: no encoder delay (a decoder then trims its own 529 samples, counted in
//! the skip) and the original padding, so the stream ends on the same sample as the song.

use std::collections::VecDeque;
use std::io;

use super::info::{DECODER_DELAY, InfoFrame, info_frame};
use super::{Header, PROBE, first_frame};
use crate::read::{ReadAt, read_vec};
use crate::seek::{Part, Plan, SeekError, target_frame};
use crate::{Format, MediaError, tags};

/// Octets read at a time while walking frames.
const WINDOW: usize = 64 * 1024;
/// Frames remembered behind the walk: enough to reach back over any bit reservoir (at most
/// 511 octets; the smallest frames carry 13 octets of main data) and two more frames.
const RING: usize = 48;

/// A frame met on the walk.
#[derive(Debug, Clone, Copy, Default)]
struct Frame {
    at: u64,
    main_data: u64,
}

pub fn seek(file: &(impl ReadAt + ?Sized), size: u64, ms: u64) -> Result<Plan, SeekError> {
    let malformed = |reason| MediaError::Malformed {
        format: Format::Mp3,
        reason,
    };
    let start = tags::leading(file, size)?;
    let end = size - tags::trailing(file, size)?;
    let head = read_vec(file, start, PROBE)?;
    let (offset, first) = first_frame(&head).ok_or_else(|| malformed("no MPEG audio frame"))?;
    let first_at = start + offset as u64;
    let info = info_frame(file, first_at, &first)?;
    let audio_at = first_at + info.as_ref().map_or(0, |i| i.bytes.len() as u64);
    let spf = u64::from(first.samples());
    let (delay, padding) = info.as_ref().map_or((0, 0), |i| (i.delay, i.padding));
    let target = target_frame(ms, first.sample_rate);
    if let Some(frames) = info.as_ref().and_then(|i| i.frames) {
        if target + delay + padding >= frames * spf {
            return Err(SeekError::PastEnd);
        }
    }
    let raw = target + delay;
    let ring = walk(file, audio_at, end, &first, raw / spf)?.ok_or(SeekError::PastEnd)?;
    let reservoir = if first.version == 1 { 511 } else { 255 };
    let tagged = info.as_ref().is_some_and(|i| i.lame.is_some());
    let start_frame = warm_up(&ring, reservoir, raw, spf, tagged);
    let Some((index, frame)) = start_frame else {
        // Too close to the start for a cut: the whole song, and the target's place in it.
        return Ok(Plan {
            parts: vec![Part::File(first_at..end)],
            skip: target,
            rate: first.sample_rate,
        });
    };
    let mut parts = Vec::new();
    let mut skip = raw - index * spf;
    if let Some(info) = info.as_ref().filter(|i| i.lame.is_some()) {
        parts.push(Part::Made(patched(info, index)));
        skip -= DECODER_DELAY;
    }
    parts.push(Part::File(frame.at..end));
    Ok(Plan {
        parts,
        skip,
        rate: first.sample_rate,
    })
}

/// The frame to start from, and its index: far enough back that frames `t - 2` and `t - 1`
/// (`ring` ends at frame `t`, which holds the target) have all their main data, and that the
/// skip covers a decoder's own delay where a tag makes it trim one. `None` when that is the
/// first frame.
fn warm_up(
    ring: &[(u64, Frame)],
    reservoir: u64,
    raw: u64,
    spf: u64,
    tagged: bool,
) -> Option<(u64, Frame)> {
    // `ring` holds frames up to t, oldest first. Frames t - 2 and t - 1 must decode from
    // complete main data: t's output overlaps t - 1's, and in MPEG-2 (one granule a frame)
    // t - 1's own output, which fills the synthesis filter's history, overlaps t - 2's. So
    // walk back from t - 3, gathering enough main data for t - 2's reservoir.
    let mut gathered = 0;
    let mut pick = ring.iter().rev().skip(3);
    let mut chosen = None;
    for &(index, frame) in pick.by_ref() {
        chosen = Some((index, frame));
        gathered += frame.main_data;
        if gathered >= reservoir {
            break;
        }
    }
    let (mut index, mut frame) = chosen?;
    // A tag makes the decoder trim 529 samples first: they must come out of the warm-up.
    if tagged && raw - index * spf < DECODER_DELAY {
        (index, frame) = *pick.next()?;
    }
    (index > 0).then_some((index, frame))
}

/// Walks frames from `from` up to frame `last` (counted from 0); the frames up to it, the
/// last [`RING`] of them, with their indexes. `None` if the stream ends first.
fn walk(
    file: &(impl ReadAt + ?Sized),
    from: u64,
    end: u64,
    first: &Header,
    last: u64,
) -> io::Result<Option<Vec<(u64, Frame)>>> {
    let mut ring: VecDeque<(u64, Frame)> = VecDeque::with_capacity(RING + 1);
    let (mut at, mut index) = (from, 0u64);
    let mut window: Vec<u8> = Vec::new();
    let mut window_at = from;
    while at + 4 <= end {
        if at < window_at || at + 4 > window_at + window.len() as u64 {
            window_at = at;
            window = read_vec(file, at, WINDOW)?;
        }
        let i = usize::try_from(at - window_at).unwrap_or(usize::MAX);
        let header = window.get(i..).and_then(Header::parse);
        let Some((header, len)) = header
            .filter(|h| h.same_stream(first))
            .and_then(|h| Some((h, h.len()?)))
        else {
            at += 1;
            continue;
        };
        ring.push_back((
            index,
            Frame {
                at,
                main_data: header.main_data_len(),
            },
        ));
        if ring.len() > RING {
            ring.pop_front();
        }
        if index == last {
            return Ok(Some(ring.into()));
        }
        index += 1;
        at += len;
    }
    Ok(None)
}

/// The info frame for a stream starting at audio frame `from`: its frame count less the
/// frames left out, no encoder delay, the same padding, and a zero tag CRC (which decoders
/// take as "not checked").
fn patched(info: &InfoFrame, from: u64) -> Vec<u8> {
    let mut bytes = info.bytes.clone();
    if let (Some(at), Some(frames)) = (info.frames_at, info.frames) {
        let left = u32::try_from(frames.saturating_sub(from)).unwrap_or(u32::MAX);
        bytes[at..at + 4].copy_from_slice(&left.to_be_bytes());
    }
    if let Some(lame) = info.lame {
        // Delay 0, padding as it was (the low 12 bits of the 24).
        bytes[lame + 21] = 0;
        bytes[lame + 22] &= 0x0F;
        if let Some(crc) = bytes.get_mut(lame + 34..lame + 36) {
            crc.copy_from_slice(&[0, 0]);
        }
    }
    bytes
}
