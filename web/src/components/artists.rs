//! The artists: one row each (name, albums, songs), only the rows in view made. A click shows
//! the artist's albums.

use tapedeck_protocol::ArtistInfo;
use yew::prelude::*;

use crate::browse::artist_name;
use crate::components::library::{body, window};
use crate::hooks::use_scroller;
use crate::listing::Listing;

#[derive(Debug, Properties, PartialEq)]
pub struct ArtistListProps {
    pub artists: Listing<ArtistInfo>,
    /// An artist chosen: their albums.
    pub on_artist: Callback<String>,
    /// The artists in view changed: `(first, end)`.
    pub on_view: Callback<(usize, usize)>,
}

#[component]
pub fn ArtistList(props: &ArtistListProps) -> Html {
    let (scroller, scroll, on_scroll) = use_scroller();
    let total = props.artists.total.unwrap_or(0);
    let window = window(total, scroll.top, scroll.height);
    {
        let on_view = props.on_view.clone();
        let range = (window.first, window.first + window.count);
        use_effect_with((range, props.artists.clone()), move |(range, _)| {
            on_view.emit(*range)
        });
    }
    html! {
        <section class="artists">
            <p class="note">{ format!("{total} artists.") }</p>
            <div class="rows" ref={scroller} onscroll={on_scroll}>
                <table>
                    <thead><tr><th>{ "Artist" }</th><th>{ "Albums" }</th><th>{ "Songs" }</th></tr></thead>
                    { body(window, 3, |at| row(at, props)) }
                </table>
            </div>
        </section>
    }
}

fn row(at: usize, props: &ArtistListProps) -> Html {
    let Some(artist) = props.artists.get(at) else {
        return html! { <tr key={format!("wait{at}")} class="waiting"><td colspan="3">{ "…" }</td></tr> };
    };
    let name = artist.name.clone();
    let on_click = props.on_artist.reform(move |_: MouseEvent| name.clone());
    let on_key = {
        let (on_artist, name) = (props.on_artist.clone(), artist.name.clone());
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" {
                on_artist.emit(name.clone());
            }
        })
    };
    html! {
        <tr key={format!("a{at}")} class="song artist-row" tabindex="0" onclick={on_click} onkeydown={on_key}>
            <td>{ artist_name(&artist.name) }</td>
            <td>{ artist.albums }</td>
            <td>{ artist.songs }</td>
        </tr>
    }
}
