//! The bridge end to end: a real server, a real bridge, a real WebSocket client.

mod common;

use std::time::Duration;

use common::{Browser, Got, PATIENCE, Stack, demo_music, long_library, sha256, start_bridge};
use futures_util::SinkExt;
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

/// PROTOCOL.md 16.2: a message over 64 KiB closes the WebSocket with 1009, after an error
/// event, whether it comes as one frame or in fragments. Sent as raw frames, so the test does
/// not depend on a client library's own limits.
#[tokio::test]
async fn a_message_over_64_kib_is_closed_with_1009() {
    let stack = Stack::demo().await;
    for (size, fragments) in [(70_000, 1), (100_000, 1), (1 << 20, 1), (100_000, 4)] {
        let mut socket = raw::open(stack.bridge).await;
        let mut frames = Vec::new();
        let piece = size / fragments;
        for i in 0..fragments {
            let opcode = if i == 0 { raw::TEXT } else { raw::CONTINUATION };
            frames.extend(raw::frame(opcode, i + 1 == fragments, piece));
        }
        let (mut reader, mut writer) = socket.split();
        let write = async {
            // The bridge stops reading at the limit: the rest may not be taken.
            let _ = tokio::io::AsyncWriteExt::write_all(&mut writer, &frames).await;
        };
        let (close, ()) = tokio::join!(raw::close_code(&mut reader), write);
        assert_eq!(close, Some(1009), "{size} octets in {fragments} frames");
    }
    assert!(
        stack.browser().await.ask("list").await.starts_with('{'),
        "others unaffected"
    );
}

/// A WebSocket client of raw frames.
mod raw {
    use std::net::SocketAddr;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::PATIENCE;

    pub const CONTINUATION: u8 = 0;
    pub const TEXT: u8 = 1;
    const CLOSE: u8 = 8;

    /// Opens `/ws` with a handshake written by hand.
    pub async fn open(bridge: SocketAddr) -> TcpStream {
        let mut socket = TcpStream::connect(bridge).await.expect("connect");
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: {bridge}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        socket
            .write_all(request.as_bytes())
            .await
            .expect("handshake");
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8];
            socket.read_exact(&mut byte).await.expect("response");
            head.push(byte[0]);
        }
        assert!(
            head.starts_with(b"HTTP/1.1 101"),
            "{}",
            String::from_utf8_lossy(&head)
        );
        socket
    }

    /// A masked frame of `len` octets (a zero mask: the payload is zeros as sent).
    pub fn frame(opcode: u8, fin: bool, len: usize) -> Vec<u8> {
        let mut f = vec![if fin { 0x80 } else { 0 } | opcode];
        match len {
            0..=125 => f.push(0x80 | len as u8),
            126..=65535 => {
                f.push(0x80 | 126);
                f.extend((len as u16).to_be_bytes());
            }
            _ => {
                f.push(0x80 | 127);
                f.extend((len as u64).to_be_bytes());
            }
        }
        f.extend([0; 4]);
        f.resize(f.len() + len, b'x');
        f
    }

    /// Reads the bridge's frames until its Close; its status code (`None` if the connection
    /// ends without one).
    pub async fn close_code(reader: &mut (impl AsyncReadExt + Unpin)) -> Option<u16> {
        let read = async {
            loop {
                let mut head = [0u8; 2];
                reader.read_exact(&mut head).await.ok()?;
                let len = match head[1] & 0x7F {
                    126 => u64::from(reader.read_u16().await.ok()?),
                    127 => reader.read_u64().await.ok()?,
                    n => u64::from(n),
                };
                let mut payload = vec![0; usize::try_from(len).ok()?];
                reader.read_exact(&mut payload).await.ok()?;
                if head[0] & 0x0F == CLOSE {
                    return Some(u16::from_be_bytes([*payload.first()?, *payload.get(1)?]));
                }
            }
        };
        tokio::time::timeout(PATIENCE, read)
            .await
            .expect("the bridge answers in time")
    }
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
async fn a_server_that_is_down_is_answered_502() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let nobody = unused.local_addr().expect("addr");
    drop(unused);
    let (bridge, _stop) = start_bridge(nobody).await;
    // The bridge asks the server who the browser is before upgrading: with no server to ask,
    // the upgrade is answered 502, and the page tries again later.
    let err = Browser::connect(bridge, None).await.err().expect("refused");
    let tokio_tungstenite::tungstenite::Error::Http(response) = err else {
        panic!("{err}")
    };
    assert_eq!(response.status(), 502);
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

