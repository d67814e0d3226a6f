//! mp4 streams a decoder can read from the first octet on, made on the fly from the file
//! (which is never changed):
//!
//! - [`faststart`]: a file whose index (`moov`) follows its media data (`mdat`, ffmpeg's and
//!   many rippers' default) is sent with the index moved ahead of the media data, every chunk
//!   offset shifted by the index's length (what `qt-faststart` does to a file), and `stco`
//!   promoted to `co64` where an offset then passes 4 GiB;
//! - [`seek`]: a stream from a position is `ftyp`, a new index for the sound track's samples
//!   from a little before the target on (its tables cut, its edit list saying no priming and
//!   the length of what follows), and one `mdat` holding those samples' octets.

use std::ops::Range;

use super::table::{Table, offsets_box};
use super::tree::{Atom, Body};
use super::{BoxAt, MAX_MOOV, Track, boxes, first_box, sound_track, timeline};
use crate::read::{ReadAt, be32, read_vec};
use crate::seek::{Part, Plan, SeekError, target_frame};
use crate::{Format, MediaError};

/// Packets decoded before the one that holds the target, so that the decoder's overlap
/// (AAC's transform overlaps the packet before) is warm when the target's packet comes.
const PREROLL: usize = 1;

/// Times the index is laid out again when its own length moves the offsets it holds.
const MAX_LAYOUTS: usize = 4;

fn malformed(reason: &'static str) -> MediaError {
    MediaError::Malformed {
        format: Format::Mp4,
        reason,
    }
}

/// What a play from the start sends of the mp4 file `file` of `size` octets: the file as it
/// is, unless its index follows its media data; then the same boxes with the index first.
/// A file whose index cannot be moved (compressed, too large, broken) is sent as it is.
pub fn faststart(file: &(impl ReadAt + ?Sized), size: u64) -> std::io::Result<Vec<Part>> {
    let whole = vec![Part::File(0..size)];
    // The index and the first media data box: the walk stops once both are found (a
    // fragmented file has a box pair for every fragment after them).
    let (mut moov, mut mdat) = (None, None);
    for found in boxes(file, size) {
        let found = found?;
        match &found.kind {
            b"moov" => moov = moov.or(Some(found)),
            b"mdat" => mdat = mdat.or(Some(found)),
            _ => {}
        }
        if moov.is_some() && mdat.is_some() {
            break;
        }
    }
    let (Some(moov), Some(mdat)) = (moov, mdat) else {
        return Ok(whole);
    };
    if moov.start < mdat.start {
        return Ok(whole);
    }
    let Ok((index, _)) = read_index(file, &moov) else {
        return Ok(whole);
    };
    let moved = |len: u64| {
        move |offset: u64| {
            if (mdat.start..moov.start).contains(&offset) {
                offset.checked_add(len)
            } else if offset >= moov.end {
                (offset + len).checked_sub(moov.end - moov.start)
            } else {
                Some(offset)
            }
        }
    };
    let Some(index) = lay_out(|len| shifted(&index, moved(len))) else {
        return Ok(whole);
    };
    Ok(vec![
        Part::File(0..mdat.start),
        Part::Made(index),
        Part::File(mdat.start..moov.start),
        Part::File(moov.end..size),
    ])
}

/// A play of the mp4 file from `ms` milliseconds (PROTOCOL.md 5.4.1).
pub fn seek(file: &(impl ReadAt + ?Sized), size: u64, ms: u64) -> Result<Plan, SeekError> {
    let ftyp = boxes(file, size)
        .next()
        .transpose()?
        .filter(|b| &b.kind == b"ftyp")
        .ok_or_else(|| malformed("no ftyp box first"))?;
    let moov = first_box(file, size, b"moov")?.ok_or_else(|| malformed("no index (moov)"))?;
    let (index, payload) = read_index(file, &moov)?;
    let track = sound_track(&payload).ok_or_else(|| malformed("no sound track"))?;
    let rate = sample_rate(&track)?;
    let trak = sound_trak(&index).ok_or_else(|| malformed("no sound track"))?;
    // A fragmented file's samples are laid out as one table, its fragments' headers left
    // in the media data as octets no sample names: the stream sent is not fragmented.
    let (table, sound) = timeline(file, size, &payload)?
        .ok_or_else(|| malformed("broken sample table or fragment"))?;
    let target = target_frame(ms, rate);
    if target >= sound.frames {
        return Err(SeekError::PastEnd);
    }
    let raw = sound.delay + target;
    let holding = holding(&table, raw).ok_or(SeekError::PastEnd)?;
    let first = holding.saturating_sub(PREROLL);
    if first == 0 {
        return Ok(Plan {
            parts: faststart(file, size)?,
            skip: target,
            rate,
        });
    }
    let tail = table
        .tail(first)
        .ok_or_else(|| malformed("chunks out of order"))?;
    let skip = raw - table.time_of(first);
    let (start, end) = tail.span_from(0).ok_or_else(|| malformed("no samples"))?;
    if end > size {
        return Err(malformed("the file is shorter than its index says").into());
    }
    let length = skip + (sound.frames - target);
    let head = stream_head(&index, trak, &tail, &ftyp, start..end, (rate, length))
        .ok_or_else(|| malformed("index too large to rewrite"))?;
    Ok(Plan {
        parts: vec![
            Part::File(ftyp.start..ftyp.end),
            Part::Made(head),
            Part::File(start..end),
        ],
        skip,
        rate,
    })
}

