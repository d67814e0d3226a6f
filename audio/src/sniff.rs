//! Recognising a stream's container from its first bytes.

use tapedeck_media::Format;

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
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'A', b'V', b'E']
        | [b'R', b'F', b'6', b'4', _, _, _, _, b'W', b'A', b'V', b'E'] => Some(Format::Wav),
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

#[cfg(test)]
mod tests {
    use super::{Format, sniff};

    #[test]
    fn sniffs_the_demo_formats() {
        let cases: &[(&[u8], Option<Format>)] = &[
            (b"ID3\x04\0\0\0\0\0\0\0\0", Some(Format::Mp3)),
            (b"\xff\xfb\x90\x00\0\0\0\0\0\0\0\0", Some(Format::Mp3)),
            (b"\xff\xf1\x50\x80\0\0\0\0\0\0\0\0", Some(Format::Adts)),
            (b"fLaC\0\0\0\x22\0\0\0\0", Some(Format::Flac)),
            (b"OggS\0\x02\0\0\0\0\0\0", Some(Format::Ogg)),
            (b"RIFF\x24\0\0\0WAVE", Some(Format::Wav)),
            (b"RF64\xff\xff\xff\xffWAVE", Some(Format::Wav)),
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
