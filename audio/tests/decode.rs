//! The streaming decoder against whole-file decoding, against ffmpeg, and against bad input.

use std::path::Path;
use std::process::Command;

use proptest::prelude::*;
use tapedeck_audio::{DecodeError, Next, StreamDecoder};
use tapedeck_tests::fixtures::demo_music;
use tapedeck_tests::media::{reference_decode, snr};

const DEMO: [&str; 4] = [
    "01 Morning Tape.mp3",
    "02 Night Drive.flac",
    "03 Paper Boats.ogg",
    "04 Small Hours.wav",
];

/// (sample rate, channels, interleaved samples) of `bytes` pushed in chunks of the sizes
/// `sizes` yields (cycled).
fn decode(
    bytes: &[u8],
    extension: Option<&str>,
    sizes: &[usize],
) -> Result<(u32, u16, Vec<f32>), DecodeError> {
    let mut decoder = StreamDecoder::new(extension);
    let (mut rate, mut channels, mut samples) = (0, 0, Vec::new());
    let (mut at, mut turn) = (0, 0);
    loop {
        match decoder.decode()? {
            Next::Pcm(pcm) => {
                (rate, channels) = (pcm.sample_rate, pcm.channels);
                samples.extend_from_slice(&pcm.samples);
            }
            Next::NeedMore if at < bytes.len() => {
                let n = sizes[turn % sizes.len()].max(1).min(bytes.len() - at);
                decoder.push(&bytes[at..at + n])?;
                (at, turn) = (at + n, turn + 1);
            }
            Next::NeedMore => decoder.finish(),
            Next::End => return Ok((rate, channels, samples)),
        }
    }
}

fn demo(name: &str) -> (Vec<u8>, Option<String>) {
    let path = demo_music().join(name);
    let ext = path.extension().map(|e| e.to_string_lossy().into_owned());
    (std::fs::read(path).expect("read"), ext)
}

