//! Following the disk while the server runs (a real temporary folder): added songs appear,
//! removed ones answer `error no such song`, every connected client is told with
//! `event library changed` (PROTOCOL.md 6.6), and a play in progress is not disturbed.

mod common;

use std::time::Duration;

use common::{Client, PATIENCE, TestServer, claim, long_library, read_all, sha256, write_wav};
use tapedeck_server::{Config, Follow};
use tokio::io::AsyncReadExt;

fn following(dir: &std::path::Path, follow: Follow) -> Config {
    let mut config = Config::new(dir);
    config.follow = Some(follow);
    config.pacing = None;
    config
}

/// Notifications only, quickly settled.
fn notified() -> Follow {
    Follow {
        watch: true,
        debounce: Duration::from_millis(100),
        rescan_every: None,
    }
}

/// The next line, which must come within the patience.
async fn next_line(client: &mut Client) -> String {
    tokio::time::timeout(PATIENCE, client.line())
        .await
        .expect("a line in time")
        .expect("a line")
}

/// The reply to `line`, past any event that comes first (a file still being written may be
/// seen twice, and told twice).
async fn ask(client: &mut Client, line: &str) -> String {
    client.send(format!("{line}\n").as_bytes()).await;
    loop {
        let reply = next_line(client).await;
        if !reply.starts_with("event ") {
            return reply;
        }
    }
}

async fn has(client: &mut Client, name: &str) -> bool {
    ask(client, "list").await.contains(&format!("\"{name}\""))
}

#[tokio::test]
async fn added_and_removed_songs_are_served_and_told_and_a_play_goes_on() {
    let dir = long_library();
    let server = TestServer::start(following(dir.path(), notified())).await;
    let mut watcher = server.client().await;
    let mut listener = server.client().await;
    assert!(!has(&mut watcher, "new.wav").await);

    // A slow listener of the long song, while the folder changes under it.
    let whole = std::fs::read(dir.path().join("long.wav")).expect("read");
    let (port, token, bytes) = listener.play(1).await;
    let mut data = claim(server.addr, port, &token).await;
    let mut first = vec![0u8; 100_000];
    data.read_exact(&mut first).await.expect("the burst");

    write_wav(&dir.path().join("new.wav"), 1);
    assert_eq!(next_line(&mut watcher).await, "event library changed");
    assert!(has(&mut watcher, "new.wav").await);
    let list: serde_json::Value =
        serde_json::from_str(&ask(&mut watcher, "list").await).expect("json");
    let short = list["short.wav"].as_u64().expect("short.wav's id");

    std::fs::remove_file(dir.path().join("short.wav")).expect("remove");
    assert_eq!(next_line(&mut watcher).await, "event library changed");
    assert_eq!(
        ask(&mut watcher, &format!("info {short}")).await,
        "error no such song"
    );
    assert_eq!(
        ask(&mut watcher, &format!("play {short}")).await,
        "error no such song"
    );

    // The listener heard every change too, between its replies, and its play is whole.
    first.extend(read_all(&mut data).await);
    assert_eq!(first.len() as u64, bytes);
    assert_eq!(sha256(&first), sha256(&whole), "the play in progress");
    assert_eq!(next_line(&mut listener).await, "event library changed");
    assert_eq!(next_line(&mut listener).await, "event library changed");
    server.stop().await;
}

#[tokio::test]
async fn without_notifications_the_periodic_rescan_finds_changes() {
    let dir = long_library();
    let follow = Follow {
        watch: false,
        debounce: Duration::from_millis(100),
        rescan_every: Some(Duration::from_millis(200)),
    };
    let server = TestServer::start(following(dir.path(), follow)).await;
    let mut client = server.client().await;
    // Served, so the first scan is over: the song below is a change.
    assert!(!has(&mut client, "later.wav").await);
    write_wav(&dir.path().join("later.wav"), 1);
    assert_eq!(next_line(&mut client).await, "event library changed");
    assert!(has(&mut client, "later.wav").await);
    server.stop().await;
}

/// Files that come and go faster than the debounce, one that is not audio at all, and one
/// that vanishes while it is read: the library ends up as the folder is, and nothing else.
#[tokio::test]
async fn files_that_come_and_go_leave_the_library_as_the_folder_is() {
    let dir = long_library();
    let server = TestServer::start(following(dir.path(), notified())).await;
    let mut client = server.client().await;
    for i in 0..20 {
        let path = dir.path().join(format!("flicker-{i}.wav"));
        write_wav(&path, 1);
        std::fs::remove_file(&path).expect("remove");
    }
    std::fs::write(dir.path().join("broken.mp3"), b"not audio at all").expect("write");
    write_wav(&dir.path().join("stays.wav"), 1);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !has(&mut client, "stays.wav").await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "stays.wav never came"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let list: serde_json::Value =
        serde_json::from_str(&ask(&mut client, "list").await).expect("json");
    let mut names: Vec<&str> = list
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["long.wav", "short.wav", "stays.wav"]);
    server.stop().await;
}

/// On a server with accounts, a connection that has not signed in is told nothing of the
/// library; one signed in is told.
#[tokio::test]
async fn only_signed_in_clients_hear_of_changes() {
    let dir = long_library();
    let db = tempfile::tempdir().expect("tempdir");
    let db = db.path().join("tapedeck.sqlite3");
    tapedeck_server::accounts::add_user(&db, "alice", "correct horse").expect("added");
    let mut config = following(dir.path(), notified());
    config.db = Some(db);
    let server = TestServer::start(config).await;
    let mut member = server.client().await;
    assert!(
        member
            .ask("login alice correct horse")
            .await
            .starts_with("session ")
    );
    let mut stranger = server.client().await;
    assert_eq!(stranger.ask("user").await, "error not signed in");
    write_wav(&dir.path().join("new.wav"), 1);
    assert_eq!(next_line(&mut member).await, "event library changed");
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            next_line_after(&mut stranger, "user").await,
            "error not signed in"
        );
    }
    server.stop().await;
}

/// The first line after sending `line`, events included.
async fn next_line_after(client: &mut Client, line: &str) -> String {
    client.send(format!("{line}\n").as_bytes()).await;
    next_line(client).await
}
