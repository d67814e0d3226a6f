//! The page's own demuxers (WAV, AIFF, FLAC, Ogg) against ffmpeg: every sample layout the
//! formats hold decodes to ffmpeg's samples, headers far larger than the decoder's margin
//! (cover art, a megabyte of comment) stream in small chunks as they decode whole, and the
//! odd shapes of real files (chunks after the sound data, a tag after the last FLAC frame,
//! a chained Ogg file, a damaged page) play what can be played.

use std::path::Path;

use tapedeck_audio::{DecodeError, Pcm, decode_whole};
use tapedeck_tests::media::{awkward_media, ffmpeg, reference_decode};

/// ffmpeg's decode of `path` as interleaved f32.
fn reference(path: &Path) -> Vec<f32> {
    reference_decode(path, &[])
}

/// 1.5 s of a stereo sweep (three channels with `-ac 3`), encoded with `args` into `name`.
fn encode(dir: &Path, name: &str, args: &[&str]) -> std::path::PathBuf {
    let out = dir.join(name);
    let mut all = vec![
        "-f",
        "lavfi",
        "-i",
        "aevalsrc=0.6*sin(2*PI*(200+400*t)*t)|0.4*sin(2*PI*330*t):d=1.5:s=44100",
    ];
    all.extend(args);
    ffmpeg(&all, &out);
    out
}

fn decode(bytes: &[u8], ext: &str, chunk: usize) -> Result<Pcm, DecodeError> {
    decode_whole(bytes, Some(ext), chunk)
}

/// Asserts that `ours` is `want`, sample for sample within `tolerance`.
fn assert_same(name: &str, ours: &[f32], want: &[f32], tolerance: f32) {
    assert_eq!(ours.len(), want.len(), "{name}: length");
    let worst = ours
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= tolerance, "{name}: off by {worst}");
}

#[test]
fn every_pcm_layout_decodes_as_ffmpeg_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let layouts: &[(&str, &[&str])] = &[
        ("u8.wav", &["-c:a", "pcm_u8"]),
        ("s16.wav", &["-c:a", "pcm_s16le"]),
        ("s24.wav", &["-c:a", "pcm_s24le"]),
        ("s32.wav", &["-c:a", "pcm_s32le"]),
        ("f32.wav", &["-c:a", "pcm_f32le"]),
        ("f64.wav", &["-c:a", "pcm_f64le"]),
        ("alaw.wav", &["-c:a", "pcm_alaw"]),
        ("mulaw.wav", &["-c:a", "pcm_mulaw"]),
        // Three channels: WAVE_FORMAT_EXTENSIBLE.
        ("extensible.wav", &["-ac", "3", "-c:a", "pcm_s24le"]),
        ("rf64.wav", &["-c:a", "pcm_s16le", "-rf64", "always"]),
        ("s16.aiff", &["-c:a", "pcm_s16be"]),
        ("s8.aiff", &["-c:a", "pcm_s8"]),
        ("s24.aiff", &["-c:a", "pcm_s24be"]),
        ("s32.aiff", &["-c:a", "pcm_s32be"]),
        ("sowt.aifc", &["-c:a", "pcm_s16le"]),
        ("fl32.aifc", &["-c:a", "pcm_f32be"]),
        ("alaw.aifc", &["-c:a", "pcm_alaw"]),
        ("raw.aifc", &["-c:a", "pcm_u8"]),
        ("s16.flac", &["-c:a", "flac"]),
        (
            "s24.flac",
            &[
                "-c:a",
                "flac",
                "-sample_fmt",
                "s32",
                "-bits_per_raw_sample",
                "24",
            ],
        ),
        ("flac.oga", &["-c:a", "flac"]),
    ];
    for (name, args) in layouts {
        let path = encode(dir.path(), name, args);
        let bytes = std::fs::read(&path).expect("read");
        let ext = name.rsplit('.').next().expect("extension");
        let ours = decode(&bytes, ext, 1013).expect(name);
        assert_same(name, &ours.samples, &reference(&path), 1e-6);
    }
}

