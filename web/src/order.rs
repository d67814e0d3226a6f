//! The one answer to "what plays next": from the songs in the order shown, shuffled or not,
//! with the repeat mode. The Next and Previous buttons, the end of a song, and the gapless
//! player's look-ahead all ask it.

use tapedeck_protocol::SongId;

use crate::state::Repeat;

/// How the play order moves on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The listener asked for the next song: the list wraps around, and repeat-one does not
    /// hold the song.
    Next,
    /// The listener asked for the previous song.
    Previous,
    /// The song ended by itself: repeat-one plays it again, and the end of the list stops
    /// unless repeat-all is on.
    End,
}

/// The order songs play in: the songs shown, or shuffled by `seed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    pub shuffle: Option<u64>,
    pub repeat: Repeat,
}

/// The song after (or before) `current` among `shown` (in the order shown). With nothing
/// playing, or a song no longer shown, the first of the order.
pub fn following(
    shown: &[SongId],
    current: Option<SongId>,
    mode: Mode,
    step: Step,
) -> Option<SongId> {
    if step == Step::End && mode.repeat == Repeat::One {
        return current;
    }
    let order = match mode.shuffle {
        Some(seed) => shuffled(shown, seed),
        None => shown.to_vec(),
    };
    let len = order.len();
    let Some(at) = current.and_then(|c| order.iter().position(|&id| id == c)) else {
        return order.first().copied();
    };
    let index = match step {
        Step::Previous => (at + len - 1) % len,
        Step::Next => (at + 1) % len,
        Step::End if at + 1 < len => at + 1,
        Step::End if mode.repeat == Repeat::All => 0,
        Step::End => return None,
    };
    order.get(index).copied()
}

/// `ids` in an order fixed by `seed` (Fisher-Yates over splitmix64): the same seed gives the
/// same order, so every question about the shuffle gets the same answer.
fn shuffled(ids: &[SongId], seed: u64) -> Vec<SongId> {
    let mut order = ids.to_vec();
    let mut state = seed;
    for i in (1..order.len()).rev() {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let j = (z % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn ids(n: u32) -> Vec<SongId> {
        (1..=n).map(SongId).collect()
    }

    const PLAIN: Mode = Mode {
        shuffle: None,
        repeat: Repeat::Off,
    };

    #[wasm_bindgen_test]
    fn the_shown_order_and_its_ends() {
        let shown = ids(3);
        let at = |c: u32, step| following(&shown, Some(SongId(c)), PLAIN, step);
        assert_eq!(at(1, Step::Next), Some(SongId(2)));
        assert_eq!(at(3, Step::Next), Some(SongId(1)), "the buttons wrap");
        assert_eq!(at(1, Step::Previous), Some(SongId(3)));
        assert_eq!(at(3, Step::End), None, "the end of the list stops");
        let all = Mode {
            repeat: Repeat::All,
            ..PLAIN
        };
        assert_eq!(
            following(&shown, Some(SongId(3)), all, Step::End),
            Some(SongId(1))
        );
        let one = Mode {
            repeat: Repeat::One,
            ..PLAIN
        };
        assert_eq!(
            following(&shown, Some(SongId(2)), one, Step::End),
            Some(SongId(2))
        );
        assert_eq!(
            following(&shown, Some(SongId(2)), one, Step::Next),
            Some(SongId(3))
        );
        assert_eq!(following(&shown, None, PLAIN, Step::Next), Some(SongId(1)));
        assert_eq!(following(&[], None, PLAIN, Step::End), None);
    }

    #[wasm_bindgen_test]
    fn a_shuffle_visits_every_song_once_and_answers_the_same_every_time() {
        let shown = ids(50);
        let mode = Mode {
            shuffle: Some(7),
            repeat: Repeat::Off,
        };
        let mut seen = vec![following(&shown, None, mode, Step::Next).expect("first")];
        while let Some(next) = following(&shown, seen.last().copied(), mode, Step::End) {
            seen.push(next);
        }
        let mut sorted = seen.clone();
        sorted.sort_by_key(|id| id.0);
        assert_eq!(sorted, shown, "each song once");
        assert_ne!(seen, shown, "not the shown order");
        let again = following(&shown, Some(seen[10]), mode, Step::End);
        assert_eq!(again, Some(seen[11]));
        assert_eq!(
            following(&shown, Some(seen[11]), mode, Step::Previous),
            Some(seen[10])
        );
    }
}
