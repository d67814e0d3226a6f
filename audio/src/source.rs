//! The bytes pushed so far, as a symphonia media source: not seekable, no length, and a read
//! with nothing buffered returns 0 bytes (symphonia retries a source on a later read, so this is
//! "not yet", not "never" -- the decoder only reads when enough is buffered, see `decoder.rs`).

use std::collections::VecDeque;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex, PoisonError};

use symphonia::core::io::MediaSource;

/// The buffer shared by the decoder (which pushes) and the source (which symphonia reads).
#[derive(Debug, Default)]
pub struct Shared {
    /// Bytes pushed and not yet read by symphonia.
    pub unread: VecDeque<u8>,
    /// Whether the input is complete.
    pub finished: bool,
}

impl Shared {
    /// The first `n` unread bytes (fewer if fewer are buffered).
    pub fn head(&self, n: usize) -> Vec<u8> {
        self.unread.iter().take(n).copied().collect()
    }
}

/// A handle on the shared buffer.
#[derive(Debug, Clone, Default)]
pub struct Input(Arc<Mutex<Shared>>);

impl Input {
    /// Runs `f` on the shared buffer. The lock is never held across a panic point that could
    /// poison it for good, and a poisoned lock still holds consistent bytes.
    pub fn with<T>(&self, f: impl FnOnce(&mut Shared) -> T) -> T {
        let mut shared = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut shared)
    }
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.with(|shared| {
            let n = buf.len().min(shared.unread.len());
            for (dst, src) in buf.iter_mut().zip(shared.unread.drain(..n)) {
                *dst = src;
            }
            Ok(n)
        })
    }
}

impl Seek for Input {
    fn seek(&mut self, _: SeekFrom) -> io::Result<u64> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "a network stream cannot seek",
        ))
    }
}

impl MediaSource for Input {
    fn is_seekable(&self) -> bool {
        false
    }

    fn byte_len(&self) -> Option<u64> {
        None
    }
}
