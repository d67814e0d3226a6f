//! Bad input and hostile peers: every one gets a clear answer and loses nothing.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use common::{Client, PATIENCE, TestServer, claim, connect_port, demo_music, read_all, sha256};
use tapedeck_server::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

#[tokio::test]
async fn every_bad_command_gets_an_error_and_the_connection_stays_usable() {
    let server = TestServer::demo().await;
    let mut client = server.client().await;
    let list = client.ask("list").await;
    let cases: &[(&[u8], &str)] = &[
        (b"dance\n", "error unknown command"),
        (b"play\n", "error missing song id"),
        (b"play abc\n", "error invalid song id"),
        (b"play -1\n", "error invalid song id"),
        (b"play 99999999999999999999\n", "error invalid song id"),
        (b"play 4294967295\n", "error no such song"),
        (b"play 0\n", "error no such song"),
        (b"info 77\n", "error no such song"),
        (b"\n", "error empty line"),
        (b"   \r\n", "error empty line"),
        (b"pl\xc3\x28y 1\n", "error invalid utf-8"),
        (b"list\0\n", "error invalid character"),
        (b"\0\0\0\0\n", "error invalid character"),
        (b"stop please\n", "error unexpected argument"),
    ];
    for (input, want) in cases {
        client.send(input).await;
        assert_eq!(
            client.line().await.as_deref(),
            Some(*want),
            "{:?}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(
            client.ask("list").await,
            list,
            "still usable after {input:?}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_one_mebibyte_line_is_refused_and_the_connection_closed() {
    let server = TestServer::demo().await;
    let mut client = server.client().await;
    let huge = vec![b'a'; 1 << 20];
    // The server may close before it has read it all: a failed write is fine.
    let _ = client.writer.write_all(&huge).await;
    assert_eq!(client.line().await.as_deref(), Some("error line too long"));
    client.expect_closed().await;
    // Others are not disturbed.
    assert!(server.client().await.ask("list").await.starts_with('{'));
    server.stop().await;
}

#[tokio::test]
async fn a_line_of_exactly_the_limit_is_parsed() {
    let server = TestServer::demo().await;
    let mut client = server.client().await;
    let line = format!(
        "play {}",
        "0".repeat(tapedeck_protocol::MAX_LINE_LEN - 6) + "1"
    );
    assert_eq!(line.len(), tapedeck_protocol::MAX_LINE_LEN);
    assert!(client.ask(&line).await.starts_with("port "));
    server.stop().await;
}

/// Starts a play and returns (client, port, token, file bytes).
async fn start_play(server: &TestServer) -> (Client, u16, String, Vec<u8>) {
    let mut client = server.client().await;
    let (port, token, _) = client.play(1).await;
    let file = std::fs::read(demo_music().join("01 Morning Tape.mp3")).expect("read");
    (client, port, token, file)
}

async fn expect_nothing(mut data: TcpStream) {
    let mut buf = Vec::new();
    let read = tokio::time::timeout(PATIENCE, data.read_to_end(&mut buf))
        .await
        .expect("in time");
    assert!(
        read.is_err() || buf.is_empty(),
        "a stranger got {} bytes",
        buf.len()
    );
}

#[tokio::test]
async fn a_wrong_or_missing_token_gets_nothing_and_the_real_claim_works() {
    let server = TestServer::demo().await;
    let (_client, port, token, file) = start_play(&server).await;
    let wrong = claim(server.addr, port, &"0".repeat(32)).await;
    expect_nothing(wrong).await;
    let mut silent = TcpStream::connect((server.addr.ip(), port))
        .await
        .expect("connect");
    silent.write_all(b"\n").await.expect("write");
    expect_nothing(silent).await;
    let mut idle = TcpStream::connect((server.addr.ip(), port))
        .await
        .expect("connect");
    let got = read_all(&mut claim(server.addr, port, &token).await).await;
    assert_eq!(sha256(&got), sha256(&file));
    // The port is claimed at most once, and gone after.
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, idle.read_to_end(&mut rest))
        .await
        .expect("closed");
    assert!(rest.is_empty());
    assert!(
        connect_port(server.addr, port).await.is_none(),
        "port closed after claim"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_stranger_from_another_address_gets_nothing() {
    let server = TestServer::demo().await;
    let (_client, port, token, file) = start_play(&server).await;
    // 127.0.0.2 is another loopback address: a different peer as far as the server knows.
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, 2), 0)))
        .expect("bind 127.0.0.2");
    let mut stranger = socket
        .connect(SocketAddr::new(server.addr.ip(), port))
        .await
        .expect("connect");
    stranger
        .write_all(format!("{token}\n").as_bytes())
        .await
        .ok();
    expect_nothing(stranger).await;
    let got = read_all(&mut claim(server.addr, port, &token).await).await;
    assert_eq!(sha256(&got), sha256(&file));
    server.stop().await;
}

