//! Moving a song file's bytes to a data connection.
//!
//! On Linux with `sendfile(2)`: the kernel copies from the page cache straight into the
//! socket, with no buffer here and no trip to the blocking pool per chunk (what nginx does).
//! Elsewhere, through tokio's file reads and a buffer.

use std::io;

use tokio::net::TcpStream;

/// An open song file, read from front to back.
#[derive(Debug)]
pub struct Source {
    #[cfg(target_os = "linux")]
    file: std::fs::File,
    #[cfg(not(target_os = "linux"))]
    file: tokio::fs::File,
    #[cfg(not(target_os = "linux"))]
    buf: Vec<u8>,
    /// The file offset of the next octet to send.
    offset: u64,
}

impl Source {
    /// The file's octets from `offset` on.
    #[cfg(target_os = "linux")]
    pub fn new(file: std::fs::File, offset: u64) -> io::Result<Self> {
        Ok(Self { file, offset })
    }

    /// The file's octets from `offset` on.
    #[cfg(not(target_os = "linux"))]
    pub fn new(mut file: std::fs::File, offset: u64) -> io::Result<Self> {
        use std::io::Seek;
        file.seek(io::SeekFrom::Start(offset))?;
        Ok(Self {
            file: tokio::fs::File::from_std(file),
            buf: Vec::new(),
            offset,
        })
    }

    /// Sends up to `max` of the next bytes to `socket` once it can take some; returns how many
    /// went, 0 if the file has ended.
    #[cfg(target_os = "linux")]
    pub async fn send(&mut self, socket: &TcpStream, max: usize) -> io::Result<usize> {
        use std::os::fd::AsFd;
        use tokio::io::Interest;
        loop {
            socket.writable().await?;
            let sent = socket.try_io(Interest::WRITABLE, || {
                let mut offset = self.offset;
                rustix::fs::sendfile(socket.as_fd(), &self.file, Some(&mut offset), max)
                    .map_err(io::Error::from)
            });
            match sent {
                Ok(n) => {
                    self.offset += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub async fn send(&mut self, socket: &mut TcpStream, max: usize) -> io::Result<usize> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        self.buf.resize(max.min(64 * 1024), 0);
        let n = self.file.read(&mut self.buf).await?;
        socket.write_all(&self.buf[..n]).await?;
        self.offset += n as u64;
        Ok(n)
    }
}
