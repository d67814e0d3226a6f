//! Fragments of a fragmented mp4 (`moof`, ISO/IEC 14496-12 8.8): the samples each adds to
//! the sound track, and where they lie in the file. The page's demuxer reads them one
//! fragment at a time as the stream arrives; the server walks them all ([`walk`]) for a
//! fragmented file's length, its clock and a play from a position.

use std::io;

use super::sound::{Defaults, Sample};
use super::table::{MAX_SAMPLES as MAX_TRACK_SAMPLES, Table};
use super::{MAX_BOXES, boxes, child, children};
use crate::read::{ReadAt, be32, be64, read_vec};

/// Samples one fragment may add at most (an hour of AAC is 170,000).
const MAX_SAMPLES: usize = 1 << 20;

/// A `moof` larger than this is taken for a broken file.
pub const MAX_MOOF: u64 = 16 << 20;

/// `tfhd` flags (8.8.7.1).
const BASE_DATA_OFFSET: u32 = 0x01;
const DESCRIPTION_INDEX: u32 = 0x02;
const DEFAULT_DURATION: u32 = 0x08;
const DEFAULT_SIZE: u32 = 0x10;
const BASE_IS_MOOF: u32 = 0x02_0000;

/// The samples of track `track` in the fragment whose `moof` box starts at `start` in the file
/// (`moof` is its payload), in order; `None` when the fragment is broken.
///
/// A track fragment that states no base for its data offsets counts them from the `moof`
/// (the first track fragment, or any that says so), or else from where the data of the
/// track fragment before it ends (8.8.7.1).
pub fn samples(moof: &[u8], start: u64, track: u32, defaults: Defaults) -> Option<Vec<Sample>> {
    let mut out = Vec::new();
    // Where the data of the track fragment before ends, when it can be told.
    let mut before = Some(start);
    for (_, traf) in children(moof).filter(|(kind, _)| kind == b"traf") {
        let tfhd = child(traf, b"tfhd")?;
        let flags = be32(tfhd, 0)? & 0x00FF_FFFF;
        let ours = be32(tfhd, 4)? == track;
        let mut at = 8;
        let base = if flags & BASE_DATA_OFFSET != 0 {
            at += 8;
            Some(be64(tfhd, 8)?)
        } else if flags & BASE_IS_MOOF != 0 {
            Some(start)
        } else {
            before
        };
        if flags & DESCRIPTION_INDEX != 0 {
            at += 4;
        }
        // Another track's defaults are not known here: its sizes must be stated.
        let mut fallback = if ours { defaults } else { Defaults::default() };
        if flags & DEFAULT_DURATION != 0 {
            fallback.duration = be32(tfhd, at)?;
            at += 4;
        }
        if flags & DEFAULT_SIZE != 0 {
            fallback.size = be32(tfhd, at)?;
        }
        if !ours {
            before = base.and_then(|base| data_end(traf, base, fallback));
            continue;
        }
        // Ours, with no base to count from: offsets that cannot be placed.
        let base = base?;
        let mut next = base;
        for (_, trun) in children(traf).filter(|(kind, _)| kind == b"trun") {
            next = run(trun, base, next, fallback, Some(&mut out))?;
        }
        before = Some(next);
    }
    Some(out)
}

/// Where the data of another track's fragment `traf` ends, when its sizes are stated. Its
/// samples are counted, not listed.
fn data_end(traf: &[u8], base: u64, fallback: Defaults) -> Option<u64> {
    let mut next = base;
    for (_, trun) in children(traf).filter(|(kind, _)| kind == b"trun") {
        next = run(trun, base, next, fallback, None)?;
    }
    Some(next)
}

