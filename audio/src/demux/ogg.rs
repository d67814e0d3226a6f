//! Ogg (RFC 3533): pages are read whole and checked by their CRC, the first logical stream
//! in Vorbis, Opus or FLAC is followed, and its packets are put back together across pages.
//! Each packet is timed as symphonia's Ogg reader times it, from the granule position of the
//! page it ends on, and the last page's granule position cuts the padding off the end.

use std::collections::VecDeque;

use symphonia::core::codecs::audio::AudioCodecParameters;
use symphonia::core::errors::{Result, decode_error, unsupported_error};
use symphonia::core::packet::Packet;
use symphonia::core::units::{Duration, Timestamp};
use tapedeck_media::read::{le32, le64};

use super::crc::crc32;
use super::xiph::{self, Codec};
use super::{Bytes, Demux, not_yet};
use crate::decoder::MAX_BUFFERED;

/// Octets of a page header before its segment table.
const FIXED: usize = 27;

const BOS: u8 = 2;
const EOS: u8 = 4;
const CONTINUED: u8 = 1;

/// A page, whole.
struct Page {
    flags: u8,
    granule: u64,
    serial: u32,
    sequence: u32,
    /// The page's octets: the header, the segment table, then the body.
    bytes: Box<[u8]>,
}

impl Page {
    fn lacing(&self) -> &[u8] {
        &self.bytes[FIXED..FIXED + usize::from(self.bytes[26])]
    }

    fn body(&self) -> &[u8] {
        &self.bytes[FIXED + usize::from(self.bytes[26])..]
    }
}

/// An Ogg demuxer.
pub struct Ogg {
    bytes: Bytes,
    /// The followed stream's serial number and codec, once its first page came.
    stream: Option<(u32, Codec)>,
    params: Option<AudioCodecParameters>,
    /// A packet begun on an earlier page.
    partial: Vec<u8>,
    /// The sequence number of the stream's last page.
    sequence: Option<u32>,
    /// The granule position of the last page that ended audio packets.
    end_ts: Option<i64>,
    /// Whether a page with audio has been read.
    audio: bool,
    packets: VecDeque<Packet>,
    done: bool,
}

impl Ogg {
    pub fn new(bytes: Bytes) -> Self {
        Self {
            bytes,
            stream: None,
            params: None,
            partial: Vec::new(),
            sequence: None,
            end_ts: None,
            audio: false,
            packets: VecDeque::new(),
            done: false,
        }
    }

    /// Reads the next page, skipping junk and pages whose CRC fails; `None` at the end.
    fn page(&mut self) -> Result<Option<Page>> {
        loop {
            let found = self.bytes.look(|b, finished| {
                let Some(start) = b.windows(4).position(|w| w == b"OggS") else {
                    let junk = b.len().saturating_sub(3);
                    return (junk, if finished { Ok(None) } else { Err(()) });
                };
                let b = &b[start..];
                let count = b.get(26).map(|&n| usize::from(n));
                let body: Option<usize> = count
                    .and_then(|n| b.get(FIXED..FIXED + n))
                    .map(|l| l.iter().map(|&x| usize::from(x)).sum());
                let len = count.zip(body).map(|(n, body)| FIXED + n + body);
                match len.filter(|&len| len <= b.len()) {
                    Some(len) if b[4] == 0 && crc32_ok(&b[..len]) => (start, Ok(Some(len))),
                    // Not a page after all: look again one octet on.
                    Some(_) => (start + 1, Ok(None)),
                    None if finished => (b.len() + start, Ok(None)),
                    None => (start, Err(())),
                }
            });
            let (skip, found) = found;
            self.bytes.skip(skip as u64);
            match found {
                Ok(Some(len)) => {
                    return Ok(Some(parse(self.bytes.take(len)?)));
                }
                Ok(None) if matches!(self.bytes.buffered(), (n, true) if n < FIXED) => {
                    return Ok(None);
                }
                Ok(None) => {}
                Err(()) => return Err(not_yet(false)),
            }
        }
    }

    /// Reads pages until one adds packets or the stream ends.
    fn read_page(&mut self) -> Result<()> {
        let Some(page) = self.page()? else {
            self.done = true;
            return Ok(());
        };
        let Some((serial, _)) = &self.stream else {
            return self.first_page(&page);
        };
        if page.serial != *serial {
            // A new stream once the audio began: a chained file, whose next part is not
            // played.
            self.done |= page.flags & BOS != 0 && self.audio;
            return Ok(());
        }
        self.stream_page(&page)?;
        self.done |= page.flags & EOS != 0;
        Ok(())
    }

    /// A page before the stream to follow is known: it must begin a stream.
    fn first_page(&mut self, page: &Page) -> Result<()> {
        if page.flags & BOS == 0 {
            return unsupported_error("ogg: no Vorbis, Opus or FLAC stream");
        }
        let Some(first) = packets(page).next().filter(|p| p.1) else {
            return Ok(());
        };
        if let Some((codec, params)) = Codec::identify(first.0) {
            self.stream = Some((page.serial, codec));
            self.params = params;
            self.sequence = Some(page.sequence);
        }
        Ok(())
    }

