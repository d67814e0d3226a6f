//! Cover art through the real server (PROTOCOL.md 5.11): a picture in the tags and one in the
//! folder are found at scan time and said in the song object; `art <id> [<px>]` sends a JPEG
//! thumbnail on a data port claimed like a play's; no art, no song, a broken picture and one
//! too large each get a clear error, and the server goes on serving.

mod common;

use common::{TestServer, claim, read_all};
use tapedeck_protocol::{Command, Reply, SongId};
use tapedeck_tests::fixtures::art_library;

/// `list` ids by name.
async fn ids(client: &mut common::Client) -> std::collections::BTreeMap<String, u32> {
    match client.command(Command::List).await {
        Reply::List(list) => list.into_iter().map(|(name, id)| (name, id.0)).collect(),
        other => panic!("list: {other:?}"),
    }
}

/// `art <id> <px>`: the picture's octets, or the error's reason.
async fn art(
    server: &TestServer,
    client: &mut common::Client,
    id: u32,
    px: Option<u32>,
) -> Result<Vec<u8>, String> {
    match client.command(Command::Art(SongId(id), px)).await {
        Reply::Art {
            port,
            token,
            bytes,
            media_type,
        } => {
            assert_eq!(media_type, "image/jpeg");
            let mut data = claim(server.addr, port, &token).await;
            let got = read_all(&mut data).await;
            assert_eq!(got.len() as u64, bytes, "the octets announced");
            Ok(got)
        }
        Reply::Error(reason) => Err(reason),
        other => panic!("art: {other:?}"),
    }
}

#[tokio::test]
async fn art_from_tags_and_folders_in_every_size_and_errors_for_the_rest() {
    let music = art_library();
    let server = TestServer::unpaced(music.path()).await;
    let mut client = server.client().await;
    let ids = ids(&mut client).await;
    let has_art = |reply: Reply| match reply {
        Reply::Song(song) => song.art,
        other => panic!("info: {other:?}"),
    };
    for (name, want) in [
        ("a/01 Embedded.mp3", true),
        ("b/01 Folder.flac", true),
        ("c/01 None.ogg", false),
    ] {
        let info = client.command(Command::Info(Some(SongId(ids[name])))).await;
        assert_eq!(has_art(info), want, "{name}");
    }
    let size = |bytes: &[u8]| {
        let picture = image::load_from_memory(bytes).expect("a JPEG");
        (picture.width(), picture.height())
    };
    let embedded = art(&server, &mut client, ids["a/01 Embedded.mp3"], None).await;
    assert_eq!(
        size(&embedded.expect("art")),
        (512, 384),
        "the largest size by default"
    );
    let small = art(&server, &mut client, ids["a/01 Embedded.mp3"], Some(50)).await;
    assert_eq!(size(&small.expect("art")), (64, 48), "rounded up to 64");
    let folder = art(&server, &mut client, ids["b/01 Folder.flac"], Some(128)).await;
    assert_eq!(size(&folder.expect("art")), (128, 128));
    let large = art(&server, &mut client, ids["e/01 Large.wav"], Some(64)).await;
    assert_eq!(
        size(&large.expect("a small picture in a 50 MB file")),
        (64, 48)
    );
    for (id, reason) in [
        (ids["c/01 None.ogg"], "no art"),
        (ids["d/01 Broken.wav"], "art unreadable"),
        (ids["f/01 Too large.wav"], "art unreadable"),
        (999_999, "no such song"),
    ] {
        assert_eq!(
            art(&server, &mut client, id, None).await,
            Err(reason.into()),
            "{id}"
        );
    }
    // Bad input on the line itself; the connection stays usable.
    for (line, reason) in [
        ("art", "missing song id"),
        ("art x", "invalid song id"),
        ("art 1 big", "invalid number"),
        ("art 1 2 3", "unexpected argument"),
    ] {
        assert_eq!(client.ask(line).await, format!("error {reason}"), "{line}");
    }
    // A play goes on while art is fetched, and the same thumbnail comes again.
    let (port, token, bytes) = client.play(ids["c/01 None.ogg"]).await;
    let again = art(&server, &mut client, ids["b/01 Folder.flac"], Some(128)).await;
    assert_eq!(size(&again.expect("art")), (128, 128));
    let mut data = claim(server.addr, port, &token).await;
    assert_eq!(
        read_all(&mut data).await.len() as u64,
        bytes,
        "the play was not ended"
    );
    server.stop().await;
}

/// A later `art` ends an earlier transfer not yet claimed, and so does closing the control
/// connection (PROTOCOL.md 5.11): the earlier data port is closed. (The claim timeout is made
/// long, so nothing else closes it.)
#[tokio::test]
async fn a_later_art_or_the_end_of_the_connection_ends_a_transfer() {
    let music = art_library();
    let mut config = tapedeck_server::Config::new(music.path());
    config.pacing = None;
    config.claim_timeout = std::time::Duration::from_secs(600);
    let server = TestServer::start(config).await;
    let mut client = server.client().await;
    let ids = ids(&mut client).await;
    let port_of = |reply: Reply| match reply {
        Reply::Art { port, .. } => port,
        other => panic!("art: {other:?}"),
    };
    let embedded = Command::Art(SongId(ids["a/01 Embedded.mp3"]), Some(64));
    let first = port_of(client.command(embedded.clone()).await);
    let second = art(&server, &mut client, ids["b/01 Folder.flac"], Some(64)).await;
    assert!(second.is_ok(), "the later one is served");
    // The earlier transfer was ended before the later reply was written.
    assert!(closed(&server, first).await, "the earlier port is closed");
    let third = port_of(client.command(embedded).await);
    assert!(
        !closed(&server, third).await,
        "open while its connection is"
    );
    drop(client);
    let deadline = tokio::time::Instant::now() + common::PATIENCE;
    while !closed(&server, third).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still open after its connection closed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.stop().await;
}

/// Whether the data port refuses a connection (without claiming it).
async fn closed(server: &TestServer, port: u16) -> bool {
    tokio::net::TcpStream::connect((server.addr.ip(), port))
        .await
        .is_err()
}

/// An art transfer is not a play (PROTOCOL.md 5.11): `play` and `stop` leave it waiting for
/// its claim, and it is then sent whole.
#[tokio::test]
async fn play_and_stop_do_not_end_an_art_transfer() {
    let music = art_library();
    let server = TestServer::unpaced(music.path()).await;
    let mut client = server.client().await;
    let ids = ids(&mut client).await;
    let asked = Command::Art(SongId(ids["b/01 Folder.flac"]), Some(64));
    let Reply::Art {
        port, token, bytes, ..
    } = client.command(asked).await
    else {
        panic!("an art reply")
    };
    let _ = client.play(ids["c/01 None.ogg"]).await;
    assert_eq!(client.ask("stop").await, "stopped");
    let mut data = claim(server.addr, port, &token).await;
    let picture = read_all(&mut data).await;
    assert_eq!(picture.len() as u64, bytes, "the picture, whole");
    server.stop().await;
}
