//! Fault drills across processes, with SIGKILL: the server dies mid-stream behind a real bridge
//! (the browser hears of it within a second, the WebSocket closes with 1013, and sessions work
//! again once the server is back); the bridge dies mid-stream (the server releases everything
//! the bridge held and keeps serving, and a restarted bridge works at once).

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tapedeck_tests::system::{bridge, server};
use tapedeck_tests::usage::open_fds as fds_of;
use tapedeck_tests::{PATIENCE, fixtures};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A music folder with a 60 s song, and a folder with a page for the bridge to serve.
fn folders() -> (tempfile::TempDir, tempfile::TempDir) {
    let music = tempfile::tempdir().expect("tempdir");
    fixtures::write_wav(&music.path().join("long.wav"), 60);
    let web = tempfile::tempdir().expect("tempdir");
    std::fs::write(web.path().join("index.html"), "<h1>Tapedeck</h1>").expect("page");
    (music, web)
}

/// Opens a session and plays song 1 until audio flows.
async fn playing(bridge: SocketAddr) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{bridge}/ws"))
        .await
        .expect("ws");
    ws.send(Message::text("play 1")).await.expect("send");
    loop {
        match ws.next().await {
            Some(Ok(Message::Binary(_))) => return ws,
            Some(Ok(_)) => {}
            other => panic!("before audio: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_killed_server_is_reported_within_a_second_and_recovered_from() {
    let (music, web) = folders();
    let mut dead = server(music.path(), "127.0.0.1:0");
    let server_addr = dead.addr("serving").to_string();
    let bridge = bridge(&server_addr, "127.0.0.1:0", web.path());
    let bridge_addr = bridge.addr("bridge listening");
    let mut ws = playing(bridge_addr).await;
    dead.crash();
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
    // The server comes back on its address: the same bridge serves new sessions at once.
    let back = server(music.path(), &server_addr);
    back.addr("serving");
    drop(playing(bridge_addr).await);
}

#[tokio::test]
async fn a_killed_bridge_costs_the_server_nothing_and_a_new_one_works() {
    let (music, web) = folders();
    let server = server(music.path(), "127.0.0.1:0");
    let server_addr = server.addr("serving").to_string();
    // Settled: the folder's watch (its inotify, epoll and wake descriptors) is set up, after
    // "serving" and in its own time.
    server
        .wait_for("following the music folder")
        .expect("the server follows its folder");
    let pid = server.child.id();
    let mut old = bridge(&server_addr, "127.0.0.1:0", web.path());
    let bridge_addr = old.addr("bridge listening");
    let baseline = fds_of(pid);
    let mut sessions = Vec::new();
    for _ in 0..3 {
        sessions.push(playing(bridge_addr).await);
    }
    assert!(fds_of(pid) > baseline);
    old.crash();
    // Each browser sees its socket end (no hang).
    for mut ws in sessions {
        let end = tokio::time::timeout(PATIENCE, async {
            while let Some(Ok(_)) = ws.next().await {}
        });
        end.await.expect("the WebSocket ends with the bridge");
    }
    // The server notices the control connections closing and ends their plays.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while fds_of(pid) > baseline {
        assert!(
            tokio::time::Instant::now() < deadline,
            "server fds {} vs {baseline}",
            fds_of(pid)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Meanwhile a raw client is served as ever.
    let control = tokio::net::TcpStream::connect(&server_addr)
        .await
        .expect("connect");
    let (r, mut w) = control.into_split();
    w.write_all(b"list\n").await.expect("send");
    let mut line = String::new();
    BufReader::new(r).read_line(&mut line).await.expect("reply");
    assert_eq!(line, "{\"long.wav\":1}\n");
    // A bridge restarted on the same address serves again.
    let new = bridge(&server_addr, &bridge_addr.to_string(), web.path());
    new.addr("bridge listening");
    drop(playing(bridge_addr).await);
}
