//! MP4 against the real server (PROTOCOL.md 5.4.2): an index after the media data is sent
//! first, so the stream decodes as it arrives; plays from a position are exact; files the
//! server cannot rewrite get clear errors, and files that change under it cost nothing.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{Client, TestServer, claim, read_all};
use tapedeck_audio::decode_whole;
use tapedeck_tests::media::awkward_media;

/// (rate, channels, interleaved samples) of `bytes` pushed in 4 KiB chunks: a stream that
/// needs its end to start decoding decodes nothing until then.
fn decode(bytes: &[u8]) -> (u32, usize, Vec<f32>) {
    let pcm = decode_whole(bytes, Some("m4a"), 4096).expect("decode");
    (pcm.sample_rate, usize::from(pcm.channels), pcm.samples)
}

/// The top-level box types of an mp4 stream, in order.
fn top_level(bytes: &[u8]) -> Vec<String> {
    let boxes = tapedeck_media::mp4::top_level(bytes, bytes.len() as u64).expect("read");
    boxes
        .iter()
        .map(|b| String::from_utf8_lossy(&b.kind).into_owned())
        .collect()
}

/// A library of the awkward mp4 files, linked (not copied) into a directory of its own.
fn library() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in [
        "moov-last.m4a",
        "faststart.m4a",
        "alac.m4a",
        "noise-coded.m4a",
        "fragmented.m4a",
        "fragmented-alac.m4a",
    ] {
        std::fs::hard_link(awkward_media().join(name), dir.path().join(name))
            .or_else(|_| std::fs::copy(awkward_media().join(name), dir.path().join(name)).map(drop))
            .expect("link");
    }
    dir
}

async fn ids(client: &mut Client) -> HashMap<String, u32> {
    serde_json::from_str(&client.ask("list").await).expect("list json")
}

async fn play(server: &TestServer, client: &mut Client, id: u32) -> Vec<u8> {
    let (port, token, octets) = client.play(id).await;
    let got = read_all(&mut claim(server.addr, port, &token).await).await;
    assert_eq!(got.len() as u64, octets, "the announced octets");
    got
}

#[tokio::test]
async fn an_index_at_the_end_is_sent_first_and_decodes_as_the_file_does() {
    let dir = library();
    let server = TestServer::unpaced(dir.path()).await;
    let mut client = server.client().await;
    let ids = ids(&mut client).await;
    for name in ["moov-last.m4a", "alac.m4a", "faststart.m4a"] {
        let file = std::fs::read(dir.path().join(name)).expect("read");
        let got = play(&server, &mut client, ids[name]).await;
        assert_eq!(got.len(), file.len(), "{name}: same size");
        let boxes = top_level(&got);
        let moov = boxes.iter().position(|b| b == "moov").expect("moov");
        let mdat = boxes.iter().position(|b| b == "mdat").expect("mdat");
        assert!(moov < mdat, "{name}: {boxes:?}");
        assert!(decode(&got) == decode(&file), "{name}: decodes differently");
    }
    server.stop().await;
}

#[tokio::test]
async fn mp4_plays_from_a_position_sample_for_sample() {
    let dir = library();
    let server = TestServer::unpaced(dir.path()).await;
    let mut client = server.client().await;
    let ids = ids(&mut client).await;
    for (name, positions) in [
        ("moov-last.m4a", &[0, 1, 2_398, 30_001, 59_000][..]),
        ("alac.m4a", &[0, 93, 4_321, 9_990][..]),
        (
            "fragmented.m4a",
            &[0, 1, 999, 1_000, 2_398, 30_001, 59_000][..],
        ),
        ("fragmented-alac.m4a", &[0, 93, 1_000, 4_321, 9_990][..]),
    ] {
        let file = std::fs::read(dir.path().join(name)).expect("read");
        let (rate, channels, whole) = decode(&file);
        for &ms in positions {
            let (port, token, octets, skip) = client.play_from(ids[name], ms).await.expect("port");
            let got = read_all(&mut claim(server.addr, port, &token).await).await;
            assert_eq!(got.len() as u64, octets);
            let (_, _, part) = decode(&got);
            let target = ((u64::from(ms) * u64::from(rate) + 500) / 1000) as usize * channels;
            assert!(
                part[skip as usize * channels..] == whole[target..],
                "{name} from {ms} ms"
            );
        }
    }
    // The last tenth sends about a tenth: the index is cut with the samples.
    let size = std::fs::metadata(dir.path().join("moov-last.m4a"))
        .expect("size")
        .len();
    let (port, token, _, _) = client
        .play_from(ids["moov-last.m4a"], 54_000)
        .await
        .expect("port");
    let got = read_all(&mut claim(server.addr, port, &token).await).await;
    let share = got.len() as f64 / size as f64;
    // The file is 20 s of noise, then 40 s of silence (coded in far fewer octets).
    assert!(share < 0.02, "{share:.3} of the file");
    server.stop().await;
}

/// A fragmented file's samples lie in its fragments, not its index: a play from a position
/// is laid out as one index and one media data box (the fragments' headers left in it as
/// octets no sample names), cut as any other file is, and the past end is where the
/// fragments end.
#[tokio::test]
async fn a_fragmented_file_plays_from_a_position_cut_and_not_fragmented() {
    let dir = library();
    let server = TestServer::unpaced(dir.path()).await;
    let mut client = server.client().await;
    let ids = ids(&mut client).await;
    for (name, last) in [("fragmented.m4a", 54_000), ("fragmented-alac.m4a", 9_000)] {
        let size = std::fs::metadata(dir.path().join(name))
            .expect("size")
            .len();
        let (port, token, _, _) = client.play_from(ids[name], last).await.expect("port");
        let got = read_all(&mut claim(server.addr, port, &token).await).await;
        assert_eq!(top_level(&got), ["ftyp", "moov", "mdat"], "{name}");
        let share = got.len() as f64 / size as f64;
        assert!(share < 0.15, "{name}: {share:.3} of the file");
        let info = client.ask(&format!("info {}", ids[name])).await;
        let json: serde_json::Value = serde_json::from_str(&info).expect("json");
        let ms = u32::try_from(json["duration_ms"].as_u64().expect("a duration")).expect("ms");
        assert!(ms >= last, "{name}: {ms} ms");
        let past = client.play_from(ids[name], ms + 100).await;
        assert_eq!(past, Err("position past the end".into()), "{name}");
    }
    server.stop().await;
}

