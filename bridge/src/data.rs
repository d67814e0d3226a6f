//! One play's audio: claim the data port the server announced, and forward its bytes as they
//! come, no faster than the browser takes them.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tapedeck_protocol::Event;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::timeout;

use crate::outbox::Out;

/// The most read from the data port at a time: one binary message each. Large enough that an
/// unpaced stream costs few system calls.
pub const CHUNK: usize = 64 * 1024;
/// The read buffer a play starts with: a paced stream's reads rarely fill even this, so it
/// grows towards [`CHUNK`] only while reads come back full.
const FIRST_CHUNK: usize = 16 * 1024;

/// What the server announced for one play.
#[derive(Debug)]
pub struct Claim {
    /// The server's data port (on the configured server's address: the bridge connects nowhere
    /// else).
    pub addr: SocketAddr,
    pub token: String,
    /// The octet count of the `port` reply.
    pub bytes: u64,
    /// The play's generation, to tag what it sends.
    pub generation: u64,
}

/// Forwards the play's bytes, then says how it ended: `event end` after all octets, an error
/// event otherwise. Dropping the future closes the data connection.
pub async fn pump(claim: Claim, out: mpsc::Sender<Out>, connect_timeout: Duration) {
    let result = forward(&claim, &out, connect_timeout).await;
    let event = match result {
        Ok(received) if received == claim.bytes => Event::End,
        Ok(received) => Event::Error(format!(
            "stream ended early after {received} of {} bytes",
            claim.bytes
        )),
        Err(err) => Event::Error(format!("data connection failed: {err}")),
    };
    let _ = out.send(Out::PlayEvent(claim.generation, event)).await;
}

/// Claims tried per play. The server may close a claim it has not yet verified when more
/// connections from this address crowd the port (PROTOCOL.md 7.1); the port stays open for
/// the play, so a connection closed before its first octet is claimed again.
const CLAIM_TRIES: usize = 3;

async fn forward(
    claim: &Claim,
    out: &mpsc::Sender<Out>,
    connect: Duration,
) -> std::io::Result<u64> {
    let mut buf = vec![0u8; FIRST_CHUNK];
    let (mut data, mut n) = (connect_claim(claim, connect).await?, 0);
    for _ in 1..CLAIM_TRIES {
        n = data.read(&mut buf).await?;
        if n > 0 || claim.bytes == 0 {
            break;
        }
        data = connect_claim(claim, connect).await?;
    }
    let mut received = 0u64;
    loop {
        if n == 0 {
            n = data.read(&mut buf).await?;
            if n == 0 {
                return Ok(received);
            }
        }
        received += n as u64;
        // A message holds only what arrived, not a whole buffer's capacity.
        let chunk = Bytes::copy_from_slice(&buf[..n]);
        if n == buf.len() && buf.len() < CHUNK {
            buf.resize(buf.len() * 2, 0);
        }
        n = 0;
        if out.send(Out::Audio(claim.generation, chunk)).await.is_err() {
            return Ok(received);
        }
    }
}

/// Connects to the play's data port and presents its token.
async fn connect_claim(claim: &Claim, connect: Duration) -> std::io::Result<TcpStream> {
    let mut data = timeout(connect, TcpStream::connect(claim.addr)).await??;
    data.set_nodelay(true)?;
    data.write_all(format!("{}\n", claim.token).as_bytes())
        .await?;
    Ok(data)
}