#[test]
fn one_byte_chunks_give_the_same_output_as_the_whole_file() {
    for name in DEMO {
        let (bytes, ext) = demo(name);
        let whole = decode(&bytes, ext.as_deref(), &[bytes.len()]).expect("whole");
        let bytewise = decode(&bytes, ext.as_deref(), &[1]).expect("bytewise");
        assert!(whole.2.len() > 100_000, "{name}");
        assert!(whole == bytewise, "{name}: output depends on chunking");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn output_does_not_depend_on_chunking(
        song in 0usize..4,
        sizes in proptest::collection::vec(1usize..70_000, 1..8),
    ) {
        let (bytes, ext) = demo(DEMO[song]);
        let whole = decode(&bytes, ext.as_deref(), &[bytes.len()]).expect("whole");
        let chunked = decode(&bytes, ext.as_deref(), &sizes).expect("chunked");
        prop_assert!(whole == chunked, "{}: output depends on chunking {:?}", DEMO[song], sizes);
    }
}

/// ffmpeg's decode of `path` as interleaved f32.
fn ffmpeg(path: &Path) -> Vec<f32> {
    reference_decode(path, &[])
}

#[test]
fn matches_ffmpeg_for_every_demo_format() {
    for name in DEMO {
        let (bytes, ext) = demo(name);
        let (_, _, ours) = decode(&bytes, ext.as_deref(), &[4096]).expect("decode");
        let reference = ffmpeg(&demo_music().join(name));
        assert_eq!(
            ours.len(),
            reference.len(),
            "{name}: length differs from ffmpeg's"
        );
        let db = snr(&reference, &ours);
        assert!(db >= 60.0, "{name}: {db:.1} dB SNR against ffmpeg");
    }
}

#[test]
fn audio_comes_out_before_the_file_is_complete() {
    for name in DEMO {
        let (bytes, ext) = demo(name);
        let mut decoder = StreamDecoder::new(ext.as_deref());
        let quarter = bytes.len() / 4;
        let mut frames = 0;
        for chunk in bytes[..quarter].chunks(4096) {
            decoder.push(chunk).expect("push");
            while let Next::Pcm(pcm) = decoder.decode().expect("decode") {
                frames += pcm.frames();
            }
        }
        assert!(frames > 0, "{name}: nothing decoded from the first quarter");
    }
}

fn decode_all(bytes: &[u8], ext: Option<&str>) -> Result<usize, DecodeError> {
    decode(bytes, ext, &[1000]).map(|(_, _, samples)| samples.len())
}

#[test]
fn bad_input_is_a_clear_error_never_a_panic() {
    assert!(matches!(
        decode_all(b"", None),
        Err(DecodeError::Unsupported(_))
    ));
    let garbage: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(matches!(
        decode_all(&garbage, Some("mp3")),
        Err(DecodeError::Unsupported(_))
    ));
    assert!(matches!(
        decode_all(b"just some text, not audio", Some("wav")),
        Err(DecodeError::Unsupported(_))
    ));
    for name in DEMO {
        let (bytes, ext) = demo(name);
        // Truncated anywhere: what is there decodes, then the stream ends or is called corrupt.
        for cut in [10, 1000, bytes.len() / 3, bytes.len() - 7] {
            let _ = decode_all(&bytes[..cut], ext.as_deref());
        }
        // A wrong extension does not matter: the content decides.
        let right = decode_all(&bytes, ext.as_deref()).expect("decodes");
        assert_eq!(
            decode_all(&bytes, Some("txt")).expect("decodes by content"),
            right,
            "{name}"
        );
    }
}

/// Some taggers put an ID3v2 tag before any container: it is skipped, however large, and what
/// follows decides.
#[test]
fn an_id3v2_tag_before_any_container_is_skipped() {
    // 100,000 octets of tag (cover art, say): three times the decoder's margin. Sizes are
    // 7 bits an octet.
    let body = 100_000u32;
    let mut tag = b"ID3\x04\0\0".to_vec();
    tag.extend((0..4).rev().map(|i| ((body >> (7 * i)) & 0x7F) as u8));
    tag.extend(b"TIT2\0\0\0\x79\0\0\x03");
    tag.resize(10 + body as usize, 0);
    for name in DEMO {
        let (bytes, ext) = demo(name);
        let plain = decode(&bytes, ext.as_deref(), &[1000]).expect(name);
        let tagged = decode(&[&tag[..], &bytes].concat(), ext.as_deref(), &[1000]);
        assert!(tagged.expect(name) == plain, "{name}");
    }
}

#[test]
fn a_codec_the_decoder_lacks_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let speex = encode(
        dir.path(),
        "tone.ogg",
        &["-c:a", "libspeex", "-ar", "16000"],
    );
    let err = decode_all(&speex, Some("ogg")).expect_err("no Speex decoder");
    assert!(
        matches!(err, DecodeError::NoTrack(_) | DecodeError::Unsupported(_)),
        "{err}"
    );
    assert!(!err.to_string().is_empty());
}

/// ffmpeg's decode of `path` through libopus (not its own Opus decoder), as interleaved f32.
fn libopus(path: &Path) -> Vec<f32> {
    reference_decode(path, &["-c:a", "libopus", "-request_sample_fmt", "flt"])
}

/// Opus through opus-pure: libopus's samples, the pre-skip and the end trimmed exactly.
#[test]
fn opus_decodes_as_libopus_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, args) in [
        ("stereo.opus", &["-c:a", "libopus", "-b:a", "128k"][..]),
        (
            "mono.opus",
            &["-c:a", "libopus", "-b:a", "24k", "-ac", "1"][..],
        ),
    ] {
        let bytes = encode(dir.path(), name, args);
        let (rate, _, ours) = decode(&bytes, Some("opus"), &[4096]).expect("decode");
        assert_eq!(rate, 48_000);
        let reference = libopus(&dir.path().join(name));
        assert_eq!(ours.len(), reference.len(), "{name}: length");
        let db = snr(&reference, &ours);
        // 140 dB when last measured: libopus's own float output, to a few parts in 10^8.
        assert!(db >= 120.0, "{name}: {db:.1} dB SNR against libopus");
    }
}

