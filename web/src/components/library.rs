//! The library: search, sortable columns, click or Enter to play. Only the rows in view are
//! in the page (a million songs are a million places, not a million rows): the table keeps
//! the full height with a spacer above and below the rows shown, and says which places are in
//! view so the app fetches them.

use tapedeck_protocol::{SongId, SongInfo};
use web_sys::{HtmlElement, HtmlInputElement};
use yew::prelude::*;

use crate::hooks::use_scroller;
use crate::listing::Rows;
use crate::state::Column;

/// The height of a row, in CSS pixels (`style.css` gives rows exactly this).
pub const ROW_PX: f64 = 36.0;
/// The tallest the table is made: past it, a scroll moves through the places in proportion
/// (browsers lay out nothing taller than 2^24 to 2^25 pixels).
const MAX_PX: f64 = 4_000_000.0;
/// Rows made beyond the view on each side, so a short scroll shows rows at once.
const OVERSCAN: usize = 10;

#[derive(Debug, Properties, PartialEq)]
pub struct LibraryProps {
    pub rows: Rows,
    pub query: String,
    pub sort: (Column, bool),
    pub current: Option<SongId>,
    /// A line under the search box ("Searching…", how many matches are shown).
    #[prop_or_default]
    pub note: Option<String>,
    pub on_play: Callback<SongInfo>,
    pub on_query: Callback<String>,
    pub on_sort: Callback<Column>,
    /// The query the rows are the results of (empty: the library). The section carries it as
    /// `data-query`, so automation knows when a search's results are in.
    #[prop_or_default]
    pub shown_query: String,
    /// The places in view changed: `(first, end)`.
    #[prop_or_default]
    pub on_view: Callback<(usize, usize)>,
    /// Whether the search box and sortable columns are shown (an album keeps its order).
    #[prop_or(true)]
    pub searchable: bool,
}

/// `m:ss`.
pub fn clock(seconds: f64) -> String {
    let total = seconds.max(0.0) as u64;
    format!("{}:{:02}", total / 60, total % 60)
}

/// The rows to make for a scroll position, and the room above and below them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub first: usize,
    pub count: usize,
    pub above_px: f64,
    pub below_px: f64,
}

/// The rows in view of a list of `len` rows scrolled to `top` in a view `height` tall.
pub fn window(len: usize, top: f64, height: f64) -> Window {
    window_of(len, top, height, ROW_PX)
}

/// As [`window`], for rows `row` pixels tall.
pub fn window_of(len: usize, top: f64, height: f64, row: f64) -> Window {
    let in_view = (height.max(0.0) / row).ceil() as usize + 1;
    let natural = len as f64 * row;
    let (first_in_view, offset_px) = if natural <= MAX_PX {
        ((top.max(0.0) / row) as usize, 0.0)
    } else {
        // Scaled: the scroll's fraction picks the place; the rows sit where the view is.
        let fraction = (top / (MAX_PX - height).max(1.0)).clamp(0.0, 1.0);
        let place = (fraction * len.saturating_sub(in_view) as f64).round() as usize;
        (place, top.max(0.0) - place as f64 * row)
    };
    let first = first_in_view.min(len).saturating_sub(OVERSCAN);
    let count = (in_view + 2 * OVERSCAN).min(len - first);
    let total_px = natural.min(MAX_PX);
    let above_px = (first as f64 * row + offset_px).max(0.0);
    let below_px = (total_px - above_px - count as f64 * row).max(0.0);
    Window {
        first,
        count,
        above_px,
        below_px,
    }
}

#[component]
pub fn Library(props: &LibraryProps) -> Html {
    let (scroller, scroll, on_scroll) = use_scroller();
    // A new search or order starts at the top.
    {
        let scroller = scroller.clone();
        use_effect_with((props.query.clone(), props.sort), move |_| {
            if let Some(element) = scroller.cast::<HtmlElement>() {
                element.set_scroll_top(0);
            }
        });
    }
    let window = window(props.rows.len(), scroll.top, scroll.height);
    {
        let on_view = props.on_view.clone();
        let range = (window.first, window.first + window.count);
        use_effect_with((range, props.rows.clone()), move |(range, _)| {
            on_view.emit(*range)
        });
    }
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
        if !props.searchable {
            return html! { <th><span class="sort">{ label }</span></th> };
        }
        html! { <th><button class="sort" onclick={on_sort}>{ format!("{label}{mark}") }</button></th> }
    };
    html! {
        <section class="library" data-query={props.shown_query.clone()}>
            if props.searchable {
                <input class="search" type="search" placeholder="Search title, artist, album"
                    aria-label="Search the library" value={props.query.clone()} oninput={on_input}
                    maxlength="200" />
            }
            if let Some(note) = &props.note {
                <p class="note" role="status">{ note }</p>
            }
            <div class="rows" ref={scroller} onscroll={on_scroll}>
                <table>
                    <thead><tr>
                        { header(Column::Title, "Title") }
                        { header(Column::Artist, "Artist") }
                        { header(Column::Album, "Album") }
                        { header(Column::Duration, "Time") }
                        { header(Column::Format, "Format") }
                    </tr></thead>
                    { body(window, 5, |at| row(at, props)) }
                </table>
            </div>
        </section>
    }
}

