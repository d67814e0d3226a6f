//! The library index (SQLite, a real file in a temporary folder): ids survive restarts and
//! rescans, a removed song's id is never given again, a restart serves what the index holds,
//! and an index file the server cannot use is left as it is while the server still serves.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{PATIENCE, TestServer, demo_music};
use tapedeck_server::Config;

/// `list` as name → id.
async fn ids(server: &TestServer) -> BTreeMap<String, u64> {
    let mut client = server.client().await;
    let reply = client.ask("list").await;
    let list: serde_json::Value = serde_json::from_str(&reply).expect("a JSON object");
    list.as_object()
        .expect("an object")
        .iter()
        .map(|(name, id)| (name.clone(), id.as_u64().expect("an id")))
        .collect()
}

/// `list` once it satisfies `done` (a warm start compares the index with the disk in the
/// background; what it finds replaces what is served).
async fn ids_once(
    server: &TestServer,
    done: impl Fn(&BTreeMap<String, u64>) -> bool,
) -> BTreeMap<String, u64> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let now = ids(server).await;
        if done(&now) {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the index never became {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn serve(music: &Path, db: &Path) -> TestServer {
    let mut config = Config::new(music);
    config.db = Some(db.to_owned());
    config.pacing = None;
    TestServer::start(config).await
}

/// A music folder with copies of the demo songs (copies: the tests change them).
fn music() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let music = dir.path().join("music");
    std::fs::create_dir(&music).expect("music folder");
    for entry in std::fs::read_dir(demo_music()).expect("demo") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e != "sh") {
            std::fs::copy(&path, music.join(path.file_name().expect("name"))).expect("copy");
        }
    }
    (dir, music)
}

#[tokio::test]
async fn ids_survive_restarts_and_a_removed_songs_id_is_never_given_again() {
    let (dir, music) = music();
    let db = dir.path().join("state").join("index.sqlite3");
    let server = serve(&music, &db).await;
    let first = ids(&server).await;
    assert_eq!(first.values().copied().collect::<Vec<_>>(), [1, 2, 3, 4]);
    server.stop().await;

    // While the server is down: one song goes, one comes, one changes.
    std::fs::remove_file(music.join("02 Night Drive.flac")).expect("remove");
    std::fs::copy(
        demo_music().join("02 Night Drive.flac"),
        music.join("05 New Song.flac"),
    )
    .expect("add");
    let mut changed = std::fs::read(music.join("01 Morning Tape.mp3")).expect("read");
    changed.extend([0u8; 1000]);
    std::fs::write(music.join("01 Morning Tape.mp3"), &changed).expect("change");

    let server = serve(&music, &db).await;
    let second = ids_once(&server, |now| now.contains_key("05 New Song.flac")).await;
    assert_eq!(second["01 Morning Tape.mp3"], first["01 Morning Tape.mp3"]);
    assert_eq!(second["03 Paper Boats.ogg"], first["03 Paper Boats.ogg"]);
    assert_eq!(second["04 Small Hours.wav"], first["04 Small Hours.wav"]);
    assert_eq!(
        second["05 New Song.flac"], 5,
        "a new id, not the removed song's 2"
    );
    assert!(!second.contains_key("02 Night Drive.flac"));
    let mut client = server.client().await;
    assert_eq!(client.ask("info 2").await, "error no such song");
    let info = client.ask("info 1").await;
    let song: serde_json::Value = serde_json::from_str(&info).expect("json");
    assert_eq!(
        song["size"],
        changed.len(),
        "the changed file's facts were read again"
    );
    server.stop().await;

    // The removed song's id stays retired, even when its name comes back.
    std::fs::remove_file(music.join("05 New Song.flac")).expect("remove");
    std::fs::copy(
        demo_music().join("02 Night Drive.flac"),
        music.join("02 Night Drive.flac"),
    )
    .expect("put back");
    let server = serve(&music, &db).await;
    let third = ids_once(&server, |now| !now.contains_key("05 New Song.flac")).await;
    assert_eq!(third.get("02 Night Drive.flac"), Some(&6), "{third:?}");
    assert_eq!(third.len(), 4);
    server.stop().await;
}

