//! The root component.

use yew::prelude::*;

/// The whole app. For now a title and the version: the library, the player and the controls
/// arrive with the bridge and the audio engine.
#[component]
pub fn App() -> Html {
    html! {
        <main class="tapedeck">
            <h1>{ "Tapedeck" }</h1>
            <p class="version">{ format!("version {}", crate::VERSION) }</p>
        </main>
    }
}
