//! What the page really outputs, recorded with `window.tapedeck.capture` in headless Chromium
//! on the real audio clock: two queued songs join without a seam, a seek lands on its sample
//! and nothing of the earlier play follows it, pause and resume lose and repeat nothing.
//!
//! The songs are tones made for the purpose, so that a lost, repeated or foreign sample shows:
//! a pure sine obeys `x[n+1] + x[n-1] = 2 cos(w) x[n]` at every sample, and a seam breaks it.

use std::f64::consts::PI;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tapedeck_tests::media::ffmpeg;
use tapedeck_tests::system::{System, free_port};
use tapedeck_tests::webdriver::Browser;

const STATS: &str = "return window.tapedeck ? window.tapedeck.stats() : null";
const RATE: u32 = 48_000;
/// The split sine: 1 kHz, its first 4 s in song 1 (FLAC), the next 6 s in song 2 (WAV).
const SINE_HZ: f64 = 1000.0;
const AMPLITUDE: f64 = 0.5;
/// Song 3's second `k` is a tone of `310 + 200 k` Hz for 0.9 s, then 0.1 s of silence.
const STEP_HZ: [f64; 2] = [310.0, 200.0];

fn library(dir: &Path) {
    let sine = format!("sine=frequency={SINE_HZ}:sample_rate={RATE}:duration=10");
    let gain = "volume=4"; // ffmpeg's sine has amplitude 1/8
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &sine,
            "-af",
            &format!("{gain},atrim=end_sample=192000"),
        ],
        &dir.join("1 first half.flac"),
    );
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &sine,
            "-af",
            &format!("{gain},atrim=start_sample=192000,asetpts=N/SR/TB"),
            "-c:a",
            "pcm_s16le",
        ],
        &dir.join("2 second half.wav"),
    );
    let [base, step] = STEP_HZ;
    let steps = format!(
        "aevalsrc='{AMPLITUDE}*sin(2*PI*({base}+{step}*floor(t))*t)*lt(mod(t\\,1)\\,0.9)':s={RATE}:d=10"
    );
    ffmpeg(&["-f", "lavfi", "-i", &steps], &dir.join("3 steps.flac"));
}

/// A started system on the tone library and a browser on its page.
/// One test at a time: each records the real audio clock, and four pages rendering audio at
/// once on a busy two-core machine miss their deadlines (CI saw a 128-frame glitch at the start
/// of a capture while the other three ran).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The tone library served, and a page showing it; the guard keeps the other tests waiting.
fn start() -> (
    std::sync::MutexGuard<'static, ()>,
    tempfile::TempDir,
    System,
    Browser,
) {
    let turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().expect("temp dir");
    library(dir.path());
    let system = System::start_on(dir.path());
    let browser = Browser::start(free_port());
    browser.go(&system.page);
    browser.wait_for(
        "the tone library",
        "return document.querySelectorAll('tr.song').length",
        |v| v == 3,
    );
    (turn, dir, system, browser)
}

/// Starts a capture of `seconds`; [`collect`] waits for it.
fn begin_capture(browser: &Browser, seconds: f64) {
    browser.run(&format!(
        "window.captured = null; window.tapedeck.capture({seconds}).then(\
         c => window.captured = {{rate: c.rate, samples: Array.from(c.samples)}},\
         e => window.captured = {{error: String(e)}}); return null"
    ));
}

