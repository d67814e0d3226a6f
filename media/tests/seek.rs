//! Streams that start part-way in, against the whole song's decode by Tapedeck's own decoder
//! (symphonia, trimming encoder delay and padding): after the plan's skip, every sample is the
//! same as the whole decode's from the target frame on, to the last one.

use std::path::{Path, PathBuf};

use tapedeck_audio::decode_whole;
use tapedeck_media::Format;
use tapedeck_media::seek::{SeekError, plan, target_frame};
use tapedeck_tests::fixtures::demo_music;
use tapedeck_tests::media::{awkward_media, snr};

/// (rate, channels, interleaved samples) of `bytes` decoded whole.
fn decode(bytes: &[u8], ext: &str) -> (u32, usize, Vec<f32>) {
    let pcm = decode_whole(bytes, Some(ext), bytes.len()).expect("decode");
    (pcm.sample_rate, usize::from(pcm.channels), pcm.samples)
}

fn check(path: &Path, positions_ms: &[u64]) {
    check_within(path, positions_ms, Match::Exact);
}

/// How closely a play from a position matches the whole decode.
#[derive(Debug, Clone, Copy)]
enum Match {
    /// Sample for sample.
    Exact,
    /// Unshifted: of all shifts up to a long AAC packet either way, none matches better; and
    /// at least this close (signal-to-noise ratio in dB).
    Aligned(f64),
}

