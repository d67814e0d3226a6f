//! The now-playing bar: the song, elapsed and total time, the scrubber (progress with the
//! buffered part, which seeks), play/pause, stop, previous/next and volume.

use tapedeck_protocol::SongInfo;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::library::{art, clock};
use crate::components::scrubber::Scrubber;
use crate::level::Leveling;
use crate::state::{Playback, Progress, Repeat};

#[derive(Debug, Properties, PartialEq)]
pub struct NowPlayingProps {
    pub song: Option<SongInfo>,
    pub playback: Playback,
    pub progress: Progress,
    /// Play (when stopped), pause or resume.
    pub on_toggle: Callback<()>,
    pub on_stop: Callback<()>,
    /// Seek to this many seconds into the song.
    pub on_seek: Callback<f64>,
    pub on_previous: Callback<()>,
    pub on_next: Callback<()>,
    pub on_volume: Callback<f32>,
    pub volume: f32,
    pub muted: bool,
    pub shuffle: bool,
    pub repeat: Repeat,
    pub on_mute: Callback<()>,
    pub on_shuffle: Callback<()>,
    pub on_repeat: Callback<()>,
    /// Which ReplayGain applies; the button cycles it.
    #[prop_or_default]
    pub leveling: Leveling,
    #[prop_or_default]
    pub on_leveling: Callback<()>,
    pub on_stats: Callback<()>,
}

#[component]
pub fn NowPlaying(props: &NowPlayingProps) -> Html {
    let Progress {
        position_s,
        duration_s,
        buffered_s,
        ..
    } = props.progress;
    let on_volume = props.on_volume.reform(|e: InputEvent| {
        let value = e
            .target_unchecked_into::<HtmlInputElement>()
            .value_as_number();
        (value / 100.0) as f32
    });
    let (title, artist) = props
        .song
        .as_ref()
        .map_or(("Nothing playing".into(), String::new()), |s| {
            (s.title.clone(), s.artist.clone())
        });
    // Play when stopped or paused, pause otherwise.
    let can_play = matches!(props.playback, Playback::Stopped | Playback::Paused);
    let toggle_label = if can_play { "Play" } else { "Pause" };
    html! {
        <footer class="now-playing">
            <div class="song-info">
                if let Some(song) = props.song.as_ref().filter(|s| s.art) {
                    <span class="cover">{ art(song, 128) }</span>
                }
                <div class="names">
                    <strong class="title">{ title }</strong>
                    <span class="artist">{ artist }</span>
                </div>
            </div>
            <div class="controls">
                <button aria-label="Previous" onclick={props.on_previous.reform(|_| ())}>{ icon("M6 5h2v14H6zM20 5v14L9 12z") }</button>
                <button class="toggle" aria-label={toggle_label} onclick={props.on_toggle.reform(|_| ())}>
                    { icon(if can_play { "M7 5v14l12-7z" } else { "M6 5h4v14H6zM14 5h4v14h-4z" }) }
                </button>
                <button class="stop" aria-label="Stop" onclick={props.on_stop.reform(|_| ())}>{ icon("M6 6h12v12H6z") }</button>
                <button aria-label="Next" onclick={props.on_next.reform(|_| ())}>{ icon("M16 5h2v14h-2zM4 5v14l11-7z") }</button>
            </div>
            <Scrubber {position_s} {duration_s} {buffered_s} on_seek={props.on_seek.clone()} />
            <span class="time">{ format!("{} / {}", clock(position_s), clock(duration_s)) }</span>
            <span class="state">{ props.playback.as_str() }</span>
            <div class="modes">
                <button class={classes!("mode", props.shuffle.then_some("on"))} aria-pressed={props.shuffle.to_string()}
                    aria-label="Shuffle" onclick={props.on_shuffle.reform(|_| ())}>{ "Shuffle" }</button>
                <button class={classes!("mode", (props.repeat != Repeat::Off).then_some("on"))}
                    aria-label={props.repeat.label()} onclick={props.on_repeat.reform(|_| ())}>{ props.repeat.label() }</button>
                <button class={classes!("mode", "leveling", (props.leveling != Leveling::Off).then_some("on"))}
                    aria-label={format!("ReplayGain: {}", props.leveling.word())}
                    title="ReplayGain: off, by track, or by album (never past full scale)"
                    onclick={props.on_leveling.reform(|_| ())}>{ format!("Gain: {}", props.leveling.word()) }</button>
                <button class={classes!("mode", props.muted.then_some("on"))} aria-pressed={props.muted.to_string()}
                    aria-label="Mute" onclick={props.on_mute.reform(|_| ())}>{ if props.muted { "Muted" } else { "Mute" } }</button>
                <input class="volume" type="range" min="0" max="100" aria-label="Volume"
                    value={format!("{:.0}", props.volume * 100.0)} oninput={on_volume} />
                <button class="mode" aria-label="Stats for nerds" onclick={props.on_stats.reform(|_| ())}>{ "Stats" }</button>
            </div>
        </footer>
    }
}

/// A 24x24 icon drawn with one path (no font is needed for it).
fn icon(path: &'static str) -> Html {
    html! {
        <svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true" fill="currentColor">
            <path d={path} />
        </svg>
    }
}
