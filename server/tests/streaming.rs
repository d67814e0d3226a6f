//! Plays: exact bytes, stop, switch, interleavings, concurrency, and clean-up.

mod common;

use std::time::Duration;

use common::{Client, PATIENCE, TestServer, claim, demo_music, long_library, read_all, sha256};
use tapedeck_protocol::{Command, Reply};
use tapedeck_server::Config;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

async fn song_ids(client: &mut Client) -> Vec<(String, u32)> {
    let Reply::List(list) = client.command(Command::List).await else {
        panic!("list")
    };
    list.into_iter().map(|(name, id)| (name, id.0)).collect()
}

#[tokio::test]
async fn play_delivers_exactly_the_file_for_every_format() {
    let server = TestServer::demo().await;
    let mut client = server.client().await;
    let mut formats = Vec::new();
    for (name, id) in song_ids(&mut client).await {
        let file = std::fs::read(demo_music().join(&name)).expect("read song");
        let (port, token, bytes) = client.play(id).await;
        assert_eq!(bytes, file.len() as u64, "{name}");
        let got = read_all(&mut claim(server.addr, port, &token).await).await;
        assert_eq!(sha256(&got), sha256(&file), "{name}");
        formats.push(name.rsplit('.').next().unwrap_or_default().to_owned());
    }
    formats.sort();
    assert_eq!(formats, ["flac", "mp3", "ogg", "wav"]);
    server.stop().await;
}

#[tokio::test]
async fn paced_play_still_delivers_exactly_the_file() {
    let mut config = Config::new(demo_music());
    config.pacing = Some(tapedeck_server::Pacing {
        burst: Duration::from_millis(500),
        speed: 40.0,
    });
    let server = TestServer::start(config).await;
    let mut client = server.client().await;
    let file = std::fs::read(demo_music().join("03 Paper Boats.ogg")).expect("read");
    let (port, token, _) = client.play(3).await;
    let got = read_all(&mut claim(server.addr, port, &token).await).await;
    assert_eq!(sha256(&got), sha256(&file));
    server.stop().await;
}

/// Reads from `data` until at least `n` bytes arrived; returns how many.
async fn read_at_least(data: &mut TcpStream, n: usize) -> usize {
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    while got < n {
        let read = tokio::time::timeout(PATIENCE, data.read(&mut buf))
            .await
            .expect("in time");
        let k = read.expect("read");
        assert_ne!(k, 0, "stream ended after {got} bytes");
        got += k;
    }
    got
}

/// Reads until the end of the stream and returns the total count.
async fn drain(data: &mut TcpStream) -> usize {
    read_all(data).await.len()
}

#[tokio::test]
async fn stop_mid_stream_ends_the_transmission_early() {
    let dir = long_library();
    let server = TestServer::start(Config::new(dir.path())).await;
    let mut client = server.client().await;
    let (port, token, bytes) = client.play(1).await;
    let mut data = claim(server.addr, port, &token).await;
    let early = read_at_least(&mut data, 100_000).await;
    assert_eq!(client.ask("stop").await, "stopped");
    let total = early + drain(&mut data).await;
    // The burst is 3 s of a 60 s song; with the paced rate after it, far less than the file.
    assert!(
        total < (bytes / 4) as usize,
        "sent {total} of {bytes} bytes after stop"
    );
    assert_eq!(
        client.ask("stop").await,
        "stopped",
        "stop when nothing plays"
    );
    server.stop().await;
}

#[tokio::test]
async fn play_while_playing_switches() {
    let dir = long_library();
    let server = TestServer::start(Config::new(dir.path())).await;
    let mut client = server.client().await;
    let (port, token, bytes) = client.play(1).await;
    let mut first = claim(server.addr, port, &token).await;
    read_at_least(&mut first, 10_000).await;
    let (port2, token2, bytes2) = client.play(2).await;
    let cut = drain(&mut first).await;
    assert!(cut < (bytes / 4) as usize, "the first song was cut short");
    let second = read_all(&mut claim(server.addr, port2, &token2).await).await;
    let file = std::fs::read(dir.path().join("short.wav")).expect("read");
    assert_eq!(
        (second.len() as u64, sha256(&second)),
        (bytes2, sha256(&file))
    );
    server.stop().await;
}

