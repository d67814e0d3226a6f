//! Benchmark of the real bridge binary (and, side by side, websockify) as separate processes.
//!
//! ```text
//! pip install websockify            # optional: the comparison is skipped without it
//! cargo build --release -p tapedeck-server -p tapedeck-bridge --bins --examples
//! target/release/examples/bridge_bench
//! ```
//!
//! Phases: per-session RSS of the bridge with 1,000 idle and 500 streaming sessions (paced
//! 320 kbit/s); throughput of one session relaying a 100 MB file unpaced, with the relay's CPU
//! seconds, against websockify relaying the same file from a plain TCP source; `list` round
//! trips through the bridge against straight to the server.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tapedeck_load::procs;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join(name)
}

fn free_port() -> u16 {
    procs::free_port().expect("a free port")
}

fn spawn(program: &Path, args: &[&str]) -> Child {
    Command::new(program)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn")
}

async fn wait_listening(port: u16) {
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// (CPU seconds, RSS KiB) of a process, including its reaped children (websockify forks one
/// per connection).
fn usage(pid: u32) -> (f64, u64) {
    let u = procs::usage(pid).expect("the process is running");
    (u.cpu_seconds + u.reaped_cpu_seconds, u.rss_kib)
}

async fn ws(port: u16) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
        .await
        .expect("ws");
    ws
}

async fn text(ws: &mut Ws) -> String {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return t.to_string(),
            Some(Ok(_)) => continue,
            other => panic!("no text: {other:?}"),
        }
    }
}

fn make_library(dir: &Path) {
    let status = Command::new("ffmpeg")
        .args([
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=120",
        ])
        .args(["-ac", "2", "-c:a", "libmp3lame", "-b:a", "320k"])
        .arg(dir.join("a.mp3"))
        .status()
        .expect("ffmpeg");
    assert!(status.success());
    // 100 MB of WAV for throughput.
    let mut wav = Vec::with_capacity(100_000_044);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(100_000_036u32).to_le_bytes());
    wav.extend_from_slice(
        b"WAVEfmt \x10\0\0\0\x01\0\x02\0\x44\xac\0\0\x10\xb1\x02\0\x04\0\x10\0data",
    );
    wav.extend_from_slice(&(100_000_000u32).to_le_bytes());
    wav.resize(100_000_044, 7);
    std::fs::write(dir.join("b.wav"), wav).expect("wav");
}

async fn idle_and_streaming(bridge: u16, pid: u32) {
    let (_, base) = usage(pid);
    let mut idle = Vec::new();
    for _ in 0..1000 {
        let mut s = ws(bridge).await;
        s.send(Message::text("list")).await.expect("send");
        text(&mut s).await;
        idle.push(s);
    }
    let (_, with_idle) = usage(pid);
    println!(
        "bridge RSS: {:.1} MiB at rest; 1,000 idle sessions: +{:.1} KiB per session",
        base as f64 / 1024.0,
        (with_idle - base) as f64 / 1000.0
    );
    drop(idle);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, rest) = usage(pid);
    let mut tasks = Vec::new();
    for _ in 0..500 {
        tasks.push(tokio::spawn(async move {
            let mut s = ws(bridge).await;
            s.send(Message::text("play 1")).await.expect("send");
            drain(&mut s).await
        }));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (cpu0, _) = usage(pid);
    tokio::time::sleep(Duration::from_secs(20)).await;
    let (cpu1, streaming) = usage(pid);
    println!(
        "500 streaming sessions (320 kbit/s, paced): +{:.1} KiB per session over the bridge at rest, \
        +{:.1} KiB over its RSS after the idle phase; bridge CPU {:.1}% of one core",
        streaming.saturating_sub(base) as f64 / 500.0,
        streaming.saturating_sub(rest) as f64 / 500.0,
        (cpu1 - cpu0) / 20.0 * 100.0
    );
    for t in tasks {
        t.abort();
    }
}

/// Reads binary messages until the relay closes or says the play ended; returns the count.
async fn drain(ws: &mut Ws) -> u64 {
    let mut bytes = 0;
    while let Some(Ok(message)) = ws.next().await {
        match message {
            Message::Binary(b) => bytes += b.len() as u64,
            Message::Text(t) if t.starts_with("event ") => break,
            _ => {}
        }
    }
    bytes
}

/// Times `relay` (which moves `b.wav` through a WebSocket) and the CPU `pid` spends on it:
/// returns (MB/s, CPU seconds per GB).
async fn measure(pid: u32, relay: impl std::future::Future<Output = u64>) -> (f64, f64) {
    let (cpu0, _) = usage(pid);
    let start = Instant::now();
    let bytes = relay.await;
    let secs = start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await; // let a forked child be reaped
    let (cpu1, _) = usage(pid);
    assert!(bytes >= 100_000_000, "relayed only {bytes} bytes");
    (
        bytes as f64 / 1e6 / secs,
        (cpu1 - cpu0) / (bytes as f64 / 1e9),
    )
}

/// Plays `b.wav` on a direct control connection and returns its data port and token: the
/// very stream the bridge relays, for websockify to relay.
async fn announce(server: u16) -> (u16, String) {
    let tcp = TcpStream::connect(("127.0.0.1", server))
        .await
        .expect("connect");
    let (r, mut w) = tcp.into_split();
    w.write_all(b"play 2\n").await.expect("play");
    let mut line = String::new();
    BufReader::new(r).read_line(&mut line).await.expect("reply");
    let words: Vec<&str> = line.split_whitespace().collect();
    std::mem::forget(w); // keep the control connection (and so the play) open
    (words[1].parse().expect("port"), words[2].to_owned())
}

