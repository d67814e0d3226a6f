//! `tapedeck-bridge`: serves the Tapedeck web app and maps browser WebSockets onto the server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use tapedeck_bridge::Config;

/// Tapedeck's front door for browsers.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The Tapedeck server's control address: the only host the bridge connects to.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:55353")]
    server: SocketAddr,
    /// The HTTP address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The built web app (trunk's output).
    #[arg(long, value_name = "DIR", default_value = "dist")]
    web: PathBuf,
    /// Another origin whose pages may connect (repeatable), e.g. `http://music.home:8080`.
    /// The bridge's own origin and the trunk dev server's are always allowed.
    #[arg(long, value_name = "ORIGIN")]
    allow_origin: Vec<String>,
    /// WebSocket sessions served at once.
    #[arg(long, default_value_t = 1024)]
    max_sessions: usize,
    /// Seconds a browser may take no data before its session is closed.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    stall_timeout: u64,
    /// The longest reply forwarded to a browser, in octets (at most 16 MiB, the default); a
    /// longer one is answered `error reply too large` in its place.
    #[arg(long, value_name = "OCTETS", default_value_t = tapedeck_bridge::MAX_REPLY_LEN)]
    max_reply_len: usize,
    /// Serve browsers beyond loopback even when the server has no accounts: anyone who can
    /// reach the bridge can list and play everything. Without accounts, the bridge otherwise
    /// serves only on loopback, and not behind a proxy (--trust-proxy).
    #[arg(long)]
    open: bool,
    /// A reverse proxy in front of the bridge (repeatable): its `X-Forwarded-For` names the
    /// browser's address (for throttling sign-ins) and `X-Forwarded-Proto: https` makes the
    /// session cookie `Secure`. Nobody else's are believed.
    #[arg(long, value_name = "IP")]
    trust_proxy: Vec<std::net::IpAddr>,
    /// Serve HTTPS and WSS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tapedeck_cli::init_logging();
    let args = Args::parse();
    anyhow::ensure!(
        args.web.join("index.html").is_file(),
        "no web app in {} (build it with `trunk build --release`)",
        args.web.display()
    );
    tapedeck_cli::raise_open_file_limit();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let mut config = Config::new(args.server, &args.web);
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(tapedeck_bridge::tls::load(cert, key)?);
    }
    config.allow_own_origin(addr);
    config.allowed_origins.extend(args.allow_origin);
    config.max_sessions = args.max_sessions.max(1);
    config.stall_timeout = Duration::from_secs(args.stall_timeout);
    config.max_reply_len = args.max_reply_len;
    // Behind a reverse proxy, loopback is no shelter: the proxy brings the network in.
    config.open = (addr.ip().is_loopback() && args.trust_proxy.is_empty()) || args.open;
    config.trusted_proxies = args.trust_proxy;
    if !config.open {
        refuse_open_server(&config).await?;
    }
    tracing::info!(%addr, web = %config.web_dir.display(), server = %config.server, "bridge listening");
    tapedeck_bridge::serve(listener, config, tapedeck_cli::shutdown_signal()).await?;
    Ok(())
}

/// Refuses to start beyond loopback in front of a server without accounts. A server that
/// cannot be asked now is asked again for every browser (and refused then).
async fn refuse_open_server(config: &Config) -> anyhow::Result<()> {
    match tapedeck_bridge::server_is_open(config).await {
        Ok(true) => anyhow::bail!(
            "refusing to serve beyond loopback: the server at {} has no accounts, so anyone \
             could play everything. Add one with `tapedeck-server user add NAME`, or pass \
             --open to serve everyone",
            config.server
        ),
        Ok(false) => Ok(()),
        Err(err) => {
            tracing::warn!(error = %err, "cannot ask the server whether it has accounts");
            Ok(())
        }
    }
}
