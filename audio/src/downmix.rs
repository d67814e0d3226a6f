//! Sound of more than two channels mixed down to stereo, for a page whose output is stereo.
//!
//! The Web Audio API mixes only quad and 5.1 down to stereo ("speakers" interpretation); any
//! other count it mixes "discretely", keeping the first two channels: the centre of a 3.0
//! file, where the voice usually is, and everything but the front pair of 7.1 were lost.
//! Here every layout up to 7.1 is mixed with the API's own rules, extended: quad and 5.1
//! exactly as the API mixes them (so they sound as before), the centre and the surrounds of
//! the others at the same -3 dB (0.7071), a rear centre at -6 dB to each side, the LFE
//! dropped as the API drops it.
//!
//! Channels are in the decoders' order of positions (WAVE's: front left, front right, front
//! centre, LFE, rear left, rear right, ..., rear centre, side left, side right), and each
//! count is taken for its usual layout, the one FLAC, WAVE, Vorbis and Opus give it: 3.0,
//! quad, 5.0, 5.1, 6.1, 7.1. Beyond eight channels (no common layout) the first two are kept.

use crate::Pcm;

/// -3 dB.
const H: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// For each channel of a layout of `channels`, its weight in the left and in the right
/// output; channels beyond those listed are left out.
fn weights(channels: usize) -> &'static [(f32, f32)] {
    const L: (f32, f32) = (1.0, 0.0);
    const R: (f32, f32) = (0.0, 1.0);
    const C: (f32, f32) = (H, H);
    const LFE: (f32, f32) = (0.0, 0.0);
    const SL: (f32, f32) = (H, 0.0);
    const SR: (f32, f32) = (0.0, H);
    match channels {
        3 => &[L, R, C],
        // The API's quad: L = 0.5 (L + SL), R = 0.5 (R + SR).
        4 => &[(0.5, 0.0), (0.0, 0.5), (0.5, 0.0), (0.0, 0.5)],
        5 => &[L, R, C, SL, SR],
        // The API's 5.1: L = L + 0.7071 (C + SL), R = R + 0.7071 (C + SR).
        6 => &[L, R, C, LFE, SL, SR],
        7 => &[L, R, C, LFE, (0.5, 0.5), SL, SR],
        8 => &[L, R, C, LFE, SL, SR, SL, SR],
        _ => &[L, R],
    }
}

/// `pcm` as stereo, when it has more than two channels; as it is otherwise.
pub fn stereo(pcm: Pcm) -> Pcm {
    let channels = usize::from(pcm.channels);
    if channels <= 2 {
        return pcm;
    }
    let weights = weights(channels);
    let mut samples = Vec::with_capacity(pcm.samples.len() / channels * 2);
    for frame in pcm.samples.chunks_exact(channels) {
        let (left, right) = frame
            .iter()
            .zip(weights)
            .fold((0.0, 0.0), |(l, r), (&s, &(wl, wr))| {
                (l + s * wl, r + s * wr)
            });
        samples.extend([left, right]);
    }
    Pcm {
        sample_rate: pcm.sample_rate,
        channels: 2,
        samples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcm(channels: u16, samples: Vec<f32>) -> Pcm {
        Pcm {
            sample_rate: 48_000,
            channels,
            samples,
        }
    }

    #[test]
    fn mono_and_stereo_are_left_alone() {
        for channels in [1, 2] {
            let got = stereo(pcm(channels, vec![0.1, 0.2, 0.3, 0.4]));
            assert_eq!(
                (got.channels, got.samples),
                (channels, vec![0.1, 0.2, 0.3, 0.4])
            );
        }
    }

    /// One frame of each channel alone: its weights left and right.
    fn each_channel(channels: u16) -> Vec<(f32, f32)> {
        let n = usize::from(channels);
        let mut samples = vec![0.0; n * n];
        for i in 0..n {
            samples[i * n + i] = 1.0;
        }
        let got = stereo(pcm(channels, samples));
        assert_eq!(got.channels, 2);
        got.samples.chunks_exact(2).map(|f| (f[0], f[1])).collect()
    }

    #[test]
    fn quad_and_5_1_mix_as_the_web_audio_api_mixes_them() {
        assert_eq!(
            each_channel(4),
            [(0.5, 0.0), (0.0, 0.5), (0.5, 0.0), (0.0, 0.5)]
        );
        assert_eq!(
            each_channel(6),
            [
                (1.0, 0.0),
                (0.0, 1.0),
                (H, H),
                (0.0, 0.0),
                (H, 0.0),
                (0.0, H)
            ]
        );
    }

    /// The centre of 3.0 and every surround of 7.1 are heard, not dropped.
    #[test]
    fn every_channel_of_3_0_and_7_1_but_the_lfe_is_heard() {
        assert_eq!(each_channel(3), [(1.0, 0.0), (0.0, 1.0), (H, H)]);
        let seven_one = each_channel(8);
        for (i, (l, r)) in seven_one.iter().enumerate() {
            assert_eq!(i == 3, l + r == 0.0, "channel {i}: {l} {r}");
        }
        assert_eq!(each_channel(7)[4], (0.5, 0.5));
    }

    #[test]
    fn beyond_eight_channels_the_first_two_are_kept() {
        let got = each_channel(10);
        assert_eq!(got[..3], [(1.0, 0.0), (0.0, 1.0), (0.0, 0.0)]);
    }
}
