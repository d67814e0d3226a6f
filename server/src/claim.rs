//! Claiming a data port: only the requesting client, presenting the play's token, gets the
//! stream, and nobody else can keep it from getting it (PROTOCOL.md section 7.1).
//!
//! - Connections from any address but the client's are closed on arrival, unread.
//! - A connection from the client's address is judged on what has arrived with it: a client
//!   sends its token as it connects, so when connections wait in the accept queue (a storm of
//!   strangers) the client is served there and then.
//! - A connection whose line is not whole yet waits, read as its octets come, for at most
//!   [`CLAIM_LINE_TIMEOUT`]. At most [`MAX_PENDING_CLAIMS`] wait at once. When one more comes,
//!   every waiting one is read first (a client's token that has arrived is served, strangers
//!   whose line is wrong are closed), and only then, if all are still waiting, the one that
//!   has waited longest is closed. Silent strangers therefore cannot fill the port, and a
//!   client whose token has arrived is never the one closed.
//! - A wrong line closes only its own connection.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::task::{Context, Poll};
use std::time::Duration;

use tapedeck_protocol::TOKEN_LEN;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tracing::debug;

/// Connections from the client's address waiting for their claim line, per data port.
pub const MAX_PENDING_CLAIMS: usize = 64;

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
    let mut waiting = Waiting::default();
    loop {
        let expiry = waiting.next_expiry();
        tokio::select! {
            biased;
            () = &mut deadline => return None,
            index = std::future::poll_fn(|cx| waiting.poll_readable(cx)) => {
                if let Some(stream) = waiting.read(index, token) {
                    return Some(stream);
                }
            }
            () = tokio::time::sleep_until(expiry), if !waiting.is_empty() => waiting.expire(),
            accepted = listener.accept() => match accepted {
                Ok((stream, from)) if from.ip().to_canonical() == peer => {
                    if let Some(stream) = waiting.arrived(stream, token) {
                        return Some(stream);
                    }
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

/// A connection from the client's address whose claim line is not whole yet.
#[derive(Debug)]
struct Waiter {
    stream: TcpStream,
    line: ClaimLine,
    since: Instant,
}

/// The waiting connections, oldest first (at most [`MAX_PENDING_CLAIMS`]).
#[derive(Debug, Default)]
struct Waiting(VecDeque<Waiter>);

impl Waiting {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A new connection: served if its line is the token, closed if it is wrong, else it
    /// waits (see the module's rules for when all slots are taken).
    fn arrived(&mut self, stream: TcpStream, token: &str) -> Option<TcpStream> {
        let mut line = ClaimLine::default();
        match line.read_now(&stream, token) {
            Verdict::Token => return Some(stream),
            Verdict::Wrong => return None,
            Verdict::More => {}
        }
        if self.0.len() >= MAX_PENDING_CLAIMS {
            for index in (0..self.0.len()).rev() {
                if let Some(client) = self.read(index, token) {
                    return Some(client);
                }
            }
        }
        if self.0.len() >= MAX_PENDING_CLAIMS {
            debug!("closed the longest-waiting unverified data connection");
            self.0.pop_front();
        }
        self.0.push_back(Waiter {
            stream,
            line,
            since: Instant::now(),
        });
        None
    }

    /// Reads what has arrived on waiting connection `index`: its stream if the line is the
    /// token; the connection is dropped if the line is wrong.
    fn read(&mut self, index: usize, token: &str) -> Option<TcpStream> {
        let waiter = self.0.get_mut(index)?;
        match waiter.line.read_now(&waiter.stream, token) {
            Verdict::More => None,
            Verdict::Token => self.0.remove(index).map(|w| w.stream),
            Verdict::Wrong => {
                self.0.remove(index);
                None
            }
        }
    }

    /// The index of a waiting connection with something to read, waking when there is one.
    fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<usize> {
        for (index, waiter) in self.0.iter().enumerate() {
            if waiter.stream.poll_read_ready(cx).is_ready() {
                return Poll::Ready(index);
            }
        }
        Poll::Pending
    }

    /// When the oldest waiting connection runs out of time.
    fn next_expiry(&self) -> Instant {
        self.0
            .front()
            .map_or_else(Instant::now, |w| w.since + CLAIM_LINE_TIMEOUT)
    }

    /// Closes the connections that have waited too long.
    fn expire(&mut self) {
        let now = Instant::now();
        while self
            .0
            .front()
            .is_some_and(|w| w.since + CLAIM_LINE_TIMEOUT <= now)
        {
            debug!("closed a data connection that sent no claim line in time");
            self.0.pop_front();
        }
    }
}

/// What a claim line turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Exactly the token, then EOL.
    Token,
    /// Anything else: another line, too many octets, or the end of the connection.
    Wrong,
    /// Not a whole line yet.
    More,
}

/// A claim line as it arrives: at most the token, CR and LF.
#[derive(Debug)]
struct ClaimLine {
    buf: [u8; TOKEN_LEN + 2],
    len: usize,
}

impl Default for ClaimLine {
    fn default() -> Self {
        Self {
            buf: [0; TOKEN_LEN + 2],
            len: 0,
        }
    }
}

impl ClaimLine {
    /// Takes `n` more octets (0: the connection ended) and judges the line.
    fn took(&mut self, n: usize, token: &str) -> Verdict {
        if n == 0 {
            return Verdict::Wrong;
        }
        self.len += n;
        let Some(end) = self.buf[..self.len].iter().position(|&b| b == b'\n') else {
            return if self.len == self.buf.len() {
                Verdict::Wrong
            } else {
                Verdict::More
            };
        };
        let line = &self.buf[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if same(line, token.as_bytes()) {
            Verdict::Token
        } else {
            Verdict::Wrong
        }
    }

    /// Reads what has already arrived, without waiting.
    fn read_now(&mut self, stream: &TcpStream, token: &str) -> Verdict {
        loop {
            match stream.try_read(&mut self.buf[self.len..]) {
                Ok(n) => match self.took(n, token) {
                    Verdict::More => {}
                    verdict => return verdict,
                },
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Verdict::More,
                Err(_) => return Verdict::Wrong,
            }
        }
    }
}

/// Compares without an early exit, so timing does not tell how much of a guess was right.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh random token: 128 bits as lower-case hexadecimal.
pub fn new_token() -> Result<String, getrandom::Error> {
    random_hex(TOKEN_LEN / 2)
}

/// `octets` random octets from the operating system, as lower-case hexadecimal.
pub fn random_hex(octets: usize) -> Result<String, getrandom::Error> {
    let mut bytes = vec![0u8; octets];
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
    fn claim_lines_are_judged_as_they_arrive() {
        let token = "0123456789abcdef0123456789abcdef";
        let judge = |pieces: &[&[u8]]| {
            let mut line = ClaimLine::default();
            let mut verdict = Verdict::More;
            for piece in pieces {
                line.buf[line.len..line.len + piece.len()].copy_from_slice(piece);
                verdict = line.took(piece.len(), token);
            }
            verdict
        };
        assert_eq!(judge(&[token.as_bytes(), b"\n"]), Verdict::Token);
        assert_eq!(judge(&[token.as_bytes(), b"\r\n"]), Verdict::Token);
        assert_eq!(judge(&[&token.as_bytes()[..10]]), Verdict::More);
        assert_eq!(judge(&[b"\n"]), Verdict::Wrong);
        assert_eq!(
            judge(&[b"0123456789abcdef0123456789abcdeX\n"]),
            Verdict::Wrong
        );
        assert_eq!(
            judge(&[&[b'0'; 34]]),
            Verdict::Wrong,
            "34 octets without LF"
        );
        assert_eq!(
            judge(&[b"01", b""]),
            Verdict::Wrong,
            "the end of the connection"
        );
    }

    #[test]
    fn compares_exactly() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
    }
}
