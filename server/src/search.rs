//! Search and pages over a library snapshot (PROTOCOL.md 5.7, 5.8): bounded replies at any
//! library size.
//!
//! A song matches a query when every word of the query appears in its title, artist, album or
//! name, with case and accents folded ("beyonce" finds "Beyoncé"). Songs are ranked by where
//! each word was found: the start of a word of the title counts most, then the artist, the
//! album and the name; inside a word counts half. Ties keep the order of names.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use memchr::memmem::Finder;

use tapedeck_protocol::{Found, MAX_PAGE_OCTETS, MAX_PAGE_SONGS, SongPage, SortKey};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::library::{Song, Songs};

/// Every song's fields as search compares them: folded, in the order of [`WEIGHTS`], a song's
/// in one stretch of one string for the whole library (one look for a word before any field
/// is looked at, and no allocation a song), parted by a control character no query holds (the
/// command parser refuses them) and no field keeps (it is made a space there).
#[derive(Debug, Default)]
pub struct Keys {
    text: String,
    /// Where each song's stretch starts in `text`.
    starts: Vec<usize>,
}

/// One song's stretch of [`Keys`]: its four fields, each after the first past a
/// [`SEPARATOR`].
#[derive(Debug, Clone, Copy)]
struct Key<'a> {
    text: &'a str,
}

/// Between two fields in [`Keys`].
const SEPARATOR: char = '\u{1f}';

/// What a word found at the start of a word of each field scores (title, artist, album,
/// name); inside a word, half.
const WEIGHTS: [u32; 4] = [8, 6, 4, 2];

impl Keys {
    /// The keys of every song of `songs`, in the same order.
    pub fn of(songs: &Songs) -> Self {
        let mut keys = Self {
            // Folding seldom makes a text longer (Latin script; decomposed Hangul is three
            // times longer, and the string then grows as it goes); three separators a song.
            text: String::with_capacity(songs.text_len() + 3 * songs.len()),
            starts: Vec::with_capacity(songs.len()),
        };
        for song in songs.iter() {
            keys.push(song);
        }
        keys.text.shrink_to_fit();
        keys
    }

    fn push(&mut self, song: Song<'_>) {
        self.starts.push(self.text.len());
        for (at, field) in [song.title(), song.artist(), song.album(), song.name()]
            .into_iter()
            .enumerate()
        {
            if at > 0 {
                self.text.push(SEPARATOR);
            }
            let start = self.text.len();
            fold_into(&mut self.text, field);
            // A separator in a tag (junk) would move the fields after it.
            if self
                .text
                .get(start..)
                .is_some_and(|f| f.contains(SEPARATOR))
            {
                let cleaned = self.text.split_off(start).replace(SEPARATOR, " ");
                self.text.push_str(&cleaned);
            }
        }
    }

    fn len(&self) -> usize {
        self.starts.len()
    }

    /// The keys of the song at `at` (empty past the end).
    fn get(&self, at: usize) -> Key<'_> {
        let start = self.starts.get(at).copied().unwrap_or(self.text.len());
        let end = self.starts.get(at + 1).copied().unwrap_or(self.text.len());
        Key {
            text: self.text.get(start..end).unwrap_or_default(),
        }
    }
}

