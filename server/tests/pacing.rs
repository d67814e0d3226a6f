//! PROTOCOL.md section 9's guarantee, file by file, against ffprobe's packets: every octet a
//! player needs to play media time `p` (and the burst slack beyond it) is sent by
//! `(p - burst) / speed` seconds after the claim, so a player that starts at the claim is
//! never behind; and the stream is paced, not just sent at once.
//!
//! The schedule is the one the server sends by (`tapedeck_server::schedule` runs the same
//! pacer over the file in the same chunks); sending waits for it and for nothing else but the
//! client's reading. No clock is read here: the check is arithmetic.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tapedeck_server::{BURST_SLACK, Pacing, schedule};
use tapedeck_tests::fixtures::demo_music;
use tapedeck_tests::media::{Packet, awkward_files, packets};

const CHUNK: usize = 16 * 1024;

/// How much later than `(p - burst) / speed` an octet may be due: a decoder's encoder delay
/// (mp3 and AAC priming, Opus pre-skip) makes the player reach a frame up to this much sooner
/// than the frame's own time in the stream.
const DELAY: f64 = 0.06;

/// How late an octet may be due in a file of plain PCM (WAV, AIFF): there packets are
/// arbitrary cuts of the samples (ffmpeg's are 4096 octets, up to 93 ms), and a packet's last
/// octet is needed only at its own sample's time, not at the packet's start.
const PCM_PACKET: f64 = 0.1;

fn tolerance(path: &Path) -> f64 {
    match path.extension().and_then(|e| e.to_str()) {
        Some("wav" | "aiff") => PCM_PACKET,
        _ => DELAY,
    }
}

fn every_file() -> Vec<PathBuf> {
    let mut files = awkward_files();
    for name in [
        "01 Morning Tape.mp3",
        "02 Night Drive.flac",
        "03 Paper Boats.ogg",
        "04 Small Hours.wav",
    ] {
        files.push(demo_music().join(name));
    }
    files
}

/// The latest any packet's octets are due, past their deadline (negative: all early), and the
/// due time of the file's last octet.
fn lateness(path: &Path, packets: &[Packet], pacing: Pacing) -> (f64, Duration) {
    let plan = schedule(path, pacing, CHUNK).expect("schedule");
    let size = std::fs::metadata(path).expect("size").len();
    let due = |offset: u64| plan[usize::try_from(offset / CHUNK as u64).expect("index")].1;
    let (burst, speed) = (pacing.burst.as_secs_f64(), pacing.speed);
    let worst = packets
        .iter()
        .map(|p| {
            let needed = (p.pos + p.size + BURST_SLACK).min(size) - 1;
            let deadline = ((p.time - burst) / speed).max(0.0);
            due(needed).as_secs_f64() - deadline
        })
        .fold(f64::NEG_INFINITY, f64::max);
    (worst, due(size - 1))
}

#[test]
fn no_octet_is_due_after_its_media_time_and_every_stream_is_paced() {
    let pacing = Pacing::default();
    for path in every_file() {
        let packets = packets(&path);
        assert!(
            packets.len() > 10,
            "{}: ffprobe found packets",
            path.display()
        );
        let (late, last) = lateness(&path, &packets, pacing);
        let name = path.file_name().expect("name").to_string_lossy();
        eprintln!("{name}: latest {late:+.3} s, last octet due {last:?}");
        assert!(
            late <= tolerance(&path),
            "{name}: an octet is due {late:.3} s after it is needed"
        );
        // Paced: the last chunk waits for the media time of what lies the slack before it.
        let size = std::fs::metadata(&path).expect("size").len();
        let last_chunk = (size - 1) / CHUNK as u64 * CHUNK as u64;
        let before = last_chunk.saturating_sub(BURST_SLACK);
        let time = packets.iter().filter(|p| p.pos <= before).map(|p| p.time);
        let time = time.fold(0.0, f64::max);
        // (Less up to 2 s: an Ogg page of near-silence can hold that much, and a page takes
        // the time of the one before.)
        let paced = (time - pacing.burst.as_secs_f64()) / pacing.speed - 2.0;
        assert!(
            last.as_secs_f64() >= paced,
            "{name}: not paced ({last:?}, not {paced:.3} s)"
        );
    }
}

#[test]
fn the_guarantee_holds_at_other_speeds_and_bursts() {
    let file = awkward_files()
        .into_iter()
        .find(|f| f.ends_with("vbr-loud-then-quiet.mp3"));
    let file = file.expect("the VBR file");
    let packets = packets(&file);
    for (burst, speed) in [(0.5, 1.0), (3.0, 1.25), (10.0, 2.0)] {
        let pacing = Pacing {
            burst: Duration::from_secs_f64(burst),
            speed,
        };
        let (late, _) = lateness(&file, &packets, pacing);
        assert!(
            late <= DELAY,
            "burst {burst} s at {speed}x: {late:.3} s late"
        );
    }
}
