//! Load benchmark of the real server binary, started as its own process so its CPU and memory
//! can be read from /proc.
//!
//! ```text
//! cargo build --release -p tapedeck-server --bins --examples
//! target/release/examples/server_bench [--clients 1000] [--seconds 60] [--ramp 10]
//! ```
//!
//! It makes a 320 kbit/s CBR mp3 (ffmpeg), starts `tapedeck-server` on it, then:
//! 1. plays it 200 times in a row on an idle server: time from sending `play` to the first
//!    octet on the data port (p50, p99);
//! 2. starts `--clients` paced listeners over `--ramp` seconds. Each plays the song on a clock:
//!    from its first octet it consumes 40,000 B/s after a 200 ms pre-buffer, and counts an
//!    underrun whenever it has received less than it would have played;
//! 3. over the `--seconds` steady window, reads the server's CPU time and RSS.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tapedeck_load::procs;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::Instant;

const BYTES_PER_SEC: f64 = 40_000.0;
const PREBUFFER: Duration = Duration::from_millis(200);

struct Args {
    clients: usize,
    seconds: u64,
    ramp: u64,
}

fn args() -> Args {
    let mut parsed = Args {
        clients: 1000,
        seconds: 60,
        ramp: 10,
    };
    let raw: Vec<String> = std::env::args().skip(1).collect();
    for pair in raw.chunks(2) {
        let value = pair
            .get(1)
            .and_then(|v| v.parse().ok())
            .expect("a number after each flag");
        match pair[0].as_str() {
            "--clients" => parsed.clients = value as usize,
            "--seconds" => parsed.seconds = value,
            "--ramp" => parsed.ramp = value,
            other => panic!("unknown flag {other}"),
        }
    }
    parsed
}

fn make_song(dir: &Path, seconds: u64) {
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("sine=frequency=440:duration={seconds}"))
        .args([
            "-ac",
            "2",
            "-ar",
            "44100",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "320k",
        ])
        .arg(dir.join("song.mp3"))
        .status()
        .expect("ffmpeg");
    assert!(status.success());
}

