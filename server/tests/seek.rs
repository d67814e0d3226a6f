//! `play <id> <ms>` against the real server (PROTOCOL.md 5.4): the data connection carries a
//! stream that decodes on its own, and after `<skip>` decoded frames it is the whole song's
//! decode from the position on, sample for sample.

mod common;

use common::{Client, TestServer, claim, demo_music, read_all};
use tapedeck_audio::decode_whole;
use tapedeck_server::Config;

/// (rate, channels, interleaved samples) of a whole stream.
fn decode(bytes: &[u8], ext: &str) -> (u32, usize, Vec<f32>) {
    let pcm = decode_whole(bytes, Some(ext), bytes.len()).expect("decode");
    (pcm.sample_rate, usize::from(pcm.channels), pcm.samples)
}

/// Plays song `id` from `ms`: the octets received and the skip.
async fn play_from(server: &TestServer, client: &mut Client, id: u32, ms: u32) -> (Vec<u8>, u64) {
    let (port, token, bytes, skip) = client.play_from(id, ms).await.expect("a port");
    let got = read_all(&mut claim(server.addr, port, &token).await).await;
    assert_eq!(got.len() as u64, bytes, "the announced octets");
    (got, skip)
}

const SONGS: [(u32, &str, &str); 4] = [
    (1, "01 Morning Tape.mp3", "mp3"),
    (2, "02 Night Drive.flac", "flac"),
    (3, "03 Paper Boats.ogg", "ogg"),
    (4, "04 Small Hours.wav", "wav"),
];

