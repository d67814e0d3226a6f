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
    cargo_tool("trunk", "trunk", TRUNK, &["--locked"])?;
    let bindgen = wasm_bindgen_version()?;
    // Without --locked: one of its locked dependencies is missing from the registry here.
    cargo_tool("wasm-bindgen", "wasm-bindgen-cli", &bindgen, &[])?;
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

/// Installs `krate` at `version` with cargo unless `bin --version` already reports it.
fn cargo_tool(bin: &str, krate: &str, version: &str, extra: &[&str]) -> anyhow::Result<()> {
    let have = output(Command::new(bin).arg("--version"));
    if have.is_some_and(|v| v.split_whitespace().any(|w| w == version)) {
        return Ok(());
    }
    cmd::run(
        Command::new("cargo")
            .args(["install", krate, "--version", version])
            .args(extra),
    )
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
