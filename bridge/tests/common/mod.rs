//! A real server and a real bridge in this process on port 0, and a WebSocket client that
//! speaks to the bridge as a browser does.

#![allow(
    dead_code,
    unused_imports,
    reason = "each test binary uses a different subset of the helpers"
)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tapedeck_protocol::Event;
pub use tapedeck_tests::fixtures::{demo_music, long_library, sha256, write_wav};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

pub use tapedeck_tests::PATIENCE;

/// A running server and bridge.
pub struct Stack {
    pub bridge: SocketAddr,
    pub server: SocketAddr,
    pub server_stop: CancellationToken,
    pub bridge_stop: CancellationToken,
    pub origin: String,
}

impl Stack {
    /// The demo library, unpaced.
    pub async fn demo() -> Self {
        let mut config = tapedeck_server::Config::new(demo_music());
        config.pacing = None;
        Self::start(config).await
    }

    pub async fn start(server_config: tapedeck_server::Config) -> Self {
        Self::start_with(server_config, |_| {}).await
    }

    /// As [`Stack::start`], with the bridge's configuration changed by `tweak`.
    pub async fn start_with(
        server_config: tapedeck_server::Config,
        tweak: impl FnOnce(&mut tapedeck_bridge::Config),
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let server = listener.local_addr().expect("addr");
        let server_stop = CancellationToken::new();
        let signal = server_stop.clone().cancelled_owned();
        tokio::spawn(tapedeck_server::run(listener, server_config, signal));
        let (bridge, bridge_stop) = start_bridge_with(server, tweak).await;
        let origin = format!("http://{bridge}");
        Self {
            bridge,
            server,
            server_stop,
            bridge_stop,
            origin,
        }
    }

    pub async fn browser(&self) -> Browser {
        Browser::connect(self.bridge, Some(&self.origin))
            .await
            .expect("WebSocket opens")
    }
}

/// A bridge to `server` on port 0, allowing its own origin.
pub async fn start_bridge(server: SocketAddr) -> (SocketAddr, CancellationToken) {
    start_bridge_with(server, |_| {}).await
}

/// As [`start_bridge`], with the configuration changed by `tweak`.
pub async fn start_bridge_with(
    server: SocketAddr,
    tweak: impl FnOnce(&mut tapedeck_bridge::Config),
) -> (SocketAddr, CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let web = tempfile::tempdir().expect("tempdir").keep();
    std::fs::write(web.join("index.html"), "<h1>Tapedeck</h1>").expect("page");
    let mut config = tapedeck_bridge::Config::new(server, web);
    config.allow_own_origin(addr);
    tweak(&mut config);
    let stop = CancellationToken::new();
    tokio::spawn(tapedeck_bridge::serve(
        listener,
        config,
        stop.clone().cancelled_owned(),
    ));
    (addr, stop)
}

/// What the browser received.
#[derive(Debug, Clone, PartialEq)]
pub enum Got {
    Text(String),
    Binary(Vec<u8>),
    Closed(Option<u16>),
}

pub struct Browser {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Browser {
    pub async fn connect(
        addr: SocketAddr,
        origin: Option<&str>,
    ) -> Result<Self, tungstenite::Error> {
        Self::connect_with(addr, origin, None).await
    }

    /// As [`Browser::connect`], with a `Cookie` header.
    pub async fn connect_with(
        addr: SocketAddr,
        origin: Option<&str>,
        cookie: Option<&str>,
    ) -> Result<Self, tungstenite::Error> {
        let mut request = format!("ws://{addr}/ws").into_client_request()?;
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().expect("header"));
        }
        if let Some(cookie) = cookie {
            request
                .headers_mut()
                .insert("cookie", cookie.parse().expect("header"));
        }
        let (ws, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Self { ws })
    }

    pub async fn send(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send");
    }

    /// The next message; `Closed` once the WebSocket is closed.
    pub async fn next(&mut self) -> Got {
        loop {
            let next = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("a message in time");
            return match next {
                Some(Ok(Message::Text(text))) => Got::Text(text.to_string()),
                Some(Ok(Message::Binary(bytes))) => Got::Binary(bytes.to_vec()),
                Some(Ok(Message::Close(frame))) => Got::Closed(frame.map(|f| u16::from(f.code))),
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => Got::Closed(None),
            };
        }
    }

    /// The next text message, failing on anything else.
    pub async fn text(&mut self) -> String {
        match self.next().await {
            Got::Text(text) => text,
            other => panic!("expected text, got {other:?}"),
        }
    }

    /// Sends a command and returns its reply (no play may be running).
    pub async fn ask(&mut self, command: &str) -> String {
        self.send(command).await;
        self.text().await
    }

    /// Plays `id` to its end: returns (the port reply, the audio bytes, the event after them).
    pub async fn play_whole(&mut self, id: u32) -> (String, Vec<u8>, Event) {
        self.play_line_whole(&format!("play {id}")).await
    }

    /// Sends a `play` line (`play <id>` or `play <id> <ms>`) and reads its play to the end:
    /// (reply, octets, the event that ended it).
    pub async fn play_line_whole(&mut self, line: &str) -> (String, Vec<u8>, Event) {
        let id = line.to_owned();
        let reply = self.ask(line).await;
        let mut bytes = Vec::new();
        loop {
            match self.next().await {
                Got::Binary(chunk) => bytes.extend_from_slice(&chunk),
                Got::Text(text) => {
                    let event =
                        Event::parse(&text).unwrap_or_else(|| panic!("not an event: {text}"));
                    return (reply, bytes, event);
                }
                Got::Closed(code) => panic!("closed ({code:?}) during play {id}"),
            }
        }
    }
}

/// One HTTP/1.1 request to the bridge (`extra`: header lines, each ending in CRLF): the
/// status, the headers (names in lower case) and the body.
pub async fn http(
    bridge: SocketAddr,
    method: &str,
    path: &str,
    extra: &str,
    body: &str,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(bridge).await.expect("connect");
    let length = if body.is_empty() && method == "GET" {
        String::new()
    } else {
        format!("Content-Length: {}\r\n", body.len())
    };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {bridge}\r\n{extra}{length}Connection: close\r\n\r\n{body}"
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut raw))
        .await
        .expect("in time")
        .expect("read");
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok());
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status.expect("a status"), headers, raw[end + 4..].to_vec())
}