/// Where the data of the track run `trun` ends, adding its samples to `out` if given. Its
/// data starts at `base` plus its offset, or at `next` (after the run before) when it states
/// none. A run that claims more samples than its fields hold, or lists more than a fragment
/// may add, is broken.
fn run(
    trun: &[u8],
    base: u64,
    next: u64,
    fallback: Defaults,
    mut out: Option<&mut Vec<Sample>>,
) -> Option<u64> {
    let flags = be32(trun, 0)? & 0x00FF_FFFF;
    let count = usize::try_from(be32(trun, 4)?).ok()?;
    if out
        .as_ref()
        .is_some_and(|out| count > MAX_SAMPLES.saturating_sub(out.len()))
    {
        return None;
    }
    let mut at = 8;
    let mut offset = next;
    if flags & 0x01 != 0 {
        let relative = i64::from(be32(trun, at)? as i32);
        offset = base.checked_add_signed(relative)?;
        at += 4;
    }
    if flags & 0x04 != 0 {
        at += 4;
    }
    // Duration, size, flags, composition offset: four octets each where present.
    let width = [0x100, 0x200, 0x400, 0x800]
        .iter()
        .filter(|f| flags & **f != 0)
        .count()
        * 4;
    if width > 0 && count > trun.len().saturating_sub(at) / width {
        return None;
    }
    // An empty sample is no audio packet: a broken fragment.
    if out.is_none() && flags & 0x200 == 0 {
        let octets = u64::from(fallback.size).checked_mul(count as u64)?;
        return (fallback.size > 0).then(|| offset.checked_add(octets))?;
    }
    for _ in 0..count {
        let mut field = at;
        let duration = if flags & 0x100 != 0 {
            field += 4;
            be32(trun, field - 4)?
        } else {
            fallback.duration
        };
        let size = if flags & 0x200 != 0 {
            be32(trun, field)?
        } else {
            fallback.size
        };
        if size == 0 {
            return None;
        }
        if let Some(out) = out.as_mut() {
            out.push(Sample {
                offset,
                size,
                duration,
            });
        }
        offset = offset.checked_add(u64::from(size))?;
        at += width;
    }
    Some(offset)
}

/// Adds the samples of track `track` in every fragment of the fragmented file `file` (of
/// `size` octets) to `table`, after those its index lists, up to the first that lies past
/// the file's end. `Ok(false)` when a fragment is broken, or the file holds more fragments or
/// samples than are walked.
pub fn walk(
    file: &(impl ReadAt + ?Sized),
    size: u64,
    (track, defaults): (u32, Defaults),
    table: &mut Table,
) -> io::Result<bool> {
    let mut walked = 0;
    for found in boxes(file, size) {
        let found = found?;
        walked += 1;
        if &found.kind != b"moof" {
            continue;
        }
        let len = found.end - found.payload;
        if len > MAX_MOOF {
            return Ok(false);
        }
        let moof = read_vec(file, found.payload, len as usize)?;
        let Some(samples) = samples(&moof, found.start, track, defaults) else {
            return Ok(false);
        };
        if samples.len() > MAX_TRACK_SAMPLES.saturating_sub(table.sizes.len()) {
            return Ok(false);
        }
        // A file cut short in a fragment's media data: the samples before the cut are the
        // song.
        let held = samples
            .iter()
            .take_while(|s| s.offset.saturating_add(u64::from(s.size)) <= size)
            .count();
        table.extend(&samples[..held]);
        if held < samples.len() {
            return Ok(true);
        }
    }
    // The walk ended at the file's end, or at a box that does not fit (a file cut short in
    // its last box: the fragments before it are the song), unless it was cut at the cap.
    Ok(walked < MAX_BOXES)
}

#[cfg(test)]
mod tests {
    use super::super::tests::boxed;
    use super::*;