/// Cover art of 3 MB (in FLAC's metadata, in an ID3v2 tag), a comment of a megabyte: 100
/// times the decoder's margin, streamed in chunks of 4 KiB.
#[test]
fn headers_far_larger_than_the_margin_stream() {
    for name in ["huge-art.flac", "huge-comment.ogg", "huge-art.mp3"] {
        let bytes = std::fs::read(awkward_media().join(name)).expect("read");
        let ext = name.rsplit('.').next().expect("extension");
        let whole = decode(&bytes, ext, bytes.len()).expect(name);
        let streamed = decode(&bytes, ext, 4096).expect(name);
        assert!(whole.samples.len() > 100_000, "{name}");
        assert!(whole == streamed, "{name}: streamed differs");
    }
}

/// A RIFF chunk between the format and the data, and another after the data (where taggers
/// put LIST and id3 chunks): neither is taken for samples.
#[test]
fn chunks_around_the_sound_data_are_not_sound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = encode(dir.path(), "plain.wav", &["-c:a", "pcm_s16le"]);
    let plain = std::fs::read(&path).expect("read");
    let data = plain.windows(4).position(|w| w == b"data").expect("data");
    let mut junk = b"junk".to_vec();
    junk.extend(100_001u32.to_le_bytes());
    junk.extend(std::iter::repeat_n(0x55, 100_002)); // padded to even
    let mut tagged = [&plain[..data], &junk, &plain[data..]].concat();
    tagged.extend(b"LIST\x04\0\0\0INFO");
    let want = decode(&plain, "wav", 997).expect("plain");
    assert_eq!(decode(&tagged, "wav", 997).expect("tagged"), want);
    // RF64 states the data's size in its ds64 chunk (the data chunk's own says "see ds64").
    let path = encode(
        dir.path(),
        "rf64.wav",
        &["-c:a", "pcm_s16le", "-rf64", "always"],
    );
    let mut rf64 = std::fs::read(&path).expect("read");
    rf64.extend(b"LIST\x04\0\0\0INFO");
    assert_eq!(decode(&rf64, "wav", 997).expect("rf64"), want);
}

/// Headers that lie: a chunk claiming 4 GiB before the format, a data chunk before it, a
/// format chunk cut short, an AIFF whose rate is no number: clear errors, never a panic.
#[test]
fn lying_pcm_headers_are_clear_errors() {
    let riff = |chunks: &[u8]| [&b"RIFF\xff\xff\xff\xffWAVE"[..], chunks].concat();
    let cases = [
        riff(b"junk\xf0\xff\xff\xff"),
        riff(b"data\x04\0\0\0abcd"),
        riff(b"fmt \x10\0\0\0\x01\0"),
        riff(b"fmt \x02\0\0\0\x01\0data\x04\0\0\0abcd"),
        b"FORM\0\0\0\x20AIFFCOMM\0\0\0\x12\0\x01\0\0\0\x10\0\x10\xff\xff\0\0\0\0\0\0\0\0".to_vec(),
    ];
    for (i, case) in cases.iter().enumerate() {
        for ext in ["wav", "aiff"] {
            let err = decode(case, ext, 7).expect_err("refused");
            assert!(
                matches!(err, DecodeError::Unsupported(_) | DecodeError::Corrupt(_)),
                "{i}: {err}"
            );
        }
    }
}

/// ID3v1's 128 octets after the last FLAC frame are not part of it; a last frame cut short
/// is dropped, not decoded into noise.
#[test]
fn the_last_flac_frame_ends_where_its_crc_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = encode(dir.path(), "a.flac", &["-c:a", "flac"]);
    let plain = std::fs::read(&path).expect("read");
    let want = decode(&plain, "flac", 4096).expect("plain");
    let mut id3v1 = b"TAG".to_vec();
    id3v1.resize(128, b' ');
    let tagged = [&plain[..], &id3v1].concat();
    assert_eq!(decode(&tagged, "flac", 4096).expect("tagged"), want);
    let cut = decode(&plain[..plain.len() - 100], "flac", 4096).expect("cut");
    let frames = cut.samples.len();
    assert!(frames < want.samples.len(), "the cut frame is dropped");
    assert_eq!(
        cut.samples[..],
        want.samples[..frames],
        "what is kept is right"
    );
}