fn check_within(path: &Path, positions_ms: &[u64], accuracy: Match) {
    let bytes = std::fs::read(path).expect("read");
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .expect("ext")
        .to_ascii_lowercase();
    let format = Format::from_extension(&ext).expect("format");
    let (rate, channels, whole) = decode(&bytes, &ext);
    let name = path.file_name().expect("name").to_string_lossy();
    for &ms in positions_ms {
        let plan = plan(format, bytes.as_slice(), bytes.len() as u64, ms)
            .unwrap_or_else(|err| panic!("{name} at {ms} ms: {err}"));
        assert_eq!(plan.rate, rate, "{name}");
        let (_, _, part) = decode(&plan.bytes(&bytes), &ext);
        let target = target_frame(ms, rate) as usize * channels;
        let skip = plan.skip as usize * channels;
        assert!(
            skip <= part.len(),
            "{name} at {ms} ms: skip {} of {}",
            plan.skip,
            part.len()
        );
        let (got, want) = (&part[skip..], &whole[target..]);
        assert_eq!(got.len(), want.len(), "{name} at {ms} ms: length");
        if let Match::Aligned(min) = accuracy {
            let shift = best_shift(got, want, channels);
            assert!(
                shift.is_none_or(|s| s == 0),
                "{name} at {ms} ms: shifted {shift:?}"
            );
            let db = snr(want, got);
            eprintln!("{name} at {ms} ms: skip {}, {db:.1} dB", plan.skip);
            assert!(db >= min, "{name} at {ms} ms: {db:.1} dB");
            continue;
        }
        let first_diff = got
            .iter()
            .zip(want)
            .position(|(a, b)| a.to_bits() != b.to_bits());
        if let Some(i) = first_diff {
            let worst = got
                .iter()
                .zip(want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            let last = got
                .iter()
                .zip(want)
                .rposition(|(a, b)| a.to_bits() != b.to_bits());
            panic!(
                "{name} at {ms} ms: samples differ from {i} to {last:?} (of {}), by up to {worst}",
                got.len()
            );
        }
        let sent = plan.len() as f64 / bytes.len() as f64;
        eprintln!(
            "{name} at {ms} ms: skip {}, {:.0} % of the file",
            plan.skip,
            sent * 100.0
        );
    }
    let frames = whole.len() / channels;
    let end_ms = (frames as u64 * 1000).div_ceil(u64::from(rate));
    assert!(
        matches!(
            plan(format, bytes.as_slice(), bytes.len() as u64, end_ms + 1),
            Err(SeekError::PastEnd)
        ),
        "{name}: past the end"
    );
}

/// The shift in frames (up to 2048 either way) at which `got` best matches `want`, over
/// 4096 frames from 2048 in; `None` where `want` is all but silent there (below -40 dBFS:
/// the tail a lossy codec leaves after the sound stops, where any shift matches about as
/// well; with -60 dBFS the Opus file's tail 46 ms after its noise stops made this flaky).
fn best_shift(got: &[f32], want: &[f32], channels: usize) -> Option<i64> {
    let window = 2048 * channels..(6144 * channels).min(want.len());
    let part = want.get(window.clone())?;
    let power = part.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / part.len() as f64;
    if power < 1e-4 {
        return None;
    }
    (-2048i64..=2048)
        .filter(|&shift| window.end as i64 + shift * (channels as i64) <= got.len() as i64)
        .min_by_key(|&shift| {
            let error: f64 = window
                .clone()
                .map(|i| {
                    let at = i.wrapping_add_signed(shift as isize * channels as isize);
                    f64::from(got[at] - want[i]).powi(2)
                })
                .sum();
            (error * 1e6) as u64
        })
}

fn demo(name: &str) -> PathBuf {
    demo_music().join(name)
}

fn awkward(name: &str) -> PathBuf {
    awkward_media().join(name)
}

const SPOTS: [u64; 6] = [0, 1, 999, 2_345, 7_777, 9_950];

#[test]
fn wav_and_aiff_start_on_the_sample() {
    check(&demo("04 Small Hours.wav"), &[0, 1, 1_000, 10_001, 20_500]);
    check(&awkward("pcm.aiff"), &SPOTS);
    check(&awkward("piped.wav"), &[0, 1, 4_321, 7_999]);
}

#[test]
fn flac_starts_on_the_sample() {
    check(&demo("02 Night Drive.flac"), &[0, 1, 93, 12_345, 25_700]);
    check(&awkward("huge-art.flac"), &SPOTS);
}

#[test]
fn mp3_starts_on_the_sample() {
    check(
        &demo("01 Morning Tape.mp3"),
        &[0, 1, 30, 5_000, 15_021, 29_990],
    );
    check(&awkward("huge-art.mp3"), &SPOTS);
    check(
        &awkward("vbr-loud-then-quiet.mp3"),
        &[0, 26, 19_990, 20_010, 45_000, 59_900],
    );
    check(
        &awkward("vbr-without-header.mp3"),
        &[0, 26, 19_990, 33_333, 59_900],
    );
    check(
        &awkward("cbr-without-header.mp3"),
        &[0, 26, 19_990, 33_333, 59_900],
    );
    check(&awkward("mpeg2-mono.mp3"), &[0, 26, 19_990, 33_333, 59_900]);
}

/// Many positions, spread over the whole of the songs whose decoders carry state across
/// frames (MPEG audio), in MPEG-1 and MPEG-2.
#[test]
fn mp3_starts_on_the_sample_anywhere() {
    let spread: Vec<u64> = (0..40).map(|i| i * 1_497 + i % 7).collect();
    check(&awkward("vbr-loud-then-quiet.mp3"), &spread);
    check(&awkward("mpeg2-mono.mp3"), &spread);
}

#[test]
fn ogg_vorbis_starts_on_the_sample() {
    check(
        &demo("03 Paper Boats.ogg"),
        &[0, 1, 300, 5_000, 12_345, 21_000],
    );
    check(
        &awkward("huge-comment.ogg"),
        &[0, 26, 19_990, 33_333, 59_900],
    );
    let spread: Vec<u64> = (0..30).map(|i| i * 701 + i % 5).collect();
    check(&demo("03 Paper Boats.ogg"), &spread);
}

#[test]
fn mp4_starts_on_the_sample() {
    let spread: Vec<u64> = (0..25).map(|i| i * 2_397 + i % 3).collect();
    check(&awkward("moov-last.m4a"), &spread);
    check(
        &awkward("faststart.m4a"),
        &[0, 1, 23, 24, 47, 19_990, 59_900],
    );
    check(&awkward("alac.m4a"), &[0, 1, 93, 4_321, 9_990]);
}

/// AAC that codes noise-like bands as noise (PNS, ffmpeg's default) is filled from the
/// decoder's random generator, whose state depends on where decoding began: those bands
/// differ, everything else is the same and in the same place.
#[test]
fn mp4_with_noise_coded_bands_starts_in_the_right_place() {
    check_within(
        &awkward("noise-coded.m4a"),
        &[0, 2_398, 7_001, 15_555],
        Match::Aligned(0.0),
    );
}

/// `file` with its sound track's `stco` rewritten as a `co64` (64-bit chunk offsets, as
/// files over 4 GiB need), the index growing by as much as the offsets' new half.
fn with_co64(file: &[u8]) -> Vec<u8> {
    use tapedeck_media::mp4::tree::{Atom, Body};
    let boxes = tapedeck_media::mp4::top_level(file, file.len() as u64).expect("boxes");
    let moov = boxes.iter().find(|b| &b.kind == b"moov").expect("moov");
    assert!(
        boxes
            .iter()
            .all(|b| &b.kind != b"mdat" || b.start < moov.start),
        "the index comes last, so no offset moves"
    );
    let payload = &file[moov.payload as usize..moov.end as usize];
    let mut index = Atom::parse(*b"moov", payload).expect("index");
    let mut stbl = &mut index;
    for kind in [b"trak", b"mdia", b"minf", b"stbl"] {
        let Body::Boxes(children) = &mut stbl.body else {
            panic!("container")
        };
        stbl = children.iter_mut().find(|c| &c.kind == kind).expect("path");
    }
    let Body::Boxes(tables) = &mut stbl.body else {
        panic!("stbl")
    };
    let stco = tables
        .iter_mut()
        .find(|t| &t.kind == b"stco")
        .expect("stco");
    let old = stco.payload().expect("data").to_vec();
    let mut wide = old[..8].to_vec();
    for offset in old[8..].chunks_exact(4) {
        let offset = u32::from_be_bytes(offset.try_into().expect("4"));
        wide.extend(u64::from(offset).to_be_bytes());
    }
    *stco = Atom::data(*b"co64", wide);
    let mut out = file[..moov.start as usize].to_vec();
    index.write(&mut out);
    out.extend(&file[moov.end as usize..]);
    out
}

#[test]
fn mp4_with_64_bit_offsets_starts_on_the_sample() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("co64.m4a");
    let file = std::fs::read(awkward("moov-last.m4a")).expect("read");
    std::fs::write(&path, with_co64(&file)).expect("write");
    check(&path, &[0, 5_555, 19_000]);
}

/// Opus decoders carry state across packets that converges on the whole decode's only over
/// the 80 ms the stream starts early: the rest is the whole decode's to far below the codec's
/// own noise, in the same place.
#[test]
fn ogg_opus_starts_in_the_right_place() {
    check_within(
        &awkward("loud-then-quiet.opus"),
        &[0, 1, 79, 81, 2_345, 19_990, 20_010, 45_000, 59_900],
        Match::Aligned(40.0),
    );
}

/// ADTS from ffmpeg's encoder codes noise as noise (see above): aligned, not exact.
#[test]
fn adts_starts_in_the_right_place() {
    check_within(
        &awkward("adts.aac"),
        &[0, 1, 23, 24, 2_345, 19_990, 45_000, 59_900],
        Match::Aligned(0.0),
    );
}
