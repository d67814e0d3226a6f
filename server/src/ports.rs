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

/// Connections a data port queues before the claim task accepts them. Strangers knocking in a
/// storm must not fill the queue, or the client's own connection would wait for a SYN
/// retransmission (a second). With 256, 100 strangers knocking 5,000 times a second on two
/// busy cores overflowed it (`nstat`: ListenOverflows); with 1024 they did not
/// (BENCHMARKS.md). The kernel caps it at `net.core.somaxconn`.
const BACKLOG: u32 = 1024;

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

    /// Below the kernel's ephemeral range, where nothing here hands out ports; the allocator
    /// skips any that happen to be taken.
    const WIDE: RangeInclusive<u16> = 20_000..=20_999;

    /// A port held by a listener of its own, so it is certainly taken until dropped.
    fn held() -> (std::net::TcpListener, RangeInclusive<u16>) {
        let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = holder.local_addr().expect("addr").port();
        (holder, port..=port)
    }

    fn port(listener: &TcpListener) -> u16 {
        listener.local_addr().expect("addr").port()
    }

    #[tokio::test]
    async fn ports_come_from_the_range_and_each_play_gets_its_own() {
        let ports = DataPorts::new(Some(WIDE), true);
        let taken: Vec<TcpListener> = (0..4)
            .map(|_| ports.bind(LOOPBACK).expect("bind"))
            .collect();
        let mut numbers: Vec<u16> = taken.iter().map(port).collect();
        assert!(numbers.iter().all(|p| WIDE.contains(p)), "{numbers:?}");
        numbers.dedup();
        assert_eq!(numbers.len(), 4, "{numbers:?}");
    }

    #[tokio::test]
    async fn a_taken_port_is_skipped_and_a_full_exclusive_range_is_an_error() {
        let (holder, range) = held();
        let ports = DataPorts::new(Some(range.clone()), true);
        let err = ports.bind(LOOPBACK).expect_err("the only port is taken");
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        drop(holder);
        let mine = ports.bind(LOOPBACK).expect("the freed port");
        assert!(range.contains(&port(&mine)));
        let err = ports.bind(LOOPBACK).expect_err("taken by the first play");
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    }

    #[tokio::test]
    async fn without_a_range_the_kernel_picks() {
        let listener = DataPorts::new(None, false).bind(LOOPBACK).expect("bind");
        assert_ne!(port(&listener), 0);
    }

    #[tokio::test]
    async fn the_default_range_takes_even_ports() {
        let ports = DataPorts::new(Some(WIDE), false);
        let taken: Vec<TcpListener> = (0..4)
            .map(|_| ports.bind(LOOPBACK).expect("bind"))
            .collect();
        for listener in &taken {
            let p = port(listener);
            assert!(p % 2 == 0 && WIDE.contains(&p), "{p}");
        }
    }

    #[tokio::test]
    async fn a_full_default_range_falls_back_to_the_kernel() {
        let (holder, range) = held();
        let ports = DataPorts::new(Some(range.clone()), false);
        let other = ports.bind(LOOPBACK).expect("a port from the kernel");
        assert!(!range.contains(&port(&other)));
        drop(holder);
    }
}