#[tokio::test]
async fn an_unclaimed_port_closes_after_the_timeout() {
    let mut config = Config::new(demo_music());
    config.claim_timeout = Duration::from_millis(200);
    let server = TestServer::start(config).await;
    let mut client = server.client().await;
    let (port, _, _) = client.play(1).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while connect_port(server.addr, port).await.is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the port never closed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(client.ask("stop").await, "stopped");
    server.stop().await;
}

#[tokio::test]
async fn over_the_connection_cap_is_refused_clearly() {
    let mut config = Config::new(demo_music());
    config.max_connections = 2;
    let server = TestServer::start(config).await;
    let mut a = server.client().await;
    let mut b = server.client().await;
    assert!(a.ask("list").await.starts_with('{') && b.ask("list").await.starts_with('{'));
    let mut c = server.client().await;
    assert_eq!(c.line().await.as_deref(), Some("error server busy"));
    c.expect_closed().await;
    drop(a);
    // Once a slot is free, a newcomer is served (poll: the slot frees asynchronously).
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let mut d = server.client().await;
        d.send(b"list\n").await;
        if d.line().await.is_some_and(|l| l.starts_with('{')) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(b.ask("list").await.starts_with('{'));
    server.stop().await;
}

#[tokio::test]
async fn idle_and_slow_clients_are_closed_with_a_reason() {
    let mut config = Config::new(demo_music());
    config.idle_timeout = Duration::from_millis(300);
    config.line_timeout = Duration::from_millis(300);
    let server = TestServer::start(config).await;
    let mut idle = server.client().await;
    assert_eq!(idle.line().await.as_deref(), Some("error idle timeout"));
    idle.expect_closed().await;
    let mut slow = server.client().await;
    slow.send(b"li").await;
    assert_eq!(slow.line().await.as_deref(), Some("error line timeout"));
    slow.expect_closed().await;
    server.stop().await;
}

#[tokio::test]
async fn a_playing_client_is_not_idle() {
    let dir = common::long_library();
    let mut config = Config::new(dir.path());
    config.idle_timeout = Duration::from_millis(200);
    let server = TestServer::start(config).await;
    let mut client = server.client().await;
    let (port, token, _) = client.play(1).await;
    let mut data = claim(server.addr, port, &token).await;
    // Read well past several idle timeouts' worth of the stream.
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    while got < 1_000_000 {
        let n = data.read(&mut buf).await.expect("read");
        assert_ne!(n, 0, "the stream ended early");
        got += n;
    }
    assert!(client.ask("list").await.starts_with('{'));
    server.stop().await;
}

#[tokio::test]
async fn shutdown_tells_clients_and_ends_streams() {
    let dir = common::long_library();
    let server = TestServer::start(Config::new(dir.path())).await;
    let mut client = server.client().await;
    let (port, token, bytes) = client.play(1).await;
    let mut data = claim(server.addr, port, &token).await;
    let mut first = [0u8; 1];
    data.read_exact(&mut first).await.expect("stream started");
    let addr = server.addr;
    server.stop().await;
    assert_eq!(
        client.line().await.as_deref(),
        Some("error server shutting down")
    );
    client.expect_closed().await;
    assert!((read_all(&mut data).await.len() as u64) < bytes);
    assert!(TcpStream::connect(addr).await.is_err(), "listener closed");
}

/// PROTOCOL.md 5.10: a line with several faults gets the first in the order of checks.
#[tokio::test]
async fn a_line_with_several_faults_gets_the_first_in_order() {
    let server = TestServer::demo().await;
    let mut client = server.client().await;
    for (line, want) in [
        ("play abc 2 3", "error unexpected argument"),
        ("dance 1 2", "error unknown command"),
        ("play abc 2", "error invalid song id"),
        ("play abc", "error invalid song id"),
        ("play 1 abc", "error invalid position"),
        ("play 1 -1", "error invalid position"),
        ("stop 1 2", "error unexpected argument"),
    ] {
        assert_eq!(client.ask(line).await, want, "{line}");
    }
    server.stop().await;
}

