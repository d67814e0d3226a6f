//! Opus for symphonia, which reads Ogg Opus (with its pre-skip and end trim) but has no Opus
//! decoder: `opus-pure`, a pure-Rust port of libopus's decoder that builds for wasm32 and
//! decodes libopus's output bit for bit, wrapped as a symphonia audio decoder. Like
//! symphonia's own decoders it applies each packet's trim itself, so the pre-skip at the start
//! and the padding at the end come out exactly as the granule positions say.

use symphonia::core::audio::{
    AsGenericAudioBufferRef, AudioBuffer, AudioMut, AudioSpec, GenericAudioBufferRef,
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

/// A mono or stereo Opus stream (channel mapping family 0, what nearly every file is).
pub struct OpusDecoder {
    params: AudioCodecParameters,
    gapless: bool,
    /// The pre-skip of the Ogg Opus header: the frames at the start of the stream a player
    /// drops. symphonia's Ogg reader counts them in its timestamps (granule positions include
    /// them) but leaves dropping them to the decoder.
    pre_skip: u64,
    decoder: opus_pure::OpusDecoder,
    channels: usize,
    /// Interleaved output of one packet (at most 120 ms).
    scratch: Vec<f32>,
    buf: AudioBuffer<f32>,
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusDecoder")
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

impl OpusDecoder {
    pub fn try_new(params: &AudioCodecParameters, opts: &AudioDecoderOptions) -> Result<Self> {
        let layout = params
            .channels
            .clone()
            .ok_or(Error::Unsupported("opus: no channel layout"))?;
        let channels = layout.count();
        if !(1..=2).contains(&channels) {
            return Err(Error::Unsupported("opus: only mono and stereo streams"));
        }
        let decoder = opus_pure::OpusDecoder::new(RATE as i32, channels)
            .map_err(|_| Error::Unsupported("opus: the decoder would not start"))?;
        let spec = AudioSpec::new(RATE, layout);
        // The identification header ("OpusHead") is the extra data; its pre-skip is at 10.
        let head = params.extra_data.as_deref().unwrap_or_default();
        let pre_skip = head
            .get(10..12)
            .filter(|_| head.starts_with(b"OpusHead"))
            .map_or(0, |b| u64::from(u16::from_le_bytes([b[0], b[1]])));
        Ok(Self {
            params: params.clone(),
            gapless: opts.gapless,
            pre_skip,
            decoder,
            channels,
            scratch: vec![0.0; opus_pure::MAX_PACKET_SAMPLES * channels],
            buf: AudioBuffer::new(spec, opus_pure::MAX_PACKET_SAMPLES),
        })
    }

    fn decode_inner(&mut self, packet: &PacketRef<'_>) -> Result<()> {
        let frames = self
            .decoder
            .decode(
                packet.data,
                opus_pure::MAX_PACKET_SAMPLES,
                &mut self.scratch,
            )
            .map_err(|_| Error::DecodeError("opus: invalid packet"))?;
        self.buf.clear();
        self.buf.render_uninit(Some(frames));
        for channel in 0..self.channels {
            let plane = self
                .buf
                .plane_mut(channel)
                .ok_or(Error::DecodeError("opus: missing audio plane"))?;
            let samples = self.scratch.iter().skip(channel).step_by(self.channels);
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
        let _ = self.decoder.reset_state();
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
