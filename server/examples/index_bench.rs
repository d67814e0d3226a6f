//! The library index at scale, through the real server binary: a generated library of N songs
//! (hard links to copies of the four demo songs, 10 songs an album, 10 albums an artist), the server
//! started on it with an index file.
//!
//! ```text
//! cargo build --release -p tapedeck-server --bins --examples
//! target/release/examples/index_bench [--songs 100000]
//! ```
//!
//! Measures: a cold start (every file walked, its tags read, the index written) to serving,
//! and its rate; a warm start (the index read) to serving; the comparison with the disk a warm
//! start runs in the background; the server's memory once serving, and its peak (sampled
//! every 0.2 s) during the cold start and the comparison; and the `list` and `info`
//! replies at that size (which is why the page needs the paged commands to come).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tapedeck_load::procs;

const EXTENSIONS: [&str; 4] = ["mp3", "flac", "ogg", "wav"];

fn songs_arg() -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|w| w[0] == "--songs")
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(100_000)
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The library of `n` songs, made once (hard links: no space, made in seconds).
fn library(n: usize) -> PathBuf {
    let dir = repo().join("target").join(format!("bench-library-{n}"));
    if dir.join(".complete").exists() {
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let demo: Vec<PathBuf> = EXTENSIONS
        .iter()
        .map(|ext| {
            std::fs::read_dir(repo().join("music"))
                .expect("demo music")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| p.extension().is_some_and(|e| e == *ext))
                .expect("a demo song of each format")
        })
        .collect();
    let sources = dir.join(".sources");
    std::fs::create_dir_all(&sources).expect("sources");
    let started = Instant::now();
    for i in 0..n {
        let (artist, album, track) = (i / 100, (i / 10) % 10, i % 10);
        let folder = dir
            .join(format!("Artist {artist:05}"))
            .join(format!("Album {album:02}"));
        if track == 0 {
            std::fs::create_dir_all(&folder).expect("folder");
        }
        // A file takes at most 65,000 links (ext4): a new copy of the demo song every 50,000
        // (in a hidden folder, which the scan skips).
        let ext = EXTENSIONS[i % EXTENSIONS.len()];
        let source = sources.join(format!("{}-{ext}", i / (50_000 * demo.len())));
        if !source.exists() {
            std::fs::copy(&demo[i % demo.len()], &source).expect("a source copy");
        }
        let name = format!("{track:02} Song {i}.{ext}");
        std::fs::hard_link(&source, folder.join(name)).expect("link");
    }
    std::fs::write(dir.join(".complete"), b"").expect("marker");
    eprintln!("made {n} songs in {:.1} s", started.elapsed().as_secs_f64());
    dir
}

/// The server, its stderr lines, and when it was started.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    started: Instant,
}