/// The index, opened and as read. A compressed index (`cmov`, from old QuickTime) is refused.
fn read_index(file: &(impl ReadAt + ?Sized), moov: &BoxAt) -> Result<(Atom, Vec<u8>), MediaError> {
    let len = moov.end - moov.payload;
    if len > MAX_MOOV {
        return Err(malformed("index too large"));
    }
    let payload = read_vec(file, moov.payload, len as usize)?;
    let index = Atom::parse(*b"moov", &payload).ok_or_else(|| malformed("broken index"))?;
    if index.child(b"cmov").is_some() {
        return Err(malformed("compressed index (cmov)"));
    }
    Ok((index, payload))
}

/// Lays out an index whose offsets depend on its own length: `build(len)` makes the index
/// as if it were `len` octets long, until it is.
fn lay_out(build: impl Fn(u64) -> Option<Atom>) -> Option<Vec<u8>> {
    let mut index = build(0)?;
    for _ in 0..MAX_LAYOUTS {
        let len = index.len();
        let next = build(len)?;
        if next.len() == len {
            return Some(next.to_vec());
        }
        index = next;
    }
    None
}

/// `index` with every chunk offset of every track moved by `place`.
fn shifted(index: &Atom, place: impl Fn(u64) -> Option<u64> + Copy) -> Option<Atom> {
    let mut index = index.clone();
    for trak in index
        .children_mut()
        .iter_mut()
        .filter(|c| &c.kind == b"trak")
    {
        let Some(stbl) = descend(trak, &[b"mdia", b"minf", b"stbl"]) else {
            continue;
        };
        for table in stbl.children_mut() {
            let wide = match &table.kind {
                b"stco" => false,
                b"co64" => true,
                _ => continue,
            };
            let payload = table.payload()?;
            let offsets = chunk_offsets(payload, wide)?;
            let placed: Vec<u64> = offsets.into_iter().map(place).collect::<Option<_>>()?;
            *table = offsets_box(&placed);
        }
    }
    Some(index)
}

fn chunk_offsets(payload: &[u8], wide: bool) -> Option<Vec<u64>> {
    if wide {
        super::entries(payload, 8)?
            .map(|e| crate::read::be64(e, 0))
            .collect()
    } else {
        super::entries(payload, 4)?
            .map(|e| be32(e, 0).map(u64::from))
            .collect()
    }
}

fn descend<'a>(atom: &'a mut Atom, path: &[&[u8; 4]]) -> Option<&'a mut Atom> {
    path.iter().try_fold(atom, |atom, kind| {
        atom.children_mut().iter_mut().find(|c| &c.kind == *kind)
    })
}

/// The first sound track of an opened index.
fn sound_trak(index: &Atom) -> Option<&Atom> {
    index.children().iter().find(|trak| {
        &trak.kind == b"trak"
            && trak
                .find(&[b"mdia", b"hdlr"])
                .and_then(Atom::payload)
                .and_then(|h| h.get(8..12))
                == Some(b"soun")
    })
}

/// The sample rate, which must be the track's timescale for the plan's frames to be samples.
/// A sample entry states rates below 65536 (16.16 fixed point); higher ones only the codec's
/// own configuration does, and then the timescale is taken as the rate.
fn sample_rate(track: &Track<'_>) -> Result<u32, MediaError> {
    let stsd = track
        .stbl()
        .and_then(|stbl| super::child(stbl, b"stsd"))
        .ok_or_else(|| malformed("no sample description"))?;
    // The entry count, the entry's header, then 24 octets before the rate.
    let stated = be32(stsd, 8 + 8 + 24).map_or(0, |r| r >> 16);
    let timescale = track.timescale;
    if stated == timescale || timescale > 0xFFFF {
        Ok(timescale)
    } else {
        Err(malformed("track timescale is not its sample rate"))
    }
}

