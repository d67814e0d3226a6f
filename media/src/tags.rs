//! Tags that wrap raw audio streams (mp3, ADTS AAC, sometimes FLAC): an ID3v2 tag in front,
//! and ID3v1, APEv2 and Lyrics3 tags at the end.

use std::io;

use crate::read::{ReadAt, le32, read_vec};

/// The size of an ID3v2 tag starting at `b` (header, body and footer), if `b` starts one.
pub fn id3v2_len(b: &[u8]) -> Option<u64> {
    if b.len() < 10 || &b[..3] != b"ID3" || b[3] == 0xFF || b[4] == 0xFF {
        return None;
    }
    let mut body = 0u64;
    for &byte in &b[6..10] {
        if byte & 0x80 != 0 {
            return None;
        }
        body = body << 7 | u64::from(byte);
    }
    let footer = if b[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + body + footer)
}

/// Octets taken by ID3v2 tags at the front of a file (there may be several in a row).
pub fn leading(file: &(impl ReadAt + ?Sized), size: u64) -> io::Result<u64> {
    let mut at = 0;
    while at < size {
        let head = read_vec(file, at, 10)?;
        match id3v2_len(&head) {
            Some(len) => at = at.saturating_add(len).min(size),
            None => break,
        }
    }
    Ok(at)
}

/// Octets taken by tags at the end of a file: ID3v1, APEv2 and Lyrics3v2, in any order.
pub fn trailing(file: &(impl ReadAt + ?Sized), size: u64) -> io::Result<u64> {
    let mut end = size;
    // Each pass peels one tag off the end; three kinds, so three passes find them all.
    for _ in 0..3 {
        let tail = read_vec(file, end.saturating_sub(128), 128.min(end) as usize)?;
        if let Some(len) = tag_at_end(&tail) {
            end = end.saturating_sub(len);
        } else {
            break;
        }
    }
    Ok(size - end)
}

/// The length of the tag that ends exactly where `tail` ends, if one does.
fn tag_at_end(tail: &[u8]) -> Option<u64> {
    let n = tail.len();
    if n >= 128 && &tail[n - 128..n - 125] == b"TAG" {
        return Some(128);
    }
    if n >= 32 && &tail[n - 32..n - 24] == b"APETAGEX" {
        let footer = &tail[n - 32..];
        let body = u64::from(le32(footer, 12)?);
        let flags = le32(footer, 20)?;
        let header = if flags & 0x8000_0000 != 0 { 32 } else { 0 };
        return Some(body + header);
    }
    if n >= 15 && &tail[n - 9..] == b"LYRICS200" {
        let digits = std::str::from_utf8(&tail[n - 15..n - 9]).ok()?;
        return Some(digits.parse::<u64>().ok()? + 15);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id3v2(body: usize) -> Vec<u8> {
        let mut tag = b"ID3\x04\x00\x00".to_vec();
        let b = body as u32;
        tag.extend([
            (b >> 21) as u8 & 0x7F,
            (b >> 14) as u8 & 0x7F,
            (b >> 7) as u8 & 0x7F,
            b as u8 & 0x7F,
        ]);
        tag.resize(10 + body, 0);
        tag
    }

    #[test]
    fn finds_leading_id3v2_tags() {
        let mut file = id3v2(300);
        file.extend(id3v2(5));
        file.extend([0xFF, 0xFB, 0x90, 0x00]);
        assert_eq!(leading(&file, file.len() as u64).expect("read"), 325);
        assert_eq!(
            id3v2_len(b"ID3\x04\x00\x00\x80\x00\x00\x00"),
            None,
            "not syncsafe"
        );
    }

    #[test]
    fn finds_trailing_tags_in_any_order() {
        let mut file = vec![0u8; 1000];
        let mut ape = vec![0u8; 40];
        let mut footer = b"APETAGEX".to_vec();
        footer.extend(2000u32.to_le_bytes());
        footer.extend(72u32.to_le_bytes());
        footer.extend(0u32.to_le_bytes());
        footer.extend(0x8000_0000u32.to_le_bytes());
        footer.resize(32, 0);
        ape.extend(footer);
        file.extend(&ape);
        let mut v1 = b"TAG".to_vec();
        v1.resize(128, b' ');
        file.extend(v1);
        let size = file.len() as u64;
        assert_eq!(trailing(&file, size).expect("read"), 72 + 32 + 128);
        assert_eq!(trailing(&vec![0u8; 10], 10).expect("read"), 0);
    }
}
