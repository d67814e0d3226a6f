//! Where the sound of an mp4 track begins and ends within its decoded samples: an AAC
//! encoder puts priming samples before the sound (1024 for ffmpeg, 2112 for Apple's) and
//! padding after it, and the file says how many in its edit list (`elst`) or, from iTunes, in
//! an `iTunSMPB` tag.

use super::{child, children, entries, sound_track};
use crate::read::{be32, be64};

/// The decoded samples of a track that are sound: drop `delay`, keep `frames`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gapless {
    /// The track's timescale: its units are sample frames when it is the sample rate.
    pub timescale: u32,
    /// Decoded frames before the sound.
    pub delay: u64,
    /// Frames of sound.
    pub frames: u64,
}

/// The sound of the first sound track in a `moov` payload. Without an edit list or tag, the
/// whole track is sound.
pub fn gapless(moov: &[u8]) -> Option<Gapless> {
    let track = sound_track(moov)?;
    let stts = child(track.stbl()?, b"stts")?;
    let total = entries(stts, 8)?.fold(0u64, |sum, e| {
        let (n, d) = (be32(e, 0).unwrap_or(0), be32(e, 4).unwrap_or(0));
        sum.saturating_add(u64::from(n) * u64::from(d))
    });
    gapless_over(moov, total)
}

/// The sound of the first sound track in a `moov` payload whose samples last `total` in its
/// timescale: a fragmented file's index lists only some of them (or none), and its edit list
/// often states no length (0).
pub fn gapless_over(moov: &[u8], total: u64) -> Option<Gapless> {
    let track = sound_track(moov)?;
    let timescale = track.timescale;
    if let Some((delay, frames)) = itunsmpb(moov) {
        return Some(Gapless {
            timescale,
            delay,
            frames: frames.min(total.saturating_sub(delay)),
        });
    }
    let movie_scale = child(moov, b"mvhd").and_then(|mvhd| {
        let at = if mvhd.first()? == &1 { 20 } else { 12 };
        be32(mvhd, at).filter(|&s| s > 0)
    });
    let edit = child(track.trak, b"edts").and_then(|e| child(e, b"elst"));
    let (delay, frames) = match (edit.and_then(first_edit), movie_scale) {
        // An edit of no length (a fragmented file's muxer writes one before the length is
        // known) says only where the sound begins.
        (Some((0, delay)), _) => (delay, total.saturating_sub(delay)),
        (Some((duration, delay)), Some(movie_scale)) => {
            let stated = scale(duration, timescale, movie_scale);
            let counted = total.saturating_sub(delay);
            // An edit in a coarser timescale (ffmpeg writes milliseconds) rounds the length;
            // the sample table counts it exactly when the muxer shortened the last sample's
            // duration to the sound's end, as ffmpeg does.
            let tick = u64::from(timescale).div_ceil(u64::from(movie_scale));
            let coarse = movie_scale != timescale;
            let frames = if coarse && stated.abs_diff(counted) <= tick {
                counted
            } else {
                stated.min(counted)
            };
            (delay, frames)
        }
        _ => (0, total),
    };
    Some(Gapless {
        timescale,
        delay,
        frames,
    })
}

