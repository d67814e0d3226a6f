//! Tunables of a running bridge.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How a bridge behaves. [`Config::new`] gives the defaults the binary uses.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Tapedeck server: the only host this bridge ever connects to.
    pub server: SocketAddr,
    /// The built web app (trunk's `dist/`).
    pub web_dir: PathBuf,
    /// Origins whose pages may open a WebSocket, exactly as browsers send them
    /// (`http://127.0.0.1:8080`). Requests without an Origin (non-browser clients) are allowed:
    /// cross-site WebSocket hijacking needs a browser, and browsers always send one.
    pub allowed_origins: Vec<String>,
    /// WebSocket sessions at once; one more is answered 503.
    pub max_sessions: usize,
    /// How long connecting to the server or a data port may take. A server that is down
    /// refuses at once and is reported at once; this only bounds one that does not answer.
    pub connect_timeout: Duration,
    /// A browser that takes no message for this long is given up.
    pub stall_timeout: Duration,
    /// The longest reply forwarded to a browser (at most [`crate::MAX_REPLY_LEN`]); a longer
    /// one is answered `error reply too large (over N octets)` in its place.
    pub max_reply_len: usize,
    /// How long fetching one picture (`GET /art/<id>`) may take before it is answered 504.
    pub art_timeout: Duration,
    /// Whether browsers may use a server that has no accounts (it answers `open`). The binary
    /// allows it only when listening on loopback, or with `--open`. Default: `true`.
    pub open: bool,
    /// When set, the bridge serves HTTPS and WSS itself with this configuration (see
    /// `tls::load`); session cookies are then `Secure`. Default: `None` (plain HTTP).
    pub tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    /// Reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Config {
    /// The defaults for a bridge to `server` serving `web_dir`, allowing the trunk dev server's
    /// origins; add the bridge's own with [`Config::allow_own_origin`].
    pub fn new(server: SocketAddr, web_dir: impl Into<PathBuf>) -> Self {
        Self {
            server,
            web_dir: web_dir.into(),
            allowed_origins: vec![
                "http://127.0.0.1:8081".into(),
                "http://localhost:8081".into(),
            ],
            max_sessions: 1024,
            connect_timeout: Duration::from_secs(5),
            stall_timeout: Duration::from_secs(60),
            max_reply_len: crate::MAX_REPLY_LEN,
            art_timeout: Duration::from_secs(20),
            open: true,
            tls: None,
            trusted_proxies: Vec::new(),
        }
    }

    /// Allows the origins of a page served from `listen` (and `localhost` for loopback), over
    /// HTTPS when [`Config::tls`] is set (set it first).
    pub fn allow_own_origin(&mut self, listen: SocketAddr) {
        let port = listen.port();
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        self.allowed_origins.push(format!("{scheme}://{listen}"));
        if listen.ip().is_loopback() {
            self.allowed_origins
                .push(format!("{scheme}://localhost:{port}"));
        }
    }
}