    /// A page of the followed stream: its packets, timed.
    fn stream_page(&mut self, page: &Page) -> Result<()> {
        if let Some(last) = self.sequence {
            if page.sequence != last.wrapping_add(1) {
                self.partial.clear();
            }
        }
        self.sequence = Some(page.sequence);
        let continued = page.flags & CONTINUED != 0;
        if !continued {
            self.partial.clear();
        }
        let mut packets = packets(page);
        if continued && self.partial.is_empty() {
            packets.next();
        }
        let mut added = Vec::new();
        for (data, complete) in packets {
            if self.partial.len() + data.len() > MAX_BUFFERED {
                return decode_error("ogg: a packet larger than the input buffer");
            }
            self.partial.extend_from_slice(data);
            if !complete {
                break;
            }
            let data = std::mem::take(&mut self.partial);
            let Some((_, codec)) = self.stream.as_mut() else {
                break;
            };
            match codec.packet(&data) {
                xiph::Packet::Header(Some(params)) => self.params = Some(params),
                xiph::Packet::Header(None) => {}
                xiph::Packet::Audio { .. } if self.params.is_none() => {
                    return decode_error("ogg: audio before the codec's headers");
                }
                xiph::Packet::Audio { dur, discard } => added.push((data, dur, discard)),
            }
        }
        if added.is_empty() {
            return Ok(());
        }
        self.time(page, added);
        self.audio = true;
        Ok(())
    }

    /// Times the audio packets that end on `page` (each with the samples it spans and the
    /// samples to drop first), and queues them.
    fn time(&mut self, page: &Page, added: Vec<(Vec<u8>, u64, u64)>) {
        let sum = |f: fn(&(Vec<u8>, u64, u64)) -> u64| {
            added.iter().map(f).fold(0u64, u64::saturating_add)
        };
        let (total, discarded) = (sum(|p| p.1), sum(|p| p.2));
        let end = page.granule as i64;
        let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let start = self.end_ts.unwrap_or_else(|| {
            // A stream of a single page places its first sample at 0.
            let single = !self.audio && page.flags & EOS != 0;
            if single && total >= discarded.saturating_add(page.granule) {
                -clamp(discarded)
            } else {
                end.saturating_sub(clamp(total))
            }
        });
        self.end_ts = Some(end);
        let mut next = start;
        for (data, dur, discard) in added {
            let pts = next;
            next = next.saturating_add(clamp(dur));
            let mut kept = dur.saturating_sub(discard);
            let trim_end = if next > end {
                (next.abs_diff(end)).min(kept)
            } else {
                0
            };
            kept -= trim_end;
            let mut packet = Packet::new(0, Timestamp::new(pts), Duration::new(kept), data);
            packet.trim_start = Duration::new(discard);
            packet.trim_end = Duration::new(trim_end);
            self.packets.push_back(packet);
        }
    }
}

/// A page's fields, from its whole bytes (checked by [`Ogg::page`]).
fn parse(bytes: Box<[u8]>) -> Page {
    Page {
        flags: bytes[5],
        granule: le64(&bytes, 6).unwrap_or(u64::MAX),
        serial: le32(&bytes, 14).unwrap_or(0),
        sequence: le32(&bytes, 18).unwrap_or(0),
        bytes,
    }
}

/// A page's packets (or pieces of them), each with whether it ends on this page.
fn packets(page: &Page) -> impl Iterator<Item = (&[u8], bool)> {
    let (body, mut at) = (page.body(), 0usize);
    let mut lacing = page.lacing().iter().peekable();
    std::iter::from_fn(move || {
        let from = at;
        loop {
            let &len = lacing.next()?;
            at += usize::from(len);
            if len < 255 {
                return Some((&body[from..at], true));
            }
            if lacing.peek().is_none() {
                return Some((&body[from..at], false));
            }
        }
    })
}

/// Whether a whole page's CRC (computed with the CRC field zeroed) holds.
fn crc32_ok(page: &[u8]) -> bool {
    let crc = crc32(crc32(crc32(0, &page[..22]), &[0; 4]), &page[26..]);
    le32(page, 22) == Some(crc)
}

impl Demux for Ogg {
    fn prepare(&mut self) -> Result<()> {
        while self.params.is_none() {
            if self.done {
                return unsupported_error("ogg: the stream ends before its codec headers");
            }
            self.read_page()?;
        }
        Ok(())
    }

    fn track(&self) -> Option<(u32, &AudioCodecParameters)> {
        Some((0, self.params.as_ref()?))
    }

    fn next_packet(&mut self) -> Result<Option<Packet>> {
        loop {
            if let Some(packet) = self.packets.pop_front() {
                return Ok(Some(packet));
            }
            if self.done {
                return Ok(None);
            }
            self.read_page()?;
        }
    }
}
