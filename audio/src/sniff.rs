//! Recognising a stream's container from its first bytes.

use tapedeck_media::Format;
use tapedeck_media::read::{le16, le32};

/// The bytes needed before [`sniff`] can decide.
pub const SNIFF_LEN: usize = 12;

/// Recognises the container from the start of a stream (after any ID3v2 tag). `None` when the
/// bytes match no known container or fewer than [`SNIFF_LEN`] are given.
pub fn sniff(head: &[u8]) -> Option<Format> {
    let head = head.get(..SNIFF_LEN)?;
    match head {
        // An ID3v2 tag leads MPEG audio (a tag before another container is skipped first).
        [b'I', b'D', b'3', ..] => Some(Format::Mp3),
        // ADTS: a 12-bit sync and layer 0, which MPEG audio reserves.
        [0xff, b, ..] if b & 0xf6 == 0xf0 => Some(Format::Adts),
        [0xff, b, ..] if b & 0xe0 == 0xe0 && b & 0x06 != 0 => Some(Format::Mp3),
        [b'f', b'L', b'a', b'C', ..] => Some(Format::Flac),
        [b'O', b'g', b'g', b'S', ..] => Some(Format::Ogg),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'A', b'V', b'E'] => Some(Format::Wav),
        [
            b'F',
            b'O',
            b'R',
            b'M',
            _,
            _,
            _,
            _,
            b'A',
            b'I',
            b'F',
            b'F' | b'C',
        ] => Some(Format::Aiff),
        [_, _, _, _, b'f', b't', b'y', b'p', ..] => Some(Format::Mp4),
        _ => None,
    }
}

/// Whether the format chunk of a RIFF WAVE stream starting `head` states a frame that fits in
/// 16 bits (channels × octets a sample): symphonia's WAV reader multiplies them in 16 bits,
/// which overflows on a hostile header (found by fuzzing). `true` when no format chunk is in
/// `head`: the reader then decides.
pub fn wav_frame_fits(head: &[u8]) -> bool {
    let (le16, le32) = (|at| le16(head, at), |at| le32(head, at));
    let mut at = 12usize;
    while let (Some(id), Some(len)) = (head.get(at..at + 4), le32(at + 4)) {
        if id == b"fmt " {
            let (Some(channels), Some(bits)) = (le16(at + 10), le16(at + 22)) else {
                return true;
            };
            return u32::from(channels) * u32::from(bits / 8) <= u32::from(u16::MAX);
        }
        // Chunks are padded to an even length.
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        at = at
            .saturating_add(8)
            .saturating_add(len)
            .saturating_add(len & 1);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::{Format, sniff, wav_frame_fits};

    #[test]
    fn a_wav_frame_too_wide_for_16_bits_is_told() {
        let wav = |channels: u16, bits: u16| {
            let mut head = b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0".to_vec();
            head.extend(channels.to_le_bytes());
            head.extend([0; 10]);
            head.extend(bits.to_le_bytes());
            head
        };
        assert!(wav_frame_fits(&wav(2, 16)));
        assert!(wav_frame_fits(&wav(8, 32)));
        assert!(!wav_frame_fits(&wav(u16::MAX, 32)));
        assert!(wav_frame_fits(b"RIFF\x24\0\0\0WAVE"), "no format chunk yet");
    }

    #[test]
    fn sniffs_the_demo_formats() {
        let cases: &[(&[u8], Option<Format>)] = &[
            (b"ID3\x04\0\0\0\0\0\0\0\0", Some(Format::Mp3)),
            (b"\xff\xfb\x90\x00\0\0\0\0\0\0\0\0", Some(Format::Mp3)),
            (b"\xff\xf1\x50\x80\0\0\0\0\0\0\0\0", Some(Format::Adts)),
            (b"fLaC\0\0\0\x22\0\0\0\0", Some(Format::Flac)),
            (b"OggS\0\x02\0\0\0\0\0\0", Some(Format::Ogg)),
            (b"RIFF\x24\0\0\0WAVE", Some(Format::Wav)),
            (b"FORM\0\0\0\x20AIFF", Some(Format::Aiff)),
            (b"FORM\0\0\0\x20AIFC", Some(Format::Aiff)),
            (b"\0\0\0\x20ftypM4A ", Some(Format::Mp4)),
            (b"RIFF\x24\0\0\0AVI ", None),
            (b"hello, world", None),
            (b"ID3", None),
            (b"", None),
        ];
        for (head, want) in cases {
            assert_eq!(sniff(head), *want, "{head:?}");
        }
    }
}
