//! One stream being played: its compressed backlog, its decoder, the decoded audio waiting
//! to be scheduled, and where its sound sits on the audio clock.

use std::collections::VecDeque;

use tapedeck_audio::{Next, Pcm, Resampler, StreamDecoder};
use web_sys::{AudioBufferSourceNode, GainNode};

use super::graph::Graph;
use super::stats::Stats;
use super::timeline::Timeline;
use super::{
    BLOCK_S, FEED, FIRST_PREBUFFER_S, LEAD_S, MAX_BACKLOG, MAX_PREBUFFER_S, Origin, PlayerError,
    WINDOW_S, now_ms,
};

#[derive(Debug)]
pub struct Play {
    pub decoder: StreamDecoder,
    /// Compressed bytes not yet given to the decoder.
    backlog: VecDeque<Vec<u8>>,
    backlog_bytes: usize,
    /// All bytes have arrived; `finish_sent` once the decoder was told.
    pub input_done: bool,
    finish_sent: bool,
    /// The decoder has given everything.
    pub decoded_all: bool,
    /// Decoded, interleaved, at the graph's rate, not yet scheduled.
    pending: Vec<f32>,
    channels: u16,
    /// The rate of `pending` and of the timeline: the graph's.
    rate: u32,
    /// Whether this play must fit the graph as it is (it joins another play on the same
    /// clock, or the output is fixed): then a stream at another rate is resampled.
    pub fits_graph: bool,
    resampler: Option<(u32, Resampler)>,
    /// Decoded frames still to drop before the stream's origin.
    skip: u64,
    /// Where in the song the stream starts.
    start_s: f64,
    /// Set while sound is scheduled; `None` before the first sound and after an underrun.
    pub timeline: Option<Timeline>,
    /// Scheduled sources and the context time each ends, oldest first.
    sources: VecDeque<(AudioBufferSourceNode, f64)>,
    prebuffer_s: f64,
    /// Seconds played on earlier timelines (before underruns).
    played_before: f64,
    /// `performance.now()` of the play request.
    pub requested_at: f64,
    pub stats: Stats,
    /// This play's own level (ReplayGain): 1.0 is unchanged.
    level: f32,
    /// The gain all of this play's sources go through, made with its first source: a play
    /// joined to another keeps its own level from its first sample.
    level_node: Option<GainNode>,
}

impl Play {
    pub fn new(extension: Option<&str>, duration_s: Option<f64>, origin: Origin) -> Self {
        Self {
            decoder: StreamDecoder::new(extension),
            backlog: VecDeque::new(),
            backlog_bytes: 0,
            input_done: false,
            finish_sent: false,
            decoded_all: false,
            pending: Vec::new(),
            channels: 0,
            rate: 0,
            fits_graph: false,
            resampler: None,
            skip: origin.skip,
            start_s: origin.start_s,
            timeline: None,
            sources: VecDeque::new(),
            prebuffer_s: FIRST_PREBUFFER_S,
            played_before: 0.0,
            requested_at: now_ms(),
            stats: Stats {
                duration_s,
                ..Stats::default()
            },
            level: 1.0,
            level_node: None,
        }
    }

    /// Sets this play's level, at once for what is scheduled too.
    pub fn set_level(&mut self, level: f32) {
        self.level = level.max(0.0);
        if let Some(node) = &self.level_node {
            node.gain().set_value(self.level);
        }
    }

    /// The node this play's sources connect to, made on the graph the first time.
    fn level_node(&mut self, graph: &Graph) -> Result<GainNode, PlayerError> {
        if let Some(node) = &self.level_node {
            return Ok(node.clone());
        }
        let node = graph.context.create_gain()?;
        node.gain().set_value(self.level);
        node.connect_with_audio_node(&graph.gain)?;
        self.level_node = Some(node.clone());
        Ok(node)
    }

    /// Silences everything scheduled.
    pub fn silence(self) {
        for (source, _) in self.sources {
            let _ = web_sys::AudioScheduledSourceNode::stop(&source);
            let _ = source.disconnect();
        }
        if let Some(node) = self.level_node {
            let _ = node.disconnect();
        }
    }

    pub fn push(&mut self, bytes: Vec<u8>) -> Result<(), PlayerError> {
        if self.backlog_bytes + bytes.len() > MAX_BACKLOG {
            return Err(PlayerError::Backlog);
        }
        self.stats.bytes += bytes.len() as u64;
        self.backlog_bytes += bytes.len();
        self.backlog.push_back(bytes);
        Ok(())
    }

    pub fn pending_s(&self) -> f64 {
        match (self.channels, self.rate) {
            (0, _) | (_, 0) => 0.0,
            (c, r) => (self.pending.len() / usize::from(c)) as f64 / f64::from(r),
        }
    }

    /// Seconds decoded ahead of `now`: scheduled and pending.
    pub fn ahead(&self, now: f64) -> f64 {
        self.timeline.as_ref().map_or(0.0, |t| t.ahead(now)) + self.pending_s()
    }

    /// Whether to decode more: not past the end, and less than the window ahead of the
    /// playhead, counting `before` seconds that play first (a play this one follows).
    pub fn wants_more(&self, now: f64, before: f64) -> bool {
        !self.decoded_all && before + self.ahead(now) < WINDOW_S
    }

