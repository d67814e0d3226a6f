//! Sample-rate conversion, for a song that must follow another on the same audio clock at a
//! rate that is not its own (a gapless join from a 44.1 kHz song into a 48 kHz one).
//!
//! A polyphase windowed-sinc filter: output frame `n` is the input at time `n * from / to`
//! (in input frames), from the 64 input frames around it. The ratio is kept as a reduced
//! fraction, so every output frame falls on its exact phase however long the stream runs,
//! and the output does not depend on how the input is chunked.

/// Input frames on each side of an output frame that the filter reads.
const HALF: usize = 32;
/// Phases tabulated at most; finer ratios round to the nearest of these.
const MAX_PHASES: u64 = 4096;
/// The passband, as a share of the lower rate's Nyquist frequency.
const PASSBAND: f64 = 0.94;

/// Converts one stream of interleaved frames from one rate to another.
#[derive(Debug, Clone)]
pub struct Resampler {
    channels: usize,
    /// Input frames per `den` output frames.
    num: u64,
    den: u64,
    phases: u64,
    /// `phases` rows of `2 * HALF` taps, for input frames `i - HALF + 1 ..= i + HALF`.
    table: Vec<f32>,
    /// Interleaved input from input frame `base` on.
    history: Vec<f32>,
    base: u64,
    /// Input frames taken so far.
    taken: u64,
    /// The next output frame.
    next: u64,
}

impl Resampler {
    /// A resampler of `channels` channels from `from` to `to` frames per second.
    pub fn new(from: u32, to: u32, channels: u16) -> Self {
        let divisor = gcd(u64::from(from.max(1)), u64::from(to.max(1)));
        let (num, den) = (
            u64::from(from.max(1)) / divisor,
            u64::from(to.max(1)) / divisor,
        );
        let phases = den.min(MAX_PHASES);
        // At equal rates every output frame is an input frame: the filter is the identity.
        let cutoff = if num == den {
            1.0
        } else {
            PASSBAND * (den as f64 / num as f64).min(1.0)
        };
        Self {
            channels: usize::from(channels.max(1)),
            num,
            den,
            phases,
            table: table(phases, cutoff),
            history: Vec::new(),
            base: 0,
            taken: 0,
            next: 0,
        }
    }

    /// Takes interleaved input frames and returns the output frames they complete.
    pub fn process(&mut self, input: &[f32]) -> Vec<f32> {
        self.history.extend_from_slice(input);
        self.taken += (input.len() / self.channels) as u64;
        self.drain(false)
    }

    /// Says the input is over: returns the output frames left. In all, the output has
    /// `ceil(input frames * to / from)` frames.
    pub fn finish(&mut self) -> Vec<f32> {
        self.drain(true)
    }

    fn drain(&mut self, finished: bool) -> Vec<f32> {
        let total = (self.taken * self.den).div_ceil(self.num);
        let mut out = Vec::new();
        loop {
            let position = self.next * self.num;
            let (at, phase) = (position / self.den, position % self.den);
            let complete = at + (HALF as u64) < self.taken;
            if self.next >= total || !(complete || finished) {
                break;
            }
            let row = phase * self.phases / self.den;
            self.frame(at, row as usize, &mut out);
            self.next += 1;
        }
        self.forget();
        out
    }

    /// Appends the output frame centred on input frame `at` (plus the phase of `row`).
    fn frame(&self, at: u64, row: usize, out: &mut Vec<f32>) {
        let taps = &self.table[row * 2 * HALF..(row + 1) * 2 * HALF];
        let first = at as i64 - HALF as i64 + 1;
        let start = out.len();
        out.resize(start + self.channels, 0.0);
        for (k, &tap) in taps.iter().enumerate() {
            for c in 0..self.channels {
                out[start + c] += tap * self.input(first + k as i64, c);
            }
        }
    }

    /// Channel `c` of input frame `frame`. Beyond either end of the stream the signal is
    /// continued by a point reflection about the end frame (`2 x[0] - x[-k]`), which keeps
    /// its level and slope: a stream that starts or stops mid-waveform (a song joined to
    /// another) does not ring as it would against silence.
    fn input(&self, frame: i64, c: usize) -> f32 {
        let last = self.taken as i64 - 1;
        let sample = |f: i64| -> Option<f32> {
            let index = usize::try_from(f.checked_sub(self.base as i64)?).ok()?;
            self.history.get(index * self.channels + c).copied()
        };
        let value = if frame < 0 {
            sample(0)
                .zip(sample(-frame))
                .map(|(edge, x)| 2.0 * edge - x)
        } else if frame > last {
            sample(last)
                .zip(sample(2 * last - frame))
                .map(|(edge, x)| 2.0 * edge - x)
        } else {
            sample(frame)
        };
        value.unwrap_or(0.0)
    }

