//! FLAC streams that start part-way in: the stream info, then the file from the frame that
//! holds the target. FLAC frames decode on their own, so the skip is just the target's place in
//! its frame. The frame is found by bisecting the file on frame headers, each one confirmed by
//! the header that follows it in the chain (a look-alike inside a frame's data has none).

use std::io;

use super::FrameHeader;
use crate::read::{ReadAt, be32, read_vec};
use crate::seek::{Part, Plan, SeekError, target_frame};
use crate::{Format, MediaError, tags};

/// Octets read at a time while scanning for a frame header.
const WINDOW: usize = 64 * 1024;
/// Below this distance the bisection stops and frames are walked one by one.
const WALK: u64 = 256 * 1024;
/// How far a frame's successor is looked for: FLAC frames are rarely over 64 KiB.
const MAX_FRAME: u64 = 1 << 20;

/// What the stream info says, and where the metadata ends.
#[derive(Debug, Clone)]
struct Stream {
    /// The 34 octets of the STREAMINFO block.
    info: Vec<u8>,
    rate: u32,
    /// Total sample frames; 0 when unknown.
    total: u64,
    /// The fixed block size, when min and max agree.
    block: Option<u32>,
    /// The audio region.
    start: u64,
    end: u64,
}

/// A frame found in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Found {
    at: u64,
    first: u64,
    block: u32,
}

pub fn seek(file: &(impl ReadAt + ?Sized), size: u64, ms: u64) -> Result<Plan, SeekError> {
    let stream = stream(file, size)?.ok_or(MediaError::Malformed {
        format: Format::Flac,
        reason: "no stream info",
    })?;
    let target = target_frame(ms, stream.rate);
    if stream.total > 0 && target >= stream.total {
        return Err(SeekError::PastEnd);
    }
    let Some(frame) = frame_at(file, &stream, target)? else {
        return Err(SeekError::PastEnd);
    };
    let mut head = b"fLaC".to_vec();
    // The stream info alone, marked as the last metadata block.
    head.extend([0x80, 0, 0, 34]);
    head.extend(&stream.info);
    Ok(Plan {
        parts: vec![Part::Made(head), Part::File(frame.at..stream.end)],
        skip: target - frame.first,
        rate: stream.rate,
    })
}

fn stream(file: &(impl ReadAt + ?Sized), size: u64) -> io::Result<Option<Stream>> {
    let Some((start, end)) = super::audio(file, size)? else {
        return Ok(None);
    };
    let at = tags::leading(file, size)? + 4;
    let head = read_vec(file, at, 4 + 34)?;
    if be32(&head, 0).is_none_or(|w| w >> 24 & 0x7F != 0) || head.len() < 38 {
        return Ok(None);
    }
    let info = head[4..].to_vec();
    let (min, max) = (crate::read::be16(&info, 0), crate::read::be16(&info, 2));
    let rate = be32(&info, 10).map_or(0, |v| v >> 12);
    let total = crate::read::be64(&info, 10).map_or(0, |v| v & 0xF_FFFF_FFFF);
    Ok((rate > 0).then(|| Stream {
        info,
        rate,
        total,
        block: min.filter(|_| min == max).map(u32::from),
        start,
        end,
    }))
}

/// The frame that holds sample frame `target`, if the file has it.
fn frame_at(
    file: &(impl ReadAt + ?Sized),
    stream: &Stream,
    target: u64,
) -> io::Result<Option<Found>> {
    let Some(mut low) = next_frame(file, stream, stream.start)? else {
        return Ok(None);
    };
    let mut high = stream.end;
    while high.saturating_sub(low.at) > WALK {
        let mid = low.at + (high - low.at) / 2;
        match next_frame(file, stream, mid)? {
            Some(found) if found.first <= target && found.at < high => low = found,
            _ => high = mid,
        }
    }
    let mut best = low;
    while let Some(next) = next_frame(file, stream, best.at + 1)? {
        if next.first > target {
            break;
        }
        best = next;
    }
    let holds = (best.first..best.first.saturating_add(u64::from(best.block))).contains(&target);
    Ok(holds.then_some(best))
}

/// The first confirmed frame whose header starts at or after `from`.
fn next_frame(
    file: &(impl ReadAt + ?Sized),
    stream: &Stream,
    mut from: u64,
) -> io::Result<Option<Found>> {
    let limit = stream.end;
    while from < limit {
        let window = read_vec(file, from, WINDOW)?;
        if window.is_empty() {
            break;
        }
        for i in 0..window.len().saturating_sub(1) {
            if window[i] != 0xFF || window[i + 1] & 0xFE != 0xF8 {
                continue;
            }
            let at = from + i as u64;
            if at >= limit {
                return Ok(None);
            }
            let head = if i + 16 <= window.len() {
                window[i..i + 16].to_vec()
            } else {
                read_vec(file, at, 16)?
            };
            if let Some(found) = candidate(&head, at, stream) {
                if confirmed(file, stream, found)? {
                    return Ok(Some(found));
                }
            }
        }
        from += window.len().saturating_sub(1).max(1) as u64;
    }
    Ok(None)
}

/// A frame header at `at` that fits the stream, not yet confirmed.
fn candidate(head: &[u8], at: u64, stream: &Stream) -> Option<Found> {
    let header = FrameHeader::parse(head)?;
    if header.sample_rate.is_some_and(|r| r != stream.rate) {
        return None;
    }
    let first = if header.variable {
        header.number
    } else {
        header
            .number
            .checked_mul(u64::from(stream.block.unwrap_or(header.block_size)))?
    };
    if stream.total > 0 && first >= stream.total {
        return None;
    }
    Some(Found {
        at,
        first,
        block: header.block_size,
    })
}

/// Whether `found` is a real frame: the next frame follows it in the chain, or it ends the
/// stream.
fn confirmed(file: &(impl ReadAt + ?Sized), stream: &Stream, found: Found) -> io::Result<bool> {
    let next_sample = found.first + u64::from(found.block);
    if stream.total > 0 && next_sample >= stream.total {
        return Ok(true);
    }
    let reach = found.at + (stream.end - found.at).min(MAX_FRAME);
    let mut from = found.at + 2;
    while from < reach {
        let buf = read_vec(file, from, WINDOW)?;
        if buf.len() < 2 {
            break;
        }
        for i in 0..buf.len() - 1 {
            if buf[i] != 0xFF || buf[i + 1] & 0xFE != 0xF8 {
                continue;
            }
            let at = from + i as u64;
            let head = match buf.get(i..i + 16) {
                Some(head) => head.to_vec(),
                None => read_vec(file, at, 16)?,
            };
            if candidate(&head, at, stream).is_some_and(|next| next.first == next_sample) {
                return Ok(true);
            }
        }
        from += (buf.len() - 1) as u64;
    }
    Ok(false)
}
