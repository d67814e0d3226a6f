//! A live spectrum: the analyser's frequency bins drawn as bars on a canvas, once a frame.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{AnalyserNode, CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

/// Bars drawn across the canvas.
const BARS: usize = 48;

#[derive(Debug, Properties, PartialEq)]
pub struct VisualizerProps {
    pub analyser: Option<AnalyserNode>,
}

#[component]
pub fn Visualizer(props: &VisualizerProps) -> Html {
    let canvas = use_node_ref();
    {
        let canvas = canvas.clone();
        use_effect_with(props.analyser.clone(), move |analyser| {
            let running = analyser
                .clone()
                .and_then(|a| Some(animate(canvas.cast::<HtmlCanvasElement>()?, a)));
            move || {
                if let Some(frame) = running {
                    frame.borrow_mut().take();
                }
            }
        });
    }
    html! { <canvas class="visualizer" ref={canvas} width="480" height="64" aria-hidden="true"></canvas> }
}

type Frame = Rc<RefCell<Option<Closure<dyn FnMut()>>>>;

/// Draws every animation frame until the returned slot is emptied.
fn animate(canvas: HtmlCanvasElement, analyser: AnalyserNode) -> Frame {
    let frame: Frame = Rc::new(RefCell::new(None));
    let context = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok());
    let mut bins = vec![0u8; analyser.frequency_bin_count() as usize];
    let next = frame.clone();
    *frame.borrow_mut() = Some(Closure::new(move || {
        if let Some(context) = &context {
            analyser.get_byte_frequency_data(&mut bins);
            draw(context, &canvas, &bins);
        }
        if let Some(callback) = next.borrow().as_ref() {
            request(callback);
        }
    }));
    if let Some(callback) = frame.borrow().as_ref() {
        request(callback);
    }
    frame
}

fn request(callback: &Closure<dyn FnMut()>) {
    if let Some(window) = web_sys::window() {
        let _ = window.request_animation_frame(callback.as_ref().unchecked_ref());
    }
}

/// Bars for the lower half of the spectrum (where music has most of its energy).
fn draw(context: &CanvasRenderingContext2d, canvas: &HtmlCanvasElement, bins: &[u8]) {
    let (width, height) = (f64::from(canvas.width()), f64::from(canvas.height()));
    context.clear_rect(0.0, 0.0, width, height);
    let style = web_sys::window()
        .and_then(|w| w.get_computed_style(canvas).ok().flatten())
        .and_then(|s| s.get_property_value("color").ok())
        .unwrap_or_else(|| "#f0a04b".into());
    context.set_fill_style_str(&style);
    let used = (bins.len() / 2).max(BARS);
    let per_bar = used / BARS;
    let bar_width = width / BARS as f64;
    for bar in 0..BARS {
        let slice = &bins[(bar * per_bar).min(bins.len())..((bar + 1) * per_bar).min(bins.len())];
        let level =
            slice.iter().map(|&b| f64::from(b)).sum::<f64>() / slice.len().max(1) as f64 / 255.0;
        let bar_height = level * height;
        context.fill_rect(
            bar as f64 * bar_width + 1.0,
            height - bar_height,
            bar_width - 2.0,
            bar_height,
        );
    }
}
