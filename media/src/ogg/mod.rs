//! Ogg pages (RFC 3533) carrying Vorbis, Opus or FLAC: where the header packets (and the
//! cover art in the comment header) end, and each page's time from the granule positions.

use std::io;

mod seek;
pub mod vorbis;

pub use seek::seek;

use crate::clock::{Step, Walk};
use crate::read::{ReadAt, be16, be32, le16, le32, le64, read_vec};

/// Pages walked at most while looking for the end of the headers (a comment header with cover
/// art spans about one page per 64 KiB).
const MAX_HEADER_PAGES: usize = 16 * 1024;

/// Octets of a page header before its segment table.
const FIXED: usize = 27;

/// A page header, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Page {
    flags: u8,
    /// `None` when no packet ends on the page.
    granule: Option<u64>,
    serial: u32,
    sequence: u32,
    /// Header plus segment table.
    header_len: usize,
    body_len: u64,
    /// Packets that end on this page.
    packets_ended: usize,
}

impl Page {
    const BOS: u8 = 2;
    const EOS: u8 = 4;

    /// Decodes the page header at the start of `b`, which must hold its segment table too.
    fn parse(b: &[u8]) -> Option<Self> {
        if b.get(..4)? != b"OggS" || *b.get(4)? != 0 {
            return None;
        }
        let count = usize::from(*b.get(26)?);
        let lacing = b.get(FIXED..FIXED + count)?;
        let granule = le64(b, 6)?;
        Some(Self {
            flags: b[5],
            granule: (granule != u64::MAX).then_some(granule),
            serial: le32(b, 14)?,
            sequence: le32(b, 18)?,
            header_len: FIXED + count,
            body_len: lacing.iter().map(|&l| u64::from(l)).sum(),
            packets_ended: lacing.iter().filter(|&&l| l < 255).count(),
        })
    }

    fn len(&self) -> u64 {
        self.header_len as u64 + self.body_len
    }
}

/// The codec of a logical stream, from its first packet.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Codec {
    Vorbis { rate: u32 },
    Opus { pre_skip: u64 },
    Flac { rate: u32, headers: usize },
    Other,
}

impl Codec {
    fn identify(packet: &[u8]) -> Self {
        let rate = |r: Option<u32>| r.filter(|&r| r > 0);
        if packet.starts_with(b"\x01vorbis") {
            if let Some(rate) = rate(le32(packet, 12)) {
                return Self::Vorbis { rate };
            }
        } else if packet.starts_with(b"OpusHead") {
            if let Some(pre_skip) = le16(packet, 10) {
                return Self::Opus {
                    pre_skip: u64::from(pre_skip),
                };
            }
        } else if packet.starts_with(b"\x7fFLAC") {
            let headers = be16(packet, 7).map_or(0, usize::from);
            if let Some(rate) = rate(be32(packet, 27).map(|v| v >> 12)) {
                return Self::Flac { rate, headers };
            }
        }
        Self::Other
    }

    /// Header packets before the audio, the identification packet included.
    fn header_packets(self) -> usize {
        match self {
            Self::Vorbis { .. } => 3,
            Self::Opus { .. } => 2,
            Self::Flac { headers, .. } => 1 + headers,
            Self::Other => 1,
        }
    }

    /// The media time in seconds at the end of the packet a granule position marks.
    fn time(self, granule: u64) -> Option<f64> {
        match self {
            Self::Vorbis { rate } | Self::Flac { rate, .. } => {
                Some(granule as f64 / f64::from(rate))
            }
            Self::Opus { pre_skip } => Some(granule.saturating_sub(pre_skip) as f64 / 48_000.0),
            Self::Other => None,
        }
    }
}

/// The audio region `(start, end)`: from the first page after the header packets of the
/// first logical stream to the end of the file.
pub fn audio(file: &(impl ReadAt + ?Sized), size: u64) -> io::Result<Option<(u64, u64)>> {
    let mut at = 0u64;
    let mut ours: Option<(u32, usize)> = None;
    let mut packets = 0;
    for _ in 0..MAX_HEADER_PAGES {
        let head = read_vec(file, at, FIXED + 255 + 64)?;
        let Some(page) = Page::parse(&head) else {
            return Ok(None);
        };
        let (serial, needed) = *ours.get_or_insert_with(|| {
            let codec = Codec::identify(&head[page.header_len..]);
            (page.serial, codec.header_packets())
        });
        at += page.len();
        if page.serial == serial {
            packets += page.packets_ended;
            if packets >= needed {
                return Ok((at <= size).then_some((at, size)));
            }
        }
    }
    Ok(None)
}

/// Walks the pages of the first logical stream (and of streams chained after it); a page's
/// time is that of the last granule position before it, counted from the stream's start.
///
/// A stream sent from a position (PROTOCOL.md 5.4.1) is its header pages followed by audio
/// pages from the middle of the file: the page sequence jumps. Its times then count from the
/// end of its first audio page (the start of that page is not written anywhere), which makes
/// them earlier by at most a page: pacing sends sooner, never later.
#[derive(Debug)]
pub struct Walker {
    /// The current logical stream and its codec.
    stream: Option<(u32, Codec)>,
    /// Whether the current stream has ended (a new one may be chained after it).
    ended: bool,
    /// Time at the end of the last packet that ended, within the current stream.
    time: f64,
    /// The duration of earlier chained streams.
    base: f64,
    /// The sequence number of the first stream's last page.
    sequence: Option<u32>,
    /// The song time the first stream's times count from, once its first audio page is seen.
    origin: Option<f64>,
}

