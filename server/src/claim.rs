//! Claiming a data port: only the requesting client, presenting the play's token, gets the
//! stream, and nobody else can keep it from getting it (PROTOCOL.md section 7.1).
//!
//! - Connections from any address but the client's are closed on arrival, unread.
//! - Connections from the client's address are read at once, each in its own task, for at
//!   most [`CLAIM_LINE_TIMEOUT`]; a wrong line closes only that connection.
//! - At most [`MAX_PENDING_CLAIMS`] are read at once; when one more arrives, the one that has
//!   waited longest is closed. Silent strangers therefore cannot fill the port: the client,
//!   which sends its token as soon as it connects, is always among the newest.
//! - A verified claim wins over everything still pending: completed checks are looked at
//!   before the next connection is accepted.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Duration;

use tapedeck_protocol::TOKEN_LEN;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinSet};
use tracing::debug;

/// Connections from the client's address whose claim line is read at once, per data port.
/// One more closes the one that has waited longest.
pub const MAX_PENDING_CLAIMS: usize = 16;

/// How long a connection may take to send its claim line after it is accepted. A client
/// sends the token right after connecting, so this only bounds what a silent stranger holds.
pub const CLAIM_LINE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long the claim waits after `accept` fails (out of file descriptors, say) before it
/// tries again, so a persistent failure cannot spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(10);

/// Waits up to `timeout` for a connection from `peer` that sends `token` and EOL. `None` when
/// none came in time. The listener is dropped on return, so the port is claimed at most once.
pub async fn claim(
    listener: TcpListener,
    peer: IpAddr,
    token: &str,
    timeout: Duration,
) -> Option<TcpStream> {
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut pending = Pending::default();
    loop {
        tokio::select! {
            biased;
            () = &mut deadline => return None,
            joined = pending.checks.join_next(), if !pending.checks.is_empty() => {
                // A stranger's failed check, a timed-out or an evicted one: nothing to do.
                if let Some(Ok(Some(stream))) = joined {
                    return Some(stream);
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, from)) if from.ip().to_canonical() == peer => {
                    pending.check(stream, token);
                }
                Ok((_, from)) => debug!(%from, "closed a data connection from another address"),
                Err(err) => {
                    debug!(error = %err, "accept on a data port failed");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                }
            },
        }
    }
}

/// The connections whose claim line is being read, oldest first.
#[derive(Debug, Default)]
struct Pending {
    checks: JoinSet<Option<TcpStream>>,
    order: VecDeque<AbortHandle>,
}

impl Pending {
    /// Starts reading `stream`'s claim line, closing the oldest pending one if all slots are
    /// taken.
    fn check(&mut self, stream: TcpStream, token: &str) {
        self.order.retain(|handle| !handle.is_finished());
        if self.order.len() >= MAX_PENDING_CLAIMS {
            if let Some(oldest) = self.order.pop_front() {
                debug!("closed the longest-waiting unverified data connection");
                oldest.abort();
            }
        }
        let line = tokio::time::timeout(CLAIM_LINE_TIMEOUT, check_token(stream, token.to_owned()));
        let handle = self.checks.spawn(async move { line.await.ok().flatten() });
        self.order.push_back(handle);
    }
}

/// Reads the claim line from `stream` and hands the stream back if it is exactly the token.
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
