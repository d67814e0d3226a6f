//! What the decoder must know of an mp4 stream before symphonia reads it: where its index
//! (`moov`) lies, and which decoded samples are sound.
//!
//! An index ahead of the media data (a "faststart" file, or any file as the Tapedeck server
//! sends it) lets the stream decode as it arrives, once the whole index is buffered. An index
//! after the media data can only be read once the whole file has arrived.

use std::collections::VecDeque;
use std::ops::Range;

use tapedeck_media::mp4::parse_box;

mod entry;
mod reader;

pub use reader::Mp4Reader;

/// Top-level boxes walked at most.
const MAX_BOXES: usize = 64;

/// Where the index lies, as far as the buffered bytes tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Index {
    /// The index comes before the media data: these bytes of the stream hold its payload.
    First(Range<usize>),
    /// The media data comes first (or the boxes are broken): the whole file is needed.
    Last,
    /// The boxes seen so far say neither yet: this many bytes are needed to tell.
    Unknown(usize),
}

/// Walks the top-level boxes at the start of `bytes` (the whole stream so far).
pub fn index(bytes: &VecDeque<u8>) -> Index {
    walk(bytes, false)
}

/// The payload of the index wherever it lies in `bytes` (a whole file).
pub fn index_anywhere(bytes: &VecDeque<u8>) -> Option<Range<usize>> {
    match walk(bytes, true) {
        Index::First(payload) => Some(payload),
        _ => None,
    }
}

/// Walks top-level boxes up to the index, or up to the media data unless `past_media`.
fn walk(bytes: &VecDeque<u8>, past_media: bool) -> Index {
    let mut at = 0usize;
    for _ in 0..MAX_BOXES {
        let head: Vec<u8> = bytes
            .range(at.min(bytes.len())..)
            .take(16)
            .copied()
            .collect();
        if head.len() < 16 {
            return Index::Unknown(at.saturating_add(16));
        }
        let Some(found) = parse_box(&head, at as u64, u64::MAX) else {
            return Index::Last;
        };
        let (Ok(start), Ok(end)) = (usize::try_from(found.payload), usize::try_from(found.end))
        else {
            return Index::Last;
        };
        match &found.kind {
            b"moov" if end <= bytes.len() || !past_media => return Index::First(start..end),
            b"mdat" if !past_media => return Index::Last,
            _ => at = end,
        }
    }
    Index::Last
}

/// The decoded frames of an mp4 track that are sound (the rest is AAC priming and padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trim {
    /// Frames decoded so far.
    decoded: u64,
    /// Frames to drop first.
    delay: u64,
    /// Where the sound ends, in frames from the first decoded.
    end: End,
}

/// Where an mp4 track's sound ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// After this many frames, as the index states.
    At(u64),
    /// Where the samples' durations add up to, or where the index says if sooner: a
    /// fragmented file's index seldom knows its length, but its fragments time each sample,
    /// and muxers (ffmpeg among them) shorten the last sample's duration to the sound's end.
    Timeline {
        /// The durations so far.
        sum: u64,
        /// The end the index states (`u64::MAX`: none).
        stated: u64,
    },
}

impl Trim {
    /// The trim an mp4 index (a `moov` payload) states for a track decoded at `rate`: `None`
    /// when it states none in that rate's units.
    /// A fragmented file's samples are not all in its index: its sound is taken to last as
    /// long as they could (the server's rules, PROTOCOL.md 5.4.2, over a table of unknown
    /// length), and ends where their durations do if that is sooner.
    pub fn from_index(moov: &[u8], rate: u32) -> Option<Self> {
        let fragmented = tapedeck_media::mp4::is_fragmented(moov);
        let sound = if fragmented {
            tapedeck_media::mp4::gapless_over(moov, u64::MAX)?
        } else {
            tapedeck_media::mp4::gapless(moov)?
        };
        let end = sound.delay.saturating_add(sound.frames);
        (sound.timescale == rate).then_some(Self {
            decoded: 0,
            delay: sound.delay,
            end: if fragmented {
                End::Timeline {
                    sum: 0,
                    stated: end,
                }
            } else {
                End::At(end)
            },
        })
    }

