//! Awkward audio files, made once per test process with ffmpeg (Debian's package; `cargo xtask
//! test` installs it): VBR that front-loads its bits, huge cover art and comments, files
//! whose duration no header states, every container the server lists. And ffprobe's view of
//! their packets, the reference the tests compare with.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// One file of the awkward library: its name and the ffmpeg arguments that make it, after the
/// common inputs (`0` 20 s of noise, `1` a 3 MB picture, `2` a metadata file with a 1 MB
/// comment) and a filter graph with one output: `[a]`, the noise then 40 s of silence, or
/// `[s]`, 10 s of a sine.
const FILES: &[(&str, &[&str])] = &[
    // 20 s at up to 320 kbit/s, then 40 s at 32: the average is under a quarter of the start.
    (
        "vbr-loud-then-quiet.mp3",
        &["-map", "[a]", "-c:a", "libmp3lame", "-q:a", "0"],
    ),
    (
        "vbr-without-header.mp3",
        &[
            "-map",
            "[a]",
            "-c:a",
            "libmp3lame",
            "-q:a",
            "0",
            "-write_xing",
            "0",
        ],
    ),
    (
        "cbr-without-header.mp3",
        &[
            "-map",
            "[a]",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
            "-write_xing",
            "0",
        ],
    ),
    (
        "mpeg2-mono.mp3",
        &[
            "-map",
            "[a]",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "32k",
            "-ar",
            "22050",
            "-ac",
            "1",
        ],
    ),
    (
        "huge-art.mp3",
        &[
            "-map",
            "[s]",
            "-map",
            "1:v",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
            "-c:v",
            "copy",
            "-id3v2_version",
            "3",
            "-disposition:v",
            "attached_pic",
        ],
    ),
    (
        "huge-art.flac",
        &[
            "-map",
            "[s]",
            "-map",
            "1:v",
            "-c:a",
            "flac",
            "-c:v",
            "copy",
            "-disposition:v",
            "attached_pic",
        ],
    ),
    (
        "huge-comment.ogg",
        &[
            "-map",
            "[a]",
            "-map_metadata",
            "2",
            "-c:a",
            "libvorbis",
            "-q:a",
            "6",
        ],
    ),
    (
        "loud-then-quiet.opus",
        &["-map", "[a]", "-c:a", "libopus", "-b:a", "160k"],
    ),
    // ffmpeg's AAC encoder codes noise-like bands as noise (PNS), which a decoder fills
    // from a random generator: such bands differ with where decoding started. These two
    // files are coded without it, so that seeks can be checked to the sample.
    (
        "moov-last.m4a",
        &[
            "-map", "[a]", "-c:a", "aac", "-b:a", "192k", "-aac_pns", "0",
        ],
    ),
    (
        "faststart.m4a",
        &[
            "-map",
            "[a]",
            "-c:a",
            "aac",
            "-b:a",
            "192k",
            "-aac_pns",
            "0",
            "-movflags",
            "+faststart",
        ],
    ),
    (
        "noise-coded.m4a",
        &["-map", "[a]", "-c:a", "aac", "-b:a", "128k"],
    ),
    ("alac.m4a", &["-map", "[s]", "-c:a", "alac"]),
    // Fragmented files (DASH downloads): samples listed in a fragment (`moof`) before each
    // second of media data, with an empty index. The first states each fragment's data
    // offsets from the file's start; the second, from its fragment.
    (
        "fragmented.m4a",
        &[
            "-map",
            "[a]",
            "-c:a",
            "aac",
            "-b:a",
            "192k",
            "-aac_pns",
            "0",
            "-frag_duration",
            "1000000",
            "-movflags",
            "+frag_keyframe+empty_moov",
        ],
    ),
    (
        "fragmented-alac.m4a",
        &[
            "-map",
            "[s]",
            "-c:a",
            "alac",
            "-frag_duration",
            "1000000",
            "-movflags",
            "+frag_keyframe+empty_moov+default_base_moof",
        ],
    ),
    (
        "adts.aac",
        &["-map", "[a]", "-c:a", "aac", "-b:a", "192k", "-f", "adts"],
    ),
    ("pcm.aiff", &["-map", "[s]", "-c:a", "pcm_s16be"]),
];

/// The directory of awkward files, made on first use.
pub fn awkward_media() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        make(dir.path());
        dir
    })
    .path()
}

/// Every file of [`awkward_media`].
pub fn awkward_files() -> Vec<PathBuf> {
    let dir = awkward_media();
    let mut files: Vec<PathBuf> = FILES.iter().map(|(name, _)| dir.join(name)).collect();
    files.push(dir.join("piped.wav"));
    files
}