async fn positions_are_exact(server: TestServer) {
    let mut client = server.client().await;
    for (id, name, ext) in SONGS {
        let file = std::fs::read(demo_music().join(name)).expect("read");
        let (rate, channels, whole) = decode(&file, ext);
        for ms in [0, 1, 1_234, 9_999, 20_001] {
            if ms > 20_500 {
                continue;
            }
            let (got, skip) = play_from(&server, &mut client, id, ms).await;
            let (_, _, part) = decode(&got, ext);
            let target = ((u64::from(ms) * u64::from(rate) + 500) / 1000) as usize * channels;
            let rest = &part[skip as usize * channels..];
            assert!(rest == &whole[target..], "{name} from {ms} ms");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn a_play_from_a_position_is_the_song_from_there_sample_for_sample() {
    positions_are_exact(TestServer::demo().await).await;
}

#[tokio::test]
async fn paced_plays_from_a_position_are_exact_too() {
    let mut config = Config::new(demo_music());
    config.pacing = Some(tapedeck_server::Pacing {
        burst: std::time::Duration::from_secs(1000),
        speed: 1.25,
    });
    positions_are_exact(TestServer::start(config).await).await;
}

#[tokio::test]
async fn the_last_tenth_sends_about_a_tenth_of_the_file() {
    let server = TestServer::demo().await;
    let mut client = server.client().await;
    for (id, name, _) in SONGS {
        let size = std::fs::metadata(demo_music().join(name))
            .expect("size")
            .len();
        let info = client.ask(&format!("info {id}")).await;
        let json: serde_json::Value = serde_json::from_str(&info).expect("json");
        let duration = json["duration_ms"].as_u64().expect("duration");
        let (got, _) = play_from(&server, &mut client, id, (duration * 9 / 10) as u32).await;
        let share = got.len() as f64 / size as f64;
        assert!(
            (0.05..0.15).contains(&share),
            "{name}: {share:.3} of the file"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn bad_positions_get_clear_errors_and_the_connection_stays_usable() {
    let server = TestServer::demo().await;
    let mut client = server.client().await;
    assert_eq!(
        client.ask("play 1 30042").await,
        "error position past the end"
    );
    assert_eq!(
        client.ask("play 1 4294967295").await,
        "error position past the end"
    );
    assert_eq!(
        client.ask("play 4 21000").await,
        "error position past the end"
    );
    assert_eq!(client.ask("play 1 -5").await, "error invalid position");
    assert_eq!(client.ask("play 1 2.5").await, "error invalid position");
    assert_eq!(client.ask("play 9 5").await, "error no such song");
    assert!(client.ask("list").await.starts_with('{'));
    server.stop().await;
}

/// A seek storm: one client asks for 300 plays from a position at 100 a second (good ones,
/// past the end, malformed; a few claimed and dropped part-way), while another listens. Every
/// storm reply is a well-formed `port` or a clear `error`; the listener's stream is complete
/// and intact, and its control connection answers during the storm; afterwards the server
/// holds no more tasks (connections, plays) than before it.
#[tokio::test]
async fn a_seek_storm_gets_clear_replies_and_disturbs_no_one_else() {
    let mut config = Config::new(demo_music());
    config.pacing = Some(tapedeck_server::Pacing {
        burst: std::time::Duration::from_secs(1),
        speed: 8.0,
    });
    let server = TestServer::start(config).await;
    let mut calm = server.client().await;
    let (port, token, _) = calm.play(1).await;
    let reference = common::sha256(&read_all(&mut claim(server.addr, port, &token).await).await);
    // The server runs on this test's runtime: its tasks are the connections and plays it
    // holds. (Open files are the process's, shared with the other tests of this binary.)
    let tasks = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();

    let listening = {
        let addr = server.addr;
        tokio::spawn(async move {
            let mut listener = Client::connect(addr).await;
            let (port, token, bytes) = listener.play(1).await;
            let mut data = claim(addr, port, &token).await;
            let reading = tokio::spawn(async move { read_all(&mut data).await });
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            assert!(
                listener.ask("list").await.starts_with('{'),
                "list mid-storm"
            );
            let got = reading.await.expect("reader");
            assert_eq!(got.len() as u64, bytes);
            common::sha256(&got)
        })
    };

    let mut storm = server.client().await;
    let mut ticks = tokio::time::interval(std::time::Duration::from_millis(10));
    for i in 0..300u32 {
        ticks.tick().await;
        let id = 1 + i % 4;
        let line = match i % 10 {
            7 => format!("play {id} 99999999"),
            8 => format!("play {id} -{i}"),
            _ => format!("play {id} {}", (i * 737) % 20_000),
        };
        let reply = storm.ask(&line).await;
        let fields: Vec<&str> = reply.split(' ').collect();
        match (i % 10, fields.as_slice()) {
            (7, _) => assert_eq!(reply, "error position past the end"),
            (8, _) => assert_eq!(reply, "error invalid position"),
            (_, ["port", port, token, _octets, _skip]) if i % 10 == 3 => {
                let mut data = claim(server.addr, port.parse().expect("port"), token).await;
                let mut some = [0; 4096];
                let _ = tokio::io::AsyncReadExt::read(&mut data, &mut some).await;
            }
            (_, ["port", _, _, _, _]) => {}
            _ => panic!("{line}: {reply}"),
        }
    }
    assert_eq!(
        listening.await.expect("listener"),
        reference,
        "the listener's song"
    );
    assert_eq!(storm.ask("stop").await, "stopped");
    drop(storm);
    drop(calm);
    common::settle_to(usize::MAX, tasks).await;
    server.stop().await;
}

/// Songs cut short after the scan (the index still has their old length): a position beyond
/// what is left gets a clear error, one within it still plays from there, and the connection
/// stays usable throughout.
#[tokio::test]
async fn seeks_into_a_file_cut_short_since_the_scan_get_clear_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (_, name, _) in SONGS {
        std::fs::copy(demo_music().join(name), dir.path().join(name)).expect("copy");
    }
    let server = TestServer::unpaced(dir.path()).await;
    let mut client = server.client().await;
    // The first reply comes after the cold start's scan: a file cut while it is scanned
    // would be read cut (or not at all), and get another id.
    assert!(client.ask("list").await.starts_with('{'));
    for (id, name, ext) in SONGS {
        let path = dir.path().join(name);
        let file = std::fs::read(&path).expect("read");
        std::fs::write(&path, &file[..file.len() / 2]).expect("cut");
        let reply = client.play_from(id, 18_000).await;
        assert!(
            matches!(
                reply.as_ref().map_err(String::as_str),
                Err("position past the end" | "cannot start this song at a position")
            ),
            "{name}: {reply:?}"
        );
        let (got, skip) = play_from(&server, &mut client, id, 2_000).await;
        let (rate, channels, part) = decode(&got, ext);
        let expected = (rate as usize * channels) * 3;
        assert!(
            part.len() >= skip as usize * channels + expected,
            "{name}: a play from 2 s of a cut file holds at least 3 s"
        );
    }
    assert!(client.ask("list").await.starts_with('{'));
    server.stop().await;
}
