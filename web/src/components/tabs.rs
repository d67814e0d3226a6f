//! What the library part shows: songs, albums or artists.

use yew::prelude::*;

use crate::browse::View;

#[derive(Debug, Properties, PartialEq)]
pub struct TabsProps {
    pub view: View,
    pub on_view: Callback<View>,
}

#[component]
pub fn Tabs(props: &TabsProps) -> Html {
    let tab = |view: View, label: &str| {
        // An album opened is part of browsing albums.
        let on = props.view == view || (view == View::Albums && props.view == View::Album);
        html! {
            <button class={classes!("tab", on.then_some("on"))} aria-pressed={on.to_string()}
                onclick={props.on_view.reform(move |_| view)}>{ label }</button>
        }
    };
    html! {
        <nav class="tabs" aria-label="Browse">
            { tab(View::Songs, "Songs") }
            { tab(View::Albums, "Albums") }
            { tab(View::Artists, "Artists") }
        </nav>
    }
}