/// The sample whose decoded frames hold frame `raw` of the track's decode.
fn holding(table: &Table, raw: u64) -> Option<usize> {
    let mut time = 0u64;
    table.deltas.iter().position(|&delta| {
        time += u64::from(delta);
        time > raw
    })
}

/// `ftyp` aside, what comes first in a stream from a position: the new index, then the
/// header of the `mdat` that holds the file's `data`.
fn stream_head(
    index: &Atom,
    trak: &Atom,
    tail: &Table,
    ftyp: &BoxAt,
    data: Range<u64>,
    (timescale, length): (u32, u64),
) -> Option<Vec<u8>> {
    let octets = data.end - data.start;
    let mdat_header = if octets + 8 > u64::from(u32::MAX) {
        16
    } else {
        8
    };
    let ftyp_len = ftyp.end - ftyp.start;
    let build = |len: u64| {
        let base = ftyp_len + len + mdat_header;
        let place = |offset: u64| (offset - data.start).checked_add(base);
        new_index(index, trak, tail, place, (timescale, length))
    };
    let mut head = lay_out(build)?;
    if mdat_header == 16 {
        head.extend(1u32.to_be_bytes());
        head.extend(b"mdat");
        head.extend((octets + 16).to_be_bytes());
    } else {
        head.extend(u32::try_from(octets + 8).ok()?.to_be_bytes());
        head.extend(b"mdat");
    }
    Some(head)
}

/// The index of a stream from a position: the movie header in the track's timescale and
/// the sound track alone (no other tracks, no tags or cover art), with the cut tables and an
/// edit list of `length` frames from the first.
fn new_index(
    index: &Atom,
    trak: &Atom,
    tail: &Table,
    place: impl Fn(u64) -> Option<u64>,
    (timescale, length): (u32, u64),
) -> Option<Atom> {
    let mvhd = movie_header(index.child(b"mvhd")?.payload()?, timescale, length)?;
    let mut trak = trak.clone();
    let stbl = descend(&mut trak, &[b"mdia", b"minf", b"stbl"])?;
    let stsd = stbl.child(b"stsd")?.clone();
    let [stts, stsc, stsz, stco] = tail.boxes(place)?;
    stbl.body = Body::Boxes(vec![stsd, stts, stsc, stsz, stco]);
    let edts = Atom::boxes(*b"edts", vec![edit_list(length)]);
    let children = match &mut trak.body {
        Body::Boxes(children) => children,
        Body::Data(_) => return None,
    };
    children.retain(|c| &c.kind != b"edts");
    let at = children
        .iter()
        .position(|c| &c.kind == b"tkhd")
        .map_or(0, |i| i + 1);
    children.insert(at, edts);
    Some(Atom::boxes(
        *b"moov",
        vec![Atom::data(*b"mvhd", mvhd), trak],
    ))
}

/// `mvhd` with the track's timescale and `length` as its duration.
fn movie_header(mvhd: &[u8], timescale: u32, length: u64) -> Option<Vec<u8>> {
    let mut mvhd = mvhd.to_vec();
    if mvhd.first()? == &1 {
        mvhd.get_mut(20..24)?
            .copy_from_slice(&timescale.to_be_bytes());
        mvhd.get_mut(24..32)?.copy_from_slice(&length.to_be_bytes());
    } else {
        let duration = u32::try_from(length).unwrap_or(u32::MAX);
        mvhd.get_mut(12..16)?
            .copy_from_slice(&timescale.to_be_bytes());
        mvhd.get_mut(16..20)?
            .copy_from_slice(&duration.to_be_bytes());
    }
    Some(mvhd)
}

