//! The whole system in a real browser: the real server and bridge binaries, the built page,
//! and Debian's headless Chromium driven over WebDriver. Screenshots land in
//! `<target>/screenshots/` for a person to look at.

use serde_json::Value;
use tapedeck_tests::system::{self, System, free_port, server};
use tapedeck_tests::webdriver::{Browser, screenshots};
use tapedeck_tests::{Process, repo};

const STATS: &str = "return window.tapedeck ? window.tapedeck.stats() : null";
const ROWS: &str = "return document.querySelectorAll('tr.song').length";
const STATUS: &str = "return document.querySelector('.status').textContent";

fn number(value: &Value, key: &str) -> f64 {
    value[key].as_f64().unwrap_or(f64::NAN)
}

#[test]
fn the_page_lists_plays_switches_stops_searches_and_recovers() {
    let System {
        mut server,
        server_addr,
        mut bridge,
        page,
    } = System::start();
    let browser = Browser::start(free_port());
    let shots = screenshots();

    browser.go(&page);
    browser.wait_for("the demo library", ROWS, |v| v == 4);
    browser.screenshot(&shots.join("1-library.png"));

    browser.click("tr.song[data-id='2']");
    let playing = browser.wait_for("song 2 playing", STATS, |s| {
        s["state"] == "playing" && s["song"] == 2
    });
    let started = number(&playing, "position_s");
    let later = browser.wait_for("the position to advance", STATS, |s| {
        number(s, "position_s") > started + 0.5
    });
    assert_eq!(later["underruns"], 0, "{later}");
    assert!(
        later["first_sound_ms"].is_number() && number(&later, "bytes") > 0.0,
        "{later}"
    );
    browser.screenshot(&shots.join("2-playing.png"));

    // Seek (the server sends from there), pause (the position holds), resume.
    browser.run("window.tapedeck.seek(20)");
    browser.wait_for("song 2 playing from 20 s", STATS, |s| {
        s["state"] == "playing" && s["song"] == 2 && number(s, "position_s") >= 20.0
    });
    browser.click("button.toggle");
    browser.wait_for("paused", STATS, |s| s["state"] == "paused");
    // The audio clock stops a moment after the click (suspending is asynchronous); from then
    // on the position holds.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let paused = browser.run(STATS);
    let held = number(&paused, "position_s");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let still = browser.run(STATS);
    assert_eq!(still["state"], "paused");
    assert!(
        (number(&still, "position_s") - held).abs() < 0.01,
        "{still} after {paused}"
    );
    browser.click("button.toggle");
    browser.wait_for("playing on from where it paused", STATS, |s| {
        s["state"] == "playing" && number(s, "position_s") > held
    });

    browser.click("tr.song[data-id='3']");
    let switched = browser.wait_for("song 3 playing", STATS, |s| {
        s["state"] == "playing" && s["song"] == 3
    });
    assert_eq!(switched["underruns"], 0, "{switched}");

    browser.click("button.stop");
    browser.wait_for("stopped", STATS, |s| {
        s["state"] == "stopped" && s["song"].is_null()
    });

    browser.type_into("input.search", "night");
    browser.wait_for("the search to filter", ROWS, |v| v == 1);
    browser.screenshot(&shots.join("3-search.png"));
    browser.type_into("input.search", "\u{e003}\u{e003}\u{e003}\u{e003}\u{e003}");
    browser.wait_for("the search to clear", ROWS, |v| v == 4);

    // Keyboard: ? opens the help, space plays, down lowers the volume (remembered over a reload).
    let key = |k: &str| {
        browser.run(&format!(
            "document.dispatchEvent(new KeyboardEvent('keydown', {{key: '{k}', bubbles: true}}))"
        ))
    };
    key("?");
    browser.wait_for(
        "the help overlay",
        "return document.querySelectorAll('.help kbd').length",
        |v| v == 9,
    );
    browser.screenshot(&shots.join("3b-help.png"));
    key("?");
    browser.wait_for(
        "the help to close",
        "return document.querySelector('.help') === null",
        |v| v == true,
    );
    key(" ");
    browser.wait_for("space to play", STATS, |s| s["state"] == "playing");
    key("ArrowDown");
    key("ArrowDown");
    browser.wait_for(
        "the volume to be remembered",
        "return localStorage.getItem('tapedeck.volume')",
        |v| {
            v.as_str()
                .and_then(|t| t.parse::<f64>().ok())
                .is_some_and(|x| (x - 0.8).abs() < 1e-3)
        },
    );
    browser.click("button[aria-label='Stats for nerds']");
    browser.wait_for(
        "stats for nerds",
        "return document.querySelectorAll('.nerd-stats dt').length",
        |v| v == 6,
    );
    browser.screenshot(&shots.join("3c-stats.png"));
    browser.refresh();
    browser.wait_for("the library after a reload", ROWS, |v| v == 4);
    browser.wait_for(
        "the remembered volume",
        "return document.querySelector('input.volume').value",
        |v| v == "80",
    );

    server.crash();
    browser.wait_for("the disconnection to show", STATUS, |v| {
        v.as_str().is_some_and(|t| t.starts_with("Disconnected"))
    });
    browser.screenshot(&shots.join("4-disconnected.png"));

    let _restarted = server_on(&server_addr);
    browser.wait_for("the reconnection", STATUS, |v| v == "Connected");
    browser.wait_for("the library again, without a reload", ROWS, |v| v == 4);
    browser.click("tr.song[data-id='1']");
    browser.wait_for("song 1 playing after recovery", STATS, |s| {
        s["state"] == "playing" && s["song"] == 1
    });
    browser.screenshot(&shots.join("5-recovered.png"));

    // The bridge dies mid-song: the page says so, plays on what it holds, and once the bridge
    // is back goes on with the same song from where it is, without a click or a reload.
    let before = browser.wait_for("song 1 well under way", STATS, |s| {
        s["song"] == 1 && number(s, "position_s") > 2.0
    });
    bridge.crash();
    browser.wait_for("the lost bridge to show", STATUS, |v| {
        v.as_str().is_some_and(|t| t.starts_with("Disconnected"))
    });
    let listen = page.trim_start_matches("http://").trim_end_matches('/');
    let _bridge = system::bridge(&server_addr, listen, &system::dist());
    browser.wait_for("the reconnection to the bridge", STATUS, |v| {
        v == "Connected"
    });
    browser.wait_for("the library again", ROWS, |v| v == 4);
    let resumed = browser.wait_for("song 1 going on", STATS, |s| {
        s["state"] == "playing" && s["song"] == 1
    });
    let (was, now) = (
        number(&before, "position_s"),
        number(&resumed, "position_s"),
    );
    assert!(
        now >= was && now < was + 15.0,
        "resumed at {now} s, it was at {was} s"
    );
    browser.click("tr.song[data-id='4']");
    browser.wait_for("song 4 playing after the bridge returned", STATS, |s| {
        s["state"] == "playing" && s["song"] == 4
    });
}

