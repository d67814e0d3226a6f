//! What an mp4 sample description (`stsd`'s first entry) says a decoder needs: the codec, its
//! rate, and its configuration (AAC's AudioSpecificConfig, ALAC's magic cookie, FLAC's
//! STREAMINFO, Opus's identification header). Layouts from ISO/IEC 14496-12 and -14, Apple's
//! ALAC and QuickTime descriptions, and the FLAC and Opus mp4 mappings. PCM in mp4 (`lpcm`,
//! `sowt`, `twos`), which symphonia's reader also read, is refused with a clear error: no
//! music file seen here holds it, and a table of one sample a frame is not worth the bytes.

use symphonia::core::audio::{Channels, Position};
use symphonia::core::codecs::audio::AudioCodecParameters;
use symphonia::core::codecs::audio::well_known::{
    CODEC_ID_AAC, CODEC_ID_ALAC, CODEC_ID_MP3, CODEC_ID_OPUS,
};
use tapedeck_media::mp4::child;
use tapedeck_media::read::be32;

/// The parameters of the description `kind` (`mp4a`, `alac`, ...) with `payload`, in a track
/// whose timescale is `timescale`; the error says what is missing or not supported.
pub fn codec_params(
    kind: [u8; 4],
    payload: &[u8],
    timescale: u32,
) -> Result<AudioCodecParameters, String> {
    let children = children_of(payload).ok_or("a broken sample description")?;
    let rate = stated_rate(payload).unwrap_or(timescale);
    let mut params = AudioCodecParameters::new();
    match &kind {
        b"mp4a" => {
            let esds = find(children, b"esds").ok_or("no esds in an mp4a description")?;
            let (object, config) = decoder_config(esds).ok_or("a broken esds")?;
            match object {
                0x40 | 0x66..=0x68 => {
                    let rate = aac_rate(&config).unwrap_or(rate);
                    params.for_codec(CODEC_ID_AAC).with_sample_rate(rate);
                    // Without a configuration the decoder takes the rate and the channels.
                    match payload.get(16..18) {
                        _ if config.len() >= 2 => {
                            params.with_extra_data(config.into_boxed_slice());
                        }
                        Some(&[hi, lo]) => {
                            let n = u16::from_be_bytes([hi, lo]);
                            params.with_channels(layout(u8::try_from(n).unwrap_or(u8::MAX)));
                        }
                        _ => {}
                    }
                }
                0x69 | 0x6B => {
                    params.for_codec(CODEC_ID_MP3).with_sample_rate(rate);
                }
                other => return Err(format!("object type {other:#04x} in mp4a")),
            }
        }
        b".mp3" => {
            params.for_codec(CODEC_ID_MP3).with_sample_rate(rate);
        }
        b"alac" => {
            // A full box: version and flags, then the 24-octet cookie (48 with a channel
            // layout).
            let cookie = find(children, b"alac").and_then(|b| b.get(4..));
            let cookie = cookie.filter(|c| matches!(c.len(), 24 | 48));
            let cookie = cookie.ok_or("no ALAC magic cookie")?;
            let rate = be32(cookie, 20).unwrap_or(rate);
            params.for_codec(CODEC_ID_ALAC).with_sample_rate(rate);
            params.with_extra_data(cookie.into());
        }
        b"fLaC" => {
            // A full box, then metadata blocks: STREAMINFO first.
            let dfla = find(children, b"dfLa").ok_or("no dfLa in a FLAC description")?;
            let header = be32(dfla, 4).ok_or("a broken dfLa")?;
            let len = usize::try_from(header & 0x00FF_FFFF).unwrap_or(usize::MAX);
            let info = dfla.get(8..8 + len).filter(|_| header >> 24 & 0x7F == 0);
            let info = info.ok_or("no STREAMINFO in dfLa")?;
            (params, _) = crate::demux::flac::stream_info(info).map_err(|e| e.to_string())?;
        }
        b"Opus" => {
            let dops = find(children, b"dOps").ok_or("no dOps in an Opus description")?;
            let head = opus_head(dops).ok_or("a broken dOps")?;
            let channels = head[9];
            params.for_codec(CODEC_ID_OPUS).with_sample_rate(48_000);
            params.with_channels(layout(channels));
            params.with_extra_data(head.into_boxed_slice());
        }
        other => {
            let name = String::from_utf8_lossy(other);
            return Err(format!("the {name} codec in mp4"));
        }
    }
    Ok(params)
}