/// PROTOCOL.md 4.2: 1024 octets and a CR wait for the LF; anything else there is too long.
#[tokio::test]
async fn a_full_line_and_cr_waits_for_its_lf() {
    let server = TestServer::demo().await;
    let mut client = server.client().await;
    let line = format!("info {}1", "0".repeat(tapedeck_protocol::MAX_LINE_LEN - 6));
    client.send(format!("{line}\r").as_bytes()).await;
    client.send(b"\n").await;
    assert!(client.line().await.is_some_and(|l| l.starts_with('{')));
    client.send(format!("{line}\rx").as_bytes()).await;
    assert_eq!(client.line().await.as_deref(), Some("error line too long"));
    client.expect_closed().await;
    server.stop().await;
}

/// PROTOCOL.md 5.4 and 10: a `play` of an id that names no song ends the current play (it is
/// a command); a `play` line that is not a command changes nothing.
#[tokio::test]
async fn an_unknown_song_ends_the_current_play_and_a_malformed_play_does_not() {
    let dir = common::long_library();
    let server = TestServer::unpaced(dir.path()).await;
    let mut client = server.client().await;
    let (port, token, bytes) = client.play(1).await;
    let mut data = claim(server.addr, port, &token).await;
    let mut first = vec![0u8; 1000];
    data.read_exact(&mut first)
        .await
        .expect("the stream started");
    assert_eq!(client.ask("play x").await, "error invalid song id");
    assert_eq!(client.ask("play 1 2 3").await, "error unexpected argument");
    assert_eq!(client.ask("play 1 soon").await, "error invalid position");
    let mut more = vec![0u8; 1000];
    data.read_exact(&mut more).await.expect("still streaming");
    assert_eq!(client.ask("play 99").await, "error no such song");
    let rest = read_all(&mut data).await;
    assert!((2000 + rest.len() as u64) < bytes, "the play ended");
    server.stop().await;
}

/// PROTOCOL.md 4.4: whichever of the idle and line timeouts passes first ends a connection
/// with a half-sent line.
#[tokio::test]
async fn a_half_sent_line_meets_whichever_timeout_passes_first() {
    for (idle, line, want) in [
        (300, 10_000, "error idle timeout"),
        (10_000, 300, "error line timeout"),
    ] {
        let mut config = Config::new(demo_music());
        config.idle_timeout = Duration::from_millis(idle);
        config.line_timeout = Duration::from_millis(line);
        let server = TestServer::start(config).await;
        let mut client = server.client().await;
        client.send(b"li").await;
        assert_eq!(client.line().await.as_deref(), Some(want));
        client.expect_closed().await;
        server.stop().await;
    }
}

/// 7.2: a client that reads nothing of its play for the stall timeout loses the play (its
/// data connection is dropped), and only the play: its control connection goes on.
#[tokio::test]
async fn a_data_connection_that_takes_nothing_is_dropped_after_the_stall_timeout() {
    let dir = common::long_library();
    let mut config = Config::new(dir.path());
    config.pacing = None;
    config.stall_timeout = Duration::from_millis(300);
    let server = TestServer::start(config).await;
    let mut client = server.client().await;
    let (port, token, bytes) = client.play(1).await;
    let mut data = claim(server.addr, port, &token).await;
    // Read nothing for more than three stall timeouts (the socket buffers fill at once, as
    // the stream is unpaced), then read what the server sent before it gave up.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got = read_all(&mut data).await.len() as u64;
    assert!(got < bytes, "the play ended early ({got} of {bytes})");
    assert!(client.ask("list").await.starts_with('{'));
    server.stop().await;
}

/// 7.2: whatever a client sends on its data connection after the claim is ignored.
#[tokio::test]
async fn octets_sent_after_the_claim_are_ignored() {
    let server = TestServer::demo().await;
    let (_client, port, token, file) = start_play(&server).await;
    let mut data = claim(server.addr, port, &token).await;
    data.write_all(b"stop\nplay 2\n0123456789abcdef\n")
        .await
        .expect("junk");
    let got = read_all(&mut data).await;
    assert_eq!(sha256(&got), sha256(&file));
    server.stop().await;
}
