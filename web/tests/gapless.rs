//! Gapless joins in headless Chromium, rendered offline where the timing must be exact: a
//! stream queued behind another starts on the frame after the other's last, so a signal
//! split in two and streamed as two songs renders as the whole, sample for sample; at
//! another sample rate it is resampled and joins in phase and level.

#![cfg(target_arch = "wasm32")]

use tapedeck_web::player::{Origin, Output, Player};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{AudioBuffer, OfflineAudioContext};

wasm_bindgen_test_configure!(run_in_browser);

const RATE: u32 = 44_100;
const HZ: f64 = 220.0;

/// The tone at `rate` from time `from_s`, frames `0..frames`, as 16-bit values.
fn tone(rate: u32, from_s: f64, frames: usize) -> Vec<i16> {
    (0..frames)
        .map(|i| {
            let t = from_s + i as f64 / f64::from(rate);
            ((t * HZ * std::f64::consts::TAU).sin() * 12_000.0).round() as i16
        })
        .collect()
}

/// A 16-bit mono WAV of `samples` at `rate`.
fn wav(rate: u32, samples: &[i16]) -> Vec<u8> {
    let data = (samples.len() * 2) as u32;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0\x01\0");
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(b"\x02\0\x10\0data");
    out.extend_from_slice(&data.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// Streams `bytes` into the player's receiving play in pieces, pumping after each.
fn stream(player: &mut Player, bytes: &[u8]) {
    for piece in bytes.chunks(3001) {
        player.push(piece).expect("push");
        player.pump().expect("pump");
    }
    player.finish();
    for _ in 0..200 {
        player.pump().expect("pump");
    }
}

/// Plays `first`, queues `second` behind it, and renders `seconds` offline: the first
/// channel.
async fn render(first: &[u8], second: &[u8], seconds: u32) -> Vec<f32> {
    render_at(first, second, seconds, [1.0, 1.0]).await
}

/// As [`render`], each play at its own level (ReplayGain).
async fn render_at(first: &[u8], second: &[u8], seconds: u32, levels: [f32; 2]) -> Vec<f32> {
    let context = OfflineAudioContext::new_with_number_of_channels_and_length_and_sample_rate(
        1,
        RATE * seconds,
        RATE as f32,
    )
    .expect("offline context");
    let mut player = Player::new(Output::Offline(context.clone()));
    player.start(Some("wav"), None, Origin::default());
    player.set_level(levels[0]);
    stream(&mut player, first);
    player.queue(Some("wav"), None, Origin::default());
    assert!(player.has_next());
    player.set_next_level(levels[1]);
    stream(&mut player, second);
    let rendered: AudioBuffer = JsFuture::from(context.start_rendering().expect("render"))
        .await
        .expect("rendered")
        .into();
    rendered.get_channel_data(0).expect("channel data")
}

/// Where the sound starts: the tone's first sample is sin(0) = 0, its second is not.
fn onset(rendered: &[f32]) -> usize {
    rendered.iter().position(|s| s.abs() > 1e-6).expect("sound") - 1
}

#[wasm_bindgen_test]
async fn two_halves_queued_render_as_the_whole_sample_for_sample() {
    let split = 30_011;
    let whole = tone(RATE, 0.0, 66_150);
    let first = wav(RATE, &whole[..split]);
    let second = wav(RATE, &whole[split..]);
    let rendered = render(&first, &second, 3).await;
    let start = onset(&rendered);
    let want: Vec<f32> = whole.iter().map(|&s| f32::from(s) / 32768.0).collect();
    let got = &rendered[start..start + want.len()];
    let wrong = got
        .iter()
        .zip(&want)
        .position(|(g, w)| (g - w).abs() > 1e-6);
    assert_eq!(
        wrong, None,
        "differs from the whole at frame {wrong:?} (join at {split})"
    );
    assert!(
        rendered[start + want.len()..]
            .iter()
            .all(|s| s.abs() < 1e-6),
        "silence after the second half"
    );
}

/// Two songs at different ReplayGain levels: each sample of each is at its own song's level,
/// from the join's very sample.
#[wasm_bindgen_test]
async fn each_song_plays_at_its_own_level_from_its_first_sample() {
    let split = 30_011;
    let whole = tone(RATE, 0.0, 66_150);
    let first = wav(RATE, &whole[..split]);
    let second = wav(RATE, &whole[split..]);
    let levels = [0.5_f32, 1.25];
    let rendered = render_at(&first, &second, 3, levels).await;
    let start = onset(&rendered);
    let wrong = whole.iter().enumerate().position(|(i, &s)| {
        let level = if i < split { levels[0] } else { levels[1] };
        (rendered[start + i] - level * f32::from(s) / 32768.0).abs() > 1e-5
    });
    assert_eq!(
        wrong, None,
        "a sample off its song's level (join at {split})"
    );
}

#[wasm_bindgen_test]
async fn a_half_at_another_rate_joins_in_phase_and_level() {
    let split = 30_011;
    let first = tone(RATE, 0.0, split);
    let from_s = split as f64 / f64::from(RATE);
    let second = tone(48_000, from_s, 48_000);
    let rendered = render(&wav(RATE, &first), &wav(48_000, &second), 3).await;
    let start = onset(&rendered);
    // The whole tone at the context's rate, from the first half's start to the second's end.
    let frames = split + RATE as usize;
    let want: Vec<f32> = tone(RATE, 0.0, frames)
        .iter()
        .map(|&s| f32::from(s) / 32768.0)
        .collect();
    let got = &rendered[start..start + frames];
    let worst = |range: std::ops::Range<usize>| {
        range
            .map(|i| (got[i] - want[i]).abs())
            .fold(0.0f32, f32::max)
    };
    // Exact up to the join; after it the resampler's error (below 1 % of full scale, where a
    // frame too many or too few would be off by up to 3.8 % at this pitch and level).
    assert!(worst(0..split) < 1e-6, "the first half is untouched");
    let join = worst(split - 100..split + 100);
    let rest = worst(split..frames - 100);
    assert!(
        join < 0.01 && rest < 0.01,
        "off by {join} at the join, {rest} after"
    );
}

#[wasm_bindgen_test]
async fn a_queue_replaced_or_dropped_is_never_heard() {
    let whole = tone(RATE, 0.0, 22_050);
    let context = OfflineAudioContext::new_with_number_of_channels_and_length_and_sample_rate(
        1,
        RATE * 2,
        RATE as f32,
    )
    .expect("offline context");
    let mut player = Player::new(Output::Offline(context.clone()));
    player.start(Some("wav"), None, Origin::default());
    stream(&mut player, &wav(RATE, &whole));
    player.queue(Some("wav"), None, Origin::default());
    stream(&mut player, &wav(RATE, &whole));
    player.drop_next();
    assert!(!player.has_next());
    let rendered: AudioBuffer = JsFuture::from(context.start_rendering().expect("render"))
        .await
        .expect("rendered")
        .into();
    let left = rendered.get_channel_data(0).expect("channel data");
    let start = onset(&left);
    assert!(
        left[start + whole.len()..].iter().all(|s| s.abs() < 1e-6),
        "the dropped queue was heard"
    );
}
