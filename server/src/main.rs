//! `tapedeck-server`: parses arguments, sets up logging, binds, and runs the server library.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tapedeck_server::{Config, Pacing};

mod users;

/// Serves a folder of music over the Tapedeck protocol.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    command: Option<Admin>,
    /// The music directory (default: the bundled demo library).
    #[arg(long, value_name = "DIR")]
    music: Option<PathBuf>,
    /// The library index (SQLite): song ids stay the same across restarts, and a restart
    /// serves at once instead of reading every tag again. One file may index several music
    /// folders. `memory` keeps it in memory only. Default: `$XDG_DATA_HOME/tapedeck/
    /// tapedeck.sqlite3`, else `~/.local/share/tapedeck/tapedeck.sqlite3` (outside the music
    /// folder, which may be read-only).
    /// The accounts are kept in the same file.
    #[arg(long, value_name = "PATH|memory", global = true)]
    db: Option<PathBuf>,
    /// Do not follow filesystem notifications (the periodic rescan still runs).
    #[arg(long)]
    no_watch: bool,
    /// Seconds between rescans of the music folder, for filesystems that do not notify
    /// (network shares); 0: never. Notifications are followed within about a second.
    #[arg(long, value_name = "SECS", default_value_t = 900)]
    rescan_interval: u64,
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
    /// Speed after the burst, in seconds of audio per second: at least 1, or a client playing
    /// in real time would run out.
    #[arg(long, value_name = "FACTOR", default_value_t = 1.25)]
    pace: f64,
    /// Send songs as fast as the client reads them.
    #[arg(long)]
    no_pacing: bool,
    /// Take data ports only from this range, in turn (for a firewall, say), or `any` to let
    /// the kernel pick each one (much slower when plays come by the hundred per second).
    /// Default: the kernel's ephemeral port range, in turn.
    #[arg(long, value_name = "FIRST-LAST|any", value_parser = port_range)]
    data_ports: Option<PortChoice>,
    /// Serve without accounts on an address beyond loopback: anyone who can reach the server
    /// can list and play everything. Without accounts, the server otherwise listens on
    /// loopback only; with at least one account, everyone must sign in and this changes
    /// nothing.
    #[arg(long)]
    open: bool,
    /// Seconds a session stays signed in after it was last used.
    #[arg(long, value_name = "SECS", default_value_t = 30 * 24 * 3600)]
    session_lifetime: u64,
    /// A bridge on another host (repeatable): its `via` is believed, so sign-ins through it
    /// are throttled by its browsers' addresses (loopback peers always are).
    #[arg(long = "bridge", value_name = "IP")]
    bridges: Vec<std::net::IpAddr>,
}

/// Administration, on the database file (`--db`); a running server notices within seconds.
#[derive(Debug, Subcommand)]
enum Admin {
    /// Manage accounts: once one exists, nobody uses the server without signing in.
    #[command(subcommand)]
    User(users::Action),
}

/// What `--data-ports` says.
#[derive(Debug, Clone)]
enum PortChoice {
    Range(RangeInclusive<u16>),
    Any,
}

/// Parses `FIRST-LAST` (both ports, FIRST <= LAST) or `any`.
fn port_range(text: &str) -> Result<PortChoice, String> {
    if text == "any" {
        return Ok(PortChoice::Any);
    }
    let (first, last) = text
        .split_once('-')
        .ok_or("expected FIRST-LAST, for example 40000-49999")?;
    let port = |p: &str| match p.trim().parse::<u16>() {
        Ok(0) | Err(_) => Err(format!("{p:?} is not a port from 1 to 65535")),
        Ok(port) => Ok(port),
    };
    let (first, last) = (port(first)?, port(last)?);
    if first > last {
        return Err(format!("{first} is above {last}"));
    }
    Ok(PortChoice::Range(first..=last))
}

impl Args {
    /// The database file, `None` for `--db memory`.
    fn db(&self) -> anyhow::Result<Option<PathBuf>> {
        Ok(match &self.db {
            Some(path) if path.as_os_str() == "memory" => None,
            Some(path) => Some(path.clone()),
            None => Some(
                default_db()
                    .context("no home folder for the index: give --db PATH (or --db memory)")?,
            ),
        })
    }

    fn config(&self) -> anyhow::Result<Config> {
        let mut config = Config::new(self.music.clone().unwrap_or_else(bundled_music));
        config.db = self.db()?;
        config.max_connections = self.max_connections.max(1);
        config.open = self.open;
        config.session_lifetime = Duration::from_secs(self.session_lifetime.max(60));
        config.bridges.clone_from(&self.bridges);
        config.follow = Some(tapedeck_server::Follow {
            watch: !self.no_watch,
            rescan_every: (self.rescan_interval > 0)
                .then(|| Duration::from_secs(self.rescan_interval)),
            ..tapedeck_server::Follow::default()
        });
        config.idle_timeout = Duration::from_secs(self.idle_timeout);
        config.claim_timeout = Duration::from_secs(self.claim_timeout);
        match &self.data_ports {
            Some(PortChoice::Range(range)) => {
                config.data_ports = Some(range.clone());
                config.data_ports_only = true;
            }
            Some(PortChoice::Any) => config.data_ports = None,
            None => {}
        }
        config.pacing = if self.no_pacing {
            None
        } else {
            anyhow::ensure!(
                self.pace >= 1.0 && self.pace.is_finite(),
                "--pace must be at least 1 (real time), or a client would run out"
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

/// Where the index is kept unless `--db` says: the XDG data folder.
fn default_db() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share"))
        })?;
    Some(data.join("tapedeck").join("tapedeck.sqlite3"))
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

/// Threads for blocking work (opening and reading song files). Tokio's default is 512; each
/// thread that ever runs gets a glibc malloc arena, so a pool that grows with every burst of
/// stops (a stopped play's read still in flight) makes the resident set creep up over
/// thousands of plays. Reads from the page cache take microseconds: a few threads keep up.
const BLOCKING_THREADS: usize = 8;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(Admin::User(action)) = &args.command {
        let db = args
            .db()?
            .context("accounts need a database file, not --db memory")?;
        return users::run(&db, action);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
        .context("cannot start the runtime")?
        .block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<()> {
    tapedeck_cli::init_logging();
    let config = args.config()?;
    tapedeck_cli::raise_open_file_limit();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tapedeck_server::run(listener, config, tapedeck_cli::shutdown_signal()).await?;
    Ok(())
}
