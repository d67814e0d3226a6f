//! Helpers for the server's integration tests: a real server on port 0, real TCP clients.

#![allow(
    dead_code,
    unused_imports,
    reason = "each test binary uses a different subset of the helpers"
)]

use std::net::SocketAddr;
use std::time::Duration;

use tapedeck_protocol::{Command, Reply, SongId};
use tapedeck_server::Config;
pub use tapedeck_tests::fixtures::{demo_music, long_library, sha256, write_wav};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use tapedeck_tests::PATIENCE;

/// A server running in this process.
pub struct TestServer {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    pub task: JoinHandle<Result<(), tapedeck_server::ServerError>>,
}

impl TestServer {
    pub async fn start(config: Config) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let signal = shutdown.clone().cancelled_owned();
        let task = tokio::spawn(tapedeck_server::run(listener, config, signal));
        Self {
            addr,
            shutdown,
            task,
        }
    }

    /// The demo library, unpaced (tests of bytes need not wait for real time).
    pub async fn demo() -> Self {
        Self::unpaced(&demo_music()).await
    }

    /// `music`, unpaced: a stream goes as fast as its reader takes it.
    pub async fn unpaced(music: &std::path::Path) -> Self {
        let mut config = Config::new(music);
        config.pacing = None;
        Self::start(config).await
    }

    pub async fn client(&self) -> Client {
        Client::connect(self.addr).await
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        let result = tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("shutdown in time");
        result.expect("server task").expect("server result");
    }
}

/// A control connection speaking raw lines.
pub struct Client {
    pub reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    pub writer: OwnedWriteHalf,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Self {
        Self::from_stream(TcpStream::connect(addr).await.expect("connect"))
    }

    pub fn from_stream(stream: TcpStream) -> Self {
        let (r, w) = stream.into_split();
        Self {
            reader: BufReader::new(r),
            writer: w,
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.expect("send");
    }

    /// The next reply line without LF; `None` at end of stream.
    pub async fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        let read = tokio::time::timeout(PATIENCE, self.reader.read_line(&mut line));
        let n = read.await.expect("reply in time").expect("read reply");
        if n == 0 {
            return None;
        }
        assert!(line.ends_with('\n'), "reply without LF: {line:?}");
        line.pop();
        Some(line)
    }

    /// Sends `line` and returns the reply line.
    pub async fn ask(&mut self, line: &str) -> String {
        self.send(format!("{line}\n").as_bytes()).await;
        self.line().await.expect("a reply")
    }

    /// Sends a command and parses the reply.
    pub async fn command(&mut self, command: Command) -> Reply {
        let line = self.ask(&command.to_string()).await;
        Reply::parse(&command, &line).expect("well-formed reply")
    }

    /// Plays `id` and returns (port, token, bytes).
    pub async fn play(&mut self, id: u32) -> (u16, String, u64) {
        match self.command(Command::Play(SongId(id), None)).await {
            Reply::Port {
                port, token, bytes, ..
            } => (port, token, bytes),
            other => panic!("play {id}: {other:?}"),
        }
    }

    /// Plays `id` from `ms` and returns (port, token, bytes, skip).
    pub async fn play_from(&mut self, id: u32, ms: u32) -> Result<(u16, String, u64, u64), String> {
        match self.command(Command::Play(SongId(id), Some(ms))).await {
            Reply::Port {
                port,
                token,
                bytes,
                skip: Some(skip),
            } => Ok((port, token, bytes, skip)),
            Reply::Error(reason) => Err(reason),
            other => panic!("play {id} {ms}: {other:?}"),
        }
    }

    /// Asserts the server closed the connection.
    pub async fn expect_closed(&mut self) {
        assert_eq!(self.line().await, None, "connection should be closed");
    }
}

/// Whether `stream` is connected to itself: Linux's answer, now and then, to a connection to
/// a loopback port nobody listens on any more, when it picks that very port as the source
/// (the "simultaneous open" of a socket with itself). Such a port is closed for the test.
pub fn to_itself(stream: &TcpStream) -> bool {
    stream.local_addr().ok() == stream.peer_addr().ok()
}

/// A connection to `port` on the server's host; `None` when it is refused, or when the socket
/// connected to itself (the port is closed: see [`to_itself`]).
pub async fn connect_port(addr: SocketAddr, port: u16) -> Option<TcpStream> {
    let stream = TcpStream::connect((addr.ip(), port)).await.ok()?;
    (!to_itself(&stream)).then_some(stream)
}

/// Connects to a data port and presents the token.
pub async fn claim(addr: SocketAddr, port: u16, token: &str) -> TcpStream {
    let mut data = TcpStream::connect((addr.ip(), port))
        .await
        .expect("connect data port");
    data.write_all(format!("{token}\n").as_bytes())
        .await
        .expect("send token");
    data
}

/// Reads a data connection to its end.
pub async fn read_all(data: &mut TcpStream) -> Vec<u8> {
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(PATIENCE, data.read_to_end(&mut bytes));
    read.await.expect("stream in time").expect("read stream");
    bytes
}

/// Open file descriptors of this process.
pub fn open_fds() -> usize {
    tapedeck_tests::usage::open_fds(std::process::id())
}

/// Waits until this process holds no more file descriptors and tasks than `fds` and `tasks`:
/// whatever a finished client cost the server has been released.
pub async fn settle_to(fds: usize, tasks: usize) {
    let metrics = tokio::runtime::Handle::current().metrics();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while open_fds() > fds || metrics.num_alive_tasks() > tasks {
        assert!(
            tokio::time::Instant::now() < deadline,
            "fds {} vs {fds}, tasks {} vs {tasks}",
            open_fds(),
            metrics.num_alive_tasks()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