/// One edit: `length` frames of media from its first, at normal speed.
fn edit_list(length: u64) -> Atom {
    let mut payload = Vec::new();
    match u32::try_from(length) {
        Ok(length) => {
            payload.extend([0, 0, 0, 0, 0, 0, 0, 1]);
            payload.extend(length.to_be_bytes());
            payload.extend(0u32.to_be_bytes());
        }
        Err(_) => {
            payload.extend([1, 0, 0, 0, 0, 0, 0, 1]);
            payload.extend(length.to_be_bytes());
            payload.extend(0u64.to_be_bytes());
        }
    }
    payload.extend([0, 1, 0, 0]);
    Atom::data(*b"elst", payload)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{boxed, moov};
    use super::*;

    fn stream(parts: &[Part], file: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for part in parts {
            match part {
                Part::Made(bytes) => out.extend(bytes),
                Part::File(r) => out.extend(&file[r.start as usize..r.end as usize]),
            }
        }
        out
    }

    /// ftyp (16), mdat (8 + 600: three chunks of 100 octets at 124, 324, 524), moov.
    fn late() -> Vec<u8> {
        let mut file = boxed(b"ftyp", b"M4A \0\0\0\0");
        let mut data = vec![0u8; 600];
        for (i, b) in data.iter_mut().enumerate() {
            *b = (i % 251) as u8;
        }
        file.extend(boxed(b"mdat", &data));
        file.extend(moov([124, 324, 524]));
        file
    }

    #[test]
    fn a_late_index_moves_first_and_offsets_follow() {
        let file = late();
        let parts = faststart(&file, file.len() as u64).expect("read");
        let out = stream(&parts, &file);
        assert_eq!(out.len(), file.len());
        let boxes = super::super::top_level(&out, out.len() as u64).expect("boxes");
        let kinds: Vec<&[u8; 4]> = boxes.iter().map(|b| &b.kind).collect();
        assert_eq!(kinds, [b"ftyp", b"moov", b"mdat"]);
        let moved = boxes[1].end - boxes[1].start;
        let points = super::super::chunk_times(&out, out.len() as u64)
            .expect("read")
            .expect("index");
        assert_eq!(points[0].0, 124 + moved);
        // The chunk's octets are where the new offset says.
        assert_eq!(out[points[0].0 as usize..][..500], file[124..624]);
    }

    /// A file of `size` octets that holds `pieces` and zeros elsewhere.
    struct Sparse {
        pieces: Vec<(u64, Vec<u8>)>,
    }

    impl ReadAt for Sparse {
        fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
            buf.fill(0);
            for (at, bytes) in &self.pieces {
                for (i, b) in bytes.iter().enumerate() {
                    let Some(to) = (at + i as u64).checked_sub(offset) else {
                        continue;
                    };
                    if let Some(slot) = buf.get_mut(to as usize) {
                        *slot = *b;
                    }
                }
            }
            Ok(buf.len())
        }
    }

    #[test]
    fn offsets_pushed_past_4_gib_take_64_bits() {
        // ftyp, then 4 GiB of media data whose chunks lie just below 4 GiB, then the index.
        let ftyp = boxed(b"ftyp", b"M4A \0\0\0\0");
        let mdat_len: u64 = (1 << 32) + 100;
        let mut mdat = 1u32.to_be_bytes().to_vec();
        mdat.extend(b"mdat");
        mdat.extend(mdat_len.to_be_bytes());
        let top = u32::MAX - 300;
        let index = moov([top, top + 100, top + 200]);
        let moov_at = 16 + mdat_len;
        let size = moov_at + index.len() as u64;
        let file = Sparse {
            pieces: vec![(0, ftyp), (16, mdat), (moov_at, index.clone())],
        };
        let parts = faststart(&file, size).expect("read");
        let Part::Made(moved) = &parts[1] else {
            panic!("{parts:?}")
        };
        // The stco of 3 entries became a co64: 12 octets longer.
        assert_eq!(moved.len(), index.len() + 12);
        let (table, _) = super::super::timeline(&file, size, &moved[8..])
            .expect("read")
            .expect("index");
        let points = super::super::table_times(&table, 1000, size + 12);
        assert_eq!(points[0].0, u64::from(top) + moved.len() as u64);
        assert_eq!(parts.iter().map(Part::len).sum::<u64>(), size + 12);
    }

    #[test]
    fn an_index_first_is_left_alone() {
        let mut file = boxed(b"ftyp", b"M4A \0\0\0\0");
        file.extend(moov([500, 600, 700]));
        file.extend(boxed(b"mdat", &[0; 300]));
        let parts = faststart(&file, file.len() as u64).expect("read");
        assert_eq!(parts, vec![Part::File(0..file.len() as u64)]);
    }

    #[test]
    fn a_compressed_index_is_sent_as_it_is_and_refuses_a_position() {
        let mut file = boxed(b"ftyp", b"M4A \0\0\0\0");
        file.extend(boxed(b"mdat", &[0; 300]));
        file.extend(boxed(b"moov", &boxed(b"cmov", &[0; 40])));
        let size = file.len() as u64;
        assert_eq!(
            faststart(&file, size).expect("read"),
            vec![Part::File(0..size)]
        );
        let err = seek(&file, size, 10).expect_err("cmov");
        assert!(err.to_string().contains("compressed"), "{err}");
    }
}
