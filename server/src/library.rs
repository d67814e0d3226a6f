//! The library as served: a snapshot of the index, with the `list` and `info` replies
//! rendered once, when first asked for. A rescan makes a new snapshot; a command uses the one
//! it found.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use tapedeck_protocol::{Found, Order, Reply, SongId, SongList, SongPage, SortKey};

use crate::browse::Browse;
use crate::error::LibraryError;
use crate::index::{EXTENSIONS, Index};
use crate::search::{self, Keys};
pub use crate::song::{Song, Songs};

/// Every song of the music directory, in order of name, each with its stable id.
#[derive(Debug)]
pub struct Library {
    /// The canonical music directory.
    root: PathBuf,
    /// Songs in order of name.
    songs: Songs,
    /// The places in `songs`, in order of id (4 bytes a song, where a map took 36).
    by_id: Box<[u32]>,
    /// The `list` reply, rendered when first asked for.
    list_line: OnceLock<Arc<str>>,
    /// The `info` reply, rendered when first asked for.
    info_line: OnceLock<Arc<str>>,
    /// What search compares, folded when first searched.
    keys: OnceLock<Keys>,
    /// Artists and albums, grouped when first browsed.
    browse: OnceLock<Browse>,
    /// The places of the songs in each order of [`SortKey::ALL`], sorted when first asked
    /// for (the order of names needs none).
    orders: [OnceLock<Box<[u32]>>; SortKey::ALL.len()],
}

impl Library {
    /// Scans `dir` recursively into an index kept in memory (ids from 1 in order of name).
    /// Unreadable files are skipped with a warning; symlinks that lead outside `dir` are not
    /// followed out. Blocking: call it from a blocking context.
    pub fn scan(dir: &Path) -> Result<Self, LibraryError> {
        let mut index = Index::open(dir, None)?;
        let index_error = |err: crate::index::StoreError| LibraryError::Index(err.to_string());
        index
            .reconcile(&AtomicBool::new(false))
            .map_err(index_error)?;
        index.stored().map_err(index_error)?.non_empty(dir)
    }

    /// The library, or [`LibraryError::Empty`] when it has no song.
    pub(crate) fn non_empty(self, dir: &Path) -> Result<Self, LibraryError> {
        if self.songs.is_empty() {
            return Err(LibraryError::Empty {
                dir: dir.to_owned(),
                extensions: EXTENSIONS.join(", "),
            });
        }
        Ok(self)
    }

    /// The library of `songs` of the music directory `root`, given in order of name.
    pub(crate) fn from_songs(root: &Path, mut songs: Songs) -> Self {
        songs.complete();
        let mut by_id: Vec<u32> = (0..search::total(songs.len())).collect();
        by_id.sort_unstable_by_key(|&at| songs.id_at(at as usize));
        Self {
            root: root.to_owned(),
            list_line: OnceLock::new(),
            info_line: OnceLock::new(),
            keys: OnceLock::new(),
            browse: OnceLock::new(),
            orders: Default::default(),
            by_id: by_id.into_boxed_slice(),
            songs,
        }
    }

    /// The song with this id.
    pub fn get(&self, id: SongId) -> Option<Song<'_>> {
        self.place(id).and_then(|at| self.songs.get(at))
    }

    /// Where the song with this id is in [`Self::songs`].
    pub fn place(&self, id: SongId) -> Option<usize> {
        let at = self
            .by_id
            .binary_search_by_key(&Some(id), |&at| self.songs.id_at(at as usize))
            .ok()?;
        self.by_id.get(at).map(|&place| place as usize)
    }

    /// The canonical path of `song`'s file.
    pub fn path_of(&self, song: Song<'_>) -> PathBuf {
        song.own_path()
            .map_or_else(|| self.root.join(song.name()), Path::to_path_buf)
    }

    /// All songs, in order of name.
    pub fn songs(&self) -> &Songs {
        &self.songs
    }

    /// `songs <from> <count> [<order>]`: a bounded page. The first page in an order other
    /// than by name sorts the library (about a second at a million songs, see
    /// [`Self::is_sorted`]): call it off the async threads then.
    pub fn page(&self, from: u32, count: u32, order: Order) -> SongPage {
        let sorted = (order.key != SortKey::Name).then(|| {
            let (i, key) = (order.key as usize, order.key);
            &**self.orders[i].get_or_init(|| search::sorted(&self.songs, self.keys(), key))
        });
        search::page(&self.songs, sorted, order.descending, from, count)
    }

    /// Gets ready, on a thread of its own, what a browser asks first: every song's folded
    /// fields (for search) and the order by title (the page's first order), so the first
    /// visitor after a start or a change does not wait a second for them. A snapshot replaced
    /// meanwhile is let go when the thread ends.
    pub fn prepare(library: &Arc<Self>) {
        let library = Arc::clone(library);
        let spawned = std::thread::Builder::new()
            .name("prepare-library".into())
            .spawn(move || {
                let started = std::time::Instant::now();
                library.keys();
                let folded = started.elapsed();
                let first = Order {
                    key: SortKey::Title,
                    descending: false,
                };
                library.page(0, 0, first);
                tracing::debug!(
                    songs = library.songs.len(),
                    folded_ms = folded.as_millis(),
                    sorted_ms = (started.elapsed() - folded).as_millis(),
                    "library prepared for search and the first page"
                );
            });
        if let Err(err) = spawned {
            tracing::warn!(%err, "cannot prepare the library ahead (it is prepared when asked)");
        }
    }

    /// Whether a page in `order` is answered without sorting first.
    pub fn is_sorted(&self, order: Order) -> bool {
        order.key == SortKey::Name || self.orders[order.key as usize].get().is_some()
    }

    /// `search <count> <query>`: the best matches, bounded. The first search folds every
    /// song's fields (most of a second at a million songs): call it off the async threads.
    pub fn search(&self, query: &str, count: u32) -> Found {
        search::search(&self.songs, self.keys(), query, count)
    }

    /// Every song's fields, folded for search and sorting (when first needed).
    fn keys(&self) -> &Keys {
        self.keys.get_or_init(|| Keys::of(&self.songs))
    }

    /// Artists and albums (`artists`, `albums`, `album`). The first call groups every song
    /// (most of a second at a million songs): call it off the async threads.
    pub fn browse(&self) -> &Browse {
        self.browse.get_or_init(|| Browse::of(&self.songs))
    }

    /// The `list` reply line (without LF). The first call renders it: at a million songs,
    /// 50 MB and most of a second, so call it off the async threads.
    pub fn list_line(&self) -> Arc<str> {
        let render = || {
            let list: SongList = self
                .songs
                .iter()
                .map(|s| (s.name().to_owned(), s.id()))
                .collect();
            Reply::List(list).to_string().into()
        };
        self.list_line.get_or_init(render).clone()
    }

    /// The `info` reply line (without LF), rendered by the first call like [`Self::list_line`].
    pub fn info_line(&self) -> Arc<str> {
        let render = || {
            let infos = self.songs.iter().map(Song::info).collect();
            Reply::Info(infos).to_string().into()
        };
        self.info_line.get_or_init(render).clone()
    }
}
