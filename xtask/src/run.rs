//! `cargo xtask run`: build everything and run the server and the bridge until Ctrl-C.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::cmd::{self, cargo, repo, target_dir};
use crate::tools::{self, Need};

/// The server's control address and the bridge's HTTP address.
const CONTROL: &str = "127.0.0.1:55353";
const HTTP: &str = "127.0.0.1:8080";

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let music = match args {
        [] => repo().join("music"),
        [flag, dir] if flag == "--music" => dir.into(),
        _ => bail!("usage: cargo xtask run [--music DIR]"),
    };
    // The server and bridge build while missing tools build (each in its own target
    // directory); the page needs both the tools and the target directory, so it comes last.
    let mut native = cmd::spawn(cargo().args([
        "build",
        "--release",
        "--locked",
        "-p",
        "tapedeck-server",
        "-p",
        "tapedeck-bridge",
    ]))?;
    let tools = tools::ensure(Need::Build);
    let built = native.wait()?;
    let tools = tools?;
    if !built.success() {
        bail!("building the server and the bridge failed ({built})");
    }
    build_page(&tools.path)?;
    let bin = target_dir()?.join("release");
    let music_arg = music
        .to_str()
        .context("the music folder's path is not UTF-8")?;
    let mut server = Command::new(bin.join("tapedeck-server"));
    server.args(["--music", music_arg, "--listen", CONTROL]);
    let dist = repo().join("dist");
    let web = dist
        .to_str()
        .context("the repository's path is not UTF-8")?;
    let mut bridge = Command::new(bin.join("tapedeck-bridge"));
    bridge.args(["--listen", HTTP, "--server", CONTROL, "--web", web]);
    let (mut server, server_up) =
        spawn_logged(&mut server, "serving").context("start tapedeck-server")?;
    let (mut bridge, bridge_up) =
        spawn_logged(&mut bridge, "bridge listening").context("start tapedeck-bridge")?;
    let up = wait_up(&mut server, &server_up, "server")
        .and_then(|()| wait_up(&mut bridge, &bridge_up, "bridge"));
    if let Err(err) = up {
        let _ = server.kill();
        let _ = bridge.kill();
        return Err(err);
    }
    banner(&music);
    let result = supervise(&mut server, &mut bridge);
    let _ = server.kill();
    let _ = bridge.kill();
    result
}

/// How long the server (scanning the library) and the bridge may take to come up.
const START_PATIENCE: Duration = Duration::from_secs(120);

/// Starts `command` with its log forwarded to ours line by line; the receiver hears once a
/// line containing `ready` has gone by.
fn spawn_logged(
    command: &mut Command,
    ready: &'static str,
) -> anyhow::Result<(Child, Receiver<()>)> {
    let mut child = command.stderr(Stdio::piped()).spawn()?;
    let stderr = child.stderr.take().context("piped stderr")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            // Whole lines under the lock: the banner is never cut by a log line.
            writeln!(std::io::stderr().lock(), "{line}").ok();
            if line.contains(ready) {
                let _ = tx.send(());
            }
        }
    });
    Ok((child, rx))
}

/// Waits until `child` says it is ready, failing if it exits or takes too long.
fn wait_up(child: &mut Child, ready: &Receiver<()>, name: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + START_PATIENCE;
    loop {
        match ready.recv_timeout(Duration::from_millis(100)) {
            Ok(()) => return Ok(()),
            Err(RecvTimeoutError::Disconnected) => bail!("the {name} stopped before it was up"),
            Err(RecvTimeoutError::Timeout) => {}
        }
        if let Some(status) = child.try_wait()? {
            bail!("the {name} stopped before it was up: {status}");
        }
        if Instant::now() > deadline {
            bail!("the {name} did not come up within {START_PATIENCE:?}");
        }
    }
}

/// Says where everything is, in one piece (log lines wait for it: see `spawn_logged`).
fn banner(music: &std::path::Path) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "\nTapedeck is running on {}.\n  Open http://{HTTP}/ in a browser.\n  \
         The Tapedeck protocol listens on {CONTROL}: try `nc 127.0.0.1 55353` and type `list`.\n\
         Press Ctrl-C to stop.\n",
        music.display()
    );
}

/// The release build of the web app into `dist/`, offline: trunk uses the tools on `path`.
pub fn build_page(path: &std::ffi::OsStr) -> anyhow::Result<()> {
    cmd::run(
        Command::new("trunk")
            .args(["build", "--release", "--offline", "--locked"])
            .current_dir(repo())
            .env("PATH", path),
    )
}

/// Waits until either process exits, and says which and how.
fn supervise(server: &mut Child, bridge: &mut Child) -> anyhow::Result<()> {
    loop {
        for (name, child) in [("server", &mut *server), ("bridge", &mut *bridge)] {
            if let Some(status) = child.try_wait()? {
                if status.success() {
                    return Ok(());
                }
                bail!("the {name} stopped: {status}");
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
