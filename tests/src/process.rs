//! Real processes: find the built binaries, start them, and
//! learn the addresses they bound from their logs.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a process may take to come up before a test fails instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The repository root.
pub fn repo() -> PathBuf {
    // Cargo sets it at run time for tests and examples; the path compiled in is the fallback
    // (a target directory shared by two checkouts may hold a binary built in the other one).
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("..")
}

/// A workspace binary of the same profile as this test (built by `cargo xtask test`, or by
/// `cargo build --workspace --bins`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile directory");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace --bins` first",
        path.display()
    );
    path
}

/// A running child process whose stderr lines are collected on a thread; killed on drop.
#[derive(Debug)]
pub struct Process {
    pub child: Child,
    lines: mpsc::Receiver<String>,
}

impl Process {
    /// Starts `binary` with `args`, logging at info level to stderr.
    pub fn start(binary: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(binary)
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start process");
        let stderr = child.stderr.take().expect("piped stderr");
        Self {
            child,
            lines: forward(stderr),
        }
    }

    /// The next stderr line containing `needle`, or `None` if the process ended first.
    pub fn wait_for(&self, needle: &str) -> Option<String> {
        loop {
            let line = self.lines.recv_timeout(PATIENCE).ok()?;
            if line.contains(needle) {
                return Some(line);
            }
        }
    }

    /// The value of `addr=` on the first log line containing `needle`.
    pub fn addr(&self, needle: &str) -> SocketAddr {
        let line = self
            .wait_for(needle)
            .unwrap_or_else(|| panic!("no log line with {needle:?}"));
        let value = line
            .split("addr=")
            .nth(1)
            .and_then(|v| v.split_whitespace().next());
        value
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no addr in {line:?}"))
    }

    /// Every remaining stderr line, after the process exits.
    pub fn rest(&self) -> Vec<String> {
        self.lines.iter().collect()
    }

    /// Kills it with SIGKILL, as a crash would, and reaps it.
    pub fn crash(&mut self) {
        let status = Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let _ = self.child.wait();
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(status.success());
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn forward(stderr: ChildStderr) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("  | {line}");
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}