    /// Drops the input no later output frame reads.
    fn forget(&mut self) {
        // The reflection at the start reads frames up to `HALF` in; at the end, back to
        // `2 * HALF` before the centre.
        let needed = (self.next * self.num / self.den).saturating_sub(2 * HALF as u64);
        if needed <= HALF as u64 {
            return;
        }
        if needed > self.base {
            let drop = usize::try_from(needed - self.base).unwrap_or(usize::MAX);
            let drop = drop.min(self.history.len() / self.channels);
            self.history.drain(..drop * self.channels);
            self.base += drop as u64;
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// The filter's taps for each of `phases` fractional positions, each row summing to 1.
fn table(phases: u64, cutoff: f64) -> Vec<f32> {
    let mut table = Vec::with_capacity(phases as usize * 2 * HALF);
    for phase in 0..phases {
        let fraction = phase as f64 / phases as f64;
        let row: Vec<f64> = (0..2 * HALF)
            .map(|k| {
                // Input frame `at - HALF + 1 + k` lies this far from the output's time.
                let t = (k as f64 - HALF as f64 + 1.0) - fraction;
                cutoff * sinc(cutoff * t) * window(t)
            })
            .collect();
        let sum: f64 = row.iter().sum();
        table.extend(row.iter().map(|&tap| (tap / sum) as f32));
    }
    table
}

fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-12 {
        1.0
    } else {
        let px = std::f64::consts::PI * x;
        px.sin() / px
    }
}

/// A Blackman-Harris window over `-HALF..HALF`.
fn window(t: f64) -> f64 {
    let y = (t + HALF as f64) / (2 * HALF) as f64;
    if !(0.0..=1.0).contains(&y) {
        return 0.0;
    }
    let a = 2.0 * std::f64::consts::PI * y;
    0.35875 - 0.48829 * a.cos() + 0.14128 * (2.0 * a).cos() - 0.01168 * (3.0 * a).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, hz: f64, frames: usize) -> Vec<f32> {
        (0..frames)
            .map(|i| (2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate)).sin() as f32)
            .collect()
    }

    #[test]
    fn a_sine_keeps_its_pitch_and_phase() {
        for (from, to) in [
            (44_100, 48_000),
            (48_000, 44_100),
            (22_050, 48_000),
            (96_000, 44_100),
        ] {
            let input = sine(from, 1000.0, from as usize);
            let mut resampler = Resampler::new(from, to, 1);
            let mut out = resampler.process(&input);
            out.extend(resampler.finish());
            assert_eq!(out.len(), to as usize, "{from} -> {to}");
            let want = sine(to, 1000.0, to as usize);
            // Away from the very edges (where the input starts and stops abruptly).
            let worst = out[40..out.len() - 40]
                .iter()
                .zip(&want[40..])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(worst < 3e-4, "{from} -> {to}: off by {worst}");
        }
    }

    /// A stream that starts and stops mid-waveform (as half of a split song does) keeps its
    /// level and phase to its first and last frames.
    #[test]
    fn edges_mid_waveform_do_not_ring() {
        let wave = |rate: u32, i: usize| {
            (2.0 * std::f64::consts::PI * 220.0 * i as f64 / f64::from(rate) + 1.0).sin() as f32
        };
        let input: Vec<f32> = (0..20_000).map(|i| wave(48_000, i)).collect();
        let mut r = Resampler::new(48_000, 44_100, 1);
        let mut out = r.process(&input);
        out.extend(r.finish());
        let worst = out
            .iter()
            .enumerate()
            .map(|(i, &o)| (o - wave(44_100, i)).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 0.005, "off by {worst} at an edge");
    }

    #[test]
    fn the_output_does_not_depend_on_chunking() {
        let input: Vec<f32> = sine(44_100, 440.0, 30_001)
            .iter()
            .flat_map(|&s| [s, -s])
            .collect();
        let whole = {
            let mut r = Resampler::new(44_100, 48_000, 2);
            let mut out = r.process(&input);
            out.extend(r.finish());
            out
        };
        let mut r = Resampler::new(44_100, 48_000, 2);
        let mut chunked = Vec::new();
        for piece in input.chunks(2 * 777) {
            chunked.extend(r.process(piece));
        }
        chunked.extend(r.finish());
        assert_eq!(whole, chunked);
        assert_eq!(
            whole.len(),
            2 * (30_001u64 * 48_000).div_ceil(44_100) as usize
        );
    }

    #[test]
    fn equal_rates_pass_the_input_through() {
        let input = sine(48_000, 440.0, 1000);
        let mut r = Resampler::new(48_000, 48_000, 1);
        let mut out = r.process(&input);
        out.extend(r.finish());
        let worst = out
            .iter()
            .zip(&input)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-6, "{worst}");
    }
}
