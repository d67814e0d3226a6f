//! Opus for symphonia, which reads Ogg Opus (with its pre-skip and end trim) but has no Opus
//! decoder: `opus-pure`, a pure-Rust port of libopus's decoder that builds for wasm32 and
//! decodes libopus's output bit for bit, wrapped as a symphonia audio decoder. Like
//! symphonia's own decoders it applies each packet's trim itself, so the pre-skip at the start
//! and the padding at the end come out exactly as the granule positions say.

use symphonia::core::audio::{
    AsGenericAudioBufferRef, AudioBuffer, AudioMut, AudioSpec, Channels, GenericAudioBufferRef,
    Position,
};
use symphonia::core::codecs::CodecInfo;
use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::audio::{
    AudioCodecParameters, AudioDecoder, AudioDecoderOptions, FinalizeResult,
};
use symphonia::core::codecs::registry::{RegisterableAudioDecoder, SupportedAudioCodec};
use symphonia::core::errors::{Error, Result};
use symphonia::core::packet::PacketRef;

/// Opus always decodes at 48 kHz here (the rate Ogg Opus granules count in).
const RATE: u32 = 48_000;

const SUPPORTED: &[SupportedAudioCodec] = &[SupportedAudioCodec {
    id: CODEC_ID_OPUS,
    info: CodecInfo {
        short_name: "opus",
        long_name: "Opus",
        profiles: &[],
    },
}];

/// An Opus stream: mono or stereo (channel mapping family 0, what nearly every file is), or
/// surround of up to 8 channels in the Vorbis order (family 1, RFC 7845 5.1.1.2).
pub struct OpusDecoder {
    params: AudioCodecParameters,
    gapless: bool,
    /// The pre-skip of the Ogg Opus header: the frames at the start of the stream a player
    /// drops. symphonia's Ogg reader counts them in its timestamps (granule positions include
    /// them) but leaves dropping them to the decoder.
    pre_skip: u64,
    decoder: Streams,
    /// For each of the buffer's planes (in symphonia's order of positions), the decoded
    /// channel that fills it.
    planes: Vec<usize>,
    /// Interleaved output of one packet (at most 120 ms).
    scratch: Vec<f32>,
    buf: AudioBuffer<f32>,
}

/// One Opus stream, or several coded together (surround).
enum Streams {
    One(Box<opus_pure::OpusDecoder>),
    Many(opus_pure::OpusMSDecoder),
}

impl Streams {
    fn decode(&mut self, packet: &[u8], output: &mut [f32]) -> opus_pure::Result<usize> {
        let frames = opus_pure::MAX_PACKET_SAMPLES;
        match self {
            Streams::One(decoder) => decoder.decode(packet, frames, output),
            Streams::Many(decoder) => decoder.decode(packet, frames, output),
        }
    }

    fn reset(&mut self) {
        let _ = match self {
            Streams::One(decoder) => decoder.reset_state(),
            Streams::Many(decoder) => decoder.reset_state(),
        };
    }
}

/// Where each channel of a stream of `n` channels sounds, in the Vorbis order (family 1's,
/// and family 0's for one and two).
fn vorbis_positions(n: usize) -> Option<&'static [Position]> {
    use Position as P;
    const FL: P = P::FRONT_LEFT;
    const FR: P = P::FRONT_RIGHT;
    const FC: P = P::FRONT_CENTER;
    const LFE: P = P::LFE1;
    const RL: P = P::REAR_LEFT;
    const RR: P = P::REAR_RIGHT;
    const RC: P = P::REAR_CENTER;
    const SL: P = P::SIDE_LEFT;
    const SR: P = P::SIDE_RIGHT;
    let positions: &'static [P] = match n {
        1 => &[FC],
        2 => &[FL, FR],
        3 => &[FL, FC, FR],
        4 => &[FL, FR, RL, RR],
        5 => &[FL, FC, FR, RL, RR],
        6 => &[FL, FC, FR, RL, RR, LFE],
        7 => &[FL, FC, FR, SL, SR, RC, LFE],
        8 => &[FL, FC, FR, SL, SR, RL, RR, LFE],
        _ => return None,
    };
    Some(positions)
}

