//! Installs what a fresh machine with rustup lacks: the wasm target, trunk, the wasm-bindgen CLI
//! that matches Cargo.lock, wasm-opt (binaryen from npm), and for tests Debian's Chromium,
//! ChromeDriver and ffmpeg. Each is checked first and installed only when missing.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context as _, bail};

use crate::cmd::{self, output};

/// trunk's version: 0.22 needs a newer rustc than the machines have.
const TRUNK: &str = "0.21.14";
/// binaryen's version: Debian's (108) fails on what current rustc emits.
const BINARYEN: &str = "132";

/// What a task needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Building and running the system.
    Build,
    /// Building, plus the browser and reference tools the tests use.
    Everything,
}

/// The environment the tools run in: `PATH` with the tools folder in front.
#[derive(Debug)]
pub struct Tools {
    pub path: OsString,
}

/// Installs whatever is missing for `need`.
pub fn ensure(need: Need) -> anyhow::Result<Tools> {
    wasm_target()?;
    let bindgen = wasm_bindgen_version()?;
    // Built side by side: each has stretches where one core idles (a big crate, a link).
    let trunk = CargoTool {
        bin: "trunk",
        krate: "trunk",
        version: TRUNK.to_owned(),
        why: "builds the web page",
        // No TLS and no update check: trunk runs offline here, and rustls is most of its build.
        extra: &["--locked", "--no-default-features"],
        opt_level: "1",
    };
    let wasm_bindgen = CargoTool {
        bin: "wasm-bindgen",
        krate: "wasm-bindgen-cli",
        version: bindgen,
        why: "generates the page's JavaScript glue, matching Cargo.lock",
        // Without --locked: one of its locked dependencies is missing from the registry here.
        extra: &[],
        opt_level: "1",
    };
    install_all(&[trunk, wasm_bindgen])?;
    let bin = wasm_opt()?;
    if need == Need::Everything {
        debian(&[
            ("chromium", "chromium"),
            ("chromedriver", "chromium-driver"),
            ("ffprobe", "ffmpeg"),
        ])?;
    }
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    Ok(Tools {
        path: std::env::join_paths(paths)?,
    })
}

/// A tool built with `cargo install`.
#[derive(Debug)]
struct CargoTool {
    bin: &'static str,
    krate: &'static str,
    version: String,
    /// What it is for and what it costs, told before it is built.
    why: &'static str,
    extra: &'static [&'static str],
    /// Tools run briefly: a lower optimisation level builds faster and costs them little.
    opt_level: &'static str,
}

impl CargoTool {
    fn installed(&self) -> bool {
        let have = output(Command::new(self.bin).arg("--version"));
        have.is_some_and(|v| v.split_whitespace().any(|w| w == self.version))
    }

    fn command(&self) -> Command {
        let mut command = Command::new("cargo");
        command
            .args(["install", self.krate, "--version", &self.version])
            .args(self.extra)
            .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", self.opt_level)
            .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
            .env("CARGO_TERM_PROGRESS_WHEN", "never");
        command
    }
}

/// Installs the tools that are missing, all at once, saying what and why first.
fn install_all(tools: &[CargoTool]) -> anyhow::Result<()> {
    let missing: Vec<&CargoTool> = tools.iter().filter(|t| !t.installed()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!(
        "\x1b[1mFirst run: building the tools this machine lacks, side by side (once; about 5 minutes\n  on two cores; later runs skip this):\x1b[0m"
    );
    for tool in &missing {
        eprintln!("  {} {}: {}", tool.krate, tool.version, tool.why);
    }
    let started = std::time::Instant::now();
    let children = missing
        .iter()
        .map(|tool| cmd::spawn(&mut tool.command()).map(|child| (tool, child)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for (tool, mut child) in children {
        let status = child.wait()?;
        if !status.success() {
            bail!(
                "installing {} {} failed ({status})",
                tool.krate,
                tool.version
            );
        }
        eprintln!(
            "\x1b[1m  {} {} installed ({} s in)\x1b[0m",
            tool.krate,
            tool.version,
            started.elapsed().as_secs()
        );
    }
    Ok(())
}

/// Where downloaded tools live: `TAPEDECK_TOOLS`, else a cache folder outside the clone.
fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TAPEDECK_TOOLS") {
        return dir.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into())).join(".cache")
        });
    cache.join("tapedeck").join("tools")
}

fn wasm_target() -> anyhow::Result<()> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]));
    if installed.is_some_and(|t| t.lines().any(|l| l == "wasm32-unknown-unknown")) {
        return Ok(());
    }
    cmd::run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The wasm-bindgen version pinned in Cargo.lock.
fn wasm_bindgen_version() -> anyhow::Result<String> {
    let lock = std::fs::read_to_string(cmd::repo().join("Cargo.lock")).context("Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            let version = lines.next().and_then(|l| l.strip_prefix("version = \""));
            return version
                .map(|v| v.trim_end_matches('"').to_owned())
                .context("version line");
        }
    }
    bail!("wasm-bindgen is not in Cargo.lock")
}

/// binaryen from npm into the tools folder; returns the folder holding `wasm-opt`.
fn wasm_opt() -> anyhow::Result<PathBuf> {
    let dir = tools_dir();
    let bin = dir.join("node_modules").join(".bin");
    let have = output(Command::new(bin.join("wasm-opt")).arg("--version"));
    if have.is_some_and(|v| v.contains(&format!("version {BINARYEN}"))) {
        return Ok(bin);
    }
    if output(Command::new("npm").arg("--version")).is_none() {
        debian(&[("npm", "npm")])?;
    }
    std::fs::create_dir_all(&dir)?;
    let package = format!("binaryen@{BINARYEN}");
    cmd::run(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg(package),
    )?;
    Ok(bin)
}

/// Installs the Debian packages whose programs are missing (as root, or through sudo).
fn debian(wanted: &[(&str, &str)]) -> anyhow::Result<()> {
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(bin, _)| cmd::which(bin).is_none())
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let root = output(Command::new("id").arg("-u")).as_deref() == Some("0");
    let apt = |args: &[&str]| {
        let mut command = if root {
            Command::new("apt-get")
        } else {
            Command::new("sudo")
        };
        if !root {
            command.arg("apt-get");
        }
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    cmd::run(&mut apt(&["update", "-q"]))?;
    cmd::run(apt(&["install", "-y", "-q"]).args(&missing))
}
