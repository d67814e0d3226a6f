//! Data ports: a fresh listening socket per play, from a configured range or from the kernel.
//!
//! With a range, ports are taken in turn. That suits firewalls, and it is much cheaper when
//! plays come fast: every data connection the server closes leaves its port in TIME_WAIT for a
//! minute, and with tens of thousands of those, the kernel's own search for a free port
//! (binding port 0) becomes most of the server's CPU time. Binding one given port with
//! `SO_REUSEADDR` costs the same whatever waits in TIME_WAIT.
//!
//! In the kernel's ephemeral range (the default) only even ports are taken: Linux hands odd
//! ones to outgoing connections (`connect`), in dense runs, and those sockets, open or in
//! TIME_WAIT, do block a port. Even ports are what the kernel itself would pick for a bind.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpSocket};

/// Connections a data port queues before the claim task takes them (it reads at most 8).
const BACKLOG: u32 = 16;

/// Ports of the range tried for one play before giving up on it: a bound, so that a range
/// full of other programs' sockets costs a play a few dozen system calls, not thousands.
const MAX_TRIES: usize = 64;

/// Where data ports come from.
#[derive(Debug)]
pub struct DataPorts {
    range: Option<RangeInclusive<u16>>,
    /// Whether only the range may be used; otherwise the kernel picks when it is full.
    only: bool,
    /// 2 to take only even ports (the kernel's range), 1 to take every port of the range.
    step: usize,
    next: AtomicUsize,
}

impl DataPorts {
    /// Ports from `range` in turn, or any port the kernel picks when `None`. When
    /// [`MAX_TRIES`] ports of the range in a row are taken, a play gets no port if `only`,
    /// else one the kernel picks.
    pub fn new(range: Option<RangeInclusive<u16>>, only: bool) -> Self {
        Self {
            range,
            only,
            step: if only { 1 } else { 2 },
            next: AtomicUsize::new(0),
        }
    }

    /// A listening socket on a free port of `ip`. Ports in use (another play, another
    /// program) are skipped.
    pub fn bind(&self, ip: IpAddr) -> io::Result<TcpListener> {
        let any = SocketAddr::new(ip, 0);
        let Some(range) = &self.range else {
            return listen(any);
        };
        // The first port of the range that the step reaches (the first even one for step 2).
        let first = usize::from(*range.start()).next_multiple_of(self.step);
        let count = (usize::from(*range.end()) + 1)
            .saturating_sub(first)
            .div_ceil(self.step);
        for _ in 0..count.min(MAX_TRIES) {
            let turn = self.next.fetch_add(1, Ordering::Relaxed) % count;
            let Ok(port) = u16::try_from(first + turn * self.step) else {
                continue;
            };
            match listen(SocketAddr::new(ip, port)) {
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => {}
                other => return other,
            }
        }
        if self.only {
            Err(io::ErrorKind::AddrInUse.into())
        } else {
            listen(any)
        }
    }
}

fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn free_range(len: u16) -> RangeInclusive<u16> {
        // A window of ports that were free a moment ago (another test may race for them; the
        // allocator skips taken ports, so only a full range would fail).
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let start = probe.local_addr().expect("addr").port().min(65_535 - len);
        start..=start + len - 1
    }

    #[tokio::test]
    async fn ports_come_from_the_range_in_turn_and_taken_ones_are_skipped() {
        let range = free_range(4);
        let ports = DataPorts::new(Some(range.clone()), true);
        let a = ports.bind(LOOPBACK).expect("first");
        let b = ports.bind(LOOPBACK).expect("second");
        let (pa, pb) = (
            a.local_addr().expect("a").port(),
            b.local_addr().expect("b").port(),
        );
        assert!(range.contains(&pa) && range.contains(&pb) && pa != pb);
        let c = ports.bind(LOOPBACK).expect("third");
        let d = ports.bind(LOOPBACK).expect("fourth");
        // All four are listening now: a fifth finds none, clearly.
        let err = ports.bind(LOOPBACK).expect_err("the range is full");
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        drop((a, c, d));
        // A freed port is found again.
        let e = ports.bind(LOOPBACK).expect("a freed port");
        assert!(range.contains(&e.local_addr().expect("e").port()));
        drop(b);
    }

    #[tokio::test]
    async fn without_a_range_the_kernel_picks() {
        let listener = DataPorts::new(None, false).bind(LOOPBACK).expect("bind");
        assert_ne!(listener.local_addr().expect("addr").port(), 0);
    }

    #[tokio::test]
    async fn the_default_range_takes_even_ports() {
        let range = free_range(8);
        let ports = DataPorts::new(Some(range.clone()), false);
        let taken: Vec<TcpListener> = (0..4)
            .map(|_| ports.bind(LOOPBACK).expect("bind"))
            .collect();
        for listener in &taken {
            let port = listener.local_addr().expect("addr").port();
            assert!(
                port % 2 == 0 && range.contains(&port),
                "{port} in {range:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_full_default_range_falls_back_to_the_kernel() {
        let range = free_range(2);
        let ports = DataPorts::new(Some(range.clone()), false);
        let taken = ports.bind(LOOPBACK).expect("the one port");
        let other = ports.bind(LOOPBACK).expect("a port from the kernel");
        assert!(!range.contains(&other.local_addr().expect("addr").port()));
        drop(taken);
    }
}
