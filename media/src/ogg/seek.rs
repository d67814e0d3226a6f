//! Ogg Vorbis and Opus streams that start part-way in: the header packets again (with an
//! empty comment header in place of one that may carry megabytes of cover art), then the file
//! from a page boundary shortly before the target.
//!
//! Vorbis: a decoder that starts at page `Q` (one that does not continue a packet) outputs
//! nothing for the first packet, and from the second on the samples after the end of that
//! first packet: the granule position of page `Q - 1` (the end of the packet before) plus what
//! the first packet adds, a quarter of its block and of the block before it. From there the
//! output is the whole song's, sample for sample (each packet overlaps only the one before).
//!
//! Opus: the identification header gets a pre-skip of 0 (the reply's skip counts it), and a
//! decoder that starts at page `Q` outputs every packet whole, from the granule position of
//! page `Q - 1` on. Opus decoders carry state from packet to packet (CELT's energy
//! prediction, SILK's filters) that only converges on the whole decode's: the stream starts
//! at least 80 ms (RFC 7845, 4.6) before the target, after which the difference is far below
//! the codec's own noise, but not nothing.

use std::io;

use super::vorbis::Blocks;
use super::{Codec, FIXED, Page};
use crate::read::{ReadAt, read_vec};
use crate::seek::{Part, Plan, SeekError, target_frame};
use crate::{Format, MediaError};

/// The most a Vorbis packet adds (two long blocks of 8192): a page this far before the target
/// is early enough.
const MAX_ADDED: u64 = 4096;
/// Pages walked at most while reading the headers.
const MAX_HEADER_PAGES: usize = 16 * 1024;
/// Octets scanned for a page's capture pattern in one read.
const WINDOW: usize = 64 * 1024;

/// Opus frames decoded before the target at least: 80 ms at 48 kHz.
const OPUS_PREROLL: u64 = 3840;

/// The first logical stream's header packets, and where the audio starts.
#[derive(Debug)]
struct Headers {
    serial: u32,
    id: Vec<u8>,
    audio_start: u64,
    rate: u32,
    kind: Kind,
}

/// What the codec needs to find where a decoder's output starts.
#[derive(Debug)]
enum Kind {
    Vorbis { setup: Vec<u8>, blocks: Blocks },
    Opus { pre_skip: u64 },
}

/// A verified page in the file.
#[derive(Debug, Clone)]
struct Located {
    at: u64,
    page: Page,
    /// The page's segment table.
    lacing: Vec<u8>,
}

pub fn seek(file: &(impl ReadAt + ?Sized), size: u64, ms: u64) -> Result<Plan, SeekError> {
    let unsupported = |reason| MediaError::Malformed {
        format: Format::Ogg,
        reason,
    };
    let headers = headers(file, size)?.ok_or_else(|| unsupported("not a Vorbis or Opus stream"))?;
    let target = target_frame(ms, headers.rate);
    // Granule positions count Opus's pre-skip; the whole decode starts after it.
    let (raw, preroll) = match headers.kind {
        Kind::Vorbis { .. } => (target, 0),
        Kind::Opus { pre_skip } => (target + pre_skip, OPUS_PREROLL),
    };
    let last =
        last_page(file, size, headers.serial)?.ok_or_else(|| unsupported("no audio pages"))?;
    if last.page.granule.is_none_or(|end| raw >= end) {
        return Err(SeekError::PastEnd);
    }
    let latest = raw.checked_sub(preroll);
    let start = match latest {
        Some(latest) => start_page(file, size, &headers, latest)?,
        None => None,
    };
    let Some((start, first_out)) = start else {
        // Too close to the start for a cut: the whole song, and the target's place in it.
        return Ok(Plan {
            parts: vec![Part::File(0..size)],
            skip: target,
            rate: headers.rate,
        });
    };
    // The headers again, without the comment; or as they are, if they do not fit a page each.
    let head = header_pages(&headers).map_or(Part::File(0..headers.audio_start), Part::Made);
    Ok(Plan {
        parts: vec![head, Part::File(start..size)],
        skip: raw - first_out,
        rate: headers.rate,
    })
}

