//! Positioned reads, the only I/O this crate does, so that the same code runs over a file, a
//! byte slice in a test, or anything a fuzzer makes up.

use std::io;

/// Something that can be read at any offset without moving a cursor (like `pread(2)`).
pub trait ReadAt {
    /// Reads into `buf` from `offset`; returns how many octets were read, 0 at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
}

impl ReadAt for [u8] {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let Ok(start) = usize::try_from(offset) else {
            return Ok(0);
        };
        let Some(rest) = self.get(start..) else {
            return Ok(0);
        };
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }
}

impl ReadAt for Vec<u8> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.as_slice().read_at(buf, offset)
    }
}

#[cfg(unix)]
impl ReadAt for std::fs::File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }
}

#[cfg(windows)]
impl ReadAt for std::fs::File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::windows::fs::FileExt::seek_read(self, buf, offset)
    }
}

/// Reads as much of `buf` as the source holds from `offset`; returns how many octets that was
/// (fewer than `buf.len()` only at the end).
pub fn read_full(
    source: &(impl ReadAt + ?Sized),
    buf: &mut [u8],
    offset: u64,
) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match source.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Reads up to `len` octets from `offset` into a fresh vector (shorter at the end).
pub fn read_vec(source: &(impl ReadAt + ?Sized), offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; len];
    let n = read_full(source, &mut buf, offset)?;
    buf.truncate(n);
    Ok(buf)
}

/// Big- and little-endian integers from a slice, `None` when it is too short.
pub fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

pub fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

pub fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

pub fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

pub fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

pub fn le64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_read_at_any_offset() {
        let data = b"hello".to_vec();
        assert_eq!(read_vec(&data, 1, 3).expect("read"), b"ell");
        assert_eq!(read_vec(&data, 3, 10).expect("read"), b"lo");
        assert!(read_vec(&data, 9, 2).expect("read").is_empty());
        assert!(read_vec(&data, u64::MAX, 2).expect("read").is_empty());
    }

    #[test]
    fn integers_need_enough_bytes() {
        assert_eq!(be32(&[0, 0, 1, 0], 0), Some(256));
        assert_eq!(le16(&[1, 0], 0), Some(1));
        assert_eq!(be32(&[0, 0, 1], 0), None);
        assert_eq!(le64(&[0; 8], 1), None);
    }
}
