//! The library index's songs: what a comparison with the disk needs, every song, and what a
//! scan learnt.

use std::path::Path;

use rusqlite::{OptionalExtension, params};
use tapedeck_protocol::SongId;

use super::{Store, StoreError, signed, sqlite, unsigned};
use crate::index::Facts;
use crate::index::art::Art;
use crate::index::scan::{Found, own_path};
use crate::index::tags::Gains;

/// One stored song: its id, where it is, and what its tags said when it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: SongId,
    pub found: Found,
    pub facts: Facts,
}

impl Store {
    /// The id of the song stored as `name` in the music folder `root`, and where its file
    /// was, with its size and time when its tags were read: all a comparison with the disk
    /// needs (one indexed look a file; nothing of the index is held between them).
    pub fn file(&self, root: &str, name: &str) -> Result<Option<(SongId, Found)>, StoreError> {
        let path = &self.path;
        let mut query = self
            .conn
            .prepare_cached(
                "SELECT s.id, s.file, s.size, s.mtime_ns FROM songs s
                 WHERE s.root = (SELECT id FROM roots WHERE path = ?1) AND s.name = ?2",
            )
            .map_err(sqlite(path))?;
        let folder = Path::new(root);
        let found = query
            .query_row([root, name], |row| {
                Ok((
                    row.get(0)?,
                    Found {
                        name: name.to_owned(),
                        path: own_path(folder, name, row.get_ref(1)?.as_str()?),
                        size: unsigned(row.get(2)?),
                        mtime_ns: row.get(3)?,
                    },
                ))
            })
            .optional()
            .map_err(sqlite(path))?;
        let Some((id, found)) = found else {
            return Ok(None);
        };
        let id = song_id(id)?;
        Ok(Some((id, found)))
    }

    /// The names of the songs of the music folder `root` that `kept` refuses, read row by
    /// row (only those names are held).
    pub fn names_but(
        &self,
        root: &str,
        kept: impl Fn(SongId) -> bool,
    ) -> Result<Vec<String>, StoreError> {
        let path = &self.path;
        let mut query = self
            .conn
            .prepare_cached(
                "SELECT s.id, s.name FROM songs s
                 WHERE s.root = (SELECT id FROM roots WHERE path = ?1)",
            )
            .map_err(sqlite(path))?;
        let mut rows = query.query([root]).map_err(sqlite(path))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sqlite(path))? {
            let id: i64 = row.get(0).map_err(sqlite(path))?;
            let id = song_id(id)?;
            if !kept(id) {
                out.push(row.get(1).map_err(sqlite(path))?);
            }
        }
        Ok(out)
    }

    /// Every song stored for the music folder `root`, by name, each given to `take` as it is
    /// read (a million rows are never held at once: their strings are freed row by row, which
    /// kept about 200 MB resident at a warm start).
    pub fn songs(&self, root: &str, mut take: impl FnMut(Row)) -> Result<(), StoreError> {
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
        for row in rows {
            let (id, found, facts) = row.map_err(sqlite(path))?;
            take(Row {
                id: song_id(id)?,
                found,
                facts,
            });
        }
        Ok(())
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

/// A stored song id, as the protocol numbers songs.
fn song_id(id: i64) -> Result<SongId, StoreError> {
    u32::try_from(id)
        .map(SongId)
        .map_err(|_| StoreError::IdOutOfRange(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, size: u64) -> Found {
        Found {
            name: name.into(),
            path: None,
            size,
            mtime_ns: 1,
        }
    }

    fn facts() -> Facts {
        Facts {
            title: String::new(),
            artist: String::new(),
            album: String::new(),
            duration_ms: 1000,
            format: "mp3".into(),
            sample_rate: 44_100,
            channels: 2,
            bitrate: 128_000,
            gains: Gains::default(),
            art: None,
        }
    }

    /// A file is found by its exact name (bytes, not case or accent), and the sweep names
    /// exactly the songs not kept.
    #[test]
    fn files_are_found_by_name_and_the_rest_swept() {
        let mut store = Store::in_memory().expect("store");
        let stored = ["B.mp3", "a.mp3", "é.mp3", "z/1.mp3", "gone.mp3"];
        let upserts: Vec<_> = stored.iter().map(|n| (file(n, 1), facts())).collect();
        store.apply("/music", &upserts, &[]).expect("stored");
        let found = |name: &str| store.file("/music", name).expect("looked");
        let (id, a) = found("a.mp3").expect("stored");
        assert_eq!((id, a), (SongId(2), file("a.mp3", 1)));
        for absent in ["A.mp3", "b.mp3", "e.mp3", "z", "1.mp3"] {
            assert!(found(absent).is_none(), "{absent}");
        }
        assert!(store.file("/elsewhere", "a.mp3").expect("looked").is_none());
        let mut swept = store
            .names_but("/music", |id| id != SongId(5) && id != SongId(3))
            .expect("swept");
        swept.sort();
        assert_eq!(swept, ["gone.mp3", "é.mp3"]);
        assert!(
            store
                .names_but("/elsewhere", |_| false)
                .expect("swept")
                .is_empty()
        );
    }
}
