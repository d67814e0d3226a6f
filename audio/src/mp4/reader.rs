//! An mp4 demuxer for the page: the first sound track's samples, in order, as packets, read
//! straight through the stream (the index is parsed from the buffered `moov` before), and in
//! a fragmented file each fragment's samples after its `moof`. It stands in for symphonia's
//! isomp4 reader, which cost 40 KB of the gzipped bundle for video, subtitles and metadata the
//! page never reads (BENCHMARKS.md, the wasm bundle).

use std::io::{Seek, SeekFrom};

use std::collections::VecDeque;
use symphonia::core::codecs::CodecParameters;
use symphonia::core::errors::{Error, Result, SeekErrorKind, decode_error, seek_error};
use symphonia::core::formats::well_known::FORMAT_ID_ISOMP4;
use symphonia::core::formats::{
    FormatInfo, FormatReader, MediaInfo, SeekMode, SeekTo, SeekedTo, Track,
};
use symphonia::core::io::{MediaSource, MediaSourceStream, ReadBytes, SeekBuffered};
use symphonia::core::meta::{Metadata, MetadataLog};
use symphonia::core::packet::Packet;
use symphonia::core::units::{Duration, TimeBase, Timestamp};

use tapedeck_media::mp4::{Defaults, MAX_MOOF, Sample, Sound, Table};

use super::entry::codec_params;
use crate::demux::not_yet;
use crate::source::Input;

/// A sample larger than this is taken for a broken index (ALAC's largest frames are a few
/// hundred kilobytes).
const MAX_SAMPLE: u32 = 4 << 20;

const INFO: FormatInfo = FormatInfo {
    format: FORMAT_ID_ISOMP4,
    short_name: "mp4",
    long_name: "MPEG-4 (the first sound track)",
};

pub struct Mp4Reader<'s> {
    source: MediaSourceStream<'s>,
    /// The input the source reads, for a stream read as it arrives (`None`: a whole file).
    input: Option<Input>,
    /// How a fragmented file is walked; `None` when the index lists every sample.
    fragments: Option<Fragments>,
    tracks: Vec<Track>,
    media: MediaInfo,
    metadata: MetadataLog,
    table: Table,
    /// The next sample, the chunk it is in, and where it lies in the file.
    sample: usize,
    chunk: usize,
    offset: u64,
    /// The time of the next sample, in the track's timescale.
    ts: u64,
}

impl<'s> Mp4Reader<'s> {
    /// A reader of `source` (the stream from its first octet) whose index is `moov` (its
    /// payload); the error says why the track cannot be read.
    /// `input` is the buffer `source` reads as it arrives (`None` for a whole file): the reader
    /// waits ("not yet") for the bytes a step needs instead of reading past what came.
    pub fn new(
        source: MediaSourceStream<'s>,
        input: Option<Input>,
        moov: &[u8],
    ) -> std::result::Result<Self, String> {
        let Sound {
            timescale,
            entry: (kind, payload),
            table,
            track_id,
            fragments,
        } = tapedeck_media::mp4::sound(moov).ok_or("no readable sound track in the index")?;
        if table.sizes.is_empty() && fragments.is_none() {
            return Err("the index lists no samples".into());
        }
        let params = codec_params(kind, &payload, timescale)?;
        let base = TimeBase::try_from_recip(timescale).ok_or("a track timescale of 0")?;
        let mut track = Track::new(0);
        track
            .with_codec_params(CodecParameters::Audio(params))
            .with_time_base(base);
        // A fragmented file's length is in its fragments, not its index.
        if fragments.is_none() {
            track.with_num_frames(table.deltas.iter().map(|&d| u64::from(d)).sum());
        }
        let offset = table.chunks.first().map_or(0, |c| c.offset);
        let fragments = fragments.map(|defaults| Fragments {
            track: track_id,
            defaults,
            resume: 0,
            pending: VecDeque::new(),
            next: VecDeque::new(),
            entered: false,
            in_index: false,
        });
        Ok(Self {
            fragments,
            source,
            input,
            media: MediaInfo::from_track(&track),
            tracks: vec![track],
            metadata: MetadataLog::default(),
            table,
            sample: 0,
            chunk: 0,
            offset,
            ts: 0,
        })
    }

