//! The audio engine: streamed bytes in, sound out through Web Audio. It knows nothing about UI
//! components; the app feeds it the WebSocket's binary messages and calls [`Player::pump`]
//! on every message and on a timer.
//!
//! Bytes wait compressed in a backlog; they are decoded only a bounded window ahead of the
//! playhead ([`WINDOW_S`]); decoded audio is gathered into AudioBuffers of about [`BLOCK_S`]
//! and scheduled back to back on an exact frame cursor ([`timeline::Timeline`]).

mod graph;
mod stats;
mod timeline;

use std::collections::VecDeque;

use tapedeck_audio::{DecodeError, Next, Pcm, StreamDecoder};
use wasm_bindgen::JsValue;
use web_sys::{AnalyserNode, AudioBufferSourceNode};

use graph::Graph;
pub use graph::Output;
pub use stats::Stats;
use timeline::Timeline;

/// Decode at most this far ahead of the playhead: five minutes of stereo f32 would be 100 MB.
pub const WINDOW_S: f64 = 4.0;
/// Audio gathered before the first sound.
pub const FIRST_PREBUFFER_S: f64 = 0.2;
/// The pre-buffer doubles after each underrun, up to this.
pub const MAX_PREBUFFER_S: f64 = 2.0;
/// Decoded audio is scheduled in AudioBuffers of about this length.
pub const BLOCK_S: f64 = 0.1;
/// The first buffer starts this long after it is scheduled, so it is never late.
const LEAD_S: f64 = 0.02;
/// Compressed bytes received but not yet decoded, at most.
pub const MAX_BACKLOG: usize = 48 << 20;
/// Bytes handed to the decoder at a time.
const FEED: usize = 16 * 1024;

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

/// Plays one stream at a time.
#[derive(Debug)]
pub struct Player {
    output: Output,
    graph: Option<Graph>,
    volume: f32,
    play: Option<Play>,
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

#[derive(Debug)]
struct Play {
    decoder: StreamDecoder,
    /// Compressed bytes not yet given to the decoder.
    backlog: VecDeque<Vec<u8>>,
    backlog_bytes: usize,
    /// All bytes have arrived; `finish_sent` once the decoder was told.
    input_done: bool,
    finish_sent: bool,
    /// The decoder has given everything.
    decoded_all: bool,
    /// Decoded, interleaved, not yet scheduled.
    pending: Vec<f32>,
    channels: u16,
    rate: u32,
    /// Decoded frames still to drop before the stream's origin.
    skip: u64,
    /// Where in the song the stream starts.
    start_s: f64,
    /// Set while sound is scheduled; `None` before the first sound and after an underrun.
    timeline: Option<Timeline>,
    /// Scheduled sources and the context time each ends, oldest first.
    sources: VecDeque<(AudioBufferSourceNode, f64)>,
    prebuffer_s: f64,
    /// Seconds played on earlier timelines (before underruns).
    played_before: f64,
    /// `performance.now()` of the play request.
    requested_at: f64,
    stats: Stats,
}

impl Player {
    pub fn new(output: Output) -> Self {
        Self {
            output,
            graph: None,
            volume: 1.0,
            play: None,
            paused: false,
        }
    }

    /// Starts a new play (stopping the current one): the stream's file extension helps
    /// recognise its format, its duration (from `info`) is reported in the stats, and `origin`
    /// says where in the song the stream starts.
    pub fn start(&mut self, extension: Option<&str>, duration_s: Option<f64>, origin: Origin) {
        self.stop();
        let stats = Stats {
            duration_s,
            ..Stats::default()
        };
        self.play = Some(Play {
            decoder: StreamDecoder::new(extension),
            backlog: VecDeque::new(),
            backlog_bytes: 0,
            input_done: false,
            finish_sent: false,
            decoded_all: false,
            pending: Vec::new(),
            channels: 0,
            rate: 0,
            skip: origin.skip,
            start_s: origin.start_s,
            timeline: None,
            sources: VecDeque::new(),
            prebuffer_s: FIRST_PREBUFFER_S,
            played_before: 0.0,
            requested_at: now_ms(),
            stats,
        });
    }

    /// Counts the time to first sound from `ms` (a `performance.now()` reading, such as the
    /// click that asked for the song) instead of from [`Player::start`].
    pub fn requested_at(&mut self, ms: f64) {
        if let Some(play) = self.play.as_mut() {
            play.requested_at = ms;
        }
    }