#[tokio::test]
async fn a_new_index_file_is_readable_by_its_owner_only_and_names_are_data() {
    let (dir, music) = music();
    // SQL in a name is a name.
    let odd = "O'Brien\"; DROP TABLE songs; --.mp3";
    std::fs::copy(demo_music().join("01 Morning Tape.mp3"), music.join(odd)).expect("copy");
    let db = dir.path().join("index.sqlite3");
    let server = serve(&music, &db).await;
    let before = ids(&server).await;
    assert_eq!(before.len(), 5);
    server.stop().await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&db).expect("index").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }
    let server = serve(&music, &db).await;
    assert_eq!(ids(&server).await, before);
    server.stop().await;
}

#[tokio::test]
async fn an_index_file_the_server_cannot_use_is_left_as_it_is_and_the_server_serves() {
    let (dir, music) = music();
    // Not a database at all.
    let corrupt = dir.path().join("corrupt.sqlite3");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 3) as u8).collect();
    std::fs::write(&corrupt, &garbage).expect("write");
    let server = serve(&music, &corrupt).await;
    assert_eq!(ids(&server).await.len(), 4);
    server.stop().await;
    assert_eq!(
        std::fs::read(&corrupt).expect("read"),
        garbage,
        "left as it was"
    );

    // A database a newer server wrote.
    let newer = dir.path().join("newer.sqlite3");
    {
        let conn = rusqlite::Connection::open(&newer).expect("create");
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
            .expect("write");
    }
    let before = std::fs::read(&newer).expect("read");
    let server = serve(&music, &newer).await;
    assert_eq!(ids(&server).await.len(), 4);
    server.stop().await;
    let conn = rusqlite::Connection::open(&newer).expect("open");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version");
    assert_eq!(version, 99);
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'songs'",
            [],
            |r| r.get(0),
        )
        .expect("query");
    assert_eq!(tables, 0, "no table of ours was added");
    drop(conn);
    assert_eq!(std::fs::read(&newer).expect("read").len(), before.len());
}

#[tokio::test]
async fn an_empty_folder_is_still_an_error_with_an_index() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::new(dir.path());
    config.db = Some(dir.path().join("index.sqlite3"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let result = tapedeck_server::run(listener, config, std::future::pending()).await;
    let err = result.expect_err("no songs");
    assert!(err.to_string().contains("no audio files found"), "{err}");
}

/// Tags with absurd values: a title of 20,000 characters is kept as its first 1,024 (and the
/// log says so); the song is served, and so is everything else.
#[tokio::test]
async fn an_absurd_tag_is_cut_and_the_song_served() {
    let (dir, music) = music();
    let title = "Ä".repeat(20_000);
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(demo_music().join("01 Morning Tape.mp3"))
        .args(["-c", "copy", "-metadata", &format!("title={title}")])
        .arg(music.join("06 Absurd.mp3"))
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
    let server = serve(&music, &dir.path().join("index.sqlite3")).await;
    let ids = ids(&server).await;
    assert_eq!(ids.len(), 5);
    let mut client = server.client().await;
    let info = client.ask(&format!("info {}", ids["06 Absurd.mp3"])).await;
    let song: serde_json::Value = serde_json::from_str(&info).expect("json");
    assert_eq!(
        song["title"].as_str().map(|t| t.chars().count()),
        Some(1024)
    );
    assert!(
        song["title"]
            .as_str()
            .is_some_and(|t| t.chars().all(|c| c == 'Ä'))
    );
    server.stop().await;
}

/// An index written by the first version of the schema (songs naming their folder in every
/// row) is upgraded in place: every id is kept, and so is the highest id ever given, so a
/// retired id is not given again after the upgrade either.
#[tokio::test]
async fn an_index_of_an_older_schema_is_upgraded_in_place_keeping_every_id() {
    let (dir, music) = music();
    let db = dir.path().join("old.sqlite3");
    let root = music.canonicalize().expect("canonical");
    {
        let conn = rusqlite::Connection::open(&db).expect("create");
        conn.execute_batch(
            "CREATE TABLE songs (
                id INTEGER PRIMARY KEY AUTOINCREMENT, root TEXT NOT NULL, name TEXT NOT NULL,
                file TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                title TEXT NOT NULL, artist TEXT NOT NULL, album TEXT NOT NULL,
                duration_ms INTEGER NOT NULL, format TEXT NOT NULL, sample_rate INTEGER NOT NULL,
                channels INTEGER NOT NULL, bitrate INTEGER NOT NULL, UNIQUE (root, name));
             PRAGMA user_version = 1;",
        )
        .expect("version 1");
        let mut insert = conn
            .prepare(
                "INSERT INTO songs VALUES (?1, ?2, ?3, ?4, 0, 0, 'Old title', '', '', 1000,
                 'mp3', 44100, 2, 128000)",
            )
            .expect("prepare");
        for (id, name) in [(7, "01 Morning Tape.mp3"), (3, "02 Night Drive.flac")] {
            let file = root.join(name);
            insert
                .execute(rusqlite::params![id, root.to_str(), name, file.to_str()])
                .expect("insert");
        }
        // Ids up to 9 were given once (8 and 9 to songs removed since).
        conn.execute(
            "UPDATE sqlite_sequence SET seq = 9 WHERE name = 'songs'",
            [],
        )
        .expect("sequence");
    }
    let server = serve(&music, &db).await;
    let now = ids_once(&server, |now| now.len() == 4).await;
    assert_eq!(now["01 Morning Tape.mp3"], 7);
    assert_eq!(now["02 Night Drive.flac"], 3);
    assert_eq!(now["03 Paper Boats.ogg"], 10);
    assert_eq!(now["04 Small Hours.wav"], 11);
    let mut client = server.client().await;
    let song: serde_json::Value = serde_json::from_str(&client.ask("info 7").await).expect("json");
    assert_eq!(
        song["title"], "Morning Tape",
        "facts read again (the file's size differs)"
    );
    server.stop().await;
    let conn = rusqlite::Connection::open(&db).expect("open");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version");
    assert_eq!(version, 4, "upgraded to the current schema (4: accounts)");
}