/// Reads the headers of the first logical stream, reading of the comment header (cover art)
/// only its page headers.
fn headers(file: &(impl ReadAt + ?Sized), size: u64) -> io::Result<Option<Headers>> {
    let mut packets: [Vec<u8>; 3] = Default::default();
    let (mut at, mut index, mut serial) = (0u64, 0usize, None);
    for _ in 0..MAX_HEADER_PAGES {
        let head = read_vec(file, at, FIXED + 255)?;
        let Some(page) = Page::parse(&head) else {
            return Ok(None);
        };
        let serial = *serial.get_or_insert(page.serial);
        let mut body = at + page.header_len as u64;
        at += page.len();
        if page.serial != serial {
            continue;
        }
        for &lace in &head[FIXED..page.header_len] {
            if index != 1 {
                let piece = read_vec(file, body, usize::from(lace))?;
                packets[index].extend(piece);
            }
            body += u64::from(lace);
            if lace < 255 {
                index += 1;
                let opus = packets[0].starts_with(b"OpusHead");
                if index == 3 || (index == 2 && opus) {
                    return Ok(finish_headers(packets, serial, at));
                }
            }
        }
        if at >= size {
            break;
        }
    }
    Ok(None)
}

fn finish_headers(packets: [Vec<u8>; 3], serial: u32, audio_start: u64) -> Option<Headers> {
    let [id, _, setup] = packets;
    let (rate, kind) = match Codec::identify(&id) {
        Codec::Vorbis { rate } => {
            let blocks = Blocks::parse(&id, &setup)?;
            (rate, Kind::Vorbis { setup, blocks })
        }
        Codec::Opus { pre_skip } => (48_000, Kind::Opus { pre_skip }),
        _ => return None,
    };
    Some(Headers {
        serial,
        id,
        audio_start,
        rate,
        kind,
    })
}

/// The headers again as pages: the identification packet alone on the first (beginning of
/// stream), then an empty comment header and (Vorbis) the setup header. Opus's gets a
/// pre-skip of 0. `None` if they do not fit.
fn header_pages(headers: &Headers) -> Option<Vec<u8>> {
    let serial = headers.serial;
    match &headers.kind {
        Kind::Vorbis { setup, .. } => {
            let comment = b"\x03vorbis\0\0\0\0\0\0\0\0\x01".to_vec();
            let mut out = page_of(serial, 0, Page::BOS, &[&headers.id])?;
            out.extend(page_of(serial, 1, 0, &[&comment, setup])?);
            Some(out)
        }
        Kind::Opus { .. } => {
            let mut id = headers.id.clone();
            id.get_mut(10..12)?.fill(0);
            let tags = b"OpusTags\0\0\0\0\0\0\0\0".to_vec();
            let mut out = page_of(serial, 0, Page::BOS, &[&id])?;
            out.extend(page_of(serial, 1, 0, &[&tags])?);
            Some(out)
        }
    }
}

/// One page holding `packets` whole, granule 0; `None` if they need more than 255 segments.
fn page_of(serial: u32, sequence: u32, flags: u8, packets: &[&[u8]]) -> Option<Vec<u8>> {
    let mut lacing = Vec::new();
    for packet in packets {
        lacing.extend(std::iter::repeat_n(255u8, packet.len() / 255));
        lacing.push((packet.len() % 255) as u8);
    }
    let count = u8::try_from(lacing.len()).ok()?;
    let mut page = b"OggS\0".to_vec();
    page.push(flags);
    page.extend(0u64.to_le_bytes());
    page.extend(serial.to_le_bytes());
    page.extend(sequence.to_le_bytes());
    page.extend([0; 4]);
    page.push(count);
    page.extend(&lacing);
    for packet in packets {
        page.extend(*packet);
    }
    let crc = crc32(&page);
    page[22..26].copy_from_slice(&crc.to_le_bytes());
    Some(page)
}

/// CRC-32 as Ogg computes it: polynomial 0x04C11DB7, most significant bit first, initial 0.
fn crc32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0u32, |mut crc, &b| {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                crc << 1 ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
        crc
    })
}

/// The page at `at`, if a whole one of `serial` with a right CRC is there.
fn page_at(file: &(impl ReadAt + ?Sized), at: u64, serial: u32) -> io::Result<Option<Located>> {
    let head = read_vec(file, at, FIXED + 255)?;
    let Some(page) = Page::parse(&head).filter(|p| p.serial == serial) else {
        return Ok(None);
    };
    let mut whole = read_vec(file, at, usize::try_from(page.len()).unwrap_or(0))?;
    if whole.len() as u64 != page.len() {
        return Ok(None);
    }
    let crc = crate::read::le32(&whole, 22);
    whole[22..26].fill(0);
    let lacing = head[FIXED..page.header_len].to_vec();
    Ok((crc == Some(crc32(&whole))).then_some(Located { at, page, lacing }))
}

