//! Cover art in the page (headless Chromium, the real server and bridge): rows of songs with
//! art show it (loaded from `/art/<id>`), rows without keep an empty square, and the
//! now-playing bar shows the playing song's.

use tapedeck_tests::fixtures::art_library;
use tapedeck_tests::system::{System, free_port};
use tapedeck_tests::webdriver::{Browser, screenshots};

const STATS: &str = "return window.tapedeck ? window.tapedeck.stats() : null";

/// Whether the image under `selector` has loaded: its natural size, or null when absent.
fn loaded(selector: &str) -> String {
    format!(
        "const i = document.querySelector(\"{selector}\"); \
         return i ? (i.complete && i.naturalWidth > 0 ? i.naturalWidth : 0) : null"
    )
}

#[test]
fn rows_and_the_now_playing_bar_show_cover_art() {
    let music = art_library();
    let (_system, browser) = opened(music.path());
    // Ids in name order: 1 a/Embedded (art in its tags), 2 b/Folder (Cover.JPG), 3 c/None.
    browser.wait_for(
        "the art of song 1",
        &loaded("tr.song[data-id='1'] .art img"),
        |v| v.as_u64() == Some(64),
    );
    browser.wait_for(
        "the art of song 2",
        &loaded("tr.song[data-id='2'] .art img"),
        |v| v.as_u64() == Some(64),
    );
    assert!(
        browser
            .run(&loaded("tr.song[data-id='3'] .art img"))
            .is_null(),
        "no art, no picture"
    );
    // A picture the server cannot read: the square stays empty, no broken-image sign.
    let broken = "const i = document.querySelector(\"tr.song[data-id='4'] .art img\"); \
                  return i && i.complete ? getComputedStyle(i).visibility : null";
    browser.wait_for("the broken picture hidden", broken, |v| v == "hidden");
    browser.click("tr.song[data-id='2']");
    browser.wait_for("song 2 playing", STATS, |s| s["song"] == 2);
    browser.wait_for("the bar's art", &loaded(".now-playing .cover img"), |v| {
        v.as_u64() == Some(128)
    });
    browser.screenshot(&screenshots().join("art.png"));
}

/// The page on a system serving `music`.
fn opened(music: &std::path::Path) -> (System, Browser) {
    let system = System::start_on(music);
    let browser = Browser::start(free_port());
    browser.go(&system.page);
    (system, browser)
}

/// Waits until `n` elements match `selector`.
fn wait_count(browser: &Browser, what: &str, selector: &str, n: u64) {
    let script = format!("return document.querySelectorAll(\"{selector}\").length");
    browser.wait_for(what, &script, |v| v.as_u64() == Some(n));
}

fn count(browser: &Browser, selector: &str) -> u64 {
    let script = format!("return document.querySelectorAll(\"{selector}\").length");
    browser.run(&script).as_u64().unwrap_or(0)
}

/// Albums and artists: the grid shows each album with its cover, an album opened lists its
/// songs in its order and plays them in it, and an artist shows their albums.
#[test]
fn browse_by_album_and_artist_and_play_an_album_in_order() {
    let music = art_library();
    let (_system, browser) = opened(music.path());
    wait_count(&browser, "the songs", "tr.song", 6);
    browser.click("nav.tabs button:nth-child(2)");
    // Two albums: the demo's three songs (a, b, c: their tags say "Demo Tape"), and the three
    // untagged ones.
    wait_count(&browser, "two album cards", "button.album", 2);
    // The demo album is known by its first song (1), and shows the first picture among its
    // songs (song 1's).
    browser.wait_for(
        "the album's cover",
        &loaded("button.album[data-id='1'] img"),
        |v| v.as_u64() == Some(256),
    );
    let broken = "const i = document.querySelector(\"button.album[data-id='4'] img\"); \
                  return i && i.complete ? getComputedStyle(i).visibility : null";
    browser.wait_for(
        "the untagged album's unreadable picture hidden",
        broken,
        |v| v == "hidden",
    );
    let shots = screenshots();
    browser.screenshot(&shots.join("albums.png"));
    browser.click("button.album[data-id='1']");
    wait_count(&browser, "the album's songs", ".album-view tr.song", 3);
    assert!(
        browser.run("return document.querySelector('.album-view input.search') === null") == true
    );
    browser.screenshot(&shots.join("album.png"));
    browser.click(".album-view tr.song[data-id='2']");
    browser.wait_for("song 2 playing", STATS, |s| s["song"] == 2);
    browser.click("button[aria-label='Next']");
    browser.wait_for("the album's next song", STATS, |s| {
        s["song"] == 3 && s["state"] == "playing"
    });
    browser.click("button[aria-label='Stop']");
    browser.click("nav.tabs button:nth-child(3)");
    wait_count(&browser, "two artists", "tr.artist-row", 2);
    browser.click("tr.artist-row:nth-child(3)");
    wait_count(&browser, "the artist's one album", "button.album", 1);
    assert_eq!(count(&browser, "button.album[data-id='1']"), 1);
    // `/` searches from any view: the songs come back with the search box focused.
    browser.run("document.dispatchEvent(new KeyboardEvent('keydown', {key: '/', bubbles: true}))");
    browser.wait_for(
        "the search box focused",
        "return document.activeElement && document.activeElement.classList.contains('search')",
        |v| v == true,
    );
}
