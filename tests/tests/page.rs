//! The built page, served by the real bridge, loaded by a real headless Chromium.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;

use tapedeck_tests::system::dist;
use tapedeck_tests::{PATIENCE, Process, binary};

fn start_bridge() -> (Process, SocketAddr) {
    let web = dist();
    let args = [
        "--listen",
        "127.0.0.1:0",
        "--web",
        web.to_str().expect("utf-8 path"),
    ];
    let bridge = Process::start(&binary("tapedeck-bridge"), &args);
    let addr = bridge.addr("bridge listening");
    (bridge, addr)
}

/// A raw HTTP/1.1 GET; returns the response head in lower case.
fn head(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("response");
    let text = String::from_utf8_lossy(&response).to_lowercase();
    text.split("\r\n\r\n").next().unwrap_or_default().to_owned()
}

#[test]
fn the_bridge_serves_the_page_with_types_and_caching() {
    let (_bridge, addr) = start_bridge();
    let index = head(addr, "/");
    assert!(
        index.starts_with("http/1.1 200") && index.contains("content-type: text/html"),
        "{index}"
    );
    assert!(index.contains("cache-control: no-cache"), "{index}");
    let wasm = std::fs::read_dir(dist())
        .expect("dist")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| n.ends_with(".wasm"))
        .expect("a wasm file");
    let asset = head(addr, &format!("/{wasm}"));
    assert!(asset.contains("content-type: application/wasm"), "{asset}");
    assert!(asset.contains("immutable"), "{asset}");
    assert!(head(addr, "/no-such-file").starts_with("http/1.1 404"));
}

#[test]
fn headless_chromium_renders_the_app() {
    let (_bridge, addr) = start_bridge();
    let profile = std::env::temp_dir().join(format!("tapedeck-chromium-{}", std::process::id()));
    let out = Command::new("chromium")
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
        ])
        .args([
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
        ])
        .args([
            "--disable-sync",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("http://{addr}/"))
        .output()
        .expect("chromium runs (Debian package chromium; `cargo xtask test` installs it)");
    let _ = std::fs::remove_dir_all(&profile);
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<h1>Tapedeck</h1>"),
        "the app did not render:\n{dom}"
    );
    assert!(
        dom.contains(&format!("version {}", env!("CARGO_PKG_VERSION"))),
        "{dom}"
    );
}