/// Two Ogg streams one after the other (a chained file): the first plays, to its end.
#[test]
fn a_chained_ogg_file_plays_its_first_stream() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = encode(dir.path(), "a.ogg", &["-c:a", "libvorbis"]);
    let b = encode(dir.path(), "b.opus", &["-c:a", "libopus"]);
    let a = std::fs::read(a).expect("read");
    let want = decode(&a, "ogg", 4096).expect("a");
    let chained = [a, std::fs::read(b).expect("read")].concat();
    assert_eq!(decode(&chained, "ogg", 4096).expect("chained"), want);
}

/// A page whose CRC fails is skipped, and the packets after it play.
#[test]
fn a_damaged_ogg_page_is_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("long.ogg");
    ffmpeg(
        &["-f", "lavfi", "-i", "sine=d=20", "-c:a", "libvorbis"],
        &path,
    );
    let mut bytes = std::fs::read(path).expect("read");
    let whole = decode(&bytes, "ogg", 4096).expect("whole").samples.len();
    let pages: Vec<usize> = (0..bytes.len() - 4)
        .filter(|&at| &bytes[at..at + 4] == b"OggS")
        .collect();
    let middle = pages[pages.len() / 2];
    bytes[middle + 40] ^= 0xFF;
    let damaged = decode(&bytes, "ogg", 4096).expect("damaged").samples.len();
    assert!(
        damaged < whole && damaged > whole / 3,
        "{damaged} of {whole}"
    );
}

/// A FLAC frame header damaged (its CRC-8 fails, so it is no header): the frame before it
/// runs on into the damaged one, fails its CRC-16 and is dropped with it; the stream goes
/// on from the next header, which continues the numbering a frame later.
#[test]
fn a_damaged_flac_frame_header_costs_two_frames() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = encode(dir.path(), "a.flac", &["-c:a", "flac"]);
    let mut bytes = std::fs::read(path).expect("read");
    let want = decode(&bytes, "flac", 4096).expect("plain").samples;
    let header = (bytes.len() / 2..bytes.len())
        .find(|&at| tapedeck_media::flac::FrameHeader::parse(&bytes[at..]).is_some())
        .expect("a frame header");
    bytes[header + 4] ^= 0x01;
    let got = decode(&bytes, "flac", 4096).expect("damaged").samples;
    assert_eq!(got.len(), want.len() - 2 * 2 * 4608);
}

/// A FLAC frame damaged inside (its header whole) fails its CRC-16 and is dropped: the
/// decoder never sees its bytes (which could make its predictor overflow, found by fuzzing),
/// and the frames around it play as they are.
#[test]
fn a_damaged_flac_frame_is_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = encode(dir.path(), "a.flac", &["-c:a", "flac"]);
    let mut bytes = std::fs::read(path).expect("read");
    let want = decode(&bytes, "flac", 4096).expect("plain").samples;
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5A;
    let got = decode(&bytes, "flac", 4096).expect("damaged").samples;
    // One frame of 4608 stereo samples is gone; what precedes it is unchanged.
    assert_eq!(got.len(), want.len() - 2 * 4608);
    let same = got.iter().zip(&want).take_while(|(a, b)| a == b).count();
    assert!(same > want.len() / 3 && same < got.len(), "{same}");
    assert_eq!(
        got[same + 1..],
        want[same + 1 + 2 * 4608..],
        "what follows it is unchanged"
    );
}

/// A header claiming 65,535 channels of 32 bits (a frame of 256 KiB; symphonia's WAV reader
/// overflowed on it, found by fuzzing) is refused with a clear error.
#[test]
fn a_wav_of_impossibly_many_channels_is_refused() {
    let mut wav = b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0\xff\xff".to_vec();
    wav.extend(44_100u32.to_le_bytes());
    wav.extend([0; 6]);
    wav.extend(32u16.to_le_bytes());
    wav.extend(b"data\0\0\x01\0");
    wav.resize(wav.len() + 65_536, 0);
    let err = decode(&wav, "wav", 4096).expect_err("refused");
    assert!(matches!(err, DecodeError::Unsupported(_)), "{err}");
}
