//! ReplayGain: the level a song plays at, as the listener chose (off, track or album) and as
//! its tags say (`track_gain_db`, `track_peak`, `album_gain_db`, `album_peak`), never so loud
//! that its peak would pass full scale.

use tapedeck_protocol::SongInfo;

/// Which ReplayGain applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Leveling {
    /// Songs play as they are.
    #[default]
    Off,
    /// Each song at its own gain (the album's when it has none of its own).
    Track,
    /// Each song at its album's gain (its own when the album has none): an album keeps the
    /// loudness its songs have to each other.
    Album,
}

impl Leveling {
    pub fn next(self) -> Self {
        match self {
            Self::Off => Self::Track,
            Self::Track => Self::Album,
            Self::Album => Self::Off,
        }
    }

    /// The setting's word, as shown and remembered.
    pub fn word(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Track => "track",
            Self::Album => "album",
        }
    }

    pub fn from_word(word: &str) -> Self {
        [Self::Track, Self::Album]
            .into_iter()
            .find(|l| l.word() == word)
            .unwrap_or_default()
    }
}

/// The factor `song` plays at under `leveling`: its gain, limited so that its peak stays at
/// or under full scale (a song whose peak is not known counts as reaching it, so it is never
/// made louder). 1.0 for a song without ReplayGain.
pub fn level(song: &SongInfo, leveling: Leveling) -> f32 {
    let (gain_db, peak) = match leveling {
        Leveling::Off => return 1.0,
        Leveling::Track => (
            song.track_gain_db.or(song.album_gain_db),
            song.track_peak.or(song.album_peak),
        ),
        Leveling::Album => (
            song.album_gain_db.or(song.track_gain_db),
            song.album_peak.or(song.track_peak),
        ),
    };
    let Some(gain_db) = gain_db.filter(|g| g.is_finite()) else {
        return 1.0;
    };
    let peak = peak.filter(|p| p.is_finite() && *p > 0.0).unwrap_or(1.0);
    10f32.powf(gain_db / 20.0).min(1.0 / peak)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn song(track: Option<(f32, f32)>, album: Option<(f32, f32)>) -> SongInfo {
        SongInfo {
            track_gain_db: track.map(|t| t.0),
            track_peak: track.map(|t| t.1),
            album_gain_db: album.map(|a| a.0),
            album_peak: album.map(|a| a.1),
            ..SongInfo::default()
        }
    }

    #[wasm_bindgen_test]
    fn gains_apply_and_peaks_limit_them() {
        let close = |a: f32, b: f32| (a - b).abs() < 1e-4;
        let tagged = song(Some((-6.0, 0.9)), Some((-8.0, 1.0)));
        assert_eq!(level(&tagged, Leveling::Off), 1.0);
        assert!(close(level(&tagged, Leveling::Track), 0.501_19));
        assert!(close(level(&tagged, Leveling::Album), 0.398_11));
        // +6 dB would take a 0.8 peak past full scale: limited to 1 / 0.8.
        let quiet = song(Some((6.0, 0.8)), None);
        assert!(close(level(&quiet, Leveling::Track), 1.25));
        assert!(
            close(level(&quiet, Leveling::Album), 1.25),
            "the track's when no album's"
        );
        // No peak known: never louder.
        assert_eq!(
            level(&song(Some((6.0, f32::NAN)), None), Leveling::Track),
            1.0
        );
        assert_eq!(level(&song(None, None), Leveling::Album), 1.0);
        assert_eq!(Leveling::from_word("album"), Leveling::Album);
        assert_eq!(Leveling::from_word("loud"), Leveling::Off);
        assert_eq!(Leveling::Album.next(), Leveling::Off);
    }
}