/// Surround Opus (channel mapping family 1: several streams in one packet) decodes as
/// libopus decodes it, each channel in its place: every channel holds its own tone, so a
/// channel out of place would fail the comparison.
#[test]
fn surround_opus_decodes_as_libopus_does_channel_for_channel() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (layout, channels) in [("3.0", 3), ("5.1", 6), ("7.1", 8)] {
        let tones: Vec<String> = (0..channels)
            .map(|i| format!("0.3*sin({}*2*PI*t)", 200 + 100 * i))
            .collect();
        let source = format!("aevalsrc={}:c={layout}:s=48000:d=3", tones.join("|"));
        let path = dir.path().join(format!("{channels}.opus"));
        tapedeck_tests::media::ffmpeg(
            &[
                "-f", "lavfi", "-i", &source, "-c:a", "libopus", "-b:a", "256k",
            ],
            &path,
        );
        let bytes = std::fs::read(&path).expect("read");
        let (rate, got, ours) = decode(&bytes, Some("opus"), &[4096]).expect(layout);
        assert_eq!((rate, usize::from(got)), (48_000, channels), "{layout}");
        let reference = libopus(&path);
        assert_eq!(ours.len(), reference.len(), "{layout}: length");
        let db = snr(&reference, &ours);
        assert!(db >= 120.0, "{layout}: {db:.1} dB SNR against libopus");
    }
}

/// Encodes a tone with ffmpeg into `name` (in `dir`) with `args`.
fn encode(dir: &Path, name: &str, args: &[&str]) -> Vec<u8> {
    let path = dir.join(name);
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=3",
            "-ac",
            "2",
        ])
        .args(args)
        .arg(&path)
        .status()
        .expect("ffmpeg");
    assert!(status.success(), "ffmpeg {name}");
    std::fs::read(path).expect("read")
}

#[test]
fn mp4_decodes_whether_or_not_its_index_comes_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, extra) in [
        ("late.m4a", &[][..]),
        ("fast.m4a", &["-movflags", "+faststart"][..]),
    ] {
        for codec in [&["-c:a", "aac"][..], &["-c:a", "alac"][..]] {
            let bytes = encode(dir.path(), name, &[codec, extra].concat());
            let (rate, channels, samples) = decode(&bytes, Some("m4a"), &[777]).expect(name);
            let seconds = samples.len() as f64 / f64::from(channels) / f64::from(rate);
            assert!(
                (seconds - 3.0).abs() < 0.05,
                "{name} {codec:?}: {seconds} s"
            );
        }
    }
}

/// The rarer codecs an mp4 file holds decode too: FLAC, Opus and MP3 (what symphonia's reader
/// read before Tapedeck's own demuxer replaced it), whole and at the right length.
#[test]
fn mp4_with_flac_opus_or_mp3_decodes() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, codec, rate) in [
        ("flac.mp4", &["-c:a", "flac", "-strict", "-2"][..], 44_100),
        (
            "opus.mp4",
            &["-c:a", "libopus", "-strict", "-2"][..],
            48_000,
        ),
        (
            "mp3.mp4",
            &["-c:a", "libmp3lame", "-ar", "44100"][..],
            44_100,
        ),
    ] {
        let args = [codec, &["-movflags", "+faststart"]].concat();
        let bytes = encode(dir.path(), name, &args);
        let (got, channels, samples) = decode(&bytes, Some("m4a"), &[777]).expect(name);
        let seconds = samples.len() as f64 / f64::from(channels) / f64::from(got);
        assert_eq!((got, channels), (rate, 2), "{name}");
        assert!((seconds - 3.0).abs() < 0.08, "{name}: {seconds} s");
    }
}

/// Three seconds of AAC in an mp4 whose index comes first.
fn faststart_aac(dir: &std::path::Path) -> Vec<u8> {
    encode(dir, "fast.m4a", &["-c:a", "aac", "-movflags", "+faststart"])
}

