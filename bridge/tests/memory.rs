//! Backpressure: a browser that stops reading costs the bridge a bounded amount of memory.
//! Alone in its test binary, because it measures the whole process's resident set.

mod common;

use std::time::Duration;

use common::{Got, PATIENCE, Stack};

/// This process's resident set size in KiB.
fn rss_kib() -> u64 {
    tapedeck_tests::usage::rss_kib(std::process::id())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_that_stops_reading_costs_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::write_wav(&dir.path().join("huge.wav"), 600); // about 106 MB
    let mut config = tapedeck_server::Config::new(dir.path());
    config.pacing = None;
    let stack = Stack::start(config).await;
    let mut browser = stack.browser().await;
    let before = rss_kib();
    assert!(browser.ask("play 1").await.starts_with("port "));
    // Read nothing more. Wait until memory stops growing (the pipeline is full), then check
    // that it holds a bounded amount, not the song.
    let mut last = rss_kib();
    let mut steady = 0;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while steady < 10 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = rss_kib();
        steady = if now.abs_diff(last) < 512 {
            steady + 1
        } else {
            0
        };
        last = now;
    }
    let grown_mib = last.saturating_sub(before) / 1024;
    assert!(
        grown_mib < 16,
        "memory grew by {grown_mib} MiB while the browser read nothing"
    );
    browser.send("stop").await;
    let mut reply = browser.next().await;
    while let Got::Binary(_) = reply {
        reply = browser.next().await;
    }
    assert_eq!(
        reply,
        Got::Text("stopped".into()),
        "the session is still alive and answers"
    );
}
