//! What the library shows, at any size: the library in pages fetched as they come into view
//! (`songs <from> <count> <order>`, PROTOCOL.md 5.7), or the best matches of a search run by
//! the server (`search`, 5.8). The page never holds the whole library: at most
//! [`MAX_PAGES`] pages of it.

use std::collections::BTreeMap;
use std::rc::Rc;

use tapedeck_protocol::{Order, SongId, SongInfo, SortKey};

use crate::state::Column;

/// Songs in a page asked for.
pub const PAGE: usize = 100;
/// Pages kept; past it, the page farthest from the one that came last is let go.
pub const MAX_PAGES: usize = 40;
/// Matches a search asks for (the protocol's most).
pub const SEARCH_COUNT: u32 = 1000;

/// A long list fetched by page (the library's songs in one order, its albums, its artists),
/// as far as it has come.
#[derive(Debug, Clone)]
pub struct Listing<T = SongInfo> {
    /// Which library the pages are of (the engine's count of changes and reconnections).
    pub generation: u32,
    /// Items in the list, once a page has said.
    pub total: Option<usize>,
    pub pages: Rc<BTreeMap<usize, Rc<[T]>>>,
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Self {
            generation: 0,
            total: None,
            pages: Rc::default(),
        }
    }
}

/// Two listings are the same when they hold the same pages (compared by address: the app
/// compares its state on every progress tick).
impl<T> PartialEq for Listing<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.generation, self.total) == (other.generation, other.total)
            && Rc::ptr_eq(&self.pages, &other.pages)
    }
}

impl<T: Clone> Listing<T> {
    /// An empty listing of `generation`.
    pub fn new(generation: u32) -> Self {
        Self {
            generation,
            ..Self::default()
        }
    }

    /// The item at place `at`, if it has come.
    pub fn get(&self, at: usize) -> Option<&T> {
        self.pages.get(&(at / PAGE))?.get(at % PAGE)
    }

    /// The pages not yet here that hold `places`; before the first page says how many items
    /// there are, the first.
    pub fn missing(&self, places: impl IntoIterator<Item = usize>) -> Vec<usize> {
        let Some(total) = self.total else {
            return vec![0];
        };
        let mut pages: Vec<usize> = places
            .into_iter()
            .filter(|&at| at < total)
            .map(|at| at / PAGE)
            .filter(|page| !self.pages.contains_key(page))
            .collect();
        pages.sort_unstable();
        pages.dedup();
        pages
    }

    /// Takes in a page of items from `from`, and lets the farthest pages go past
    /// [`MAX_PAGES`]. Pages start at multiples of [`PAGE`]; others are ignored.
    pub fn add(&mut self, from: usize, total: usize, songs: Vec<T>) {
        if from % PAGE != 0 {
            return;
        }
        let index = from / PAGE;
        let mut pages = (*self.pages).clone();
        pages.insert(index, songs.into());
        while pages.len() > MAX_PAGES {
            let farthest = [pages.keys().next(), pages.keys().next_back()]
                .into_iter()
                .flatten()
                .copied()
                .max_by_key(|p| p.abs_diff(index));
            if let Some(farthest) = farthest {
                pages.remove(&farthest);
            }
        }
        self.total = Some(total);
        self.pages = Rc::new(pages);
    }
}

/// The latest search answered.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Results {
    pub query: String,
    /// How many songs match (more than are here when over [`SEARCH_COUNT`]).
    pub total: usize,
    /// The best matches, in the order of the library's columns.
    pub songs: Rc<Vec<SongInfo>>,
}

/// The rows shown: a listing of the library, or search results.
#[derive(Debug, Clone, PartialEq)]
pub enum Rows {
    Library(Listing),
    Found(Rc<Vec<SongInfo>>),
}

impl Rows {
    /// How many rows there are (the library's size once known).
    pub fn len(&self) -> usize {
        match self {
            Self::Library(listing) => listing.total.unwrap_or(0),
            Self::Found(songs) => songs.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The song at place `at`, if it has come.
    pub fn get(&self, at: usize) -> Option<&SongInfo> {
        match self {
            Self::Library(listing) => listing.get(at),
            Self::Found(songs) => songs.get(at),
        }
    }

    /// The place of song `id`, among the songs that have come.
    pub fn position(&self, id: SongId) -> Option<usize> {
        match self {
            Self::Library(listing) => listing.pages.iter().find_map(|(page, songs)| {
                let at = songs.iter().position(|s| s.id == id)?;
                Some(page * PAGE + at)
            }),
            Self::Found(songs) => songs.iter().position(|s| s.id == id),
        }
    }

    /// The pages of the library not yet here that hold `places` (none for search results,
    /// which come whole). Before the first page says how many songs there are, the first.
    pub fn missing(&self, places: impl IntoIterator<Item = usize>) -> Vec<usize> {
        match self {
            Self::Library(listing) => listing.missing(places),
            Self::Found(_) => Vec::new(),
        }
    }
}

/// The server's order for a column of the table.
pub fn order(sort: (Column, bool)) -> Order {
    let key = match sort.0 {
        Column::Title => SortKey::Title,
        Column::Artist => SortKey::Artist,
        Column::Album => SortKey::Album,
        Column::Duration => SortKey::Duration,
        Column::Format => SortKey::Format,
    };
    Order {
        key,
        descending: !sort.1,
    }
}

/// The column and direction of an order; `None` for one no column shows (by name).
pub fn sort_of(order: Order) -> Option<(Column, bool)> {
    let column = match order.key {
        SortKey::Title => Column::Title,
        SortKey::Artist => Column::Artist,
        SortKey::Album => Column::Album,
        SortKey::Duration => Column::Duration,
        SortKey::Format => Column::Format,
        _ => return None,
    };
    Some((column, !order.descending))
}

/// Search results in a column's order (ties kept in the server's ranking).
pub fn sorted(mut songs: Vec<SongInfo>, sort: (Column, bool)) -> Vec<SongInfo> {
    let (column, ascending) = sort;
    songs.sort_by(|a, b| {
        let order = match column {
            Column::Title => a.title.to_lowercase().cmp(&b.title.to_lowercase()),
            Column::Artist => a.artist.to_lowercase().cmp(&b.artist.to_lowercase()),
            Column::Album => a.album.to_lowercase().cmp(&b.album.to_lowercase()),
            Column::Duration => a.duration_ms.cmp(&b.duration_ms),
            Column::Format => a.format.cmp(&b.format),
        };
        if ascending { order } else { order.reverse() }
    });
    songs
}

/// The query as sent: words joined by one space, at most 200 characters (a command line is
/// at most 1,024 octets, and holds no control character); empty when there is nothing to
/// search for.
pub fn query_words(query: &str) -> String {
    let clean: String = query.chars().filter(|c| !c.is_control()).collect();
    let words: Vec<&str> = clean.split_whitespace().collect();
    words.join(" ").chars().take(200).collect()
}
