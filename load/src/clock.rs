//! A listener's playback clock: it plays the bytes it has received at the song's byte rate and
//! counts an underrun whenever it runs dry before the song is complete.
//!
//! Playback starts a pre-buffer after the first byte. After an underrun the listener buffers
//! again (another pre-buffer from the next byte), as a real player does, so one stall is one
//! underrun however long it lasts.

use std::time::Duration;

use tokio::time::Instant;

/// One play's clock.
#[derive(Debug, Clone)]
pub struct Clock {
    /// Bytes per second the song plays at.
    rate: f64,
    prebuffer: Duration,
    /// The song's length in bytes: once all have arrived the clock cannot starve.
    octets: u64,
    received: u64,
    /// When playback (re)started and how many bytes had arrived then.
    start: Option<(Instant, u64)>,
    underruns: u32,
}

impl Clock {
    pub fn new(rate: f64, prebuffer: Duration, octets: u64) -> Self {
        Self {
            rate,
            prebuffer,
            octets,
            received: 0,
            start: None,
            underruns: 0,
        }
    }

    /// `n` bytes arrived at `now`.
    pub fn receive(&mut self, now: Instant, n: usize) {
        if self.dry(now) {
            self.underruns += 1;
            self.start = None;
        }
        if self.start.is_none() {
            self.start = Some((now + self.prebuffer, self.received));
        }
        self.received += n as u64;
    }

    /// Listening ends at `now` (stop, switch or the end of the run): a dry buffer then is an
    /// underrun too.
    pub fn finish(&mut self, now: Instant) -> u32 {
        if self.dry(now) {
            self.underruns += 1;
        }
        self.underruns
    }

    pub fn received(&self) -> u64 {
        self.received
    }

    /// Whether the buffer ran out before `now` while the song was still incomplete.
    fn dry(&self, now: Instant) -> bool {
        let Some((start, base)) = self.start else {
            return false;
        };
        if self.received >= self.octets || self.rate <= 0.0 {
            return false;
        }
        let buffered = Duration::from_secs_f64((self.received - base) as f64 / self.rate);
        now > start + buffered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn clock() -> (Clock, Instant) {
        // 1,000 bytes a second, 200 ms pre-buffer, a 10,000-byte song.
        (Clock::new(1000.0, 200 * MS, 10_000), Instant::now())
    }

    #[test]
    fn data_ahead_of_the_playhead_never_underruns() {
        let (mut c, t) = clock();
        for i in 0..9 {
            c.receive(t + i * 1000 * MS, 1000);
        }
        assert_eq!(c.finish(t + 8500 * MS), 0);
    }

    #[test]
    fn a_gap_longer_than_the_buffer_is_one_underrun() {
        let (mut c, t) = clock();
        c.receive(t, 500); // plays from 200 ms to 700 ms
        c.receive(t + 600 * MS, 100); // in time: lasts to 800 ms
        c.receive(t + 2000 * MS, 100); // late
        c.receive(t + 2100 * MS, 100); // re-buffering, in time
        assert_eq!(c.finish(t + 2150 * MS), 1);
    }

    #[test]
    fn starving_at_the_end_counts_but_a_complete_song_does_not() {
        let (mut c, t) = clock();
        c.receive(t, 100);
        assert_eq!(c.finish(t + 1000 * MS), 1);
        let (mut c, t) = clock();
        c.receive(t, 10_000);
        assert_eq!(c.finish(t + 60_000 * MS), 0);
    }

    #[test]
    fn nothing_received_is_no_underrun() {
        let (mut c, t) = clock();
        assert_eq!(c.finish(t + 5000 * MS), 0);
    }
}
