//! What every connection shares: the config, the library as served, the task tracker and the
//! data ports.

use std::sync::{Arc, PoisonError, RwLock};

use tokio::sync::watch;
use tokio_util::task::TaskTracker;

use crate::accounts::Accounts;
use crate::config::Config;
use crate::library::Library;
use crate::ports::DataPorts;

#[derive(Debug)]
pub struct Shared {
    pub config: Config,
    /// The library as served; a rescan replaces it whole.
    library: RwLock<Arc<Library>>,
    /// How many times the library was replaced: each connection watches it to tell its
    /// client (one value, not a queue: a client that reads slowly is told once).
    changes: watch::Sender<u64>,
    /// Every connection and stream task, so shutdown can wait for them all.
    pub tracker: TaskTracker,
    /// Where each play's data port comes from.
    pub data_ports: DataPorts,
    /// Cover art thumbnails made so far.
    pub thumbnails: crate::art::Thumbnails,
    /// Who may sign in, and the sessions in use.
    pub accounts: Arc<Accounts>,
}

impl Shared {
    pub fn new(config: Config, library: Library, accounts: Arc<Accounts>) -> Self {
        let library = Arc::new(library);
        Library::prepare(&library);
        Self {
            data_ports: DataPorts::new(config.data_ports.clone(), config.data_ports_only),
            config,
            library: RwLock::new(library),
            changes: watch::Sender::new(0),
            tracker: TaskTracker::new(),
            thumbnails: crate::art::Thumbnails::default(),
            accounts,
        }
    }

    /// The library as it is now. A command keeps the snapshot it took, whatever replaces it.
    pub fn library(&self) -> Arc<Library> {
        self.library
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Serves `library` from now on, and tells every connection.
    pub fn replace_library(&self, library: Library) {
        let library = Arc::new(library);
        Library::prepare(&library);
        *self.library.write().unwrap_or_else(PoisonError::into_inner) = library;
        self.changes.send_modify(|count| *count += 1);
    }

    /// Changes of the library from now on.
    pub fn library_changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}