    /// Whether every frame is scheduled: the end of the timeline is final.
    pub fn all_scheduled(&self) -> bool {
        self.decoded_all && self.pending.is_empty() && self.timeline.is_some()
    }

    /// Whether the play has been decoded and played to its end at `now`.
    pub fn is_done(&self, now: f64) -> bool {
        self.decoded_all
            && self.pending.is_empty()
            && self.timeline.as_ref().is_none_or(|t| now >= t.end())
    }

    /// Decodes the next piece; `false` when nothing more can be decoded yet.
    pub fn decode_step(&mut self) -> Result<Option<Pcm>, PlayerError> {
        loop {
            match self.decoder.decode()? {
                Next::Pcm(pcm) => return Ok(Some(pcm)),
                Next::NeedMore => {
                    if !self.feed()? {
                        return Ok(None);
                    }
                }
                Next::End => {
                    self.decoded_all = true;
                    self.flush_resampler();
                    return Ok(None);
                }
            }
        }
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

    /// Adds decoded audio (at `graph`'s rate, resampled if need be), scheduling the pending
    /// block first if the layout changes.
    pub fn take(&mut self, pcm: Pcm, graph: &Graph) -> Result<(), PlayerError> {
        let pcm = self.dropping(pcm);
        if pcm.samples.is_empty() {
            return Ok(());
        }
        // The output is stereo: surround is mixed down here, every layout up to 7.1.
        let pcm = tapedeck_audio::downmix::stereo(pcm);
        let pcm = self.fitted(pcm, graph.rate());
        if pcm.samples.is_empty() {
            return Ok(());
        }
        self.add(pcm, graph)
    }

    fn add(&mut self, pcm: Pcm, graph: &Graph) -> Result<(), PlayerError> {
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

    /// `pcm` at `rate`: resampled when this play must fit a graph at another rate.
    fn fitted(&mut self, pcm: Pcm, rate: u32) -> Pcm {
        if pcm.sample_rate == rate || !self.fits_graph {
            return pcm;
        }
        let stale = self
            .resampler
            .as_ref()
            .is_none_or(|(from, _)| *from != pcm.sample_rate);
        if stale {
            self.resampler = Some((
                pcm.sample_rate,
                Resampler::new(pcm.sample_rate, rate, pcm.channels),
            ));
        }
        let samples = self
            .resampler
            .as_mut()
            .map_or_else(Vec::new, |(_, r)| r.process(&pcm.samples));
        Pcm {
            sample_rate: rate,
            channels: pcm.channels,
            samples,
        }
    }

    /// The resampler's last frames, at the end of the stream.
    fn flush_resampler(&mut self) {
        if let Some((_, mut resampler)) = self.resampler.take() {
            self.pending.extend(resampler.finish());
        }
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
    /// paused the clock stands still: nothing runs out, and sound does not start. A play that
    /// follows another starts where that one's sound ends (`follows`: its final context
    /// frame), and not before that frame is known (`Some(None)`).
    pub fn advance(
        &mut self,
        graph: &Graph,
        paused: bool,
        follows: Option<Option<u64>>,
    ) -> Result<(), PlayerError> {
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
        if self.timeline.is_none() && ready && !paused && follows != Some(None) {
            self.begin(graph, now, follows.flatten());
        }
        if self.timeline.is_some() && (self.pending_s() >= BLOCK_S || self.decoded_all) {
            self.schedule(graph)?;
        }
        Ok(())
    }

    /// Starts the timeline: right after `after` (a context frame) when that is still ahead,
    /// else a moment from now.
    fn begin(&mut self, graph: &Graph, now: f64, after: Option<u64>) {
        let rate = self.rate;
        let timeline = match after {
            Some(frame) if frame as f64 / f64::from(rate) >= now + LEAD_S / 2.0 => {
                Timeline::from_frame(rate, frame)
            }
            _ => Timeline::new(rate, now + LEAD_S),
        };
        let start = timeline.start();
        self.timeline = Some(timeline);
        graph.resume();
        if self.stats.first_sound_ms.is_none() {
            self.stats.first_sound_ms = Some(now_ms() - self.requested_at + (start - now) * 1000.0);
        }
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
        let frames = self.pending.len() / channels.max(1);
        if frames == 0 || self.timeline.is_none() {
            return Ok(());
        }
        let level = self.level_node(graph)?;
        let Some(timeline) = self.timeline.as_mut() else {
            return Ok(());
        };
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
        source.connect_with_audio_node(&level)?;
        let at = timeline.push(frames);
        source.start_with_when(at)?;
        self.sources.push_back((source, timeline.end()));
        self.pending.clear();
        Ok(())
    }

    pub fn snapshot(&self, now: f64) -> Stats {
        let timeline = self.timeline.as_ref();
        Stats {
            playing: timeline.is_some_and(|t| now >= t.start() && now < t.end()),
            position_s: self.start_s + self.played_before + timeline.map_or(0.0, |t| t.played(now)),
            buffered_s: self.ahead(now),
            ..self.stats.clone()
        }
    }

    /// The figures before any sound.
    pub fn idle_stats(&self) -> Stats {
        Stats {
            position_s: self.start_s,
            ..self.stats.clone()
        }
    }
}
