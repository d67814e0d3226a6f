//! Accounts: who may use the server. The server is the one authority: it checks passwords,
//! issues and revokes sessions, and every bridge asks it (a bridge keeps nothing).
//!
//! With no account, the server is open (anyone who reaches it), which it allows only on a
//! loopback address unless told otherwise (`Config::open`). Once an account exists, a
//! connection must sign in (`login` or `session`) before anything else. Sessions live in the
//! database by the hash of their id, and here in memory while in use; a change made by another
//! process (`tapedeck-server user passwd`) is noticed within [`POLL`] and ends the sessions it
//! revoked, closing their connections.

pub mod password;
pub mod throttle;
mod users;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use tapedeck_protocol::Place;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::store::{Store, StoreError};
use throttle::Throttle;
pub use users::{UserError, add_user, list_users, remove_user, set_password};

/// How often the database is looked at for changes made by other processes.
pub const POLL: Duration = Duration::from_secs(2);
/// Passwords hashed at once: each takes 64 MiB and a core for tens of milliseconds.
const HASHING_AT_ONCE: usize = 2;
/// Addresses and names the throttle remembers.
const THROTTLE_CAPACITY: usize = 16_384;
/// Sign-ins waiting for a hash at once; one more is told to retry (each waiting sign-in also
/// holds a connection).
const WAITING_SIGN_INS: usize = 64;
/// Sessions a user keeps; a sign-in beyond ends the oldest.
pub const MAX_SESSIONS_PER_USER: usize = 64;

/// Why signing in failed. The `Display` text is the reason sent in `error <reason>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The same for an unknown user and a wrong password.
    #[error("wrong user or password")]
    Wrong,
    /// The session id names no session that still holds.
    #[error("session expired")]
    Expired,
    /// Too many failures from this address or for this user.
    #[error("too many attempts (retry in {0} s)")]
    Throttled(u64),
    /// `login` on a server without accounts.
    #[error("no accounts")]
    NoAccounts,
    #[error("internal error")]
    Internal,
}

/// A session in use: whose it is, until when, and a token cancelled when it ends (logout,
/// password change, account removed, expiry), which closes the connections signed in with it.
#[derive(Debug)]
pub struct Live {
    pub user: i64,
    pub name: String,
    hash: [u8; 32],
    expires: AtomicI64,
    pub ended: CancellationToken,
}

impl Live {
    fn new(user: i64, name: String, hash: [u8; 32], expires: i64) -> Self {
        Self {
            user,
            name,
            hash,
            expires: AtomicI64::new(expires),
            ended: CancellationToken::new(),
        }
    }

    /// Seconds until it expires.
    pub fn seconds_left(&self) -> u64 {
        u64::try_from(self.expires.load(Ordering::Relaxed) - now()).unwrap_or(0)
    }
}

/// The server's accounts.
#[derive(Debug)]
pub struct Accounts {
    /// `None` when the server keeps no database (`--db memory`): then there are no accounts;
    /// or while the database cannot be opened (tried again every [`POLL`]).
    store: Mutex<Option<Store>>,
    /// The database, if the server keeps one.
    db: Option<PathBuf>,
    /// Whether the server may be open when there are no accounts.
    open_allowed: bool,
    /// Whether accounts exist (refreshed every [`POLL`]).
    has_users: AtomicBool,
    /// Sessions by the hash of their id.
    live: Mutex<HashMap<[u8; 32], Arc<Live>>>,
    hashing: Semaphore,
    /// One permit per sign-in waiting for `hashing`.
    waiting: Arc<Semaphore>,
    throttle: Mutex<Throttle>,
    /// How long a session holds after its last use.
    lifetime: Duration,
    /// The database's `data_version` when last looked at.
    seen: AtomicI64,
}