#[tokio::test]
async fn play_stop_play_in_one_write_leaves_the_second_song_playing() {
    let dir = long_library();
    let server = TestServer::start(Config::new(dir.path())).await;
    let mut client = server.client().await;
    client.send(b"play 1\nstop\nplay 2\n").await;
    let first = Reply::parse(
        &Command::Play(tapedeck_protocol::SongId(1), None),
        &client.line().await.expect("reply"),
    );
    assert_eq!(client.line().await.as_deref(), Some("stopped"));
    let second = client.line().await.expect("reply");
    let Ok(Reply::Port {
        port: port1,
        token: token1,
        ..
    }) = first
    else {
        panic!("port")
    };
    // The first play's port was closed by the stop: nothing of song 1 is ever sent.
    if let Ok(mut stale) = TcpStream::connect((server.addr.ip(), port1)).await {
        let _ =
            tokio::io::AsyncWriteExt::write_all(&mut stale, format!("{token1}\n").as_bytes()).await;
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(PATIENCE, stale.read_to_end(&mut buf))
            .await
            .expect("in time");
        assert!(buf.is_empty(), "song 1 was sent after stop");
    }
    let Ok(Reply::Port {
        port, token, bytes, ..
    }) = Reply::parse(&Command::Play(tapedeck_protocol::SongId(2), None), &second)
    else {
        panic!("port: {second}")
    };
    let got = read_all(&mut claim(server.addr, port, &token).await).await;
    assert_eq!(got.len() as u64, bytes);
    server.stop().await;
}

#[tokio::test]
async fn pipelined_commands_are_answered_in_order() {
    let server = TestServer::demo().await;
    let mut client = server.client().await;
    client.send(b"list\r\ninfo 2\nstop\nbogus\nl\nq\n").await;
    let replies: Vec<String> = {
        let mut all = Vec::new();
        while let Some(line) = client.line().await {
            all.push(line);
        }
        all
    };
    assert_eq!(replies.len(), 6, "{replies:?}");
    assert!(replies[0].starts_with('{') && replies[1].contains("\"id\":2"));
    assert_eq!(&replies[2..4], ["stopped", "error unknown command"]);
    assert_eq!(
        (replies[4] == replies[0], replies[5].as_str()),
        (true, "bye")
    );
    server.stop().await;
}

#[tokio::test]
async fn list_is_answered_while_a_huge_file_streams() {
    let dir = long_library();
    let server = TestServer::unpaced(dir.path()).await;
    let mut client = server.client().await;
    let (port, token, _) = client.play(1).await;
    let mut data = claim(server.addr, port, &token).await;
    read_at_least(&mut data, 1000).await;
    // The data connection is not being read, so its stream is blocked on a full socket.
    assert!(client.ask("list").await.contains("long.wav"));
    assert!(drain(&mut data).await > 0);
    server.stop().await;
}

#[tokio::test]
async fn two_hundred_concurrent_clients_get_their_own_songs() {
    let server = TestServer::demo().await;
    let mut probe = server.client().await;
    let songs = song_ids(&mut probe).await;
    let hashes: Vec<[u8; 32]> = songs
        .iter()
        .map(|(name, _)| sha256(&std::fs::read(demo_music().join(name)).expect("read")))
        .collect();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (addr, pick) = (server.addr, i % songs.len());
        let id = songs[pick].1;
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(addr).await;
            let (port, token, _) = client.play(id).await;
            (
                pick,
                sha256(&read_all(&mut claim(addr, port, &token).await).await),
            )
        }));
    }
    for task in tasks {
        let (pick, hash) = task.await.expect("client task");
        assert_eq!(hash, hashes[pick], "cross-talk or corruption");
    }
    server.stop().await;
}
