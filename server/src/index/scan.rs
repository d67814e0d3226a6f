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

/// Every audio file below `root`, sorted by name, following symlinks only where they stay
/// inside `root`, and leaving out hidden files and folders (PROTOCOL.md 6.1). Stops early,
/// with what it has, once `cancel` is set.
pub fn walk(root: &Path, cancel: &AtomicBool) -> Vec<Found> {
    let mut out = Vec::new();
    let walk = WalkDir::new(root).follow_links(true).into_iter();
    for entry in walk.filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name())) {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                warn!(error = %err, "skipping an entry of the music directory");
                continue;
            }
        };
        if !entry.file_type().is_file() || extension(entry.path()).is_none() {
            continue;
        }
        let Some((name, path)) = inside(root, entry.path()) else {
            continue;
        };
        let path = (path != root.join(&name)).then_some(path);
        match entry.metadata() {
            Ok(meta) => out.push(Found {
                name,
                path,
                size: meta.len(),
                mtime_ns: mtime_ns(&meta),
            }),
            Err(err) => warn!(song = %name, error = %err, "skipping a file that cannot be read"),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
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
