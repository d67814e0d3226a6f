//! Every error a song can raise, through the real page: a codec the decoder lacks, garbage
//! after a good start, a file cut in half, a file whose content is not its extension's, and a
//! stream that ends early. Each is shown (or plays as far as it can), the app never crashes,
//! and the next click plays a good song (Opus among them).

use std::path::Path;

use serde_json::Value;
use tapedeck_tests::fixtures::demo_music;
use tapedeck_tests::media::ffmpeg;
use tapedeck_tests::system::{System, free_port};
use tapedeck_tests::webdriver::Browser;

const STATS: &str = "return window.tapedeck ? window.tapedeck.stats() : null";
const ERROR: &str =
    "const e = document.querySelector('.statusbar .error'); return e ? e.textContent : ''";
const CRASHED: &str = "return document.querySelector('.crash') !== null";
const ROWS: &str = "return document.querySelectorAll('tr.song').length";

/// The demo library and the bad songs, ids in name order: 1-4 are the demo songs.
fn library(dir: &Path) {
    for entry in std::fs::read_dir(demo_music()).expect("demo music") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e != "sh") {
            std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copy");
        }
    }
    let mp3 = std::fs::read(demo_music().join("01 Morning Tape.mp3")).expect("mp3");
    let flac = std::fs::read(demo_music().join("02 Night Drive.flac")).expect("flac");
    // 5: IMA ADPCM in an AIFF-C file, a codec the decoder does not have (lofty reads the file,
    // so the server lists it; an ADPCM WAV it would not).
    ffmpeg(
        &["-f", "lavfi", "-i", "sine=d=3", "-c:a", "adpcm_ima_qt"],
        &dir.join("05 Adpcm.aiff"),
    );
    // 9: Opus, which plays (a pure-Rust decoder).
    ffmpeg(
        &["-f", "lavfi", "-i", "sine=d=3", "-c:a", "libopus"],
        &dir.join("09 Opus.opus"),
    );
    // 6: a good start, then garbage.
    let mut garbage = mp3[..64 * 1024].to_vec();
    let mut x = 0x2545_f491u32;
    garbage.extend((0..400_000).map(|_| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as u8
    }));
    std::fs::write(dir.join("06 Garbage.mp3"), garbage).expect("write");
    // 7: half a FLAC file.
    std::fs::write(dir.join("07 Truncated.flac"), &flac[..flac.len() / 2]).expect("write");
    // 8: an mp3 that says it is Ogg.
    std::fs::write(dir.join("08 Impostor.ogg"), &mp3).expect("write");
}

/// Clicks song `id`, waits until the page has dealt with it (an error shown, the song
/// stopped or ended and the next one began, or played past `past_s` seconds, beyond where it
/// goes bad), and checks the app is
/// alive: no crash, and `stats()` answers. Returns the error shown, if any.
fn survive(browser: &Browser, id: u32, past_s: f64) -> String {
    browser.run("window.__seen = false");
    browser.click(&format!("tr.song[data-id='{id}']"));
    // `seen`: the song was taken up, buffering or playing (before the click, and for a moment
    // after it, the state is "stopped").
    let script = format!(
        "const stats = (function(){{ {STATS} }})(); \
         window.__seen = window.__seen || (stats && stats.song === {id} && stats.state !== 'stopped'); \
         return {{shown: (function(){{ {ERROR} }})(), seen: window.__seen, stats: stats}}"
    );
    let done = |v: &Value| {
        let (stats, seen) = (&v["stats"], v["seen"] == true);
        let position = stats["position_s"].as_f64().unwrap_or(0.0);
        v["shown"].as_str().is_some_and(|e| !e.is_empty())
            || seen && stats["state"] == "stopped"
            || seen && stats["song"] != id
            || seen && stats["state"] == "playing" && position > past_s
    };
    let seen = browser.wait_for(&format!("song {id} to be dealt with"), &script, done);
    assert_eq!(
        browser.run(CRASHED),
        Value::Bool(false),
        "song {id} crashed the app"
    );
    assert!(
        browser.run(STATS).is_object(),
        "stats() answers after song {id}"
    );
    seen["shown"].as_str().unwrap_or_default().to_owned()
}

/// The next click plays a good song.
fn good_song_plays(browser: &Browser, id: u32) {
    browser.click(&format!("tr.song[data-id='{id}']"));
    browser.wait_for(&format!("good song {id} playing"), STATS, |s| {
        s["state"] == "playing" && s["song"] == id
    });
}

#[test]
fn every_bad_song_is_survived_and_the_next_click_plays() {
    let dir = tempfile::tempdir().expect("tempdir");
    library(dir.path());
    let system = System::start_on(dir.path());
    let browser = Browser::start(free_port());
    browser.go(&system.page);
    browser.wait_for("the library", ROWS, |v| v == 9);

    let error = survive(&browser, 5, f64::INFINITY);
    // The decoder refuses the compression as it reads the header: "... IMA ADPCM (ima4) is
    // not supported".
    assert!(
        error.contains("not supported"),
        "the error says why: {error}"
    );
    good_song_plays(&browser, 1);
    // Garbage from 2.7 s on; half a FLAC ends at 12.9 s; the impostor is a whole mp3.
    for (bad, past_s, good) in [(6, 6.0, 2), (7, f64::INFINITY, 3), (8, 3.0, 4)] {
        survive(&browser, bad, past_s);
        good_song_plays(&browser, good);
    }
    good_song_plays(&browser, 9);
    // A stream that ends early: the file shrinks on disk while it streams.
    let long = dir.path().join("04 Small Hours.wav");
    good_song_plays(&browser, 4);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&long)
        .expect("open");
    file.set_len(700_000).expect("truncate");
    let error = browser.wait_for("the early end to be shown", ERROR, |v| {
        v.as_str().is_some_and(|e| e.contains("ended early"))
    });
    assert!(error.is_string());
    assert_eq!(browser.run(CRASHED), Value::Bool(false));
    good_song_plays(&browser, 1);
}
