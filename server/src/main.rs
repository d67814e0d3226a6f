//! `tapedeck-server`: parses arguments, sets up logging, binds, and runs the server library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use tapedeck_server::{Config, Pacing};
use tracing_subscriber::EnvFilter;

/// Serves a folder of music over the Tapedeck protocol.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The music directory (default: the bundled demo library).
    #[arg(long, value_name = "DIR")]
    music: Option<PathBuf>,
    /// The control address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:55353")]
    listen: SocketAddr,
    /// Control connections served at once.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// Seconds an idle control connection (no command, nothing playing) stays open.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    idle_timeout: u64,
    /// Seconds a data port waits to be claimed.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    claim_timeout: u64,
    /// Seconds of audio sent at once when a stream starts.
    #[arg(long, value_name = "SECS", default_value_t = 3.0)]
    burst: f64,
    /// Speed after the burst, in seconds of audio per second.
    #[arg(long, value_name = "FACTOR", default_value_t = 1.25)]
    pace: f64,
    /// Send songs as fast as the client reads them.
    #[arg(long)]
    no_pacing: bool,
}

impl Args {
    fn config(&self) -> anyhow::Result<Config> {
        let mut config = Config::new(self.music.clone().unwrap_or_else(bundled_music));
        config.max_connections = self.max_connections.max(1);
        config.idle_timeout = Duration::from_secs(self.idle_timeout);
        config.claim_timeout = Duration::from_secs(self.claim_timeout);
        config.pacing = if self.no_pacing {
            None
        } else {
            anyhow::ensure!(
                self.pace > 0.0 && self.pace.is_finite(),
                "--pace must be positive"
            );
            let burst = Duration::try_from_secs_f64(self.burst).context("--burst")?;
            Some(Pacing {
                burst,
                speed: self.pace,
            })
        };
        Ok(config)
    }
}

/// `music/` in the working directory if there is one, else the demo library beside the
/// sources this binary was built from.
fn bundled_music() -> PathBuf {
    let here = PathBuf::from("music");
    if here.is_dir() {
        return here;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../music"))
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
    let config = args.config()?;
    // Every stream holds a control socket, a data socket and a file: raise the soft limit.
    if let Err(err) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::warn!(error = %err, "cannot raise the open-file limit");
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tapedeck_server::run(listener, config, shutdown_signal()).await?;
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