impl Server {
    fn start(music: &Path, db: &Path) -> Self {
        let bin = std::env::current_exe()
            .expect("exe")
            .parent()
            .and_then(Path::parent)
            .expect("target dir")
            .join("tapedeck-server");
        let started = Instant::now();
        let mut child = Command::new(bin)
            .arg("--music")
            .arg(music)
            .arg("--db")
            .arg(db)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--no-watch",
                "--rescan-interval",
                "0",
            ])
            .env(
                "RUST_LOG",
                "warn,tapedeck_server=info,tapedeck_server::follow=debug",
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            started,
        }
    }

    /// Seconds from the start to the first log line holding `needle`, and the line.
    fn until(&self, needle: &str) -> (f64, String) {
        let (seconds, line, _) = self.until_peak(needle);
        (seconds, line)
    }

    /// As [`Self::until`], with the highest RSS sampled every 0.2 s meanwhile (MiB).
    fn until_peak(&self, needle: &str) -> (f64, String, f64) {
        let deadline = Instant::now() + Duration::from_secs(600);
        let mut peak = self.rss_mib();
        loop {
            match self.lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) if line.contains(needle) => {
                    let seconds = self.started.elapsed().as_secs_f64();
                    return (seconds, line, peak.max(self.rss_mib()));
                }
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(_) => panic!("no {needle:?} from the server"),
            }
            peak = peak.max(self.rss_mib());
        }
    }

    fn rss_mib(&self) -> f64 {
        procs::usage(self.child.id()).map_or(f64::NAN, |u| u.rss_kib as f64 / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in a `serving` line.
fn addr(line: &str) -> String {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("addr="))
        .expect("addr= in the serving line")
        .to_owned()
}

/// The octets of the reply to `command`.
fn reply_len(addr: &str, command: &str) -> usize {
    timed(addr, &[command.to_owned()])[0].1
}

/// Each command's round trip in milliseconds, and its reply's octets, on one connection.
fn timed(addr: &str, commands: &[String]) -> Vec<(f64, usize)> {
    use std::io::Write;
    let stream = std::net::TcpStream::connect(addr).expect("connect");
    let mut writer = stream.try_clone().expect("clone");
    let mut reader = BufReader::new(stream);
    commands
        .iter()
        .map(|command| {
            let started = Instant::now();
            writer
                .write_all(format!("{command}\n").as_bytes())
                .expect("send");
            let mut reply = Vec::new();
            reader.read_until(b'\n', &mut reply).expect("reply");
            (started.elapsed().as_secs_f64() * 1000.0, reply.len())
        })
        .collect()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Search (the first one folds every song's fields) and pages on a serving server: the first
/// search, then the median and worst of 30 searches, and the median of 20 pages of 200.
fn queries(addr: &str, n: usize) -> (f64, f64, f64, f64) {
    let first = timed(addr, &["search 20 morning".to_owned()])[0].0;
    let queries: Vec<String> = [
        "song 4242",
        "night",
        "artist 00042",
        "album",
        "drive",
        "tape 99",
    ]
    .iter()
    .map(|q| format!("search 20 {q}"))
    .collect();
    let searches: Vec<f64> = (0..5)
        .flat_map(|_| timed(addr, &queries))
        .map(|(ms, _)| ms)
        .collect();
    let worst = searches.iter().copied().fold(0.0, f64::max);
    let pages: Vec<String> = (0..20)
        .map(|i| format!("songs {} 200", i * n / 20))
        .collect();
    let page = median(timed(addr, &pages).into_iter().map(|(ms, _)| ms).collect());
    (first, median(searches), worst, page)
}

fn main() {
    let n = songs_arg();
    let music = library(n);
    let db = repo()
        .join("target")
        .join(format!("bench-library-{n}.sqlite3"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }

    let cold = Server::start(&music, &db);
    let (cold_s, line, cold_peak) = cold.until_peak("addr=");
    let cold_rss = cold.rss_mib();
    let address = addr(&line);
    let list = reply_len(&address, "list");
    let info = reply_len(&address, "info");
    let rendered_rss = cold.rss_mib();
    drop(cold);

    let warm = Server::start(&music, &db);
    let (warm_s, warm_line) = warm.until("addr=");
    let warm_rss = warm.rss_mib();
    let (_, compared, compare_peak) = warm.until_peak("the library is as it was");
    let (first_search, search_p50, search_max, page_p50) = queries(&addr(&warm_line), n);
    let searched_rss = warm.rss_mib();
    let compare_s: f64 = compared
        .split_whitespace()
        .find_map(|w| w.strip_prefix("seconds="))
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN);
    // The index with its write-ahead log (not yet checkpointed into the file).
    let db_mib = ["", "-wal"]
        .iter()
        .map(|suffix| std::fs::metadata(format!("{}{suffix}", db.display())).map_or(0, |m| m.len()))
        .sum::<u64>() as f64
        / 1_048_576.0;

    println!("{n} songs (hard links in artist/album folders), index {db_mib:.1} MiB");
    println!(
        "cold start to serving: {cold_s:.2} s ({:.0} files/s), RSS {cold_rss:.0} MiB \
         (peak {cold_peak:.0} MiB)",
        n as f64 / cold_s
    );
    println!("warm start to serving: {warm_s:.2} s, RSS {warm_rss:.0} MiB");
    println!(
        "comparison with the disk after the warm start: {compare_s:.2} s (in the background), \
         peak RSS {compare_peak:.0} MiB"
    );
    println!(
        "first search {first_search:.0} ms, then p50 {search_p50:.1} ms (max {search_max:.1}); \
         a page of 200 p50 {page_p50:.2} ms; RSS after searching {searched_rss:.0} MiB"
    );
    println!(
        "list reply {:.1} MB, info reply {:.1} MB; RSS once both were asked for {rendered_rss:.0} MiB",
        list as f64 / 1e6,
        info as f64 / 1e6
    );
}
