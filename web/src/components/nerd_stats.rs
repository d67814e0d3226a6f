//! "Stats for nerds": the current play's figures.

use tapedeck_protocol::SongInfo;
use yew::prelude::*;

use crate::state::Progress;

#[derive(Debug, Properties, PartialEq)]
pub struct NerdStatsProps {
    pub song: Option<SongInfo>,
    pub progress: Progress,
}

#[component]
pub fn NerdStats(props: &NerdStatsProps) -> Html {
    let p = props.progress;
    let first_sound = p
        .first_sound_ms
        .map_or("—".into(), |ms| format!("{ms:.0} ms"));
    let (codec, rate) = props.song.as_ref().map_or(("—".into(), "—".into()), |s| {
        (
            s.format.clone(),
            format!("{} Hz, {} ch", s.sample_rate, s.channels),
        )
    });
    let rows = [
        ("Time to first sound", first_sound),
        ("Underruns", p.underruns.to_string()),
        ("Buffered ahead", format!("{:.1} s", p.buffered_s)),
        ("Bytes received", p.bytes.to_string()),
        ("Codec", codec),
        ("Sample rate", rate),
    ];
    html! {
        <aside class="nerd-stats" aria-label="Stats for nerds">
            <dl>
                { for rows.into_iter().map(|(k, v)| html! { <><dt>{ k }</dt><dd>{ v }</dd></> }) }
            </dl>
        </aside>
    }
}
