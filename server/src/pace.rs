//! Pacing (PROTOCOL.md section 9): when may an octet of a song be sent?
//!
//! By the media time at which a player needs it, as the stream's [`Clock`] tells: octets
//! needed by media time `burst + speed * t` go out by `t` seconds after the claim. Everything
//! before the first frame (tags, cover art, an index) is needed at time 0, so it is part of
//! the burst whatever its size; a loud passage of a VBR file is sent as fast as it plays; and
//! a file whose clock knows nothing (no frame found) is not held back at all.

use std::time::Duration;

use tapedeck_media::Clock;

use crate::config::Pacing;

/// Octets sent ahead of the media clock: a streaming decoder holds back some input until more
/// follows (Tapedeck's player keeps 32 KiB beyond what its demuxer has read, which reads up
/// to 32 KiB ahead). Without it a low-bitrate song's burst would leave the player short of
/// decodable audio right after starting.
pub const BURST_SLACK: u64 = 64 * 1024;

/// The schedule of one stream.
#[derive(Debug)]
pub struct Pacer {
    clock: Clock,
    /// Media seconds sent at once.
    burst: f64,
    /// Media seconds sent per second after the burst.
    speed: f64,
}

impl Pacer {
    pub fn new(pacing: Pacing, clock: Clock) -> Self {
        Self {
            clock,
            burst: pacing.burst.as_secs_f64(),
            speed: pacing.speed.max(f64::MIN_POSITIVE),
        }
    }

    /// Whether the pacer must see the octets ([`Pacer::feed`]) before it can time them.
    pub fn needs_octets(&self) -> bool {
        self.clock.needs_octets()
    }

    /// The stream's next octets, in order, at least up to every offset asked about.
    pub fn feed(&mut self, octets: &[u8]) {
        self.clock.feed(octets);
    }

    /// How long after the claim the octets from `offset` on may start to go out. Offsets
    /// asked about must not decrease.
    pub fn due(&mut self, offset: u64) -> Duration {
        let needed = self.clock.time_at(offset.saturating_sub(BURST_SLACK));
        let wait = (needed - self.burst) / self.speed;
        if wait.is_finite() && wait > 0.0 {
            Duration::try_from_secs_f64(wait).unwrap_or(Duration::MAX)
        } else {
            Duration::ZERO
        }
    }
}

/// The schedule of a whole file as the server sends it: (offset, due) for each chunk of
/// `chunk` octets. What the tests check the pacing guarantee against.
pub fn schedule(
    path: &std::path::Path,
    pacing: Pacing,
    chunk: usize,
) -> Result<Vec<(u64, Duration)>, tapedeck_media::MediaError> {
    let bytes = std::fs::read(path)?;
    let size = bytes.len() as u64;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    let clock = match tapedeck_media::Format::from_extension(ext) {
        Some(format) => Clock::open(format, bytes.as_slice(), size)?,
        None => Clock::unknown(),
    };
    let mut pacer = Pacer::new(pacing, clock);
    let mut out = Vec::new();
    for (i, piece) in bytes.chunks(chunk.max(1)).enumerate() {
        pacer.feed(piece);
        let offset = (i * chunk.max(1)) as u64;
        out.push((offset, pacer.due(offset)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapedeck_media::Format;

    /// 10 s of 16-bit stereo at 44.1 kHz, after a 44-octet header.
    fn wav_clock() -> Clock {
        let mut wav = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x02\0".to_vec();
        wav.extend(44_100u32.to_le_bytes());
        wav.extend(176_400u32.to_le_bytes());
        wav.extend(b"\x04\0\x10\0data");
        wav.extend(1_764_000u32.to_le_bytes());
        wav.resize(44 + 1_764_000, 0);
        Clock::open(Format::Wav, wav.as_slice(), wav.len() as u64).expect("clock")
    }

    #[test]
    fn the_burst_then_faster_than_real_time() {
        let mut pacer = Pacer::new(Pacing::default(), wav_clock());
        // Header, 3 s of audio and the slack go at once.
        let burst_end = 44 + 3 * 176_400 + BURST_SLACK;
        assert_eq!(pacer.due(burst_end), Duration::ZERO);
        // Media second 4 is due 0.8 s in (1 s past the burst, at 1.25 x).
        let due = pacer.due(44 + 4 * 176_400 + BURST_SLACK);
        assert!((due.as_secs_f64() - 0.8).abs() < 1e-9, "{due:?}");
    }

    #[test]
    fn a_clock_that_knows_nothing_sends_everything_at_once() {
        let mut pacer = Pacer::new(Pacing::default(), Clock::unknown());
        assert_eq!(pacer.due(u64::MAX), Duration::ZERO);
    }
}