fn make(dir: &Path) {
    let picture = dir.join("picture.png");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "color=gray:s=1024x1024,noise=alls=100:allf=t",
            "-frames:v",
            "1",
        ],
        &picture,
    );
    let metadata = dir.join("comment.txt");
    let comment = "a long comment ".repeat(70_000);
    std::fs::write(
        &metadata,
        format!(";FFMETADATA1\ntitle=Huge comment\ncomment={comment}\n"),
    )
    .expect("write metadata");
    for (name, args) in FILES {
        let mut all: Vec<&str> = vec![
            "-f",
            "lavfi",
            "-i",
            "anoisesrc=d=20:a=0.5:r=44100:seed=1",
            "-i",
        ];
        let picture = picture.to_str().expect("utf-8 path");
        let metadata = metadata.to_str().expect("utf-8 path");
        all.extend([picture, "-f", "ffmetadata", "-i", metadata]);
        // Each graph has one output, which the file's arguments map: an unmapped one is an error.
        let graph = if args.contains(&"[a]") {
            "[0]aformat=channel_layouts=stereo,apad=whole_dur=60[a]"
        } else {
            "sine=f=440:d=10:r=44100,aformat=channel_layouts=stereo[s]"
        };
        all.extend(["-filter_complex", graph]);
        all.extend(*args);
        ffmpeg(&all, &dir.join(name));
    }
    piped_wav(&dir.join("piped.wav"));
}

/// A WAV written to a pipe, as a recorder streaming to disk leaves it: the RIFF and data
/// sizes are never filled in, so no header says how long it is.
fn piped_wav(path: &Path) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i"])
        .args([
            "sine=f=330:d=8:r=44100",
            "-c:a",
            "pcm_s16le",
            "-f",
            "wav",
            "pipe:1",
        ])
        .output()
        .expect("ffmpeg runs (Debian package ffmpeg; `cargo xtask test` installs it)");
    assert!(out.status.success(), "ffmpeg piped wav");
    std::fs::write(path, out.stdout).expect("write piped wav");
}

/// Runs ffmpeg with `args`, writing `out` (overwritten).
pub fn ffmpeg(args: &[&str], out: &Path) {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .arg(out)
        .status()
        .expect("ffmpeg runs (Debian package ffmpeg; `cargo xtask test` installs it)");
    assert!(status.success(), "ffmpeg made {}", out.display());
}

/// ffmpeg's decode of `path` as interleaved f32, with `decoder` options before the input
/// (`["-c:a", "libopus"]` to decode with libopus rather than ffmpeg's own Opus decoder).
pub fn reference_decode(path: &Path, decoder: &[&str]) -> Vec<f32> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error"])
        .args(decoder)
        .arg("-i")
        .arg(path)
        .args(["-f", "f32le", "-"])
        .output()
        .expect("ffmpeg runs (Debian package ffmpeg; `cargo xtask test` installs it)");
    assert!(out.status.success(), "ffmpeg decodes {}", path.display());
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// One packet of a file's first audio stream, as ffprobe reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Packet {
    /// Offset of the packet's first octet in the file.
    pub pos: u64,
    pub size: u64,
    /// Presentation time in seconds.
    pub time: f64,
}

/// ffprobe's packets of `path`'s first audio stream (those whose position it knows).
pub fn packets(path: &Path) -> Vec<Packet> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "a:0", "-show_entries"])
        .args(["packet=pos,size,pts_time", "-of", "csv=p=0:nk=0"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(out.status.success(), "ffprobe {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(parse_packet)
        .collect()
}

fn parse_packet(line: &str) -> Option<Packet> {
    let mut fields = line.split(',');
    let (mut pos, mut size, mut time) = (None, None, None);
    for field in fields.by_ref() {
        let (key, value) = field.split_once('=')?;
        match key {
            "pos" => pos = value.parse().ok(),
            "size" => size = value.parse().ok(),
            "pts_time" => time = value.parse().ok(),
            _ => {}
        }
    }
    Some(Packet {
        pos: pos?,
        size: size?,
        time: time?,
    })
}

/// Signal-to-noise ratio of `ours` against `reference`, in dB; infinite when they are equal.
pub fn snr(reference: &[f32], ours: &[f32]) -> f64 {
    let signal: f64 = reference.iter().map(|&s| f64::from(s).powi(2)).sum();
    let noise: f64 = reference
        .iter()
        .zip(ours)
        .map(|(&r, &o)| (f64::from(r) - f64::from(o)).powi(2))
        .sum();
    if noise == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (signal / noise).log10()
}
