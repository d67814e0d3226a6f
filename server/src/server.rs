//! The accept loop: one task per control connection, a cap on how many, and graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::accounts::Accounts;
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
    let accounts = Arc::new(open_accounts(&listener, &config)?);
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
    let shared = Arc::new(Shared::new(config, started.library, accounts.clone()));
    let follower = Follower::spawn(started.index, shared.clone(), config_follow, started.warm);
    let cancel = CancellationToken::new();
    shared.tracker.spawn(accounts.follow(cancel.clone()));
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

/// The accounts of `config.db`; an error when there are none and the server would be open
/// beyond loopback without `config.open`.
fn open_accounts(listener: &TcpListener, config: &Config) -> Result<Accounts, ServerError> {
    let local = listener.local_addr().ok();
    let loopback = local.is_some_and(|a| a.ip().is_loopback());
    let open_allowed = loopback || config.open;
    let accounts = match Accounts::open(config.db.as_deref(), open_allowed, config.session_lifetime)
    {
        Ok(accounts) => accounts,
        Err(err) if open_allowed => {
            warn!(error = %err, "no accounts until the database can be opened (tried again \
                   every 2 s; signing in is required from then on if it has any)");
            Accounts::unopened(config.db.as_deref(), open_allowed, config.session_lifetime)
        }
        Err(err) => return Err(err.into()),
    };
    if !accounts.has_users() && !open_allowed {
        let addr = local.map(|a| a.to_string()).unwrap_or_default();
        return Err(ServerError::OpenToTheNetwork(addr));
    }
    if accounts.has_users() {
        info!("accounts: signing in is required");
    } else if !loopback {
        warn!("no accounts and --open: anyone who reaches the server may play everything");
    }
    Ok(accounts)
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