/// The Ogg identification header ("OpusHead", little-endian, version 1) that an mp4 `dOps`
/// payload (big-endian, version 0) states: what the Opus decoder reads its pre-skip from.
fn opus_head(dops: &[u8]) -> Option<Vec<u8>> {
    let field = |at: usize, len: usize| dops.get(at..at + len);
    let mut head = b"OpusHead".to_vec();
    head.push(1);
    head.push(*dops.get(1)?);
    // Pre-skip, input sample rate, output gain: each turned to little-endian.
    for (at, len) in [(2, 2), (4, 4), (8, 2)] {
        head.extend(field(at, len)?.iter().rev());
    }
    // The mapping family, and for families other than 0 the stream counts and the mapping.
    head.extend(dops.get(10..)?);
    (head.len() >= 19).then_some(head)
}

/// The layout of `n` channels, as Vorbis and Opus order them for one and two.
fn layout(n: u8) -> Channels {
    match n {
        1 => Channels::Positioned(Position::FRONT_CENTER),
        2 => Channels::Positioned(Position::FRONT_LEFT | Position::FRONT_RIGHT),
        n => Channels::Discrete(u16::from(n)),
    }
}

/// The sample rate an audio sample entry states: 16.16 fixed point at 24 (versions 0 and
/// 1), a 64-bit float at 32 in a QuickTime version 2 description; `None` where it says 0.
fn stated_rate(payload: &[u8]) -> Option<u32> {
    let rate = if payload.get(8..10)? == [0, 2] {
        let bits = u64::from(be32(payload, 32)?) << 32 | u64::from(be32(payload, 36)?);
        let rate = f64::from_bits(bits);
        (rate.is_finite() && rate >= 1.0 && rate <= f64::from(u32::MAX)).then_some(rate as u32)?
    } else {
        be32(payload, 24)? >> 16
    };
    (rate > 0).then_some(rate)
}

/// The boxes after an audio sample entry's fields: 28 octets, 16 more in a QuickTime version 1
/// description, 36 more in version 2.
fn children_of(payload: &[u8]) -> Option<&[u8]> {
    let version = payload.get(8..10)?;
    let fields = match version {
        [0, 1] => 28 + 16,
        [0, 2] => 28 + 36,
        _ => 28,
    };
    payload.get(fields..)
}

/// The payload of the box `kind` among `boxes`, or inside a QuickTime `wave` box among them.
pub fn find<'a>(boxes: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    child(boxes, kind).or_else(|| child(child(boxes, b"wave")?, kind))
}

/// The object type and the decoder specific information (AAC's AudioSpecificConfig) of an
/// `esds` payload: a full box, then an ES descriptor holding a decoder config descriptor.
fn decoder_config(esds: &[u8]) -> Option<(u8, Vec<u8>)> {
    let (tag, es) = descriptor(esds.get(4..)?)?;
    if tag != 0x03 {
        return None;
    }
    // ES_ID, then flags saying which optional fields follow.
    let flags = *es.get(2)?;
    let mut at = 3;
    if flags & 0x80 != 0 {
        at += 2;
    }
    if flags & 0x40 != 0 {
        at += 1 + usize::from(*es.get(at)?);
    }
    if flags & 0x20 != 0 {
        at += 2;
    }
    let (tag, config) = descriptor(es.get(at..)?)?;
    if tag != 0x04 {
        return None;
    }
    let object = *config.first()?;
    // Object type, stream type, buffer size, maximum and average bit rates: 13 octets.
    let specific = descriptor(config.get(13..)?)
        .filter(|(tag, _)| *tag == 0x05)
        .map(|(_, info)| info.to_vec())
        .unwrap_or_default();
    Some((object, specific))
}

