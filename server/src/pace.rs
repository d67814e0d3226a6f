//! Pacing arithmetic: when may the n-th byte of a song be sent?

use std::time::Duration;

use tapedeck_protocol::SongInfo;

use crate::config::Pacing;

/// Bytes added to every burst: a streaming decoder holds back some input until enough follows
/// (Tapedeck's player keeps 32 KiB beyond what its demuxer has read, which reads up to 32 KiB
/// ahead). Without this slack a low-bitrate song's 3 s burst would leave it under a second of
/// decodable audio, and it would underrun right after starting.
pub const BURST_SLACK: u64 = 64 * 1024;

/// The schedule of one stream: `burst_bytes` at once, then `bytes_per_sec`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// Bytes that may be sent immediately: the burst's audio plus the file's non-audio bytes
    /// (tags and cover art come first and must not delay the first sound).
    burst_bytes: u64,
    /// The rate after the burst.
    bytes_per_sec: f64,
}

impl Schedule {
    /// The schedule for a file of `size` bytes with `info`'s bitrate and duration, or `None`
    /// (send unpaced) when pacing is off or the file's rate is unknown.
    pub fn new(pacing: Option<Pacing>, info: &SongInfo, size: u64) -> Option<Self> {
        let pacing = pacing?;
        let audio_rate = audio_bytes_per_sec(info, size)?;
        let audio_bytes = audio_rate * info.duration_ms as f64 / 1000.0;
        let overhead = (size as f64 - audio_bytes).max(0.0);
        let burst_bytes = (audio_rate * pacing.burst.as_secs_f64() + overhead) as u64 + BURST_SLACK;
        let bytes_per_sec = audio_rate * pacing.speed;
        (bytes_per_sec.is_finite() && bytes_per_sec > 0.0).then_some(Self {
            burst_bytes,
            bytes_per_sec,
        })
    }

    /// How long after the stream's start the first `sent` bytes may all have been sent.
    pub fn due(&self, sent: u64) -> Duration {
        let ahead = sent.saturating_sub(self.burst_bytes);
        Duration::from_secs_f64(ahead as f64 / self.bytes_per_sec)
    }
}

fn audio_bytes_per_sec(info: &SongInfo, size: u64) -> Option<f64> {
    if info.bitrate > 0 {
        Some(f64::from(info.bitrate) / 8.0)
    } else if info.duration_ms > 0 {
        Some(size as f64 * 1000.0 / info.duration_ms as f64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapedeck_protocol::SongId;

    fn info(bitrate: u32, duration_ms: u64) -> SongInfo {
        SongInfo {
            id: SongId(1),
            name: "x.mp3".into(),
            title: "x".into(),
            artist: String::new(),
            album: String::new(),
            duration_ms,
            format: "mp3".into(),
            sample_rate: 44_100,
            channels: 2,
            bitrate,
            size: 0,
        }
    }

    #[test]
    fn burst_then_faster_than_real_time() {
        // 320 kbit/s = 40,000 B/s for 100 s = 4,000,000 B, no tags.
        let s = Schedule::new(Some(Pacing::default()), &info(320_000, 100_000), 4_000_000);
        let s = s.expect("paced");
        assert_eq!(s.due(120_000 + BURST_SLACK), Duration::ZERO);
        assert_eq!(s.due(170_000 + BURST_SLACK), Duration::from_secs(1));
        // After the burst, the rest goes at 1.25 x 40,000 B/s.
        let rest = (4_000_000 - 120_000 - BURST_SLACK) as f64 / 50_000.0;
        assert_eq!(s.due(4_000_000), Duration::from_secs_f64(rest));
    }

    #[test]
    fn tags_and_art_are_part_of_the_burst() {
        let s = Schedule::new(Some(Pacing::default()), &info(320_000, 100_000), 5_000_000);
        assert_eq!(
            s.expect("paced").due(1_120_000 + BURST_SLACK),
            Duration::ZERO
        );
    }

    #[test]
    fn unknown_rate_or_no_pacing_is_unpaced() {
        assert_eq!(Schedule::new(None, &info(320_000, 1000), 40_000), None);
        assert_eq!(
            Schedule::new(Some(Pacing::default()), &info(0, 0), 40_000),
            None
        );
        let by_size = Schedule::new(Some(Pacing::default()), &info(0, 1000), 40_000);
        assert!(by_size.is_some());
    }
}
