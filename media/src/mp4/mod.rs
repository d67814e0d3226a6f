//! MPEG-4 files (ISO base media): top-level boxes, and from the index (`moov`) the time of
//! every chunk of the first sound track, wherever the index lies in the file.

use std::io;

use crate::read::{ReadAt, be32, be64, read_vec};

mod fragment;
mod remux;
mod sound;
mod table;
pub mod tree;
mod trim;

pub use fragment::{MAX_MOOF, samples as fragment_samples};
pub use remux::{faststart, seek};
pub use sound::{Defaults, Sample, Sound, sound};
pub use table::{Chunk, Table};
pub use trim::{Gapless, gapless, gapless_over};

/// Top-level boxes walked at most (one small read each): a fragmented file has two a
/// fragment, so this is 131,072 fragments, a fragment a second for 36 hours.
pub(crate) const MAX_BOXES: usize = 1 << 18;

/// The largest index read whole. Ten hours of AAC index in about 3 MiB; beyond this the file
/// is not paced by its index.
pub const MAX_MOOV: u64 = 64 << 20;

/// A box: its type, where its payload starts, and where the box ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxAt {
    pub kind: [u8; 4],
    pub start: u64,
    pub payload: u64,
    pub end: u64,
}

/// The top-level boxes of a file of `size` octets, in order, each read when it is asked for
/// (one small read): a walk that finds what it looks for stops there. Ends at the first box
/// that does not fit (the rest is not a box structure), after [`MAX_BOXES`], or with a read
/// that fails.
pub fn boxes<'a, F: ReadAt + ?Sized>(
    file: &'a F,
    size: u64,
) -> impl Iterator<Item = io::Result<BoxAt>> + 'a {
    let mut at = Some(0);
    std::iter::from_fn(move || {
        let here = at.filter(|&here| here < size)?;
        let found = match read_vec(file, here, 16) {
            Ok(head) => parse_box(&head, here, size),
            Err(err) => {
                at = None;
                return Some(Err(err));
            }
        };
        at = found.map(|found| found.end);
        found.map(Ok)
    })
    .take(MAX_BOXES)
}

/// The top-level boxes of a file of `size` octets, all of them (see [`boxes`]).
pub fn top_level(file: &(impl ReadAt + ?Sized), size: u64) -> io::Result<Vec<BoxAt>> {
    boxes(file, size).collect()
}

/// The first top-level box of type `kind`.
pub fn first_box(
    file: &(impl ReadAt + ?Sized),
    size: u64,
    kind: &[u8; 4],
) -> io::Result<Option<BoxAt>> {
    boxes(file, size)
        .find(|found| found.as_ref().map_or(true, |found| &found.kind == kind))
        .transpose()
}

/// The box whose header starts `head` (read at `at`), inside a parent ending at `limit`.
pub fn parse_box(head: &[u8], at: u64, limit: u64) -> Option<BoxAt> {
    let size32 = be32(head, 0)?;
    let kind: [u8; 4] = head.get(4..8)?.try_into().ok()?;
    let (len, header) = match size32 {
        0 => (limit.checked_sub(at)?, 8),
        1 => (be64(head, 8)?, 16),
        n => (u64::from(n), 8),
    };
    let end = at.checked_add(len)?;
    (len >= header && end <= limit).then_some(BoxAt {
        kind,
        start: at,
        payload: at + header,
        end,
    })
}

/// The audio region `(start, start + octets)`: the payload of the media data boxes.
pub fn audio(file: &(impl ReadAt + ?Sized), size: u64) -> io::Result<Option<(u64, u64)>> {
    let boxes = top_level(file, size)?;
    let mut mdat = boxes.iter().filter(|b| &b.kind == b"mdat");
    let Some(first) = mdat.next() else {
        return Ok(None);
    };
    let octets = first.end - first.payload + mdat.map(|b| b.end - b.payload).sum::<u64>();
    Ok(Some((first.payload, first.payload + octets)))
}

/// The children of a box payload, as (type, payload).
pub fn children(payload: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let found = parse_box(payload.get(at..)?, 0, (payload.len() - at) as u64)?;
        let (start, end) = (
            at + usize::try_from(found.payload).ok()?,
            at + usize::try_from(found.end).ok()?,
        );
        at = end;
        Some((found.kind, payload.get(start..end)?))
    })
}

pub fn child<'a>(payload: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    children(payload).find(|(k, _)| k == kind).map(|(_, p)| p)
}