/// A descriptor at the start of `bytes`: its tag and body (its length in up to four octets
/// of seven bits).
fn descriptor(bytes: &[u8]) -> Option<(u8, &[u8])> {
    let tag = *bytes.first()?;
    let mut len = 0usize;
    let mut at = 1;
    loop {
        let byte = *bytes.get(at)?;
        len = len << 7 | usize::from(byte & 0x7F);
        at += 1;
        if byte & 0x80 == 0 || at > 4 {
            break;
        }
    }
    Some((tag, bytes.get(at..at.checked_add(len)?)?))
}

/// The sampling rate an AudioSpecificConfig states.
fn aac_rate(config: &[u8]) -> Option<u32> {
    const RATES: [u32; 13] = [
        96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025,
        8_000, 7_350,
    ];
    // Five bits of object type (31 escapes to six more), four of rate index; index 15
    // escapes to 24 bits of rate.
    let mut bits = 0u64;
    for &byte in config.iter().take(6) {
        bits = bits << 8 | u64::from(byte);
    }
    let len = 8 * config.len().min(6);
    let field = |from: usize, width: usize| -> Option<u64> {
        let end = from.checked_add(width).filter(|end| *end <= len)?;
        Some((bits >> (len - end)) & ((1 << width) - 1))
    };
    let at = if field(0, 5)? == 31 { 11 } else { 5 };
    match field(at, 4)? {
        0x0F => u32::try_from(field(at + 4, 24)?).ok(),
        i => RATES.get(usize::try_from(i).ok()?).copied(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_and_rates_are_read() {
        // ES descriptor (tag 3, 22 octets) with a decoder config (tag 4) and its AAC-LC
        // 44.1 kHz stereo AudioSpecificConfig (tag 5: 0x12 0x10).
        let esds = [
            0, 0, 0, 0, 0x03, 0x16, 0, 1, 0, 0x04, 0x11, 0x40, 0x15, 0, 0, 0, 0, 1, 0xF4, 0, 0, 1,
            0xF4, 0, 0x05, 0x02, 0x12, 0x10,
        ];
        let (object, config) = decoder_config(&esds).expect("a config");
        assert_eq!((object, config.as_slice()), (0x40, &[0x12, 0x10][..]));
        assert_eq!(aac_rate(&config), Some(44_100));
        // Rate index 15: 24 bits of rate (96,000) after the object type and the index.
        let explicit = (2u64 << 35 | 0xF << 31 | 96_000 << 7).to_be_bytes();
        assert_eq!(aac_rate(&explicit[3..]), Some(96_000));
        // Object type 31 escapes to six more bits before the index (3: 48 kHz).
        let escaped = (31u64 << 43 | 3 << 37 | 3 << 33).to_be_bytes();
        assert_eq!(aac_rate(&escaped[2..]), Some(48_000));
        assert_eq!(
            descriptor(&[0x05, 0x80, 0x80, 0x02, 7, 8]),
            Some((5, &[7, 8][..]))
        );
        assert_eq!(descriptor(&[0x05, 0x09, 1]), None, "longer than the bytes");
        // dOps: version 0, 2 channels, pre-skip 312, 48 kHz, gain -256, family 0.
        let dops = [0, 2, 0x01, 0x38, 0, 0, 0xBB, 0x80, 0xFF, 0x00, 0];
        let head = opus_head(&dops).expect("a head");
        assert_eq!(&head[..8], b"OpusHead");
        assert_eq!(
            &head[8..],
            &[1, 2, 0x38, 0x01, 0x80, 0xBB, 0, 0, 0x00, 0xFF, 0]
        );
        assert_eq!(opus_head(&dops[..9]), None, "too short");
    }
}