/// The decoder an identification header (`OpusHead`) asks for, the positions of its
/// channels, and for each plane the decoded channel that fills it. A surround stream whose
/// streams or mapping are not the standard ones for its channel count is refused.
fn streams(head: &[u8]) -> Result<(Streams, Position, Vec<usize>)> {
    let refused =
        || Error::Unsupported("opus: a channel mapping other than mono, stereo or surround");
    let channels = usize::from(*head.get(9).ok_or_else(refused)?);
    let family = head.get(18).copied().unwrap_or(0);
    let positions = vorbis_positions(channels).ok_or_else(refused)?;
    let decoder = match family {
        0 if channels <= 2 => {
            opus_pure::OpusDecoder::new(RATE as i32, channels).map(|d| Streams::One(Box::new(d)))
        }
        1 => {
            let decoder =
                opus_pure::OpusMSDecoder::new(RATE as i32, channels, 1).map_err(|_| refused())?;
            let layout = decoder.layout();
            let stated = head.get(19..21 + channels).ok_or_else(refused)?;
            let counts = [layout.nb_streams, layout.nb_coupled_streams].map(|n| n as u8);
            if stated != [&counts[..], &layout.mapping].concat() {
                return Err(refused());
            }
            Ok(Streams::Many(decoder))
        }
        _ => return Err(refused()),
    };
    let decoder = decoder.map_err(|_| Error::Unsupported("opus: the decoder would not start"))?;
    let mask = positions.iter().fold(Position::empty(), |all, &p| all | p);
    // Planes come in the order of the positions' bits; channels in the Vorbis order.
    let mut planes: Vec<usize> = (0..channels).collect();
    planes.sort_by_key(|&channel| positions[channel].bits());
    Ok((decoder, mask, planes))
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusDecoder")
            .field("channels", &self.planes.len())
            .finish_non_exhaustive()
    }
}

impl OpusDecoder {
    pub fn try_new(params: &AudioCodecParameters, opts: &AudioDecoderOptions) -> Result<Self> {
        // The identification header ("OpusHead") is the extra data.
        let head = params.extra_data.as_deref().unwrap_or_default();
        if !head.starts_with(b"OpusHead") {
            return Err(Error::Unsupported("opus: no identification header"));
        }
        let (decoder, mask, planes) = streams(head)?;
        let spec = AudioSpec::new(RATE, Channels::Positioned(mask));
        // Its pre-skip is at 10.
        let pre_skip = head
            .get(10..12)
            .map_or(0, |b| u64::from(u16::from_le_bytes([b[0], b[1]])));
        Ok(Self {
            params: params.clone(),
            gapless: opts.gapless,
            pre_skip,
            decoder,
            scratch: vec![0.0; opus_pure::MAX_PACKET_SAMPLES * planes.len()],
            planes,
            buf: AudioBuffer::new(spec, opus_pure::MAX_PACKET_SAMPLES),
        })
    }

    fn decode_inner(&mut self, packet: &PacketRef<'_>) -> Result<()> {
        let frames = self
            .decoder
            .decode(packet.data, &mut self.scratch)
            .map_err(|_| Error::DecodeError("opus: invalid packet"))?;
        self.buf.clear();
        self.buf.render_uninit(Some(frames));
        let channels = self.planes.len();
        for (index, &channel) in self.planes.iter().enumerate() {
            let plane = self
                .buf
                .plane_mut(index)
                .ok_or(Error::DecodeError("opus: missing audio plane"))?;
            let samples = self.scratch.iter().skip(channel).step_by(channels);
            for (out, &sample) in plane.iter_mut().zip(samples) {
                *out = sample;
            }
        }
        if self.gapless {
            // What lies before the pre-skip's end (timestamps count from the stream's start).
            let before = u64::try_from(packet.pts.get()).unwrap_or(0);
            let pre_skip = self.pre_skip.saturating_sub(before);
            let start = packet.trim_start.get().saturating_add(pre_skip);
            let end = packet.trim_end.get();
            let frames = frames as u64;
            self.buf
                .trim(start.min(frames) as usize, end.min(frames) as usize);
        }
        Ok(())
    }
}

impl AudioDecoder for OpusDecoder {
    fn reset(&mut self) {
        self.decoder.reset();
    }

    fn codec_info(&self) -> &CodecInfo {
        &SUPPORTED[0].info
    }

    fn codec_params(&self) -> &AudioCodecParameters {
        &self.params
    }

    fn decode_ref(&mut self, packet: &PacketRef<'_>) -> Result<GenericAudioBufferRef<'_>> {
        if let Err(err) = self.decode_inner(packet) {
            self.buf.clear();
            return Err(err);
        }
        Ok(self.buf.as_generic_audio_buffer_ref())
    }

    fn finalize(&mut self) -> FinalizeResult {
        FinalizeResult::default()
    }

    fn last_decoded(&self) -> GenericAudioBufferRef<'_> {
        self.buf.as_generic_audio_buffer_ref()
    }
}

impl RegisterableAudioDecoder for OpusDecoder {
    fn try_registry_new(
        params: &AudioCodecParameters,
        opts: &AudioDecoderOptions,
    ) -> Result<Box<dyn AudioDecoder>>
    where
        Self: Sized,
    {
        Ok(Box::new(Self::try_new(params, opts)?))
    }

    fn supported_codecs() -> &'static [SupportedAudioCodec] {
        SUPPORTED
    }
}

/// symphonia's codecs with Opus added.
pub fn codecs() -> &'static symphonia::core::codecs::registry::CodecRegistry {
    static CODECS: std::sync::OnceLock<symphonia::core::codecs::registry::CodecRegistry> =
        std::sync::OnceLock::new();
    CODECS.get_or_init(|| {
        let mut registry = symphonia::core::codecs::registry::CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut registry);
        registry.register_audio_decoder::<OpusDecoder>();
        registry
    })
}