/// Whether the movie of the index `moov` (a payload) extends into fragments (`mvex`): then
/// its samples are listed in fragments after it too, which only a walk of the file finds.
pub fn is_fragmented(moov: &[u8]) -> bool {
    child(moov, b"mvex").is_some()
}

/// The first sound track in a `moov` payload.
pub(crate) struct Track<'a> {
    pub trak: &'a [u8],
    pub mdia: &'a [u8],
    /// Units per second of the track's times (the sample rate, in every sane file).
    pub timescale: u32,
}

impl<'a> Track<'a> {
    /// The track's sample table (`mdia/minf/stbl`).
    pub fn stbl(&self) -> Option<&'a [u8]> {
        child(child(self.mdia, b"minf")?, b"stbl")
    }
}

pub(crate) fn sound_track(moov: &[u8]) -> Option<Track<'_>> {
    children(moov)
        .filter(|(k, _)| k == b"trak")
        .find_map(|(_, trak)| {
            let mdia = child(trak, b"mdia")?;
            let hdlr = child(mdia, b"hdlr")?;
            if hdlr.get(8..12)? != b"soun" {
                return None;
            }
            let mdhd = child(mdia, b"mdhd")?;
            let timescale = if mdhd.first()? == &1 {
                be32(mdhd, 20)?
            } else {
                be32(mdhd, 12)?
            };
            (timescale > 0).then_some(Track {
                trak,
                mdia,
                timescale,
            })
        })
}

/// `count` entries of `width` octets after a full box's version, flags and entry count.
pub(crate) fn entries(table: &[u8], width: usize) -> Option<impl Iterator<Item = &[u8]>> {
    let count = usize::try_from(be32(table, 4)?).ok()?;
    let body = table.get(8..)?;
    (count <= body.len() / width).then(|| body.chunks_exact(width).take(count))
}

/// (offset, time in seconds) of every chunk of the first sound track, sorted by offset (in a
/// fragmented file, its fragments' too); `None` when the file has no usable index.
pub fn chunk_times(
    file: &(impl ReadAt + ?Sized),
    size: u64,
) -> io::Result<Option<Vec<(u64, f64)>>> {
    let Some(moov) = read_moov(file, size)? else {
        return Ok(None);
    };
    if !is_fragmented(&moov) {
        return Ok(index_times(&moov, size));
    }
    let timeline = timeline(file, size, &moov)?;
    Ok(timeline.map(|(table, sound)| table_times(&table, sound.timescale, size)))
}

/// The payload of the file's index, when it has one no larger than [`MAX_MOOV`].
pub fn read_moov(file: &(impl ReadAt + ?Sized), size: u64) -> io::Result<Option<Vec<u8>>> {
    let Some(moov) = first_box(file, size, b"moov")? else {
        return Ok(None);
    };
    let len = moov.end - moov.payload;
    if len > MAX_MOOV {
        return Ok(None);
    }
    read_vec(file, moov.payload, len as usize).map(Some)
}

/// Points closer together than this are recorded as one (see the clock's grid).
const GRID: u64 = 1024;

/// Sample sizes from `stsz`: one size for all, or a table.
pub(crate) enum Sizes<'a> {
    All(u64),
    Each(std::slice::ChunksExact<'a, u8>),
}

impl Sizes<'_> {
    pub(crate) fn parse(stsz: &[u8]) -> Option<Sizes<'_>> {
        let (all, count) = (be32(stsz, 4)?, usize::try_from(be32(stsz, 8)?).ok()?);
        if all != 0 {
            return Some(Sizes::All(u64::from(all)));
        }
        let body = stsz.get(12..)?;
        (count <= body.len() / 4).then(|| Sizes::Each(body[..count * 4].chunks_exact(4)))
    }

    pub(crate) fn next(&mut self) -> Option<u64> {
        match self {
            Sizes::All(size) => Some(*size),
            Sizes::Each(sizes) => sizes.next().and_then(|b| be32(b, 0)).map(u64::from),
        }
    }
}

