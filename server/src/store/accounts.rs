//! Accounts: users with their password hashes, their sessions, and where each user left off.
//!
//! A session is stored by the SHA-256 of its id, never the id itself: a copy of the file does
//! not let anyone in. Passwords are stored only as Argon2id PHC strings (`accounts::password`).

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, sqlite};

/// Version 4: accounts, their sessions, and each user's place in the music.
pub(super) const V4: &str = "
    CREATE TABLE users (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        name     TEXT    NOT NULL UNIQUE COLLATE NOCASE,
        password TEXT    NOT NULL,
        created  INTEGER NOT NULL
    );
    CREATE TABLE sessions (
        id       BLOB    PRIMARY KEY,
        user     INTEGER NOT NULL,
        created  INTEGER NOT NULL,
        expires  INTEGER NOT NULL
    );
    CREATE INDEX sessions_by_user ON sessions (user);
    CREATE TABLE resume (
        user     INTEGER PRIMARY KEY,
        state    TEXT    NOT NULL,
        saved    INTEGER NOT NULL
    );
";

/// An account, as `user list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    /// When it was added (seconds since the Unix epoch).
    pub created: i64,
    /// Sessions not yet expired.
    pub sessions: u64,
}

/// A stored session: whose it is and until when it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub user: i64,
    pub name: String,
    /// Seconds since the Unix epoch.
    pub expires: i64,
}

