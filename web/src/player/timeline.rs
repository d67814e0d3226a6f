//! Where scheduled audio sits on the audio clock, counted in whole frames so that consecutive
//! buffers join exactly, with no rounding drift however many there are.

/// Frames scheduled from a start frame on, at one sample rate. Times are computed from whole
/// frame counts, so every buffer starts exactly on a sample: browsers start sources with
/// sub-sample accuracy, and a start between samples would be interpolated.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    rate: f64,
    /// The context frame at which the first scheduled frame plays.
    first: u64,
    /// Frames scheduled so far.
    frames: u64,
}

impl Timeline {
    /// A timeline starting on the first whole frame at or after context time `start`.
    pub fn new(rate: u32, start: f64) -> Self {
        let rate = f64::from(rate);
        Self {
            rate,
            first: (start.max(0.0) * rate).ceil() as u64,
            frames: 0,
        }
    }

    /// A timeline whose first frame plays at context frame `frame`: right after another
    /// timeline's [`Timeline::end_frame`], with no gap and no overlap.
    pub fn from_frame(rate: u32, frame: u64) -> Self {
        Self {
            rate: f64::from(rate),
            first: frame,
            frames: 0,
        }
    }

    /// The context frame after the last one scheduled.
    pub fn end_frame(&self) -> u64 {
        self.first + self.frames
    }

    /// Appends `frames` and returns the context time at which they start.
    pub fn push(&mut self, frames: usize) -> f64 {
        let at = self.end();
        self.frames += frames as u64;
        at
    }

    /// The context time at which the scheduled audio runs out.
    pub fn end(&self) -> f64 {
        (self.first + self.frames) as f64 / self.rate
    }

    pub fn start(&self) -> f64 {
        self.first as f64 / self.rate
    }

    /// Seconds scheduled but not yet played at context time `now`.
    pub fn ahead(&self, now: f64) -> f64 {
        (self.end() - now.max(self.start())).max(0.0)
    }

    /// Seconds played at context time `now`.
    pub fn played(&self, now: f64) -> f64 {
        (now - self.start()).clamp(0.0, self.frames as f64 / self.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::Timeline;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn buffers_join_on_exact_frames() {
        let mut t = Timeline::new(44_100, 1.0);
        assert_eq!(t.push(4410), 1.0);
        assert_eq!(t.push(4410), 1.1);
        assert_eq!(
            Timeline::new(44_100, 0.02).start(),
            882.0 / 44_100.0,
            "on a frame already"
        );
        assert_eq!(
            Timeline::new(44_100, 0.020_001).start(),
            883.0 / 44_100.0,
            "snapped to a frame"
        );
        // Ten thousand one-frame buffers later, the end is still exactly on its frame.
        for _ in 0..10_000 {
            t.push(1);
        }
        assert_eq!(t.end(), (44_100.0 + 18_820.0) / 44_100.0);
        assert_eq!(t.ahead(1.0), t.end() - 1.0);
        assert_eq!(t.ahead(0.5), t.ahead(1.0), "nothing plays before the start");
        assert_eq!(t.played(0.0), 0.0);
        assert_eq!(t.played(100.0), 18_820.0 / 44_100.0);
        let after = Timeline::from_frame(44_100, t.end_frame());
        assert_eq!(
            after.start(),
            t.end(),
            "the next timeline starts where this one ends"
        );
    }
}
