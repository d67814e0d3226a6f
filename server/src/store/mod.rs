//! Where the server keeps its state: one SQLite file (rusqlite, SQLite compiled in) holding
//! the library index (`songs.rs`) and the accounts (`accounts.rs`). Everything SQL is in
//! this module, so another engine could stand behind the same functions.
//!
//! The schema is versioned with `PRAGMA user_version`: each entry of [`MIGRATIONS`] takes a
//! database from the version before it to its own, in a transaction. A database from an
//! older version is upgraded in place; one from a newer version is not touched.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

mod accounts;
mod songs;

pub use accounts::User;
pub use songs::Row;

/// The schema, one step per version (version `n` is after `MIGRATIONS[n - 1]`).
/// `AUTOINCREMENT` keeps an id from ever being given again once its song is removed.
const MIGRATIONS: &[&str] = &[V1, V2, V3, accounts::V4];

/// Version 1: one table of songs, each row naming its music folder.
const V1: &str = "
    CREATE TABLE songs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        root        TEXT    NOT NULL,
        name        TEXT    NOT NULL,
        file        TEXT    NOT NULL,
        size        INTEGER NOT NULL,
        mtime_ns    INTEGER NOT NULL,
        title       TEXT    NOT NULL,
        artist      TEXT    NOT NULL,
        album       TEXT    NOT NULL,
        duration_ms INTEGER NOT NULL,
        format      TEXT    NOT NULL,
        sample_rate INTEGER NOT NULL,
        channels    INTEGER NOT NULL,
        bitrate     INTEGER NOT NULL,
        UNIQUE (root, name)
    );
";

/// Version 2: music folders in a table of their own (a row held the folder's path: a third
/// of the index at a million songs). Every id, and the highest id ever given, is kept.
const V2: &str = "
    CREATE TABLE roots (
        id   INTEGER PRIMARY KEY,
        path TEXT    NOT NULL UNIQUE
    );
    INSERT INTO roots (path) SELECT DISTINCT root FROM songs ORDER BY root;
    CREATE TABLE songs_v2 (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        root        INTEGER NOT NULL REFERENCES roots (id),
        name        TEXT    NOT NULL,
        file        TEXT    NOT NULL,
        size        INTEGER NOT NULL,
        mtime_ns    INTEGER NOT NULL,
        title       TEXT    NOT NULL,
        artist      TEXT    NOT NULL,
        album       TEXT    NOT NULL,
        duration_ms INTEGER NOT NULL,
        format      TEXT    NOT NULL,
        sample_rate INTEGER NOT NULL,
        channels    INTEGER NOT NULL,
        bitrate     INTEGER NOT NULL,
        UNIQUE (root, name)
    );
    INSERT INTO songs_v2 (id, root, name, file, size, mtime_ns, title, artist, album,
                          duration_ms, format, sample_rate, channels, bitrate)
        SELECT s.id, r.id, s.name, s.file, s.size, s.mtime_ns, s.title, s.artist, s.album,
               s.duration_ms, s.format, s.sample_rate, s.channels, s.bitrate
        FROM songs s JOIN roots r ON r.path = s.root;
    DELETE FROM sqlite_sequence WHERE name = 'songs_v2';
    INSERT INTO sqlite_sequence (name, seq)
        SELECT 'songs_v2', seq FROM sqlite_sequence WHERE name = 'songs';
    DROP TABLE songs;
    ALTER TABLE songs_v2 RENAME TO songs;
";

/// Version 3: ReplayGain, and where cover art is (`embedded`, an image's path, or NULL). The tags of every song are read again at the next comparison with
/// the disk (they were read before ReplayGain was kept); ids stay.
const V3: &str = "
    ALTER TABLE songs ADD COLUMN track_gain_db REAL;
    ALTER TABLE songs ADD COLUMN track_peak    REAL;
    ALTER TABLE songs ADD COLUMN album_gain_db REAL;
    ALTER TABLE songs ADD COLUMN album_peak    REAL;
    ALTER TABLE songs ADD COLUMN art           TEXT;
    UPDATE songs SET mtime_ns = -1;
";

/// How long a write waits for another process holding the database (a second server on
/// another music folder) before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the index could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the folder of the index {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the index {path} is of schema version {found}, newer than this server's {known}: \
         it is left as it is"
    )]
    Newer {
        path: PathBuf,
        found: i64,
        known: usize,
    },
    #[error("the index {path} cannot be used: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the index holds an id beyond the protocol's range: {0}")]
    IdOutOfRange(i64),
}

/// An open index.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    /// Where it lives, for error messages (`:memory:` when it is not kept).
    path: PathBuf,
}

impl Store {
    /// Opens (creating if need be) the index at `path`, upgraded to the current schema. A new
    /// file is readable by its owner only.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|source| StoreError::Folder {
                path: folder.to_owned(),
                source,
            })?;
        }

        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(sqlite(path))?;
        // Every time, not only when new: an index made before accounts existed may have been
        // readable by others, and it is about to hold password hashes.
        owner_only(path);
        let mut store = Self {
            conn,
            path: path.to_owned(),
        };
        store.prepare()?;
        Ok(store)
    }

    /// An index kept in memory only: gone when the server stops.
    pub fn in_memory() -> Result<Self, StoreError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(sqlite(&path))?;
        let mut store = Self { conn, path };
        store.prepare()?;
        Ok(store)
    }

    /// Where the index lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn prepare(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        self.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(sqlite(&path))?;
        // Write-ahead logging: readers never wait for the writer. (An in-memory database
        // answers "memory"; that is fine.)
        self.conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
            .map_err(sqlite(&path))?;
        self.migrate()
    }

    /// Brings the schema to the current version, one migration per transaction.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(sqlite(&path))?;
        let known = MIGRATIONS.len();
        let done = usize::try_from(version).unwrap_or(usize::MAX);
        if done > known {
            return Err(StoreError::Newer {
                path,
                found: version,
                known,
            });
        }
        for (step, sql) in MIGRATIONS.iter().enumerate().skip(done) {
            let tx = self.conn.transaction().map_err(sqlite(&path))?;
            tx.execute_batch(sql).map_err(sqlite(&path))?;
            tx.pragma_update(
                None,
                "user_version",
                i64::try_from(step + 1).unwrap_or(i64::MAX),
            )
            .map_err(sqlite(&path))?;
            tx.commit().map_err(sqlite(&path))?;
        }
        Ok(())
    }
}

/// SQLite integers are signed: sizes and durations are stored as such.
pub(crate) fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A stored size or duration (never negative unless the file was edited by hand: then 0).
pub(crate) fn unsigned(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

pub(crate) fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Sqlite {
        path: path.to_owned(),
        source,
    }
}

/// Makes the database file, and its write-ahead log and shared memory if they exist,
/// readable and writable by their owner only: it holds accounts. (SQLite makes a new log
/// with the file's permissions.) A file of another owner is left as it is.
fn owner_only(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let file = std::path::PathBuf::from(file);
            if file.exists() {
                let _ = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
