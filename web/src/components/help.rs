//! The keyboard shortcuts, listed in an overlay (press ? to open and close it).

use yew::prelude::*;

#[derive(Debug, Properties, PartialEq)]
pub struct HelpProps {
    pub on_close: Callback<()>,
}

const KEYS: [(&str, &str); 9] = [
    ("Space", "Play / pause"),
    ("← / →", "Back / forward 10 seconds"),
    ("Shift ← / →, P / N", "Previous / next song"),
    ("↑ / ↓", "Volume up / down"),
    ("M", "Mute"),
    ("/", "Search"),
    ("?", "This help"),
    ("Enter", "Play the focused song"),
    ("Tab", "Move between controls"),
];

#[component]
pub fn Help(props: &HelpProps) -> Html {
    html! {
        <div class="help" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts">
            <h2>{ "Keyboard shortcuts" }</h2>
            <dl>
                { for KEYS.iter().map(|(k, v)| html! { <><dt><kbd>{ *k }</kbd></dt><dd>{ *v }</dd></> }) }
            </dl>
            <button onclick={props.on_close.reform(|_| ())}>{ "Close" }</button>
        </div>
    }
}
