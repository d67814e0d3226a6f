//! Who a request is, asked of the server (PROTOCOL.md 5.12, 16.9): the bridge keeps no
//! session of its own. Every WebSocket, picture and `/session` request opens a control
//! connection and signs it in with the request's session cookie (or asks whether the server
//! is open); a WebSocket then goes on with that very connection, so it can only do what its
//! user can.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::http::{HeaderMap, header};
use tapedeck_protocol::{Command, MAX_LINE_LEN, Reply, valid_session_id};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::config::Config;

/// The cookie that carries the session id.
pub const COOKIE: &str = "tapedeck_session";

/// A control connection, signed in (or the server is open).
#[derive(Debug)]
pub struct Signed {
    pub control: TcpStream,
    /// The user's name; `None` when the server has no accounts.
    pub user: Option<String>,
    /// Seconds the session still holds.
    pub seconds: u64,
}

/// Why a request is not let in.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// No session, or one the server does not know (any more).
    #[error("sign in")]
    SignIn,
    /// The server has no accounts, and this bridge may not serve beyond loopback without.
    #[error("this server has no accounts: add one with `tapedeck-server user add NAME`")]
    NoAccounts,
    /// The server could not be asked.
    #[error("server unavailable")]
    Unavailable(#[from] std::io::Error),
}

/// Whether the request comes from a page of another origin (a browser always says which; a
/// request without `Origin` is not from a browser page, and allowed).
pub fn foreign_origin(config: &Config, headers: &HeaderMap) -> bool {
    headers.get(header::ORIGIN).is_some_and(|origin| {
        !config
            .allowed_origins
            .iter()
            .any(|o| o.as_bytes() == origin.as_bytes())
    })
}

/// The session id of the request's cookie, if it has one of the right shape.
pub fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && valid_session_id(value))
        .map(|(_, value)| value.to_owned())
}

/// A control connection signed in with the request's session cookie.
pub async fn sign_in(config: &Config, headers: &HeaderMap) -> Result<Signed, Refused> {
    let mut control = connect(config).await?;
    let command = match session_id(headers) {
        Some(id) => Command::Session(id),
        None => Command::User,
    };
    match ask(&mut control, &command).await? {
        Reply::User { name, seconds } => Ok(Signed {
            control,
            user: Some(name),
            seconds,
        }),
        Reply::Open if config.open => Ok(Signed {
            control,
            user: None,
            seconds: 0,
        }),
        Reply::Open => Err(Refused::NoAccounts),
        _ => Err(Refused::SignIn),
    }
}

/// A fresh control connection to the server.
pub async fn connect(config: &Config) -> std::io::Result<TcpStream> {
    let control = timeout(config.connect_timeout, TcpStream::connect(config.server)).await??;
    let _ = control.set_nodelay(true);
    Ok(control)
}

/// Sends `command` and reads its one reply, a byte at a time: nothing after the reply's line
/// is read, so the connection can be handed on as it is.
pub async fn ask(control: &mut TcpStream, command: &Command) -> std::io::Result<Reply> {
    control.write_all(format!("{command}\n").as_bytes()).await?;
    let line = timeout(ANSWER_TIMEOUT, read_line(control))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer"))??;
    Reply::parse(command, &line)
        .map_err(|err| std::io::Error::new(std::io::ErrorKind::InvalidData, err.to_string()))
}

/// How long the server may take to answer a sign-in (hashing a password takes a fraction of a
/// second; a throttled one waits its turn).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

async fn read_line(control: &mut TcpStream) -> std::io::Result<String> {
    let mut line = Vec::with_capacity(128);
    loop {
        let byte = control.read_u8().await?;
        if byte == b'\n' {
            break;
        }
        if line.len() > MAX_LINE_LEN {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "reply too long",
            ));
        }
        line.push(byte);
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8"))
}

/// The address of the browser: the peer, or, when the peer is a trusted reverse proxy, the
/// last address of `X-Forwarded-For` that is not one of the trusted proxies.
pub fn client(config: &Config, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    let peer = peer.ip().to_canonical();
    let trusted = |ip: &IpAddr| {
        config
            .trusted_proxies
            .iter()
            .any(|p| p.to_canonical() == *ip)
    };
    if !trusted(&peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
        .rev()
        .find(|ip| !trusted(ip))
        .unwrap_or(peer)
}

/// Whether the browser reached us over HTTPS (ours, or a trusted proxy's).
pub fn secure(config: &Config, peer: SocketAddr, headers: &HeaderMap) -> bool {
    config.tls.is_some()
        || (config
            .trusted_proxies
            .iter()
            .any(|p| p.to_canonical() == peer.ip().to_canonical())
            && headers
                .get("x-forwarded-proto")
                .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn config(proxies: &[&str]) -> Config {
        let mut config = Config::new("127.0.0.1:1".parse().expect("addr"), "dist");
        config.trusted_proxies = proxies.iter().map(|p| p.parse().expect("ip")).collect();
        config
    }

    #[test]
    fn forwarded_for_is_believed_from_a_trusted_proxy_only() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 203.0.113.9, 10.0.0.2"),
        );
        let proxy: SocketAddr = "10.0.0.1:4000".parse().expect("addr");
        let ip = |text: &str| text.parse::<IpAddr>().expect("ip");
        assert_eq!(client(&config(&[]), proxy, &headers), ip("10.0.0.1"));
        assert_eq!(
            client(&config(&["10.0.0.1", "10.0.0.2"]), proxy, &headers),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let id = "a".repeat(64);
        let mut headers = HeaderMap::new();
        let cookie = format!("theme=dark; {COOKIE}={id}; x=1");
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&cookie).expect("value"),
        );
        assert_eq!(session_id(&headers), Some(id));
        let mut bad = HeaderMap::new();
        bad.insert(
            header::COOKIE,
            HeaderValue::from_static("tapedeck_session=../../x"),
        );
        assert_eq!(session_id(&bad), None);
    }
}
