//! An album opened: its cover, title, artist and songs (in the album's order, played in it).

use std::rc::Rc;

use tapedeck_protocol::{AlbumSongs, SongId, SongInfo};
use yew::prelude::*;

use crate::browse::artist_name;
use crate::components::library::{Library, art};
use crate::listing::Rows;
use crate::state::Column;

#[derive(Debug, Properties, PartialEq)]
pub struct AlbumViewProps {
    /// The album, once it came.
    pub album: Option<Rc<AlbumSongs>>,
    pub current: Option<SongId>,
    pub on_play: Callback<SongInfo>,
    pub on_back: Callback<()>,
    /// The artist's albums.
    pub on_artist: Callback<String>,
}

#[component]
pub fn AlbumView(props: &AlbumViewProps) -> Html {
    let back = html! { <button class="link" onclick={props.on_back.reform(|_| ())}>{ "← Albums" }</button> };
    let Some(album) = &props.album else {
        return html! { <section class="album-view">{ back }<p class="note">{ "Loading the album…" }</p></section> };
    };
    let cover = album.songs.iter().find(|s| s.art).map(|s| art(s, 256));
    let artist = album.artist.clone();
    let rows = Rows::Found(Rc::new(album.songs.clone()));
    html! {
        <section class="album-view">
            { back }
            <header class="album-head">
                <span class="album-cover big">{ for cover }</span>
                <div>
                    <h2>{ if album.title.is_empty() { "Unknown album" } else { &album.title } }</h2>
                    <button class="link" onclick={props.on_artist.reform(move |_| artist.clone())}>
                        { artist_name(&album.artist) }
                    </button>
                    <p class="note">{ format!("{} songs", album.total) }</p>
                </div>
            </header>
            <Library {rows} query={String::new()} sort={(Column::Title, true)} current={props.current}
                on_play={props.on_play.clone()} on_query={Callback::noop()} on_sort={Callback::noop()}
                searchable={false} />
        </section>
    }
}