/// The finished capture: its rate and samples.
fn collect(browser: &Browser) -> (f64, Vec<f64>) {
    let captured = browser.wait_for("the capture", "return window.captured", |v| !v.is_null());
    assert!(captured["error"].is_null(), "capture failed: {captured}");
    let rate = captured["rate"].as_f64().expect("rate");
    let samples = captured["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .map(|s| s.as_f64().unwrap_or(f64::NAN))
        .collect();
    (rate, samples)
}

/// How far each sample strays from a sine of `hz` through its neighbours.
fn residual(samples: &[f64], hz: f64, rate: f64) -> Vec<f64> {
    let c = 2.0 * (2.0 * PI * hz / rate).cos();
    let mut out = vec![0.0; samples.len()];
    for n in 1..samples.len().saturating_sub(1) {
        out[n] = (samples[n + 1] + samples[n - 1] - c * samples[n]).abs();
    }
    out
}

/// The largest residual against a sine of `hz` (and where), the edges left out.
fn worst_seam(samples: &[f64], hz: f64, rate: f64) -> (usize, f64) {
    let residuals = residual(samples, hz, rate);
    let inner = residuals.len().saturating_sub(1);
    (1..inner).fold((0, 0.0), |worst, n| {
        if residuals[n] > worst.1 {
            (n, residuals[n])
        } else {
            worst
        }
    })
}

fn playing(browser: &Browser, song: u64, from: f64) -> Value {
    browser.wait_for(&format!("song {song} past {from} s"), STATS, |s| {
        s["state"] == "playing" && s["song"] == song && s["position_s"].as_f64() > Some(from)
    })
}

/// The samples from 6 before `at` to 6 after, to tell a failure's kind from its message (a
/// lost or repeated sample, or silence before a tone's start).
fn around(samples: &[f64], at: usize) -> &[f64] {
    &samples[at.saturating_sub(6)..(at + 7).min(samples.len())]
}

/// A seam a sample wide (one lost or repeated) moves the residual by about `A w`: 0.065 here.
const SEAM: f64 = 0.01;

/// `Err(message)` unless `cond`: a check of what the real audio clock recorded.
macro_rules! heard {
    ($cond:expr, $($message:tt)+) => {
        let held: bool = $cond;
        if !held {
            return Err(format!($($message)+));
        }
    };
}

/// Runs `scenario`, and once more on a fresh page and system if what it recorded fails a
/// check: the test fails only if both attempts do. Chromium keeps the audio clock in step
/// with an output that missed its deadlines by skipping frames: on a busy two-core machine a
/// capture can hold such a skip (CI saw 8 frames vanish mid-song, with no underrun and no
/// silence, once in many runs). A fault of the page repeats; the platform's skip does not.
/// The joins are checked to the sample on a clock that cannot skip in `web/tests/gapless.rs`.
fn on_the_real_clock(scenario: fn() -> Result<(), String>) {
    if let Err(first) = scenario() {
        eprintln!("the first attempt failed ({first}): once more, on a fresh page");
        if let Err(second) = scenario() {
            panic!("{second} (and the first attempt: {first})");
        }
    }
}

#[test]
fn two_queued_songs_join_continuous_in_phase_and_level() {
    on_the_real_clock(two_queued_songs_join);
}

fn two_queued_songs_join() -> Result<(), String> {
    let (_turn, _dir, _system, browser) = start();
    browser.click("tr.song[data-id='1']");
    playing(&browser, 1, 1.5);
    // From 1.5 s into the 4 s song to about 2 s into the next one: the join is in the middle.
    begin_capture(&browser, 4.5);
    let (rate, samples) = collect(&browser);
    let stats = browser.run(STATS);
    assert_eq!(stats["song"], 2, "the queued song took over: {stats}");
    heard!(stats["underruns"] == 0, "underruns: {stats}");
    assert_eq!(
        rate,
        f64::from(RATE),
        "the context runs at the songs' rate here"
    );
    let worst = worst_seam(&samples, SINE_HZ, rate);
    heard!(
        worst.1 < SEAM,
        "a seam at sample {} of {}: residual {}; around it {:?}",
        worst.0,
        samples.len(),
        worst.1,
        around(&samples, worst.0)
    );
    for (i, block) in samples.chunks_exact(480).enumerate() {
        let rms = (block.iter().map(|s| s * s).sum::<f64>() / 480.0).sqrt();
        let want = AMPLITUDE / 2f64.sqrt();
        heard!(
            (rms - want).abs() < 0.01 * want,
            "level {rms} in block {i} (want {want})"
        );
    }
    Ok(())
}

#[test]
fn pause_and_resume_lose_and_repeat_nothing() {
    on_the_real_clock(pause_and_resume);
}

fn pause_and_resume() -> Result<(), String> {
    let (_turn, _dir, _system, browser) = start();
    browser.click("tr.song[data-id='2']");
    playing(&browser, 2, 0.3);
    begin_capture(&browser, 2.0);
    std::thread::sleep(Duration::from_millis(600));
    browser.click("button.toggle");
    browser.wait_for("paused", STATS, |s| s["state"] == "paused");
    std::thread::sleep(Duration::from_millis(700));
    browser.click("button.toggle");
    browser.wait_for("playing again", STATS, |s| s["state"] == "playing");
    let (rate, samples) = collect(&browser);
    let (at, worst) = worst_seam(&samples, SINE_HZ, rate);
    heard!(
        worst < SEAM,
        "a seam across the pause at {at}: residual {worst}; around it {:?}",
        around(&samples, at)
    );
    let quiet = samples.iter().filter(|s| s.abs() < 1e-6).count();
    heard!(
        quiet < 4,
        "{quiet} silent samples: the pause was recorded as a gap"
    );
    Ok(())
}

#[test]
fn a_seek_lands_on_its_sample_and_nothing_earlier_follows() {
    on_the_real_clock(a_seek_lands);
}

fn a_seek_lands() -> Result<(), String> {
    let (_turn, _dir, _system, browser) = start();
    browser.click("tr.song[data-id='3']");
    playing(&browser, 3, 1.2);
    begin_capture(&browser, 2.0);
    browser.run("window.tapedeck.seek(7.37)");
    let (rate, samples) = collect(&browser);
    let [base, step] = STEP_HZ;
    let (seven, eight) = (base + 7.0 * step, base + 8.0 * step);
    // The new sound: the first stretch of 100 samples that is a clean tone of second 7.
    let tone = residual(&samples, seven, rate);
    let clean = |n: usize| tone[n] < SEAM && samples[n].abs() > 1e-6;
    let Some(found) = (1..samples.len() - 100).find(|&n| (n..n + 100).all(clean)) else {
        return Err("no tone of second 7 after the seek".into());
    };
    let onset = (1..=found)
        .rev()
        .take_while(|&n| clean(n))
        .last()
        .unwrap_or(found);
    // Second 7's tone ends at 7.9 s: 0.53 s after the seek's position, to the sample.
    let end =
        (onset..samples.len()).find(|&n| samples[n..].iter().take(48).all(|s| s.abs() < 1e-6));
    let Some(end) = end else {
        return Err("no silence at 7.9 s".into());
    };
    let want = (0.53 * rate).round() as usize;
    let lasted = end - onset;
    heard!(
        lasted.abs_diff(want) <= 1,
        "the tone of second 7 lasted {lasted} samples from the seek, want {want}"
    );
    // After the onset, only seconds 7 and 8 sound: nothing of the play before the seek.
    let after = residual(&samples, eight, rate);
    for n in onset + 1..samples.len() - 1 {
        let silent = samples[n].abs() < 1e-6;
        let ours = tone[n] < SEAM || after[n] < SEAM;
        let edge = (n as isize - end as isize).abs() <= 1 || samples[n - 1].abs() < 1e-6;
        heard!(
            silent || ours || edge,
            "sample {n} ({}) after the seek's onset at {onset} is neither {seven} nor {eight} Hz",
            samples[n]
        );
    }
    Ok(())
}

/// Repeat one: song 1 (4 s of a 1 kHz sine at 48 kHz, exactly 4,000 periods) loops into
/// itself without a seam.
#[test]
fn repeat_one_loops_without_a_seam() {
    on_the_real_clock(repeat_one_loops);
}

fn repeat_one_loops() -> Result<(), String> {
    let (_turn, _dir, _system, browser) = start();
    let repeat = "button.mode[aria-label^='Repeat']";
    browser.click(repeat);
    browser.click(repeat);
    browser.wait_for(
        "repeat one",
        &format!("return document.querySelector(\"{repeat}\").textContent"),
        |v| v == "Repeat: one",
    );
    browser.click("tr.song[data-id='1']");
    playing(&browser, 1, 2.0);
    begin_capture(&browser, 3.0);
    let (rate, samples) = collect(&browser);
    let stats = browser.run(STATS);
    assert_eq!(stats["song"], 1, "{stats}");
    heard!(stats["position_s"].as_f64() < Some(3.5), "looped: {stats}");
    let (at, worst) = worst_seam(&samples, SINE_HZ, rate);
    heard!(
        worst < SEAM,
        "a seam in the loop at {at}: residual {worst}; around it {:?}",
        around(&samples, at)
    );
    let quiet = samples.iter().filter(|s| s.abs() < 1e-6).count();
    heard!(quiet < 4, "{quiet} silent samples: a gap in the loop");
    Ok(())
}
