//! Raw throughput of the server next to nginx serving the same files over HTTP with sendfile,
//! in one run: how close the server comes to what this machine can push through loopback.
//!
//! ```text
//! apt-get install nginx          # Debian's; only this benchmark needs it
//! cargo build --release -p tapedeck-server --bins --examples
//! target/release/examples/nginx_bench [--clients 64] [--seconds 20] [--music music]
//! ```
//!
//! `--clients` connections each download the library's songs one after another, as fast as
//! they can read, for `--seconds`: from nginx (keep-alive `GET`, read `Content-Length`), then
//! from `tapedeck-server --no-pacing` (`play`, claim the data port, read `<octets>`), once
//! with its default data ports (the ephemeral range, in turn) and once with `--data-ports any`
//! (the kernel picks each one). Every
//! download is checked for its length. Reported: songs and bytes per second, and bytes per CPU
//! second of the serving processes (nginx: master and workers), read from /proc.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tapedeck_load::procs;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::Instant;

struct Args {
    clients: usize,
    seconds: u64,
    music: PathBuf,
}

fn args() -> Args {
    let mut parsed = Args {
        clients: 64,
        seconds: 20,
        music: PathBuf::from("music"),
    };
    let raw: Vec<String> = std::env::args().skip(1).collect();
    for pair in raw.chunks(2) {
        let value = pair.get(1).expect("a value after each flag");
        match pair[0].as_str() {
            "--clients" => parsed.clients = value.parse().expect("a number"),
            "--seconds" => parsed.seconds = value.parse().expect("a number"),
            "--music" => parsed.music = PathBuf::from(value),
            other => panic!("unknown flag {other}"),
        }
    }
    parsed
}

fn free_port() -> u16 {
    procs::free_port().expect("a free port")
}

/// CPU seconds (user + system) of the processes `pids` (nginx: master and workers).
fn cpu_seconds(pids: &[u32]) -> f64 {
    pids.iter()
        .filter_map(|&pid| procs::usage(pid))
        .map(|u| u.cpu_seconds)
        .sum()
}

fn children(pid: u32) -> Vec<u32> {
    let out = Command::new("pgrep")
        .args(["-P", &pid.to_string()])
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// A child ended on drop with SIGTERM (nginx's master then stops its workers too).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

async fn wait_open(port: u16) {
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("port {port} never opened");
}

/// The songs: (name, size), in the server's id order (byte order of names).
fn songs(music: &Path) -> Vec<(String, u64)> {
    let mut songs: Vec<(String, u64)> = std::fs::read_dir(music)
        .expect("music dir")
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().to_lowercase();
            [".mp3", ".flac", ".ogg", ".wav"]
                .iter()
                .any(|x| name.ends_with(x))
        })
        .map(|e| {
            let size = e.metadata().expect("metadata").len();
            (e.file_name().to_string_lossy().into_owned(), size)
        })
        .collect();
    songs.sort();
    songs
}

#[derive(Default)]
struct Totals {
    songs: AtomicU64,
    bytes: AtomicU64,
}

async fn read_exactly(stream: &mut (impl AsyncReadExt + Unpin), n: u64, buf: &mut [u8]) {
    let mut left = n;
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf[..want]));
        let got = read.await.expect("no byte for 30 s").expect("read");
        assert_ne!(got, 0, "download cut short");
        left -= got as u64;
    }
}

/// One Tapedeck client downloading songs until `until`.
async fn tapedeck_client(
    port: u16,
    count: usize,
    first: usize,
    until: Instant,
    totals: Arc<Totals>,
) {
    let (r, mut w) = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect")
        .into_split();
    let mut replies = BufReader::new(r);
    let mut buf = vec![0u8; 256 * 1024];
    let mut turn = first;
    while Instant::now() < until {
        let id = 1 + turn % count;
        turn += 1;
        w.write_all(format!("play {id}\n").as_bytes())
            .await
            .expect("play");
        let mut line = String::new();
        replies.read_line(&mut line).await.expect("reply");
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words.first(), Some(&"port"), "{line}");
        let data_port: u16 = words[1].parse().expect("port");
        let octets: u64 = words[3].parse().expect("octets");
        let mut data = TcpStream::connect(("127.0.0.1", data_port))
            .await
            .expect("data");
        data.write_all(format!("{}\n", words[2]).as_bytes())
            .await
            .expect("claim");
        read_exactly(&mut data, octets, &mut buf).await;
        let mut end = [0u8; 1];
        assert_eq!(
            data.read(&mut end).await.expect("eof"),
            0,
            "more than <octets>"
        );
        totals.songs.fetch_add(1, Ordering::Relaxed);
        totals.bytes.fetch_add(octets, Ordering::Relaxed);
    }
}

