//! The page with a large library, in headless Chromium through the real server and bridge
//! (release builds):
//!
//! - page load to the library shown: from navigation start to the first frame with a row of
//!   songs in it (`performance.now()` in the page, found frame by frame), 10 loads;
//! - per keystroke in the search box: from the input event to the frame showing that query's
//!   results from the server (`data-query` of the library), and to the next frame (what the
//!   keystroke itself costs the page), over 40 keystrokes of four queries;
//! - a scroll to a random place to its rows shown (its page fetched), 30 scrolls;
//! - the WebAssembly heap after all of it (`stats().wasm_bytes`).
//!
//! ```text
//! cargo xtask setup && trunk build --release --offline
//! cargo build --release -p tapedeck-server -p tapedeck-bridge -p tapedeck-tests --bins --examples
//! target/release/examples/page_bench --songs 1000000
//! ```
//!
//! The library (hard links, `tapedeck_tests::fixtures::make_large_library`) is made once in
//! `target/bench-page-library-<songs>/`.

use std::time::Instant;

use serde_json::Value;
use tapedeck_tests::fixtures::make_large_library;
use tapedeck_tests::repo;
use tapedeck_tests::system::{System, free_port};
use tapedeck_tests::webdriver::Browser;

const LOADS: usize = 10;
const SCROLLS: usize = 30;
const QUERIES: [&str; 4] = [
    "song 12345",
    "artist 00777",
    "07 song 9",
    "album 3 song 4242",
];

fn songs_arg() -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|w| w[0] == "--songs")
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(1_000_000)
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn summary(name: &str, values: &[f64]) {
    println!(
        "{name}: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({} samples)",
        percentile(values, 0.5),
        percentile(values, 0.95),
        percentile(values, 1.0),
        values.len()
    );
}

/// Waits, frame by frame, until `condition` (a JavaScript expression) holds; the callback
/// gets `performance.now()` of that frame.
fn until_frame(condition: &str) -> String {
    format!(
        "const done = arguments[arguments.length - 1]; \
         const check = () => ({condition}) ? done(performance.now()) : requestAnimationFrame(check); \
         check();"
    )
}

fn page_load(browser: &Browser, page: &str) -> f64 {
    browser.go(page);
    let shown = browser.run_async(&until_frame("document.querySelector('tr.song') !== null"));
    shown.as_f64().expect("a time")
}

/// Types `query` one character at a time; each keystroke's time to its results and to the
/// next frame.
fn keystrokes(browser: &Browser, query: &str) -> Vec<(f64, f64)> {
    browser.run("const s = document.querySelector('input.search'); s.value = ''; s.dispatchEvent(new Event('input', {bubbles: true}))");
    let mut typed = String::new();
    let mut times = Vec::new();
    for c in query.chars() {
        typed.push(c);
        let words = typed.split_whitespace().collect::<Vec<_>>().join(" ");
        if words.is_empty() {
            continue;
        }
        let script = format!(
            "const done = arguments[arguments.length - 1]; \
             const s = document.querySelector('input.search'); \
             const t0 = performance.now(); let frame = null; \
             s.value = {typed:?}; s.dispatchEvent(new Event('input', {{bubbles: true}})); \
             requestAnimationFrame(() => {{ frame = performance.now() - t0; }}); \
             const check = () => (frame !== null && document.querySelector('.library').dataset.query === {words:?}) \
                ? done([performance.now() - t0, frame]) : requestAnimationFrame(check); \
             check();"
        );
        let value = browser.run_async(&script);
        let at = |i: usize| value[i].as_f64().expect("a time");
        times.push((at(0), at(1)));
    }
    times
}

/// Scrolls to `place`; the time until its row is shown.
fn scroll(browser: &Browser, place: usize, songs: usize) -> f64 {
    let script = format!(
        "const done = arguments[arguments.length - 1]; \
         const r = document.querySelector('.rows'); \
         const t0 = performance.now(); \
         r.scrollTop = (r.scrollHeight - r.clientHeight) * {place} / {songs}; \
         r.dispatchEvent(new Event('scroll')); \
         const check = () => {{ \
           const rows = [...document.querySelectorAll('tbody tr')].filter(t => {{ \
             const b = t.getBoundingClientRect(), v = r.getBoundingClientRect(); \
             return b.bottom > v.top + 40 && b.top < v.bottom; }}); \
           return rows.length > 0 && rows.every(t => t.classList.contains('song')) \
             ? done(performance.now() - t0) : requestAnimationFrame(check); }}; \
         requestAnimationFrame(check);"
    );
    browser.run_async(&script).as_f64().expect("a time")
}

fn main() {
    let songs = songs_arg();
    let dir = repo()
        .join("target")
        .join(format!("bench-page-library-{songs}"));
    if !dir.join(".complete").exists() {
        let started = Instant::now();
        let _ = std::fs::remove_dir_all(&dir);
        make_large_library(&dir, songs);
        std::fs::write(dir.join(".complete"), b"").expect("marker");
        eprintln!(
            "made {songs} songs in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    let started = Instant::now();
    let system = System::start_on(&dir);
    eprintln!("serving after {:.1} s", started.elapsed().as_secs_f64());
    let browser = Browser::start(free_port());

    let loads: Vec<f64> = (0..LOADS)
        .map(|_| page_load(&browser, &system.page))
        .collect();
    summary("page load to the library shown", &loads);

    let mut results = Vec::new();
    let mut frames = Vec::new();
    for query in QUERIES {
        let times = keystrokes(&browser, query);
        let each: Vec<String> = times.iter().map(|(r, _)| format!("{r:.0}")).collect();
        println!("  {query:?}: {} ms", each.join(" "));
        for (result, frame) in times {
            results.push(result);
            frames.push(frame);
        }
    }
    summary("keystroke to its results shown", &results);
    summary("keystroke to the next frame", &frames);

    browser.run("const s = document.querySelector('input.search'); s.value = ''; s.dispatchEvent(new Event('input', {bubbles: true}))");
    let mut seed = 0x2545_f491_u64;
    let scrolls: Vec<f64> = (0..SCROLLS)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            scroll(&browser, (seed % songs as u64) as usize, songs)
        })
        .collect();
    summary("scroll to a random place to its rows shown", &scrolls);
    let stats: Value = browser.run("return window.tapedeck.stats()");
    let heap = stats["wasm_bytes"].as_f64().unwrap_or(f64::NAN);
    println!("wasm heap after all of it: {:.1} MiB", heap / 1_048_576.0);
}