    /// A track fragment of track `track` with `tfhd` flags `flags`, and one run of samples
    /// of 10 units and `sizes` octets, with a data offset if given.
    fn traf(track: u32, flags: u32, sizes: &[u32], offset: Option<i32>) -> Vec<u8> {
        let mut tfhd = flags.to_be_bytes().to_vec();
        tfhd.extend(track.to_be_bytes());
        let run_flags = 0x300 | u32::from(offset.is_some());
        let mut trun = run_flags.to_be_bytes().to_vec();
        trun.extend(u32::try_from(sizes.len()).expect("few").to_be_bytes());
        if let Some(offset) = offset {
            trun.extend(offset.to_be_bytes());
        }
        for size in sizes {
            trun.extend(10u32.to_be_bytes());
            trun.extend(size.to_be_bytes());
        }
        boxed(
            b"traf",
            &[boxed(b"tfhd", &tfhd), boxed(b"trun", &trun)].concat(),
        )
    }

    fn offsets(moof: &[u8], track: u32) -> Option<Vec<u64>> {
        let samples = samples(moof, 1000, track, Defaults::default())?;
        Some(samples.iter().map(|s| s.offset).collect())
    }

    /// With no base stated, the first track fragment counts from the `moof`, and each later
    /// one from where the data of the one before ends: another track's too.
    #[test]
    fn later_track_fragments_follow_the_data_before_them() {
        let moof = [
            traf(1, 0, &[5, 5], Some(100)),
            traf(2, 0, &[7], None),
            traf(1, 0, &[3], None),
        ]
        .concat();
        assert_eq!(offsets(&moof, 1), Some(vec![1100, 1105, 1117]));
        assert_eq!(offsets(&moof, 2), Some(vec![1110]));
    }

    /// `default-base-is-moof`: every track fragment counts from the `moof`.
    #[test]
    fn a_base_of_the_moof_is_the_moof_for_every_track_fragment() {
        let moof = [
            traf(1, BASE_IS_MOOF, &[5], Some(100)),
            traf(1, BASE_IS_MOOF, &[5], Some(200)),
        ]
        .concat();
        assert_eq!(offsets(&moof, 1), Some(vec![1100, 1200]));
    }

    /// A run that claims more samples than its fields hold is broken; another track's run
    /// of samples of a default size is counted, not listed, however many it claims (found
    /// in review: a 16-octet run could make a walk list a million samples).
    #[test]
    fn runs_are_bounded_by_what_they_hold() {
        let mut claims = traf(1, 0, &[5, 5], None);
        let count = claims.len() - 2 * 8 - 4;
        claims[count..count + 4].copy_from_slice(&3u32.to_be_bytes());
        assert_eq!(offsets(&claims, 1), None);
        // Track 2 states a default size of 4 and a run of 4,294,967,295 samples with no fields.
        let mut tfhd = DEFAULT_SIZE.to_be_bytes().to_vec();
        tfhd.extend(2u32.to_be_bytes());
        tfhd.extend(4u32.to_be_bytes());
        let mut trun = 0u32.to_be_bytes().to_vec();
        trun.extend(u32::MAX.to_be_bytes());
        let other = boxed(
            b"traf",
            &[boxed(b"tfhd", &tfhd), boxed(b"trun", &trun)].concat(),
        );
        let moof = [other, traf(1, 0, &[5], None)].concat();
        assert_eq!(
            offsets(&moof, 1),
            Some(vec![1000 + 4 * u64::from(u32::MAX)])
        );
    }

    /// Another track's fragment whose sizes only that track's defaults state leaves the next
    /// one with no base: a broken fragment, not samples read from the wrong place.
    #[test]
    fn a_track_fragment_with_no_base_to_count_from_is_broken() {
        let mut other = 0u32.to_be_bytes().to_vec();
        other.extend(2u32.to_be_bytes());
        let mut trun = 0u32.to_be_bytes().to_vec();
        trun.extend(1u32.to_be_bytes());
        let other = boxed(
            b"traf",
            &[boxed(b"tfhd", &other), boxed(b"trun", &trun)].concat(),
        );
        let moof = [other, traf(1, 0, &[5], None)].concat();
        assert_eq!(offsets(&moof, 1), None);
    }
}