impl<'a> Key<'a> {
    /// Field `n` (in the order of [`WEIGHTS`]), split off no further than it lies.
    fn field(self, n: usize) -> &'a str {
        self.text.splitn(4, SEPARATOR).nth(n).unwrap_or_default()
    }

    /// The four fields.
    #[cfg(test)]
    fn fields(self) -> [&'a str; 4] {
        [0, 1, 2, 3].map(|n| self.field(n))
    }

    /// The highest score the song can have for the folded query `words`, `None` unless it
    /// matches: each word's first place, twice its field's weight (fields come in the order
    /// of their weights, so no later place of the word weighs more). One look a word, which
    /// stops at its first place.
    fn bound(self, words: &[Finder<'_>]) -> Option<u32> {
        let text = self.text.as_bytes();
        words
            .iter()
            .map(|word| Some(weight(self.field_of(word.find(text)?)) * 2))
            .sum()
    }

    /// The field (in the order of [`WEIGHTS`]) the octet at `at` is in.
    fn field_of(self, at: usize) -> usize {
        let before = self.text.as_bytes().get(..at).unwrap_or_default();
        memchr::memchr_iter(SEPARATOR as u8, before).count()
    }

    /// The score of the song for the folded query `words`, `None` unless it matches: for
    /// each word, the best of its places in one pass over the fields (a place in a field
    /// weighs that field's weight, twice at the start of one of its words).
    fn score(self, words: &[Finder<'_>]) -> Option<u32> {
        let text = self.text;
        let mut sum = 0;
        for word in words {
            let mut best = None;
            // The field of each place, counted on from the last one's.
            let (mut field, mut counted) = (0, 0);
            for at in word.find_iter(text.as_bytes()) {
                let between = text.as_bytes().get(counted..at).unwrap_or_default();
                field += memchr::memchr_iter(SEPARATOR as u8, between).count();
                counted = at;
                // A word found starts where a character does.
                let starts_word = text
                    .get(..at)
                    .and_then(|before| before.chars().next_back())
                    .is_none_or(|c| !c.is_alphanumeric());
                let weight = weight(field);
                let score = if starts_word { weight * 2 } else { weight };
                best = best.max(Some(score));
                if score == WEIGHTS[0] * 2 {
                    break;
                }
            }
            sum += best?;
        }
        Some(sum)
    }
}

/// The weight of a place in field `n` (a separator too many counts as the last field).
fn weight(n: usize) -> u32 {
    WEIGHTS[n.min(WEIGHTS.len() - 1)]
}

/// The folded words of `query`, each ready to be looked for (memchr's vectorized search).
fn words(query: &str) -> Vec<Finder<'static>> {
    fold(query)
        .split_whitespace()
        .map(|word| Finder::new(word).into_owned())
        .collect()
}

/// Lower case without accents: compatibility decomposition, combining marks dropped.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(&mut out, text);
    out
}

/// Appends `text` folded (see [`fold`]) to `out`. ASCII, most of what libraries hold, folds
/// to its lower case alone (nothing to decompose, no mark to drop): a tenth of the time.
fn fold_into(out: &mut String, text: &str) {
    if text.is_ascii() {
        let start = out.len();
        out.push_str(text);
        if let Some(added) = out.get_mut(start..) {
            added.make_ascii_lowercase();
        }
    } else {
        out.extend(folded(text));
    }
}

/// The characters of `text` folded (see [`fold`]).
fn folded(text: &str) -> impl Iterator<Item = char> + '_ {
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
}

/// `songs <from> <count> [<order>]`: songs of `songs` (in name order) from `from` in the
/// order `sorted` gives (the place in `songs` of each song, in ascending order; `None` for
/// the order of names), within the bounds.
pub fn page(
    songs: &Songs,
    sorted: Option<&[u32]>,
    descending: bool,
    from: u32,
    count: u32,
) -> SongPage {
    let n = songs.len();
    let start = usize::try_from(from).unwrap_or(usize::MAX).min(n);
    let at = |i: usize| {
        let i = if descending { n - 1 - i } else { i };
        sorted.map_or(i, |s| s[i] as usize)
    };
    let picked = (start..n).filter_map(|i| songs.get(at(i)));
    let picked = bounded(picked.map(Song::info), count);
    SongPage {
        total: total(n),
        from,
        songs: picked,
    }
}

/// The places in `songs` in ascending order of `key`, ties in order of name (`keys` are the
/// songs' folded fields, in the same order).
pub fn sorted(songs: &Songs, keys: &Keys, key: SortKey) -> Box<[u32]> {
    let mut at: Vec<u32> = (0..total(songs.len())).collect();
    let song = |i: &u32| songs.get(*i as usize);
    let field = |i: &u32, f: usize| keys.get(*i as usize).field(f);
    // A stable sort: ties keep the order of names (and runs already in order, common in a
    // library sorted by name, cost little; an unstable sort with ties broken by place took
    // twice as long at a million songs).
    match key {
        SortKey::Name => {}
        SortKey::Title => at.sort_by(|a, b| field(a, 0).cmp(field(b, 0))),
        SortKey::Artist => at.sort_by(|a, b| field(a, 1).cmp(field(b, 1))),
        SortKey::Album => at.sort_by(|a, b| field(a, 2).cmp(field(b, 2))),
        SortKey::Duration => at.sort_by_key(|i| song(i).map(Song::duration_ms)),
        SortKey::Format => at.sort_by_key(|i| song(i).map(Song::format)),
    }
    at.into_boxed_slice()
}

