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

#[wasm_bindgen_bench]
fn decode_demo_songs(c: &mut Criterion) {
    for (name, bytes, ext) in SONGS {
        c.bench_function(name, |b| b.iter(|| decode_all(bytes, ext)));
    }
}
