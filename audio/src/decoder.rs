//! The push-style streaming decoder: bytes in as they arrive, PCM out as soon as possible.

use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSource, MediaSourceStream, MediaSourceStreamOptions};
use tapedeck_media::Format;

use crate::demux::flac::Flac;
use crate::demux::ogg::Ogg;
use crate::demux::pcm::Riff;
use crate::demux::{Bytes, Demux, is_not_yet};
use crate::error::DecodeError;
use crate::mp4::{Index, Trim};
use crate::sniff::{SNIFF_LEN, sniff};
use crate::source::Input;

/// Bytes that must be buffered beyond what a symphonia reader (MPEG audio, ADTS, and the page's
/// mp4 reader, which reads like them) has read before it may read a packet, so that no read
/// runs dry in the middle of one (they cannot resume a packet cut short; the own demuxers of
/// `demux/` wait for whole units instead), and before any stream is started. Measured on the
/// demo library with 1-byte and random chunkings: 8 and 16 KiB make some readers fail
/// mid-stream, 24 and 32 KiB give output identical to whole-file decoding. 32 KiB
/// keeps a 2x safety factor while letting sound start after about 64 KiB of a stream.
pub const MARGIN: usize = 32 * 1024;

/// The most bytes buffered at once. Large enough for an ID3 tag with cover art before the
/// first frame; beyond it [`StreamDecoder::push`] fails with [`DecodeError::Full`].
pub const MAX_BUFFERED: usize = 16 * 1024 * 1024;

/// Undecodable packets in a row after which the stream counts as corrupt.
const MAX_BAD_PACKETS: u32 = 32;

/// Decoded audio: interleaved `f32` samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Pcm {
    pub sample_rate: u32,
    pub channels: u16,
    /// `frames() * channels` samples, channel-interleaved.
    pub samples: Vec<f32>,
}

impl Pcm {
    /// Samples per channel.
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }
}

/// What [`StreamDecoder::decode`] has to give.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Some audio.
    Pcm(Pcm),
    /// Nothing until more bytes are pushed (or the input is finished).
    NeedMore,
    /// The stream is over: everything was decoded.
    End,
}

enum Stage {
    /// Waiting for enough bytes to recognise the format; the format the file's extension
    /// names, for a stream whose first bytes say none.
    Probing(Option<Format>),
    Decoding(Box<Decoding>),
    Ended,
    Failed(DecodeError),
}

struct Decoding {
    demux: Box<dyn Demux>,
    /// The decoder, once the demuxer has read the codec's parameters.
    decoder: Option<Box<dyn AudioDecoder>>,
    track: u32,
    /// An mp4 stream's index, until the decoder is made.
    moov: Option<Vec<u8>>,
    /// Undecodable packets in a row.
    bad: u32,
    /// The decoded frames that are sound, where the container says (mp4's AAC priming).
    trim: Option<Trim>,
}

/// Decodes one stream pushed in chunks of any size. Output does not depend on the chunking.
pub struct StreamDecoder {
    input: Input,
    stage: Stage,
}

impl std::fmt::Debug for StreamDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stage = match &self.stage {
            Stage::Probing(_) => "probing",
            Stage::Decoding(_) => "decoding",
            Stage::Ended => "ended",
            Stage::Failed(_) => "failed",
        };
        f.debug_struct("StreamDecoder")
            .field("stage", &stage)
            .finish_non_exhaustive()
    }
}

impl StreamDecoder {
    /// A decoder for a stream whose file extension, if known, helps recognise the format.
    pub fn new(extension: Option<&str>) -> Self {
        Self {
            input: Input::default(),
            stage: Stage::Probing(extension.and_then(Format::from_extension)),
        }
    }

