//! Fault drill across processes: the server is killed with SIGKILL mid-stream behind a real
//! bridge; the browser hears of it within a second and the WebSocket closes with 1013.

use std::process::Command;
use std::time::Duration;

use futures_util::StreamExt;
use tapedeck_tests::{Process, binary, fixtures};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn a_killed_server_is_reported_within_a_second() {
    let music = tempfile::tempdir().expect("tempdir");
    fixtures::write_wav(&music.path().join("long.wav"), 60);
    let web = tempfile::tempdir().expect("tempdir");
    std::fs::write(web.path().join("index.html"), "<h1>Tapedeck</h1>").expect("page");
    let path = |p: &std::path::Path| p.to_str().expect("utf-8 path").to_owned();
    let server = Process::start(
        &binary("tapedeck-server"),
        &["--listen", "127.0.0.1:0", "--music", &path(music.path())],
    );
    let server_addr = server.addr("serving").to_string();
    let bridge = Process::start(
        &binary("tapedeck-bridge"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--server",
            &server_addr,
            "--web",
            &path(web.path()),
        ],
    );
    let bridge_addr = bridge.addr("bridge listening");
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{bridge_addr}/ws"))
        .await
        .expect("ws");
    futures_util::SinkExt::send(&mut ws, Message::text("play 1"))
        .await
        .expect("send");
    let mut audio = false;
    while !audio {
        match ws.next().await {
            Some(Ok(Message::Binary(_))) => audio = true,
            Some(Ok(_)) => {}
            other => panic!("before the kill: {other:?}"),
        }
    }
    let status = Command::new("kill")
        .args(["-KILL", &server.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let mut texts = Vec::new();
    let code = loop {
        let next = tokio::time::timeout(Duration::from_secs(1), ws.next())
            .await
            .expect("within a second");
        match next {
            Some(Ok(Message::Text(text))) => texts.push(text.to_string()),
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => {}
            other => panic!("after the kill: {other:?}"),
        }
    };
    assert_eq!(code, Some(1013));
    assert!(
        texts
            .iter()
            .any(|t| t == "event error server connection lost"),
        "{texts:?}"
    );
    drop(bridge);
}
