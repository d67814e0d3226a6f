//! Fault drills against a real server on real sockets: clients vanishing at every stage of a
//! play, files changing under a stream, slowloris and connection floods.

mod common;

use std::time::Duration;

use common::{Client, PATIENCE, TestServer, claim, long_library, open_fds, read_all, settle_to};
use tapedeck_server::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where in a play the client disappears.
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// `play` sent, its reply never read.
    PlaySent,
    /// `port` read, the data port never connected.
    PortReceived,
    /// Connected to the data port, no token sent.
    DataConnected,
    /// Half a token sent.
    HalfToken,
    /// Claimed, nothing read.
    Claimed,
    /// Part of the song read.
    MidStream,
    /// The whole song read, the connections left open, then gone.
    Finished,
}

const STAGES: [Stage; 7] = [
    Stage::PlaySent,
    Stage::PortReceived,
    Stage::DataConnected,
    Stage::HalfToken,
    Stage::Claimed,
    Stage::MidStream,
    Stage::Finished,
];

/// How it disappears.
#[derive(Debug, Clone, Copy)]
enum Vanish {
    /// Both connections closed (FIN).
    Close,
    /// Both connections reset (RST), as when a machine drops off.
    Reset,
    /// Only the data connection is closed; the control connection carries on.
    DataOnly,
    /// Only the control connection is closed; the data connection is left open and unread.
    ControlOnly,
}

fn gone(stream: TcpStream, how: Vanish) {
    if matches!(how, Vanish::Reset) {
        let _ = stream.set_zero_linger();
    }
    drop(stream);
}

