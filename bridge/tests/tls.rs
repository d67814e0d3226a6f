//! The bridge serving HTTPS and WSS itself (`--tls-cert`, `--tls-key`): a self-signed
//! certificate made here, a rustls client trusting it. Signing in gives a `Secure` cookie, the
//! WebSocket upgrades over TLS with it, a client that never finishes its handshake holds up
//! nobody, and a bad certificate file is a clear error.

mod common;

use std::sync::Arc;

use common::{PATIENCE, Stack, demo_music};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const PASSWORD: &str = "correct horse battery";

struct Tls {
    stack: Stack,
    connector: TlsConnector,
    _dir: tempfile::TempDir,
}

async fn tls_stack() -> Tls {
    let dir = tempfile::tempdir().expect("tempdir");
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).expect("cert");
    std::fs::write(&key, made.signing_key.serialize_pem()).expect("key");
    let config = tapedeck_bridge::tls::load(&cert, &key).expect("loads");
    let db = dir.path().join("tapedeck.sqlite3");
    tapedeck_server::accounts::add_user(&db, "alice", PASSWORD).expect("added");
    let mut server = tapedeck_server::Config::new(demo_music());
    server.db = Some(db);
    let stack = Stack::start_with(server, |b| b.tls = Some(config)).await;
    let mut roots = RootCertStore::empty();
    roots.add(made.cert.der().clone()).expect("root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Tls {
        stack,
        connector: TlsConnector::from(Arc::new(client)),
        _dir: dir,
    }
}

impl Tls {
    async fn connect(&self) -> tokio_rustls::client::TlsStream<TcpStream> {
        let tcp = TcpStream::connect(self.stack.bridge)
            .await
            .expect("connect");
        let name = ServerName::try_from("localhost").expect("name");
        self.connector.connect(name, tcp).await.expect("handshake")
    }

    /// `POST /login` over TLS: the whole response as text.
    async fn login(&self) -> String {
        let mut tls = self.connect().await;
        let body = format!("user=alice&password={}", PASSWORD.replace(' ', "+"));
        let request = format!(
            "POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: \
             application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: \
             close\r\n\r\n{body}",
            body.len()
        );
        tls.write_all(request.as_bytes()).await.expect("send");
        let mut response = Vec::new();
        tokio::time::timeout(PATIENCE, tls.read_to_end(&mut response))
            .await
            .expect("in time")
            .ok();
        String::from_utf8_lossy(&response).into_owned()
    }
}

#[tokio::test]
async fn https_signs_in_with_a_secure_cookie_and_wss_plays() {
    let tls = tls_stack().await;
    let response = tls.login().await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let cookie = response
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .expect("a cookie");
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    let pair = cookie.split(';').next().expect("pair");
    let mut request = "wss://localhost/ws".into_client_request().expect("request");
    request
        .headers_mut()
        .insert("cookie", pair.parse().expect("header"));
    let stream = tls.connect().await;
    let (mut ws, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .expect("WSS opens");
    ws.send(Message::text("songs 0 1")).await.expect("send");
    let reply = tokio::time::timeout(PATIENCE, ws.next())
        .await
        .expect("in time")
        .expect("a message")
        .expect("ok");
    assert!(reply.to_text().expect("text").starts_with('{'), "{reply:?}");
}

#[tokio::test]
async fn a_stalled_handshake_holds_up_nobody() {
    let tls = tls_stack().await;
    // Connects and says nothing: its handshake waits, the next client's goes through.
    let _silent = TcpStream::connect(tls.stack.bridge).await.expect("connect");
    let mut garbage = TcpStream::connect(tls.stack.bridge).await.expect("connect");
    garbage
        .write_all(b"GET / HTTP/1.1\r\n\r\n")
        .await
        .expect("send");
    let response = tls.login().await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[test]
fn a_bad_certificate_or_key_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, "not a certificate").expect("write");
    std::fs::write(&key, "not a key").expect("write");
    let err = tapedeck_bridge::tls::load(&cert, &key).expect_err("refused");
    assert!(err.to_string().contains("cert.pem"), "{err}");
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    std::fs::write(&cert, made.cert.pem()).expect("cert");
    let err = tapedeck_bridge::tls::load(&cert, &key).expect_err("refused");
    assert!(err.to_string().contains("key.pem"), "{err}");
    let missing = dir.path().join("missing.pem");
    assert!(tapedeck_bridge::tls::load(&missing, &key).is_err());
}
