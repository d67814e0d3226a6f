//! The Web Audio graph a song plays through: its context, a gain for the volume and an
//! analyser tap for a visualizer.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    AnalyserNode, AudioContext, AudioContextOptions, BaseAudioContext, GainNode,
    OfflineAudioContext,
};

/// Where the graph's context comes from.
#[derive(Debug, Clone)]
pub enum Output {
    /// A live context, made at each song's sample rate (so buffers are never resampled one by
    /// one, which clicks at the seams).
    Live,
    /// A fixed context, for rendering offline.
    Offline(OfflineAudioContext),
}

/// A context with its gain and analyser.
#[derive(Debug)]
pub struct Graph {
    pub context: BaseAudioContext,
    /// The live context, to close it when it is replaced.
    live: Option<AudioContext>,
    pub gain: GainNode,
    pub analyser: AnalyserNode,
}

impl Graph {
    /// A graph at `rate` (ignored offline: the offline context has its own).
    pub fn new(output: &Output, rate: u32, volume: f32) -> Result<Self, JsValue> {
        let (context, live) = match output {
            Output::Live => {
                let options = AudioContextOptions::new();
                options.set_sample_rate(rate as f32);
                let live = AudioContext::new_with_context_options(&options)?;
                (
                    live.clone().unchecked_into::<BaseAudioContext>(),
                    Some(live),
                )
            }
            Output::Offline(offline) => {
                (offline.clone().unchecked_into::<BaseAudioContext>(), None)
            }
        };
        let gain = context.create_gain()?;
        gain.gain().set_value(volume);
        let analyser = context.create_analyser()?;
        gain.connect_with_audio_node(&analyser)?;
        analyser.connect_with_audio_node(&context.destination())?;
        Ok(Self {
            context,
            live,
            gain,
            analyser,
        })
    }

    pub fn rate(&self) -> u32 {
        self.context.sample_rate() as u32
    }

    /// Resumes a live context (browsers may start it suspended).
    pub fn resume(&self) {
        if let Some(live) = &self.live {
            let _ = live.resume();
        }
    }

    /// Suspends a live context: its clock, and everything scheduled on it, stands still.
    pub fn suspend(&self) {
        if let Some(live) = &self.live {
            let _ = live.suspend();
        }
    }

    /// Releases the live context's audio device.
    pub fn close(&self) {
        if let Some(live) = &self.live {
            let _ = live.close();
        }
    }
}
