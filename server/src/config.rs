//! Tunables of a running server.

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

/// How a server behaves. [`Config::new`] gives the defaults the binary uses.
#[derive(Debug, Clone)]
pub struct Config {
    /// The directory whose audio files are served.
    pub music_dir: PathBuf,
    /// Where the library index is kept (SQLite); `None` keeps it in memory, so every start
    /// scans and ids count from 1 in order of name. Default: `None` (the binary's default is
    /// a file: see `--db`).
    pub db: Option<PathBuf>,
    /// How the library follows the disk while the server runs; `None`: it does not (what it
    /// was at start is served). Default: `None` (the binary's default follows).
    pub follow: Option<Follow>,
    /// Control connections served at once; one more is answered `error server busy`.
    pub max_connections: usize,
    /// A control connection that sends no command for this long while nothing streams is
    /// closed, so idle sockets cannot pile up.
    pub idle_timeout: Duration,
    /// A command line must be finished this long after its first byte (against slowloris).
    pub line_timeout: Duration,
    /// A data port nobody claims closes after this long.
    pub claim_timeout: Duration,
    /// A peer that accepts no bytes for this long (reply or audio) is given up.
    pub stall_timeout: Duration,
    /// How fast songs are sent; `None` sends as fast as the peer reads.
    pub pacing: Option<Pacing>,
    /// Bytes read from a file and written to a data connection at a time.
    pub chunk_size: usize,
    /// Data ports are taken from this range in turn; `None` lets the kernel pick any free
    /// port. A range suits firewalls and, when plays come by the hundred per second, is much
    /// cheaper (see `ports.rs`). Default: the kernel's own ephemeral range where it can be
    /// read (Linux), the ports it would hand out anyway.
    pub data_ports: Option<RangeInclusive<u16>>,
    /// Whether data ports may only come from `data_ports` (a firewall's range); otherwise,
    /// when the range's ports are taken, the kernel picks one. Default: `false`.
    pub data_ports_only: bool,
    /// Whether the server may serve without accounts on an address beyond loopback (anyone
    /// who reaches it may play everything). Without accounts and without this, such a server
    /// refuses to start. Default: `false`.
    pub open: bool,
    /// How long a session holds after it was last used. Default: 30 days.
    pub session_lifetime: Duration,
    /// Peers besides loopback whose `via <address>` is believed (bridges on other hosts):
    /// sign-ins through them are throttled by their clients' addresses. Default: none.
    pub bridges: Vec<std::net::IpAddr>,
}

/// How the library follows the disk (see `follow.rs`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Follow {
    /// Whether filesystem notifications trigger a rescan.
    pub watch: bool,
    /// A rescan waits for this long without notifications (a copy of an album in progress).
    pub debounce: Duration,
    /// A rescan every this long, for filesystems without notifications; `None`: never.
    pub rescan_every: Option<Duration>,
}

impl Default for Follow {
    fn default() -> Self {
        Self {
            watch: true,
            debounce: Duration::from_secs(1),
            rescan_every: Some(Duration::from_secs(15 * 60)),
        }
    }
}

/// A burst first, then a little faster than real time: enough to pre-buffer and never starve,
/// little enough that `stop` really ends the transmission early.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    /// Audio sent at once when a stream starts.
    pub burst: Duration,
    /// After the burst, seconds of audio sent per second (1.0 is real time).
    pub speed: f64,
}

impl Config {
    /// The defaults, serving `music_dir`.
    pub fn new(music_dir: impl Into<PathBuf>) -> Self {
        Self {
            music_dir: music_dir.into(),
            db: None,
            follow: None,
            max_connections: 1024,
            idle_timeout: Duration::from_secs(300),
            line_timeout: Duration::from_secs(10),
            claim_timeout: Duration::from_secs(10),
            stall_timeout: Duration::from_secs(60),
            pacing: Some(Pacing::default()),
            chunk_size: 16 * 1024,
            data_ports: ephemeral_ports(),
            data_ports_only: false,
            open: false,
            session_lifetime: Duration::from_secs(30 * 24 * 3600),
            bridges: Vec::new(),
        }
    }
}

/// The kernel's ephemeral port range (`/proc/sys/net/ipv4/ip_local_port_range`), if known.
fn ephemeral_ports() -> Option<RangeInclusive<u16>> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut ports = text.split_whitespace().map(|p| p.parse::<u16>().ok());
    let (first, last) = (ports.next()??, ports.next()??);
    (0 < first && first <= last).then_some(first..=last)
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            burst: Duration::from_secs(3),
            speed: 1.25,
        }
    }
}
