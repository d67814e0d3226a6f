//! A fragment of a fragmented mp4 (`moof`, ISO/IEC 14496-12 8.8): the samples it adds to the
//! sound track, and where they lie in the file.

use tapedeck_media::mp4::{Defaults, Sample, children};
use tapedeck_media::read::{be32, be64};

use super::entry::find;

/// Samples one fragment may add at most (an hour of AAC is 170,000).
const MAX_SAMPLES: usize = 1 << 20;

/// The samples of track `track` in the fragment whose `moof` box starts at `start` in the file
/// (`moof` is its payload), in order; `None` when the fragment is broken.
pub fn samples(moof: &[u8], start: u64, track: u32, defaults: Defaults) -> Option<Vec<Sample>> {
    let mut out = Vec::new();
    for (_, traf) in children(moof).filter(|(kind, _)| kind == b"traf") {
        let tfhd = find(traf, b"tfhd")?;
        if be32(tfhd, 4)? != track {
            continue;
        }
        let flags = be32(tfhd, 0)? & 0x00FF_FFFF;
        let mut at = 8;
        // Offsets count from the moof unless the fragment states a base.
        let mut base = start;
        if flags & 0x01 != 0 {
            base = be64(tfhd, at)?;
            at += 8;
        }
        if flags & 0x02 != 0 {
            at += 4;
        }
        let mut fallback = defaults;
        if flags & 0x08 != 0 {
            fallback.duration = be32(tfhd, at)?;
            at += 4;
        }
        if flags & 0x10 != 0 {
            fallback.size = be32(tfhd, at)?;
        }
        let mut next = base;
        for (_, trun) in children(traf).filter(|(kind, _)| kind == b"trun") {
            next = run(trun, base, next, fallback, &mut out)?;
        }
    }
    Some(out)
}

/// Adds the samples of the track run `trun` to `out`; where its data ends. Its data starts at
/// `base` plus its offset, or at `next` (after the run before) when it states none.
fn run(
    trun: &[u8],
    base: u64,
    next: u64,
    fallback: Defaults,
    out: &mut Vec<Sample>,
) -> Option<u64> {
    let flags = be32(trun, 0)? & 0x00FF_FFFF;
    let count = usize::try_from(be32(trun, 4)?).ok()?;
    if count > MAX_SAMPLES.saturating_sub(out.len()) {
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
        // An empty sample is no audio packet: a broken fragment.
        if size == 0 {
            return None;
        }
        out.push(Sample {
            offset,
            size,
            duration,
        });
        offset = offset.checked_add(u64::from(size))?;
        at += width;
    }
    Some(offset)
}
