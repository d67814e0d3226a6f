//! `tapedeck-bridge`: serves the Tapedeck web app.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Tapedeck's front door for browsers.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The Tapedeck server's control address (used by the WebSocket endpoint, coming soon).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:55353")]
    server: SocketAddr,
    /// The HTTP address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The built web app (trunk's output).
    #[arg(long, value_name = "DIR", default_value = "dist")]
    web: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    anyhow::ensure!(
        args.web.join("index.html").is_file(),
        "no web app in {} (build it with `trunk build --release`)",
        args.web.display()
    );
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, web = %args.web.display(), server = %args.server, "bridge listening");
    axum::serve(listener, tapedeck_bridge::router(&args.web))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