    /// Appends the next bytes of the stream.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), DecodeError> {
        self.input.with(|shared| {
            if shared.unread.len() + bytes.len() > MAX_BUFFERED {
                return Err(DecodeError::Full(MAX_BUFFERED));
            }
            shared.unread.extend(bytes);
            Ok(())
        })
    }

    /// Says the input is complete: what is buffered is decoded to the end.
    pub fn finish(&mut self) {
        self.input.with(|shared| shared.finished = true);
    }

    /// Decodes the next piece of audio, if the bytes pushed so far allow it.
    pub fn decode(&mut self) -> Result<Next, DecodeError> {
        if let Stage::Probing(named) = self.stage {
            if !self.ready(self.probe_needs()) {
                return Ok(Next::NeedMore);
            }
            self.stage = match self.start(named) {
                Ok(decoding) => Stage::Decoding(Box::new(decoding)),
                Err(err) => Stage::Failed(err),
            };
        }
        let result = match &mut self.stage {
            Stage::Probing(_) => Ok(Next::NeedMore),
            Stage::Decoding(decoding) => decode_next(decoding, &self.input),
            Stage::Ended => Ok(Next::End),
            Stage::Failed(err) => Err(err.clone()),
        };
        match &result {
            Ok(Next::End) => self.stage = Stage::Ended,
            Err(err) => self.stage = Stage::Failed(err.clone()),
            Ok(_) => {}
        }
        result
    }

    /// Whether `need` bytes are buffered, or all there will ever be.
    fn ready(&self, need: usize) -> bool {
        self.input
            .with(|shared| shared.finished || shared.unread.len() >= need)
    }

    /// Bytes needed before probing: the margin, after the whole of a leading ID3v2 tag (which
    /// may hold megabytes of cover art); for mp4, after the whole index, or the whole file
    /// when the index comes last (see [`Self::source`]).
    fn probe_needs(&self) -> usize {
        self.input.with(|shared| {
            let head = shared.head(SNIFF_LEN);
            if sniff(&head) == Some(Format::Mp4) {
                return match crate::mp4::index(&shared.unread) {
                    Index::First(payload) => payload.end.saturating_add(MARGIN),
                    Index::Unknown(need) => need,
                    Index::Last => usize::MAX,
                };
            }
            id3v2_len(&head).unwrap_or(0) + MARGIN
        })
    }

    /// The payload of an mp4 stream's index (first in the stream, or anywhere in a whole
    /// file), read before the demuxer reads the stream; an error for an index missing or cut
    /// short.
    fn mp4_index(&self) -> Result<Vec<u8>, DecodeError> {
        self.input.with(|shared| {
            let payload = match crate::mp4::index(&shared.unread) {
                Index::First(payload) => Some(payload),
                _ if shared.finished => crate::mp4::index_anywhere(&shared.unread),
                _ => None,
            };
            let whole = payload.filter(|p| p.end <= shared.unread.len());
            let whole = whole.ok_or_else(|| {
                DecodeError::Unsupported("an mp4 file whose index is missing or cut short".into())
            })?;
            Ok(shared.unread.range(whole).copied().collect())
        })
    }

    /// What symphonia reads. An mp4 file whose index comes after its media data (written
    /// without "faststart", and not sent by a Tapedeck server, which moves the index first)
    /// can only be read by seeking: it is decoded once the whole file has arrived, from a
    /// seekable copy of it. Every other stream is read from the growing buffer.
    /// The input too, when it is the growing buffer (`None`: the seekable copy).
    fn source(&self, format: Format) -> (Box<dyn MediaSource>, Option<Input>) {
        let whole = self.input.with(|shared| {
            let late = format == Format::Mp4
                && !matches!(crate::mp4::index(&shared.unread), Index::First(_));
            (shared.finished && late).then(|| shared.unread.drain(..).collect::<Vec<u8>>())
        });
        match whole {
            Some(bytes) => (Box::new(std::io::Cursor::new(bytes)), None),
            None => (Box::new(self.input.clone()), Some(self.input.clone())),
        }
    }

    fn start(&self, named: Option<Format>) -> Result<Decoding, DecodeError> {
        let head = self.input.with(skip_id3v2);
        let format = sniff(&head).or(named).ok_or_else(|| {
            DecodeError::Unsupported("the stream starts as no format Tapedeck plays".into())
        })?;
        let moov = match format {
            Format::Mp4 => Some(self.mp4_index()?),
            _ => None,
        };
        let demux = self.reader(format, moov.as_deref())?;
        Ok(Decoding {
            demux,
            decoder: None,
            track: 0,
            moov,
            bad: 0,
            trim: None,
        })
    }
}

