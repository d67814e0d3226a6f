//! The accept loop: one task per control connection, a cap on how many, and graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::config::Config;
use crate::error::ServerError;
use crate::follow::Follower;
use crate::shared::Shared;
use crate::startup::start_index;

/// The longest pause between retries after `accept` fails (for example when file descriptors
/// run out): the server waits, then serves again, and never gives up.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Opens the index of `config.music_dir` (a warm start serves what it holds at once and
/// compares it with the disk meanwhile; a cold one scans first), then serves the Tapedeck
/// protocol on `listener` until `shutdown` completes; then tells every client, stops every
/// stream and returns once all tasks are done.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    let (dir, db) = (config.music_dir.clone(), config.db.clone());
    let started = tokio::task::spawn_blocking(move || start_index(&dir, db.as_deref())).await??;
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let songs = started.library.songs().len();
    info!(songs, dir = %config.music_dir.display(), %addr, "serving");
    let limit = Arc::new(Semaphore::new(config.max_connections));
    let config_follow = config.follow;
    let shared = Arc::new(Shared::new(config, started.library));
    let follower = Follower::spawn(started.index, shared.clone(), config_follow, started.warm);
    let cancel = CancellationToken::new();
    tokio::select! {
        () = accept_loop(&listener, &shared, &limit, &cancel) => {}
        () = shutdown => info!("shutting down"),
    }
    cancel.cancel();
    follower.stop().await;
    shared.tracker.close();
    shared.tracker.wait().await;
    Ok(())
}

async fn accept_loop(
    listener: &TcpListener,
    shared: &Arc<Shared>,
    limit: &Arc<Semaphore>,
    cancel: &CancellationToken,
) {
    let mut backoff = Duration::from_millis(1);
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                error!(error = %err, "accept failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_ACCEPT_BACKOFF);
                continue;
            }
        };
        backoff = Duration::from_millis(1);
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            warn!(%peer, "connection refused: server busy");
            shared.tracker.spawn(refuse(socket));
            continue;
        };
        let conn = crate::connection::serve(socket, peer, shared.clone(), cancel.child_token());
        shared.tracker.spawn(async move {
            conn.await;
            drop(permit);
        });
    }
}

/// Tells a client over the connection cap why it is turned away, then closes.
async fn refuse(mut socket: TcpStream) {
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        socket.write_all(b"error server busy\n"),
    )
    .await;
}
