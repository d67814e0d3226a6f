//! What accounts cost: Argon2id, signing in, and checking a session, with the real server and
//! bridge binaries as separate processes.
//!
//! ```text
//! cargo build --release -p tapedeck-server -p tapedeck-bridge -p tapedeck-load --bins --examples
//! target/release/examples/auth_bench
//! ```
//!
//! Phases: Argon2id hash and verify (in this process, OWASP's parameters); `login` on the raw
//! protocol and `POST /login` through the bridge; sessions checked per second by the server
//! (`session <id>` pipelined on one and on two connections); `GET /session` per second
//! through the bridge (16 keep-alive clients; each request opens a control connection to the
//! server and checks the cookie there); opening a WebSocket with a cookie against opening one
//! on a server without accounts.

use std::path::Path;
use std::time::Duration;

use tapedeck_load::procs;
use tapedeck_server::accounts::password;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const USER: &str = "bench";
const PASSWORD: &str = "a bench password";

fn p50(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

async fn line(reader: &mut BufReader<TcpStream>) -> String {
    let mut text = String::new();
    reader.read_line(&mut text).await.expect("reply");
    text.trim_end().to_owned()
}

/// A raw control connection and what it says to `command`.
async fn ask(server: std::net::SocketAddr, commands: &[String]) -> Vec<String> {
    let mut conn = BufReader::new(TcpStream::connect(server).await.expect("connect"));
    let mut replies = Vec::new();
    for command in commands {
        conn.get_mut()
            .write_all(format!("{command}\n").as_bytes())
            .await
            .expect("send");
        replies.push(line(&mut conn).await);
    }
    replies
}

fn argon2() {
    let hashes: Vec<f64> = (0..20)
        .map(|_| {
            let start = Instant::now();
            password::hash(PASSWORD).expect("hash");
            ms(start)
        })
        .collect();
    let phc = password::hash(PASSWORD).expect("hash");
    let verifies: Vec<f64> = (0..20)
        .map(|_| {
            let start = Instant::now();
            assert!(password::verify(PASSWORD, &phc));
            ms(start)
        })
        .collect();
    println!(
        "argon2id (m=65536 KiB, t=3, p=1): hash p50 {:.1} ms, verify p50 {:.1} ms",
        p50(hashes),
        p50(verifies)
    );
}

async fn sign_ins(server: std::net::SocketAddr, bridge: std::net::SocketAddr) -> String {
    let mut raw = Vec::new();
    let mut session = String::new();
    for _ in 0..20 {
        let start = Instant::now();
        let reply = ask(server, &[format!("login {USER} {PASSWORD}")]).await;
        raw.push(ms(start));
        session = reply[0].split(' ').nth(1).expect("a session id").to_owned();
    }
    let mut http = Vec::new();
    for _ in 0..10 {
        let body = format!("user={USER}&password={}", PASSWORD.replace(' ', "+"));
        let request = format!(
            "POST /login HTTP/1.1\r\nHost: b\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let start = Instant::now();
        let mut tcp = TcpStream::connect(bridge).await.expect("connect");
        tcp.write_all(request.as_bytes()).await.expect("send");
        let mut response = Vec::new();
        tcp.read_to_end(&mut response).await.expect("read");
        http.push(ms(start));
        assert!(response.starts_with(b"HTTP/1.1 200"), "signed in");
    }
    println!(
        "sign-in: raw `login` p50 {:.1} ms; bridge `POST /login` p50 {:.1} ms",
        p50(raw),
        p50(http)
    );
    session
}

/// `session <id>` checked by the server, pipelined 1,000 at a time on `connections`.
async fn validations(server: std::net::SocketAddr, session: &str, connections: usize) -> f64 {
    const PER_CONNECTION: usize = 100_000;
    let batch: String = (0..1000).map(|_| format!("session {session}\n")).collect();
    let start = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let batch = batch.clone();
            tokio::spawn(async move {
                let mut conn = BufReader::new(TcpStream::connect(server).await.expect("connect"));
                let mut text = String::new();
                for _ in 0..PER_CONNECTION / 1000 {
                    conn.get_mut()
                        .write_all(batch.as_bytes())
                        .await
                        .expect("send");
                    for _ in 0..1000 {
                        text.clear();
                        conn.read_line(&mut text).await.expect("reply");
                        assert!(text.starts_with("user "), "{text}");
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    (connections * PER_CONNECTION) as f64 / start.elapsed().as_secs_f64()
}

/// `GET <path>` with the cookie, from 16 keep-alive clients for 5 s: requests per second.
async fn bridge_checks(bridge: std::net::SocketAddr, path: &'static str, session: &str) -> f64 {
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: b\r\nCookie: tapedeck_session={session}\r\n\r\n");
    let deadline = Instant::now() + Duration::from_secs(5);
    let start = Instant::now();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let request = request.clone();
            tokio::spawn(async move {
                let mut conn = BufReader::new(TcpStream::connect(bridge).await.expect("connect"));
                let mut done = 0u64;
                while Instant::now() < deadline {
                    conn.get_mut()
                        .write_all(request.as_bytes())
                        .await
                        .expect("send");
                    read_response(&mut conn, path == "/session").await;
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("task");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// Reads one HTTP response with a Content-Length body (a user's, if `who`).
async fn read_response(conn: &mut BufReader<TcpStream>, who: bool) {
    let mut length = 0usize;
    let mut text = String::new();
    loop {
        text.clear();
        conn.read_line(&mut text).await.expect("head");
        let header = text.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().expect("length");
        }
    }
    let mut body = vec![0; length];
    conn.read_exact(&mut body).await.expect("body");
    assert!(
        !who || body.starts_with(br#"{"user":"#),
        "{}",
        String::from_utf8_lossy(&body)
    );
}

/// Opening a WebSocket and its first reply: p50 over 200, in milliseconds.
async fn websocket_opens(bridge: std::net::SocketAddr, session: Option<&str>) -> f64 {
    use futures_util::{SinkExt, StreamExt};
    let mut samples = Vec::new();
    for _ in 0..200 {
        let mut request = format!("ws://{bridge}/ws")
            .into_client_request()
            .expect("url");
        if let Some(id) = session {
            let cookie = format!("tapedeck_session={id}").parse().expect("cookie");
            request.headers_mut().insert("cookie", cookie);
        }
        let start = Instant::now();
        let (mut ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("opens");
        ws.send("songs 0 1".into()).await.expect("send");
        ws.next().await.expect("reply").expect("ok");
        samples.push(ms(start));
        let _ = ws.close(None).await;
    }
    p50(samples)
}

#[tokio::main]
async fn main() {
    let music = Path::new(env!("CARGO_MANIFEST_DIR")).join("../music");
    argon2();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("tapedeck.sqlite3");
    procs::add_user(&db, USER, PASSWORD).expect("user add");
    let (_server, server) = procs::server(&music, 256, Some(&db)).await.expect("server");
    let web = tempfile::tempdir().expect("web");
    let (_bridge, url) = procs::bridge(server, 256, web.path())
        .await
        .expect("bridge");
    let bridge: std::net::SocketAddr = url
        .trim_start_matches("ws://")
        .trim_end_matches("/ws")
        .parse()
        .expect("bridge address");
    let session = sign_ins(server, bridge).await;
    let one = validations(server, &session, 1).await;
    let two = validations(server, &session, 2).await;
    println!("server checks `session <id>`: {one:.0}/s on one connection, {two:.0}/s on two");
    let through = bridge_checks(bridge, "/session", &session).await;
    println!("bridge `GET /session` (a control connection and a check each): {through:.0}/s");
    let page = bridge_checks(bridge, "/", &session).await;
    println!("bridge `GET /` (the page, no check: the HTTP baseline): {page:.0}/s");
    let signed = websocket_opens(bridge, Some(&session)).await;
    let (_open_server, open) = procs::server(&music, 256, None).await.expect("server");
    let web = tempfile::tempdir().expect("web");
    let (_open_bridge, open_url) = procs::bridge(open, 256, web.path()).await.expect("bridge");
    let open_bridge = open_url
        .trim_start_matches("ws://")
        .trim_end_matches("/ws")
        .parse()
        .expect("bridge address");
    let unsigned = websocket_opens(open_bridge, None).await;
    println!(
        "WebSocket open + first reply, p50: {signed:.2} ms with a session, {unsigned:.2} ms \
         on a server without accounts"
    );
}
