//! The progress bar, which seeks: click or drag it (the time under the pointer is shown while
//! dragging, and the song moves there on release). Keyboard users seek with the arrow keys
//! (page-wide shortcuts); to assistive technology it is a slider.

use web_sys::{Element, PointerEvent};
use yew::prelude::*;

use crate::components::library::clock;

#[derive(Debug, Properties, PartialEq)]
pub struct ScrubberProps {
    pub position_s: f64,
    pub duration_s: f64,
    /// Seconds decoded ahead of the position, shown as the buffered part.
    pub buffered_s: f64,
    /// A seek to this many seconds.
    pub on_seek: Callback<f64>,
}

#[component]
pub fn Scrubber(props: &ScrubberProps) -> Html {
    // The time under the pointer while a drag is on, to show; and whether one is on, for the
    // handlers (a state handle's value is that of the render that made the handler).
    let dragging = use_state(|| None::<f64>);
    let active = use_mut_ref(|| false);
    // The bar itself: Yew delegates events, so an event's `current_target` is the app's root,
    // not the element whose handler runs.
    let bar = use_node_ref();
    let duration = props.duration_s;
    let percent = |s: f64| {
        if duration > 0.0 {
            (s / duration * 100.0).clamp(0.0, 100.0)
        } else {
            0.0
        }
    };
    let shown = dragging.unwrap_or(props.position_s);
    let on_down = {
        let (dragging, active, bar) = (dragging.clone(), active.clone(), bar.clone());
        Callback::from(move |e: PointerEvent| {
            if let Some(element) = bar.cast::<Element>().filter(|_| duration > 0.0) {
                // Later moves and the release come to the bar even off it.
                let _ = element.set_pointer_capture(e.pointer_id());
                *active.borrow_mut() = true;
                dragging.set(Some(time_at(&e, &element, duration)));
            }
        })
    };
    let on_move = {
        let (dragging, active, bar) = (dragging.clone(), active.clone(), bar.clone());
        Callback::from(move |e: PointerEvent| {
            if let Some(element) = bar.cast::<Element>().filter(|_| *active.borrow()) {
                dragging.set(Some(time_at(&e, &element, duration)));
            }
        })
    };
    let on_up = {
        let (dragging, active, bar) = (dragging.clone(), active.clone(), bar.clone());
        let on_seek = props.on_seek.clone();
        Callback::from(move |e: PointerEvent| {
            if active.replace(false) {
                dragging.set(None);
                if let Some(element) = bar.cast::<Element>() {
                    on_seek.emit(time_at(&e, &element, duration));
                }
            }
        })
    };
    let on_cancel = {
        let dragging = dragging.clone();
        Callback::from(move |_: PointerEvent| {
            *active.borrow_mut() = false;
            dragging.set(None);
        })
    };
    html! {
        <div ref={bar} class={classes!("progress", dragging.is_some().then_some("dragging"))} role="slider"
            aria-label="Position" tabindex="-1"
            aria-valuemin="0" aria-valuemax={format!("{duration:.0}")} aria-valuenow={format!("{shown:.0}")}
            aria-valuetext={format!("{} of {}", clock(shown), clock(duration))}
            onpointerdown={on_down} onpointermove={on_move} onpointerup={on_up} onpointercancel={on_cancel}>
            <div class="buffered" style={format!("width: {:.1}%", percent(props.position_s + props.buffered_s))}></div>
            <div class="played" style={format!("width: {:.1}%", percent(shown))}></div>
            if let Some(at) = *dragging {
                <span class="scrub-time" style={format!("left: {:.1}%", percent(at))}>{ clock(at) }</span>
            }
        </div>
    }
}

/// The song time under the pointer of `e`, on `bar`.
fn time_at(e: &PointerEvent, bar: &Element, duration: f64) -> f64 {
    let rect = bar.get_bounding_client_rect();
    if rect.width() <= 0.0 {
        return 0.0;
    }
    let fraction = ((f64::from(e.client_x()) - rect.left()) / rect.width()).clamp(0.0, 1.0);
    fraction * duration
}
