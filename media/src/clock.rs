//! The media time of a stream's octets: for each octet, the time at which a player needs it
//! (the start time of the frame it belongs to). Pacing sends every octet before that.
//!
//! Times count from the stream's first frame, whatever that frame's time in the song: a
//! stream that starts at a position (a seek) is needed from its first octet just like a
//! whole song, so it gets the same burst.
//!
//! Raw streams (mp3, ADTS, FLAC, Ogg) are walked frame by frame as their octets go by; PCM
//! (WAV, AIFF) is arithmetic; mp4 keeps its index apart from the audio, so its chunks' times
//! are read up front.

use std::collections::VecDeque;

use crate::{Format, MediaError, ReadAt, adts, flac, mp3, mp4, ogg, riff};

/// Frame starts closer together than this are recorded as one point: a coarser timeline only
/// makes times earlier, so pacing sends sooner, never later.
const GRID: u64 = 1024;

/// Points a walking clock keeps that queries have not passed yet. More are dropped (again
/// only making times earlier). Queries trail the walk by a chunk and the burst slack, about
/// 100 KiB, so this is never reached in practice.
const MAX_POINTS: usize = 4096;

/// A step of a walk over a stream: what the window at a position holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Step {
    /// A frame starts here, at media time `time` (seconds); look again `len` octets on.
    Frame { time: f64, len: u64 },
    /// Nothing to record here; look again `n` octets on (at least 1).
    Skip(u64),
    /// Nothing more to learn from this stream (trailing tags, or lost for good).
    Done,
}

/// A format's frame walker: looks at a window of octets at a position and says what is there.
pub(crate) trait Walk {
    /// Octets of window each step wants (a frame header and what identifies it).
    fn window(&self) -> usize;
    fn step(&mut self, at: u64, window: &[u8]) -> Step;
    /// The media time walked so far, where the walk counts it.
    fn elapsed(&self) -> Option<f64> {
        None
    }
}

/// Octets read at a time when a whole file is walked.
const COUNT_READ: usize = 64 * 1024;

/// Walks a whole file of `size` octets with `walk` and returns the media time it counted.
pub(crate) fn count(
    walk: Box<dyn Walk + Send>,
    file: &(impl ReadAt + ?Sized),
    size: u64,
) -> std::io::Result<Option<f64>> {
    let mut walker = Walker::new(walk);
    let mut buf = vec![0; COUNT_READ];
    while walker.fed < size && !walker.done {
        let n = crate::read::read_full(file, &mut buf, walker.fed)?;
        if n == 0 {
            break;
        }
        walker.feed(&buf[..n]);
    }
    Ok(walker.walk.elapsed())
}

/// Media time per octet of one stream, in seconds.
#[derive(Debug)]
pub struct Clock {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// Walked from the octets as they are fed.
    Walking(Walker),
    /// PCM: time is (offset - start) / rate.
    Linear { start: u64, bytes_per_sec: f64 },
    /// Points read up front (mp4's chunk offsets), sorted by offset.
    Table {
        points: Vec<(u64, f64)>,
        cursor: usize,
    },
    /// Nothing is known: every octet is needed at once.
    Unknown,
}

impl Clock {
    /// The clock for a stream of `format`. `file` is read only where the format keeps what the
    /// clock needs apart from the audio (mp4's index, a WAV or AIFF header).
    pub fn open(
        format: Format,
        file: &(impl ReadAt + ?Sized),
        size: u64,
    ) -> Result<Self, MediaError> {
        let kind = match format {
            Format::Mp3 => Kind::Walking(Walker::new(Box::new(mp3::Walker::default()))),
            Format::Adts => Kind::Walking(Walker::new(Box::new(adts::Walker::default()))),
            Format::Flac => Kind::Walking(Walker::new(Box::new(flac::Walker::default()))),
            Format::Ogg => Kind::Walking(Walker::new(Box::new(ogg::Walker::default()))),
            Format::Wav | Format::Aiff => match riff::pcm(format, file, size)? {
                Some(pcm) => Kind::Linear {
                    start: pcm.start,
                    bytes_per_sec: pcm.bytes_per_sec,
                },
                None => Kind::Unknown,
            },
            Format::Mp4 => match mp4::chunk_times(file, size)? {
                Some(mut points) => {
                    let origin = points.first().map_or(0.0, |p| p.1);
                    points.iter_mut().for_each(|p| p.1 -= origin);
                    Kind::Table { points, cursor: 0 }
                }
                None => Kind::Unknown,
            },
        };
        Ok(Self { kind })
    }

    /// A clock that knows nothing: every octet is due at once.
    pub fn unknown() -> Self {
        Self {
            kind: Kind::Unknown,
        }
    }