impl Decoding {
    /// Makes the decoder, once the demuxer knows the codec's parameters: `false` while it
    /// needs more bytes to know them.
    fn open(&mut self) -> Result<bool, DecodeError> {
        if let Err(err) = self.demux.prepare() {
            return match err {
                _ if is_not_yet(&err) => Ok(false),
                SymphoniaError::IoError(_) => Err(DecodeError::Unsupported(
                    "the stream ends before its codec's header".into(),
                )),
                err => Err(DecodeError::Unsupported(err.to_string())),
            };
        }
        let (track, params) = self
            .demux
            .track()
            .ok_or_else(|| DecodeError::NoTrack("the container has no audio track".into()))?;
        no_channels_refused(params)?;
        let decoder = crate::opus::codecs()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .map_err(|err| {
                let codec = codec_name(params.codec);
                DecodeError::NoTrack(format!("no decoder for {codec} audio here ({err})"))
            })?;
        // Symphonia reads an mp4 edit list but does not apply it: AAC priming and padding
        // are cut here. (Opus in mp4 trims its pre-skip itself.)
        use symphonia::core::codecs::audio::well_known::{CODEC_ID_AAC, CODEC_ID_ALAC};
        self.trim = match (self.moov.take(), params.sample_rate) {
            (Some(moov), Some(rate)) if [CODEC_ID_AAC, CODEC_ID_ALAC].contains(&params.codec) => {
                Trim::from_index(&moov, rate)
            }
            _ => None,
        };
        self.track = track;
        self.decoder = Some(decoder);
        Ok(true)
    }
}

impl StreamDecoder {
    /// The demuxer for a stream in `format`; `moov` is an mp4 stream's index, read before.
    /// Each reader is named, not probed for: probing would link every reader symphonia has,
    /// with the tag parsers they call, into the page.
    fn reader(&self, format: Format, moov: Option<&[u8]>) -> Result<Box<dyn Demux>, DecodeError> {
        let bytes = || Bytes::new(self.input.clone());
        let own: Box<dyn Demux> = match format {
            Format::Flac => Box::new(Flac::new(bytes())),
            Format::Ogg => Box::new(Ogg::new(bytes())),
            Format::Wav => Box::new(Riff::new(bytes(), false)),
            Format::Aiff => Box::new(Riff::new(bytes(), true)),
            _ => {
                return self
                    .symphonia_reader(format, moov)
                    .map(|r| Box::new(r) as _);
            }
        };
        Ok(own)
    }

    /// Symphonia's reader for MPEG audio or ADTS, or the page's mp4 reader.
    fn symphonia_reader(
        &self,
        format: Format,
        moov: Option<&[u8]>,
    ) -> Result<Box<dyn FormatReader>, DecodeError> {
        use symphonia::default::formats as readers;
        let (source, input) = self.source(format);
        let stream = MediaSourceStream::new(source, MediaSourceStreamOptions::default());
        let options = FormatOptions::default();
        let unsupported = |err: SymphoniaError| DecodeError::Unsupported(err.to_string());
        Ok(match (format, moov) {
            // mp4 is read by Tapedeck's own demuxer, from the index read before.
            (Format::Mp4, Some(moov)) => Box::new(
                crate::mp4::Mp4Reader::new(stream, input, moov)
                    .map_err(DecodeError::Unsupported)?,
            ),
            (Format::Mp4, None) => {
                return Err(DecodeError::Unsupported(
                    "an mp4 file whose index is missing".into(),
                ));
            }
            (Format::Mp3, _) => {
                Box::new(readers::MpaReader::try_new(stream, options).map_err(unsupported)?)
            }
            (Format::Adts, _) => {
                Box::new(readers::AdtsReader::try_new(stream, options).map_err(unsupported)?)
            }
            _ => unreachable!("the page's own demuxers read the other formats"),
        })
    }
}