/// One HTTP/1.1 keep-alive client downloading the same songs from nginx until `until`.
async fn http_client(
    port: u16,
    songs: Arc<Vec<(String, u64)>>,
    first: usize,
    until: Instant,
    totals: Arc<Totals>,
) {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let (r, mut w) = stream.into_split();
    let mut reader = BufReader::with_capacity(256 * 1024, r);
    let mut buf = vec![0u8; 256 * 1024];
    let mut turn = first;
    while Instant::now() < until {
        let (name, size) = &songs[turn % songs.len()];
        turn += 1;
        let path = name.replace(' ', "%20");
        w.write_all(format!("GET /{path} HTTP/1.1\r\nHost: bench\r\n\r\n").as_bytes())
            .await
            .expect("request");
        let mut length = None;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.expect("header");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse::<u64>().ok();
            }
        }
        assert_eq!(length, Some(*size), "{name}");
        read_exactly(&mut reader, *size, &mut buf).await;
        totals.songs.fetch_add(1, Ordering::Relaxed);
        totals.bytes.fetch_add(*size, Ordering::Relaxed);
    }
}

struct Outcome {
    songs_per_s: f64,
    mb_per_s: f64,
    mb_per_cpu_s: f64,
    cpu_percent: f64,
}

async fn measure<F, Fut>(pids: &[u32], seconds: u64, clients: usize, client: F) -> Outcome
where
    F: Fn(usize, Instant, Arc<Totals>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let totals = Arc::new(Totals::default());
    let cpu0 = cpu_seconds(pids);
    let start = Instant::now();
    let until = start + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|i| tokio::spawn(client(i, until, totals.clone())))
        .collect();
    for task in tasks {
        task.await.expect("client");
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pids) - cpu0;
    let bytes = totals.bytes.load(Ordering::Relaxed) as f64;
    Outcome {
        songs_per_s: totals.songs.load(Ordering::Relaxed) as f64 / wall,
        mb_per_s: bytes / wall / 1e6,
        mb_per_cpu_s: bytes / cpu.max(1e-3) / 1e6,
        cpu_percent: cpu / wall * 100.0,
    }
}

fn start_nginx(root: &Path, port: u16, dir: &Path) -> Killed {
    let conf = format!(
        "worker_processes 2;\nuser root;\npid {dir}/nginx.pid;\nerror_log {dir}/error.log;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  keepalive_requests 1000000;\n\
         client_body_temp_path {dir};\n  proxy_temp_path {dir};\n  fastcgi_temp_path {dir};\n\
         uwsgi_temp_path {dir};\n  scgi_temp_path {dir};\n\
         server {{ listen 127.0.0.1:{port}; root {root}; }}\n}}\n",
        dir = dir.display(),
        root = root.display(),
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).expect("nginx.conf");
    let child = Command::new("nginx")
        .args(["-e", "stderr", "-c"])
        .arg(&path)
        .args(["-g", "daemon off;"])
        .stdin(Stdio::null())
        .spawn()
        .expect("start nginx (apt-get install nginx)");
    Killed(child)
}

fn print(name: &str, o: &Outcome) {
    println!(
        "{name:>16}: {:8.1} songs/s {:8.1} MB/s, {:5.0}% CPU, {:8.1} MB per CPU second",
        o.songs_per_s, o.mb_per_s, o.cpu_percent, o.mb_per_cpu_s
    );
}

/// Runs the clients against a `tapedeck-server --no-pacing` started with `extra` flags.
async fn tapedeck(args: &Args, music: &Path, count: usize, extra: &[&str]) -> Outcome {
    let port = free_port();
    let exe = std::env::current_exe().expect("exe");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("tapedeck-server");
    let server = Killed(
        Command::new(bin)
            .arg("--music")
            .arg(music)
            .args(["--listen", &format!("127.0.0.1:{port}"), "--no-pacing"])
            .args(["--db", "memory"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .spawn()
            .expect("tapedeck-server (build it with --bins)"),
    );
    wait_open(port).await;
    measure(
        &[server.0.id()],
        args.seconds,
        args.clients,
        |i, until, totals| tapedeck_client(port, count, i, until, totals),
    )
    .await
}

#[tokio::main]
async fn main() {
    let args = args();
    let music = std::fs::canonicalize(&args.music).expect("music dir");
    let songs = Arc::new(songs(&music));
    let count = songs.len();
    let tmp = tempfile::tempdir().expect("tempdir");

    // nginx first: the server's runs leave closed data ports in TIME_WAIT for a minute.
    let http = free_port();
    let nginx = start_nginx(&music, http, tmp.path());
    wait_open(http).await;
    let mut pids = vec![nginx.0.id()];
    pids.extend(children(nginx.0.id()));
    let theirs = measure(&pids, args.seconds, args.clients, |i, until, totals| {
        http_client(http, songs.clone(), i, until, totals)
    })
    .await;
    drop(nginx);
    let ranged = tapedeck(&args, &music, count, &[]).await;
    let kernel = tapedeck(&args, &music, count, &["--data-ports", "any"]).await;

    println!(
        "{} clients downloading {} songs ({:.1} MB) over and over for {} s, unpaced:",
        args.clients,
        count,
        songs.iter().map(|s| s.1).sum::<u64>() as f64 / 1e6,
        args.seconds
    );
    print("nginx sendfile", &theirs);
    for (name, ours) in [("tapedeck-server", &ranged), ("--data-ports any", &kernel)] {
        print(name, ours);
        println!(
            "{:>18}ratio to nginx: {:.2} of its bytes per second, {:.2} per CPU second",
            "",
            ours.mb_per_s / theirs.mb_per_s,
            ours.mb_per_cpu_s / theirs.mb_per_cpu_s
        );
    }
}
