//! The container parsers on arbitrary bytes: layout, counted duration, plans of plays from a
//! position and from the start, and the clock, fed in arbitrary pieces. No panic; plans send
//! only octets the file holds; the clock's times are finite, never negative and never go
//! back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapedeck_media::seek::Part;
use tapedeck_media::{Clock, Format};

const FORMATS: [Format; 7] = [
    Format::Mp3,
    Format::Adts,
    Format::Flac,
    Format::Ogg,
    Format::Wav,
    Format::Aiff,
    Format::Mp4,
];

fuzz_target!(|data: &[u8]| {
    let Some((&[pick, split], bytes)) = data.split_first_chunk::<2>() else { return };
    let format = FORMATS[usize::from(pick) % FORMATS.len()];
    let size = bytes.len() as u64;
    let _ = tapedeck_media::layout(format, bytes, size);
    let _ = tapedeck_media::exact_duration(format, bytes, size);
    let within = |parts: &[Part]| {
        parts.iter().all(|p| match p {
            Part::File(range) => range.start <= range.end && range.end <= size,
            Part::Made(_) => true,
        })
    };
    if let Ok(parts) = tapedeck_media::seek::whole(Some(format), bytes, size) {
        assert!(within(&parts), "{parts:?}");
    }
    let ms = u64::from(split) * 37;
    if let Ok(plan) = tapedeck_media::seek::plan(format, bytes, size, ms) {
        assert!(within(&plan.parts), "{plan:?}");
    }
    let Ok(mut clock) = Clock::open(format, bytes, size) else { return };
    let mut last = 0.0;
    let mut offset = 0u64;
    for piece in bytes.chunks(usize::from(split).max(1)) {
        clock.feed(piece);
        offset += piece.len() as u64;
        let time = clock.time_at(offset.saturating_sub(7));
        assert!(time.is_finite() && time >= last, "{time} after {last}");
        last = time;
    }
});
