//! `tapedeck-load`: N simulated listeners against a Tapedeck server, over the raw protocol or
//! through the bridge's WebSocket.
//!
//! Each listener plays songs on a real-time clock fed by the bytes it receives (at the song's
//! byte rate, after a pre-buffer) and counts underruns. The run reports time to first byte,
//! underruns, bytes after a stop, and the CPU and memory of the server and the bridge, read
//! from /proc. Without `--server`/`--bridge` it starts both itself, next to its own binary.
//!
//! ```text
//! cargo build --release --bins
//! target/release/tapedeck-load --listeners 2000 --scenario steady --seconds 60
//! target/release/tapedeck-load --via bridge --listeners 500 --scenario churn
//! ```

mod clock;
mod listener;
mod raw;
mod report;
mod transport;
mod ws;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use tapedeck_protocol::{Command, Reply, SongInfo};
use tokio::time::Instant;

use crate::listener::{Plan, Scenario};
use crate::transport::{Conn, Target};
use tapedeck_load::procs::{self, Spawned};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Via {
    /// The raw protocol, straight to the server.
    Server,
    /// WebSockets through the bridge.
    Bridge,
}

/// Simulated listeners against a Tapedeck server.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// How listeners connect.
    #[arg(long, value_enum, default_value_t = Via::Server)]
    via: Via,
    /// What listeners do.
    #[arg(long, value_enum, default_value_t = Scenario::Steady)]
    scenario: Scenario,
    /// Concurrent listeners.
    #[arg(long, default_value_t = 100)]
    listeners: usize,
    /// Seconds over which listeners join, one after another.
    #[arg(long, default_value_t = 10.0)]
    ramp: f64,
    /// Seconds of full load after the ramp; CPU and memory are measured over them.
    #[arg(long, default_value_t = 30.0)]
    seconds: f64,
    /// Play only this song id (default: every song, listeners spread over them).
    #[arg(long)]
    song: Option<u32>,
    /// Pre-buffer before playback starts, in milliseconds.
    #[arg(long, default_value_t = 200)]
    prebuffer_ms: u64,
    /// Seed of the churn's random choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The music folder for a server this starts.
    #[arg(long, value_name = "DIR", default_value = "music")]
    music: PathBuf,
    /// A running server's control address (then nothing is started).
    #[arg(long, value_name = "ADDR")]
    server: Option<SocketAddr>,
    /// A running bridge's WebSocket URL, `ws://HOST:PORT/ws` (with `--via bridge`).
    #[arg(long, value_name = "URL")]
    bridge: Option<String>,
    /// The running server's process id, to read its CPU and memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The running bridge's process id, to read its CPU and memory.
    #[arg(long)]
    bridge_pid: Option<u32>,
    /// Also write the summary as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// With accounts: the server this starts has one, signed into once; every listener
    /// connects with that session (`session <id>` raw, the cookie through the bridge), as
    /// signed-in devices do.
    #[arg(long)]
    accounts: bool,
}

/// The account `--accounts` makes.
const LOAD_USER: &str = "load";
const LOAD_PASSWORD: &str = "load generator password";

