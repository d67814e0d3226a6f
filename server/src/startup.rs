//! Starting from the index: warm (serve what it holds at once, compare it with the disk in the
//! background) or cold (nothing stored yet: scan first).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::error::LibraryError;
use crate::index::Index;
use crate::library::Library;
use crate::shared::Shared;

/// What the server serves first.
#[derive(Debug)]
pub struct Started {
    pub library: Library,
    /// The index, still to be compared with the disk (a warm start).
    pub index: Option<Index>,
}

/// Opens the index of `dir` kept at `db` (in memory if `None`). When it holds songs of this
/// folder they are served at once; otherwise the folder is scanned first, and a folder without
/// a song is an error. Blocking.
pub fn start_index(dir: &Path, db: Option<&Path>) -> Result<Started, LibraryError> {
    let mut index = Index::open(dir, db)?;
    match index.stored() {
        Ok(library) if !library.songs().is_empty() => {
            info!(
                songs = library.songs().len(),
                index = %index.path().display(),
                "warm start: serving the index while it is compared with the disk"
            );
            return Ok(Started {
                library,
                index: Some(index),
            });
        }
        Ok(_) => info!(index = %index.path().display(), "cold start: scanning the library"),
        Err(err) => warn!(error = %err, "cannot read the index: scanning the library"),
    }
    let library = match index.reconcile(&AtomicBool::new(false)) {
        Ok(library) => library,
        Err(err) => {
            warn!(error = %err, "cannot record the scan in the index: serving it from memory");
            Index::open(dir, None)?
                .reconcile(&AtomicBool::new(false))
                .map_err(|err| LibraryError::Index(err.to_string()))?
        }
    };
    Ok(Started {
        library: library.non_empty(dir)?,
        index: None,
    })
}

/// A comparison of the index with the disk, running in the background; what it finds replaces
/// the library served.
#[derive(Debug)]
pub struct Rescan {
    cancel: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl Rescan {
    pub fn spawn(mut index: Index, shared: Arc<Shared>) -> Self {
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let task = tokio::task::spawn_blocking(move || match index.reconcile(&flag) {
            Ok(_) if flag.load(Ordering::Relaxed) => {}
            Ok(library) => {
                info!(
                    songs = library.songs().len(),
                    "the index agrees with the disk"
                );
                shared.replace_library(library);
            }
            Err(err) => {
                warn!(error = %err, "the index could not be compared with the disk: serving it as stored");
            }
        });
        Self { cancel, task }
    }

    /// Stops the comparison (it gives up at the next file) and waits for it.
    pub async fn stop(self) {
        self.cancel.store(true, Ordering::Relaxed);
        let _ = self.task.await;
    }
}
