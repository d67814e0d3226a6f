//! Decode speed of the streaming decoder compiled to wasm, in headless Chromium.
//!
//! ```text
//! CHROMEDRIVER=/usr/bin/chromedriver cargo bench -p tapedeck-web --target wasm32-unknown-unknown
//! ```
//!
//! Each iteration streams a whole demo song through the decoder in 16 KiB chunks; times real
//! time is the song's length divided by the time per iteration.

// The runner provides the entry point in the browser; natively (clippy) this is an empty main.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code, unused_imports))]

#[cfg(not(target_arch = "wasm32"))]
fn main() {}

use tapedeck_audio::{Next, StreamDecoder};
use wasm_bindgen_test::{Criterion, wasm_bindgen_bench, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const SONGS: [(&str, &[u8], &str); 4] = [
    (
        "mp3 192k, 30.0 s",
        include_bytes!("../../music/01 Morning Tape.mp3"),
        "mp3",
    ),
    (
        "flac, 25.7 s",
        include_bytes!("../../music/02 Night Drive.flac"),
        "flac",
    ),
    (
        "ogg vorbis, 21.4 s",
        include_bytes!("../../music/03 Paper Boats.ogg"),
        "ogg",
    ),
    (
        "wav 22 kHz mono, 20.6 s",
        include_bytes!("../../music/04 Small Hours.wav"),
        "wav",
    ),
];

fn decode_all(bytes: &[u8], ext: &str) -> usize {
    let mut decoder = StreamDecoder::new(Some(ext));
    let mut chunks = bytes.chunks(16 * 1024);
    let mut frames = 0;
    loop {
        match decoder.decode() {
            Ok(Next::Pcm(pcm)) => frames += pcm.frames(),
            Ok(Next::NeedMore) => match chunks.next() {
                Some(chunk) => {
                    let _ = decoder.push(chunk);
                }
                None => decoder.finish(),
            },
            Ok(Next::End) | Err(_) => return frames,
        }
    }
}

/// The FLAC demo song as Ogg Opus at 160 kbit/s, 20 ms frames, encoded here by opus-pure's
/// encoder (its samples taken as 48 kHz: only the decoder's speed is measured).
fn opus_song() -> (String, Vec<u8>) {
    let (_, flac, _) = SONGS[1];
    let mut decoder = StreamDecoder::new(Some("flac"));
    let _ = decoder.push(flac);
    decoder.finish();
    let mut samples = Vec::new();
    let mut channels = 2;
    while let Ok(Next::Pcm(pcm)) = decoder.decode() {
        channels = usize::from(pcm.channels);
        samples.extend_from_slice(&pcm.samples);
    }
    let mut encoder = opus_pure::OpusEncoder::new(48_000, channels, opus_pure::Application::Audio)
        .expect("encoder");
    encoder.bitrate_bps = 160_000;
    let head = opus_pure::OpusHead::for_encoder(&encoder, 48_000);
    let mut writer = opus_pure::OggOpusWriter::new(Vec::new(), head).expect("writer");
    let mut packet = vec![0; opus_pure::MAX_PACKET_BYTES];
    for frame in samples.chunks_exact(960 * channels) {
        let n = encoder.encode(frame, 960, &mut packet).expect("encode");
        writer.write_packet(&packet[..n]).expect("write");
    }
    let seconds = samples.len() as f64 / channels as f64 / 48_000.0;
    let bytes = writer.finish().expect("finish");
    (format!("ogg opus 160k, {seconds:.1} s"), bytes)
}

#[wasm_bindgen_bench]
fn decode_demo_songs(c: &mut Criterion) {
    for (name, bytes, ext) in SONGS {
        c.bench_function(name, |b| b.iter(|| decode_all(bytes, ext)));
    }
    let (name, opus) = opus_song();
    c.bench_function(&name, |b| b.iter(|| decode_all(&opus, "opus")));
}
