//! The whole system as real processes: the server on a music folder and the bridge in front of
//! it serving the built page.

use std::path::{Path, PathBuf};

use crate::process::{Process, binary, repo};

/// The trunk output: `TAPEDECK_DIST`, or `dist/` at the repository root.
pub fn dist() -> PathBuf {
    let dir = std::env::var_os("TAPEDECK_DIST").map_or_else(|| repo().join("dist"), PathBuf::from);
    assert!(
        dir.join("index.html").is_file(),
        "no page in {}: run `trunk build --release --offline` (cargo xtask test does)",
        dir.display()
    );
    dir
}

/// A port the kernel just had free.
pub fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    probe.local_addr().expect("addr").port()
}

/// `tapedeck-server` on `music`, listening on `listen`, its index in memory (ids from 1 in
/// order of name, as every test here expects).
pub fn server(music: &Path, listen: &str) -> Process {
    let music = music.to_str().expect("utf-8 path");
    Process::start(
        &binary("tapedeck-server"),
        &["--listen", listen, "--music", music, "--db", "memory"],
    )
}

/// A running server and bridge.
#[derive(Debug)]
pub struct System {
    pub server: Process,
    /// The server's control address.
    pub server_addr: String,
    pub bridge: Process,
    /// The page's URL.
    pub page: String,
}

impl System {
    /// The demo library behind a bridge serving the built page, both on free ports.
    pub fn start() -> Self {
        Self::start_on(&repo().join("music"))
    }

    /// As [`System::start`], serving `music`.
    pub fn start_on(music: &Path) -> Self {
        let server = server(music, "127.0.0.1:0");
        let server_addr = server.addr("serving").to_string();
        let bridge = bridge(&server_addr, "127.0.0.1:0", &dist());
        let page = format!("http://{}/", bridge.addr("bridge listening"));
        Self {
            server,
            server_addr,
            bridge,
            page,
        }
    }
}

/// `tapedeck-bridge` to `server`, listening on `listen`, serving `web`.
pub fn bridge(server: &str, listen: &str, web: &Path) -> Process {
    let web = web.to_str().expect("utf-8 path");
    let args = ["--listen", listen, "--server", server, "--web", web];
    Process::start(&binary("tapedeck-bridge"), &args)
}