impl Default for Walker {
    fn default() -> Self {
        Self {
            stream: None,
            ended: true,
            time: 0.0,
            base: 0.0,
            sequence: None,
            origin: None,
        }
    }
}

impl Walk for Walker {
    fn window(&self) -> usize {
        FIXED + 255 + 64
    }

    fn step(&mut self, _at: u64, w: &[u8]) -> Step {
        let Some(page) = Page::parse(w) else {
            let to_capture = w[1..]
                .iter()
                .position(|&b| b == b'O')
                .map_or(w.len(), |p| p + 1);
            return Step::Skip(to_capture as u64);
        };
        if page.flags & Page::BOS != 0 && self.ended {
            let codec = Codec::identify(&w[page.header_len..]);
            if self.stream.is_some() {
                self.base += self.time;
                self.time = 0.0;
            }
            self.stream = Some((page.serial, codec));
            self.ended = false;
        }
        let Some((_, codec)) = self.stream.filter(|s| s.0 == page.serial) else {
            return Step::Skip(page.len());
        };
        let time = (self.base + self.time - self.origin.unwrap_or(0.0)).max(0.0);
        if let Some(end) = page.granule.and_then(|g| codec.time(g)) {
            if self.origin.is_none() && self.base == 0.0 && end > 0.0 {
                let follows = self
                    .sequence
                    .is_some_and(|s| page.sequence == s.wrapping_add(1));
                self.origin = Some(if follows { 0.0 } else { end });
            }
            self.time = self.time.max(end);
        }
        if self.base == 0.0 {
            self.sequence = Some(page.sequence);
        }
        self.ended = page.flags & Page::EOS != 0;
        Step::Frame {
            time,
            len: page.len(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A page of `serial` holding `packets` (each under 255 octets), with `granule`.
    pub fn page(flags: u8, granule: u64, serial: u32, packets: &[&[u8]]) -> Vec<u8> {
        let mut p = b"OggS\0".to_vec();
        p.push(flags);
        p.extend(granule.to_le_bytes());
        p.extend(serial.to_le_bytes());
        p.extend([0; 8]);
        p.push(packets.len() as u8);
        p.extend(packets.iter().map(|k| k.len() as u8));
        for k in packets {
            p.extend(*k);
        }
        p
    }

    fn vorbis_id() -> Vec<u8> {
        let mut id = b"\x01vorbis\0\0\0\0\x02".to_vec();
        id.extend(44_100u32.to_le_bytes());
        id.resize(30, 0);
        id
    }

    #[test]
    fn audio_starts_after_the_three_vorbis_headers() {
        let mut file = page(Page::BOS, 0, 7, &[&vorbis_id()]);
        file.extend(page(0, 0, 7, &[b"\x03vorbis comment", b"\x05vorbis setup"]));
        let start = file.len() as u64;
        file.extend(page(0, 44_100, 7, &[&[0u8; 200]]));
        let size = file.len() as u64;
        assert_eq!(audio(&file, size).expect("read"), Some((start, size)));
    }

    /// `page` numbered `sequence`, padded to a walker's window.
    fn numbered(mut page: Vec<u8>, sequence: u32) -> Vec<u8> {
        page[18..22].copy_from_slice(&sequence.to_le_bytes());
        page.resize(400, 0);
        page
    }

    fn time(walker: &mut Walker, page: &[u8]) -> f64 {
        let Step::Frame { time, .. } = walker.step(0, page) else {
            panic!("not a page")
        };
        time
    }

    #[test]
    fn pages_take_the_time_of_the_granule_before() {
        let mut walker = Walker::default();
        let id = numbered(page(Page::BOS, 0, 7, &[&vorbis_id()]), 0);
        assert_eq!(time(&mut walker, &id), 0.0);
        let audio = |granule, sequence| numbered(page(0, granule, 7, &[&[0u8; 100]]), sequence);
        assert_eq!(time(&mut walker, &audio(44_100, 1)), 0.0);
        assert!((time(&mut walker, &audio(88_200, 2)) - 1.0).abs() < 1e-12);
        let mut other = page(0, 999_999, 8, &[&[0u8; 10]]);
        other.resize(400, 0);
        assert!(
            matches!(walker.step(500, &other), Step::Skip(_)),
            "another stream"
        );
    }

    #[test]
    fn a_stream_from_a_position_counts_from_its_first_audio_page() {
        let mut walker = Walker::default();
        let id = numbered(page(Page::BOS, 0, 7, &[&vorbis_id()]), 0);
        assert_eq!(time(&mut walker, &id), 0.0);
        let audio = |granule, sequence| numbered(page(0, granule, 7, &[&[0u8; 100]]), sequence);
        // Sequence 1 is not followed: the file's pages 1 to 499 were left out.
        assert_eq!(time(&mut walker, &audio(44_100 * 60, 500)), 0.0);
        assert_eq!(time(&mut walker, &audio(44_100 * 61, 501)), 0.0);
        assert!((time(&mut walker, &audio(44_100 * 62, 502)) - 1.0).abs() < 1e-12);
    }
}
