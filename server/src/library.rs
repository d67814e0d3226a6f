//! The music library: a recursive scan of the music directory, with each file's tags and audio
//! properties read once at start-up.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tapedeck_protocol::{Reply, SongId, SongInfo, SongList};
use tracing::{debug, warn};
use walkdir::WalkDir;

use crate::error::LibraryError;
use crate::metadata;

/// File extensions (lower case) the scan picks up.
pub const EXTENSIONS: &[&str] = &[
    "mp3", "flac", "ogg", "oga", "opus", "wav", "m4a", "aac", "aif", "aiff",
];

/// One servable song.
#[derive(Debug)]
pub struct Song {
    /// What `info` says about the song.
    pub info: SongInfo,
    /// The canonical path of the file, checked to lie inside the music directory.
    pub path: PathBuf,
    /// The `info <id>` reply, rendered once: the library never changes while it is served.
    pub info_line: Arc<str>,
}

/// Every song of the music directory, with ids from 1 in order of name.
#[derive(Debug)]
pub struct Library {
    /// Songs in id order: song `n` is at index `n - 1`.
    songs: Vec<Song>,
    /// The `list` reply, rendered once.
    list_line: Arc<str>,
    /// The `info` reply, rendered once.
    info_line: Arc<str>,
}

impl Library {
    /// Scans `dir` recursively. Unreadable files are skipped with a warning; symlinks that lead
    /// outside `dir` are not followed out. Blocking: call it from a blocking context.
    pub fn scan(dir: &Path) -> Result<Self, LibraryError> {
        let unreadable = |source| LibraryError::Unreadable {
            dir: dir.to_owned(),
            source,
        };
        let root = dir.canonicalize().map_err(unreadable)?;
        if !root.is_dir() {
            return Err(LibraryError::NotADirectory {
                dir: dir.to_owned(),
            });
        }
        let mut found = candidates(&root);
        found.sort_by(|a, b| a.0.cmp(&b.0));
        let songs: Vec<Song> = found
            .into_iter()
            .filter_map(|(name, path)| read_song(name, path))
            .enumerate()
            .map(|(index, mut song)| {
                song.info.id = SongId(u32::try_from(index + 1).unwrap_or(u32::MAX));
                song.info_line = Reply::Song(song.info.clone()).to_string().into();
                song
            })
            .collect();
        if songs.is_empty() {
            let extensions = EXTENSIONS.join(", ");
            return Err(LibraryError::Empty {
                dir: dir.to_owned(),
                extensions,
            });
        }
        Ok(Self::from_songs(songs))
    }

    fn from_songs(songs: Vec<Song>) -> Self {
        let list: SongList = songs
            .iter()
            .map(|s| (s.info.name.clone(), s.info.id))
            .collect();
        let infos = songs.iter().map(|s| s.info.clone()).collect();
        Self {
            list_line: Reply::List(list).to_string().into(),
            info_line: Reply::Info(infos).to_string().into(),
            songs,
        }
    }

    /// The song with this id.
    pub fn get(&self, id: SongId) -> Option<&Song> {
        let index = usize::try_from(id.0).ok()?.checked_sub(1)?;
        self.songs.get(index)
    }

    /// All songs, in id order.
    pub fn songs(&self) -> &[Song] {
        &self.songs
    }

    /// The `list` reply line (without LF).
    pub fn list_line(&self) -> &Arc<str> {
        &self.list_line
    }

    /// The `info` reply line (without LF).
    pub fn info_line(&self) -> &Arc<str> {
        &self.info_line
    }
}

/// Every audio file below `root` as (name, canonical path), following symlinks only where they
/// stay inside `root`, and leaving out hidden files and folders (PROTOCOL.md 6.1).
fn candidates(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let walk = WalkDir::new(root).follow_links(true).into_iter();
    for entry in walk.filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name())) {
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
        if let Some(found) = inside(root, entry.path()) {
            out.push(found);
        }
    }
    out
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

fn read_song(name: String, path: PathBuf) -> Option<Song> {
    match metadata::read(&name, &path) {
        Ok(info) => {
            debug!(song = %name, "scanned");
            Some(Song {
                info,
                path,
                info_line: Arc::from(""),
            })
        }
        Err(err) => {
            warn!(song = %name, error = %err, "skipping a file that cannot be read");
            None
        }
    }
}
