//! Whole decodes have exactly the source's length, for every format, and two halves of one
//! signal, encoded apart, decode and join into the whole: encoder delay and padding are gone,
//! to the sample. The signal is a sine split at an odd sample, so a missing, doubled or moved
//! sample at the join shows as a jump the codec's noise cannot hide.

use std::path::Path;
use std::process::Command;

use tapedeck_audio::decode_whole;

/// Frames of the whole signal, and where it is split: neither a multiple of any codec's
/// frame.
const WHOLE: usize = 132_301;
const SPLIT: usize = 61_237;

/// One channel of a 441 Hz sine at half scale and `rate`, from frame `from` to `to`.
fn sine(rate: u32, from: usize, to: usize) -> Vec<f32> {
    (from..to)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            (0.5 * (2.0 * std::f64::consts::PI * 441.0 * t).sin()) as f32
        })
        .collect()
}

/// A mono 32-bit float WAV of `samples` at `rate`.
fn wav(rate: u32, samples: &[f32]) -> Vec<u8> {
    let data = u32::try_from(samples.len() * 4).expect("small");
    let mut out = Vec::new();
    out.extend(b"RIFF");
    out.extend((36 + data).to_le_bytes());
    out.extend(b"WAVEfmt ");
    out.extend(16u32.to_le_bytes());
    out.extend(3u16.to_le_bytes());
    out.extend(1u16.to_le_bytes());
    out.extend(rate.to_le_bytes());
    out.extend((rate * 4).to_le_bytes());
    out.extend(4u16.to_le_bytes());
    out.extend(32u16.to_le_bytes());
    out.extend(b"data");
    out.extend(data.to_le_bytes());
    for s in samples {
        out.extend(s.to_le_bytes());
    }
    out
}

/// `samples` encoded by ffmpeg with `args` into a file named `name`.
fn encode(dir: &Path, rate: u32, samples: &[f32], name: &str, args: &[&str]) -> Vec<u8> {
    let source = dir.join(format!("{name}.wav"));
    std::fs::write(&source, wav(rate, samples)).expect("write wav");
    let out = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&source)
        .args(args)
        .arg(&out)
        .status()
        .expect("ffmpeg runs (Debian package ffmpeg; `cargo xtask test` installs it)");
    assert!(status.success(), "ffmpeg {name}");
    std::fs::read(out).expect("read")
}

/// The first channel of `bytes` decoded in chunks of 4099 octets.
fn decode(bytes: &[u8], ext: &str, rate: u32) -> Vec<f32> {
    let pcm = decode_whole(bytes, Some(ext), 4099).expect("decode");
    assert_eq!(pcm.sample_rate, rate);
    let channels = usize::from(pcm.channels);
    pcm.samples.iter().step_by(channels).copied().collect()
}

/// Every format Tapedeck plays, with the ffmpeg arguments that make it.
const FORMATS: [(&str, &[&str]); 9] = [
    ("song.flac", &["-c:a", "flac"]),
    ("song.wav", &["-c:a", "pcm_s16le"]),
    ("song.aiff", &["-c:a", "pcm_s16be"]),
    ("song.mp3", &["-c:a", "libmp3lame", "-b:a", "256k"]),
    ("song.ogg", &["-c:a", "libvorbis", "-q:a", "8"]),
    ("song.opus", &["-c:a", "libopus", "-b:a", "192k"]),
    ("song.m4a", &["-c:a", "aac", "-b:a", "256k"]),
    ("alac.m4a", &["-c:a", "alac"]),
    (
        "fast.m4a",
        &["-c:a", "aac", "-b:a", "256k", "-movflags", "+faststart"],
    ),
];

/// The shift of `ours` against `want` (within 4 frames either way) that best matches them
/// over `window`: 0 when no sample is missing, doubled or moved before it.
fn lag(ours: &[f32], want: &[f32], window: std::ops::Range<usize>) -> isize {
    (-4isize..=4)
        .map(|shift| {
            let error: f64 = window
                .clone()
                .map(|i| {
                    let o = ours[i.wrapping_add_signed(shift).min(ours.len() - 1)];
                    f64::from(o - want[i]).powi(2)
                })
                .sum();
            (shift, error)
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0, |(shift, _)| shift)
}

#[test]
fn whole_decodes_have_the_sources_length_and_halves_join_into_the_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, args) in FORMATS {
        // Opus codes at 48 kHz alone.
        let rate = if name.ends_with("opus") {
            48_000
        } else {
            44_100
        };
        let rate_arg = rate.to_string();
        let args = [args, &["-ar", &rate_arg]].concat();
        let whole = sine(rate, 0, WHOLE);
        let (first, second) = (sine(rate, 0, SPLIT), sine(rate, SPLIT, WHOLE));
        let ext = name.rsplit('.').next().expect("extension");
        let decoded = decode(&encode(dir.path(), rate, &whole, name, &args), ext, rate);
        assert_eq!(decoded.len(), WHOLE, "{name}: whole decode's length");
        let a = decode(
            &encode(dir.path(), rate, &first, &format!("a.{name}"), &args),
            ext,
            rate,
        );
        let b = decode(
            &encode(dir.path(), rate, &second, &format!("b.{name}"), &args),
            ext,
            rate,
        );
        assert_eq!((a.len(), b.len()), (SPLIT, WHOLE - SPLIT), "{name}: halves");
        let joined = [a, b].concat();
        // Each codec blurs the abrupt edges of a half; a little way in, the best match
        // is the unshifted one at either side of the join and at both ends.
        for window in [
            100..1100,
            SPLIT - 1100..SPLIT - 100,
            SPLIT + 100..SPLIT + 1100,
            WHOLE - 1100..WHOLE - 100,
        ] {
            assert_eq!(
                lag(&joined, &whole, window.clone()),
                0,
                "{name}: shifted around {window:?}"
            );
        }
    }
}
