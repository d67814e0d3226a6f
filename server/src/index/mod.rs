//! The library index: every song of the music folder with its facts, kept in a store so that
//! ids stay the same across restarts and rescans, and a restart need not read every tag again.
//!
//! The one place that builds a whole [`crate::library::Song`]: a stored row, or a file found
//! on disk with its tags, and the id the store gave it.

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
    /// ([`Index::stored`] then gives the library as it now is).
    ///
    /// Each file walked is looked up in the store and let go unless it is new or changed:
    /// what a comparison holds grows with the changes, not with the library. The files to
    /// read are read in order of name, so that new songs get their ids in that order
    /// (PROTOCOL.md 5.1), and recorded every [`BATCH`] files, so a scan cut short keeps what
    /// it read. Once `cancel` is set it stops, and removes nothing.
    pub fn reconcile(&mut self, cancel: &AtomicBool) -> Result<bool, StoreError> {
        // The ids of the stored songs whose files are still there.
        let mut seen = Vec::new();
        let mut unread = scan::Files::default();
        for file in scan::files(&self.root, cancel) {
            let stored = self.store.file(&self.key, &file.name)?;
            if let Some((id, _)) = &stored {
                seen.push(id.0);
            }
            if stored.is_none_or(|(_, known)| known != file) {
                unread.push(file);
            }
        }
        // A walk cut short is no picture of the disk: nothing is removed for it.
        if cancel.load(Ordering::Relaxed) {
            return Ok(false);
        }
        // The songs whose files are gone, named before new ones are stored (their ids would
        // not be among those seen), removed once the new files are recorded.
        seen.sort_unstable();
        let mut removed = self
            .store
            .names_but(&self.key, |id| seen.binary_search(&id.0).is_ok())?;
        drop(seen);
        unread.sort();
        let (recorded, unreadable) = self.read(&unread, cancel)?;
        drop(unread);
        if cancel.load(Ordering::Relaxed) {
            return Ok(recorded > 0);
        }
        // A file that cannot be read is no song: gone from the index if it was there (a file
        // that never was changes nothing, or every rescan would tell of a change).
        for name in unreadable {
            if self.store.file(&self.key, &name)?.is_some() {
                removed.push(name);
            }
        }
        if !removed.is_empty() {
            self.store.apply(&self.key, &[], &removed)?;
        }
        let changed = recorded > 0 || !removed.is_empty();
        if changed {
            info!(
                read = recorded,
                removed = removed.len(),
                index = %self.path().display(),
                "index updated"
            );
        }
        Ok(changed)
    }

    /// Reads the tags of `files` (in order), records them every [`BATCH`] files, and says how
    /// many it recorded and which files could not be read (they are no songs).
    fn read(
        &mut self,
        files: &scan::Files,
        cancel: &AtomicBool,
    ) -> Result<(usize, Vec<String>), StoreError> {
        let mut progress = Progress::new(files.len());
        let mut folders = art::Folders::new(&self.root);
        let (mut upserts, mut recorded, mut unreadable) = (Vec::new(), 0, Vec::new());
        for file in files.iter() {
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
                    unreadable.push(file.name);
                }
            }
            if upserts.len() >= BATCH {
                self.store.apply(&self.key, &upserts, &[])?;
                recorded += upserts.len();
                upserts.clear();
            }
        }
        // Nothing to record takes no write lock (another process may hold it).
        if !upserts.is_empty() {
            self.store.apply(&self.key, &upserts, &[])?;
        }
        Ok((recorded + upserts.len(), unreadable))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Songs are numbered in the order of their names, a file that cannot be read changes
    /// nothing at the next comparison, and one that leaves is swept.
    #[test]
    fn a_comparison_numbers_by_name_and_changes_only_what_changed() {
        let dir = tempfile::tempdir().expect("dir");
        let music = Path::new(env!("CARGO_MANIFEST_DIR")).join("../music");
        let names = ["b/2.flac", "a b/1.mp3", "a/3.ogg", "a.wav"];
        let sources = [
            "02 Night Drive.flac",
            "01 Morning Tape.mp3",
            "03 Paper Boats.ogg",
        ];
        for (name, source) in names
            .iter()
            .zip(sources.iter().chain(["04 Small Hours.wav"].iter()))
        {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
            std::fs::copy(music.join(source), path).expect("copied");
        }
        std::fs::write(dir.path().join("broken.mp3"), b"not audio at all").expect("broken");
        let mut index = Index::open(dir.path(), None).expect("opened");
        let never = AtomicBool::new(false);
        assert!(
            index.reconcile(&never).expect("compared"),
            "a first scan changes"
        );
        let library = index.stored().expect("stored");
        let numbered: Vec<(u32, &str)> = library
            .songs()
            .iter()
            .map(|s| (s.id().0, s.name()))
            .collect();
        assert_eq!(
            numbered,
            [
                (1, "a b/1.mp3"),
                (2, "a.wav"),
                (3, "a/3.ogg"),
                (4, "b/2.flac")
            ],
            "ids in the byte order of names"
        );
        assert!(
            !index.reconcile(&never).expect("compared"),
            "nothing changed"
        );
        std::fs::remove_file(dir.path().join("a.wav")).expect("removed");
        assert!(index.reconcile(&never).expect("compared"));
        let library = index.stored().expect("stored");
        let ids: Vec<u32> = library.songs().iter().map(|s| s.id().0).collect();
        assert_eq!(ids, [1, 3, 4]);
    }
}
