//! Seeking and long mp4 files in headless Chromium, through the real server and bridge:
//!
//! - a click on the scrubber to new sound, over 50 clicks at scattered places of a playing
//!   song (`first_sound_ms` of the play the click starts: from the click's handler to the
//!   moment its first buffer starts on the audio clock);
//! - click to first sound of a 100 MB AAC file whose index (`moov`) is at its end, next to an
//!   mp3 of the same length, 10 plays each.
//!
//! ```text
//! cargo xtask setup && trunk build --release --offline
//! cargo build --release -p tapedeck-server -p tapedeck-bridge -p tapedeck-tests --bins --examples
//! target/release/examples/seek_bench
//! ```
//!
//! The long files are made once with ffmpeg (an hour of pink noise) into
//! `target/bench-media/`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tapedeck_tests::media::ffmpeg;
use tapedeck_tests::repo;
use tapedeck_tests::system::{System, free_port};
use tapedeck_tests::webdriver::Browser;

const STATS: &str = "return window.tapedeck.stats()";
const SEEKS: usize = 50;
const PLAYS: usize = 10;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn number(value: &Value, key: &str) -> f64 {
    value[key].as_f64().unwrap_or(f64::NAN)
}

/// The long files: `1 long.mp3` and `2 long moov-last.m4a`, made once.
fn long_media() -> PathBuf {
    let dir = repo().join("target").join("bench-media");
    std::fs::create_dir_all(&dir).expect("bench media dir");
    let noise = "anoisesrc=color=pink:amplitude=0.3:sample_rate=44100:duration=3600";
    let songs: [(&str, &[&str]); 2] = [
        ("1 long.mp3", &["-c:a", "libmp3lame", "-b:a", "256k"]),
        // ffmpeg writes the index last unless asked for +faststart.
        ("2 long moov-last.m4a", &["-c:a", "aac", "-b:a", "256k"]),
    ];
    for (name, codec) in songs {
        let path = dir.join(name);
        if !path.exists() {
            eprintln!("making {} (a minute or two, once)", path.display());
            let mut args = vec!["-f", "lavfi", "-i", noise, "-ac", "2"];
            args.extend_from_slice(codec);
            ffmpeg(&args, &path);
        }
    }
    dir
}

fn size_mb(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1e6)
}

/// Clicks the scrubber at scattered places of song 1 and returns each click's time to sound.
fn scrubber_clicks(browser: &Browser) -> Vec<f64> {
    browser.click("tr.song[data-id='1']");
    let playing = browser.wait_for("song 1", STATS, |s| s["state"] == "playing");
    let duration = number(&playing, "duration_s");
    let mut times = Vec::with_capacity(SEEKS);
    for i in 0..SEEKS {
        // Golden-ratio steps: every click lands far from the last one.
        let fraction = 0.05 + 0.9 * ((i as f64 * 0.618_034) % 1.0);
        let target = fraction * duration;
        browser.click_at(".now-playing .progress", fraction);
        let stats = browser.wait_for("the seek", STATS, |s| {
            s["state"] == "playing"
                && s["first_sound_ms"].is_number()
                && (number(s, "position_s") - target).abs() < duration / 100.0 + 2.0
        });
        times.push(number(&stats, "first_sound_ms"));
        std::thread::sleep(Duration::from_millis(300));
    }
    times
}

/// Plays `id` `PLAYS` times and returns each play's click to first sound.
fn first_sounds(browser: &Browser, id: u32) -> Vec<f64> {
    (0..PLAYS)
        .map(|_| {
            browser.click("button.stop");
            browser.wait_for("stopped", STATS, |s| s["state"] == "stopped");
            browser.click(&format!("tr.song[data-id='{id}']"));
            let stats = browser.wait_for("first sound", STATS, |s| {
                s["state"] == "playing" && s["song"] == id && s["first_sound_ms"].is_number()
            });
            number(&stats, "first_sound_ms")
        })
        .collect()
}

fn report(what: &str, mut times: Vec<f64>) {
    times.sort_by(f64::total_cmp);
    println!(
        "{what}, {} runs: p50 {:.0} ms, p95 {:.0} ms (min {:.0}, max {:.0})",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        times[0],
        times[times.len() - 1]
    );
}

fn main() {
    let dir = long_media();
    let system = System::start_on(&dir);
    let browser = Browser::start(free_port());
    browser.go(&system.page);
    browser.wait_for(
        "the long library",
        "return document.querySelectorAll('tr.song').length",
        |v| v == 2,
    );
    report(
        "scrubber click to new sound (mp3 256k, 60 min)",
        scrubber_clicks(&browser),
    );
    let mp3 = dir.join("1 long.mp3");
    let m4a = dir.join("2 long moov-last.m4a");
    report(
        &format!("click to first sound, mp3 ({:.0} MB)", size_mb(&mp3)),
        first_sounds(&browser, 1),
    );
    report(
        &format!(
            "click to first sound, moov-last m4a ({:.0} MB)",
            size_mb(&m4a)
        ),
        first_sounds(&browser, 2),
    );
}