    /// Takes the next bytes of the stream; by value where the caller has a `Vec`, so a message
    /// from the socket is not copied a second time.
    pub fn push(&mut self, bytes: impl Into<Vec<u8>>) -> Result<(), PlayerError> {
        let Some(play) = self.play.as_mut() else {
            return Ok(());
        };
        let bytes = bytes.into();
        if play.backlog_bytes + bytes.len() > MAX_BACKLOG {
            return Err(PlayerError::Backlog);
        }
        play.stats.bytes += bytes.len() as u64;
        play.backlog_bytes += bytes.len();
        play.backlog.push_back(bytes);
        Ok(())
    }

    /// Says every byte of the stream has arrived.
    pub fn finish(&mut self) {
        if let Some(play) = self.play.as_mut() {
            play.input_done = true;
        }
    }

    /// Silences the current play at once and forgets it.
    pub fn stop(&mut self) {
        if let Some(play) = self.play.take() {
            for (source, _) in play.sources {
                let _ = web_sys::AudioScheduledSourceNode::stop(&source);
                let _ = source.disconnect();
            }
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

    /// Decodes and schedules what the window allows, starts sound once pre-buffered, and
    /// notices underruns. Call it on every message and on a timer.
    pub fn pump(&mut self) -> Result<(), PlayerError> {
        let Some(play) = self.play.as_mut() else {
            return Ok(());
        };
        while play.wants_more(&self.graph) {
            match play.decoder.decode()? {
                Next::Pcm(pcm) => {
                    let graph =
                        ensure_graph(&mut self.graph, &self.output, pcm.sample_rate, self.volume)?;
                    play.take(pcm, graph)?;
                }
                Next::NeedMore => {
                    if !play.feed()? {
                        break;
                    }
                }
                Next::End => play.decoded_all = true,
            }
        }
        if let Some(graph) = &self.graph {
            play.advance(graph, self.paused)?;
        }
        Ok(())
    }

    /// The current play's figures.
    pub fn stats(&self) -> Stats {
        match (&self.play, &self.graph) {
            (Some(play), Some(graph)) => play.snapshot(graph.context.current_time()),
            (Some(play), None) => Stats {
                position_s: play.start_s,
                ..play.stats.clone()
            },
            (None, _) => Stats::default(),
        }
    }

    /// Whether the current play has been decoded and played to its end.
    pub fn is_done(&self) -> bool {
        let now = self
            .graph
            .as_ref()
            .map_or(0.0, |g| g.context.current_time());
        self.play.as_ref().is_some_and(|p| {
            p.decoded_all
                && p.pending.is_empty()
                && p.timeline.as_ref().is_none_or(|t| now >= t.end())
        })
    }

    /// Sets the volume (1.0 is unchanged).
    pub fn set_volume(&mut self, volume: f32) {
        self.volume = volume.max(0.0);
        if let Some(graph) = &self.graph {
            graph.gain.gain().set_value(self.volume);
        }
    }

    /// The analyser tap, for a visualizer.
    pub fn analyser(&self) -> Option<AnalyserNode> {
        self.graph.as_ref().map(|g| g.analyser.clone())
    }
}

/// The graph for `rate`: a live output gets a context at the stream's own rate.
fn ensure_graph<'a>(
    graph: &'a mut Option<Graph>,
    output: &Output,
    rate: u32,
    volume: f32,
) -> Result<&'a Graph, PlayerError> {
    let stale = matches!(output, Output::Live) && graph.as_ref().is_some_and(|g| g.rate() != rate);
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

impl Play {
    fn pending_s(&self) -> f64 {
        match (self.channels, self.rate) {
            (0, _) | (_, 0) => 0.0,
            (c, r) => (self.pending.len() / usize::from(c)) as f64 / f64::from(r),
        }
    }

    /// Whether to decode more: not past the end, and less than the window ahead.
    fn wants_more(&self, graph: &Option<Graph>) -> bool {
        if self.decoded_all {
            return false;
        }
        let now = graph.as_ref().map_or(0.0, |g| g.context.current_time());
        let scheduled = self.timeline.as_ref().map_or(0.0, |t| t.ahead(now));
        scheduled + self.pending_s() < WINDOW_S
    }

    /// Gives the decoder its next bytes; `false` when there are none yet.
    fn feed(&mut self) -> Result<bool, PlayerError> {
        if let Some(mut chunk) = self.backlog.pop_front() {
            if chunk.len() > FEED {
                let rest = chunk.split_off(FEED);
                self.backlog.push_front(rest);
            }
            self.backlog_bytes -= chunk.len();
            self.decoder.push(&chunk)?;
            return Ok(true);
        }
        if self.input_done && !self.finish_sent {
            self.decoder.finish();
            self.finish_sent = true;
            return Ok(true);
        }
        Ok(false)
    }