/// 16.5: one session over `max_sessions` is answered 503; a freed slot is served again.
#[tokio::test]
async fn sessions_over_the_cap_are_refused_with_503() {
    let mut config = tapedeck_server::Config::new(demo_music());
    config.pacing = None;
    let stack = Stack::start_with(config, |bridge| bridge.max_sessions = 2).await;
    let a = stack.browser().await;
    let mut b = stack.browser().await;
    let err = Browser::connect(stack.bridge, Some(&stack.origin))
        .await
        .err()
        .expect("refused");
    let tokio_tungstenite::tungstenite::Error::Http(response) = err else {
        panic!("{err}")
    };
    assert_eq!(response.status(), 503);
    assert!(b.ask("list").await.starts_with('{'), "the others go on");
    drop(a);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while Browser::connect(stack.bridge, Some(&stack.origin))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot was never freed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// 16.3: a play that ends early without a `stop` is reported as
/// `event error stream ended early after N of M bytes`, and no `event end` follows.
#[tokio::test]
async fn a_play_cut_short_is_reported_with_its_count() {
    let dir = long_library();
    let stack = Stack::start(tapedeck_server::Config::new(dir.path())).await;
    let mut browser = stack.browser().await;
    let reply = browser.ask("play 1").await;
    let total: u64 = reply
        .rsplit(' ')
        .next()
        .and_then(|t| t.parse().ok())
        .expect("octets");
    let Got::Binary(first) = browser.next().await else {
        panic!("audio")
    };
    // The file shrinks on disk while it streams (paced: the burst is out, the rest is not).
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("long.wav"))
        .expect("open");
    file.set_len(2_000_000).expect("truncate");
    let mut got = first.len() as u64;
    let event = loop {
        match browser.next().await {
            Got::Binary(chunk) => got += chunk.len() as u64,
            Got::Text(text) => break text,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        event,
        format!("event error stream ended early after {got} of {total} bytes")
    );
    assert_eq!(got, 2_000_000);
    assert_eq!(
        browser.ask("list").await.chars().next(),
        Some('{'),
        "no event end"
    );
}

/// 16.3: `play <id> <ms>` goes through the bridge like any command; its reply keeps its
/// `<skip>`, and exactly `<octets>` octets follow it, then `event end`.
#[tokio::test]
async fn a_play_from_a_position_goes_through_whole() {
    let stack = Stack::demo().await;
    let mut browser = stack.browser().await;
    for (line, full) in [("play 1 20000", 721_727), ("play 2 20000", 2_174_683)] {
        let (reply, bytes, event) = browser.play_line_whole(line).await;
        let words: Vec<&str> = reply.split(' ').collect();
        assert_eq!(words.len(), 5, "{reply}");
        assert_eq!(words[3].parse::<usize>().ok(), Some(bytes.len()), "{reply}");
        assert!(bytes.len() < full / 2, "{line}: {} octets", bytes.len());
        assert!(words[4].parse::<u64>().is_ok(), "{reply}");
        assert_eq!(event, Event::End);
    }
    assert_eq!(
        browser.ask("play 1 99999").await,
        "error position past the end"
    );
}

/// A reply over the bridge's limit (here 500 octets: the demo library's `info` is about 960,
/// one song's about 250) is answered as an error in its place, pipelined commands around it keep their
/// order, and the session goes on (PROTOCOL.md 16.3). Before, the bridge dropped the session
/// and the page reconnected, asked again, and looped.
#[tokio::test]
async fn a_reply_over_the_limit_is_an_error_in_its_place_and_the_session_goes_on() {
    let mut config = tapedeck_server::Config::new(demo_music());
    config.pacing = None;
    let stack = Stack::start_with(config, |bridge| bridge.max_reply_len = 500).await;
    let mut browser = stack.browser().await;
    for line in ["list", "info", "info 2", "info", "list"] {
        browser.send(line).await;
    }
    let list = browser.text().await;
    assert!(list.starts_with('{'), "{list}");
    let too_large = "error reply too large (over 500 octets)";
    assert_eq!(browser.text().await, too_large);
    assert!(browser.text().await.contains("\"title\":\"Night Drive\""));
    assert_eq!(browser.text().await, too_large);
    assert_eq!(browser.text().await, list);
    let (reply, bytes, event) = browser.play_whole(1).await;
    assert!(reply.starts_with("port "), "{reply}");
    assert!(!bytes.is_empty());
    assert_eq!(event, Event::End);
}

/// The server's `event library changed` reaches the browser as an event, between replies
/// (PROTOCOL.md 6.6, 16.3).
#[tokio::test]
async fn the_servers_library_events_are_forwarded() {
    let dir = long_library();
    let mut config = tapedeck_server::Config::new(dir.path());
    config.pacing = None;
    config.follow = Some(tapedeck_server::Follow {
        watch: true,
        debounce: Duration::from_millis(100),
        rescan_every: None,
    });
    let stack = Stack::start(config).await;
    let mut browser = stack.browser().await;
    assert!(!browser.ask("list").await.contains("added.wav"));
    common::write_wav(&dir.path().join("added.wav"), 1);
    assert_eq!(browser.text().await, "event library changed");
    browser.send("list").await;
    // A file seen while it was still being written may be told twice.
    let mut reply = browser.text().await;
    while reply == "event library changed" {
        reply = browser.text().await;
    }
    assert!(reply.contains("added.wav"), "{reply}");
}
