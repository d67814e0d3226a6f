//! The album grid: a card for each album (its cover, title and artist), in rows of as many as
//! fit; only the rows in view are made, like the library's songs. A click opens the album.

use tapedeck_protocol::{AlbumInfo, SongId};
use yew::prelude::*;

use crate::browse::{album_title, artist_name};
use crate::components::library::{picture, window_of};
use crate::hooks::use_scroller;
use crate::listing::Listing;

/// A card's width with its gap, and a row's height, in CSS pixels (`style.css` gives them).
pub const CARD_PX: f64 = 176.0;
pub const ROW_PX: f64 = 232.0;

#[derive(Debug, Properties, PartialEq)]
pub struct AlbumGridProps {
    pub albums: Listing<AlbumInfo>,
    /// Whose albums these are (every album's when `None`).
    pub artist: Option<String>,
    pub on_open: Callback<SongId>,
    /// Back to every album.
    pub on_all: Callback<()>,
    /// The albums in view changed: `(first, end)`.
    pub on_view: Callback<(usize, usize)>,
}

#[component]
pub fn AlbumGrid(props: &AlbumGridProps) -> Html {
    let (scroller, scroll, on_scroll) = use_scroller();
    let columns = ((scroll.width / CARD_PX).floor() as usize).max(1);
    let total = props.albums.total.unwrap_or(0);
    let rows = total.div_ceil(columns);
    let window = window_of(rows, scroll.top, scroll.height, ROW_PX);
    {
        let on_view = props.on_view.clone();
        let range = (
            window.first * columns,
            ((window.first + window.count) * columns).min(total),
        );
        use_effect_with((range, props.albums.clone()), move |(range, _)| {
            on_view.emit(*range)
        });
    }
    let heading = match &props.artist {
        Some(artist) => html! {
            <p class="note">
                { format!("Albums of {}. ", artist_name(artist)) }
                <button class="link" onclick={props.on_all.reform(|_| ())}>{ "All albums" }</button>
            </p>
        },
        None => html! { <p class="note">{ format!("{total} albums.") }</p> },
    };
    let row = |r: usize| {
        let cards = (r * columns..((r + 1) * columns).min(total)).map(|at| card(at, props));
        html! { <div class="album-row" key={r}>{ for cards }</div> }
    };
    html! {
        <section class="albums">
            { heading }
            <div class="rows" ref={scroller} onscroll={on_scroll}>
                <div style={format!("height: {}px", window.above_px)}></div>
                { for (window.first..window.first + window.count).map(row) }
                <div style={format!("height: {}px", window.below_px)}></div>
            </div>
        </section>
    }
}

fn card(at: usize, props: &AlbumGridProps) -> Html {
    let Some(album) = props.albums.get(at) else {
        return html! { <div class="album waiting" key={format!("wait{at}")}></div> };
    };
    let id = album.id;
    let cover = album
        .art
        .map(|art| picture(&format!("/art/{art}?px=256"), 256));
    html! {
        <button class="album" key={id.0} data-id={id.to_string()}
            onclick={props.on_open.reform(move |_| id)}>
            <span class="album-cover">{ for cover }</span>
            <strong class="album-title">{ album_title(album) }</strong>
            <span class="album-artist">{ artist_name(&album.artist) }</span>
        </button>
    }
}
