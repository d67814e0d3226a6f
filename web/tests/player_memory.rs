//! Ten minutes of playback, simulated deterministically: an OfflineAudioContext renders a
//! 10-minute mp3 while the test suspends it every quarter second, hands the player the bytes
//! the server's pacing would have delivered by then (a 3 s burst, then 1.25x real time), and
//! records the player's memory. The player must stay under 20 MB throughout.

#![cfg(target_arch = "wasm32")]

use js_sys::{ArrayBuffer, Function, Promise, Reflect, WebAssembly};
use tapedeck_web::player::{Origin, Output, Player};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::OfflineAudioContext;

wasm_bindgen_test_configure!(run_in_browser);

const RATE: u32 = 44_100;
const STEP_S: f64 = 0.25;
const SONG: &[u8] = include_bytes!("../../music/01 Morning Tape.mp3");

/// The demo mp3's audio frames: without its ID3v2 tag and without its first frame, the
/// Xing/Info frame, which declares the song's length (a reader would stop there).
fn frames() -> &'static [u8] {
    let tag = 10
        + SONG[6..10]
            .iter()
            .fold(0usize, |n, &b| (n << 7) | usize::from(b));
    let header = &SONG[tag..tag + 4];
    assert_eq!(
        (header[0], header[1] & 0xfe),
        (0xff, 0xfa),
        "an MPEG-1 layer III frame"
    );
    const KBPS: [usize; 15] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    const HZ: [usize; 3] = [44_100, 48_000, 32_000];
    let kbps = KBPS[usize::from(header[2] >> 4)];
    let hz = HZ[usize::from((header[2] >> 2) & 3)];
    let len = 144 * kbps * 1000 / hz + usize::from((header[2] >> 1) & 1);
    let first = &SONG[tag..tag + len];
    assert!(
        first.windows(4).any(|w| w == b"Info" || w == b"Xing"),
        "the first frame is the Info frame"
    );
    &SONG[tag + len..]
}

/// Twenty copies of the 30 s demo song's frames: 10 minutes of mp3.
fn ten_minutes() -> Vec<u8> {
    frames().repeat(20)
}

/// The wasm heap's size: it only grows, so its last value is the peak.
fn wasm_bytes() -> f64 {
    let memory: WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    f64::from(
        memory
            .buffer()
            .unchecked_into::<ArrayBuffer>()
            .byte_length(),
    )
}

/// `context.suspend(at)`: a promise that resolves when rendering reaches `at`.
fn suspend(context: &OfflineAudioContext, at: f64) -> Promise {
    let suspend: Function = Reflect::get(context, &"suspend".into())
        .expect("suspend")
        .unchecked_into();
    suspend
        .call1(context, &JsValue::from(at))
        .expect("suspend call")
        .unchecked_into()
}

#[wasm_bindgen_test]
async fn a_ten_minute_song_plays_in_under_twenty_megabytes() {
    let song = ten_minutes();
    let seconds = 600.0;
    let bytes_per_s = song.len() as f64 / seconds;
    let baseline = wasm_bytes();
    let length = (seconds + 2.0) as u32 * RATE;
    let context = OfflineAudioContext::new_with_number_of_channels_and_length_and_sample_rate(
        2,
        length,
        RATE as f32,
    )
    .expect("offline context");
    let mut player = Player::new(Output::Offline(context.clone()));
    player.start(Some("mp3"), Some(seconds), Origin::default());
    let (mut sent, mut t, mut peak_audio_buffers) = (0usize, STEP_S, 0.0_f64);
    let mut next = suspend(&context, t);
    let rendering = JsFuture::from(context.start_rendering().expect("render"));
    while t <= seconds + 1.0 {
        JsFuture::from(next).await.expect("suspended");
        let due = ((3.0 + 1.25 * t) * bytes_per_s) as usize;
        let due = due.min(song.len());
        if due > sent {
            player.push(&song[sent..due]).expect("push");
            sent = due;
            if sent == song.len() {
                player.finish();
            }
        }
        player.pump().expect("pump");
        let stats = player.stats();
        peak_audio_buffers = peak_audio_buffers.max(stats.buffered_s * f64::from(RATE) * 2.0 * 4.0);
        t += STEP_S;
        next = suspend(&context, t);
        JsFuture::from(context.resume().expect("resume"))
            .await
            .expect("resumed");
    }
    drop(rendering);
    let stats = player.stats();
    assert_eq!(stats.underruns, 0, "{stats:?}");
    assert!(stats.position_s > 599.0, "the whole song played: {stats:?}");
    let heap = wasm_bytes() - baseline;
    let total_mb = (heap + peak_audio_buffers) / 1e6;
    web_sys::console::log_1(&format!(
        "player memory, 10-minute mp3: wasm heap growth {:.1} MB + scheduled AudioBuffers at most {:.1} MB = {total_mb:.1} MB",
        heap / 1e6,
        peak_audio_buffers / 1e6
    ).into());
    assert!(total_mb <= 20.0, "the player held {total_mb:.1} MB");
}
