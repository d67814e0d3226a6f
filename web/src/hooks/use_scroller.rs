//! `use_scroller`: a scrolling box's position and size, kept as it scrolls, for the lists
//! that make only what is in view (songs, albums, artists).

use web_sys::HtmlElement;
use yew::prelude::*;

/// Where a scroller stands: its scroll offset and its inner height and width, in CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scroll {
    pub top: f64,
    pub height: f64,
    pub width: f64,
}

/// The node to put on the scrolling box, where it stands, and its `onscroll` handler. The
/// height counts no more than the window's (a box the style sheet left unbounded would
/// otherwise make every row).
#[hook]
pub fn use_scroller() -> (NodeRef, Scroll, Callback<Event>) {
    let node = use_node_ref();
    let scroll = use_state(|| Scroll {
        top: 0.0,
        height: 800.0,
        width: 800.0,
    });
    let measure = {
        let (node, scroll) = (node.clone(), scroll.clone());
        move || {
            let Some(element) = node.cast::<HtmlElement>() else {
                return;
            };
            let window = web_sys::window()
                .and_then(|w| w.inner_height().ok())
                .and_then(|h| h.as_f64())
                .unwrap_or(f64::MAX);
            let now = Scroll {
                top: f64::from(element.scroll_top()),
                height: f64::from(element.client_height()).min(window),
                width: f64::from(element.client_width()),
            };
            if now != *scroll {
                scroll.set(now);
            }
        }
    };
    let on_scroll = {
        let measure = measure.clone();
        Callback::from(move |_: Event| measure())
    };
    use_effect(measure);
    (node, *scroll, on_scroll)
}