    /// Octets that can be read now: what the source and the input hold (all of a whole file),
    /// and whether the input is complete.
    fn available(&self) -> (u64, bool) {
        let Some(input) = &self.input else {
            return (u64::MAX, true);
        };
        let (unread, finished) = input.with(|shared| (shared.unread.len(), shared.finished));
        ((self.source.unread_buffer_len() + unread) as u64, finished)
    }

    /// "Not yet" unless `n` octets can be read now (or the input is complete: a read past its
    /// end is then the end).
    fn ensure(&self, n: u64) -> Result<()> {
        match self.available() {
            (available, finished) if available < n && !finished => Err(not_yet(false)),
            _ => Ok(()),
        }
    }

    /// Moves the stream to `offset`: forward by reading past (as far as the bytes that came
    /// allow, then "not yet"), back only in a seekable source.
    fn reach(&mut self, offset: u64) -> Result<()> {
        let at = self.source.pos();
        if offset > at {
            let (available, finished) = self.available();
            let now = (offset - at).min(available);
            self.source.ignore_bytes(now)?;
            if now < offset - at {
                return Err(not_yet(finished));
            }
            Ok(())
        } else if offset < at && self.source.is_seekable() {
            Ok(self.source.seek(SeekFrom::Start(offset)).map(|_| ())?)
        } else if offset < at {
            decode_error("mp4: samples out of order in a stream")
        } else {
            Ok(())
        }
    }
}

/// Where a fragmented file's walk is: its top-level boxes are read one after another, each
/// `moof` giving the samples of the `mdat` after it.
struct Fragments {
    /// The sound track's id, and its defaults for samples.
    track: u32,
    defaults: Defaults,
    /// Where the next top-level box starts (`u64::MAX` once a box ran to the end).
    resume: u64,
    /// The samples of the media data box being read.
    pending: VecDeque<Sample>,
    /// The samples of the fragments read since, for the media data box after them.
    next: VecDeque<Sample>,
    /// Whether the first media data box was entered, and whether the samples the index lists
    /// (which lie in it) are being read.
    entered: bool,
    in_index: bool,
}

/// A top-level box: its type, the length of its header, and its length (`None`: it runs to
/// the end of the file).
struct BoxHeader {
    kind: [u8; 4],
    header: u64,
    len: Option<u64>,
}