/// Where the first box of type `kind` has its type in `bytes`.
fn box_type_at(bytes: &[u8], kind: &[u8; 4]) -> usize {
    bytes.windows(4).position(|w| w == kind).expect("the box")
}

/// A music video: video samples far larger than the decoder's margin between the sound's.
/// Streamed in small chunks, the sound decodes as the whole file does, with the index first
/// and fragmented (the demuxer used to read past what had come, and call the stream corrupt).
#[test]
fn an_mp4_with_video_streams() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, flags) in [
        ("fast.mp4", "+faststart"),
        ("fragmented.mp4", "frag_keyframe+empty_moov"),
    ] {
        let path = dir.path().join(name);
        tapedeck_tests::media::ffmpeg(
            &[
                "-f",
                "lavfi",
                "-i",
                "nullsrc=s=320x240:d=3,geq=random(1)*255:128:128",
                "-f",
                "lavfi",
                "-i",
                "sine=d=3",
                "-c:v",
                "mpeg4",
                "-q:v",
                "1",
                "-c:a",
                "aac",
                "-movflags",
                flags,
            ],
            &path,
        );
        let bytes = std::fs::read(&path).expect("read");
        let whole = decode(&bytes, Some("mp4"), &[bytes.len()]).expect(name);
        let streamed = decode(&bytes, Some("mp4"), &[4096]).expect(name);
        assert!(whole.2.len() > 100_000, "{name}");
        assert!(whole == streamed, "{name}: streamed differs");
    }
}

#[test]
fn a_broken_mp4_index_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = faststart_aac(dir.path());
    // The sample sizes' table (stsz) claims ten times as many samples as there are.
    let count = box_type_at(&bytes, b"stsz") + 4 + 8;
    let n = u32::from_be_bytes(bytes[count..count + 4].try_into().expect("four octets"));
    bytes[count..count + 4].copy_from_slice(&(n * 10).to_be_bytes());
    let err = decode(&bytes, Some("m4a"), &[777]).expect_err("refused");
    assert!(err.to_string().contains("sound track"), "{err}");
}

/// An mp4 cut short inside its index (its first octets, as a broken download leaves it) is
/// a clear error, not a panic (found by fuzzing the decoder).
#[test]
fn an_mp4_cut_inside_its_index_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = faststart_aac(dir.path());
    let moov = box_type_at(&bytes, b"moov");
    for cut in [moov + 4, moov + 100] {
        let err = decode(&bytes[..cut], Some("m4a"), &[777]).expect_err("refused");
        assert!(err.to_string().contains("cut short"), "{cut}: {err}");
    }
}

/// A fragmented mp4 (its samples listed in fragments after the index, as DASH and ffmpeg's
/// `frag_keyframe` write them; with an empty index or with the first samples in it) decodes
/// whole, and ends where its samples' durations do: the padding after the sound is cut.
#[test]
fn fragmented_mp4_decodes() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, flags) in [
        ("empty.m4a", "frag_keyframe+empty_moov"),
        ("first.m4a", "frag_keyframe"),
        ("small.m4a", "frag_keyframe+empty_moov+default_base_moof"),
    ] {
        let args = [
            "-c:a",
            "aac",
            "-frag_duration",
            "500000",
            "-movflags",
            flags,
        ];
        let bytes = encode(dir.path(), name, &args);
        let (rate, channels, samples) = decode(&bytes, Some("m4a"), &[777]).expect(name);
        let frames = samples.len() / usize::from(channels);
        // ffmpeg states no edit list in a fragmented file: its 1024 frames of priming are,
        // by the file's own timeline, part of the song. The padding after is cut.
        assert_eq!(frames, 3 * rate as usize + 1024, "{name}");
    }
}

#[test]
fn pushing_without_decoding_is_bounded() {
    let mut decoder = StreamDecoder::new(None);
    let block = vec![0u8; 1 << 20];
    let mut pushed = 0;
    while decoder.push(&block).is_ok() {
        pushed += 1;
        assert!(pushed <= 64, "the input buffer grows without bound");
    }
    assert!(matches!(decoder.push(&block), Err(DecodeError::Full(_))));
}
