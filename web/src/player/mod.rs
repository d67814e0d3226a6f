//! The audio engine: streamed bytes in, sound out through Web Audio. It knows nothing about UI
//! components; the app feeds it the WebSocket's binary messages and calls [`Player::pump`]
//! on every message and on a timer.
//!
//! Bytes wait compressed in a backlog; they are decoded only a bounded window ahead of the
//! playhead ([`WINDOW_S`]); decoded audio is gathered into AudioBuffers of about [`BLOCK_S`]
//! and scheduled back to back on an exact frame cursor ([`timeline::Timeline`]).
//!
//! Gapless: a second stream can be queued behind the current one ([`Player::queue`]). It is
//! decoded within the same window, resampled to the current one's rate if it differs, and
//! its first frame scheduled on the context frame after the current one's last: no gap, no
//! overlap. When the current one has played out, the queued one takes its place.

mod capture;
mod graph;
mod play;
mod stats;
mod timeline;

use tapedeck_audio::DecodeError;
use wasm_bindgen::JsValue;
use web_sys::AnalyserNode;

use graph::Graph;
pub use graph::Output;
use play::Play;
pub use stats::Stats;

/// Decode at most this far ahead of the playhead: five minutes of stereo f32 would be 100 MB.
pub const WINDOW_S: f64 = 4.0;
/// Audio gathered before the first sound.
pub const FIRST_PREBUFFER_S: f64 = 0.2;
/// The pre-buffer doubles after each underrun, up to this.
pub const MAX_PREBUFFER_S: f64 = 2.0;
/// Decoded audio is scheduled in AudioBuffers of about this length.
pub const BLOCK_S: f64 = 0.1;
/// The first buffer starts this long after it is scheduled, so it is never late.
pub const LEAD_S: f64 = 0.02;
/// Compressed bytes received but not yet decoded, at most.
pub const MAX_BACKLOG: usize = 48 << 20;
/// Bytes handed to the decoder at a time.
pub const FEED: usize = 16 * 1024;

/// Why the player gave up on a play.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlayerError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("Web Audio failed: {0}")]
    Audio(String),
    #[error("the stream is more than {MAX_BACKLOG} bytes ahead of playback")]
    Backlog,
}

impl From<JsValue> for PlayerError {
    fn from(value: JsValue) -> Self {
        Self::Audio(value.as_string().unwrap_or_else(|| format!("{value:?}")))
    }
}

/// Plays one stream at a time, with another queued to follow it without a gap.
#[derive(Debug)]
pub struct Player {
    output: Output,
    graph: Option<Graph>,
    volume: f32,
    play: Option<Play>,
    /// The stream queued to follow the current one.
    next: Option<Play>,
    /// The queued stream took the current one's place since this was last asked.
    moved_on: bool,
    /// Whether the listener paused: the audio clock is suspended, nothing is lost.
    paused: bool,
}

/// Where a stream starts in its song (PROTOCOL.md 5.4.1): a play from a position drops the
/// first `skip` decoded frames, and what follows plays from `start_s`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Origin {
    pub start_s: f64,
    pub skip: u64,
}

impl Player {
    pub fn new(output: Output) -> Self {
        Self {
            output,
            graph: None,
            volume: 1.0,
            play: None,
            next: None,
            moved_on: false,
            paused: false,
        }
    }

    /// Starts a new play (stopping the current one and any queued): the stream's file
    /// extension helps recognise its format, its duration (from `info`) is reported in the
    /// stats, and `origin` says where in the song the stream starts.
    pub fn start(&mut self, extension: Option<&str>, duration_s: Option<f64>, origin: Origin) {
        self.stop();
        let mut play = Play::new(extension, duration_s, origin);
        play.fits_graph = matches!(self.output, Output::Offline(_));
        self.play = Some(play);
    }

    /// Queues a play to follow the current one without a gap (replacing any queued one);
    /// with nothing playing, starts it. The bytes pushed from now on are the queued play's.
    pub fn queue(&mut self, extension: Option<&str>, duration_s: Option<f64>, origin: Origin) {
        if self.play.is_none() {
            return self.start(extension, duration_s, origin);
        }
        self.drop_next();
        let mut play = Play::new(extension, duration_s, origin);
        play.fits_graph = true;
        self.next = Some(play);
    }

    /// Forgets the queued play, if any.
    pub fn drop_next(&mut self) {
        if let Some(next) = self.next.take() {
            next.silence();
        }
    }

    pub fn has_next(&self) -> bool {
        self.next.is_some()
    }

    /// Whether the queued play took the current one's place since the last call.
    pub fn moved_on(&mut self) -> bool {
        std::mem::take(&mut self.moved_on)
    }

    /// Counts the time to first sound from `ms` (a `performance.now()` reading, such as the
    /// click that asked for the song) instead of from [`Player::start`].
    pub fn requested_at(&mut self, ms: f64) {
        if let Some(play) = self.receiving() {
            play.requested_at = ms;
        }
    }

    /// The play the stream's bytes belong to: the queued one if any, else the current one.
    fn receiving(&mut self) -> Option<&mut Play> {
        self.next.as_mut().or(self.play.as_mut())
    }

    /// Takes the next bytes of the stream; by value where the caller has a `Vec`, so a message
    /// from the socket is not copied a second time.
    pub fn push(&mut self, bytes: impl Into<Vec<u8>>) -> Result<(), PlayerError> {
        match self.receiving() {
            Some(play) => play.push(bytes.into()),
            None => Ok(()),
        }
    }

    /// Says every byte of the stream has arrived.
    pub fn finish(&mut self) {
        if let Some(play) = self.receiving() {
            play.input_done = true;
        }
    }