fn start_server(music: &Path, port: u16) -> Child {
    let exe = std::env::current_exe().expect("exe");
    let bin: PathBuf = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("tapedeck-server");
    Command::new(bin)
        .args([
            "--music",
            music.to_str().expect("path"),
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--db",
            "memory",
        ])
        .args(["--max-connections", "4096"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .spawn()
        .expect("start tapedeck-server (build it with --bins)")
}

/// (user + system CPU seconds, RSS in KiB, peak RSS in KiB) of `pid`.
fn usage(pid: u32) -> (f64, u64, u64) {
    let u = procs::usage(pid).expect("the server is running");
    (u.cpu_seconds, u.rss_kib, u.peak_rss_kib)
}

struct Control {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Control {
    async fn connect(port: u16) -> Self {
        let (r, w) = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect")
            .into_split();
        Self {
            reader: BufReader::new(r),
            writer: w,
        }
    }

    /// Sends `play 1`, claims the port; returns the data connection, the time of `play` and
    /// the time the token was sent.
    async fn play(&mut self) -> (TcpStream, Instant, Instant) {
        let sent = Instant::now();
        self.writer.write_all(b"play 1\n").await.expect("play");
        let mut line = String::new();
        self.reader.read_line(&mut line).await.expect("reply");
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words.first(), Some(&"port"), "{line}");
        let port: u16 = words[1].parse().expect("port");
        let mut data = TcpStream::connect(("127.0.0.1", port)).await.expect("data");
        let claimed = Instant::now();
        data.write_all(format!("{}\n", words[2]).as_bytes())
            .await
            .expect("token");
        (data, sent, claimed)
    }
}

/// A port the kernel just had free (released at once for the server to bind).
fn free_port() -> u16 {
    procs::free_port().expect("a free port")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Sorted milliseconds from `play` to the first octet, and from the claim to the first octet.
async fn first_byte_latency(port: u16, plays: usize) -> (Vec<f64>, Vec<f64>) {
    let mut control = Control::connect(port).await;
    let (mut total, mut after_claim) = (Vec::with_capacity(plays), Vec::with_capacity(plays));
    for _ in 0..plays {
        let (mut data, sent, claimed) = control.play().await;
        let mut one = [0u8; 1];
        data.read_exact(&mut one).await.expect("first byte");
        total.push(sent.elapsed().as_secs_f64() * 1000.0);
        after_claim.push(claimed.elapsed().as_secs_f64() * 1000.0);
    }
    total.sort_by(f64::total_cmp);
    after_claim.sort_by(f64::total_cmp);
    (total, after_claim)
}

/// One paced listener: returns (underruns, bytes received) when `until` comes.
async fn listener(port: u16, until: Instant) -> (u32, u64) {
    let mut control = Control::connect(port).await;
    let (mut data, _, _) = control.play().await;
    let mut buf = vec![0u8; 16 * 1024];
    let mut received = 0u64;
    let mut started: Option<Instant> = None;
    let mut underruns = 0;
    let mut starving = false;
    loop {
        let check = tokio::time::sleep(Duration::from_millis(100));
        tokio::select! {
            () = tokio::time::sleep_until(until) => return (underruns, received),
            read = data.read(&mut buf) => match read {
                Ok(0) | Err(_) => return (underruns, received),
                Ok(n) => { received += n as u64; started.get_or_insert_with(Instant::now); }
            },
            () = check => {}
        }
        if let Some(start) = started {
            let played = start.elapsed().saturating_sub(PREBUFFER).as_secs_f64() * BYTES_PER_SEC;
            let short = (received as f64) < played;
            if short && !starving {
                underruns += 1;
            }
            starving = short;
        }
    }
}

#[tokio::main]
async fn main() {
    let args = args();
    tapedeck_cli::raise_open_file_limit();
    let dir = tempfile::tempdir().expect("tempdir");
    make_song(dir.path(), args.ramp + args.seconds + 30);
    let port = free_port();
    let mut server = start_server(dir.path(), port);
    let pid = server.id();
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (ttfb, after_claim) = first_byte_latency(port, 200).await;
    println!(
        "play -> first byte, idle server, 200 plays: p50 {:.3} ms, p99 {:.3} ms",
        percentile(&ttfb, 0.5),
        percentile(&ttfb, 0.99)
    );
    println!(
        "  of which claim -> first byte: p50 {:.3} ms, p99 {:.3} ms",
        percentile(&after_claim, 0.5),
        percentile(&after_claim, 0.99)
    );

    let until = Instant::now() + Duration::from_secs(args.ramp + args.seconds);
    let mut tasks = Vec::with_capacity(args.clients);
    let gap = Duration::from_secs_f64(args.ramp as f64 / args.clients.max(1) as f64);
    for _ in 0..args.clients {
        tasks.push(tokio::spawn(listener(port, until)));
        tokio::time::sleep(gap).await;
    }
    let (cpu0, _, _) = usage(pid);
    let t0 = Instant::now();
    let mut samples = Vec::new();
    while Instant::now() + Duration::from_secs(1) < until {
        tokio::time::sleep(Duration::from_secs(1)).await;
        samples.push(usage(pid).1);
    }
    let (cpu1, _, peak) = usage(pid);
    let window = t0.elapsed().as_secs_f64();
    let (mut underruns, mut bytes, mut starved) = (0, 0, 0);
    for task in tasks {
        let (u, b) = task.await.expect("listener");
        underruns += u;
        bytes += b;
        starved += usize::from(u > 0);
    }
    samples.sort_unstable();
    println!(
        "{} paced 320 kbit/s listeners, {:.0} s steady window:",
        args.clients, window
    );
    println!(
        "  server CPU: {:.1}% of one core",
        (cpu1 - cpu0) / window * 100.0
    );
    println!(
        "  server RSS: median {:.1} MiB, peak {:.1} MiB",
        samples[samples.len() / 2] as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    println!(
        "  underruns: {underruns} (listeners with any: {starved}); received {:.1} MB",
        bytes as f64 / 1e6
    );
    let _ = server.kill();
    let _ = server.wait();
}