/// The system under load, and what is measured of it.
struct Setup {
    target: Target,
    watched: Vec<(&'static str, u32)>,
    _children: Vec<Spawned>,
    _web: Option<tempfile::TempDir>,
    _db: Option<tempfile::TempDir>,
}

async fn setup(args: &Args) -> anyhow::Result<Setup> {
    let mut children = Vec::new();
    let mut watched = Vec::new();
    let db = args.accounts.then(tempfile::tempdir).transpose()?;
    let db_path = db.as_ref().map(|dir| dir.path().join("tapedeck.sqlite3"));
    if let Some(path) = &db_path {
        procs::add_user(path, LOAD_USER, LOAD_PASSWORD)?;
    }
    let server = match args.server {
        Some(addr) => {
            watched.extend(args.server_pid.map(|pid| ("server", pid)));
            Some(addr)
        }
        None if args.via == Via::Bridge && args.bridge.is_some() => None,
        None => {
            let (child, addr) =
                procs::server(&args.music, args.listeners, db_path.as_deref()).await?;
            watched.push(("server", child.0.id()));
            children.push(child);
            Some(addr)
        }
    };
    let session = match (args.accounts, server) {
        (true, Some(addr)) => Some(sign_in(addr).await?),
        (true, None) => bail!("--accounts needs the server this starts"),
        (false, _) => None,
    };
    let mut web = None;
    let target = match (args.via, server, &args.bridge) {
        (Via::Server, Some(addr), _) => Target::Server(addr, session),
        (Via::Server, None, _) => bail!("--via server needs a server"),
        (Via::Bridge, _, Some(url)) => {
            watched.extend(args.server_pid.map(|pid| ("server", pid)));
            watched.extend(args.bridge_pid.map(|pid| ("bridge", pid)));
            Target::Bridge(url.clone(), session)
        }
        (Via::Bridge, Some(addr), None) => {
            let dir = tempfile::tempdir()?;
            let (child, url) = procs::bridge(addr, args.listeners, dir.path()).await?;
            watched.push(("bridge", child.0.id()));
            children.push(child);
            web = Some(dir);
            Target::Bridge(url, session)
        }
        (Via::Bridge, None, None) => bail!("--via bridge needs a bridge"),
    };
    Ok(Setup {
        target,
        watched,
        _children: children,
        _web: web,
        _db: db,
    })
}

/// Signs in once as the load's account: the session every listener uses.
async fn sign_in(server: std::net::SocketAddr) -> anyhow::Result<String> {
    let mut conn = Conn::connect(&Target::Server(server, None)).await?;
    let reply = conn
        .command(&format!("login {LOAD_USER} {LOAD_PASSWORD}"))
        .await?;
    match reply.split(' ').collect::<Vec<_>>()[..] {
        ["session", id, _] => Ok(id.to_owned()),
        _ => bail!("sign-in refused: {reply}"),
    }
}

/// The songs to play and their byte rates, from `info`.
async fn songs(target: &Target, only: Option<u32>) -> anyhow::Result<Vec<(u32, f64)>> {
    let mut conn = Conn::connect(target).await.context("first connection")?;
    let line = conn.command("info").await?;
    let Reply::Info(infos) = Reply::parse(&Command::Info(None), &line)? else {
        bail!("info answered {line:?}");
    };
    let songs: Vec<(u32, f64)> = infos
        .iter()
        .filter(|s| only.is_none_or(|id| s.id.0 == id))
        .map(|s| (s.id.0, byte_rate(s)))
        .collect();
    if songs.is_empty() {
        bail!("no song to play");
    }
    Ok(songs)
}

/// Bytes per second of playing time: the file's size over its duration, else its bitrate.
fn byte_rate(song: &SongInfo) -> f64 {
    if song.duration_ms > 0 {
        song.size as f64 * 1000.0 / song.duration_ms as f64
    } else {
        f64::from(song.bitrate) / 8.0
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tapedeck_cli::raise_open_file_limit();
    let setup = setup(&args).await?;
    let songs = songs(&setup.target, args.song).await?;
    let plan = Arc::new(Plan {
        target: setup.target.clone(),
        scenario: args.scenario,
        songs,
        prebuffer: Duration::from_millis(args.prebuffer_ms),
        seed: args.seed,
    });
    let begin = Instant::now();
    let steady = begin + Duration::from_secs_f64(args.ramp);
    let deadline = steady + Duration::from_secs_f64(args.seconds);
    let gap = Duration::from_secs_f64(args.ramp / args.listeners.max(1) as f64);
    let tasks: Vec<_> = (0..args.listeners)
        .map(|i| {
            let start = begin + gap * i as u32;
            tokio::spawn(listener::run(i, plan.clone(), start, deadline))
        })
        .collect();
    tokio::time::sleep_until(steady).await;
    let usage = report::watch(&setup.watched, deadline).await;
    let mut records = Vec::with_capacity(tasks.len());
    for task in tasks {
        records.push(task.await.context("a listener panicked")?);
    }
    let summary = report::Summary::new(&args, records, usage);
    print!("{summary}");
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&summary)?)?;
    }
    Ok(())
}
