//! Why a stream cannot be decoded.

/// A stream the decoder gives up on. None is recoverable for that stream; "needs more bytes"
/// is not an error but [`crate::Next::NeedMore`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not a container the decoder knows (garbage, or an unsupported format).
    #[error("not a supported audio stream: {0}")]
    Unsupported(String),
    /// The container holds no audio track, or none whose codec the decoder has.
    #[error("no playable audio track: {0}")]
    NoTrack(String),
    /// The stream is damaged beyond skipping a bad packet.
    #[error("corrupt stream: {0}")]
    Corrupt(String),
    /// More bytes were pushed than the decoder buffers; decode before pushing more.
    #[error("input buffer full ({0} bytes): decode before pushing more")]
    Full(usize),
}
