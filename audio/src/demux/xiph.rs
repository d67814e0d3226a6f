//! What the first packets of an Ogg logical stream say, for Vorbis, Opus and FLAC (the
//! mappings of the Vorbis I specification, RFC 7845 and the FLAC-in-Ogg mapping): the codec
//! parameters, which packets are headers, and how many samples each audio packet adds, with
//! the samples to drop first (Vorbis's first packet). Durations are counted as symphonia's
//! Ogg reader counts them, so that the server's seek plans (tapedeck_media) hold here too.

use symphonia::core::audio::Channels;
use symphonia::core::codecs::audio::AudioCodecParameters;
use symphonia::core::codecs::audio::well_known::{CODEC_ID_OPUS, CODEC_ID_VORBIS};
use tapedeck_media::flac::FrameHeader;
use tapedeck_media::ogg::vorbis::Blocks;
use tapedeck_media::read::le32;

/// A logical stream's codec, and where in its headers it is.
pub enum Codec {
    Vorbis {
        /// The identification header.
        ident: Vec<u8>,
        /// Whether the setup header has come, and the block sizes it gives.
        setup: bool,
        blocks: Option<Blocks>,
        /// The block size of the audio packet before.
        before: Option<u32>,
    },
    Opus {
        /// Whether the comment header (`OpusTags`) has gone by.
        tags: bool,
    },
    Flac,
}

/// What a packet is.
pub enum Packet {
    /// A header, with the codec parameters when it completes them; or an empty packet, which
    /// is dropped as symphonia drops it.
    Header(Option<AudioCodecParameters>),
    /// Audio: the samples it spans, and how many of them to drop first.
    Audio { dur: u64, discard: u64 },
}

impl Codec {
    /// The codec a logical stream's first packet names, and the parameters it completes.
    pub fn identify(packet: &[u8]) -> Option<(Self, Option<AudioCodecParameters>)> {
        if packet.len() == 30 && packet.starts_with(b"\x01vorbis") {
            le32(packet, 12).filter(|&r| r > 0)?;
            let codec = Self::Vorbis {
                ident: packet.to_vec(),
                setup: false,
                blocks: None,
                before: None,
            };
            return Some((codec, None));
        }
        let mut params = AudioCodecParameters::new();
        if packet.len() >= 19 && packet.starts_with(b"OpusHead") {
            params
                .for_codec(CODEC_ID_OPUS)
                .with_sample_rate(48_000)
                .with_channels(Channels::Discrete(u16::from(packet[9])))
                .with_extra_data(Box::from(packet));
            return Some((Self::Opus { tags: false }, Some(params)));
        }
        // 0x7F "FLAC", mapping version 1, a header count, "fLaC" and the STREAMINFO block.
        if packet.len() == 51 && packet.starts_with(b"\x7fFLAC\x01") && &packet[9..13] == b"fLaC" {
            let (params, _) = super::flac::stream_info(&packet[17..]).ok()?;
            return Some((Self::Flac, Some(params)));
        }
        None
    }

    /// What the next packet of the stream is.
    pub fn packet(&mut self, packet: &[u8]) -> Packet {
        let Some(&first) = packet.first() else {
            return Packet::Header(None);
        };
        match self {
            Self::Vorbis {
                ident,
                setup,
                blocks,
                ..
            } if first & 1 == 1 => {
                if first != 5 || *setup {
                    return Packet::Header(None);
                }
                // Without block sizes the packets are timed as 0 long, as symphonia times
                // them; the decoder has the last word on the setup header.
                *setup = true;
                *blocks = Blocks::parse(ident, packet);
                let mut params = AudioCodecParameters::new();
                params
                    .for_codec(CODEC_ID_VORBIS)
                    .with_sample_rate(le32(ident, 12).unwrap_or(0))
                    .with_channels(Channels::Discrete(u16::from(ident[11])))
                    .with_extra_data([&ident[..], packet].concat().into_boxed_slice());
                Packet::Header(Some(params))
            }
            Self::Vorbis { blocks, before, .. } => {
                let Some(block) = blocks.as_ref().and_then(|b| b.block(first)) else {
                    return Packet::Audio { dur: 0, discard: 0 };
                };
                let (dur, discard) = match before.replace(block) {
                    Some(before) => (Blocks::added(before, block), 0),
                    None => (u64::from(block / 2), u64::from(block / 2)),
                };
                Packet::Audio { dur, discard }
            }
            Self::Opus { tags } if !*tags => {
                *tags = packet.starts_with(b"OpusTags");
                Packet::Header(None)
            }
            Self::Opus { .. } => Packet::Audio {
                dur: opus_samples(packet),
                discard: 0,
            },
            Self::Flac if first == 0xFF => Packet::Audio {
                dur: FrameHeader::parse(packet).map_or(0, |h| u64::from(h.block_size)),
                discard: 0,
            },
            Self::Flac => Packet::Header(None),
        }
    }
}

/// The samples (at 48 kHz) an Opus packet decodes to, from its TOC byte (RFC 6716, 3.1).
fn opus_samples(packet: &[u8]) -> u64 {
    let Some(&toc) = packet.first() else {
        return 0;
    };
    let config = toc >> 3;
    // 2.5, 5, 10, 20, 40 or 60 ms frames, in units of 2.5 ms: SILK 10-60 ms, hybrid 10-20,
    // CELT 2.5-20.
    let quarter_ms: u64 = match config {
        0..=11 => [4, 8, 16, 24][usize::from(config % 4)],
        12..=15 => [4, 8][usize::from(config % 2)],
        _ => [1, 2, 4, 8][usize::from(config % 4)],
    };
    // Code 3 counts its frames in the next octet's low 6 bits (symphonia reads 5, which
    // differs only for packets of 32 frames or more).
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => packet.get(1).map_or(0, |b| u64::from(b & 0x3F)),
    };
    quarter_ms * 120 * frames
}

#[cfg(test)]
mod tests {
    use super::{Codec, Packet, opus_samples};

    /// A setup header that does not parse, then another one, then an empty packet: headers
    /// and nothing else, never a panic (a review found the second setup header panicking).
    #[test]
    fn odd_vorbis_headers_are_taken_calmly() {
        let mut ident = b"\x01vorbis\0\0\0\0\x02\x44\xac\0\0".to_vec();
        ident.resize(30, 0);
        let (mut codec, params) = Codec::identify(&ident).expect("vorbis");
        assert!(params.is_none(), "the setup header completes them");
        assert!(matches!(
            codec.packet(b"\x05vorbis\0"),
            Packet::Header(Some(_))
        ));
        assert!(matches!(
            codec.packet(b"\x05vorbis\0"),
            Packet::Header(None)
        ));
        assert!(matches!(codec.packet(b""), Packet::Header(None)));
        assert!(matches!(
            codec.packet(b"\x00"),
            Packet::Audio { dur: 0, discard: 0 }
        ));
    }

    #[test]
    fn opus_packet_lengths() {
        // CELT 20 ms, one frame; SILK 60 ms, two frames; CELT 2.5 ms, code 3 with 48 frames.
        assert_eq!(opus_samples(&[31 << 3]), 960);
        assert_eq!(opus_samples(&[(3 << 3) | 1]), 2 * 2880);
        assert_eq!(opus_samples(&[(16 << 3) | 3, 48]), 48 * 120);
        assert_eq!(opus_samples(&[]), 0);
    }
}
