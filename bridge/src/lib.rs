//! The bridge as a library: [`serve`] serves the built web app, cover art at `/art/<id>`
//! (`art`), and the WebSocket endpoint `/ws`, which maps each browser onto one control connection to the Tapedeck server and the
//! data connection of its current play (see `PROTOCOL.md`, section 16).
//!
//! Layers, one per module: `assets` (static files), `upgrade` (Origin, limits, buffer sizes),
//! `session` (one WebSocket), `browser` (browser to server), `replies` (server to browser, in
//! order), `data` (one play's bytes), `outbox` (the one ordered, bounded queue to the browser).

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::connect_info::Connected;
use axum::routing::{get, post};
use axum::serve::{IncomingStream, Listener};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

mod art;
mod assets;
mod auth;
mod browser;
mod config;
mod data;
mod login;
mod outbox;
mod replies;
mod session;
pub mod tls;
mod upgrade;

pub use browser::rejection;
pub use config::Config;
pub use replies::MAX_REPLY_LEN;

/// Pictures fetched at once; one more is answered 503 (a page asks for the rows in view).
const ART_FETCHES: usize = 64;

/// The address a request came from, over plain TCP or TLS alike.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub std::net::SocketAddr);

impl Connected<IncomingStream<'_, tls::TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, tls::TlsListener>) -> Self {
        Self(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, NoDelay>> for Peer {
    fn connect_info(stream: IncomingStream<'_, NoDelay>) -> Self {
        Self(*stream.remote_addr())
    }
}

/// Plain TCP without Nagle: replies and events are small, and a Close held back for an ACK
/// would be lost when a session ends with unread input (then the kernel resets the
/// connection).
#[derive(Debug)]
struct NoDelay(TcpListener);

impl Listener for NoDelay {
    type Io = tokio::net::TcpStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (tcp, peer) = Listener::accept(&mut self.0).await;
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "cannot set TCP_NODELAY");
        }
        (tcp, peer)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// The largest sign-in form taken, in octets.
const LOGIN_BODY: usize = 4096;

/// What every session shares.
#[derive(Debug)]
struct Shared {
    config: Config,
    /// One permit per WebSocket session.
    sessions: Arc<Semaphore>,
    /// Cancelled at shutdown: every session closes with 1001.
    cancel: CancellationToken,
    /// Every session, so shutdown can wait for them.
    tracker: TaskTracker,
    /// One permit per picture being fetched (`GET /art/<id>`).
    art_fetches: Arc<Semaphore>,
}

/// Serves the page and `/ws` on `listener` until `shutdown` completes, then closes every
/// session and returns once they are done.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let shared = Arc::new(Shared {
        sessions: Arc::new(Semaphore::new(config.max_sessions)),
        cancel: CancellationToken::new(),
        tracker: TaskTracker::new(),
        art_fetches: Arc::new(Semaphore::new(ART_FETCHES)),
        config,
    });
    let app = router(shared.clone()).into_make_service_with_connect_info::<Peer>();
    let cancel = shared.cancel.clone();
    let shutdown = async move {
        shutdown.await;
        cancel.cancel();
    };
    if let Some(tls) = shared.config.tls.clone() {
        let listener = tls::TlsListener::new(listener, tls);
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await?;
    } else {
        axum::serve(NoDelay(listener), app)
            .with_graceful_shutdown(shutdown)
            .await?;
    }
    shared.tracker.close();
    shared.tracker.wait().await;
    Ok(())
}

/// Whether the server at `config.server` has no accounts (anyone may use it).
pub async fn server_is_open(config: &Config) -> std::io::Result<bool> {
    let mut control = auth::connect(config).await?;
    let reply = auth::ask(&mut control, &tapedeck_protocol::Command::User).await?;
    Ok(reply == tapedeck_protocol::Reply::Open)
}

fn router(shared: Arc<Shared>) -> Router {
    let pages = assets::router(&shared.config.web_dir);
    Router::new()
        .route("/ws", get(upgrade::websocket))
        .route("/art/{id}", get(art::art))
        .route(
            "/login",
            post(login::login).layer(DefaultBodyLimit::max(LOGIN_BODY)),
        )
        .route("/logout", post(login::logout))
        .route("/session", get(login::whoami))
        .with_state(shared)
        .merge(pages)
}
