//! The page on a phone: a 390 x 844 viewport (an iPhone 12-15) in headless Chromium. The
//! transport sits in one row of large touch targets, the scrubber spans the width, the
//! now-playing bar stays compact and the library keeps most of the screen; and it all works.

use serde_json::Value;
use tapedeck_tests::system::{System, free_port};
use tapedeck_tests::webdriver::{Browser, screenshots};

const STATS: &str = "return window.tapedeck ? window.tapedeck.stats() : null";
const WIDTH: f64 = 390.0;
const HEIGHT: f64 = 844.0;
/// The smallest comfortable touch target, in CSS pixels (Apple's and WCAG 2.5.5's 44).
const TOUCH: f64 = 44.0;

/// The bounding boxes of every element matching `selector`: [left, top, width, height].
fn boxes(browser: &Browser, selector: &str) -> Vec<[f64; 4]> {
    let found = browser.run(&format!(
        "return Array.from(document.querySelectorAll(\"{selector}\")).map(e => {{\
         const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }})"
    ));
    found
        .as_array()
        .expect("an array")
        .iter()
        .map(|b| std::array::from_fn(|i| b[i].as_f64().unwrap_or(f64::NAN)))
        .collect()
}

fn one(browser: &Browser, selector: &str) -> [f64; 4] {
    let all = boxes(browser, selector);
    assert_eq!(all.len(), 1, "one {selector}");
    all[0]
}

#[test]
fn on_a_phone_the_controls_sit_in_one_row_and_work() {
    let system = System::start();
    let browser = Browser::start(free_port());
    browser.set_viewport(WIDTH as u32, HEIGHT as u32);
    browser.go(&system.page);
    browser.wait_for(
        "the library",
        "return document.querySelectorAll('tr.song').length",
        |v| v == 4,
    );
    let viewport = browser.run("return [window.innerWidth, window.innerHeight]");
    assert_eq!(viewport, serde_json::json!([390, 844]));
    browser.screenshot(&screenshots().join("phone-1-library.png"));

    // The transport: visible, in one row, each a large target.
    let transport = boxes(&browser, ".controls button");
    assert_eq!(transport.len(), 4, "previous, play, stop, next");
    for [left, top, width, height] in &transport {
        assert!(
            *width >= TOUCH && *height >= TOUCH,
            "a {width} x {height} button"
        );
        assert!(
            *left >= 0.0 && left + width <= WIDTH && *top >= 0.0 && top + height <= HEIGHT,
            "a button off the screen at {left}, {top}"
        );
        assert!(
            (top - transport[0][1]).abs() < 1.0,
            "the buttons are not in one row: {transport:?}"
        );
    }
    // The title is whole, the scrubber spans the width, the bar is compact.
    let title = browser.run(
        "const t = document.querySelector('.now-playing .title'); \
         return [t.textContent, t.scrollWidth <= t.clientWidth]",
    );
    assert_eq!(title, serde_json::json!(["Nothing playing", true]));
    let [_, _, scrubber, _] = one(&browser, ".now-playing .progress");
    assert!(
        scrubber >= 0.9 * (WIDTH - 32.0),
        "the scrubber is {scrubber} px wide"
    );
    let [_, bar_top, _, bar] = one(&browser, ".now-playing");
    assert!(
        bar <= 0.25 * HEIGHT && (bar_top + bar - HEIGHT).abs() < 1.0,
        "the bar is {bar} px high, at {bar_top}"
    );

    // Usable: play, pause, seek by touching the scrubber, next.
    browser.click(".controls button.toggle");
    browser.wait_for("playing", STATS, |s| s["state"] == "playing");
    browser.screenshot(&screenshots().join("phone-2-playing.png"));
    browser.click(".controls button.toggle");
    browser.wait_for("paused", STATS, |s| s["state"] == "paused");
    browser.click(".controls button.toggle");
    let playing = browser.wait_for("playing again", STATS, |s| s["state"] == "playing");
    let duration = number(&playing, "duration_s");
    // A touch at a quarter of the scrubber: a quarter into the song.
    browser.click_at(".now-playing .progress", 0.25);
    browser.wait_for("the seek to a quarter", STATS, |s| {
        s["state"] == "playing" && (number(s, "position_s") - duration / 4.0).abs() < 2.0
    });
    let song = playing["song"].as_u64();
    browser.click(".controls button[aria-label='Next']");
    browser.wait_for("the next song", STATS, |s| {
        s["state"] == "playing" && s["song"].as_u64() != song
    });
}

fn number(value: &Value, key: &str) -> f64 {
    value[key].as_f64().unwrap_or(f64::NAN)
}
