//! Component tests in headless Chromium: render into the test page, dispatch real DOM events,
//! and check the DOM and the callbacks.

#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use tapedeck_protocol::{SongId, SongInfo};
use tapedeck_web::components::library::{Library, LibraryProps};
use tapedeck_web::components::now_playing::{NowPlaying, NowPlayingProps};
use tapedeck_web::components::scrubber::{Scrubber, ScrubberProps};
use tapedeck_web::level::Leveling;
use tapedeck_web::listing::{Listing, PAGE, Rows};
use tapedeck_web::state::{Column, Playback, Progress, Repeat};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{
    Element, HtmlElement, HtmlInputElement, InputEvent, KeyboardEvent, KeyboardEventInit,
    PointerEvent, PointerEventInit,
};
use yew::Callback;

mod common;

use common::render;

wasm_bindgen_test_configure!(run_in_browser);

fn song(id: u32, title: &str) -> SongInfo {
    SongInfo {
        id: SongId(id),
        name: format!("{title}.flac"),
        title: title.into(),
        artist: "The Loopback Quartet".into(),
        album: "Demo Tape".into(),
        duration_ms: 61_000,
        format: "flac".into(),
        sample_rate: 44_100,
        channels: 2,
        bitrate: 900_000,
        size: 1,
        ..SongInfo::default()
    }
}

fn find(root: &Element, selector: &str) -> HtmlElement {
    root.query_selector(selector)
        .ok()
        .flatten()
        .expect(selector)
        .unchecked_into()
}

/// A callback that records what it is given.
fn recorder<T: 'static>() -> (Callback<T>, Rc<RefCell<Vec<T>>>) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    (
        Callback::from(move |value| sink.borrow_mut().push(value)),
        seen,
    )
}

#[wasm_bindgen_test]
async fn the_library_lists_searches_sorts_and_plays() {
    let (on_play, played) = recorder();
    let (on_query, queries) = recorder();
    let (on_sort, sorts) = recorder();
    let (on_view, views) = recorder();
    let props = LibraryProps {
        rows: Rows::Found(Rc::new(vec![
            song(1, "Morning Tape"),
            song(2, "Night Drive"),
        ])),
        query: String::new(),
        sort: (Column::Title, true),
        current: Some(SongId(2)),
        note: Some("2 matches.".into()),
        on_play,
        on_query,
        on_sort,
        on_view,
        shown_query: String::new(),
        searchable: true,
    };
    let root = render::<Library>(props).await;
    assert_eq!(
        root.query_selector_all("tr.song").expect("rows").length(),
        2
    );
    assert_eq!(views.borrow().last(), Some(&(0, 2)), "both places in view");
    assert_eq!(
        find(&root, ".note").text_content().as_deref(),
        Some("2 matches.")
    );
    assert_eq!(
        find(&root, "tr.current td").text_content().as_deref(),
        Some("Night Drive")
    );
    assert_eq!(
        find(&root, "tr.song td:nth-child(4)")
            .text_content()
            .as_deref(),
        Some("1:01")
    );

    let search: HtmlInputElement = find(&root, "input.search").unchecked_into();
    search.set_value("night");
    search
        .dispatch_event(&InputEvent::new("input").expect("event"))
        .expect("dispatch");
    assert_eq!(*queries.borrow(), ["night"]);

    find(&root, "tr.song[data-id='1']").click();
    let init = KeyboardEventInit::new();
    init.set_key("Enter");
    init.set_bubbles(true);
    let enter = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("key");
    find(&root, "tr.song[data-id='2']")
        .dispatch_event(&enter)
        .expect("dispatch");
    let played: Vec<SongId> = played.borrow().iter().map(|s: &SongInfo| s.id).collect();
    assert_eq!(played, [SongId(1), SongId(2)]);

    find(&root, "th:nth-child(4) button").click();
    assert_eq!(*sorts.borrow(), [Column::Duration]);
    assert!(
        find(&root, "th:nth-child(1) button")
            .text_content()
            .unwrap_or_default()
            .ends_with('▲')
    );
}

