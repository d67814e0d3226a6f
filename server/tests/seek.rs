//! `play <id> <ms>` against the real server (PROTOCOL.md 5.4): the data connection carries a
//! stream that decodes on its own, and after `<skip>` decoded frames it is the whole song's
//! decode from the position on, sample for sample.

mod common;

use common::{Client, TestServer, claim, demo_music, read_all};
use tapedeck_audio::{Next, StreamDecoder};
use tapedeck_server::Config;

/// (rate, channels, interleaved samples) of a whole stream.
fn decode(bytes: &[u8], ext: &str) -> (u32, usize, Vec<f32>) {
    let mut decoder = StreamDecoder::new(Some(ext));
    decoder.push(bytes).expect("push");
    decoder.finish();
    let (mut rate, mut channels, mut samples) = (0, 0, Vec::new());
    loop {
        match decoder.decode().expect("decode") {
            Next::Pcm(pcm) => {
                (rate, channels) = (pcm.sample_rate, usize::from(pcm.channels));
                samples.extend_from_slice(&pcm.samples);
            }
            Next::NeedMore => decoder.finish(),
            Next::End => return (rate, channels, samples),
        }
    }
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