/// The first sound track of the mp4 file `file` whose index is `moov` (its payload), whole:
/// the samples its index lists and, in a fragmented file, every fragment's after them, with
/// the sound they hold. `None` when there is no sound track, its tables disagree or a
/// fragment is broken.
pub fn timeline(
    file: &(impl ReadAt + ?Sized),
    size: u64,
    moov: &[u8],
) -> io::Result<Option<(Table, Gapless)>> {
    let Some(track) = sound_track(moov) else {
        return Ok(None);
    };
    let stbl = track
        .stbl()
        .and_then(|stbl| tree::Atom::parse(*b"stbl", stbl));
    let Some(mut table) = stbl.as_ref().and_then(Table::parse) else {
        return Ok(None);
    };
    let total = |table: &Table| table.deltas.iter().map(|&d| u64::from(d)).sum::<u64>();
    let Some(mvex) = child(moov, b"mvex") else {
        return Ok(gapless_over(moov, total(&table)).map(|sound| (table, sound)));
    };
    // Fragments name the track by its id: without one they cannot be read.
    let Some(id) = sound::track_id(track.trak) else {
        return Ok(None);
    };
    let defaults = sound::trex_defaults(mvex, id);
    if !fragment::walk(file, size, (id, defaults), &mut table)? {
        return Ok(None);
    }
    // The sound ends where the index says or where the samples do, whichever is sooner: as
    // the page's decoder, which learns the samples one fragment at a time, ends it.
    let Some(mut sound) = gapless_over(moov, u64::MAX) else {
        return Ok(None);
    };
    let end = sound.delay.saturating_add(sound.frames).min(total(&table));
    sound.frames = end.saturating_sub(sound.delay);
    Ok(Some((table, sound)))
}

/// The clock's points: (offset, time in seconds) of the first sample at least [`GRID`]
/// octets on from the last point, as the samples are walked; none for a sample past the end
/// of the file, so that there are at most a few per [`GRID`] octets of it, whatever its
/// tables claim (found by fuzzing: a table of 4 billion samples of 64 KiB).
struct Points {
    points: Vec<(u64, f64)>,
    scale: f64,
    size: u64,
}

impl Points {
    /// Points of a file of `size` octets.
    fn new(timescale: u32, size: u64) -> Self {
        Self {
            points: Vec::new(),
            scale: f64::from(timescale),
            size,
        }
    }

    /// A sample at `offset` that starts at `time` in the timescale.
    fn sample(&mut self, offset: u64, time: u64) {
        if offset < self.size
            && self
                .points
                .last()
                .is_none_or(|p| offset >= p.0.saturating_add(GRID) || offset < p.0)
        {
            self.points.push((offset, time as f64 / self.scale));
        }
    }

    /// The points sorted by offset, times never going back.
    fn finish(mut self) -> Vec<(u64, f64)> {
        let points = &mut self.points;
        points.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        // Samples laid out out of time order (found by fuzzing) would make the clock go
        // back: each point takes the earliest time of those after it, so that no octet is
        // due later than any sample it holds or comes before.
        let mut earliest = f64::INFINITY;
        for point in points.iter_mut().rev() {
            earliest = earliest.min(point.1);
            point.1 = earliest;
        }
        self.points
    }
}

/// The points of the samples in `table`, of a file of `size` octets.
fn table_times(table: &Table, timescale: u32, size: u64) -> Vec<(u64, f64)> {
    let mut points = Points::new(timescale, size);
    let mut time = 0u64;
    for chunk in &table.chunks {
        let mut offset = chunk.offset;
        for sample in chunk.first..chunk.first + chunk.count {
            points.sample(offset, time);
            offset = offset.saturating_add(u64::from(table.sizes[sample]));
            time = time.saturating_add(u64::from(table.deltas[sample]));
        }
    }
    points.finish()
}

/// Sample durations from `stts`, one sample at a time.
struct Deltas<I> {
    runs: I,
    left: u64,
    delta: u64,
}

impl<I: Iterator<Item = (u64, u64)>> Deltas<I> {
    fn next(&mut self) -> Option<u64> {
        while self.left == 0 {
            (self.left, self.delta) = self.runs.next()?;
        }
        self.left -= 1;
        Some(self.delta)
    }
}