impl Accounts {
    /// The accounts kept in the database at `db` (none without one).
    pub fn open(
        db: Option<&Path>,
        open_allowed: bool,
        lifetime: Duration,
    ) -> Result<Self, StoreError> {
        let store = db.map(Store::open).transpose()?;
        let accounts = Self::unopened(db, open_allowed, lifetime);
        if let Some(store) = store {
            accounts.adopt(store)?;
        }
        Ok(accounts)
    }

    /// Accounts whose database at `db` could not be opened yet: none until it can be (it is
    /// tried again every [`POLL`]; from then on, its accounts hold).
    pub fn unopened(db: Option<&Path>, open_allowed: bool, lifetime: Duration) -> Self {
        Self {
            store: Mutex::new(None),
            db: db.map(Path::to_owned),
            open_allowed,
            has_users: AtomicBool::new(false),
            live: Mutex::new(HashMap::new()),
            hashing: Semaphore::new(HASHING_AT_ONCE),
            waiting: Arc::new(Semaphore::new(WAITING_SIGN_INS)),
            throttle: Mutex::new(Throttle::new(THROTTLE_CAPACITY)),
            lifetime,
            seen: AtomicI64::new(0),
        }
    }

    /// Takes `store` as the database, and learns whether it has accounts.
    fn adopt(&self, store: Store) -> Result<(), StoreError> {
        let has_users = store.user_count()? > 0;
        if has_users {
            // Made now, not at the first unknown user's sign-in, whose timing it would give away.
            let _ = password::decoy();
        }
        *self.store.lock().unwrap_or_else(PoisonError::into_inner) = Some(store);
        self.has_users.store(has_users, Ordering::Relaxed);
        Ok(())
    }

    /// Opens the database if it could not be opened before.
    fn reopen(&self) {
        let Some(db) = &self.db else { return };
        if self
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
        {
            return;
        }
        match Store::open(db).and_then(|store| self.adopt(store)) {
            Ok(()) => info!(db = %db.display(), "the accounts database is open"),
            Err(err) => debug!(error = %err, "the accounts database still cannot be opened"),
        }
    }

    /// Whether a connection may do everything without signing in.
    pub fn is_open(&self) -> bool {
        self.open_allowed && !self.has_users.load(Ordering::Relaxed)
    }

    /// Whether any account exists.
    pub fn has_users(&self) -> bool {
        self.has_users.load(Ordering::Relaxed)
    }