/// `source` copied to `out` with the tags `tags` (`KEY=value`) added.
fn retag(source: &Path, tags: &[&str], out: &Path) {
    let mut args = vec!["-i", source.to_str().expect("utf-8"), "-c", "copy"];
    for tag in tags {
        args.extend(["-metadata", tag]);
    }
    tapedeck_tests::media::ffmpeg(&args, out);
}

/// The song object of `name`.
async fn song(server: &TestServer, name: &str) -> serde_json::Value {
    let id = ids(server).await[name];
    let mut client = server.client().await;
    serde_json::from_str(&client.ask(&format!("info {id}")).await).expect("json")
}

/// ReplayGain in each kind of tag (ID3 TXXX in an mp3, Vorbis comments in a FLAC, R128 in an
/// Opus file) becomes the song object's members; absurd values are left out; a song without
/// any has none of them.
#[tokio::test]
async fn replay_gain_is_read_from_every_kind_of_tag() {
    let (dir, music) = music();
    let mp3 = demo_music().join("01 Morning Tape.mp3");
    let flac = demo_music().join("02 Night Drive.flac");
    retag(
        &mp3,
        &[
            "REPLAYGAIN_TRACK_GAIN=-6.54 dB",
            "REPLAYGAIN_TRACK_PEAK=0.988525",
            "REPLAYGAIN_ALBUM_GAIN=-7.00 dB",
            "REPLAYGAIN_ALBUM_PEAK=1.0",
        ],
        &music.join("05 Gain.mp3"),
    );
    let album = ["REPLAYGAIN_ALBUM_GAIN=+1.5 dB", "REPLAYGAIN_ALBUM_PEAK=0.5"];
    retag(&flac, &album, &music.join("06 Gain.flac"));
    tapedeck_tests::media::ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=d=2",
            "-c:a",
            "libopus",
            "-metadata",
            "R128_TRACK_GAIN=-512",
        ],
        &music.join("07 R128.opus"),
    );
    let absurd = [
        "REPLAYGAIN_TRACK_GAIN=+900 dB",
        "REPLAYGAIN_TRACK_PEAK=loud",
    ];
    retag(&mp3, &absurd, &music.join("08 Absurd.mp3"));
    let server = serve(&music, &dir.path().join("index.sqlite3")).await;
    let gains = |song: &serde_json::Value| {
        ["track_gain_db", "track_peak", "album_gain_db", "album_peak"]
            .map(|key| song.get(key).and_then(serde_json::Value::as_f64))
    };
    let near = |got: [Option<f64>; 4], want: [Option<f64>; 4]| {
        got.iter().zip(want).all(|(g, w)| match (g, w) {
            (Some(g), Some(w)) => (g - w).abs() < 1e-4,
            (g, w) => g.is_none() && w.is_none(),
        })
    };
    let cases = [
        (
            "05 Gain.mp3",
            [Some(-6.54), Some(0.988_525), Some(-7.0), Some(1.0)],
        ),
        ("06 Gain.flac", [None, None, Some(1.5), Some(0.5)]),
        // R128 is relative to -23 LUFS: -512/256 dB, plus 5 dB to ReplayGain's reference.
        ("07 R128.opus", [Some(3.0), None, None, None]),
        ("08 Absurd.mp3", [None, None, None, None]),
        ("01 Morning Tape.mp3", [None, None, None, None]),
    ];
    for (name, want) in cases {
        let got = gains(&song(&server, name).await);
        assert!(near(got, want), "{name}: {got:?}");
    }
    server.stop().await;
    // Kept in the index: a warm start serves the same.
    let server = serve(&music, &dir.path().join("index.sqlite3")).await;
    let got = gains(&song(&server, "05 Gain.mp3").await);
    assert!(near(got, cases[0].1), "after a restart: {got:?}");
    server.stop().await;
}

