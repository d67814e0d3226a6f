//! The walk of the music folder: which files are songs (PROTOCOL.md 6.1), under which names.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::warn;
use walkdir::WalkDir;

/// File extensions (lower case) the scan picks up.
pub const EXTENSIONS: &[&str] = &[
    "mp3", "flac", "ogg", "oga", "opus", "wav", "m4a", "aac", "aif", "aiff",
];

/// A file the walk found: a song if its tags can be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The song's name: its path below the music folder, `/`-separated (PROTOCOL.md 6.1).
    pub name: String,
    /// The canonical path of the file (checked to lie inside the music folder) when it is not
    /// the music folder joined with the name (a link was followed): most files need none,
    /// which is a hundred megabytes less at a million songs.
    pub path: Option<PathBuf>,
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch (0 where the system has none).
    pub mtime_ns: i64,
}

impl Found {
    /// The canonical path of the file in the music folder `root`.
    pub fn path(&self, root: &Path) -> PathBuf {
        self.path.clone().unwrap_or_else(|| root.join(&self.name))
    }
}

/// Files to read, put in order of name, in a few large allocations: a million names in one
/// string, not a million strings, so that nothing is left for the allocator to keep once a
/// cold scan lets them go (about 50 MB at a million songs, BENCHMARKS.md).
#[derive(Debug, Default)]
pub struct Files {
    /// The names, in the order they were pushed.
    names: String,
    /// In order of name once sorted.
    entries: Vec<Entry>,
    /// The paths of the files that are not the folder joined with their name.
    paths: Vec<Box<Path>>,
}

/// One file of [`Files`].
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Where its name starts in `names`, and its length.
    start: usize,
    len: u32,
    /// Its place in `paths`, or [`NO_PATH`].
    path: u32,
    size: u64,
    mtime_ns: i64,
}

/// [`Entry::path`] of a file that is the folder joined with its name.
const NO_PATH: u32 = u32::MAX;

impl Files {
    pub fn push(&mut self, file: Found) {
        let path = file.path.map_or(NO_PATH, |path| {
            self.paths.push(path.into_boxed_path());
            u32::try_from(self.paths.len() - 1).unwrap_or(NO_PATH)
        });
        self.entries.push(Entry {
            start: self.names.len(),
            len: u32::try_from(file.name.len()).unwrap_or(u32::MAX),
            path,
            size: file.size,
            mtime_ns: file.mtime_ns,
        });
        self.names.push_str(&file.name);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    fn name_of(&self, entry: &Entry) -> &str {
        let end = entry.start.saturating_add(entry.len as usize);
        self.names.get(entry.start..end).unwrap_or_default()
    }

    fn own_path(&self, entry: &Entry) -> Option<&Path> {
        self.paths.get(entry.path as usize).map(|path| &**path)
    }

    /// The file at `at`.
    pub fn get(&self, at: usize) -> Option<Found> {
        let entry = self.entries.get(at)?;
        Some(Found {
            name: self.name_of(entry).to_owned(),
            path: self.own_path(entry).map(Path::to_path_buf),
            size: entry.size,
            mtime_ns: entry.mtime_ns,
        })
    }

    /// The files, in their order.
    pub fn iter(&self) -> impl Iterator<Item = Found> + '_ {
        (0..self.len()).filter_map(|at| self.get(at))
    }

    /// Puts the files in order of name (in place: names are unique, and nothing is copied).
    pub fn sort(&mut self) {
        let mut entries = std::mem::take(&mut self.entries);
        entries.sort_unstable_by(|a, b| self.name_of(a).cmp(self.name_of(b)));
        self.entries = entries;
    }
}

/// Where the file `file` (a canonical path) of the song `name` is, as [`Found::path`] keeps
/// it: nothing when it is `root` joined with `name`.
pub fn own_path(root: &Path, name: &str, file: &str) -> Option<PathBuf> {
    // A folder whose path is not UTF-8 was stored lossily: its songs are found by name.
    let root = root.to_str()?;
    let plain = file
        .strip_prefix(root)
        .and_then(|rest| rest.strip_prefix('/'))
        == Some(name);
    (!plain).then(|| PathBuf::from(file))
}

