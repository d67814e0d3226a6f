//! Claiming a data port: only the requesting client, presenting the play's token, gets the
//! stream. Strangers are dropped without disturbing the real claim.

use std::net::IpAddr;
use std::time::Duration;

use tapedeck_protocol::TOKEN_LEN;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tracing::debug;

/// Connections whose token is still being read at once; more are dropped on arrival, so a flood
/// of strangers cannot hold memory or tasks.
const MAX_PENDING_CLAIMS: usize = 8;

/// Waits up to `timeout` for a connection from `peer` that sends `token` and LF. `None` when
/// none came in time. The listener is dropped on return, so the port is claimed at most once.
pub async fn claim(
    listener: TcpListener,
    peer: IpAddr,
    token: &str,
    timeout: Duration,
) -> Option<TcpStream> {
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut pending = JoinSet::new();
    loop {
        tokio::select! {
            () = &mut deadline => return None,
            Some(Ok(Some(stream))) = pending.join_next(), if !pending.is_empty() => {
                return Some(stream);
            }
            accepted = listener.accept() => {
                let Ok((stream, from)) = accepted else { continue };
                if from.ip().to_canonical() != peer || pending.len() >= MAX_PENDING_CLAIMS {
                    debug!(%from, "refused a data connection from a stranger");
                    continue;
                }
                pending.spawn(check_token(stream, token.to_owned()));
            }
        }
    }
}

/// Reads the token line from `stream` and hands the stream back if it matches.
async fn check_token(mut stream: TcpStream, token: String) -> Option<TcpStream> {
    let mut buf = [0u8; TOKEN_LEN + 2];
    let mut len = 0;
    while !buf[..len].contains(&b'\n') {
        let n = stream.read(&mut buf[len..]).await.ok()?;
        if n == 0 || len + n == buf.len() && !buf[..len + n].contains(&b'\n') {
            return None;
        }
        len += n;
    }
    let line = buf[..len].split(|&b| b == b'\n').next()?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    same(line, token.as_bytes()).then_some(stream)
}

/// Compares without an early exit, so timing does not tell how much of a guess was right.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh random token: 128 bits as lower-case hexadecimal.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; TOKEN_LEN / 2];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_hex_and_differ() {
        let (a, b) = (new_token().expect("random"), new_token().expect("random"));
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }

    #[test]
    fn compares_exactly() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
    }
}
