//! A browser that stops reading is given up after the stall timeout: its session, control
//! connection and data connection are all released, and the server's play ends.
//! Alone in its test binary, because it counts the whole process's file descriptors.

mod common;

use std::time::Duration;

use common::{Got, PATIENCE, Stack};

fn open_fds() -> usize {
    tapedeck_tests::usage::open_fds(std::process::id())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_reader_is_abandoned_after_the_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::write_wav(&dir.path().join("huge.wav"), 600); // about 106 MB
    let mut config = tapedeck_server::Config::new(dir.path());
    config.pacing = None;
    let stack = Stack::start_with(config, |bridge| {
        bridge.stall_timeout = Duration::from_millis(500);
    })
    .await;
    let baseline = open_fds();
    let mut browser = stack.browser().await;
    assert!(browser.ask("play 1").await.starts_with("port "));
    // Read nothing. The bridge's writes stall once the socket buffers are full; after the
    // stall timeout it lets go of everything but this end of the WebSocket.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while open_fds() > baseline + 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still {} fds open, baseline {baseline} + this socket",
            open_fds()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Reading again drains what was in flight, then the end: never a hang, never the song.
    let mut audio = 0usize;
    loop {
        match browser.next().await {
            Got::Binary(chunk) => audio += chunk.len(),
            Got::Text(text) => assert!(text.starts_with("event "), "{text}"),
            Got::Closed(_) => break,
        }
    }
    assert!(
        audio < 100_000_000,
        "{audio} bytes: the song was not abandoned"
    );
    // The bridge and server serve a new session as before.
    let mut fresh = stack.browser().await;
    assert!(fresh.ask("list").await.starts_with('{'));
}