/// Plays song `id` up to `stage`; returns the control and data connections.
async fn play_until(server: &TestServer, id: u32, stage: Stage) -> (Client, Option<TcpStream>) {
    let mut client = server.client().await;
    if matches!(stage, Stage::PlaySent) {
        client.send(format!("play {id}\n").as_bytes()).await;
        return (client, None);
    }
    let (port, token, bytes) = client.play(id).await;
    let data = match stage {
        Stage::PlaySent | Stage::PortReceived => return (client, None),
        Stage::DataConnected => TcpStream::connect((server.addr.ip(), port)).await,
        Stage::HalfToken => {
            let mut data = TcpStream::connect((server.addr.ip(), port)).await;
            if let Ok(data) = &mut data {
                data.write_all(&token.as_bytes()[..16]).await.expect("half");
            }
            data
        }
        Stage::Claimed | Stage::MidStream | Stage::Finished => {
            let mut data = claim(server.addr, port, &token).await;
            let want = match stage {
                Stage::Claimed => 0,
                Stage::MidStream => 100_000,
                _ => bytes as usize,
            };
            let mut buf = vec![0u8; want];
            data.read_exact(&mut buf).await.expect("song bytes");
            Ok(data)
        }
    };
    (client, Some(data.expect("data port")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_vanishing_at_any_stage_of_a_play_leaves_nothing_behind() {
    let dir = long_library();
    let server = TestServer::start(Config::new(dir.path())).await;
    // Warm up: the first connection starts runtime machinery that stays.
    server.client().await.ask("list").await;
    let metrics = tokio::runtime::Handle::current().metrics();
    let (fds, tasks) = (open_fds(), metrics.num_alive_tasks());
    for stage in STAGES {
        for how in [
            Vanish::Close,
            Vanish::Reset,
            Vanish::DataOnly,
            Vanish::ControlOnly,
        ] {
            // The 60 s song for every stage but the last, which reads the 2 s one whole.
            let id = if matches!(stage, Stage::Finished) {
                2
            } else {
                1
            };
            let (client, data) = play_until(&server, id, stage).await;
            let control = client
                .reader
                .into_inner()
                .reunite(client.writer)
                .expect("halves of one stream");
            match (how, data) {
                (Vanish::DataOnly, Some(data)) => {
                    gone(data, how);
                    // The control connection is still served, and its play is over.
                    let mut client = Client::from_stream(control);
                    assert_eq!(client.ask("stop").await, "stopped", "{stage:?}");
                    assert!(client.ask("list").await.starts_with('{'), "{stage:?}");
                }
                (Vanish::ControlOnly, Some(mut data)) => {
                    gone(control, how);
                    // The server ends the stream: the data connection reaches its end.
                    let mut rest = Vec::new();
                    let ended = tokio::time::timeout(PATIENCE, data.read_to_end(&mut rest));
                    let _ = ended
                        .await
                        .expect("the stream ends with its control connection");
                }
                (_, data) => {
                    data.into_iter().for_each(|d| gone(d, how));
                    gone(control, how);
                }
            }
            settle_to(fds, tasks).await;
        }
    }
    // And the server is as good as new.
    let mut client = server.client().await;
    let (port, token, bytes) = client.play(2).await;
    let mut data = claim(server.addr, port, &token).await;
    assert_eq!(read_all(&mut data).await.len() as u64, bytes);
    server.stop().await;
}

#[tokio::test]
async fn a_file_truncated_while_it_streams_ends_the_play_early_and_cleanly() {
    let dir = long_library();
    let song = dir.path().join("long.wav");
    let server = TestServer::start(Config::new(dir.path())).await;
    let mut client = server.client().await;
    let (port, token, bytes) = client.play(1).await;
    let mut data = claim(server.addr, port, &token).await;
    let mut first = vec![0u8; 100_000];
    data.read_exact(&mut first).await.expect("the burst");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&song)
        .and_then(|f| f.set_len(200_000))
        .expect("truncate");
    let rest = read_all(&mut data).await;
    let total = first.len() + rest.len();
    assert!(total as u64 <= bytes, "never more than announced");
    assert!(
        total < 10_000_000,
        "the stream ended early: {total} of {bytes}"
    );
    // The session goes on; a new play sends the file as it is now.
    let (port, token, now) = client.play(1).await;
    assert_eq!(now, 200_000);
    let mut data = claim(server.addr, port, &token).await;
    assert_eq!(read_all(&mut data).await.len(), 200_000);
    server.stop().await;
}

#[tokio::test]
async fn a_file_deleted_while_it_streams_is_sent_whole_then_reported_unavailable() {
    let dir = long_library();
    let song = dir.path().join("long.wav");
    let expected = std::fs::read(&song).expect("song");
    // Unpaced, the server is held back only by this reader: most of the file is still unsent.
    let server = TestServer::unpaced(dir.path()).await;
    let mut client = server.client().await;
    let (port, token, _) = client.play(1).await;
    let mut data = claim(server.addr, port, &token).await;
    let mut first = vec![0u8; 10_000];
    data.read_exact(&mut first).await.expect("the first bytes");
    std::fs::remove_file(&song).expect("delete");
    // The open file lives on until the stream ends: the listener hears the song to its end.
    first.extend(read_all(&mut data).await);
    assert!(
        first == expected,
        "the deleted song arrived whole and unchanged"
    );
    assert_eq!(client.ask("play 1").await, "error song unavailable");
    assert!(client.ask("list").await.starts_with('{'));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_slowloris_sockets_do_not_delay_a_real_client() {
    tapedeck_cli::raise_open_file_limit();
    let dir = long_library();
    let mut config = Config::new(dir.path());
    config.max_connections = 1100;
    config.line_timeout = Duration::from_secs(5);
    let server = TestServer::start(config).await;
    let mut trickling = Vec::new();
    for _ in 0..1000 {
        let mut socket = TcpStream::connect(server.addr).await.expect("connect");
        socket.write_all(b"li").await.expect("first bytes");
        trickling.push(socket);
    }
    // While all of them trickle a byte at a time, a real client plays and lists.
    let mut client = server.client().await;
    let (port, token, _) = client.play(2).await;
    for socket in &mut trickling {
        let _ = socket.write_all(b"s").await;
    }
    let mut data = claim(server.addr, port, &token).await;
    let mut some = vec![0u8; 50_000];
    data.read_exact(&mut some).await.expect("the stream flows");
    assert!(client.ask("list").await.starts_with('{'));
    assert_eq!(client.ask("stop").await, "stopped");
    // Every trickler is told why, and closed, at its line timeout.
    for mut socket in trickling {
        let mut reply = String::new();
        let read = tokio::time::timeout(PATIENCE, socket.read_to_string(&mut reply));
        let _ = read.await.expect("closed in time");
        assert_eq!(reply, "error line timeout\n");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_connections_meet_the_cap_clearly_and_the_server_stays_responsive() {
    tapedeck_cli::raise_open_file_limit();
    const CAP: usize = 1000;
    let dir = long_library();
    let mut config = Config::new(dir.path());
    config.max_connections = CAP;
    let server = TestServer::start(config).await;
    let mut admitted = Vec::new();
    let mut refused = 0;
    for _ in 0..10_000 {
        let mut socket = TcpStream::connect(server.addr).await.expect("connect");
        if admitted.len() < CAP {
            admitted.push(socket);
            continue;
        }
        // Beyond the cap: told so at once, and closed.
        let mut reply = String::new();
        let read = tokio::time::timeout(PATIENCE, socket.read_to_string(&mut reply));
        let _ = read.await.expect("answered in time");
        assert_eq!(reply, "error server busy\n");
        refused += 1;
    }
    assert_eq!(refused, 10_000 - CAP);
    // The admitted ones are served, however many knocked meanwhile.
    for socket in admitted.iter_mut().step_by(97) {
        socket.write_all(b"stop\n").await.expect("send");
        let mut reply = [0u8; 8];
        socket.read_exact(&mut reply).await.expect("reply");
        assert_eq!(&reply, b"stopped\n");
    }
    // A freed slot is taken by a newcomer (poll: slots free asynchronously).
    drop(admitted.pop());
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let mut newcomer = server.client().await;
        newcomer.send(b"list\n").await;
        if newcomer.line().await.is_some_and(|l| l.starts_with('{')) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no slot freed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.stop().await;
}