async fn websockify_relay(server: u16) -> Option<(f64, f64, Child)> {
    let (data_port, token) = announce(server).await;
    let ws_port = free_port();
    let child = Command::new("websockify")
        .args([
            format!("127.0.0.1:{ws_port}"),
            format!("127.0.0.1:{data_port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    wait_listening(ws_port).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{ws_port}/"))
        .await
        .expect("websockify");
    let relay = async move {
        ws.send(Message::binary(format!("{token}\n").into_bytes()))
            .await
            .expect("token");
        drain(&mut ws).await
    };
    let (mbs, cpu) = measure(child.id(), relay).await;
    Some((mbs, cpu, child))
}

/// One bridge relay of the 100 MB file: (MB/s, CPU s per GB).
async fn bridge_relay(port: u16, pid: u32) -> (f64, f64) {
    let mut session = ws(port).await;
    let relay = async move {
        session.send(Message::text("play 2")).await.expect("send");
        text(&mut session).await;
        drain(&mut session).await
    };
    measure(pid, relay).await
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Five alternating rounds of the bridge and websockify relaying the same stream; medians.
async fn relay_rounds(bridge: u16, pid: u32, server: u16, children: &mut Vec<Child>) {
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        ours.push(bridge_relay(bridge, pid).await);
        match websockify_relay(server).await {
            Some((mbs, cpu, child)) => {
                theirs.push((mbs, cpu));
                children.push(child);
            }
            None => {
                return println!(
                    "websockify not found: comparison skipped (pip install websockify)"
                );
            }
        }
    }
    let med = |v: &[(f64, f64)]| {
        (
            median(v.iter().map(|x| x.0).collect()),
            median(v.iter().map(|x| x.1).collect()),
        )
    };
    let ((mbs, cpu), (wmbs, wcpu)) = (med(&ours), med(&theirs));
    println!(
        "one session, 100 MB unpaced, median of 5: bridge {mbs:.0} MB/s, {cpu:.2} CPU s per GB"
    );
    println!(
        "the same stream through websockify, median of 5: {wmbs:.0} MB/s, {wcpu:.2} CPU s per GB"
    );
    println!(
        "bridge vs websockify: {:.2}x throughput, {:.2}x bytes per CPU second",
        mbs / wmbs,
        wcpu / cpu
    );
}

fn percentiles(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[(v.len() as f64 * 0.99) as usize])
}

async fn round_trips(bridge: u16, server: u16) {
    let mut s = ws(bridge).await;
    let mut via_bridge = Vec::new();
    for _ in 0..2000 {
        let t = Instant::now();
        s.send(Message::text("list")).await.expect("send");
        text(&mut s).await;
        via_bridge.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let tcp = TcpStream::connect(("127.0.0.1", server))
        .await
        .expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let (r, mut w) = tcp.into_split();
    let mut r = BufReader::new(r);
    let mut direct = Vec::new();
    let mut line = String::new();
    for _ in 0..2000 {
        let t = Instant::now();
        w.write_all(b"list\n").await.expect("send");
        line.clear();
        r.read_line(&mut line).await.expect("reply");
        direct.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (b50, b99) = percentiles(via_bridge);
    let (d50, d99) = percentiles(direct);
    println!(
        "list round trip, 2,000 in a row: via bridge p50 {b50:.3} ms p99 {b99:.3} ms; direct p50 {d50:.3} ms p99 {d99:.3} ms"
    );
}

#[tokio::main]
async fn main() {
    tapedeck_cli::raise_open_file_limit();
    let dir = tempfile::tempdir().expect("tempdir");
    make_library(dir.path());
    let web = tempfile::tempdir().expect("tempdir");
    std::fs::write(web.path().join("index.html"), "bench").expect("page");
    let music = dir.path().to_str().expect("utf-8");
    let (paced, unpaced, bridge_port, fast_bridge_port) =
        (free_port(), free_port(), free_port(), free_port());
    let server_args = ["--music", music, "--max-connections", "4096", "--listen"];
    let mut children = vec![
        spawn(
            &bin("tapedeck-server"),
            &[&server_args[..], &[&format!("127.0.0.1:{paced}")]].concat(),
        ),
        spawn(
            &bin("tapedeck-server"),
            &[
                &server_args[..],
                &[&format!("127.0.0.1:{unpaced}"), "--no-pacing"],
            ]
            .concat(),
        ),
    ];
    let web_dir = web.path().to_str().expect("utf-8");
    for (port, server) in [(bridge_port, paced), (fast_bridge_port, unpaced)] {
        let args = [
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--server",
            &format!("127.0.0.1:{server}"),
            "--web",
            web_dir,
            "--max-sessions",
            "4096",
        ];
        children.push(spawn(&bin("tapedeck-bridge"), &args));
    }
    for port in [paced, unpaced, bridge_port, fast_bridge_port] {
        wait_listening(port).await;
    }
    let (bridge_pid, fast_pid) = (children[2].id(), children[3].id());
    idle_and_streaming(bridge_port, bridge_pid).await;
    round_trips(fast_bridge_port, unpaced).await;
    relay_rounds(fast_bridge_port, fast_pid, unpaced, &mut children).await;
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
}
