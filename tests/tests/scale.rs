//! A library of 100,000 songs end to end: the real server and bridge, the built page, headless
//! Chromium. The page shows it at once without ever asking for the whole library (no reply
//! grows with it), keeps only the rows in view in the DOM, scrolls to any place, plays what
//! is shown and goes on to the next place shown, searches on the server and sorts by the
//! server's orders. (Timings are in BENCHMARKS.md, never here.)

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

use serde_json::Value;
use tapedeck_tests::fixtures::large_library;
use tapedeck_tests::system::{System, free_port};
use tapedeck_tests::webdriver::Browser;

const SONGS: usize = 100_000;
const STATS: &str = "return window.tapedeck ? window.tapedeck.stats() : null";
const ROWS: &str = "return document.querySelectorAll('tr.song').length";
const NOTE: &str = "const n = document.querySelector('.note'); return n ? n.textContent : ''";
const ERROR: &str =
    "const e = document.querySelector('.statusbar .error'); return e ? e.textContent : ''";

/// One command on a fresh control connection; its reply line.
fn ask(addr: &str, command: &str) -> Value {
    let mut stream = TcpStream::connect(addr).expect("connect");
    writeln!(stream, "{command}").expect("send");
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).expect("reply");
    serde_json::from_str(&line).unwrap_or_else(|_| panic!("{command}: {line}"))
}

/// The id of the song at `place` in `order`, as the server says.
fn id_at(addr: &str, place: usize, order: &str) -> u64 {
    let page = ask(addr, &format!("songs {place} 1 {order}"));
    page["songs"][0]["id"].as_u64().expect("a song there")
}

fn row(id: u64) -> String {
    format!("tr.song[data-id='{id}']")
}

fn present(browser: &Browser, what: &str, selector: &str) {
    let script = format!("return document.querySelector(\"{selector}\") !== null");
    browser.wait_for(what, &script, |v| v == true);
}

fn scroll_to_place(browser: &Browser, place: usize) {
    browser.run(&format!(
        "const r = document.querySelector('.rows'); r.scrollTop = {place} * 36; \
         r.dispatchEvent(new Event('scroll'))"
    ));
}

#[test]
fn a_hundred_thousand_songs_show_scroll_play_search_and_sort() {
    let music = large_library(SONGS);
    let system = System::start_on(music.path());
    let addr = system.server_addr.clone();
    let browser = Browser::start(free_port());
    browser.go(&system.page);

    // Shown at once: the first rows, and only about a screenful of them.
    let first = id_at(&addr, 0, "title");
    present(&browser, "the first song by title", &row(first));
    let rows = browser.run(ROWS).as_u64().expect("a count");
    assert!((5..=100).contains(&rows), "{rows} rows in the DOM");
    let height = browser.run(
        "return [document.querySelector('.rows').scrollHeight, \
         document.querySelector('tr.song').getBoundingClientRect().height]",
    );
    assert_eq!(
        height[1], 36.0,
        "a row is exactly the height the list counts with"
    );
    let table = height[0].as_f64().expect("a height");
    assert!(
        table >= SONGS as f64 * 36.0,
        "the table holds every place: {table} px"
    );

    // Any place, by scrolling: its page is fetched, its row made; a click plays it.
    let middle = id_at(&addr, 50_000, "title");
    scroll_to_place(&browser, 50_000);
    present(&browser, "the song at place 50,000", &row(middle));
    let rows = browser.run(ROWS).as_u64().expect("a count");
    assert!(rows <= 100, "{rows} rows in the DOM after the scroll");
    browser.click(&row(middle));
    browser.wait_for("the middle song playing", STATS, |s| {
        s["state"] == "playing" && s["song"] == middle
    });
    // Next is the next place shown.
    let after = id_at(&addr, 50_001, "title");
    browser.click("button[aria-label='Next']");
    browser.wait_for("the next place's song playing", STATS, |s| {
        s["state"] == "playing" && s["song"] == after
    });
    browser.click("button[aria-label='Stop']");

    // Search runs on the server: the one song, found among 100,000.
    browser.type_into("input.search", "song 77777");
    let wanted = ask(&addr, "search 1 song 77777")["songs"][0]["id"]
        .as_u64()
        .expect("found");
    present(&browser, "the song searched for", &row(wanted));
    browser.wait_for("the count of matches", NOTE, |v| {
        v.as_str().is_some_and(|n| n.contains("match"))
    });
    let rows = browser.run(ROWS).as_u64().expect("a count");
    assert!(rows <= 20, "{rows} rows for one match");
    // Typing a broad query: the best 1,000 of many.
    browser.type_into("input.search", "\u{e003}\u{e003}\u{e003}\u{e003}\u{e003}7");
    browser.wait_for("a broad search", NOTE, |v| {
        v.as_str()
            .is_some_and(|n| n.starts_with("The best 1000 of"))
    });
    // Cleared: the library again, sorted by time (the server's order) from the top.
    browser.type_into("input.search", &"\u{e003}".repeat(12));
    browser.click("th:nth-child(4) button");
    let shortest = id_at(&addr, 0, "duration");
    present(&browser, "the library by time", &row(shortest));
    assert_eq!(browser.run(ERROR), "", "no error on the way");
}
