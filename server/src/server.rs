//! The accept loop: one task per control connection, a cap on how many, and graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::config::Config;
use crate::error::ServerError;
use crate::library::Library;
use crate::ports::DataPorts;

/// What every connection shares.
#[derive(Debug)]
pub struct Shared {
    pub config: Config,
    pub library: Arc<Library>,
    /// Every connection and stream task, so shutdown can wait for them all.
    pub tracker: TaskTracker,
    /// Where each play's data port comes from.
    pub data_ports: DataPorts,
}

/// The longest pause between retries after `accept` fails (for example when file descriptors
/// run out): the server waits, then serves again, and never gives up.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Scans `config.music_dir`, then serves the Tapedeck protocol on `listener` until `shutdown`
/// completes; then tells every client, stops every stream and returns once all tasks are done.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    let dir = config.music_dir.clone();
    let library = tokio::task::spawn_blocking(move || Library::scan(&dir)).await??;
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    info!(songs = library.songs().len(), dir = %config.music_dir.display(), %addr, "serving");
    let limit = Arc::new(Semaphore::new(config.max_connections));
    let shared = Arc::new(Shared {
        data_ports: DataPorts::new(config.data_ports.clone(), config.data_ports_only),
        config,
        library: Arc::new(library),
        tracker: TaskTracker::new(),
    });
    let cancel = CancellationToken::new();
    tokio::select! {
        () = accept_loop(&listener, &shared, &limit, &cancel) => {}
        () = shutdown => info!("shutting down"),
    }
    cancel.cancel();
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
