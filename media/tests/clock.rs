//! The clock over real files: its answers do not depend on how the octets were split when
//! they were fed, and they never go back.

use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use tapedeck_media::seek;
use tapedeck_media::{Clock, Format};
use tapedeck_tests::fixtures::demo_music;
use tapedeck_tests::media::{awkward_files, packets};

/// How far feeding runs ahead of queries.
const AHEAD: usize = 64 * 1024;

/// Every awkward and demo file.
fn paths() -> Vec<PathBuf> {
    let mut paths = awkward_files();
    for entry in std::fs::read_dir(demo_music()).expect("demo music") {
        paths.push(entry.expect("entry").path());
    }
    paths
}

/// Every awkward and demo file, read once: (bytes, format).
fn files() -> &'static [(Vec<u8>, Format)] {
    static FILES: OnceLock<Vec<(Vec<u8>, Format)>> = OnceLock::new();
    FILES.get_or_init(|| {
        paths()
            .into_iter()
            .filter_map(|path| {
                let ext = path.extension()?.to_str()?;
                let format = Format::from_extension(ext)?;
                Some((std::fs::read(&path).expect("read"), format))
            })
            .collect()
    })
}

/// The clock's time at every `step`-th offset, with the file fed in pieces of `piece` octets,
/// each query made once 64 KiB beyond it are fed (as the server's pacer asks, the burst
/// slack behind what it has read: a frame whose header is not whole yet is not known yet).
fn times(bytes: &[u8], format: Format, piece: usize, step: usize) -> Vec<f64> {
    let mut clock = Clock::open(format, bytes, bytes.len() as u64).expect("clock");
    let mut fed = 0;
    let mut out = Vec::new();
    for offset in (0..bytes.len()).step_by(step) {
        while fed < (offset + AHEAD).min(bytes.len()) {
            let end = (fed + piece).min(bytes.len());
            clock.feed(&bytes[fed..end]);
            fed = end;
        }
        out.push(clock.time_at(offset as u64));
    }
    out
}

#[test]
fn times_never_go_back_and_reach_the_end() {
    for (bytes, format) in files() {
        let times = times(bytes, *format, 1 << 20, 4096);
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{format:?}");
        assert!(
            times.last().is_some_and(|t| *t > 1.0),
            "{format:?}: {:?}",
            times.last()
        );
    }
}

/// A stream from a position is timed from its own first frame: its media times run from 0 to
/// what is left of the song (give or take the frames a decoder warms up on and the clock's
/// grid), so pacing gives it the same burst as a whole song. Timed by the song's clock
/// instead, a play from 60 s would wait 60 s / speed for its first frame.
#[test]
fn a_stream_from_a_position_is_timed_from_its_first_frame() {
    let mut checked = 0;
    for path in paths() {
        let Some(format) = path
            .extension()
            .and_then(|e| e.to_str())
            .and_then(Format::from_extension)
        else {
            continue;
        };
        let bytes = std::fs::read(&path).expect("read");
        let length = packets(&path).last().map_or(0.0, |p| p.time);
        let at = (length * 0.8 * 1000.0) as u64;
        let Ok(plan) = seek::plan(format, bytes.as_slice(), bytes.len() as u64, at) else {
            continue;
        };
        let body = plan.bytes(&bytes);
        let from = times(&body, format, body.len(), 1024);
        let left = length - at as f64 / 1000.0;
        assert_eq!(from.first().copied(), Some(0.0), "{}", path.display());
        assert!(
            from.last().is_some_and(|t| *t <= left + 1.0),
            "{}: a stream of the last {left} s is timed to {:?}",
            path.display(),
            from.last()
        );
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} files seek");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn times_do_not_depend_on_how_octets_were_split(file in 0usize..64, piece in 1usize..5000) {
        let (bytes, format) = &files()[file % files().len()];
        let whole = times(bytes, *format, bytes.len(), 1009);
        prop_assert_eq!(times(bytes, *format, piece, 1009), whole);
    }
}
