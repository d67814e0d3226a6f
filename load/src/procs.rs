//! The measured processes: started next to the running binary when no address is given, and
//! read from /proc while the load runs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

/// A child killed on drop.
#[derive(Debug)]
pub struct Spawned(pub Child);

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A workspace binary built beside this one.
fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("own path")?;
    let mut path = exe.with_file_name(name);
    // An example (a benchmark) lives in `examples/`, beside the binaries' folder.
    if !path.is_file() && exe.parent().is_some_and(|p| p.ends_with("examples")) {
        if let Some(target) = exe.parent().and_then(Path::parent) {
            path = target.join(name);
        }
    }
    if !path.is_file() {
        bail!(
            "{} is missing: build it with `cargo build --release --bins`",
            path.display()
        );
    }
    Ok(path)
}

/// A port the kernel just had free.
pub fn free_port() -> std::io::Result<u16> {
    let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(probe.local_addr()?.port())
}

fn start(name: &str, args: &[&str]) -> anyhow::Result<Spawned> {
    let child = Command::new(sibling(name)?)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("start {name}"))?;
    Ok(Spawned(child))
}

/// Adds the account `user` with `password` to the database `db`, with the sibling
/// `tapedeck-server user add`.
pub fn add_user(db: &Path, user: &str, password: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut child = Command::new(sibling("tapedeck-server")?)
        .args(["user", "add", user, "--db"])
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .context("start tapedeck-server user add")?;
    child
        .stdin
        .take()
        .context("stdin")?
        .write_all(format!("{password}\n").as_bytes())?;
    anyhow::ensure!(child.wait()?.success(), "tapedeck-server user add failed");
    Ok(())
}

/// Waits until `addr` accepts connections (or 30 s pass).
async fn wait_for(addr: SocketAddr, child: &mut Spawned) -> anyhow::Result<()> {
    for _ in 0..600 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if let Some(status) = child.0.try_wait()? {
            bail!("it exited: {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{addr} did not open within 30 s")
}

/// `tapedeck-server` on `music`, with room for `clients` connections, its state in `db` (in
/// memory when `None`).
pub async fn server(
    music: &Path,
    clients: usize,
    db: Option<&Path>,
) -> anyhow::Result<(Spawned, SocketAddr)> {
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
    let limit = (clients + 64).to_string();
    let listen = addr.to_string();
    let music = music.to_str().context("a UTF-8 music path")?;
    let db = db
        .map_or(Some("memory"), Path::to_str)
        .context("a UTF-8 database path")?;
    let args = ["--music", music, "--listen", &listen, "--db", db];
    let mut child = start(
        "tapedeck-server",
        &[&args[..], &["--max-connections", &limit]].concat(),
    )?;
    wait_for(addr, &mut child)
        .await
        .context("tapedeck-server")?;
    Ok((child, addr))
}

/// `tapedeck-bridge` to `server`, with room for `clients` sessions; returns its `/ws` URL.
pub async fn bridge(
    server: SocketAddr,
    clients: usize,
    web: &Path,
) -> anyhow::Result<(Spawned, String)> {
    std::fs::write(web.join("index.html"), "<h1>Tapedeck load</h1>")?;
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
    let (listen, server, limit) = (
        addr.to_string(),
        server.to_string(),
        (clients + 64).to_string(),
    );
    let web = web.to_str().context("a UTF-8 temporary path")?;
    let args = ["--listen", &listen, "--server", &server, "--web", web];
    let mut child = start(
        "tapedeck-bridge",
        &[&args[..], &["--max-sessions", &limit]].concat(),
    )?;
    wait_for(addr, &mut child)
        .await
        .context("tapedeck-bridge")?;
    Ok((child, format!("ws://{addr}/ws")))
}

/// CPU seconds (user + system) and resident memory of a process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub cpu_seconds: f64,
    /// CPU seconds of its children that have ended and been waited for (websockify forks one
    /// per connection).
    pub reaped_cpu_seconds: f64,
    pub rss_kib: u64,
    pub peak_rss_kib: u64,
}

/// Reads `pid`'s usage from /proc; `None` if it is gone.
pub fn usage(pid: u32) -> Option<Usage> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split(' ').collect();
    let ticks = |range: std::ops::Range<usize>| -> Option<f64> {
        let mut sum = 0.0;
        for field in fields.get(range)? {
            sum += field.parse::<f64>().ok()?;
        }
        Some(sum / 100.0)
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0)
    };
    // Clock ticks: USER_HZ is 100 on every Linux this runs on.
    Some(Usage {
        cpu_seconds: ticks(11..13)?,
        reaped_cpu_seconds: ticks(13..15)?,
        rss_kib: kib("VmRSS:"),
        peak_rss_kib: kib("VmHWM:"),
    })
}