/// A library of 100,000 songs of which two pages have come: only the rows in view are in
/// the page, places not yet here wait, and the table is as tall as all of them.
#[wasm_bindgen_test]
async fn a_large_library_makes_only_the_rows_in_view() {
    let mut listing = Listing::default();
    let page = |first: usize| {
        (first..first + PAGE)
            .map(|i| song(i as u32 + 1, &format!("Song {i}")))
            .collect::<Vec<_>>()
    };
    listing.add(0, 100_000, page(0));
    listing.add(PAGE, 100_000, page(PAGE));
    let (on_view, views) = recorder();
    let props = LibraryProps {
        rows: Rows::Library(listing),
        query: String::new(),
        sort: (Column::Title, true),
        current: None,
        note: None,
        on_play: Callback::noop(),
        on_query: Callback::noop(),
        on_sort: Callback::noop(),
        on_view,
        shown_query: String::new(),
        searchable: true,
    };
    let root = render::<Library>(props).await;
    let rows = root.query_selector_all("tr.song").expect("rows").length();
    assert!((10..=80).contains(&rows), "{rows} rows in the page");
    let scroller = find(&root, ".rows");
    // The test page has no style sheet: the scroller gets its height and overflow here.
    let style = scroller.style();
    style.set_property("height", "600px").expect("height");
    style.set_property("overflow-y", "auto").expect("overflow");
    let height = scroller.scroll_height();
    // (Rows are 36 px under the style sheet; here they are what the browser makes them.)
    assert!(height >= 3_500_000, "the table is {height} px tall");
    scroller.set_scroll_top(150 * 36);
    scroller
        .dispatch_event(&web_sys::Event::new("scroll").expect("event"))
        .expect("dispatch");
    yew::scheduler::flush().await;
    let (first, end) = *views.borrow().last().expect("a view");
    assert!(first <= 150 && end > 150, "{first}..{end}");
    assert!(
        root.query_selector("tr.song[data-id='151']")
            .ok()
            .flatten()
            .is_some()
    );
    scroller.set_scroll_top(50_000 * 36);
    scroller
        .dispatch_event(&web_sys::Event::new("scroll").expect("event"))
        .expect("dispatch");
    yew::scheduler::flush().await;
    assert!(
        root.query_selector("tr.waiting").ok().flatten().is_some(),
        "its page is on its way"
    );
    let (first, _) = *views.borrow().last().expect("a view");
    assert!(first > 49_000, "{first}");
}

#[wasm_bindgen_test]
async fn the_now_playing_bar_shows_progress_and_controls() {
    let (on_toggle, toggles) = recorder();
    let (on_stop, stops) = recorder();
    let (on_next, nexts) = recorder();
    let (on_mute, mutes) = recorder();
    let (on_leveling, levelings) = recorder();
    let props = NowPlayingProps {
        song: Some(song(2, "Night Drive")),
        playback: Playback::Playing,
        progress: Progress {
            position_s: 15.0,
            duration_s: 60.0,
            buffered_s: 15.0,
            ..Progress::default()
        },
        on_toggle,
        on_stop,
        on_seek: Callback::noop(),
        on_previous: Callback::noop(),
        on_next,
        on_volume: Callback::noop(),
        volume: 0.5,
        muted: false,
        shuffle: false,
        repeat: Repeat::All,
        on_mute,
        on_shuffle: Callback::noop(),
        on_repeat: Callback::noop(),
        on_stats: Callback::noop(),
        leveling: Leveling::Album,
        on_leveling,
    };
    let root = render::<NowPlaying>(props).await;
    assert_eq!(
        find(&root, ".title").text_content().as_deref(),
        Some("Night Drive")
    );
    assert_eq!(
        find(&root, ".time").text_content().as_deref(),
        Some("0:15 / 1:00")
    );
    assert_eq!(
        find(&root, ".played").get_attribute("style").as_deref(),
        Some("width: 25.0%")
    );
    assert_eq!(
        find(&root, ".buffered").get_attribute("style").as_deref(),
        Some("width: 50.0%")
    );
    let volume: HtmlInputElement = find(&root, "input.volume").unchecked_into();
    assert_eq!(volume.value(), "50");
    assert_eq!(
        find(&root, "button.toggle")
            .get_attribute("aria-label")
            .as_deref(),
        Some("Pause")
    );
    find(&root, "button.toggle").click();
    find(&root, "button.stop").click();
    find(&root, "button[aria-label='Next']").click();
    find(&root, "button[aria-label='Mute']").click();
    find(&root, "button[aria-label='ReplayGain: album']").click();
    assert_eq!(
        (
            toggles.borrow().len(),
            stops.borrow().len(),
            nexts.borrow().len(),
            mutes.borrow().len(),
            levelings.borrow().len()
        ),
        (1, 1, 1, 1, 1)
    );
    assert!(
        find(&root, "button[aria-label='Repeat: all']")
            .class_name()
            .contains("on")
    );
}