/// The first verified page of `serial` at or after `from`.
fn page_from(
    file: &(impl ReadAt + ?Sized),
    mut from: u64,
    size: u64,
    serial: u32,
) -> io::Result<Option<Located>> {
    while from < size {
        let window = read_vec(file, from, WINDOW)?;
        for i in 0..window.len().saturating_sub(3) {
            if &window[i..i + 4] == b"OggS" {
                if let Some(found) = page_at(file, from + i as u64, serial)? {
                    return Ok(Some(found));
                }
            }
        }
        from += window.len().saturating_sub(3).max(1) as u64;
    }
    Ok(None)
}

/// The stream's last page (its granule is the song's length in frames).
fn last_page(file: &(impl ReadAt + ?Sized), size: u64, serial: u32) -> io::Result<Option<Located>> {
    let mut from = size.saturating_sub(WINDOW as u64 * 2);
    loop {
        let mut last = None;
        let mut at = from;
        while let Some(found) = page_from(file, at, size, serial)? {
            at = found.at + found.page.len();
            last = Some(found);
        }
        if last.is_some() || from == 0 {
            return Ok(last);
        }
        from = from.saturating_sub(WINDOW as u64 * 8);
    }
}

/// The page to start at and the first frame a decoder outputs from it: the last page before
/// `target` that starts a packet and whose first output is at or before the target. `None`
/// when no page after the headers will do.
fn start_page(
    file: &(impl ReadAt + ?Sized),
    size: u64,
    headers: &Headers,
    target: u64,
) -> io::Result<Option<(u64, u64)>> {
    let serial = headers.serial;
    let Some(first) = page_from(file, headers.audio_start, size, serial)? else {
        return Ok(None);
    };
    // Bisect for a page whose granule lies well before the target, then walk forward.
    let (mut low, mut high) = (first, size);
    while high.saturating_sub(low.at) > 4 * WINDOW as u64 {
        let mid = low.at + (high - low.at) / 2;
        match page_from(file, mid, high, serial)? {
            Some(found) if found.page.granule.is_some_and(|g| g + MAX_ADDED <= target) => {
                low = found
            }
            _ => high = mid,
        }
    }
    let mut best = None;
    let mut before = low;
    while let Some(page) = page_from(file, before.at + before.page.len(), size, serial)? {
        // Not the last page: on it, a decoder that starts there cannot tell the end's padding
        // from a start delay, and trims differently.
        if page.page.flags & Page::EOS != 0 {
            break;
        }
        if let Some(out) = first_output(file, &before, &page, &headers.kind)? {
            if out > target {
                break;
            }
            best = Some((page.at, out));
        }
        before = page;
    }
    Ok(best)
}

/// The first frame a decoder outputs when it starts at `page`, which follows `before`: the
/// end of the last packet on `before`, plus (Vorbis) what `page`'s first packet adds. `None`
/// if that cannot be told (`page` continues a packet, or `before` ends none whole).
fn first_output(
    file: &(impl ReadAt + ?Sized),
    before: &Located,
    page: &Located,
    kind: &Kind,
) -> io::Result<Option<u64>> {
    if page.page.flags & 1 != 0 {
        return Ok(None);
    }
    let Some(end) = before.page.granule else {
        return Ok(None);
    };
    let blocks = match kind {
        Kind::Vorbis { blocks, .. } => blocks,
        Kind::Opus { .. } => return Ok(Some(end)),
    };
    // The last packet on `before` starts after the packet before it ends, on the same page.
    let ends: Vec<usize> = (0..before.lacing.len())
        .filter(|&i| before.lacing[i] < 255)
        .collect();
    let [.., previous, _] = ends.as_slice() else {
        return Ok(None);
    };
    let offset: u64 = before.lacing[..=*previous]
        .iter()
        .map(|&l| u64::from(l))
        .sum();
    let body = before.at + before.page.header_len as u64;
    let last_first = read_vec(file, body + offset, 1)?;
    let page_first = read_vec(file, page.at + page.page.header_len as u64, 1)?;
    let (Some(&a), Some(&b)) = (last_first.first(), page_first.first()) else {
        return Ok(None);
    };
    let (Some(last_block), Some(block)) = (blocks.block(a), blocks.block(b)) else {
        return Ok(None);
    };
    Ok(Some(end + Blocks::added(last_block, block)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_ogg() {
        // An Ogg page's CRC, computed over the page with its CRC field zeroed, is written there.
        let page = page_of(7, 0, Page::BOS, &[b"hello"]).expect("a page");
        let mut zeroed = page.clone();
        zeroed[22..26].fill(0);
        assert_eq!(crate::read::le32(&page, 22), Some(crc32(&zeroed)));
        assert_eq!(crc32(b""), 0);
    }
}
