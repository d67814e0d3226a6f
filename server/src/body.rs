//! What one play sends: octets the server made up (a rewritten header) and ranges of the song
//! file, in order, as `tapedeck_media::seek` planned them: for a plain play the whole file
//! (an mp4 with its index moved first), for a play from a position what decodes from there.

use std::io;

use tapedeck_media::ReadAt;
use tapedeck_media::seek::Part;

/// A play's octets.
#[derive(Debug)]
pub struct Body {
    /// The song file, opened before the reply; `None` for a body made whole in memory (a
    /// picture), which has no part of a file.
    pub file: Option<std::fs::File>,
    pub parts: Vec<Part>,
}

impl Body {
    /// A body of `bytes` made in memory.
    pub fn made(bytes: Vec<u8>) -> Self {
        Self {
            file: None,
            parts: vec![Part::Made(bytes)],
        }
    }

    /// The file the body's file parts are read from.
    pub fn file(&self) -> io::Result<&std::fs::File> {
        self.file
            .as_ref()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "a body without a file"))
    }

    /// The octets in all: what the `port` reply announces.
    pub fn len(&self) -> u64 {
        self.parts.iter().map(Part::len).sum()
    }
}

/// The body read as one stream, so a media clock can walk it as it is sent.
impl ReadAt for Body {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let mut start = 0u64;
        for part in &self.parts {
            let len = part.len();
            if offset < start + len {
                let within = offset - start;
                let room = usize::try_from(len - within)
                    .unwrap_or(usize::MAX)
                    .min(buf.len());
                return match part {
                    Part::Made(bytes) => {
                        let at = usize::try_from(within).unwrap_or(usize::MAX);
                        buf[..room].copy_from_slice(&bytes[at..at + room]);
                        Ok(room)
                    }
                    Part::File(range) => {
                        self.file()?.read_at(&mut buf[..room], range.start + within)
                    }
                };
            }
            start += len;
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_across_parts() {
        let mut file = tempfile::tempfile().expect("tempfile");
        std::io::Write::write_all(&mut file, b"0123456789").expect("write");
        let body = Body {
            file: Some(file),
            parts: vec![
                Part::Made(b"ab".to_vec()),
                Part::File(4..8),
                Part::Made(b"z".to_vec()),
            ],
        };
        assert_eq!(body.len(), 7);
        let all = tapedeck_media::read::read_vec(&body, 0, 100).expect("read");
        assert_eq!(all, b"ab4567z");
        let mid = tapedeck_media::read::read_vec(&body, 3, 3).expect("read");
        assert_eq!(mid, b"567");
    }
}