impl Mp4Reader<'_> {
    /// Reads `sample` as the next packet.
    fn read(&mut self, sample: Sample) -> Result<Packet> {
        if sample.size > MAX_SAMPLE {
            return Err(Error::DecodeError("mp4: a sample larger than any codec's"));
        }
        self.reach(sample.offset)?;
        self.ensure(u64::from(sample.size))?;
        let data = self.source.read_boxed_slice_exact(sample.size as usize)?;
        let ts = Timestamp::new(i64::try_from(self.ts).unwrap_or(i64::MAX));
        self.ts = self.ts.saturating_add(u64::from(sample.duration));
        let duration = Duration::new(u64::from(sample.duration));
        Ok(Packet::new(0, ts, duration, data))
    }

    /// The next packet of a fragmented file: a pending sample, else the next boxes'.
    fn next_fragmented(&mut self) -> Result<Option<Packet>> {
        loop {
            let Some(walk) = self.fragments.as_mut() else {
                return Ok(None);
            };
            if walk.in_index {
                if let Some(packet) = self.next_indexed()? {
                    return Ok(Some(packet));
                }
                if let Some(walk) = self.fragments.as_mut() {
                    walk.in_index = false;
                }
                continue;
            }
            if let Some(&sample) = walk.pending.front() {
                let packet = self.read(sample)?;
                if let Some(walk) = self.fragments.as_mut() {
                    walk.pending.pop_front();
                }
                return Ok(Some(packet));
            }
            let resume = walk.resume;
            if resume == u64::MAX {
                return Ok(None);
            }
            self.reach(resume)?;
            self.ensure(16)?;
            let BoxHeader { kind, header, len } = self.box_header()?;
            if &kind == b"moof" {
                let size = len.unwrap_or(u64::MAX).saturating_sub(header);
                if size > MAX_MOOF {
                    return decode_error("mp4: a fragment header too large");
                }
                // Not all of it yet: the header is read again next time.
                if let Err(err) = self.ensure(size) {
                    self.source.seek_buffered_rel(-(header as isize));
                    return Err(err);
                }
            }
            let Some(walk) = self.fragments.as_mut() else {
                return Ok(None);
            };
            walk.resume = len.map_or(u64::MAX, |len| resume.saturating_add(len));
            match &kind {
                b"moof" => {
                    let size = len.unwrap_or(u64::MAX).saturating_sub(header);
                    let (track, defaults) = (walk.track, walk.defaults);
                    let moof = self.source.read_boxed_slice_exact(size as usize)?;
                    let samples =
                        tapedeck_media::mp4::fragment_samples(&moof, resume, track, defaults)
                            .ok_or(Error::DecodeError("mp4: a broken fragment"))?;
                    if let Some(walk) = self.fragments.as_mut() {
                        walk.next.extend(samples);
                    }
                }
                b"mdat" => {
                    // The samples the index lists lie in the first media data box.
                    walk.in_index = !walk.entered;
                    walk.entered = true;
                    let next = std::mem::take(&mut walk.next);
                    walk.pending.extend(next);
                }
                _ => {}
            }
        }
    }

    /// The header of the box at the stream's position (at the end of the stream, the error
    /// of a read past it, which the decoder takes for the end once the input is complete).
    fn box_header(&mut self) -> Result<BoxHeader> {
        let size = self.source.read_be_u32()?;
        let kind = self.source.read_quad_bytes()?;
        let (header, len) = match size {
            0 => (8, None),
            1 => (16, Some(self.source.read_be_u64()?)),
            n => (8, Some(u64::from(n))),
        };
        if len.is_some_and(|len| len < header) {
            return decode_error("mp4: a box shorter than its header");
        }
        Ok(BoxHeader { kind, header, len })
    }
}

impl FormatReader for Mp4Reader<'_> {
    fn format_info(&self) -> &FormatInfo {
        &INFO
    }

    fn media_info(&self) -> &MediaInfo {
        &self.media
    }

    fn metadata(&mut self) -> Metadata<'_> {
        self.metadata.metadata()
    }

    /// The page never seeks in a stream: the server sends a stream that starts where asked.
    fn seek(&mut self, _mode: SeekMode, _to: SeekTo) -> Result<SeekedTo> {
        seek_error(SeekErrorKind::Unseekable)
    }

    fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    fn next_packet(&mut self) -> Result<Option<Packet>> {
        if self.fragments.is_some() {
            return self.next_fragmented();
        }
        self.next_indexed()
    }

    fn into_inner<'s>(self: Box<Self>) -> MediaSourceStream<'s>
    where
        Self: 's,
    {
        self.source
    }
}

impl Mp4Reader<'_> {
    /// The next of the samples the index lists.
    fn next_indexed(&mut self) -> Result<Option<Packet>> {
        loop {
            let Some(chunk) = self.table.chunks.get(self.chunk) else {
                return Ok(None);
            };
            if self.sample >= chunk.first + chunk.count {
                self.chunk += 1;
                if let Some(next) = self.table.chunks.get(self.chunk) {
                    self.offset = next.offset;
                }
                continue;
            }
            let (Some(&size), Some(&duration)) = (
                self.table.sizes.get(self.sample),
                self.table.deltas.get(self.sample),
            ) else {
                return Ok(None);
            };
            let sample = Sample {
                offset: self.offset,
                size,
                duration,
            };
            let packet = self.read(sample)?;
            self.sample += 1;
            self.offset = self.offset.saturating_add(u64::from(size));
            return Ok(Some(packet));
        }
    }
}
