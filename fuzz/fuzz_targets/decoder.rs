//! The streaming decoder on arbitrary bytes in arbitrary chunks: no panic, bounded work, and a
//! clear end (audio, an end, or an error).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapedeck_audio::{Next, StreamDecoder};

fuzz_target!(|data: &[u8]| {
    let Some((&split, bytes)) = data.split_first() else { return };
    let chunk = usize::from(split).max(1);
    let mut decoder = StreamDecoder::new(None);
    let mut pieces = bytes.chunks(chunk);
    for _ in 0..100_000 {
        match decoder.decode() {
            Ok(Next::Pcm(pcm)) => assert_eq!(pcm.samples.len() % usize::from(pcm.channels.max(1)), 0),
            Ok(Next::NeedMore) => match pieces.next() {
                Some(piece) => {
                    if decoder.push(piece).is_err() {
                        return;
                    }
                }
                None => decoder.finish(),
            },
            Ok(Next::End) | Err(_) => return,
        }
    }
    panic!("the decoder neither ended nor failed");
});