    /// Whether every byte of the current play (not a queued one) has arrived.
    pub fn input_done(&self) -> bool {
        self.play.as_ref().is_some_and(|p| p.input_done)
    }

    /// Silences the current play and any queued one at once, and forgets them.
    pub fn stop(&mut self) {
        self.drop_next();
        if let Some(play) = self.play.take() {
            play.silence();
        }
        self.set_paused(false);
    }

    /// Pauses or resumes: the audio clock stops where it is, with everything scheduled and
    /// buffered kept, and goes on from there.
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        if let Some(graph) = &self.graph {
            if paused {
                graph.suspend();
            } else {
                graph.resume();
            }
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    fn now(&self) -> f64 {
        self.graph
            .as_ref()
            .map_or(0.0, |g| g.context.current_time())
    }

    /// Decodes and schedules what the window allows, starts sound once pre-buffered, notices
    /// underruns, and moves on to the queued play when the current one has played out. Call
    /// it on every message and on a timer.
    pub fn pump(&mut self) -> Result<(), PlayerError> {
        self.pump_current()?;
        self.pump_next()?;
        let now = self.now();
        let done = self.play.as_ref().is_some_and(|p| p.is_done(now));
        if done && self.next.is_some() {
            self.play = self.next.take();
            self.moved_on = true;
        }
        Ok(())
    }

    fn pump_current(&mut self) -> Result<(), PlayerError> {
        let Some(play) = self.play.as_mut() else {
            return Ok(());
        };
        let now = self
            .graph
            .as_ref()
            .map_or(0.0, |g| g.context.current_time());
        while play.wants_more(now, 0.0) {
            let Some(pcm) = play.decode_step()? else {
                break;
            };
            let fits = play.fits_graph;
            let graph = ensure_graph(
                &mut self.graph,
                &self.output,
                pcm.sample_rate,
                self.volume,
                fits,
            )?;
            play.take(pcm, graph)?;
        }
        if let Some(graph) = &self.graph {
            play.advance(graph, self.paused, None)?;
        }
        Ok(())
    }

    /// Decodes the queued play within what the window leaves after the current one, and
    /// schedules it from the current one's last frame once that is known.
    fn pump_next(&mut self) -> Result<(), PlayerError> {
        let (Some(current), Some(next), Some(graph)) =
            (self.play.as_ref(), self.next.as_mut(), self.graph.as_ref())
        else {
            return Ok(());
        };
        let now = graph.context.current_time();
        let before = current.ahead(now);
        while next.wants_more(now, before) {
            let Some(pcm) = next.decode_step()? else {
                break;
            };
            next.take(pcm, graph)?;
        }
        let follows = current
            .all_scheduled()
            .then(|| current.timeline.as_ref().map(|t| t.end_frame()))
            .flatten();
        next.advance(graph, self.paused, Some(follows))
    }

    /// The current play's figures.
    pub fn stats(&self) -> Stats {
        match (&self.play, &self.graph) {
            (Some(play), Some(graph)) => play.snapshot(graph.context.current_time()),
            (Some(play), None) => play.idle_stats(),
            (None, _) => Stats::default(),
        }
    }

    /// Whether the current play has been decoded and played to its end, with none queued.
    pub fn is_done(&self) -> bool {
        let now = self.now();
        self.next.is_none() && self.play.as_ref().is_some_and(|p| p.is_done(now))
    }

    /// Sets the current play's own level (ReplayGain; 1.0 is unchanged), at once.
    pub fn set_level(&mut self, level: f32) {
        if let Some(play) = &mut self.play {
            play.set_level(level);
        }
    }

    /// Sets the queued play's own level: it takes effect at its first sample.
    pub fn set_next_level(&mut self, level: f32) {
        if let Some(next) = &mut self.next {
            next.set_level(level);
        }
    }

    /// Sets the volume (1.0 is unchanged).
    pub fn set_volume(&mut self, volume: f32) {
        self.volume = volume.max(0.0);
        if let Some(graph) = &self.graph {
            graph.gain.gain().set_value(self.volume);
        }
    }

    /// Records `seconds` of the output, after the gain (see `capture.rs`): a promise of
    /// `{rate, samples}`, rejected when nothing has played yet (there is no output).
    pub fn capture(&self, seconds: f64) -> js_sys::Promise {
        match &self.graph {
            Some(graph) => capture::capture(graph.context.clone(), graph.gain.clone(), seconds),
            None => js_sys::Promise::reject(&"nothing has played yet: there is no output".into()),
        }
    }

    /// The analyser tap, for a visualizer.
    pub fn analyser(&self) -> Option<AnalyserNode> {
        self.graph.as_ref().map(|g| g.analyser.clone())
    }
}

/// The graph for `rate`: a live output gets a context at the stream's own rate, unless the
/// stream must `fit` the graph there is (then the stream is resampled instead).
fn ensure_graph<'a>(
    graph: &'a mut Option<Graph>,
    output: &Output,
    rate: u32,
    volume: f32,
    fit: bool,
) -> Result<&'a Graph, PlayerError> {
    let stale =
        matches!(output, Output::Live) && !fit && graph.as_ref().is_some_and(|g| g.rate() != rate);
    if stale {
        if let Some(old) = graph.take() {
            old.close();
        }
    }
    if graph.is_none() {
        *graph = Some(Graph::new(output, rate, volume)?);
    }
    graph
        .as_ref()
        .ok_or_else(|| PlayerError::Audio("no audio graph".into()))
}

/// `performance.now()`, in milliseconds.
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}