/// A server on exactly `addr` again (the port was just freed by the kill).
fn server_on(addr: &str) -> Process {
    let restarted = server(&repo().join("music"), addr);
    restarted.addr("serving");
    restarted
}

/// A library whose `info` is over the bridge's limit (here lowered to 500 octets): the page
/// shows the error and stays connected, instead of reconnecting and asking again forever.
#[test]
fn a_reply_too_large_for_the_bridge_is_shown_not_retried() {
    let server = server(&repo().join("music"), "127.0.0.1:0");
    let server_addr = server.addr("serving").to_string();
    let dist = system::dist();
    let web = dist.to_str().expect("utf-8 path");
    let args = [
        "--listen",
        "127.0.0.1:0",
        "--server",
        &server_addr,
        "--web",
        web,
        "--max-reply-len",
        "500",
    ];
    let bridge = Process::start(&tapedeck_tests::binary("tapedeck-bridge"), &args);
    let page = format!("http://{}/", bridge.addr("bridge listening"));
    let browser = Browser::start(free_port());
    browser.go(&page);
    let error = "return (document.querySelector('.error') || {}).textContent || null";
    browser.wait_for("the error", error, |v| {
        v.as_str()
            .is_some_and(|t| t.contains("reply too large (over 500 octets)"))
    });
    // Connected all along: no reconnection, so no second session and no second `info`.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(browser.run(STATUS), "Connected");
    assert!(
        browser
            .run(error)
            .as_str()
            .is_some_and(|t| t.contains("too large"))
    );
    assert_eq!(browser.run(ROWS), 0);
}

/// A song copied into the music folder while the page is open appears in it, and a removed
/// one goes, without a reload (the server follows the disk and tells the page).
#[test]
fn the_page_follows_songs_added_and_removed_on_disk() {
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(repo().join("music")).expect("demo") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e != "sh") {
            let name = path.file_name().expect("name");
            std::fs::copy(&path, dir.path().join(name)).expect("copy");
        }
    }
    let system = System::start_on(dir.path());
    let browser = Browser::start(free_port());
    browser.go(&system.page);
    browser.wait_for("the library", ROWS, |v| v == 4);
    std::fs::copy(
        dir.path().join("04 Small Hours.wav"),
        dir.path().join("05 Encore.wav"),
    )
    .expect("add");
    browser.wait_for("the added song", ROWS, |v| v == 5);
    std::fs::remove_file(dir.path().join("01 Morning Tape.mp3")).expect("remove");
    browser.wait_for("the removed song gone", ROWS, |v| v == 4);
    assert_eq!(browser.run(STATUS), "Connected");
}
