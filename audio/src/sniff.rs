//! Recognising a stream's container from its first bytes.

/// A container format, as recognised from the first bytes of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// MPEG audio, with or without a leading ID3v2 tag.
    Mp3,
    /// Native FLAC.
    Flac,
    /// Ogg (Vorbis, Opus, FLAC in Ogg).
    Ogg,
    /// RIFF WAVE.
    Wav,
    /// ISO base media (mp4, m4a).
    Mp4,
}

impl Container {
    /// The bytes needed before [`Container::sniff`] can decide.
    pub const SNIFF_LEN: usize = 12;

    /// Recognises the container from the start of a stream. `None` when the bytes match no
    /// known container or fewer than [`Container::SNIFF_LEN`] are given.
    pub fn sniff(head: &[u8]) -> Option<Self> {
        let head = head.get(..Self::SNIFF_LEN)?;
        match head {
            [b'I', b'D', b'3', ..] => Some(Self::Mp3),
            [0xff, b, ..] if b & 0xe0 == 0xe0 => Some(Self::Mp3),
            [b'f', b'L', b'a', b'C', ..] => Some(Self::Flac),
            [b'O', b'g', b'g', b'S', ..] => Some(Self::Ogg),
            [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'A', b'V', b'E'] => Some(Self::Wav),
            [_, _, _, _, b'f', b't', b'y', b'p', ..] => Some(Self::Mp4),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Container;

    #[test]
    fn sniffs_the_demo_formats() {
        let cases: &[(&[u8], Option<Container>)] = &[
            (b"ID3\x04\0\0\0\0\0\0\0\0", Some(Container::Mp3)),
            (b"\xff\xfb\x90\x00\0\0\0\0\0\0\0\0", Some(Container::Mp3)),
            (b"fLaC\0\0\0\x22\0\0\0\0", Some(Container::Flac)),
            (b"OggS\0\x02\0\0\0\0\0\0", Some(Container::Ogg)),
            (b"RIFF\x24\0\0\0WAVE", Some(Container::Wav)),
            (b"\0\0\0\x20ftypM4A ", Some(Container::Mp4)),
            (b"RIFF\x24\0\0\0AVI ", None),
            (b"hello, world", None),
            (b"ID3", None),
            (b"", None),
        ];
        for (head, want) in cases {
            assert_eq!(Container::sniff(head), *want, "{head:?}");
        }
    }
}
