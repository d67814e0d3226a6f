//! Opening a song for a play, in one trip to the blocking pool (the play path's latency is
//! mostly such trips): the file, what to send from it (all of it, an mp4 with its index
//! moved first, or from a position), and the media clock that paces it.

use std::path::PathBuf;

use tapedeck_media::seek::{self, SeekError};
use tapedeck_media::{Clock, Format, MediaError};
use tracing::debug;

use crate::body::Body;

/// A song ready to be sent.
#[derive(Debug)]
pub struct Opened {
    pub body: Body,
    /// For a play from a position: the decoded sample frames to drop first.
    pub skip: Option<u64>,
    pub clock: Clock,
}

/// Why a song cannot be played as asked. `reason` is what the client is told.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("the position is past the end")]
    PastEnd,
    #[error("cannot start at a position: {0}")]
    NoPosition(MediaError),
}

impl OpenError {
    /// The `error` reply's reason (PROTOCOL.md 6.5).
    pub fn reason(&self) -> &'static str {
        match self {
            OpenError::Io(_) => "song unavailable",
            OpenError::PastEnd => "position past the end",
            OpenError::NoPosition(_) => "cannot start this song at a position",
        }
    }
}

/// Opens the song at `path`, from `from_ms` milliseconds if given. A song whose clock cannot
/// be read is still played, unpaced.
pub async fn open(
    path: PathBuf,
    format: Option<Format>,
    from_ms: Option<u32>,
) -> Result<Opened, OpenError> {
    let opened = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path)?;
        let size = file.metadata()?.len();
        let (body, skip) = match from_ms {
            None => {
                let parts = seek::whole(format, &file, size)?;
                let file = Some(file);
                (Body { file, parts }, None)
            }
            Some(ms) => positioned(file, size, format, ms)?,
        };
        let clock = format.map_or_else(
            || Ok(Clock::unknown()),
            |format| Clock::open(format, &body, body.len()),
        );
        let clock = clock.unwrap_or_else(|err| {
            debug!(path = %path.display(), error = %err, "no media clock: the song goes unpaced");
            Clock::unknown()
        });
        Ok(Opened { body, skip, clock })
    });
    opened.await.map_err(std::io::Error::other)?
}

/// The body of a play from `ms` milliseconds, and its skip.
fn positioned(
    file: std::fs::File,
    size: u64,
    format: Option<Format>,
    ms: u32,
) -> Result<(Body, Option<u64>), OpenError> {
    let format = format.ok_or(OpenError::NoPosition(MediaError::Io(
        std::io::ErrorKind::Unsupported.into(),
    )))?;
    match seek::plan(format, &file, size, u64::from(ms)) {
        Ok(plan) => Ok((
            Body {
                file: Some(file),
                parts: plan.parts,
            },
            Some(plan.skip),
        )),
        Err(SeekError::PastEnd) => Err(OpenError::PastEnd),
        Err(SeekError::Media(MediaError::Io(err))) => Err(OpenError::Io(err)),
        Err(SeekError::Media(err)) => Err(OpenError::NoPosition(err)),
    }
}
