//! `songs` and `search` against the real server (PROTOCOL.md 5.7, 5.8): bounded pages in the
//! order of `list`, and search that folds case and accents.

mod common;

use common::TestServer;
use tapedeck_protocol::{Command, Reply};

async fn ask(client: &mut common::Client, line: &str) -> Reply {
    let command = Command::parse(line.as_bytes()).expect("a command");
    client.command(command).await
}

#[tokio::test]
async fn pages_walk_the_library_in_the_order_of_list() {
    let server = TestServer::demo().await;
    let mut client = server.client().await;
    let Reply::List(list) = ask(&mut client, "list").await else {
        panic!("list")
    };
    let mut ids = Vec::new();
    let mut from = 0;
    loop {
        let Reply::Page(page) = ask(&mut client, &format!("songs {from} 3")).await else {
            panic!("a page")
        };
        assert_eq!((page.total, page.from), (4, from));
        if page.songs.is_empty() {
            break;
        }
        from += page.songs.len() as u32;
        ids.extend(page.songs.iter().map(|s| s.id));
    }
    assert_eq!(ids, list.values().copied().collect::<Vec<_>>());
    let Reply::Page(past) = ask(&mut client, "songs 4294967295 10").await else {
        panic!("a page")
    };
    assert!(past.songs.is_empty());
    server.stop().await;
}

/// Every song of `order`, walked in pages of 3.
async fn walk(client: &mut common::Client, order: &str) -> Vec<tapedeck_protocol::SongInfo> {
    let mut songs = Vec::new();
    loop {
        let line = format!("songs {} 3 {order}", songs.len());
        let Reply::Page(page) = ask(client, &line).await else {
            panic!("a page")
        };
        if page.songs.is_empty() {
            return songs;
        }
        songs.extend(page.songs);
    }
}

#[tokio::test]
async fn pages_in_every_order_and_its_reverse() {
    let server = TestServer::demo().await;
    let mut client = server.client().await;
    let by_name = walk(&mut client, "name").await;
    for key in ["name", "title", "artist", "album", "duration", "format"] {
        let up = walk(&mut client, key).await;
        let mut down = walk(&mut client, &format!("-{}", key.to_uppercase())).await;
        assert_eq!(up.len(), by_name.len(), "{key}: every song once");
        down.reverse();
        assert_eq!(up, down, "-{key} is the reverse of {key}");
        let sorted = |a: &tapedeck_protocol::SongInfo, b: &tapedeck_protocol::SongInfo| match key {
            "title" => a.title.to_lowercase() <= b.title.to_lowercase(),
            "duration" => a.duration_ms <= b.duration_ms,
            "format" => a.format <= b.format,
            _ => true,
        };
        assert!(up.windows(2).all(|w| sorted(&w[0], &w[1])), "{key}: {up:?}");
    }
    assert_eq!(client.ask("songs 0 10 year").await, "error invalid order");
    assert_eq!(client.ask("songs 0 x year").await, "error invalid number");
    server.stop().await;
}

#[tokio::test]
async fn search_finds_by_any_field_ignoring_case_and_accents() {
    let server = TestServer::demo().await;
    let mut client = server.client().await;
    let Reply::Found(found) = ask(&mut client, "search 10 NÍGHT drive").await else {
        panic!("found")
    };
    assert_eq!(found.total, 1);
    assert_eq!(found.songs[0].title, "Night Drive");
    let Reply::Found(all) = ask(&mut client, "search 2 loopback").await else {
        panic!("found")
    };
    assert_eq!(
        (all.total, all.songs.len()),
        (4, 2),
        "the artist of every song"
    );
    let Reply::Found(none) = ask(&mut client, "search 10 zzz").await else {
        panic!("found")
    };
    assert_eq!((none.total, none.songs.len()), (0, 0));
    for (line, reason) in [
        ("songs", "missing argument"),
        ("songs 1", "missing argument"),
        ("songs x 1", "invalid number"),
        ("search 10", "missing argument"),
        ("search ten night", "invalid number"),
    ] {
        assert_eq!(client.ask(line).await, format!("error {reason}"), "{line}");
    }
    server.stop().await;
}

#[tokio::test]
async fn browse_by_artist_and_album() {
    let server = TestServer::demo().await;
    let mut client = server.client().await;
    let Reply::Artists(artists) = ask(&mut client, "artists 0 10").await else {
        panic!("artists")
    };
    assert_eq!(artists.total, 1);
    let artist = &artists.artists[0];
    assert_eq!(
        (artist.name.as_str(), artist.albums, artist.songs),
        ("The Loopback Quartet", 1, 4)
    );
    let Reply::Albums(albums) = ask(&mut client, "albums 0 10 the LOOPBACK quartet").await else {
        panic!("albums")
    };
    assert_eq!(albums.total, 1);
    let album = &albums.albums[0];
    assert_eq!((album.title.as_str(), album.songs), ("Demo Tape", 4));
    let Reply::Albums(none) = ask(&mut client, "albums 0 10 nobody").await else {
        panic!("albums")
    };
    assert_eq!((none.total, none.albums.len()), (0, 0));
    let Reply::Album(songs) = ask(&mut client, &format!("album {}", album.id)).await else {
        panic!("album")
    };
    assert_eq!((songs.id, songs.total, songs.songs.len()), (album.id, 4, 4));
    let Reply::Album(again) = ask(&mut client, "album 3").await else {
        panic!("album")
    };
    assert_eq!(again, songs, "any of its songs names the album");
    assert_eq!(client.ask("album 99").await, "error no such song");
    server.stop().await;
}
