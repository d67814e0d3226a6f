//! Audio fixtures and hashes.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The bundled demo library.
pub fn demo_music() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../music")
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Writes a WAV file of `seconds` of a 440 Hz tone, 44.1 kHz stereo 16-bit (176,400 B/s).
pub fn write_wav(path: &Path, seconds: u32) {
    let second: Vec<u8> = (0..44_100u32)
        .flat_map(|i| {
            let t = i as f32 / 44_100.0;
            let s = ((t * 440.0 * std::f32::consts::TAU).sin() * 8000.0) as i16;
            let b = s.to_le_bytes();
            [b[0], b[1], b[0], b[1]]
        })
        .collect();
    let data_len = second.len() as u32 * seconds;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    for field in [
        16u32.to_le_bytes(),
        0x0002_0001u32.to_le_bytes(),
        44_100u32.to_le_bytes(),
    ] {
        out.extend_from_slice(&field);
    }
    out.extend_from_slice(&(44_100u32 * 4).to_le_bytes());
    out.extend_from_slice(&0x0010_0004u32.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for _ in 0..seconds {
        out.extend_from_slice(&second);
    }
    std::fs::write(path, out).expect("write wav");
}

/// A temporary library with one long WAV (`long.wav`, 60 s, about 10 MB) and one short
/// (`short.wav`, 2 s).
pub fn long_library() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write_wav(&dir.path().join("long.wav"), 60);
    write_wav(&dir.path().join("short.wav"), 2);
    dir
}

/// A library of `n` songs in artist and album folders (`Artist 00012/Album 3/07 Song
/// 1237.mp3`, 100 songs an artist, 10 an album), made in seconds: each song is a hard link
/// to a short untagged file (mp3 and FLAC in turn; a new copy every 50,000 links, under the
/// 65,000 of ext4; in a hidden folder the scan skips), so its title is its file name and every
/// title differs.
pub fn large_library(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    make_large_library(dir.path(), n);
    dir
}

/// [`large_library`] in `dir`.
pub fn make_large_library(dir: &Path, n: usize) {
    let sources = dir.join(".sources");
    std::fs::create_dir_all(&sources).expect("sources");
    let made: Vec<PathBuf> = ["mp3", "flac"]
        .iter()
        .map(|ext| {
            let path = sources.join(format!("tone.{ext}"));
            crate::media::ffmpeg(
                &[
                    "-f",
                    "lavfi",
                    "-i",
                    "sine=f=440:d=4",
                    "-ac",
                    "2",
                    "-map_metadata",
                    "-1",
                ]
                .into_iter()
                .chain(["-fflags", "+bitexact", "-id3v2_version", "0"])
                .collect::<Vec<_>>(),
                &path,
            );
            path
        })
        .collect();
    for i in 0..n {
        let (artist, album, track) = (i / 100, (i / 10) % 10, i % 10);
        let folder = dir
            .join(format!("Artist {artist:05}"))
            .join(format!("Album {album}"));
        if track == 0 {
            std::fs::create_dir_all(&folder).expect("folder");
        }
        let made = &made[i % made.len()];
        let ext = made.extension().and_then(|e| e.to_str()).expect("ext");
        let copy = i / (50_000 * 2);
        let source = if copy == 0 {
            made.clone()
        } else {
            let source = sources.join(format!("tone-{copy}.{ext}"));
            if !source.exists() {
                std::fs::copy(made, &source).expect("a copy");
            }
            source
        };
        let name = folder.join(format!("{track:02} Song {i}.{ext}"));
        std::fs::hard_link(&source, name).expect("a hard link");
    }
}

/// A library whose songs have every kind of cover art, one folder each (names in order):
///
/// - `a/01 Embedded.mp3`: a 640 x 480 front cover in its ID3 tag;
/// - `b/01 Folder.flac` with `b/Cover.JPG` (800 x 800);
/// - `c/01 None.ogg`: no art;
/// - `d/01 Broken.wav` with `d/folder.jpg`, which is not a picture;
/// - `e/01 Large.wav` with `e/cover.png`: a small picture in a 50 MB file;
/// - `f/01 Too large.wav` with `f/front.png`: the same in 70 MB, more than a server reads.
///
/// (The large files are sparse: they cost no disk.)
pub fn art_library() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for folder in ["a", "b", "c", "d", "e", "f"] {
        std::fs::create_dir(root.join(folder)).expect("folder");
    }
    let ffmpeg = crate::media::ffmpeg;
    let cover = root.join("a/cover-source.png");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=640x480",
            "-frames:v",
            "1",
        ],
        &cover,
    );
    let mp3 = demo_music().join("01 Morning Tape.mp3");
    let (mp3, png) = (mp3.to_str().expect("utf-8"), cover.to_str().expect("utf-8"));
    ffmpeg(
        &[
            "-i", mp3, "-i", png, "-map", "0:a", "-map", "1", "-c", "copy",
        ]
        .into_iter()
        .chain([
            "-id3v2_version",
            "3",
            "-metadata:s:v",
            "comment=Cover (front)",
        ])
        .collect::<Vec<_>>(),
        &root.join("a/01 Embedded.mp3"),
    );
    let small = std::fs::read(&cover).expect("png");
    std::fs::remove_file(&cover).expect("remove");
    std::fs::copy(
        demo_music().join("02 Night Drive.flac"),
        root.join("b/01 Folder.flac"),
    )
    .expect("flac");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=blue:s=800x800",
            "-frames:v",
            "1",
        ],
        &root.join("b/Cover.JPG"),
    );
    std::fs::copy(
        demo_music().join("03 Paper Boats.ogg"),
        root.join("c/01 None.ogg"),
    )
    .expect("ogg");
    for (folder, name) in [("d", "Broken"), ("e", "Large"), ("f", "Too large")] {
        write_wav(&root.join(folder).join(format!("01 {name}.wav")), 1);
    }
    std::fs::write(root.join("d/folder.jpg"), b"this is not a picture").expect("broken");
    for (path, octets) in [("e/cover.png", 50_u64 << 20), ("f/front.png", 70 << 20)] {
        let file = std::fs::File::create(root.join(path)).expect("create");
        std::io::Write::write_all(&mut &file, &small).expect("write");
        file.set_len(octets).expect("sparse");
    }
    dir
}
