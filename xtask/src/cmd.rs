//! Running commands loudly: every command is printed before it runs, and a failure says which.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context as _, bail};

/// Prints and runs `command`; an error if it cannot start or exits unsuccessfully.
pub fn run(command: &mut Command) -> anyhow::Result<()> {
    eprintln!("\x1b[1m$ {}\x1b[0m", describe(command));
    let status = command
        .status()
        .with_context(|| format!("cannot run {}", describe(command)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", describe(command));
    }
    Ok(())
}

/// Prints and starts `command` without waiting for it.
pub fn spawn(command: &mut Command) -> anyhow::Result<std::process::Child> {
    eprintln!("\x1b[1m$ {}\x1b[0m", describe(command));
    command
        .spawn()
        .with_context(|| format!("cannot run {}", describe(command)))
}

/// The trimmed standard output of `command`, or `None` if it cannot run or fails.
pub fn output(command: &mut Command) -> Option<String> {
    let out = command.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Where `program` is on `PATH`, if it is.
pub fn which(program: &str) -> Option<String> {
    output(Command::new("sh").args(["-c", &format!("command -v {program}")]))
}

fn describe(command: &Command) -> String {
    let args = command.get_args().map(|a| a.to_string_lossy().into_owned());
    std::iter::once(command.get_program().to_string_lossy().into_owned())
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `cargo` as invoked by the user (`CARGO`), run from the repository root.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(repo());
    command
}

/// The repository root.
pub fn repo() -> PathBuf {
    // Cargo says at run time where the package is; the path compiled in is only a fallback (a
    // target directory shared by two checkouts may hold a binary built in the other one).
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let root = manifest.join("..");
    root.canonicalize().unwrap_or(root)
}

/// Cargo's target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> anyhow::Result<PathBuf> {
    let json = output(cargo().args(["metadata", "--format-version", "1", "--no-deps"]))
        .context("cargo metadata failed")?;
    let meta: serde_json::Value = serde_json::from_str(&json)?;
    let dir = meta["target_directory"]
        .as_str()
        .context("no target_directory")?;
    Ok(PathBuf::from(dir))
}