/// `value` in units of `from` per second, in units of `to`, rounded.
fn scale(value: u64, to: u32, from: u32) -> u64 {
    let scaled = (u128::from(value) * u128::from(to) + u128::from(from) / 2) / u128::from(from);
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

/// The first edit that shows media: (its duration in the movie's timescale, the media time it
/// starts at). Empty edits (a start of `-1`: silence before the track) are passed over.
fn first_edit(elst: &[u8]) -> Option<(u64, u64)> {
    let version = *elst.first()?;
    let width = if version == 1 { 20 } else { 12 };
    entries(elst, width)?.find_map(|e| {
        let (duration, start) = if version == 1 {
            (be64(e, 0)?, be64(e, 8)? as i64)
        } else {
            (u64::from(be32(e, 0)?), i64::from(be32(e, 4)? as i32))
        };
        u64::try_from(start).ok().map(|start| (duration, start))
    })
}

/// iTunes's gapless tag: `moov/udta/meta/ilst/----` named `iTunSMPB`, whose text holds hex
/// words: 0, the priming, the padding, the sound's length in frames, ...
fn itunsmpb(moov: &[u8]) -> Option<(u64, u64)> {
    let meta = child(child(moov, b"udta")?, b"meta")?;
    // `meta` is a full box (version and flags first) in iTunes files, a plain one in others.
    let meta = if meta.get(4..8) == Some(b"hdlr") {
        meta
    } else {
        meta.get(4..)?
    };
    let ilst = child(meta, b"ilst")?;
    let item = children(ilst)
        .filter(|(kind, _)| kind == b"----")
        .find(|(_, item)| child(item, b"name").and_then(|n| n.get(4..)) == Some(b"iTunSMPB"))?;
    let text = child(item.1, b"data")?.get(8..)?;
    let text = std::str::from_utf8(text).ok()?;
    let words: Vec<u64> = text
        .split_ascii_whitespace()
        .take(4)
        .map(|w| u64::from_str_radix(w, 16).ok())
        .collect::<Option<_>>()?;
    match words[..] {
        [_, delay, _, frames] if frames > 0 => Some((delay, frames)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{boxed, moov_with};
    use super::*;

    fn elst(duration: u32, start: i32) -> Vec<u8> {
        let mut p = vec![0; 4];
        p.extend(1u32.to_be_bytes());
        p.extend(duration.to_be_bytes());
        p.extend(start.to_be_bytes());
        p.extend(1u32.to_be_bytes());
        boxed(b"edts", &boxed(b"elst", &p))
    }

    fn mvhd(timescale: u32) -> Vec<u8> {
        let mut p = vec![0; 12];
        p.extend(timescale.to_be_bytes());
        p.resize(100, 0);
        boxed(b"mvhd", &p)
    }

    #[test]
    fn the_sample_table_refines_an_edit_in_milliseconds() {
        // 6 samples of 10 units at 1000 per second: 60 units, 10 of them priming.
        let moov = moov_with(&mvhd(1000), &elst(50, 10), &[]);
        let found = gapless(&moov[8..]).expect("gapless");
        assert_eq!((found.delay, found.frames), (10, 50));
        // A coarse edit that disagrees with the table by more than one of its ticks wins.
        let moov = moov_with(&mvhd(100), &elst(3, 10), &[]);
        let found = gapless(&moov[8..]).expect("gapless");
        assert_eq!((found.delay, found.frames), (10, 30));
    }

    #[test]
    fn empty_edits_are_passed_over_and_no_edit_is_the_whole_track() {
        let moov = moov_with(&mvhd(1000), &[], &[]);
        let found = gapless(&moov[8..]).expect("gapless");
        assert_eq!((found.delay, found.frames), (0, 60));
        let mut p = vec![0; 4];
        p.extend(2u32.to_be_bytes());
        p.extend([0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0, 1, 0, 0]);
        p.extend([0, 0, 0, 40, 0, 0, 0, 20, 0, 1, 0, 0]);
        let edts = boxed(b"edts", &boxed(b"elst", &p));
        let moov = moov_with(&mvhd(1000), &edts, &[]);
        let found = gapless(&moov[8..]).expect("gapless");
        assert_eq!((found.delay, found.frames), (20, 40));
    }

    /// An edit of no length (a fragmented file's muxer writes one before the length is
    /// known) gives the priming alone: the rest of the table is sound.
    #[test]
    fn an_edit_of_no_length_gives_the_priming_alone() {
        let moov = moov_with(&mvhd(1000), &elst(0, 10), &[]);
        let found = gapless(&moov[8..]).expect("gapless");
        assert_eq!((found.delay, found.frames), (10, 50));
    }

    #[test]
    fn itunes_says_it_in_a_tag() {
        let mut data = vec![0, 0, 0, 1, 0, 0, 0, 0];
        data.extend(b" 00000000 00000008 00000005 000000000000002F 00000000");
        let item = [
            boxed(b"mean", b"\0\0\0\0com.apple.iTunes"),
            boxed(b"name", b"\0\0\0\0iTunSMPB"),
            boxed(b"data", &data),
        ]
        .concat();
        let ilst = boxed(b"ilst", &boxed(b"----", &item));
        let meta = boxed(b"meta", &[&[0, 0, 0, 0][..], &ilst].concat());
        let moov = moov_with(&mvhd(1000), &[], &boxed(b"udta", &meta));
        let found = gapless(&moov[8..]).expect("gapless");
        assert_eq!((found.delay, found.frames), (8, 47));
    }
}
