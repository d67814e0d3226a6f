//! The bridge end to end: a real server, a real bridge, a real WebSocket client.

mod common;

use std::time::Duration;

use common::{Browser, Got, PATIENCE, Stack, demo_music, long_library, sha256, start_bridge};
use tapedeck_protocol::{Command, Event, Reply};

#[tokio::test]
async fn list_info_and_every_format_play_to_the_end() {
    let stack = Stack::demo().await;
    let mut browser = stack.browser().await;
    let Ok(Reply::List(list)) = Reply::parse(&Command::List, &browser.ask("list").await) else {
        panic!("list")
    };
    assert_eq!(list.len(), 4);
    assert!(browser.ask("info").await.starts_with("[{\"id\":1,"));
    assert!(
        browser
            .ask("info 2")
            .await
            .contains("\"title\":\"Night Drive\"")
    );
    for (name, id) in list {
        let file = std::fs::read(demo_music().join(&name)).expect("read");
        let (reply, bytes, event) = browser.play_whole(id.0).await;
        assert!(
            reply.starts_with("port ") && reply.ends_with(&format!(" {}", file.len())),
            "{reply}"
        );
        assert_eq!(sha256(&bytes), sha256(&file), "{name}");
        assert_eq!(event, Event::End, "{name}");
    }
    assert_eq!(browser.ask("stop").await, "stopped");
    assert_eq!(browser.ask("quit").await, "bye");
    assert_eq!(browser.next().await, Got::Closed(Some(1000)));
}

#[tokio::test]
async fn stop_and_switch_mid_stream() {
    let dir = long_library();
    let stack = Stack::start(tapedeck_server::Config::new(dir.path())).await;
    let mut browser = stack.browser().await;
    assert!(browser.ask("play 1").await.starts_with("port "));
    assert!(
        matches!(browser.next().await, Got::Binary(_)),
        "audio flows"
    );
    browser.send("play 2").await;
    let short = std::fs::read(dir.path().join("short.wav")).expect("read");
    // Audio of song 1 may still arrive before the reply, never after it.
    let mut reply = browser.next().await;
    while let Got::Binary(_) = reply {
        reply = browser.next().await;
    }
    let Got::Text(reply) = reply else {
        panic!("{reply:?}")
    };
    assert!(reply.ends_with(&format!(" {}", short.len())), "{reply}");
    let mut bytes = Vec::new();
    while let Got::Binary(chunk) = browser.next().await {
        bytes.extend_from_slice(&chunk);
    }
    assert_eq!(
        sha256(&bytes),
        sha256(&short),
        "only song 2, whole, after its reply"
    );
    assert!(browser.ask("play 1").await.starts_with("port "));
    browser.send("stop").await;
    let mut reply = browser.next().await;
    while let Got::Binary(_) = reply {
        reply = browser.next().await;
    }
    assert_eq!(reply, Got::Text("stopped".into()));
    assert_eq!(
        browser.ask("list").await.chars().next(),
        Some('{'),
        "nothing after stopped but the reply"
    );
}

#[tokio::test]
async fn what_cannot_be_a_command_is_answered_by_the_bridge_in_order() {
    let stack = Stack::demo().await;
    let mut browser = stack.browser().await;
    browser.send("list").await;
    browser.send(&"x".repeat(2000)).await;
    browser.send("list\nplay 1").await;
    browser.send("dance").await;
    let list = browser.text().await;
    assert!(list.starts_with('{'));
    assert_eq!(browser.text().await, "error line too long");
    assert_eq!(browser.text().await, "error line break in message");
    assert_eq!(browser.text().await, "error unknown command");
    browser
        .ws
        .send(tokio_tungstenite::tungstenite::Message::binary(vec![
            1, 2, 3,
        ]))
        .await
        .expect("send");
    assert_eq!(
        browser.text().await,
        "event error binary messages are not accepted"
    );
    assert_eq!(browser.ask("list").await, list, "still usable");
}

use futures_util::SinkExt;

