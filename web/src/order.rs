//! The one answer to "what plays next": from the songs in the order shown, shuffled or not,
//! with the repeat mode. The Next and Previous buttons, the end of a song, and the gapless
//! player's look-ahead all ask it.

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

/// A seed for a new shuffle order.
pub fn random_seed() -> u64 {
    (js_sys::Math::random() * 2f64.powi(53)) as u64
}

/// The place (in the songs shown, in the order shown) of the song after (or before) the one at
/// `at` among `len` songs. With nothing playing, or a song whose place is not known, the first
/// of the order.
pub fn following(len: usize, at: Option<usize>, mode: Mode, step: Step) -> Option<usize> {
    if step == Step::End && mode.repeat == Repeat::One {
        return at;
    }
    if len == 0 {
        return None;
    }
    let shuffle = mode.shuffle.map(|seed| Shuffle::new(len, seed));
    let shown = |k: usize| shuffle.as_ref().map_or(k, |s| s.shown(k));
    let Some(at) = at.filter(|&at| at < len) else {
        return Some(shown(0));
    };
    let k = shuffle.as_ref().map_or(at, |s| s.turn(at));
    let k = match step {
        Step::Previous => (k + len - 1) % len,
        Step::Next => (k + 1) % len,
        Step::End if k + 1 < len => k + 1,
        Step::End if mode.repeat == Repeat::All => 0,
        Step::End => return None,
    };
    Some(shown(k))
}

/// A shuffled order of `len` songs fixed by a seed, without a list of them (a million songs
/// shown are a million places): a Feistel network over the smallest even power of two that
/// holds `len`, walked until it lands inside (cycle walking), so both ways are a bijection.
struct Shuffle {
    len: u64,
    /// Bits in each half.
    half: u32,
    seed: u64,
}

impl Shuffle {
    const ROUNDS: u64 = 4;

    fn new(len: usize, seed: u64) -> Self {
        let bits = u64::BITS - (len.max(2) as u64 - 1).leading_zeros();
        Self {
            len: len as u64,
            half: bits.div_ceil(2),
            seed,
        }
    }

    /// The place shown of the `k`th song of the shuffle.
    fn shown(&self, k: usize) -> usize {
        self.walk(k as u64, Self::forward) as usize
    }

    /// Where in the shuffle the song at place `at` comes.
    fn turn(&self, at: usize) -> usize {
        self.walk(at as u64, Self::backward) as usize
    }

    fn walk(&self, mut x: u64, step: fn(&Self, u64) -> u64) -> u64 {
        loop {
            x = step(self, x);
            if x < self.len {
                return x;
            }
        }
    }

    fn mask(&self) -> u64 {
        (1 << self.half) - 1
    }

    fn round(&self, round: u64, half: u64) -> u64 {
        mix(self.seed ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ half) & self.mask()
    }

    fn forward(&self, x: u64) -> u64 {
        let (mut left, mut right) = (x >> self.half, x & self.mask());
        for round in 0..Self::ROUNDS {
            (left, right) = (right, left ^ self.round(round, right));
        }
        (left << self.half) | right
    }

    fn backward(&self, x: u64) -> u64 {
        let (mut left, mut right) = (x >> self.half, x & self.mask());
        for round in (0..Self::ROUNDS).rev() {
            (left, right) = (right ^ self.round(round, left), left);
        }
        (left << self.half) | right
    }
}

/// splitmix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    const PLAIN: Mode = Mode {
        shuffle: None,
        repeat: Repeat::Off,
    };

    #[wasm_bindgen_test]
    fn the_shown_order_and_its_ends() {
        let at = |c: usize, step| following(3, Some(c), PLAIN, step);
        assert_eq!(at(0, Step::Next), Some(1));
        assert_eq!(at(2, Step::Next), Some(0), "the buttons wrap");
        assert_eq!(at(0, Step::Previous), Some(2));
        assert_eq!(at(2, Step::End), None, "the end of the list stops");
        let all = Mode {
            repeat: Repeat::All,
            ..PLAIN
        };
        assert_eq!(following(3, Some(2), all, Step::End), Some(0));
        let one = Mode {
            repeat: Repeat::One,
            ..PLAIN
        };
        assert_eq!(following(3, Some(1), one, Step::End), Some(1));
        assert_eq!(following(3, Some(1), one, Step::Next), Some(2));
        assert_eq!(following(3, None, PLAIN, Step::Next), Some(0));
        assert_eq!(
            following(3, Some(7), PLAIN, Step::Next),
            Some(0),
            "a place gone"
        );
        assert_eq!(following(0, None, PLAIN, Step::End), None);
    }

    #[wasm_bindgen_test]
    fn a_shuffle_visits_every_song_once_and_answers_the_same_every_time() {
        for len in [1, 2, 3, 50, 1000, 4097] {
            let mode = Mode {
                shuffle: Some(7),
                repeat: Repeat::Off,
            };
            let mut seen = vec![following(len, None, mode, Step::Next).expect("first")];
            while let Some(next) = following(len, seen.last().copied(), mode, Step::End) {
                seen.push(next);
                assert!(seen.len() <= len, "ends after every song");
            }
            let mut sorted = seen.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..len).collect::<Vec<_>>(), "each song once");
            if len >= 50 {
                assert_ne!(seen, sorted, "not the shown order");
                let again = following(len, Some(seen[10]), mode, Step::End);
                assert_eq!(again, Some(seen[11]));
                assert_eq!(
                    following(len, Some(seen[11]), mode, Step::Previous),
                    Some(seen[10])
                );
            }
        }
        let big = Mode {
            shuffle: Some(1),
            repeat: Repeat::All,
        };
        let first = following(1_000_000, None, big, Step::Next).expect("a place");
        assert!(first < 1_000_000);
        assert_eq!(
            following(1_000_000, Some(first), big, Step::Previous)
                .map(|p| { following(1_000_000, Some(p), big, Step::Next) }),
            Some(Some(first))
        );
    }
}
