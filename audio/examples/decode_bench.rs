//! Native decode speed against ffmpeg, on ten minutes of the demo music in each format.
//!
//! ```text
//! cargo build --release -p tapedeck-audio --examples
//! target/release/examples/decode_bench
//! ```
//!
//! The streaming decoder takes each file from memory in 16 KiB chunks; ffmpeg decodes the same
//! file to f32 on one thread (`-threads 1`) into /dev/null. Best of three runs each.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use tapedeck_audio::{Next, StreamDecoder};

const SECONDS: u32 = 600;

fn make(dir: &Path, name: &str, codec: &[&str]) -> std::path::PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../music/02 Night Drive.flac");
    let out = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-stream_loop", "-1", "-i"])
        .arg(&source)
        .args(["-t", &SECONDS.to_string()])
        .args(codec)
        .arg(&out)
        .status()
        .expect("ffmpeg");
    assert!(status.success());
    out
}

fn ours(bytes: &[u8], ext: &str) -> usize {
    let mut decoder = StreamDecoder::new(Some(ext));
    let mut chunks = bytes.chunks(16 * 1024);
    let mut frames = 0;
    loop {
        match decoder.decode().expect("decode") {
            Next::Pcm(pcm) => frames += pcm.frames(),
            Next::NeedMore => match chunks.next() {
                Some(chunk) => decoder.push(chunk).expect("push"),
                None => decoder.finish(),
            },
            Next::End => return frames,
        }
    }
}

fn ffmpeg(path: &Path) {
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-threads", "1", "-i"])
        .arg(path)
        .args(["-f", "f32le", "-y", "/dev/null"])
        .status()
        .expect("ffmpeg");
    assert!(status.success());
}

fn best_of_three(mut run: impl FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let formats: [(&str, &str, &[&str]); 4] = [
        ("mp3", "long.mp3", &["-c:a", "libmp3lame", "-b:a", "320k"]),
        ("flac", "long.flac", &["-c:a", "flac"]),
        ("ogg", "long.ogg", &["-c:a", "libvorbis", "-q:a", "5"]),
        ("wav", "long.wav", &["-c:a", "pcm_s16le"]),
    ];
    println!(
        "| format | tapedeck-audio | ffmpeg -threads 1 | time ratio (ours / ffmpeg) | ours, x real time |"
    );
    println!("|---|---|---|---|---|");
    for (ext, name, codec) in formats {
        let path = make(dir.path(), name, codec);
        let bytes = std::fs::read(&path).expect("read");
        let frames = ours(&bytes, ext);
        assert!(
            frames as u64 >= u64::from(SECONDS - 1) * 44_100,
            "{name}: {frames} frames"
        );
        let ours_t = best_of_three(|| {
            ours(&bytes, ext);
        });
        let theirs = best_of_three(|| ffmpeg(&path));
        println!(
            "| {ext} | {:.2} s | {:.2} s | {:.2} | {:.0}x |",
            ours_t.as_secs_f64(),
            theirs.as_secs_f64(),
            ours_t.as_secs_f64() / theirs.as_secs_f64(),
            f64::from(SECONDS) / ours_t.as_secs_f64()
        );
    }
}
