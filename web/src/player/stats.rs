//! What the player exposes about the current play.

/// A snapshot of the player's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Whether sound is coming out (scheduled audio is playing now).
    pub playing: bool,
    /// Seconds of the song played.
    pub position_s: f64,
    /// The song's length in seconds, when known.
    pub duration_s: Option<f64>,
    /// Seconds decoded and scheduled ahead of the playhead.
    pub buffered_s: f64,
    /// Times the scheduled audio ran out before the song ended.
    pub underruns: u32,
    /// Milliseconds from the play request to the first sound, once there was sound.
    pub first_sound_ms: Option<f64>,
    /// Compressed bytes received for this play.
    pub bytes: u64,
}