#[tokio::test]
async fn a_huge_message_closes_the_websocket() {
    let stack = Stack::demo().await;
    let mut browser = stack.browser().await;
    let _ = browser
        .ws
        .send(tokio_tungstenite::tungstenite::Message::text(
            "x".repeat(200_000),
        ))
        .await;
    assert!(matches!(browser.next().await, Got::Closed(_)));
    assert!(
        stack.browser().await.ask("list").await.starts_with('{'),
        "others unaffected"
    );
}

#[tokio::test]
async fn a_foreign_origin_is_refused() {
    let stack = Stack::demo().await;
    let err = Browser::connect(stack.bridge, Some("https://evil.example"))
        .await
        .err()
        .expect("refused");
    let tokio_tungstenite::tungstenite::Error::Http(response) = err else {
        panic!("{err}")
    };
    assert_eq!(response.status(), 403);
    // Non-browser clients send no Origin and are let in; the bridge's own origin is let in.
    assert!(Browser::connect(stack.bridge, None).await.is_ok());
    assert!(
        Browser::connect(stack.bridge, Some(&stack.origin))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_server_that_is_down_is_reported_and_the_websocket_closed() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let nobody = unused.local_addr().expect("addr");
    drop(unused);
    let (bridge, _stop) = start_bridge(nobody).await;
    let mut browser = Browser::connect(bridge, None).await.expect("opens");
    assert_eq!(browser.text().await, "event error server unavailable");
    assert_eq!(browser.next().await, Got::Closed(Some(1013)));
}

/// Plays the long song, lets `kill` end the server, and returns the close code and the texts
/// the browser got; each message must come within a second.
async fn server_ends_mid_stream(kill: impl FnOnce(&Stack)) -> (Option<u16>, Vec<String>) {
    let dir = long_library();
    let stack = Stack::start(tapedeck_server::Config::new(dir.path())).await;
    let mut browser = stack.browser().await;
    assert!(browser.ask("play 1").await.starts_with("port "));
    assert!(matches!(browser.next().await, Got::Binary(_)));
    kill(&stack);
    let mut texts = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(1), browser.next())
            .await
            .expect("prompt")
        {
            Got::Text(text) => texts.push(text),
            Got::Binary(_) => {}
            Got::Closed(code) => return (code, texts),
        }
    }
}

#[tokio::test]
async fn a_bridge_shutting_down_closes_sessions_with_going_away() {
    let stack = Stack::demo().await;
    let mut browser = stack.browser().await;
    assert!(browser.ask("list").await.starts_with('{'));
    stack.bridge_stop.cancel();
    assert_eq!(browser.text().await, "event error bridge shutting down");
    assert_eq!(browser.next().await, Got::Closed(Some(1001)));
}

#[tokio::test]
async fn a_server_shutting_down_mid_stream_is_reported_promptly() {
    let (code, texts) = server_ends_mid_stream(|stack| stack.server_stop.cancel()).await;
    assert_eq!(code, Some(1013));
    assert!(
        texts.contains(&"event error server shutting down".to_owned()),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"event error server connection lost".to_owned()),
        "{texts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_sessions() {
    let stack = Stack::demo().await;
    let hashes: Vec<[u8; 32]> = [
        "01 Morning Tape.mp3",
        "02 Night Drive.flac",
        "03 Paper Boats.ogg",
        "04 Small Hours.wav",
    ]
    .iter()
    .map(|n| sha256(&std::fs::read(demo_music().join(n)).expect("read")))
    .collect();
    let mut tasks = Vec::new();
    for i in 0..200u32 {
        let (addr, origin) = (stack.bridge, stack.origin.clone());
        tasks.push(tokio::spawn(async move {
            let mut browser = Browser::connect(addr, Some(&origin)).await.expect("opens");
            let (_, bytes, event) = browser.play_whole(i % 4 + 1).await;
            ((i % 4) as usize, sha256(&bytes), event)
        }));
    }
    for task in tasks {
        let (song, hash, event) = tokio::time::timeout(PATIENCE * 3, task)
            .await
            .expect("in time")
            .expect("task");
        assert_eq!((hash, event), (hashes[song], Event::End));
    }
}
