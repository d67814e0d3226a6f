//! The library as served: a snapshot of the index with the `list` and `info` replies rendered
//! once. A rescan makes a new snapshot; a command uses the one it found.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tapedeck_protocol::{Reply, SongId, SongInfo, SongList};

use crate::error::LibraryError;
use crate::index::{EXTENSIONS, Index};

/// One servable song.
#[derive(Debug)]
pub struct Song {
    /// What `info` says about the song.
    pub info: SongInfo,
    /// The canonical path of the file, checked to lie inside the music directory.
    pub path: PathBuf,
    /// The `info <id>` reply, rendered once.
    pub info_line: Arc<str>,
}

impl Song {
    /// A whole song: its id, name, file, size and what its tags say.
    pub(crate) fn new(
        id: SongId,
        name: String,
        path: PathBuf,
        size: u64,
        facts: crate::index::Facts,
    ) -> Self {
        let info = SongInfo {
            id,
            name,
            title: facts.title,
            artist: facts.artist,
            album: facts.album,
            duration_ms: facts.duration_ms,
            format: facts.format,
            sample_rate: facts.sample_rate,
            channels: facts.channels,
            bitrate: facts.bitrate,
            size,
        };
        let info_line = Reply::Song(info.clone()).to_string().into();
        Self {
            info,
            path,
            info_line,
        }
    }
}

/// Every song of the music directory, in order of name, each with its stable id.
#[derive(Debug)]
pub struct Library {
    /// Songs in order of name.
    songs: Vec<Song>,
    /// Where each id is in `songs`.
    by_id: HashMap<SongId, usize>,
    /// The `list` reply, rendered once.
    list_line: Arc<str>,
    /// The `info` reply, rendered once.
    info_line: Arc<str>,
}

impl Library {
    /// Scans `dir` recursively into an index kept in memory (ids from 1 in order of name).
    /// Unreadable files are skipped with a warning; symlinks that lead outside `dir` are not
    /// followed out. Blocking: call it from a blocking context.
    pub fn scan(dir: &Path) -> Result<Self, LibraryError> {
        let mut index = Index::open(dir, None)?;
        let (library, _) = index
            .reconcile(&AtomicBool::new(false))
            .map_err(|err| LibraryError::Index(err.to_string()))?;
        library.non_empty(dir)
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

    /// The library of `songs`, given in order of name.
    pub(crate) fn from_songs(songs: Vec<Song>) -> Self {
        let list: SongList = songs
            .iter()
            .map(|s| (s.info.name.clone(), s.info.id))
            .collect();
        let infos = songs.iter().map(|s| s.info.clone()).collect();
        let by_id = songs
            .iter()
            .enumerate()
            .map(|(at, s)| (s.info.id, at))
            .collect();
        Self {
            list_line: Reply::List(list).to_string().into(),
            info_line: Reply::Info(infos).to_string().into(),
            by_id,
            songs,
        }
    }

    /// The song with this id.
    pub fn get(&self, id: SongId) -> Option<&Song> {
        self.by_id.get(&id).and_then(|&at| self.songs.get(at))
    }

    /// All songs, in order of name.
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