/// `search <count> <query>`: the best `count` matches, and how many there are.
///
/// A large library is searched in parts, one a core (at most [`MAX_PARTS`]); the best of the
/// parts' best are the best of all, since ties rank by place. Each part is one pass in order
/// of name that keeps the best `count` so far (a heap whose top is the worst kept). A later
/// song with the same score ranks after every earlier one, so a song whose score cannot pass
/// the worst kept (bounded by the first place of each word, one look a word) is only counted,
/// never scored: a query that matches most of a million songs while typing costs little more
/// than one look a word a song.
pub fn search(songs: &Songs, keys: &Keys, query: &str, count: u32) -> Found {
    let words = words(query);
    let keep = usize::try_from(count.min(MAX_PAGE_SONGS)).unwrap_or(usize::MAX);
    let helpers = Helpers::take(parts_for(keys.len()) - 1);
    let (mut best, matched) = in_parts(keys, &words, keep, helpers.0 + 1);
    drop(helpers);
    best.sort_unstable();
    let best = best.iter().take(keep).filter_map(|&(_, at)| songs.get(at));
    let songs = bounded(best.map(Song::info), count);
    Found {
        total: total(matched),
        songs,
    }
}

/// A search is parted only in libraries at least this large (a thread costs tens of
/// microseconds; 65,536 songs take a few milliseconds).
const PARTED_FROM: usize = 1 << 16;
/// A search takes at most this many threads.
const MAX_PARTS: usize = 4;

/// A song kept by a search: its score (reversed, so that the worst is the greatest), and its
/// place.
type Kept = (Reverse<u32>, usize);

/// Threads helping searches, over all searches at once: at most one a core, so a flood of
/// searches adds no more threads than that (each search then runs in one part).
static HELPING: AtomicUsize = AtomicUsize::new(0);

/// Helper threads a search may start, given back when dropped.
struct Helpers(usize);

impl Helpers {
    /// Up to `wanted` helpers, as many as are free.
    fn take(wanted: usize) -> Self {
        let most = cores();
        let (Ok(before) | Err(before)) =
            HELPING.fetch_update(Ordering::AcqRel, Ordering::Acquire, |helping| {
                Some(helping + wanted.min(most.saturating_sub(helping)))
            });
        Self(wanted.min(most.saturating_sub(before)))
    }
}

impl Drop for Helpers {
    fn drop(&mut self) {
        HELPING.fetch_sub(self.0, Ordering::AcqRel);
    }
}

/// The cores this process may use, asked once (std reads the affinity mask and the cgroup's
/// quota from files at every call).
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// How many parts a search of `n` songs is made in: one a core in a large library.
fn parts_for(n: usize) -> usize {
    if n < PARTED_FROM {
        1
    } else {
        cores().clamp(1, MAX_PARTS)
    }
}

