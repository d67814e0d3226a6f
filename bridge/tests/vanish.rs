//! A browser vanishing at every stage of a play, by a clean close or by a dropped connection:
//! the bridge releases the session, its control connection and its data connection (and the
//! server its play). Alone in its test binary, because it counts the process's descriptors.

mod common;

use std::time::Duration;

use common::{Browser, Got, PATIENCE, Stack};
use tokio_tungstenite::MaybeTlsStream;

/// Where in a play the browser disappears.
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// `play` sent, the reply not read.
    PlaySent,
    /// The `port` reply read, no audio yet.
    PortReceived,
    /// Some audio read.
    MidStream,
    /// The whole song read, up to `event end`.
    Finished,
}

fn open_fds() -> usize {
    tapedeck_tests::usage::open_fds(std::process::id())
}

async fn play_until(browser: &mut Browser, stage: Stage) {
    let id = if matches!(stage, Stage::Finished) {
        2
    } else {
        1
    };
    browser.send(&format!("play {id}")).await;
    if matches!(stage, Stage::PlaySent) {
        return;
    }
    assert!(browser.text().await.starts_with("port "));
    loop {
        match (stage, browser.next().await) {
            (Stage::PortReceived, _) => return,
            (Stage::MidStream, Got::Binary(_)) => return,
            (Stage::Finished, Got::Text(text)) if text == "event end" => return,
            (_, Got::Binary(_)) => {}
            (_, other) => panic!("{stage:?}: {other:?}"),
        }
    }
}

/// Gone: with a close handshake, or by dropping the TCP connection (a reset).
async fn vanish(mut browser: Browser, clean: bool) {
    if clean {
        let _ = browser.ws.close(None).await;
        let _ = tokio::time::timeout(PATIENCE, async {
            while !matches!(browser.next().await, Got::Closed(_)) {}
        })
        .await;
    } else if let MaybeTlsStream::Plain(tcp) = browser.ws.get_ref() {
        let _ = tcp.set_zero_linger();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_vanishing_at_any_stage_leaves_nothing_behind() {
    let dir = common::long_library();
    // Paced: mid-stream really is mid-stream (the long song takes a minute).
    let stack = Stack::start(tapedeck_server::Config::new(dir.path())).await;
    // Warm up: the first session starts machinery that stays.
    let mut first = stack.browser().await;
    assert!(first.ask("list").await.starts_with('{'));
    vanish(first, true).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let baseline = open_fds();
    for stage in [
        Stage::PlaySent,
        Stage::PortReceived,
        Stage::MidStream,
        Stage::Finished,
    ] {
        for clean in [true, false] {
            let mut browser = stack.browser().await;
            play_until(&mut browser, stage).await;
            vanish(browser, clean).await;
            let deadline = tokio::time::Instant::now() + PATIENCE;
            while open_fds() > baseline {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{stage:?}, clean {clean}: {} fds, baseline {baseline}",
                    open_fds()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    let mut last = stack.browser().await;
    assert!(last.ask("list").await.starts_with('{'));
}
