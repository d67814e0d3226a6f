//! `cargo xtask run`: build everything and run the server and the bridge until Ctrl-C.

use std::process::{Child, Command};
use std::time::Duration;

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
    let tools = tools::ensure(Need::Build)?;
    build_page(&tools.path)?;
    cmd::run(cargo().args([
        "build",
        "--release",
        "--locked",
        "-p",
        "tapedeck-server",
        "-p",
        "tapedeck-bridge",
    ]))?;
    let bin = target_dir()?.join("release");
    let mut server = Command::new(bin.join("tapedeck-server"))
        .arg("--music")
        .arg(&music)
        .args(["--listen", CONTROL])
        .spawn()
        .context("start tapedeck-server")?;
    let mut bridge = Command::new(bin.join("tapedeck-bridge"))
        .args(["--listen", HTTP, "--server", CONTROL, "--web"])
        .arg(repo().join("dist"))
        .spawn()
        .context("start tapedeck-bridge")?;
    eprintln!("\nTapedeck is running on {}.", music.display());
    eprintln!("  Open http://{HTTP}/ in a browser.");
    eprintln!(
        "  The Tapedeck protocol listens on {CONTROL}: try `nc 127.0.0.1 55353` and type `list`."
    );
    eprintln!("Press Ctrl-C to stop.\n");
    let result = supervise(&mut server, &mut bridge);
    let _ = server.kill();
    let _ = bridge.kill();
    result
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
