//! The owner's claim latency while strangers hammer the same data port (PROTOCOL.md 7.1).
//!
//! ```text
//! cargo build --release -p tapedeck-server --bins --examples
//! target/release/examples/claim_bench [--plays 300] [--strangers 100]
//! ```
//!
//! Starts the real `tapedeck-server` binary on the demo library. One owner plays song 1 over
//! and over; for each play it waits 20 ms (so the storm reaches the fresh port), then times
//! from connecting to the data port (token sent at once) to the first octet. First with no
//! strangers, then with `--strangers` tasks hammering the owner's current port in a loop, half
//! from the owner's own address (127.0.0.1) and half from others (127.0.0.2 and up), each
//! connecting and then leaving at once, sending a wrong token, half a token or an empty line.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::time::Duration;

use tapedeck_load::procs::free_port;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

fn args() -> (usize, usize) {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let (mut plays, mut strangers) = (300, 100);
    for pair in raw.chunks(2) {
        let value: usize = pair.get(1).and_then(|v| v.parse().ok()).expect("a number");
        match pair[0].as_str() {
            "--plays" => plays = value,
            "--strangers" => strangers = value,
            other => panic!("unknown flag {other}"),
        }
    }
    (plays, strangers)
}

/// The server process, killed when dropped (also when the benchmark panics).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(port: u16) -> Server {
    let exe = std::env::current_exe().expect("exe");
    let bin = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target dir")
        .join("tapedeck-server");
    let music = concat!(env!("CARGO_MANIFEST_DIR"), "/../music");
    let child = Command::new(bin)
        .args(["--music", music, "--listen", &format!("127.0.0.1:{port}")])
        .args(["--db", "memory"])
        .env(
            "RUST_LOG",
            std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start tapedeck-server (build it with --bins)");
    Server(child)
}

/// One stranger: knocks on whatever port the owner has now, in a loop, until `stop`.
async fn stranger(i: usize, port: Arc<AtomicU16>, stop: CancellationToken, knocks: Arc<AtomicU64>) {
    let from = if i % 2 == 0 {
        Ipv4Addr::LOCALHOST
    } else {
        Ipv4Addr::new(127, 0, 0, 2 + (i % 200) as u8)
    };
    let lines: [&[u8]; 4] = [
        b"",
        b"00000000000000000000000000000000\n",
        b"0123456789abcdef",
        b"\n",
    ];
    let mut n = 0;
    while !stop.is_cancelled() {
        let target = port.load(Ordering::Relaxed);
        let socket = TcpSocket::new_v4().expect("socket");
        socket.bind(SocketAddr::from((from, 0))).expect("bind");
        let Ok(Ok(mut stream)) = tokio::time::timeout(
            Duration::from_secs(1),
            socket.connect(SocketAddr::from(([127, 0, 0, 1], target))),
        )
        .await
        else {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        };
        let _ = stream.write_all(lines[n % lines.len()]).await;
        n += 1;
        knocks.fetch_add(1, Ordering::Relaxed);
        drop(stream);
    }
}

/// Claim latencies in milliseconds, sorted: from starting to connect, and from the token
/// written (the server's part) to the first octet.
struct Latencies {
    connect: Vec<f64>,
    token: Vec<f64>,
}

/// Plays song 1 `plays` times on a thread and runtime of its own (so the strangers' tasks do
/// not delay its own steps) and times each claim.
fn owner(server: u16, plays: usize, port: Arc<AtomicU16>) -> Latencies {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(plays_timed(server, plays, &port))
    })
    .join()
    .expect("the owner's thread")
}

async fn plays_timed(server: u16, plays: usize, port: &AtomicU16) -> Latencies {
    let (r, mut w) = TcpStream::connect(("127.0.0.1", server))
        .await
        .expect("connect")
        .into_split();
    let mut reader = BufReader::new(r);
    let mut times = Latencies {
        connect: Vec::with_capacity(plays),
        token: Vec::with_capacity(plays),
    };
    for i in 0..plays {
        w.write_all(b"play 1\n").await.expect("play");
        let mut line = String::new();
        reader.read_line(&mut line).await.expect("reply");
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words.first(), Some(&"port"), "{line}");
        let data_port: u16 = words[1].parse().expect("port");
        port.store(data_port, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let start = Instant::now();
        let mut data = TcpStream::connect(("127.0.0.1", data_port))
            .await
            .expect("data");
        let connected = Instant::now();
        data.write_all(format!("{}\n", words[2]).as_bytes())
            .await
            .expect("token");
        let mut first = [0u8; 1];
        tokio::time::timeout(Duration::from_secs(30), data.read_exact(&mut first))
            .await
            .expect("the claim is served")
            .unwrap_or_else(|err| panic!("play {i}: no first octet: {err}"));
        times.connect.push(start.elapsed().as_secs_f64() * 1000.0);
        times.token.push(connected.elapsed().as_secs_f64() * 1000.0);
        w.write_all(b"stop\n").await.expect("stop");
        line.clear();
        reader.read_line(&mut line).await.expect("stopped");
    }
    times.connect.sort_by(f64::total_cmp);
    times.token.sort_by(f64::total_cmp);
    times
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn row(name: &str, l: &[f64]) {
    println!(
        "| {name} | {:.2} ms | {:.2} ms | {:.2} ms |",
        percentile(l, 0.5),
        percentile(l, 0.99),
        l[l.len() - 1]
    );
}

#[tokio::main]
async fn main() {
    let (plays, strangers) = args();
    let server = free_port().expect("port");
    let _server = start_server(server);
    while TcpStream::connect(("127.0.0.1", server)).await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let port = Arc::new(AtomicU16::new(0));
    let quiet = owner(server, plays, port.clone());
    let stop = CancellationToken::new();
    let knocks = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..strangers)
        .map(|i| tokio::spawn(stranger(i, port.clone(), stop.clone(), knocks.clone())))
        .collect();
    let started = Instant::now();
    let stormy = tokio::task::spawn_blocking({
        let port = port.clone();
        move || owner(server, plays, port)
    })
    .await
    .expect("the owner");
    let seconds = started.elapsed().as_secs_f64();
    stop.cancel();
    for task in tasks {
        let _ = task.await;
    }
    println!("| the owner's claim, loopback | p50 | p99 | max |");
    println!("|---|---|---|---|");
    row("token → first octet, no strangers", &quiet.token);
    row(
        &format!("token → first octet, {strangers} strangers"),
        &stormy.token,
    );
    row("connect → first octet, no strangers", &quiet.connect);
    row(
        &format!("connect → first octet, {strangers} strangers"),
        &stormy.connect,
    );
    let knocked = knocks.load(Ordering::Relaxed);
    println!(
        "strangers knocked {knocked} times in {seconds:.1} s ({:.0}/s); all {plays} claims were served",
        knocked as f64 / seconds
    );
}