/// Drops the ID3v2 tags a stream starts with, when each is buffered whole (the decoder waits
/// for the first before it starts), and gives the first bytes after them.
fn skip_id3v2(shared: &mut crate::source::Shared) -> Vec<u8> {
    while let Some(len) = id3v2_len(&shared.head(10)) {
        if len > shared.unread.len() {
            break;
        }
        shared.unread.drain(..len);
    }
    shared.head(MARGIN)
}

/// A track whose container states no channels is refused before a decoder is made: symphonia's
/// audio buffer divides by the channel count (found by fuzzing, through AAC in mp4 without a
/// configuration: a panic in the page's build too).
fn no_channels_refused(params: &AudioCodecParameters) -> Result<(), DecodeError> {
    match &params.channels {
        Some(channels) if channels.count() == 0 => Err(DecodeError::NoTrack(
            "the container says the track has no channels".into(),
        )),
        _ => Ok(()),
    }
}

/// A codec's name for people, where an error must say which codec is missing.
fn codec_name(id: symphonia::core::codecs::audio::AudioCodecId) -> String {
    use symphonia::core::codecs::audio::well_known as codec;
    let name = match id {
        codec::CODEC_ID_OPUS => "Opus",
        codec::CODEC_ID_SPEEX => "Speex",
        codec::CODEC_ID_VORBIS => "Vorbis",
        codec::CODEC_ID_AAC => "AAC",
        codec::CODEC_ID_AC3 => "AC-3",
        codec::CODEC_ID_WMA => "WMA",
        codec::CODEC_ID_MUSEPACK => "Musepack",
        codec::CODEC_ID_ADPCM_IMA_WAV | codec::CODEC_ID_ADPCM_IMA_QT => "IMA ADPCM",
        codec::CODEC_ID_ADPCM_MS => "Microsoft ADPCM",
        _ => return format!("codec {id}"),
    };
    name.to_owned()
}

/// Reads packets until one decodes, the margin runs out, or the stream ends.
fn decode_next(decoding: &mut Decoding, input: &Input) -> Result<Next, DecodeError> {
    loop {
        let (finished, unread) = input.with(|shared| (shared.finished, shared.unread.len()));
        if !finished && unread < MARGIN && decoding.demux.needs_margin() {
            return Ok(Next::NeedMore);
        }
        if decoding.decoder.is_none() && !decoding.open()? {
            return Ok(Next::NeedMore);
        }
        let packet = match decoding.demux.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => return Ok(Next::End),
            Err(err) if is_not_yet(&err) => return Ok(Next::NeedMore),
            Err(SymphoniaError::IoError(err))
                if finished && err.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                return Ok(Next::End);
            }
            Err(SymphoniaError::DecodeError(_)) => {
                bad_packet(decoding)?;
                continue;
            }
            Err(err) => return Err(DecodeError::Corrupt(err.to_string())),
        };
        if packet.track_id != decoding.track {
            continue;
        }
        let Some(decoder) = decoding.decoder.as_mut() else {
            return Ok(Next::NeedMore);
        };
        match decoder.decode(&packet) {
            Ok(buffer) => {
                decoding.bad = 0;
                let spec = buffer.spec();
                let (sample_rate, channels) = (spec.rate(), spec.channels().count());
                let mut samples = Vec::new();
                buffer.copy_to_vec_interleaved(&mut samples);
                if let Some(trim) = &mut decoding.trim {
                    let sound = trim.next(samples.len() / channels.max(1), packet.dur.get());
                    samples.truncate(sound.end * channels);
                    samples.drain(..sound.start * channels);
                    if samples.is_empty() && trim.done() {
                        return Ok(Next::End);
                    }
                }
                if samples.is_empty() {
                    continue;
                }
                let channels = u16::try_from(channels).unwrap_or(u16::MAX);
                return Ok(Next::Pcm(Pcm {
                    sample_rate,
                    channels,
                    samples,
                }));
            }
            // A packet that ends before its codec's data does is as bad as one that lies.
            Err(SymphoniaError::DecodeError(_) | SymphoniaError::IoError(_)) => {
                bad_packet(decoding)?;
            }
            Err(err) => return Err(DecodeError::Corrupt(err.to_string())),
        }
    }
}

