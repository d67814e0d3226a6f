//! The library: instant search, sortable columns, click or Enter to play.

use std::rc::Rc;

use tapedeck_protocol::{SongId, SongInfo};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::state::Column;

#[derive(Debug, Properties, PartialEq)]
pub struct LibraryProps {
    /// The songs to show, filtered and sorted.
    pub songs: Rc<Vec<SongInfo>>,
    pub query: String,
    pub sort: (Column, bool),
    pub current: Option<SongId>,
    pub on_play: Callback<SongId>,
    pub on_query: Callback<String>,
    pub on_sort: Callback<Column>,
}

/// `m:ss`.
pub fn clock(seconds: f64) -> String {
    let total = seconds.max(0.0) as u64;
    format!("{}:{:02}", total / 60, total % 60)
}

#[component]
pub fn Library(props: &LibraryProps) -> Html {
    let on_input = props
        .on_query
        .reform(|e: InputEvent| e.target_unchecked_into::<HtmlInputElement>().value());
    let header = |column: Column, label: &str| {
        let on_sort = props.on_sort.reform(move |_| column);
        let mark = match props.sort {
            (c, true) if c == column => " ▲",
            (c, false) if c == column => " ▼",
            _ => "",
        };
        html! { <th><button class="sort" onclick={on_sort}>{ format!("{label}{mark}") }</button></th> }
    };
    html! {
        <section class="library">
            <input class="search" type="search" placeholder="Search title, artist, album"
                aria-label="Search the library" value={props.query.clone()} oninput={on_input} />
            <table>
                <thead><tr>
                    { header(Column::Title, "Title") }
                    { header(Column::Artist, "Artist") }
                    { header(Column::Album, "Album") }
                    { header(Column::Duration, "Time") }
                    { header(Column::Format, "Format") }
                </tr></thead>
                <tbody>{ for props.songs.iter().map(|song| row(song, props)) }</tbody>
            </table>
        </section>
    }
}

fn row(song: &SongInfo, props: &LibraryProps) -> Html {
    let id = song.id;
    let on_click = props.on_play.reform(move |_| id);
    let on_key = {
        let on_play = props.on_play.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" {
                on_play.emit(id);
            }
        })
    };
    let class = if props.current == Some(id) {
        "song current"
    } else {
        "song"
    };
    html! {
        <tr class={class} tabindex="0" data-id={id.to_string()} onclick={on_click} onkeydown={on_key}>
            <td>{ &song.title }</td>
            <td>{ &song.artist }</td>
            <td>{ &song.album }</td>
            <td>{ clock(song.duration_ms as f64 / 1000.0) }</td>
            <td>{ &song.format }</td>
        </tr>
    }
}
