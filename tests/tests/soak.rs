//! Soak: 10,000 play/stop cycles through the real bridge to the real server, four sessions at
//! once. After a warm-up of 1,000 cycles, neither process may grow its resident memory or its
//! open file descriptors by more than 5 % over the remaining 9,000.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tapedeck_tests::system::{bridge, server};
use tapedeck_tests::{PATIENCE, repo, usage};
use tokio_tungstenite::tungstenite::Message;

const SESSIONS: usize = 4;
const WARM_UP: usize = 1_000;
const CYCLES: usize = 10_000;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text message; audio on the way is skipped.
async fn text(ws: &mut Ws) -> String {
    loop {
        let next = tokio::time::timeout(PATIENCE, ws.next()).await;
        match next.expect("a message in time") {
            Some(Ok(Message::Text(text))) => return text.to_string(),
            Some(Ok(_)) => {}
            other => panic!("session ended: {other:?}"),
        }
    }
}

/// `cycles` times: play a song, wait for its first audio, stop.
async fn cycle(mut ws: Ws, first: usize, cycles: usize) -> Ws {
    for i in first..first + cycles {
        let id = 1 + i % 4;
        ws.send(Message::text(format!("play {id}")))
            .await
            .expect("send");
        let reply = text(&mut ws).await;
        assert!(reply.starts_with("port "), "{reply}");
        loop {
            let next = tokio::time::timeout(PATIENCE, ws.next()).await;
            match next.expect("audio in time") {
                Some(Ok(Message::Binary(_))) => break,
                Some(Ok(Message::Text(text))) => panic!("before audio: {text}"),
                Some(Ok(_)) => {}
                other => panic!("session ended: {other:?}"),
            }
        }
        ws.send(Message::text("stop")).await.expect("send");
        assert_eq!(text(&mut ws).await, "stopped");
    }
    ws
}

/// Runs `cycles` cycles spread over the sessions, and waits for all of them.
async fn round(sessions: Vec<Ws>, first: usize, cycles: usize) -> Vec<Ws> {
    let each = cycles / sessions.len();
    let tasks: Vec<_> = sessions
        .into_iter()
        .enumerate()
        .map(|(i, ws)| tokio::spawn(cycle(ws, first + i * each, each)))
        .collect();
    let mut back = Vec::new();
    for task in tasks {
        back.push(task.await.expect("session task"));
    }
    back
}

/// (resident KiB, open fds) of `pid`.
fn footprint(pid: u32) -> (u64, u64) {
    (usage::rss_kib(pid), usage::open_fds(pid) as u64)
}

/// Fails if `after` is more than 5 % above `before`, once closes still in flight have landed.
async fn assert_flat(name: &str, pid: u32, before: (u64, u64)) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let after = footprint(pid);
        let flat = |a: u64, b: u64| a * 100 <= b * 105;
        if flat(after.0, before.0) && flat(after.1, before.1) {
            eprintln!(
                "{name}: RSS {} -> {} KiB, fds {} -> {}",
                before.0, after.0, before.1, after.1
            );
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} grew: RSS {} -> {} KiB, fds {} -> {}",
            before.0,
            after.0,
            before.1,
            after.1
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_play_stop_cycles_leave_memory_and_descriptors_flat() {
    let web = tempfile::tempdir().expect("tempdir");
    std::fs::write(web.path().join("index.html"), "<h1>Tapedeck</h1>").expect("page");
    let server = server(&repo().join("music"), "127.0.0.1:0");
    let server_addr = server.addr("serving").to_string();
    let bridge = bridge(&server_addr, "127.0.0.1:0", web.path());
    let bridge_addr: SocketAddr = bridge.addr("bridge listening");
    let mut sessions = Vec::new();
    for _ in 0..SESSIONS {
        let url = format!("ws://{bridge_addr}/ws");
        sessions.push(tokio_tungstenite::connect_async(url).await.expect("ws").0);
    }
    let sessions = round(sessions, 0, WARM_UP).await;
    let (server_pid, bridge_pid) = (server.child.id(), bridge.child.id());
    let (server_before, bridge_before) = (footprint(server_pid), footprint(bridge_pid));
    let sessions = round(sessions, WARM_UP, CYCLES - WARM_UP).await;
    assert_flat("server", server_pid, server_before).await;
    assert_flat("bridge", bridge_pid, bridge_before).await;
    drop(sessions);
}