    /// Adds decoded audio, scheduling the pending block first if the format changes.
    fn take(&mut self, pcm: Pcm, graph: &Graph) -> Result<(), PlayerError> {
        let pcm = self.dropping(pcm);
        if pcm.samples.is_empty() {
            return Ok(());
        }
        if (pcm.channels, pcm.sample_rate) != (self.channels, self.rate) {
            if self.timeline.is_some() {
                self.schedule(graph)?;
            }
            self.pending.clear();
            (self.channels, self.rate) = (pcm.channels, pcm.sample_rate);
            self.timeline = self
                .timeline
                .take()
                .map(|t| Timeline::new(pcm.sample_rate, t.end()));
        }
        self.pending.extend_from_slice(&pcm.samples);
        if self.timeline.is_some() && self.pending_s() >= BLOCK_S {
            self.schedule(graph)?;
        }
        Ok(())
    }

    /// `pcm` less the frames still to skip before the stream's origin.
    fn dropping(&mut self, mut pcm: Pcm) -> Pcm {
        let frames = pcm.samples.len() / usize::from(pcm.channels.max(1));
        let drop = usize::try_from(self.skip).unwrap_or(usize::MAX).min(frames);
        if drop > 0 {
            self.skip -= drop as u64;
            pcm.samples.drain(..drop * usize::from(pcm.channels.max(1)));
        }
        pcm
    }

    /// Starts sound once pre-buffered, schedules the tail at the end, notices underruns. While
    /// paused the clock stands still: nothing runs out, and sound does not start.
    fn advance(&mut self, graph: &Graph, paused: bool) -> Result<(), PlayerError> {
        let now = graph.context.current_time();
        while self.sources.front().is_some_and(|(_, end)| *end <= now) {
            self.sources.pop_front();
        }
        if let Some(timeline) = &self.timeline {
            if !paused && !self.decoded_all && now >= timeline.end() && self.pending_s() < BLOCK_S {
                self.underrun(now);
            }
        }
        let ready =
            self.pending_s() >= self.prebuffer_s || (self.decoded_all && !self.pending.is_empty());
        if self.timeline.is_none() && ready && !paused {
            self.timeline = Some(Timeline::new(self.rate, now + LEAD_S));
            graph.resume();
            if self.stats.first_sound_ms.is_none() {
                self.stats.first_sound_ms = Some(now_ms() - self.requested_at + LEAD_S * 1000.0);
            }
        }
        if self.timeline.is_some() && (self.pending_s() >= BLOCK_S || self.decoded_all) {
            self.schedule(graph)?;
        }
        Ok(())
    }

    /// The scheduled audio ran out before the song did: count it, and pre-buffer longer.
    fn underrun(&mut self, now: f64) {
        if let Some(timeline) = self.timeline.take() {
            self.played_before += timeline.played(now);
        }
        self.stats.underruns += 1;
        self.prebuffer_s = (self.prebuffer_s * 2.0).min(MAX_PREBUFFER_S);
    }

    /// Turns the pending audio into one AudioBuffer at the timeline's end.
    fn schedule(&mut self, graph: &Graph) -> Result<(), PlayerError> {
        let channels = usize::from(self.channels);
        let Some(timeline) = self.timeline.as_mut() else {
            return Ok(());
        };
        let frames = self.pending.len() / channels.max(1);
        if frames == 0 {
            return Ok(());
        }
        let buffer = graph.context.create_buffer(
            u32::from(self.channels),
            frames as u32,
            self.rate as f32,
        )?;
        let mut lane = Vec::with_capacity(frames);
        for channel in 0..channels {
            lane.clear();
            lane.extend(self.pending.iter().skip(channel).step_by(channels));
            buffer.copy_to_channel(&lane, channel as i32)?;
        }
        let source = graph.context.create_buffer_source()?;
        source.set_buffer(Some(&buffer));
        source.connect_with_audio_node(&graph.gain)?;
        let at = timeline.push(frames);
        source.start_with_when(at)?;
        self.sources.push_back((source, timeline.end()));
        self.pending.clear();
        Ok(())
    }

    fn snapshot(&self, now: f64) -> Stats {
        let timeline = self.timeline.as_ref();
        Stats {
            playing: timeline.is_some_and(|t| now >= t.start() && now < t.end()),
            position_s: self.start_s + self.played_before + timeline.map_or(0.0, |t| t.played(now)),
            buffered_s: timeline.map_or(0.0, |t| t.ahead(now)) + self.pending_s(),
            ..self.stats.clone()
        }
    }
}

/// `performance.now()`, in milliseconds.
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}