    /// Of the next `n` decoded frames, from a sample timed `duration` (in the track's units,
    /// which are the rate's), the range that is sound. A sample timed 0 counts as long as its
    /// frames.
    pub fn next(&mut self, n: usize, duration: u64) -> Range<usize> {
        let start = self.decoded;
        self.decoded += n as u64;
        let end = match &mut self.end {
            End::At(end) => *end,
            End::Timeline { sum, stated } => {
                let timed = if duration == 0 { n as u64 } else { duration };
                *sum = sum.saturating_add(timed);
                (*sum).min(*stated)
            }
        };
        let keep_from = self.delay.clamp(start, self.decoded);
        let keep_to = end.clamp(start, self.decoded);
        let from = usize::try_from(keep_from - start).unwrap_or(n);
        let to = usize::try_from(keep_to.max(keep_from) - start).unwrap_or(n);
        from..to
    }

    /// Whether every frame of sound has been decoded (a timeline is known to end only with
    /// the stream).
    pub fn done(&self) -> bool {
        match self.end {
            End::At(end) => self.decoded >= end,
            End::Timeline { stated, .. } => self.decoded >= stated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_is_found_before_the_media_data() {
        let mut bytes: VecDeque<u8> = VecDeque::new();
        assert_eq!(index(&bytes), Index::Unknown(16));
        bytes.extend(b"\0\0\0\x10ftypM4A \0\0\0\0");
        bytes.extend(b"\0\0\0\x10moov");
        assert_eq!(index(&bytes), Index::Unknown(32));
        bytes.extend([0; 8]);
        assert_eq!(index(&bytes), Index::First(24..32));
        let mut late: VecDeque<u8> = b"\0\0\0\x10ftypM4A \0\0\0\0\0\0\0\x10mdat"
            .iter()
            .copied()
            .collect();
        late.extend([0; 8]);
        assert_eq!(index(&late), Index::Last);
    }

    /// A box that claims to reach the end of the address space is no reason to panic (found
    /// by fuzzing the decoder).
    #[test]
    fn a_box_of_absurd_length_is_walked_past() {
        let mut bytes: VecDeque<u8> = b"\0\0\0\x01free".iter().copied().collect();
        bytes.extend((u64::MAX - 4).to_be_bytes());
        assert!(matches!(index(&bytes), Index::Unknown(_) | Index::Last));
        assert_eq!(index_anywhere(&bytes), None);
    }

    #[test]
    fn priming_and_padding_are_cut_across_buffers() {
        let mut trim = Trim {
            decoded: 0,
            delay: 1024,
            end: End::At(3024),
        };
        assert_eq!(trim.next(1024, 1024), 1024..1024);
        assert_eq!(trim.next(1024, 1024), 0..1024);
        assert!(!trim.done());
        assert_eq!(trim.next(1024, 1024), 0..976);
        assert!(trim.done());
        assert_eq!(trim.next(1024, 1024), 0..0);
    }

    /// A fragmented file ends where its samples' durations do: the last sample is timed
    /// short. A sample timed 0 (a fragment that times none) cuts nothing.
    #[test]
    fn a_timeline_ends_the_sound_at_its_last_samples_duration() {
        let mut trim = Trim {
            decoded: 0,
            delay: 1024,
            end: End::Timeline {
                sum: 0,
                stated: u64::MAX,
            },
        };
        assert_eq!(trim.next(1024, 1024), 1024..1024);
        assert_eq!(trim.next(1024, 0), 0..1024);
        assert_eq!(trim.next(1024, 1024), 0..1024);
        assert_eq!(trim.next(1024, 204), 0..204);
        assert!(!trim.done());
        // An end the index states, sooner than the durations'.
        let mut trim = Trim {
            decoded: 0,
            delay: 1024,
            end: End::Timeline {
                sum: 0,
                stated: 2500,
            },
        };
        assert_eq!(trim.next(1024, 1024), 1024..1024);
        assert_eq!(trim.next(1024, 1024), 0..1024);
        assert_eq!(trim.next(1024, 1024), 0..452);
        assert!(trim.done());
    }
}