#[tokio::test]
async fn durations_leave_out_priming_and_padding() {
    let dir = library();
    let server = TestServer::unpaced(dir.path()).await;
    let mut client = server.client().await;
    let ids = ids(&mut client).await;
    // ffmpeg states no priming in a fragmented file (no edit list): by the file's own
    // timeline its 1024 frames of AAC priming are part of the song, 23 ms.
    for (name, want) in [
        ("moov-last.m4a", 60_000),
        ("alac.m4a", 10_000),
        ("fragmented.m4a", 60_023),
        ("fragmented-alac.m4a", 10_000),
    ] {
        let info = client.ask(&format!("info {}", ids[name])).await;
        let json: serde_json::Value = serde_json::from_str(&info).expect("json");
        assert_eq!(json["duration_ms"], want, "{name}");
    }
    server.stop().await;
}

/// Writes a file with a compressed index (old QuickTime `cmov`) at `path`, in place of the
/// link there.
fn compressed(path: &Path) {
    let mut file = Vec::new();
    for (kind, payload) in [
        (b"ftyp", &b"M4A \0\0\0\0"[..]),
        (b"mdat", &[0u8; 4000][..]),
        (b"moov", &[0, 0, 0, 48, b'c', b'm', b'o', b'v'][..]),
    ] {
        file.extend(
            u32::try_from(payload.len() + 8)
                .expect("small")
                .to_be_bytes(),
        );
        file.extend(kind);
        file.extend(payload);
    }
    file.extend([0; 40]);
    // The moov box's size counts the cmov box's 40 octets of payload too.
    let moov = 16 + 4008;
    file[moov..moov + 4].copy_from_slice(&56u32.to_be_bytes());
    replace(path, &file);
}

/// Replaces the file at `path` (a link to a shared fixture: unlinked first) with `bytes`.
fn replace(path: &Path, bytes: &[u8]) {
    std::fs::remove_file(path).expect("unlink");
    std::fs::write(path, bytes).expect("write");
}

/// Files changed since the scan: one now has a compressed index, one was cut short in its
/// media data (so it has no index at all), one lost its last two thirds after its index.
#[tokio::test]
async fn files_the_server_cannot_rewrite_get_clear_errors() {
    let dir = library();
    let server = TestServer::unpaced(dir.path()).await;
    let mut client = server.client().await;
    let ids = ids(&mut client).await;
    let moov_last = std::fs::read(dir.path().join("moov-last.m4a")).expect("read");
    compressed(&dir.path().join("alac.m4a"));
    replace(
        &dir.path().join("faststart.m4a"),
        &moov_last[..moov_last.len() / 2],
    );
    let compressed = std::fs::read(dir.path().join("alac.m4a")).expect("read");
    assert_eq!(
        play(&server, &mut client, ids["alac.m4a"]).await,
        compressed
    );
    for name in ["alac.m4a", "faststart.m4a"] {
        assert_eq!(
            client.play_from(ids[name], 1_000).await,
            Err("cannot start this song at a position".to_owned()),
            "{name}"
        );
    }
    // Cut short after its index (which comes first): the index promises samples the file
    // no longer holds, at any position.
    let fast = std::fs::read(awkward_media().join("faststart.m4a")).expect("read");
    replace(&dir.path().join("noise-coded.m4a"), &fast[..fast.len() / 3]);
    for ms in [1_000, 50_000] {
        assert_eq!(
            client.play_from(ids["noise-coded.m4a"], ms).await,
            Err("cannot start this song at a position".to_owned()),
            "{ms}"
        );
    }
    // A fragmented file with a broken fragment is still sent whole, and cannot be started
    // at a position; one cut short is the song up to the cut.
    let fragmented = std::fs::read(awkward_media().join("fragmented.m4a")).expect("read");
    let mut broken = fragmented.clone();
    // The first track run's sample count (after its box header, version and flags).
    let count = find(&broken, b"trun") + 12;
    broken[count..count + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    replace(&dir.path().join("fragmented.m4a"), &broken);
    assert_eq!(
        play(&server, &mut client, ids["fragmented.m4a"]).await,
        broken
    );
    assert_eq!(
        client.play_from(ids["fragmented.m4a"], 1_000).await,
        Err("cannot start this song at a position".to_owned())
    );
    replace(
        &dir.path().join("fragmented.m4a"),
        &fragmented[..fragmented.len() / 2],
    );
    assert!(client.play_from(ids["fragmented.m4a"], 1_000).await.is_ok());
    assert_eq!(
        client.play_from(ids["fragmented.m4a"], 50_000).await,
        Err("position past the end".to_owned())
    );
    assert!(client.ask("list").await.starts_with('{'));
    server.stop().await;
}

/// Where the first box of type `kind` starts (its size field), anywhere in `bytes`.
fn find(bytes: &[u8], kind: &[u8; 4]) -> usize {
    let at = bytes.windows(4).position(|w| w == kind).expect("the box");
    at - 4
}