/// The body of a table of `columns` made as `window` says: a spacer for the rows above, the
/// rows in view, a spacer for the rows below.
pub fn body(window: Window, columns: usize, row: impl Fn(usize) -> Html) -> Html {
    let spacer = |px: f64| {
        html! {
            <tr class="spacer" aria-hidden="true" style={format!("height: {px}px")}>
                <td colspan={columns.to_string()}></td>
            </tr>
        }
    };
    html! {
        <tbody>
            { spacer(window.above_px) }
            { for (window.first..window.first + window.count).map(row) }
            { spacer(window.below_px) }
        </tbody>
    }
}

/// The song's cover art at `px` pixels (`GET /art/<id>`, fetched when the row is made, kept
/// by the browser), or nothing when it has none.
pub fn art(song: &SongInfo, px: u32) -> Html {
    if !song.art {
        return Html::default();
    }
    picture(&art_url(song, px), px)
}

/// The picture at `url`, `px` pixels square, fetched lazily.
pub fn picture(url: &str, px: u32) -> Html {
    // A picture the server cannot give (broken, too large) leaves the empty square, not the
    // browser's broken-image sign.
    let hide = Callback::from(|e: Event| {
        let _ = e
            .target_unchecked_into::<HtmlElement>()
            .style()
            .set_property("visibility", "hidden");
    });
    html! {
        <img src={url.to_owned()} alt="" loading="lazy" decoding="async"
            width={px.to_string()} height={px.to_string()} onerror={hide} />
    }
}

/// Where the bridge serves a song's cover art at `px` pixels.
pub fn art_url(song: &SongInfo, px: u32) -> String {
    format!("/art/{}?px={px}", song.id)
}

/// The row at place `at`: the song, or an empty row while its page is on its way.
fn row(at: usize, props: &LibraryProps) -> Html {
    let Some(song) = props.rows.get(at) else {
        return html! { <tr key={format!("wait{at}")} class="waiting"><td colspan="5">{ "…" }</td></tr> };
    };
    let id = song.id;
    let on_click = {
        let (on_play, song) = (props.on_play.clone(), song.clone());
        Callback::from(move |_: MouseEvent| on_play.emit(song.clone()))
    };
    let on_key = {
        let (on_play, song) = (props.on_play.clone(), song.clone());
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" {
                on_play.emit(song.clone());
            }
        })
    };
    let class = if props.current == Some(id) {
        "song current"
    } else {
        "song"
    };
    html! {
        <tr key={id.0} class={class} tabindex="0" data-id={id.to_string()} onclick={on_click} onkeydown={on_key}>
            <td><span class="art">{ art(song, 64) }</span>{ &song.title }</td>
            <td>{ &song.artist }</td>
            <td>{ &song.album }</td>
            <td>{ clock(song.duration_ms as f64 / 1000.0) }</td>
            <td>{ &song.format }</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn a_window_covers_the_view_and_keeps_the_height() {
        let small = window(4, 0.0, 800.0);
        assert_eq!((small.first, small.count), (0, 4));
        assert_eq!((small.above_px, small.below_px), (0.0, 0.0));
        let mid = window(100_000, 36_000.0, 720.0);
        assert_eq!(mid.first, 1000 - OVERSCAN);
        assert_eq!(mid.count, 21 + 2 * OVERSCAN);
        let height = mid.above_px + mid.count as f64 * ROW_PX + mid.below_px;
        assert_eq!(height, 100_000.0 * ROW_PX);
        // A million rows: scaled to MAX_PX; the bottom of the scroll shows the last rows.
        let end = window(1_000_000, MAX_PX - 720.0, 720.0);
        assert_eq!(end.first + end.count, 1_000_000);
        assert!(end.above_px + end.count as f64 * ROW_PX <= MAX_PX + ROW_PX * OVERSCAN as f64);
        let start = window(1_000_000, 0.0, 720.0);
        assert_eq!(start.first, 0);
    }
}