    /// Checks `user`'s `password` (from `from`) and starts a new session: its id (to give the
    /// client, never kept) and the session.
    pub async fn login(
        self: &Arc<Self>,
        user: &str,
        password: &str,
        from: IpAddr,
    ) -> Result<(String, Arc<Live>), AuthError> {
        if !self.has_users() {
            return Err(AuthError::NoAccounts);
        }
        // Counted as a failure before the password is looked at, so that sign-ins sent at
        // once cannot all pass the check while the count is still low; given back if right.
        let attempt = self.throttle().attempt(from, user, Instant::now());
        if let Err(wait) = attempt {
            return Err(AuthError::Throttled(wait.as_secs().max(1)));
        }
        let Ok(_waiting) = Arc::clone(&self.waiting).try_acquire_owned() else {
            return Err(AuthError::Throttled(1));
        };
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|_| AuthError::Internal)?;
        let this = Arc::clone(self);
        let (name, password) = (user.to_owned(), password.to_owned());
        let checked = tokio::task::spawn_blocking(move || this.check_password(&name, &password))
            .await
            .map_err(|_| AuthError::Internal)??;
        let Some((id, name)) = checked else {
            return Err(AuthError::Wrong);
        };
        self.throttle().succeeded(from, &name, Instant::now());
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || this.start_session(id, name))
            .await
            .map_err(|_| AuthError::Internal)?
    }

    /// The session whose id is `id`, if it still holds (its expiry moves on with use).
    pub async fn session(self: &Arc<Self>, id: &str) -> Result<Arc<Live>, AuthError> {
        let hash = hash_of(id);
        let cached = self.lock_live().get(&hash).cloned();
        if let Some(live) = cached.filter(|live| !live.ended.is_cancelled()) {
            if live.expires.load(Ordering::Relaxed) > now() {
                self.extend(&live).await;
                return Ok(live);
            }
        }
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || this.load_session(hash))
            .await
            .map_err(|_| AuthError::Internal)?
    }

    /// Ends `live` at once: every connection signed in with it closes. The database first,
    /// then memory: a `session` loading it meanwhile finds it gone when it looks again
    /// (`load_session`), or is found in memory here and ended.
    pub async fn logout(self: &Arc<Self>, live: &Arc<Live>) {
        let (this, hash) = (Arc::clone(self), live.hash);
        let removed = tokio::task::spawn_blocking(move || {
            this.with_store(|store| store.remove_session(&hash))
        })
        .await;
        if !matches!(removed, Ok(Ok(()))) {
            warn!(user = %live.name, "cannot remove a session from the database");
        }
        self.forget(live);
        info!(user = %live.name, "signed out");
    }

    /// Ends `live` and whatever session of the same id memory holds.
    fn forget(&self, live: &Live) {
        live.ended.cancel();
        if let Some(held) = self.lock_live().remove(&live.hash) {
            held.ended.cancel();
        }
    }

    /// Where `user` left off (user 0: everyone, on a server without accounts).
    pub async fn place(self: &Arc<Self>, user: i64) -> Result<Place, AuthError> {
        let this = Arc::clone(self);
        let stored = tokio::task::spawn_blocking(move || this.with_store(|s| s.resume(user)))
            .await
            .map_err(|_| AuthError::Internal)??;
        Ok(stored
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default())
    }

    /// Keeps `place` as where `user` is.
    pub async fn keep_place(self: &Arc<Self>, user: i64, place: &Place) -> Result<(), AuthError> {
        let json = serde_json::to_string(place).map_err(|_| AuthError::Internal)?;
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || this.with_store(|s| s.save_resume(user, &json, now())))
            .await
            .map_err(|_| AuthError::Internal)?
    }

    /// Follows changes other processes make to the accounts, until `cancel`.
    pub async fn follow(self: Arc<Self>, cancel: CancellationToken) {
        if self.db.is_none() {
            return;
        }
        loop {
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                () = cancel.cancelled() => return,
            }
            let this = Arc::clone(&self);
            if let Err(err) = tokio::task::spawn_blocking(move || this.recheck()).await {
                warn!(error = %err, "cannot look at the accounts");
            }
        }
    }

    fn throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.throttle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_live(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Arc<Live>>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with_store<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, AuthError> {
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(store) = store.as_mut() else {
            return Err(AuthError::NoAccounts);
        };
        f(store).map_err(|err| {
            warn!(error = %err, "the accounts database failed");
            AuthError::Internal
        })
    }

    /// The user's id and stored name when `password` is theirs; `None` for a wrong password or
    /// an unknown user (which costs the same: a decoy hash is verified).
    fn check_password(
        &self,
        user: &str,
        password: &str,
    ) -> Result<Option<(i64, String)>, AuthError> {
        let found = if tapedeck_protocol::valid_user_name(user) {
            self.with_store(|store| store.password_of(user))?
        } else {
            None
        };
        let phc = found
            .as_ref()
            .map_or(password::decoy(), |(_, _, phc)| phc.as_str());
        let right = password::verify(password, phc);
        Ok(found.filter(|_| right).map(|(id, name, _)| (id, name)))
    }

    fn start_session(&self, user: i64, name: String) -> Result<(String, Arc<Live>), AuthError> {
        let id = crate::claim::random_hex(32).map_err(|_| AuthError::Internal)?;
        let hash = hash_of(&id);
        let (now, expires) = (now(), now() + seconds(self.lifetime));
        let keep = MAX_SESSIONS_PER_USER;
        self.with_store(|store| store.add_session(&hash, user, (now, expires), keep))?;
        info!(user = %name, "signed in");
        Ok((id, self.remember(hash, user, name, expires)))
    }

    fn load_session(&self, hash: [u8; 32]) -> Result<Arc<Live>, AuthError> {
        let stored = self.with_store(|store| store.session(&hash))?;
        let stored = stored
            .filter(|s| s.expires > now())
            .ok_or(AuthError::Expired)?;
        let live = self.remember(hash, stored.user, stored.name, stored.expires);
        // A logout between the read and the remembering removed the row first: look again.
        if !matches!(self.with_store(|store| store.session(&hash)), Ok(Some(_))) {
            self.forget(&live);
            return Err(AuthError::Expired);
        }
        self.extend_blocking(&live);
        Ok(live)
    }

    /// The session in memory for `hash`: the one there already (two loads at once share
    /// one, so ending it ends both), else a new one. Every session in use is held, so every
    /// one can be ended; a user keeps at most [`MAX_SESSIONS_PER_USER`].
    fn remember(&self, hash: [u8; 32], user: i64, name: String, expires: i64) -> Arc<Live> {
        let mut sessions = self.lock_live();
        let held = sessions
            .entry(hash)
            .and_modify(|held| {
                if held.ended.is_cancelled() {
                    *held = Arc::new(Live::new(user, name.clone(), hash, expires));
                }
            })
            .or_insert_with(|| Arc::new(Live::new(user, name, hash, expires)));
        Arc::clone(held)
    }

    /// Moves the expiry on when less than half the lifetime is left (one write a half-life).
    async fn extend(self: &Arc<Self>, live: &Arc<Live>) {
        if !self.due(live) {
            return;
        }
        let (this, live) = (Arc::clone(self), Arc::clone(live));
        let _ = tokio::task::spawn_blocking(move || this.extend_blocking(&live)).await;
    }

    fn due(&self, live: &Live) -> bool {
        live.expires.load(Ordering::Relaxed) - now() < seconds(self.lifetime) / 2
    }

    fn extend_blocking(&self, live: &Live) {
        if !self.due(live) {
            return;
        }
        let expires = now() + seconds(self.lifetime);
        match self.with_store(|store| store.extend_session(&live.hash, expires)) {
            Ok(true) => live.expires.store(expires, Ordering::Relaxed),
            // The row is gone (ended elsewhere): so is the session.
            Ok(false) => self.forget(live),
            Err(_) => {}
        }
    }

    /// Notices what other processes changed: accounts added or removed, sessions revoked; and
    /// ends the sessions that expired.
    fn recheck(&self) {
        self.reopen();
        let version = self.with_store(|store| store.data_version());
        let Ok(version) = version else { return };
        let changed = self.seen.swap(version, Ordering::Relaxed) != version;
        if changed {
            if let Ok(count) = self.with_store(|store| store.user_count()) {
                if count > 0 {
                    let _ = password::decoy();
                }
                self.has_users.store(count > 0, Ordering::Relaxed);
            }
        }
        let sessions: Vec<Arc<Live>> = self.lock_live().values().cloned().collect();
        let now = now();
        // What the file holds, in one query, only when someone else wrote to it.
        let stored = if changed {
            match self.with_store(|s| s.live_sessions(now)) {
                Ok(stored) => Some(stored),
                Err(_) => return,
            }
        } else {
            None
        };
        for live in sessions {
            let holds = live.expires.load(Ordering::Relaxed) > now
                && stored
                    .as_ref()
                    .is_none_or(|stored| stored.contains(live.hash.as_slice()));
            if !holds {
                debug!(user = %live.name, "session ended");
                live.ended.cancel();
                self.lock_live().remove(&live.hash);
            }
        }
    }
}

/// The SHA-256 of a session id: what the database keeps.
fn hash_of(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// Seconds since the Unix epoch.
fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX / 4)
}
