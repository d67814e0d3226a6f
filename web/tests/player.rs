//! The player in headless Chromium: a test tone streamed through the decoder and the scheduler
//! renders continuous and at the right pitch; a live context plays a paced stream without
//! underruns.

#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use tapedeck_web::player::{Origin, Output, Player};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{AudioBuffer, OfflineAudioContext};

wasm_bindgen_test_configure!(run_in_browser);

const RATE: u32 = 44_100;

/// A 16-bit stereo WAV of a sine at `hz`, and its samples as f32 (left channel).
fn tone(hz: f32, seconds: f32) -> (Vec<u8>, Vec<f32>) {
    let frames = (RATE as f32 * seconds) as u32;
    let samples: Vec<i16> = (0..frames)
        .map(|i| ((i as f32 / RATE as f32 * hz * std::f32::consts::TAU).sin() * 12_000.0) as i16)
        .collect();
    let mut wav = Vec::new();
    let data = frames * 4;
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0\x02\0");
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * 4).to_le_bytes());
    wav.extend_from_slice(b"\x04\0\x10\0data");
    wav.extend_from_slice(&data.to_le_bytes());
    for s in &samples {
        wav.extend_from_slice(&s.to_le_bytes());
        wav.extend_from_slice(&s.to_le_bytes());
    }
    (
        wav,
        samples.iter().map(|&s| f32::from(s) / 32768.0).collect(),
    )
}

/// Streams `wav` into `player` in `chunk`-byte pieces, pumping after each.
fn feed(player: &mut Player, wav: &[u8], chunk: usize) {
    player.start(Some("wav"), None, Origin::default());
    for piece in wav.chunks(chunk) {
        player.push(piece).expect("push");
        player.pump().expect("pump");
    }
    player.finish();
    for _ in 0..1000 {
        player.pump().expect("pump");
    }
}

#[wasm_bindgen_test]
async fn a_streamed_tone_renders_without_gaps_clicks_or_pitch_errors() {
    let (wav, expected) = tone(440.0, 2.0);
    let length = RATE * 3;
    let context = OfflineAudioContext::new_with_number_of_channels_and_length_and_sample_rate(
        2,
        length,
        RATE as f32,
    )
    .expect("offline context");
    let mut player = Player::new(Output::Offline(context.clone()));
    feed(&mut player, &wav, 3001);
    let rendered: AudioBuffer = JsFuture::from(context.start_rendering().expect("render"))
        .await
        .expect("rendered")
        .into();
    let left = rendered.get_channel_data(0).expect("channel data");
    let audible = |samples: &[f32]| samples.iter().position(|s| s.abs() > 1e-6);
    // The tone starts with sin(0) = 0: align on the first sample that is not silent.
    let start = audible(&left).expect("some sound") - audible(&expected).expect("a tone");
    // Every sample where it should be: a gap, an overlap or a click at any seam would show.
    let worst = expected
        .iter()
        .zip(&left[start..])
        .map(|(e, r)| (e - r).abs())
        .fold(0.0_f32, f32::max);
    assert!(
        worst < 1e-3,
        "rendered output departs from the tone by {worst}"
    );
    assert!(
        left[start + expected.len()..]
            .iter()
            .all(|s| s.abs() < 1e-6),
        "silence after the end"
    );
    // Pitch: a 440 Hz sine crosses zero upwards 440 times a second.
    let rising = left[start..start + RATE as usize]
        .windows(2)
        .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
        .count();
    assert!(
        (439..=441).contains(&rising),
        "{rising} upward crossings in one second"
    );
}

#[wasm_bindgen_test]
async fn after_stop_none_of_the_song_is_heard() {
    let (wav, _) = tone(440.0, 1.0);
    let context = OfflineAudioContext::new_with_number_of_channels_and_length_and_sample_rate(
        2,
        RATE * 2,
        RATE as f32,
    )
    .expect("offline context");
    let mut player = Player::new(Output::Offline(context.clone()));
    feed(&mut player, &wav, 4096);
    assert!(
        player.stats().buffered_s > 0.9,
        "the song was scheduled: {:?}",
        player.stats()
    );
    player.stop();
    let rendered: AudioBuffer = JsFuture::from(context.start_rendering().expect("render"))
        .await
        .expect("rendered")
        .into();
    let left = rendered.get_channel_data(0).expect("channel data");
    assert!(
        left.iter().all(|s| s.abs() < 1e-6),
        "audio of a stopped song was heard"
    );
}

#[wasm_bindgen_test]
async fn a_live_context_plays_a_paced_stream_without_underruns() {
    let (wav, _) = tone(330.0, 3.0);
    let mut player = Player::new(Output::Live);
    player.start(Some("wav"), Some(3.0), Origin::default());
    // About 1.25x real time in 50 ms steps, as the server paces after its burst.
    let per_step = (f64::from(RATE) * 4.0 * 1.25 * 0.05) as usize;
    let (burst, rest) = wav.split_at(wav.len() / 5);
    player.push(burst).expect("push");
    player.pump().expect("pump");
    for piece in rest.chunks(per_step) {
        gloo_timers::future::sleep(Duration::from_millis(50)).await;
        player.push(piece).expect("push");
        player.pump().expect("pump");
    }
    player.finish();
    player.pump().expect("pump");
    let stats = player.stats();
    assert!(stats.first_sound_ms.is_some(), "no sound: {stats:?}");
    assert!(stats.position_s > 0.5, "the clock does not run: {stats:?}");
    assert_eq!(stats.underruns, 0, "{stats:?}");
    assert_eq!(stats.bytes, wav.len() as u64);
    player.stop();
    assert_eq!(player.stats().position_s, 0.0, "stopped: nothing plays");
}