    /// Whether the clock learns from the octets themselves (then [`Clock::feed`] them all, in
    /// order, before asking about them).
    pub fn needs_octets(&self) -> bool {
        matches!(self.kind, Kind::Walking(_))
    }

    /// The next octets of the stream, in order from its first.
    pub fn feed(&mut self, octets: &[u8]) {
        if let Kind::Walking(walker) = &mut self.kind {
            walker.feed(octets);
        }
    }

    /// The media time in seconds at which octet `offset` is needed: the start of the frame it
    /// belongs to as far as the clock knows, never later; 0 before the first frame. Offsets
    /// asked about must not decrease. For a walking clock the answer is final once a frame
    /// header's worth beyond `offset` has been fed (at most 346 octets, an Ogg page header);
    /// before that it may be earlier.
    pub fn time_at(&mut self, offset: u64) -> f64 {
        match &mut self.kind {
            Kind::Walking(walker) => walker.timeline.time_at(offset),
            Kind::Linear {
                start,
                bytes_per_sec,
            } => offset.saturating_sub(*start) as f64 / *bytes_per_sec,
            Kind::Table { points, cursor } => {
                while points.get(*cursor + 1).is_some_and(|p| p.0 <= offset) {
                    *cursor += 1;
                }
                match points.get(*cursor) {
                    Some(&(at, time)) if at <= offset => time,
                    _ => 0.0,
                }
            }
            Kind::Unknown => 0.0,
        }
    }
}

/// Recorded frame starts: (offset, time), offsets increasing.
#[derive(Debug, Default)]
struct Timeline {
    points: VecDeque<(u64, f64)>,
    /// The latest time recorded, so times never go back (a chained or odd stream).
    latest: f64,
    /// The song time of the stream's first frame: times are recorded from it.
    origin: Option<f64>,
}

impl Timeline {
    fn record(&mut self, at: u64, time: f64) {
        if !time.is_finite() || self.points.len() >= MAX_POINTS {
            return;
        }
        let time = (time - *self.origin.get_or_insert(time)).max(self.latest);
        match self.points.back() {
            Some(&(last, _)) if at < last + GRID => {}
            _ => {
                self.points.push_back((at, time));
                self.latest = time;
            }
        }
    }

    fn time_at(&mut self, offset: u64) -> f64 {
        while self.points.get(1).is_some_and(|p| p.0 <= offset) {
            self.points.pop_front();
        }
        match self.points.front() {
            Some(&(at, time)) if at <= offset => time,
            _ => 0.0,
        }
    }
}

/// Drives a [`Walk`] over octets fed in pieces of any size.
struct Walker {
    walk: Box<dyn Walk + Send>,
    timeline: Timeline,
    /// Octets fed so far.
    fed: u64,
    /// Where the walk looks next.
    next: u64,
    /// Octets from `next` on, when fewer than a window had arrived.
    carry: Vec<u8>,
    done: bool,
}

impl std::fmt::Debug for Walker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Walker")
            .field("fed", &self.fed)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl Walker {
    fn new(walk: Box<dyn Walk + Send>) -> Self {
        Self {
            walk,
            timeline: Timeline::default(),
            fed: 0,
            next: 0,
            carry: Vec::new(),
            done: false,
        }
    }

    fn feed(&mut self, octets: &[u8]) {
        let base = self.fed;
        self.fed += octets.len() as u64;
        if self.done {
            return;
        }
        if !self.carry.is_empty() {
            // Windows that start in the carried octets: look at them with the new ones joined.
            // A window that still does not fit is carried again (then `octets` were shorter
            // than a window, and all of them are in the new carry).
            let mut joined = std::mem::take(&mut self.carry);
            joined.extend_from_slice(&octets[..octets.len().min(self.walk.window())]);
            self.walk_over(&joined, self.next, base);
            if !self.carry.is_empty() {
                return;
            }
        }
        self.walk_over(octets, base, self.fed);
    }

    /// Steps through every position below `limit` whose window lies in `buf` (which starts at
    /// offset `base`); the octets from a position whose window does not fit are carried to
    /// the next feed (never none: the position lies below `limit`, inside `buf`).
    fn walk_over(&mut self, buf: &[u8], base: u64, limit: u64) {
        let window = self.walk.window();
        while !self.done && self.next < limit {
            let Some(i) = self
                .next
                .checked_sub(base)
                .and_then(|i| usize::try_from(i).ok())
            else {
                return;
            };
            let Some(view) = buf.get(i..i + window) else {
                self.carry = buf.get(i..).unwrap_or_default().to_vec();
                return;
            };
            match self.walk.step(self.next, view) {
                Step::Frame { time, len } => {
                    self.timeline.record(self.next, time);
                    self.next += len.max(1);
                }
                Step::Skip(n) => self.next += n.max(1),
                Step::Done => self.done = true,
            }
        }
    }
}
