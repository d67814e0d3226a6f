//! Streams that start part-way in, against the whole song's decode by Tapedeck's own decoder
//! (symphonia, trimming encoder delay and padding): after the plan's skip, every sample is the
//! same as the whole decode's from the target frame on, to the last one.

use std::path::{Path, PathBuf};

use tapedeck_audio::{Next, StreamDecoder};
use tapedeck_media::Format;
use tapedeck_media::seek::{Part, Plan, SeekError, plan, target_frame};
use tapedeck_tests::fixtures::demo_music;
use tapedeck_tests::media::awkward_media;

/// (rate, channels, interleaved samples) of `bytes` decoded whole.
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

/// The octets a plan sends.
fn stream(plan: &Plan, file: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(plan.len() as usize);
    for part in &plan.parts {
        match part {
            Part::Made(bytes) => out.extend(bytes),
            Part::File(range) => out.extend(&file[range.start as usize..range.end as usize]),
        }
    }
    out
}

fn check(path: &Path, positions_ms: &[u64]) {
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
        let (_, _, part) = decode(&stream(&plan, &bytes), &ext);
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
