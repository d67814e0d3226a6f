//! Tapedeck's audio engine core, pure Rust for native and wasm32: a push-style streaming
//! decoder ([`StreamDecoder`]) over symphonia, fed byte chunks as they arrive from the network
//! and drained of PCM as soon as there is some, long before the file is complete.

#![forbid(unsafe_code)]

mod decoder;
mod demux;
pub mod downmix;
mod error;
mod mp4;
mod opus;
mod resample;
mod sniff;
mod source;

pub use decoder::{Next, Pcm, StreamDecoder, decode_whole};
pub use error::DecodeError;
pub use resample::Resampler;
pub use sniff::sniff;