/// Every audio file below `root`, one at a time in the order the folders list them (nothing
/// is collected), following symlinks only where they stay inside `root`, and leaving out
/// hidden files and folders (PROTOCOL.md 6.1). Ends early once `cancel` is set.
pub fn files<'a>(root: &'a Path, cancel: &'a AtomicBool) -> impl Iterator<Item = Found> + 'a {
    WalkDir::new(root)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()))
        .take_while(move |_| !cancel.load(Ordering::Relaxed))
        .filter_map(move |entry| found(root, entry))
}

/// The file an entry of the walk is, if it is a song's.
fn found(root: &Path, entry: walkdir::Result<walkdir::DirEntry>) -> Option<Found> {
    let entry = match entry {
        Ok(entry) => entry,
        Err(err) => {
            warn!(error = %err, "skipping an entry of the music directory");
            return None;
        }
    };
    if !entry.file_type().is_file() || extension(entry.path()).is_none() {
        return None;
    }
    let (name, path) = inside(root, entry.path())?;
    let path = (path != root.join(&name)).then_some(path);
    match entry.metadata() {
        Ok(meta) => Some(Found {
            name,
            path,
            size: meta.len(),
            mtime_ns: mtime_ns(&meta),
        }),
        Err(err) => {
            warn!(song = %name, error = %err, "skipping a file that cannot be read");
            None
        }
    }
}

fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Whether a file or folder is hidden: its name begins with a dot (`.Trash`, macOS's `._x.mp3`
/// resource forks, `.sync` folders).
fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

/// The song name and canonical path of `path`, if it really lies inside `root` and its name is
/// valid UTF-8.
fn inside(root: &Path, path: &Path) -> Option<(String, PathBuf)> {
    let real = path.canonicalize().ok()?;
    let Ok(relative) = real.strip_prefix(root) else {
        warn!(path = %path.display(), "skipping a link that leads outside the music directory");
        return None;
    };
    let display = path.strip_prefix(root).unwrap_or(relative);
    let parts: Option<Vec<&str>> = display
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect();
    let Some(parts) = parts else {
        warn!(path = %path.display(), "skipping a file whose name is not valid UTF-8");
        return None;
    };
    Some((parts.join("/"), real))
}

/// The lower-case extension of `path`, if it is one the scan serves.
pub fn extension(path: &Path) -> Option<String> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    EXTENSIONS.contains(&ext.as_str()).then_some(ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Files sort by the octets of their names (the order in which new songs are numbered,
    /// PROTOCOL.md 5.1), each keeping its own facts and path.
    #[test]
    fn files_sort_by_octets_and_keep_their_facts() {
        let mut files = Files::default();
        let linked = PathBuf::from("/elsewhere/b.mp3");
        for (at, name) in ["é.mp3", "a/b.mp3", "a b/c.mp3", "B.mp3", "a.mp3"]
            .into_iter()
            .enumerate()
        {
            let path = (name == "a/b.mp3").then(|| linked.clone());
            files.push(Found {
                name: name.into(),
                path,
                size: at as u64,
                mtime_ns: -(at as i64),
            });
        }
        files.sort();
        let names: Vec<String> = (0..files.len())
            .filter_map(|at| files.get(at).map(|f| f.name))
            .collect();
        assert_eq!(names, ["B.mp3", "a b/c.mp3", "a.mp3", "a/b.mp3", "é.mp3"]);
        let linked_file = files.get(3).expect("a file");
        assert_eq!((linked_file.size, linked_file.mtime_ns), (1, -1));
        assert_eq!(linked_file.path.as_deref(), Some(linked.as_path()));
        assert_eq!(files.get(4).map(|f| (f.size, f.path)), Some((0, None)));
        assert!(files.get(5).is_none());
    }
}
