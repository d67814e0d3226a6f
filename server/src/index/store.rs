//! Where the index is kept: one SQLite file (rusqlite, SQLite compiled in). Everything SQL is
//! in this file, so another engine could stand behind the same functions.
//!
//! The schema is versioned with `PRAGMA user_version`: each entry of [`MIGRATIONS`] takes a
//! database from the version before it to its own, in a transaction. A database from an
//! older version is upgraded in place; one from a newer version is not touched.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params};
use tapedeck_protocol::SongId;

use super::art::Art;
use super::scan::{Found, own_path};
use super::tags::{Facts, Gains};

/// The schema, one step per version (version `n` is after `MIGRATIONS[n - 1]`).
/// `AUTOINCREMENT` keeps an id from ever being given again once its song is removed.
const MIGRATIONS: &[&str] = &[V1, V2, V3];

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

/// One stored song: its id, where it is, and what its tags said when it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: SongId,
    pub found: Found,
    pub facts: Facts,
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
        let fresh = !path.exists();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(sqlite(path))?;
        if fresh {
            owner_only(path);
        }
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

    /// Where every song stored for the music folder `root` is, and its size and time, as
    /// they were when its tags were read: what a comparison with the disk needs (a third of
    /// what [`Store::songs`] reads, which at a million songs is hundreds of megabytes).
    pub fn found(&self, root: &str) -> Result<Vec<Found>, StoreError> {
        let path = &self.path;
        let mut query = self
            .conn
            .prepare_cached(
                "SELECT s.name, s.file, s.size, s.mtime_ns
                 FROM songs s JOIN roots r ON r.id = s.root WHERE r.path = ?1",
            )
            .map_err(sqlite(path))?;
        let folder = Path::new(root);
        let rows = query
            .query_map([root], |r| {
                let name: String = r.get(0)?;
                let path = own_path(folder, &name, r.get_ref(1)?.as_str()?);
                Ok(Found {
                    name,
                    path,
                    size: unsigned(r.get(2)?),
                    mtime_ns: r.get(3)?,
                })
            })
            .map_err(sqlite(path))?;
        rows.map(|row| row.map_err(sqlite(path))).collect()
    }

    /// Every song stored for the music folder `root`, by name, each made into a `T` by `make`
    /// as it is read (a million rows are never held at once: their strings are freed row by
    /// row, which kept about 200 MB resident at a warm start).
    pub fn songs<T>(
        &self,
        root: &str,
        mut make: impl FnMut(Row) -> T,
    ) -> Result<Vec<T>, StoreError> {
        let path = &self.path;
        let mut query = self
            .conn
            .prepare_cached(
                "SELECT s.id, s.name, s.file, s.size, s.mtime_ns, s.title, s.artist, s.album,
                        s.duration_ms, s.format, s.sample_rate, s.channels, s.bitrate,
                        s.track_gain_db, s.track_peak, s.album_gain_db, s.album_peak, s.art
                 FROM songs s JOIN roots r ON r.id = s.root
                 WHERE r.path = ?1 ORDER BY s.name",
            )
            .map_err(sqlite(path))?;
        // Folder images, each read once and shared by its folder's songs.
        let mut images = std::collections::HashMap::new();
        let folder = Path::new(root);
        let rows = query
            .query_map([root], |r| {
                let name: String = r.get(1)?;
                let path = own_path(folder, &name, r.get_ref(2)?.as_str()?);
                Ok((
                    r.get::<_, i64>(0)?,
                    Found {
                        name,
                        path,
                        size: unsigned(r.get(3)?),
                        mtime_ns: r.get(4)?,
                    },
                    Facts {
                        title: r.get(5)?,
                        artist: r.get(6)?,
                        album: r.get(7)?,
                        duration_ms: unsigned(r.get(8)?),
                        format: r.get(9)?,
                        sample_rate: r.get(10)?,
                        channels: r.get(11)?,
                        bitrate: r.get(12)?,
                        gains: Gains {
                            track_gain_db: r.get(13)?,
                            track_peak: r.get(14)?,
                            album_gain_db: r.get(15)?,
                            album_peak: r.get(16)?,
                        },
                        art: r
                            .get::<_, Option<String>>(17)?
                            .map(|column| Art::from_column(column, &mut images)),
                    },
                ))
            })
            .map_err(sqlite(path))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, found, facts) = row.map_err(sqlite(path))?;
            let id = u32::try_from(id).map_err(|_| StoreError::IdOutOfRange(id))?;
            out.push(make(Row {
                id: SongId(id),
                found,
                facts,
            }));
        }
        Ok(out)
    }

    /// Records what a scan of `root` learnt, in one transaction: `upserts` (new songs get the
    /// next ids, in the order given; known names keep theirs) and `removed` names.
    pub fn apply(
        &mut self,
        root: &str,
        upserts: &[(Found, Facts)],
        removed: &[String],
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let folder = Path::new(root);
        let tx = self.conn.transaction().map_err(sqlite(&path))?;
        tx.execute("INSERT OR IGNORE INTO roots (path) VALUES (?1)", [root])
            .map_err(sqlite(&path))?;
        let root: i64 = tx
            .query_row("SELECT id FROM roots WHERE path = ?1", [root], |r| r.get(0))
            .map_err(sqlite(&path))?;
        {
            // An update first: an insert that turns into one would still use up an id.
            let mut update = tx
                .prepare_cached(
                    "UPDATE songs SET file = ?3, size = ?4, mtime_ns = ?5, title = ?6,
                        artist = ?7, album = ?8, duration_ms = ?9, format = ?10,
                        sample_rate = ?11, channels = ?12, bitrate = ?13, track_gain_db = ?14,
                        track_peak = ?15, album_gain_db = ?16, album_peak = ?17, art = ?18
                     WHERE root = ?1 AND name = ?2",
                )
                .map_err(sqlite(&path))?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO songs (root, name, file, size, mtime_ns, title, artist, album,
                                        duration_ms, format, sample_rate, channels, bitrate,
                                        track_gain_db, track_peak, album_gain_db, album_peak,
                                        art)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
                             ?16, ?17, ?18)",
                )
                .map_err(sqlite(&path))?;
            for (found, facts) in upserts {
                let file = found.path(folder);
                let file = file.to_string_lossy();
                let values = params![
                    root,
                    found.name,
                    file,
                    signed(found.size),
                    found.mtime_ns,
                    facts.title,
                    facts.artist,
                    facts.album,
                    signed(facts.duration_ms),
                    facts.format,
                    facts.sample_rate,
                    facts.channels,
                    facts.bitrate,
                    facts.gains.track_gain_db,
                    facts.gains.track_peak,
                    facts.gains.album_gain_db,
                    facts.gains.album_peak,
                    facts.art.as_ref().map(Art::to_column),
                ];
                if update.execute(values).map_err(sqlite(&path))? == 0 {
                    insert.execute(values).map_err(sqlite(&path))?;
                }
            }
            let mut remove = tx
                .prepare_cached("DELETE FROM songs WHERE root = ?1 AND name = ?2")
                .map_err(sqlite(&path))?;
            for name in removed {
                remove.execute(params![root, name]).map_err(sqlite(&path))?;
            }
        }
        tx.commit().map_err(sqlite(&path))
    }
}

/// SQLite integers are signed: sizes and durations are stored as such.
fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A stored size or duration (never negative unless the file was edited by hand: then 0).
fn unsigned(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Sqlite {
        path: path.to_owned(),
        source,
    }
}

/// Makes a new index file readable and writable by its owner only: it will hold accounts.
fn owner_only(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = path;
}
