//! Settings remembered in localStorage.

const VOLUME: &str = "tapedeck.volume";
const MUTED: &str = "tapedeck.muted";

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

pub fn save_volume(volume: f32, muted: bool) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(VOLUME, &volume.to_string());
        let _ = storage.set_item(MUTED, &muted.to_string());
    }
}
