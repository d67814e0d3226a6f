//! Starting from the index: warm (serve what it holds at once, compare it with the disk in the
//! background) or cold (nothing stored yet: scan first).

use std::path::Path;
use std::sync::atomic::AtomicBool;

use tracing::{info, warn};

use crate::error::LibraryError;
use crate::index::Index;
use crate::library::Library;

/// What the server serves first, and the index it follows the disk with.
#[derive(Debug)]
pub struct Started {
    pub library: Library,
    pub index: Index,
    /// Whether `library` is what the index held, not yet compared with the disk.
    pub warm: bool,
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
                index,
                warm: true,
            });
        }
        Ok(_) => info!(index = %index.path().display(), "cold start: scanning the library"),
        Err(err) => warn!(error = %err, "cannot read the index: scanning the library"),
    }
    let index_error = |err: crate::index::StoreError| LibraryError::Index(err.to_string());
    let index = match index.reconcile(&AtomicBool::new(false)) {
        Ok(_) => index,
        Err(err) => {
            warn!(error = %err, "cannot record the scan in the index: serving it from memory");
            let mut index = Index::open(dir, None)?;
            index
                .reconcile(&AtomicBool::new(false))
                .map_err(index_error)?;
            index
        }
    };
    let library = index.stored().map_err(index_error)?;
    Ok(Started {
        library: library.non_empty(dir)?,
        index,
        warm: false,
    })
}
