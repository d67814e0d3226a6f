//! Pacing side by side: for each awkward file, how far behind real time a client starting at
//! the claim would fall, under the rule the server pacing by media time (PROTOCOL.md 9) and
//! under the rule it replaced (a burst of the non-audio octets, 3 s and 64 KiB at the average
//! bitrate, then 1.25 times the average bitrate).
//!
//! ```text
//! cargo run --release -p tapedeck-server --example pacing_report
//! ```
//!
//! Arithmetic over ffprobe's packets (position, size, time), no clock: a packet is late by how
//! much its last octet (plus 64 KiB of look-ahead) goes out after its presentation time.

use std::path::Path;

use tapedeck_server::{BURST_SLACK, Pacing, schedule};
use tapedeck_tests::fixtures::demo_music;
use tapedeck_tests::media::{Packet, awkward_files, packets};

const CHUNK: u64 = 16 * 1024;

/// The worst lateness in seconds (negative: always ahead) under the media-time rule.
fn media_time_rule(path: &Path, packets: &[Packet], size: u64) -> f64 {
    let plan = schedule(path, Pacing::default(), CHUNK as usize).expect("schedule");
    worst(packets, size, |octet| {
        plan[usize::try_from(octet / CHUNK).expect("index")]
            .1
            .as_secs_f64()
    })
}

/// The same under the average-bitrate rule, with the average taken as the audio's own (the
/// most favourable to it: a header's nominal bitrate made it worse still).
fn average_rule(packets: &[Packet], size: u64) -> f64 {
    let end = packets.iter().map(|p| p.time).fold(0.0, f64::max);
    let audio: u64 = packets.iter().map(|p| p.size).sum();
    let rate = audio as f64 / end;
    let overhead = (size as f64 - audio as f64).max(0.0);
    let burst = overhead + 3.0 * rate + BURST_SLACK as f64;
    worst(packets, size, |octet| {
        ((octet as f64 - burst) / (1.25 * rate)).max(0.0)
    })
}

fn worst(packets: &[Packet], size: u64, sent_at: impl Fn(u64) -> f64) -> f64 {
    packets
        .iter()
        .map(|p| sent_at((p.pos + p.size + BURST_SLACK).min(size) - 1) - p.time)
        .fold(f64::NEG_INFINITY, f64::max)
}

fn main() {
    let mut files = awkward_files();
    for name in [
        "01 Morning Tape.mp3",
        "02 Night Drive.flac",
        "03 Paper Boats.ogg",
    ] {
        files.push(demo_music().join(name));
    }
    println!("| file | media-time rule: worst lag | average-bitrate rule: worst lag |");
    println!("|---|---|---|");
    for path in files {
        let packets = packets(&path);
        let size = std::fs::metadata(&path).expect("size").len();
        let name = path.file_name().expect("name").to_string_lossy();
        let lag = |late: f64| {
            if late > 0.0 {
                format!("**{late:.2} s behind**")
            } else {
                "never behind".to_owned()
            }
        };
        println!(
            "| {name} | {} | {} |",
            lag(media_time_rule(&path, &packets, size)),
            lag(average_rule(&packets, size))
        );
    }
}