/// An index of schema version 2 (before ReplayGain was kept) is upgraded, and the tags of its
/// songs read again even though their files did not change.
#[tokio::test]
async fn an_index_from_before_replay_gain_reads_the_tags_again() {
    let (dir, music) = music();
    let mp3 = demo_music().join("01 Morning Tape.mp3");
    let name = "05 Gain.mp3";
    let file = music.join(name);
    retag(&mp3, &["REPLAYGAIN_TRACK_GAIN=-3 dB"], &file);
    let db = dir.path().join("v2.sqlite3");
    let meta = std::fs::metadata(&file).expect("metadata");
    let mtime_ns = meta
        .modified()
        .expect("mtime")
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos() as i64;
    let root = music.canonicalize().expect("canonical");
    {
        let conn = rusqlite::Connection::open(&db).expect("create");
        conn.execute_batch(
            "CREATE TABLE roots (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE);
             CREATE TABLE songs (
                id INTEGER PRIMARY KEY AUTOINCREMENT, root INTEGER NOT NULL REFERENCES roots (id),
                name TEXT NOT NULL, file TEXT NOT NULL, size INTEGER NOT NULL,
                mtime_ns INTEGER NOT NULL, title TEXT NOT NULL, artist TEXT NOT NULL,
                album TEXT NOT NULL, duration_ms INTEGER NOT NULL, format TEXT NOT NULL,
                sample_rate INTEGER NOT NULL, channels INTEGER NOT NULL,
                bitrate INTEGER NOT NULL, UNIQUE (root, name));
             PRAGMA user_version = 2;",
        )
        .expect("version 2");
        conn.execute("INSERT INTO roots VALUES (1, ?1)", [root.to_str()])
            .expect("root");
        conn.execute(
            "INSERT INTO songs VALUES (40, 1, ?1, ?2, ?3, ?4, 'Unchanged file', '', '', 1000,
             'mp3', 44100, 2, 128000)",
            rusqlite::params![name, root.join(name).to_str(), meta.len() as i64, mtime_ns],
        )
        .expect("song");
    }
    let server = serve(&music, &db).await;
    ids_once(&server, |now| now.len() == 5).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let song = song(&server, name).await;
        if song["track_gain_db"].as_f64() == Some(-3.0) {
            assert_eq!(song["id"], 40, "the id is kept");
            assert_eq!(song["title"], "Morning Tape");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never read again: {song}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.stop().await;
}
