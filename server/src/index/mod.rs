//! The library index: every song of the music folder with its facts, kept in a store so that
//! ids stay the same across restarts and rescans, and a restart need not read every tag again.
//!
//! The one place that builds a whole [`crate::library::Song`]: a stored row, or a file found on disk with its
//! tags, and the id the store gave it.

pub mod art;
pub(crate) mod scan;
pub(crate) mod tags;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tracing::{debug, info, warn};

use crate::error::LibraryError;
use crate::library::{Library, Songs};
pub use crate::store::StoreError;
use crate::store::{Row, Store};
pub use scan::EXTENSIONS;
pub(crate) use tags::Facts;
#[cfg(test)]
pub(crate) use tags::Gains;

/// A scan records the tags it read this many files at a time (a million at once took a
/// hundred megabytes more, and a scan cut short lost them all).
const BATCH: usize = 10_000;

/// A cold scan logs its progress this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// The index of one music folder.
#[derive(Debug)]
pub struct Index {
    store: Store,
    /// The canonical music folder.
    root: PathBuf,
    /// How the folder is known in the store.
    key: String,
}

impl Index {
    /// Opens the index of `music_dir` kept at `db`, or in memory when `db` is `None`. An index
    /// file that cannot be used (corrupt, of a newer schema, not writable) is left as it is:
    /// the server says why and indexes in memory, so it still serves. Fails only when the
    /// music folder itself cannot be read.
    pub fn open(music_dir: &Path, db: Option<&Path>) -> Result<Self, LibraryError> {
        let root = canonical_dir(music_dir)?;
        let store = match db.map(Store::open).transpose() {
            Ok(Some(store)) => store,
            Ok(None) => in_memory()?,
            Err(err) => {
                warn!(error = %err, "the index is kept in memory until this is fixed (move the \
                       file away to start a new one): ids will not survive a restart");
                in_memory()?
            }
        };
        let key = root.to_string_lossy().into_owned();
        Ok(Self { store, root, key })
    }

    /// Where the index is kept.
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// The canonical music folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The songs as stored, without looking at the disk: what a warm start serves at once.
    pub fn stored(&self) -> Result<Library, StoreError> {
        let mut songs = Songs::default();
        self.store.songs(&self.key, |row| {
            let Row { id, found, facts } = row;
            songs.push(id, &found.name, found.path, found.size, facts);
        })?;
        Ok(Library::from_songs(&self.root, songs))
    }

    /// Compares the store with the disk (name, size, modification time), reads the tags of new
    /// and changed files only, records the differences, and says whether anything changed
    /// ([`Index::stored`] then gives the library as it now is). Tags are recorded every
    /// [`BATCH`] files, so a scan cut short keeps what it read; once `cancel` is set it stops,
    /// and removes nothing.
    pub fn reconcile(&mut self, cancel: &AtomicBool) -> Result<bool, StoreError> {
        let found = scan::walk(&self.root, cancel);
        // A walk cut short is no picture of the disk: nothing is removed for it.
        if cancel.load(Ordering::Relaxed) {
            return Ok(false);
        }
        // The files new or changed since their tags were read, and the songs gone.
        let mut read = Vec::new();
        let mut removed = Vec::new();
        self.store
            .compare(&self.key, &found, |stored, place| match (stored, place) {
                (Some(stored), Some(i)) if found.is(i, &stored) => {}
                (_, Some(i)) => read.push(i),
                (Some(stored), None) => removed.push(stored.name),
                (None, None) => {}
            })?;
        let mut progress = Progress::new(read.len());
        let mut folders = art::Folders::new(&self.root);
        let (mut upserts, mut recorded) = (Vec::new(), 0);
        for file in read.into_iter().filter_map(|i| found.get(i)) {
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            progress.read();
            let path = file.path(&self.root);
            match tags::read(&path, file.size) {
                Ok(mut facts) => {
                    if facts.art.is_none() {
                        facts.art = folders.image_for(&path).map(art::Art::Image);
                    }
                    debug!(song = %file.name, "scanned");
                    upserts.push((file, facts));
                }
                Err(err) => {
                    warn!(song = %file.name, error = %err, "skipping a file that cannot be read");
                    removed.push(file.name);
                }
            }
            if upserts.len() >= BATCH {
                self.store.apply(&self.key, &upserts, &[])?;
                recorded += upserts.len();
                upserts.clear();
            }
        }
        drop(found);
        if cancel.load(Ordering::Relaxed) {
            self.store.apply(&self.key, &upserts, &[])?;
            return Ok(recorded + upserts.len() > 0);
        }
        let changed = recorded + upserts.len() > 0 || !removed.is_empty();
        if changed {
            self.store.apply(&self.key, &upserts, &removed)?;
            info!(
                read = recorded + upserts.len(),
                removed = removed.len(),
                index = %self.path().display(),
                "index updated"
            );
        }
        Ok(changed)
    }
}

/// An index in memory, where a file cannot be used.
fn in_memory() -> Result<Store, LibraryError> {
    Store::in_memory().map_err(|err| LibraryError::Index(err.to_string()))
}

/// The canonical path of the music folder, which must be a readable directory.
fn canonical_dir(dir: &Path) -> Result<PathBuf, LibraryError> {
    let root = dir
        .canonicalize()
        .map_err(|source| LibraryError::Unreadable {
            dir: dir.to_owned(),
            source,
        })?;
    if !root.is_dir() {
        return Err(LibraryError::NotADirectory {
            dir: dir.to_owned(),
        });
    }
    Ok(root)
}

/// Tags read so far in a scan, logged every [`PROGRESS_EVERY`].
struct Progress {
    files: usize,
    read: usize,
    since: Instant,
    last: Instant,
}

impl Progress {
    fn new(files: usize) -> Self {
        let now = Instant::now();
        Self {
            files,
            read: 0,
            since: now,
            last: now,
        }
    }

    fn read(&mut self) {
        self.read += 1;
        if self.last.elapsed() >= PROGRESS_EVERY {
            self.last = Instant::now();
            let rate = self.read as f64 / self.since.elapsed().as_secs_f64().max(1e-3);
            info!(
                read = self.read,
                files = self.files,
                per_second = rate.round(),
                "reading tags"
            );
        }
    }
}