/// The scrubber: a click at three quarters of its width seeks to three quarters of the song;
/// while a drag is on, the time under the pointer is shown, and the seek comes on release.
/// (Before the fix, positions were taken on Yew's root element: right only where the bar
/// happened to span the page.)
#[wasm_bindgen_test]
async fn the_scrubber_seeks_by_click_and_drag() {
    let (on_seek, seeks) = recorder::<f64>();
    let props = ScrubberProps {
        position_s: 10.0,
        duration_s: 60.0,
        buffered_s: 5.0,
        on_seek,
    };
    let root = render::<Scrubber>(props).await;
    let bar = find(&root, ".progress");
    // The bar narrower than the app and off its left edge, as in the page: positions are the
    // bar's, not those of the element Yew listens on.
    bar.set_attribute("style", "margin-left: 30%; width: 40%")
        .expect("style");
    let pointer = |kind: &str, fraction: f64| {
        // Where the bar is now (its width follows the page).
        let rect = bar.get_bounding_client_rect();
        let init = PointerEventInit::new();
        init.set_bubbles(true);
        init.set_client_x((rect.left() + fraction * rect.width()).round() as i32);
        init.set_pointer_id(1);
        let event = PointerEvent::new_with_event_init_dict(kind, &init).expect("event");
        bar.dispatch_event(&event).expect("dispatch");
    };
    pointer("pointerdown", 0.25);
    yew::scheduler::flush().await;
    pointer("pointermove", 0.5);
    yew::scheduler::flush().await;
    assert_eq!(
        find(&root, ".scrub-time").text_content().as_deref(),
        Some("0:30"),
        "the time under the pointer while dragging"
    );
    assert!(seeks.borrow().is_empty(), "no seek before the release");
    pointer("pointerup", 0.75);
    yew::scheduler::flush().await;
    let seek = seeks.borrow()[0];
    assert!(
        (seek - 45.0).abs() < 0.2,
        "a click at 3/4 seeks to 45 s, not {seek}"
    );
    assert_eq!(seeks.borrow().len(), 1);
    assert!(root.query_selector(".scrub-time").expect("query").is_none());
}

/// A panic is reported in the page (what `report_panics` shows), with a way to reload.
#[wasm_bindgen_test]
fn a_crash_is_shown_in_the_page_with_a_reload_link() {
    tapedeck_web::crash::show("RefCell already borrowed");
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("a document");
    let notice = document
        .query_selector(".crash[role='alert']")
        .expect("query")
        .expect("the notice");
    let text = notice.text_content().unwrap_or_default();
    assert!(text.contains("RefCell already borrowed"), "{text}");
    let link = notice.query_selector("a[href='']").expect("query");
    assert!(link.is_some(), "a reload link");
    notice.remove();
}

#[wasm_bindgen_test]
async fn the_sign_in_form_sends_what_was_typed_and_shows_a_refusal() {
    use tapedeck_web::components::sign_in::{SignIn, SignInProps};
    let (on_sign_in, sent) = recorder();
    let props = SignInProps {
        error: Some("Wrong user or password.".into()),
        on_sign_in,
    };
    let root = render::<SignIn>(props).await;
    assert_eq!(
        find(&root, ".error").text_content().as_deref(),
        Some("Wrong user or password.")
    );
    let user: HtmlInputElement = find(&root, "input[name=user]").unchecked_into();
    let password: HtmlInputElement = find(&root, "input[name=password]").unchecked_into();
    assert_eq!(password.type_(), "password");
    user.set_value("  alice ");
    password.set_value("correct horse battery");
    let form: web_sys::HtmlFormElement = find(&root, "form.sign-in").unchecked_into();
    form.request_submit().expect("submits");
    yew::scheduler::flush().await;
    assert_eq!(
        sent.borrow().as_slice(),
        [("alice".to_owned(), "correct horse battery".to_owned())]
    );
}