/// The best `keep` matches of each of `parts` parts of `keys`, and how many songs match.
fn in_parts(keys: &Keys, words: &[Finder<'_>], keep: usize, parts: usize) -> (Vec<Kept>, usize) {
    let n = keys.len();
    let size = n.div_ceil(parts).max(1);
    let ranges: Vec<_> = (0..n)
        .step_by(size)
        .map(|at| at..n.min(at + size))
        .collect();
    let Some((first, rest)) = ranges.split_first() else {
        return (Vec::new(), 0);
    };
    std::thread::scope(|scope| {
        let spawned: Vec<_> = rest
            .iter()
            .map(|range| {
                let thread = std::thread::Builder::new().name("search".into());
                let part = range.clone();
                (
                    range,
                    thread.spawn_scoped(scope, move || best_of(keys, part, words, keep)),
                )
            })
            .collect();
        let (mut all, mut matched) = best_of(keys, first.clone(), words, keep);
        for (range, thread) in spawned {
            // A thread that could not start, or did not end well: its part here.
            let (best, more) = match thread.map(|t| t.join()) {
                Ok(Ok(found)) => found,
                _ => best_of(keys, range.clone(), words, keep),
            };
            all.extend(best);
            matched += more;
        }
        (all, matched)
    })
}

/// The best `keep` matches among the songs at `range`, and how many match.
fn best_of(
    keys: &Keys,
    range: std::ops::Range<usize>,
    words: &[Finder<'_>],
    keep: usize,
) -> (Vec<Kept>, usize) {
    // Ordered worst first: the lower score, then the later song.
    let mut kept: BinaryHeap<Kept> = BinaryHeap::with_capacity(keep + 1);
    let mut matched = 0;
    for at in range {
        let key = keys.get(at);
        let Some(bound) = key.bound(words) else {
            continue;
        };
        matched += 1;
        let full = kept.len() >= keep;
        let worst = kept.peek().map(|(Reverse(worst), _)| *worst);
        // A later song ranks after an earlier one of the same score: one that cannot score
        // more than the worst kept is only counted.
        if full && worst.is_none_or(|worst| bound <= worst) {
            continue;
        }
        let Some(score) = key.score(words) else {
            continue;
        };
        if !full {
            kept.push((Reverse(score), at));
        } else if worst.is_some_and(|worst| score > worst) {
            kept.pop();
            kept.push((Reverse(score), at));
        }
    }
    (kept.into_vec(), matched)
}

/// At most `count` (and [`MAX_PAGE_SONGS`]) of `items`, stopping before the rendered reply
/// would pass [`MAX_PAGE_OCTETS`]. Items are made (or cloned) only as far as they are taken.
pub fn bounded<T: serde::Serialize>(items: impl Iterator<Item = T>, count: u32) -> Vec<T> {
    /// The reply around the items: numbers, names and the album's title and artist (at
    /// most 1,024 characters each) of the largest reply, `album <id>`.
    const FRAME: usize = 9 * 1024;
    let mut octets = FRAME;
    let mut out = Vec::new();
    for item in items.take(usize::try_from(count.min(MAX_PAGE_SONGS)).unwrap_or(usize::MAX)) {
        // The item, and the comma before it.
        let size = serde_json::to_string(&item).map_or(usize::MAX, |s| s.len()) + 1;
        if octets.saturating_add(size) > MAX_PAGE_OCTETS {
            break;
        }
        octets += size;
        out.push(item);
    }
    out
}

pub fn total(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_accents() {
        assert_eq!(fold("Beyoncé"), "beyonce");
        assert_eq!(fold("MÖTLEY CRÜE"), "motley crue");
        assert_eq!(fold("ﬁve"), "five");
        assert_eq!(
            fold("AC/DC Back In Black 1980.mp3"),
            "ac/dc back in black 1980.mp3"
        );
    }

    proptest::proptest! {
        /// The fast way for ASCII folds as the whole way does.
        #[test]
        fn ascii_folds_as_everything_else(text in "[ -~]{0,40}|\\PC{0,20}") {
            proptest::prop_assert_eq!(fold(&text), folded(&text).collect::<String>());
        }
    }

    use tapedeck_protocol::{Reply, SongId, SongInfo};

    /// `n` songs named in order, each with tags of `chars` characters of `fill`.
    fn infos(n: usize, fill: char, chars: usize) -> Vec<SongInfo> {
        let tag = |i: usize| format!("{i} {}", fill.to_string().repeat(chars));
        (0..n)
            .map(|i| Songs::made_up(i, tag(i), tag(i), tag(i)))
            .collect()
    }

    fn songs(n: usize, fill: char, chars: usize) -> Songs {
        Songs::of_infos(infos(n, fill, chars))
    }

    /// Pages, from the first on, asking for `count` each: every one within the bounds, and all
    /// of them together the library in order, once.
    fn pages_cover(songs: &Songs, count: u32) {
        let mut from = 0u32;
        let mut seen = Vec::new();
        loop {
            let page = page(songs, None, false, from, count);
            let octets = Reply::Page(page.clone()).to_string().len();
            assert!(octets <= MAX_PAGE_OCTETS, "{octets} octets");
            assert!(page.songs.len() <= count.min(MAX_PAGE_SONGS) as usize);
            assert_eq!(page.total as usize, songs.len());
            if page.songs.is_empty() {
                break;
            }
            from += u32::try_from(page.songs.len()).expect("small");
            seen.extend(page.songs.into_iter().map(|s| s.id));
        }
        let all: Vec<SongId> = songs.iter().map(|s| s.id()).collect();
        assert_eq!(seen, all);
    }

    #[test]
    fn pages_stay_within_their_bounds_at_any_size() {
        for n in [0, 1, 999, 1000, 1001, 2500] {
            for count in [1, 7, 1000, u32::MAX] {
                pages_cover(&songs(n, 'a', 10), count);
            }
        }
        // Songs of three 1,024-character tags of four-octet characters (12 KiB each): pages
        // stop at the octet bound long before 1,000 songs.
        let big = songs(300, '𝄞', 1024);
        let first = page(&big, None, false, 0, 1000);
        assert!(first.songs.len() < 100, "{} songs", first.songs.len());
        pages_cover(&big, 1000);
    }

    #[test]
    fn search_folds_ranks_counts_and_stays_within_bounds() {
        let mut library = infos(3, 'x', 1);
        library[0].title = "Crazy in Love".into();
        library[0].artist = "Beyoncé".into();
        library[1].album = "Lovesongs".into();
        library[2].title = "Love Drive".into();
        let library = Songs::of_infos(library);
        let keys = Keys::of(&library);
        let found = search(&library, &keys, "LOVE", 10);
        assert_eq!(found.total, 3);
        let ids: Vec<u32> = found.songs.iter().map(|s| s.id.0).collect();
        // The start of a title word, twice (the earlier name first), then an album's.
        assert_eq!(ids, [1, 3, 2]);
        let found = search(&library, &keys, "beyonce love", 10);
        assert_eq!(found.songs.iter().map(|s| s.id.0).collect::<Vec<_>>(), [1]);
        assert_eq!(search(&library, &keys, "love nothing", 10).total, 0);
        let one = search(&library, &keys, "love", 1);
        assert_eq!((one.total, one.songs.len()), (3, 1));
        let big = songs(3000, '𝄞', 1024);
        let keys = Keys::of(&big);
        let found = search(&big, &keys, "𝄞", u32::MAX);
        assert_eq!(found.total, 3000);
        assert!(Reply::Found(found).to_string().len() <= MAX_PAGE_OCTETS);
    }

    #[test]
    fn pages_in_every_order() {
        let mut library = infos(4, 'x', 1);
        for (song, (title, ms, format)) in library.iter_mut().zip([
            ("b", 30, "ogg"),
            ("É", 10, "mp3"),
            ("a", 20, "flac"),
            ("e", 10, "mp3"),
        ]) {
            song.title = title.into();
            song.duration_ms = ms;
            song.format = format.into();
        }
        let library = Songs::of_infos(library);
        let keys = Keys::of(&library);
        let ids = |key, descending| {
            let sorted = sorted(&library, &keys, key);
            let page = page(&library, Some(&sorted), descending, 1, 10);
            page.songs.iter().map(|s| s.id.0).collect::<Vec<_>>()
        };
        // From the second on; folded titles (É is e), ties by name.
        assert_eq!(ids(SortKey::Title, false), [1, 2, 4]);
        assert_eq!(ids(SortKey::Title, true), [2, 1, 3]);
        assert_eq!(ids(SortKey::Duration, false), [4, 3, 1]);
        assert_eq!(ids(SortKey::Format, false), [2, 4, 1]);
        assert_eq!(ids(SortKey::Name, true), [3, 2, 1]);
    }

    /// The one pass that stops scoring once it cannot do better gives what scoring every
    /// match and sorting them all gives.
    #[test]
    fn the_best_kept_are_the_best_of_all() {
        let vocabulary = ["love", "lovely", "glove", "drive", "night", "over"];
        let mut library = infos(3000, 'x', 1);
        for (i, song) in library.iter_mut().enumerate() {
            let pick = |k: usize| vocabulary[(i * 7 + k * 13 + i / 11) % vocabulary.len()];
            song.title = format!("{} {}", pick(0), pick(1));
            song.artist = pick(2).into();
            song.album = format!("{}{}", pick(3), pick(4));
        }
        let library = Songs::of_infos(library);
        let keys = Keys::of(&library);
        for query in ["love", "ove", "love night", "o", "glove over", "x"] {
            for count in [0, 1, 10, 1000] {
                let folded = words(query);
                for at in 0..keys.len() {
                    let (bound, score) = (keys.get(at).bound(&folded), keys.get(at).score(&folded));
                    assert_eq!(bound.is_some(), score.is_some(), "{query}: matches alike");
                    assert!(bound >= score, "{query}: the bound is never passed");
                }
                let mut all: Vec<(u32, usize)> = (0..keys.len())
                    .filter_map(|at| Some((keys.get(at).score(&folded)?, at)))
                    .collect();
                all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                let want: Vec<SongId> = all
                    .iter()
                    .take(count as usize)
                    .filter_map(|&(_, at)| library.id_at(at))
                    .collect();
                let found = search(&library, &keys, query, count);
                let got: Vec<SongId> = found.songs.iter().map(|s| s.id).collect();
                assert_eq!(got, want, "{query} {count}");
                assert_eq!(found.total as usize, all.len());
                // In parts, as a large library is searched: the same.
                for parts in [2, 3, 7] {
                    let (mut best, matched) = in_parts(&keys, &folded, count as usize, parts);
                    best.sort_unstable();
                    let got: Vec<SongId> = best
                        .iter()
                        .take(count as usize)
                        .filter_map(|&(_, at)| library.id_at(at))
                        .collect();
                    assert_eq!((got, matched), (want.clone(), all.len()), "{query} {parts}");
                }
            }
        }
    }

    proptest::proptest! {
        /// Any query on any texts: the count is every song whose folded fields hold every
        /// folded word, the songs found are among them, and parts change nothing.
        #[test]
        fn search_finds_what_a_plain_look_finds(
            texts in proptest::collection::vec(
                ("[aAéÉbB \u{1f}]{0,6}", "[aAéÉbB ]{0,6}", "[aAéÉbB]{0,4}"),
                0..30,
            ),
            query in "[aAéÉbB \u{1f}\u{301}]{0,6}",
            count in 0u32..5,
        ) {
            let infos = texts.iter().enumerate().map(|(i, (title, artist, album))| {
                Songs::made_up(i, title.clone(), artist.clone(), album.clone())
            });
            let library = Songs::of_infos(infos);
            let keys = Keys::of(&library);
            let found = search(&library, &keys, &query, count);
            let folded_words: Vec<String> =
                fold(&query).split_whitespace().map(str::to_owned).collect();
            let plain: Vec<SongId> = library
                .iter()
                .filter(|song| {
                    let fields = [song.title(), song.artist(), song.album(), song.name()]
                        .map(|f| fold(f).replace('\u{1f}', " "))
                        .join("\u{1f}");
                    folded_words.iter().all(|w| fields.contains(w.as_str()))
                })
                .map(Song::id)
                .collect();
            proptest::prop_assert_eq!(found.total as usize, plain.len());
            proptest::prop_assert_eq!(found.songs.len(), plain.len().min(count as usize));
            for song in &found.songs {
                proptest::prop_assert!(plain.contains(&song.id));
            }
            let words = words(&query);
            let (mut one, n) = in_parts(&keys, &words, count as usize, 1);
            let (mut three, m) = in_parts(&keys, &words, count as usize, 3);
            one.sort_unstable();
            three.sort_unstable();
            one.truncate(count as usize);
            three.truncate(count as usize);
            proptest::prop_assert_eq!((one, n), (three, m));
        }
    }

    /// Searches at once never take more helper threads than there are cores, and give them
    /// back (no other test takes any: their libraries are small).
    #[test]
    fn helpers_are_bounded_by_the_cores() {
        let cores = cores();
        let first = Helpers::take(cores + 5);
        assert_eq!(first.0, cores);
        assert_eq!(
            Helpers::take(3).0,
            0,
            "none left while the first search runs"
        );
        drop(first);
        let again = Helpers::take(1);
        assert_eq!(again.0, 1.min(cores));
        drop(again);
        assert_eq!(HELPING.load(Ordering::Acquire), 0);
    }

    /// The keys of a library of one song with this title and artist.
    fn one_song(title: &str, artist: &str) -> Keys {
        let mut library = infos(1, 'x', 1);
        library[0].title = title.into();
        library[0].artist = artist.into();
        Keys::of(&Songs::of_infos(library))
    }

    /// A separator in a tag is made a space: the fields after it stay where they are.
    #[test]
    fn a_separator_in_a_tag_moves_no_field() {
        let keys = one_song("Night\u{1f}Drive", "Over");
        let key = keys.get(0);
        assert_eq!(key.fields()[..2], ["night drive", "over"]);
        assert_eq!(key.score(&words("drive")), Some(16));
        assert_eq!(key.score(&words("over")), Some(12));
    }

    #[test]
    fn scores_words_and_parts_of_words_by_field() {
        let keys = one_song("Night Drive", "Overdrive");
        let keys = keys.get(0);
        let score = |query: &str| keys.score(&words(query));
        assert_eq!(score("dri"), Some(16), "the start of a word of the title");
        assert_eq!(score("rive"), Some(8), "inside a word of the title");
        assert_eq!(score("over"), Some(12), "the start of the artist");
        assert_eq!(score("verd"), Some(6), "inside the artist");
        assert_eq!(score("night over"), Some(28));
        assert_eq!(score("night under"), None, "every word must be found");
    }
}
