//! The server's errors.

use std::path::PathBuf;

/// Why the music library could not be served. None of these is recoverable: the server does not
/// start.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// The music directory does not exist or cannot be read.
    #[error("cannot read the music directory {dir}: {source}")]
    Unreadable {
        dir: PathBuf,
        source: std::io::Error,
    },
    /// The path exists but is not a directory.
    #[error("{dir} is not a directory")]
    NotADirectory { dir: PathBuf },
    /// The directory holds no audio file the server can read.
    #[error("no audio files found in {dir} (looked for {extensions})")]
    Empty { dir: PathBuf, extensions: String },
    /// Not even an index in memory could be made.
    #[error("cannot index the library: {0}")]
    Index(String),
}

/// Why [`crate::run`] stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The library could not be scanned.
    #[error(transparent)]
    Library(#[from] LibraryError),
    /// The scan task panicked or was cancelled.
    #[error("the library scan did not finish: {0}")]
    Scan(#[from] tokio::task::JoinError),
    /// The accounts database could not be opened.
    #[error("cannot open the accounts: {0}")]
    Accounts(#[from] crate::store::StoreError),
    /// No account exists and the server would listen beyond loopback.
    #[error(
        "refusing to serve {0} without accounts: anyone who reaches it could play everything. \
         Add an account with `tapedeck-server user add NAME` (reads the password from standard \
         input; give the same --db), or pass --open to serve everyone"
    )]
    OpenToTheNetwork(String),
}