/// The points of the samples an index lists, walked straight from its tables (nothing is
/// kept per sample), as far as they agree, up to the number of samples `stsz` states (and at
/// most [`table::MAX_SAMPLES`]), in a file of `size` octets.
fn index_times(moov: &[u8], size: u64) -> Option<Vec<(u64, f64)>> {
    let track = sound_track(moov)?;
    let stbl = track.stbl()?;
    let stsz = child(stbl, b"stsz")?;
    let count = usize::try_from(be32(stsz, 8)?).unwrap_or(usize::MAX);
    let mut left = count.min(table::MAX_SAMPLES);
    let offsets: Vec<u64> = match child(stbl, b"stco") {
        Some(stco) => entries(stco, 4)?
            .map(|e| u64::from(be32(e, 0).unwrap_or(0)))
            .collect(),
        None => entries(child(stbl, b"co64")?, 8)?
            .map(|e| be64(e, 0).unwrap_or(0))
            .collect(),
    };
    let runs: Vec<(u32, u32)> = entries(child(stbl, b"stsc")?, 12)?
        .map(|e| (be32(e, 0).unwrap_or(0), be32(e, 4).unwrap_or(0)))
        .collect();
    let mut sizes = Sizes::parse(stsz)?;
    let stts = entries(child(stbl, b"stts")?, 8)?.map(|e| {
        (
            u64::from(be32(e, 0).unwrap_or(0)),
            u64::from(be32(e, 4).unwrap_or(0)),
        )
    });
    let mut deltas = Deltas {
        runs: stts,
        left: 0,
        delta: 0,
    };
    let mut points = Points::new(track.timescale, size);
    let (mut run, mut time) = (0usize, 0u64);
    // Walk the samples chunk by chunk, each at its offset.
    'chunks: for (index, &chunk_offset) in offsets.iter().enumerate() {
        let chunk = u32::try_from(index + 1).ok()?;
        while runs.get(run + 1).is_some_and(|r| r.0 <= chunk) {
            run += 1;
        }
        let mut offset = chunk_offset;
        for _ in 0..runs.get(run)?.1 {
            if left == 0 {
                break 'chunks;
            }
            left -= 1;
            points.sample(offset, time);
            let (Some(size), Some(delta)) = (sizes.next(), deltas.next()) else {
                break 'chunks;
            };
            offset = offset.saturating_add(size);
            time = time.saturating_add(delta);
        }
    }
    Some(points.finish())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend(kind);
        b.extend(payload);
        b
    }

    fn full(kind: &[u8; 4], words: &[u32]) -> Vec<u8> {
        let mut p = vec![0; 4];
        for w in words {
            p.extend(w.to_be_bytes());
        }
        boxed(kind, &p)
    }

    /// A moov with one sound track at 1000 units per second: 3 chunks of 2 samples of 10 units
    /// and 50 octets.
    pub fn moov(offsets: [u32; 3]) -> Vec<u8> {
        moov_with_offsets(offsets, &[], &[], &[])
    }

    /// [`moov`] at offsets 100, 300 and 500, with `mvhd` first, `edts` in the track and `udta`
    /// last.
    pub fn moov_with(mvhd: &[u8], edts: &[u8], udta: &[u8]) -> Vec<u8> {
        moov_with_offsets([100, 300, 500], mvhd, edts, udta)
    }

    fn moov_with_offsets(offsets: [u32; 3], mvhd: &[u8], edts: &[u8], udta: &[u8]) -> Vec<u8> {
        let mut hdlr = vec![0; 8];
        hdlr.extend(b"soun");
        hdlr.resize(24, 0);
        let mdhd = full(b"mdhd", &[0, 0, 1000, 60]);
        let stbl = [
            full(b"stts", &[1, 6, 10]),
            full(b"stsc", &[1, 1, 2, 1]),
            full(b"stsz", &[50, 6]),
            full(b"stco", &[3, offsets[0], offsets[1], offsets[2]]),
        ]
        .concat();
        let minf = boxed(b"minf", &boxed(b"stbl", &stbl));
        let mdia = boxed(b"mdia", &[mdhd, boxed(b"hdlr", &hdlr), minf].concat());
        let trak = boxed(b"trak", &[edts, &mdia].concat());
        boxed(b"moov", &[mvhd, &trak, udta].concat())
    }

    /// A file of 4,200 octets of media data and [`moov`] with chunks at `offsets`, and the
    /// clock's points for it.
    fn with_chunks_at(offsets: [u32; 3]) -> (Vec<u8>, Vec<(u64, f64)>) {
        let mut file = boxed(b"ftyp", b"M4A \0\0\0\0");
        file.extend(boxed(b"mdat", &[0; 4200]));
        file.extend(moov(offsets));
        let points = chunk_times(&file, file.len() as u64).expect("read");
        (file, points.expect("index"))
    }

    #[test]
    fn chunks_get_the_time_of_their_first_sample() {
        let (file, points) = with_chunks_at([32, 2032, 4032]);
        // One point per chunk: its 50-octet samples are closer together than the grid.
        assert_eq!(points, vec![(32, 0.0), (2032, 0.02), (4032, 0.04)]);
        let size = file.len() as u64;
        assert_eq!(audio(&file, size).expect("read"), Some((24, 4224)));
    }

    /// Chunks laid out out of time order (found by fuzzing, in a fragmented file): the
    /// clock's points never go back, and none is later than a sample at or after it.
    #[test]
    fn chunks_out_of_time_order_never_take_the_clock_back() {
        let (_, points) = with_chunks_at([4032, 32, 2032]);
        assert_eq!(points, vec![(32, 0.0), (2032, 0.0), (4032, 0.0)]);
    }

    /// Tables that claim more samples than the file holds (found by fuzzing: 4 billion of
    /// 64 KiB in an 800-octet file, whose points took 2 GB) give no point past its end.
    #[test]
    fn no_point_lies_past_the_end_of_the_file() {
        let (_, points) = with_chunks_at([32, 2032, 90_000]);
        assert_eq!(points, vec![(32, 0.0), (2032, 0.02)]);
    }

    /// A fragmented file: [`moov`]'s six samples of 10 units and 50 octets (and `edts` in its
    /// track), a track id and defaults for fragments, then one fragment of two more.
    fn fragmented(edts: &[u8]) -> Vec<u8> {
        let tkhd = full(b"tkhd", &[0, 0, 1, 0, 0]);
        let mvex = boxed(b"mvex", &full(b"trex", &[1, 1, 10, 50, 0]));
        // The movie's timescale is a tenth of the track's.
        let mvhd = full(b"mvhd", &[0, 0, 100, 0, 0, 0, 0, 0]);
        let mut file = boxed(b"ftyp", b"M4A \0\0\0\0");
        file.extend(moov_with(&mvhd, &[&tkhd[..], edts].concat(), &mvex));
        // tfhd: default-base-is-moof, track 1; trun: a data offset and two samples of the
        // track's defaults, just after the moof (8 + 44 octets) and mdat's header.
        let tfhd = [&[0, 2, 0, 0][..], &1u32.to_be_bytes()].concat();
        let trun = [&[0, 0, 0, 1][..], &2u32.to_be_bytes(), &60u32.to_be_bytes()].concat();
        let traf = boxed(
            b"traf",
            &[boxed(b"tfhd", &tfhd), boxed(b"trun", &trun)].concat(),
        );
        file.extend(boxed(b"moof", &traf));
        file.extend(boxed(b"mdat", &[0; 100]));
        file
    }

    /// The frames of sound of [`fragmented`] with `edts`.
    fn fragmented_sound(edts: &[u8]) -> (u64, u64) {
        let file = fragmented(edts);
        let size = file.len() as u64;
        let moov = read_moov(&file, size).expect("read").expect("index");
        let (table, sound) = timeline(&file, size, &moov).expect("read").expect("sound");
        assert_eq!(
            table.sizes.len(),
            8,
            "the index's six samples and the fragment's two"
        );
        (sound.delay, sound.frames)
    }

    /// A fragmented file's sound ends at the sooner of the end its index states and the end
    /// of its samples (PROTOCOL.md 5.4.2), as the page's decoder ends it.
    #[test]
    fn a_fragmented_files_sound_ends_at_the_sooner_end() {
        let edit = |duration: u32| {
            let mut p = vec![0; 4];
            p.extend(1u32.to_be_bytes());
            p.extend(duration.to_be_bytes());
            p.extend(10u32.to_be_bytes());
            p.extend(1u32.to_be_bytes());
            boxed(b"edts", &boxed(b"elst", &p))
        };
        // 80 units in all; 10 of priming; edits in tenths of the track's units.
        assert_eq!(fragmented_sound(&[]), (0, 80));
        assert_eq!(fragmented_sound(&edit(20)), (10, 70));
        assert_eq!(fragmented_sound(&edit(0)), (10, 70));
        // Within a movie tick of the samples' end: a plain index's table would win (5.4.2),
        // but the decoder cannot know the fragments' end in time; the stated end holds.
        assert_eq!(fragmented_sound(&edit(6)), (10, 60));
    }

    #[test]
    fn broken_sizes_end_the_walk() {
        let mut file = boxed(b"ftyp", b"M4A ");
        file.extend(b"\0\0\0\x04mdat");
        assert_eq!(top_level(&file, file.len() as u64).expect("read").len(), 1);
        assert_eq!(
            entries(&[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF], 4).map(|e| e.count()),
            None
        );
    }
}