impl Store {
    /// Adds an account; `false` when the name is taken (names are compared without case).
    pub fn add_user(&mut self, name: &str, password: &str, now: i64) -> Result<bool, StoreError> {
        let added = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO users (name, password, created) VALUES (?1, ?2, ?3)",
                params![name, password, now],
            )
            .map_err(sqlite(&self.path))?;
        Ok(added == 1)
    }

    /// Sets a user's password hash and ends every session of theirs; `false` for no such user.
    pub fn set_password(&mut self, name: &str, password: &str) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(sqlite(&path))?;
        let changed = tx
            .execute(
                "UPDATE users SET password = ?2 WHERE name = ?1",
                params![name, password],
            )
            .map_err(sqlite(&path))?;
        tx.execute(
            "DELETE FROM sessions WHERE user IN (SELECT id FROM users WHERE name = ?1)",
            [name],
        )
        .map_err(sqlite(&path))?;
        tx.commit().map_err(sqlite(&path))?;
        Ok(changed == 1)
    }

    /// Removes an account with its sessions and its place; `false` for no such user. Its id
    /// is never given again.
    pub fn remove_user(&mut self, name: &str) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(sqlite(&path))?;
        let id: Option<i64> = tx
            .query_row("SELECT id FROM users WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(sqlite(&path))?;
        if let Some(id) = id {
            for sql in [
                "DELETE FROM sessions WHERE user = ?1",
                "DELETE FROM resume WHERE user = ?1",
                "DELETE FROM users WHERE id = ?1",
            ] {
                tx.execute(sql, [id]).map_err(sqlite(&path))?;
            }
        }
        tx.commit().map_err(sqlite(&path))?;
        Ok(id.is_some())
    }

    /// Every account, by name, with its sessions that hold at `now`.
    pub fn users(&self, now: i64) -> Result<Vec<User>, StoreError> {
        let mut query = self
            .conn
            .prepare_cached(
                "SELECT u.id, u.name, u.created,
                        (SELECT count(*) FROM sessions s WHERE s.user = u.id AND s.expires > ?1)
                 FROM users u ORDER BY u.name",
            )
            .map_err(sqlite(&self.path))?;
        let rows = query
            .query_map([now], |r| {
                Ok(User {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    created: r.get(2)?,
                    sessions: super::unsigned(r.get(3)?),
                })
            })
            .map_err(sqlite(&self.path))?;
        rows.map(|row| row.map_err(sqlite(&self.path))).collect()
    }

    /// How many accounts there are.
    pub fn user_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
            .map(super::unsigned)
            .map_err(sqlite(&self.path))
    }

    /// A user's id, name as stored and password hash.
    pub fn password_of(&self, name: &str) -> Result<Option<(i64, String, String)>, StoreError> {
        self.conn
            .prepare_cached("SELECT id, name, password FROM users WHERE name = ?1")
            .and_then(|mut q| {
                q.query_row([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()
            })
            .map_err(sqlite(&self.path))
    }

    /// Records a new session of `user` (by the hash of its id), forgets every session that
    /// has expired by `now`, and keeps at most `keep` sessions of the user (the newest).
    pub fn add_session(
        &mut self,
        hash: &[u8],
        user: i64,
        (now, expires): (i64, i64),
        keep: usize,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let tx = self.conn.transaction().map_err(sqlite(&path))?;
        tx.execute("DELETE FROM sessions WHERE expires <= ?1", [now])
            .map_err(sqlite(&path))?;
        tx.execute(
            "INSERT INTO sessions (id, user, created, expires) VALUES (?1, ?2, ?3, ?4)",
            params![hash, user, now, expires],
        )
        .map_err(sqlite(&path))?;
        tx.execute(
            "DELETE FROM sessions WHERE user = ?1 AND rowid NOT IN
                 (SELECT rowid FROM sessions WHERE user = ?1 ORDER BY created DESC, rowid DESC
                  LIMIT ?2)",
            params![user, keep],
        )
        .map_err(sqlite(&path))?;
        tx.commit().map_err(sqlite(&path))
    }

    /// The session whose id hashes to `hash`, if it is stored (expired or not).
    pub fn session(&self, hash: &[u8]) -> Result<Option<StoredSession>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT s.user, u.name, s.expires FROM sessions s JOIN users u ON u.id = s.user
                 WHERE s.id = ?1",
            )
            .and_then(|mut q| {
                q.query_row([hash], |r| {
                    Ok(StoredSession {
                        user: r.get(0)?,
                        name: r.get(1)?,
                        expires: r.get(2)?,
                    })
                })
                .optional()
            })
            .map_err(sqlite(&self.path))
    }

    /// The hashes of every stored session that holds at `now`.
    pub fn live_sessions(
        &self,
        now: i64,
    ) -> Result<std::collections::HashSet<Vec<u8>>, StoreError> {
        let mut query = self
            .conn
            .prepare_cached("SELECT id FROM sessions WHERE expires > ?1")
            .map_err(sqlite(&self.path))?;
        let rows = query
            .query_map([now], |r| r.get::<_, Vec<u8>>(0))
            .map_err(sqlite(&self.path))?;
        rows.map(|row| row.map_err(sqlite(&self.path))).collect()
    }

    /// Moves a session's expiry (it is in use); `false` when it is no longer stored.
    pub fn extend_session(&mut self, hash: &[u8], expires: i64) -> Result<bool, StoreError> {
        self.conn
            .execute(
                "UPDATE sessions SET expires = ?2 WHERE id = ?1",
                params![hash, expires],
            )
            .map(|changed| changed == 1)
            .map_err(sqlite(&self.path))
    }

    /// Ends a session.
    pub fn remove_session(&mut self, hash: &[u8]) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM sessions WHERE id = ?1", [hash])
            .map(drop)
            .map_err(sqlite(&self.path))
    }

    /// Changes made to the file by any other connection (another process's `user passwd`)
    /// change this number; it stays the same as long as nobody else writes.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        self.conn
            .pragma_query_value(None, "data_version", |r| r.get(0))
            .map_err(sqlite(&self.path))
    }

    /// Where `user` left off (the page's own JSON object), if saved.
    pub fn resume(&self, user: i64) -> Result<Option<String>, StoreError> {
        self.conn
            .prepare_cached("SELECT state FROM resume WHERE user = ?1")
            .and_then(|mut q| q.query_row([user], |r| r.get(0)).optional())
            .map_err(sqlite(&self.path))
    }

    /// Keeps where `user` is now.
    pub fn save_resume(&mut self, user: i64, state: &str, now: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO resume (user, state, saved) VALUES (?1, ?2, ?3)
                 ON CONFLICT (user) DO UPDATE SET state = ?2, saved = ?3",
                params![user, state, now],
            )
            .map(drop)
            .map_err(sqlite(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_keeps_only_the_newest_sessions_and_expired_ones_go() {
        let mut store = Store::in_memory().expect("store");
        assert!(store.add_user("alice", "$argon2id$x", 0).expect("added"));
        let alice = store.password_of("alice").expect("read").expect("alice").0;
        for (n, hash) in [[1u8; 32], [2; 32], [3; 32]].iter().enumerate() {
            let now = i64::try_from(n).expect("small");
            store
                .add_session(hash, alice, (now, now + 100), 2)
                .expect("added");
        }
        assert!(
            store.session(&[1; 32]).expect("read").is_none(),
            "the oldest went"
        );
        assert!(store.session(&[2; 32]).expect("read").is_some());
        assert!(store.session(&[3; 32]).expect("read").is_some());
        // At 150 the first two kept have expired: a new sign-in clears them.
        store
            .add_session(&[4; 32], alice, (150, 250), 2)
            .expect("added");
        assert!(store.session(&[2; 32]).expect("read").is_none());
        assert_eq!(store.live_sessions(150).expect("live").len(), 1);
        assert!(!store.extend_session(&[2; 32], 300).expect("ran"), "gone");
        assert!(store.extend_session(&[4; 32], 300).expect("ran"));
    }
}