/// Decodes the whole of `bytes`, pushed `chunk` octets at a time (the output does not depend
/// on it): the last rate and channel count seen, and every sample. For tests, benchmarks and
/// tools; a player decodes as the bytes arrive instead.
pub fn decode_whole(
    bytes: &[u8],
    extension: Option<&str>,
    chunk: usize,
) -> Result<Pcm, DecodeError> {
    let mut decoder = StreamDecoder::new(extension);
    let mut chunks = bytes.chunks(chunk.max(1));
    let mut whole = Pcm {
        sample_rate: 0,
        channels: 0,
        samples: Vec::new(),
    };
    loop {
        match decoder.decode()? {
            Next::Pcm(pcm) => {
                (whole.sample_rate, whole.channels) = (pcm.sample_rate, pcm.channels);
                whole.samples.extend_from_slice(&pcm.samples);
            }
            Next::NeedMore => match chunks.next() {
                Some(chunk) => decoder.push(chunk)?,
                None => decoder.finish(),
            },
            Next::End => return Ok(whole),
        }
    }
}

/// Skips an undecodable packet, unless there have been too many in a row.
fn bad_packet(decoding: &mut Decoding) -> Result<(), DecodeError> {
    decoding.bad += 1;
    if decoding.bad > MAX_BAD_PACKETS {
        return Err(DecodeError::Corrupt(format!(
            "{MAX_BAD_PACKETS} undecodable packets in a row"
        )));
    }
    Ok(())
}

/// The length of an ID3v2 tag (header, body and footer) that `head` starts with (its first
/// 10 octets say).
fn id3v2_len(head: &[u8]) -> Option<usize> {
    let [b'I', b'D', b'3', _, _, flags, a, b, c, d, ..] = *head else {
        return None;
    };
    if [a, b, c, d].iter().any(|x| x & 0x80 != 0) {
        return None;
    }
    let body =
        (usize::from(a) << 21) | (usize::from(b) << 14) | (usize::from(c) << 7) | usize::from(d);
    let footer = if flags & 0x10 != 0 { 10 } else { 0 };
    Some(10 + body + footer)
}

#[cfg(test)]
mod tests {
    use super::{id3v2_len, no_channels_refused};
    use symphonia::core::audio::Channels;
    use symphonia::core::codecs::audio::AudioCodecParameters;

    #[test]
    fn a_track_of_no_channels_is_refused() {
        let mut params = AudioCodecParameters::new();
        assert!(no_channels_refused(&params).is_ok(), "the codec may know");
        params.with_channels(Channels::Discrete(0));
        assert!(no_channels_refused(&params).is_err());
        params.with_channels(Channels::Discrete(2));
        assert!(no_channels_refused(&params).is_ok());
    }

    #[test]
    fn reads_id3v2_sizes() {
        assert_eq!(
            id3v2_len(b"ID3\x04\x00\x00\x00\x00\x02\x01"),
            Some(10 + 257)
        );
        assert_eq!(id3v2_len(b"ID3\x04\x00\x10\x00\x00\x00\x00"), Some(20));
        assert_eq!(id3v2_len(b"ID3\x04\x00\x00\x80\x00\x00\x00"), None);
        assert_eq!(id3v2_len(b"fLaC\x00\x00\x00\x22\x00\x00"), None);
        assert_eq!(id3v2_len(b"ID3"), None);
    }
}
