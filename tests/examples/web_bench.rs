//! The web app's figures in headless Chromium: click to first sound over 50 plays, the wasm
//! bundle's gzipped size, and page load to interactive.
//!
//! ```text
//! cargo xtask setup && trunk build --release --offline
//! cargo build --release -p tapedeck-server -p tapedeck-bridge -p tapedeck-tests --bins --examples
//! target/release/examples/web_bench
//! ```
//!
//! Click to first sound is what the page itself measures (`window.tapedeck.stats()
//! .first_sound_ms`): from the click handler asking for the song to the moment its first
//! buffer starts on the audio clock, across the round trip to the server, the first bytes,
//! decoding and the pre-buffer.

use std::time::Duration;

use serde_json::Value;
use tapedeck_tests::system::{System, dist, free_port};
use tapedeck_tests::webdriver::Browser;

const PLAYS: usize = 50;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn gzipped_wasm() -> (String, usize, usize) {
    let wasm = std::fs::read_dir(dist())
        .expect("dist (run trunk build --release)")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "wasm"))
        .expect("a wasm file");
    let raw = std::fs::metadata(&wasm).expect("stat").len() as usize;
    // gzip reads the file itself: feeding its stdin while its stdout fills would deadlock.
    let out = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(&wasm)
        .output()
        .expect("gzip");
    (
        wasm.file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned(),
        raw,
        out.stdout.len(),
    )
}

fn main() {
    let system = System::start();
    let browser = Browser::start(free_port());
    let page = system.page.clone();

    browser.go(&page);
    let interactive = browser.wait_for(
        "the library",
        "return document.querySelectorAll('tr.song').length === 4 ? performance.now() : null",
        Value::is_number,
    );
    let navigation = browser.run("const n = performance.getEntriesByType('navigation')[0]; return [n.domContentLoadedEventEnd, n.loadEventEnd]");

    let mut first_sound = Vec::with_capacity(PLAYS);
    for i in 0..PLAYS {
        let id = i % 4 + 1;
        browser.click(&format!("tr.song[data-id='{id}']"));
        let stats = browser.wait_for("playing", "return window.tapedeck.stats()", |s| {
            s["state"] == "playing" && s["song"] == id && s["first_sound_ms"].is_number()
        });
        first_sound.push(stats["first_sound_ms"].as_f64().expect("ms"));
        std::thread::sleep(Duration::from_millis(300));
    }
    first_sound.sort_by(f64::total_cmp);
    let (name, raw, gz) = gzipped_wasm();
    println!(
        "click to first sound, {PLAYS} plays: p50 {:.0} ms, p95 {:.0} ms (min {:.0}, max {:.0})",
        percentile(&first_sound, 0.5),
        percentile(&first_sound, 0.95),
        first_sound[0],
        first_sound[PLAYS - 1]
    );
    println!("wasm bundle {name}: {raw} bytes, {gz} bytes gzipped (-9)");
    println!(
        "page load: DOMContentLoaded {:.0} ms, load {:.0} ms; library shown (interactive) by {:.0} ms",
        navigation[0].as_f64().unwrap_or(f64::NAN),
        navigation[1].as_f64().unwrap_or(f64::NAN),
        interactive.as_f64().unwrap_or(f64::NAN)
    );
}
