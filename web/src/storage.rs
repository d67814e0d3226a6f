//! Settings remembered in localStorage.

use crate::level::Leveling;

const VOLUME: &str = "tapedeck.volume";
const MUTED: &str = "tapedeck.muted";
const LEVELING: &str = "tapedeck.replay_gain";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The remembered volume (1.0 when none) and mute.
pub fn load_volume() -> (f32, bool) {
    let Some(storage) = storage() else {
        return (1.0, false);
    };
    let volume = storage
        .get_item(VOLUME)
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let muted = storage.get_item(MUTED).ok().flatten().as_deref() == Some("true");
    (volume, muted)
}

/// The remembered ReplayGain setting (off when none).
pub fn load_leveling() -> Leveling {
    storage()
        .and_then(|s| s.get_item(LEVELING).ok().flatten())
        .map_or(Leveling::Off, |word| Leveling::from_word(&word))
}

pub fn save_leveling(leveling: Leveling) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(LEVELING, leveling.word());
    }
}

pub fn save_volume(volume: f32, muted: bool) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(VOLUME, &volume.to_string());
        let _ = storage.set_item(MUTED, &muted.to_string());
    }
}