/// A stream from a position (PROTOCOL.md 5.4.1): the first `skip` decoded frames are dropped,
/// the rest plays exactly, and the position counts from the stream's start in the song.
#[wasm_bindgen_test]
async fn a_stream_from_a_position_drops_its_skip_and_counts_from_there() {
    let (wav, expected) = tone(440.0, 1.0);
    let context = OfflineAudioContext::new_with_number_of_channels_and_length_and_sample_rate(
        2,
        RATE * 2,
        RATE as f32,
    )
    .expect("offline context");
    let mut player = Player::new(Output::Offline(context.clone()));
    player.start(
        Some("wav"),
        Some(6.0),
        Origin {
            start_s: 5.0,
            skip: 1000,
        },
    );
    for piece in wav.chunks(4096) {
        player.push(piece).expect("push");
        player.pump().expect("pump");
    }
    player.finish();
    for _ in 0..1000 {
        player.pump().expect("pump");
    }
    assert_eq!(
        player.stats().position_s,
        5.0,
        "nothing played yet, from 5 s"
    );
    let rendered: AudioBuffer = JsFuture::from(context.start_rendering().expect("render"))
        .await
        .expect("rendered")
        .into();
    let left = rendered.get_channel_data(0).expect("channel data");
    let start = left.iter().position(|s| s.abs() > 1e-6).expect("sound");
    let rest = &expected[1000..];
    let worst = rest
        .iter()
        .zip(&left[start..])
        .map(|(e, r)| (e - r).abs())
        .fold(0.0_f32, f32::max);
    assert!(
        worst < 1e-3,
        "departs from the tone after the skip by {worst}"
    );
    assert!(left[start + rest.len()..].iter().all(|s| s.abs() < 1e-6));
}

/// Pause holds the position where it is, resume goes on from there: nothing lost or repeated.
#[wasm_bindgen_test]
async fn pause_holds_the_position_and_resume_goes_on() {
    let (wav, _) = tone(330.0, 3.0);
    let mut player = Player::new(Output::Live);
    player.start(Some("wav"), Some(3.0), Origin::default());
    player.push(wav.as_slice()).expect("push");
    player.finish();
    let wait = |ms| gloo_timers::future::sleep(Duration::from_millis(ms));
    for _ in 0..10 {
        player.pump().expect("pump");
        wait(50).await;
    }
    assert!(player.stats().position_s > 0.1, "{:?}", player.stats());
    player.set_paused(true);
    wait(100).await;
    let held = player.stats().position_s;
    for _ in 0..6 {
        player.pump().expect("pump");
        wait(50).await;
    }
    assert_eq!(
        player.stats().position_s,
        held,
        "the clock stood still while paused"
    );
    assert!(player.is_paused());
    player.set_paused(false);
    for _ in 0..6 {
        player.pump().expect("pump");
        wait(50).await;
    }
    let stats = player.stats();
    assert!(
        stats.position_s > held + 0.1,
        "it went on: {stats:?} after {held}"
    );
    assert_eq!(stats.underruns, 0, "{stats:?}");
    player.stop();
}

/// A 16-bit WAV of `channels` channels, 0.5 s of silence in every channel but `loud`, which
/// holds a full-scale-half square wave.
fn one_channel_loud(channels: u16, loud: usize) -> Vec<u8> {
    let frames = RATE / 2;
    let block = u32::from(channels) * 2;
    let data = frames * block;
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0");
    wav.extend_from_slice(&channels.to_le_bytes());
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * block).to_le_bytes());
    wav.extend_from_slice(&(block as u16).to_le_bytes());
    wav.extend_from_slice(b"\x10\0data");
    wav.extend_from_slice(&data.to_le_bytes());
    for i in 0..frames {
        let level: i16 = if i % 100 < 50 { 16_384 } else { -16_384 };
        for channel in 0..usize::from(channels) {
            let sample = if channel == loud { level } else { 0 };
            wav.extend_from_slice(&sample.to_le_bytes());
        }
    }
    wav
}

/// The loudest sample of each output channel when `wav` plays.
async fn peaks(wav: &[u8]) -> (f32, f32) {
    let context = OfflineAudioContext::new_with_number_of_channels_and_length_and_sample_rate(
        2,
        RATE,
        RATE as f32,
    )
    .expect("offline context");
    let mut player = Player::new(Output::Offline(context.clone()));
    feed(&mut player, wav, 4096);
    let rendered: AudioBuffer = JsFuture::from(context.start_rendering().expect("render"))
        .await
        .expect("rendered")
        .into();
    let peak = |channel| {
        let data = rendered.get_channel_data(channel).expect("channel data");
        data.iter().fold(0.0_f32, |m, s| m.max(s.abs()))
    };
    (peak(0), peak(1))
}

/// Surround is mixed down to the stereo output: the centre of a 3.0 file and the side
/// channels of 7.1 are heard (the Web Audio API's own mix keeps only the first two channels
/// of such layouts), at -3 dB, on their side.
#[wasm_bindgen_test]
async fn every_surround_channel_is_heard_in_stereo() {
    let half = 0.5_f32;
    let h = half * std::f32::consts::FRAC_1_SQRT_2;
    let near =
        |(l, r): (f32, f32), (el, er): (f32, f32)| (l - el).abs() < 1e-3 && (r - er).abs() < 1e-3;
    let centre = peaks(&one_channel_loud(3, 2)).await;
    assert!(near(centre, (h, h)), "3.0 centre: {centre:?}");
    let side_left = peaks(&one_channel_loud(8, 6)).await;
    assert!(near(side_left, (h, 0.0)), "7.1 side left: {side_left:?}");
    let lfe = peaks(&one_channel_loud(8, 3)).await;
    assert!(near(lfe, (0.0, 0.0)), "7.1 LFE: {lfe:?}");
}
