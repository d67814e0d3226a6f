//! An mp4 demuxer for the page: the first sound track's samples, in order, as packets, read
//! straight through the stream (the index is parsed from the buffered `moov` before). It
//! stands in for symphonia's isomp4 reader, which is most of 45 KB of the gzipped bundle and
//! reads video, fragments and metadata the page never needs (BENCHMARKS.md, the wasm bundle).

use std::io::{Seek, SeekFrom};

use symphonia::core::codecs::CodecParameters;
use symphonia::core::errors::{Error, Result, SeekErrorKind, decode_error, seek_error};
use symphonia::core::formats::well_known::FORMAT_ID_ISOMP4;
use symphonia::core::formats::{
    FormatInfo, FormatReader, MediaInfo, SeekMode, SeekTo, SeekedTo, Track,
};
use symphonia::core::io::{MediaSource, MediaSourceStream, ReadBytes};
use symphonia::core::meta::{Metadata, MetadataLog};
use symphonia::core::packet::Packet;
use symphonia::core::units::{Duration, TimeBase, Timestamp};
use tapedeck_media::mp4::{Sound, Table};

use super::entry::codec_params;

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
    pub fn new(source: MediaSourceStream<'s>, moov: &[u8]) -> std::result::Result<Self, String> {
        let Sound {
            timescale,
            entry: (kind, payload),
            table,
        } = tapedeck_media::mp4::sound(moov).ok_or("no readable sound track in the index")?;
        let params = codec_params(kind, &payload, timescale)?;
        let base = TimeBase::try_from_recip(timescale).ok_or("a track timescale of 0")?;
        let frames: u64 = table.deltas.iter().map(|&d| u64::from(d)).sum();
        let mut track = Track::new(0);
        track
            .with_codec_params(CodecParameters::Audio(params))
            .with_time_base(base)
            .with_num_frames(frames);
        let offset = table.chunks.first().map_or(0, |c| c.offset);
        Ok(Self {
            source,
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

    /// Moves the stream to `offset`: forward by reading past, back only in a seekable source.
    fn reach(&mut self, offset: u64) -> Result<()> {
        let at = self.source.pos();
        if offset > at {
            Ok(self.source.ignore_bytes(offset - at)?)
        } else if offset < at && self.source.is_seekable() {
            Ok(self.source.seek(SeekFrom::Start(offset)).map(|_| ())?)
        } else if offset < at {
            decode_error("mp4: samples out of order in a stream")
        } else {
            Ok(())
        }
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
            if size > MAX_SAMPLE {
                return Err(Error::DecodeError("mp4: a sample larger than any codec's"));
            }
            self.reach(self.offset)?;
            let data = self.source.read_boxed_slice_exact(size as usize)?;
            let ts = Timestamp::new(i64::try_from(self.ts).unwrap_or(i64::MAX));
            self.sample += 1;
            self.offset = self.offset.saturating_add(u64::from(size));
            self.ts = self.ts.saturating_add(u64::from(duration));
            return Ok(Some(Packet::new(
                0,
                ts,
                Duration::new(u64::from(duration)),
                data,
            )));
        }
    }

    fn into_inner<'s>(self: Box<Self>) -> MediaSourceStream<'s>
    where
        Self: 's,
    {
        self.source
    }
}
