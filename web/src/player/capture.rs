//! `window.tapedeck.capture(seconds)`: what the page actually outputs, after the gain, first
//! channel, recorded in real time by an AudioWorklet tapped onto the output. Nothing of it
//! exists until it is called; the tap is removed when the recording is complete.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Float32Array, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AudioWorkletNode, AudioWorkletNodeOptions, BaseAudioContext, Blob, BlobPropertyBag, GainNode,
    MessageEvent, Url,
};

/// The processor: copies its input's first channel in blocks of 4096 frames to the page,
/// until told to stop. It starts with the first render quantum its input is connected in: the
/// connection reaches the audio thread a few quanta after the node is made, and the quanta
/// before it are not the page's output (recording them as silence put up to 1,024 zeros before
/// the sound, which looked like a seam). A page with nothing playing has no active input at
/// all: after 64 quanta (under 0.2 s) the recording starts anyway, with its silence.
const PROCESSOR: &str = r#"
class TapedeckCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Float32Array(4096);
    this.filled = 0;
    this.stopped = false;
    this.started = false;
    this.waited = 0;
    this.port.onmessage = () => { this.stopped = true; };
  }
  process(inputs) {
    if (this.stopped) return false;
    const input = inputs[0] && inputs[0][0];
    if (!input && !this.started && this.waited++ < 64) return true;
    this.started = true;
    for (let i = 0; i < 128; i++) {
      this.block[this.filled++] = input ? input[i] : 0;
      if (this.filled === this.block.length) {
        this.port.postMessage(this.block.slice());
        this.filled = 0;
      }
    }
    return true;
  }
}
registerProcessor('tapedeck-capture', TapedeckCapture);
"#;

/// A recording in progress.
struct Recording {
    samples: Vec<f32>,
    want: usize,
    rate: f32,
    node: AudioWorkletNode,
    resolve: js_sys::Function,
    done: bool,
}

impl Recording {
    /// Resolves the promise with what was recorded, and removes the tap.
    fn finish(&mut self) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        self.samples.truncate(self.want);
        let result = Object::new();
        let samples = Float32Array::from(self.samples.as_slice());
        let _ = Reflect::set(&result, &"rate".into(), &f64::from(self.rate).into());
        let _ = Reflect::set(&result, &"samples".into(), &samples);
        let _ = self.resolve.call1(&JsValue::NULL, &result);
        if let Ok(port) = self.node.port() {
            let _ = port.post_message(&JsValue::TRUE);
            port.set_onmessage(None);
        }
        let _ = self.node.disconnect();
    }
}

/// Records `seconds` of what `gain` (on `context`) outputs: a promise of `{rate, samples}`.
pub fn capture(context: BaseAudioContext, gain: GainNode, seconds: f64) -> Promise {
    Promise::new(&mut |resolve, reject| {
        let (context, gain) = (context.clone(), gain.clone());
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(err) = start(context, gain, seconds, resolve).await {
                let _ = reject.call1(&JsValue::NULL, &err);
            }
        });
    })
}

async fn start(
    context: BaseAudioContext,
    gain: GainNode,
    seconds: f64,
    resolve: js_sys::Function,
) -> Result<(), JsValue> {
    let url = module_url()?;
    JsFuture::from(context.audio_worklet()?.add_module(&url)?).await?;
    let _ = Url::revoke_object_url(&url);
    let options = AudioWorkletNodeOptions::new();
    options.set_number_of_inputs(1);
    options.set_number_of_outputs(1);
    let node = AudioWorkletNode::new_with_options(&context, "tapedeck-capture", &options)?;
    let rate = context.sample_rate();
    let want = (seconds.max(0.0) * f64::from(rate)).round() as usize;
    let recording = Rc::new(RefCell::new(Recording {
        samples: Vec::with_capacity(want.min(1 << 24)),
        want,
        rate,
        node: node.clone(),
        resolve,
        done: false,
    }));
    let on_block = {
        let recording = recording.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let mut recording = recording.borrow_mut();
            let block = Float32Array::new(&event.data());
            recording.samples.extend(block.to_vec());
            if recording.samples.len() >= recording.want {
                recording.finish();
            }
        })
    };
    node.port()?
        .set_onmessage(Some(on_block.as_ref().unchecked_ref()));
    // The closure lives as long as the port's handler: until the recording is complete.
    on_block.forget();
    gain.connect_with_audio_node(&node)?;
    node.connect_with_audio_node(&context.destination())?;
    if want == 0 {
        recording.borrow_mut().finish();
    }
    Ok(())
}

/// The processor's code as a module the worklet can load, from memory (no network).
fn module_url() -> Result<String, JsValue> {
    let parts = Array::of1(&PROCESSOR.into());
    let options = BlobPropertyBag::new();
    options.set_type("application/javascript");
    let blob = Blob::new_with_str_sequence_and_options(&parts, &options)?;
    Url::create_object_url_with_blob(&blob)
}
