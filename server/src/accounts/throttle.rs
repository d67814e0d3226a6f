//! Slows down password guessing: failed sign-ins are counted per address and per user name,
//! each count leaking away with time. Past a limit, sign-ins from that address, or for that
//! user, are refused without looking at the password until the count has leaked below it.
//!
//! An attacker guessing one user's password from many addresses blocks that user for new
//! addresses, but not from an address the user has signed in from before (a few are
//! remembered per user): the real user keeps signing in from their own devices. Memory is
//! bounded whatever the number of addresses or names: each table keeps at most `capacity`
//! entries, forgetting the oldest first.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Failures an address may have before it is refused.
const ADDRESS_LIMIT: f64 = 10.0;
/// Failures a user name may have before new addresses are refused for it.
const USER_LIMIT: f64 = 20.0;
/// One failure leaks away in this long.
const LEAK: Duration = Duration::from_secs(30);
/// Addresses remembered per user as theirs (a successful sign-in).
const KNOWN_ADDRESSES: usize = 8;

/// The sign-in throttle.
#[derive(Debug)]
pub struct Throttle {
    addresses: Table<IpAddr>,
    users: Table<String>,
    /// Per user (folded name), the addresses they signed in from most recently.
    known: Table<String>,
    known_addresses: HashMap<String, VecDeque<IpAddr>>,
}

impl Throttle {
    /// A throttle keeping at most `capacity` addresses and `capacity` names.
    pub fn new(capacity: usize) -> Self {
        Self {
            addresses: Table::new(capacity),
            users: Table::new(capacity),
            known: Table::new(capacity),
            known_addresses: HashMap::new(),
        }
    }

    /// A sign-in as `user` from `address`: `Err(wait)` when it is refused for now; else it is
    /// counted as a failure at once (sign-ins sent together all count), and given back by
    /// [`Throttle::succeeded`] if the password was right.
    pub fn attempt(&mut self, address: IpAddr, user: &str, now: Instant) -> Result<(), Duration> {
        self.check(address, user, now)?;
        self.failed(address, user, now);
        Ok(())
    }

    /// `Err(wait)` when a sign-in as `user` from `address` is refused for now.
    fn check(&mut self, address: IpAddr, user: &str, now: Instant) -> Result<(), Duration> {
        let address = network(address);
        let user = user.to_ascii_lowercase();
        let by_address = self.addresses.wait(&address, ADDRESS_LIMIT, now);
        let known = self
            .known_addresses
            .get(&user)
            .is_some_and(|known| known.contains(&address));
        let by_user = if known {
            None
        } else {
            self.users.wait(&user, USER_LIMIT, now)
        };
        match by_address.max(by_user) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// Counts a failed sign-in.
    fn failed(&mut self, address: IpAddr, user: &str, now: Instant) {
        self.addresses.add(network(address), now);
        self.users.add(user.to_ascii_lowercase(), now);
    }

    /// Gives back the failure [`Throttle::attempt`] counted, and remembers `address` as one
    /// of `user`'s own.
    pub fn succeeded(&mut self, address: IpAddr, user: &str, now: Instant) {
        let (address, user) = (network(address), user.to_ascii_lowercase());
        self.addresses.give_back(&address, now);
        self.users.give_back(&user, now);
        if let Some(evicted) = self.known.add(user.clone(), now) {
            self.known_addresses.remove(&evicted);
        }
        let known = self.known_addresses.entry(user).or_default();
        known.retain(|a| *a != address);
        known.push_front(address);
        known.truncate(KNOWN_ADDRESSES);
    }

    /// Entries held (for tests of the bound).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.addresses.len() + self.users.len() + self.known_addresses.len()
    }
}

/// Where guesses come from: an IPv4 address, or an IPv6 /64 (one host has a whole /64).
fn network(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// Leaky counts by key, at most `capacity` of them, the oldest forgotten first.
#[derive(Debug)]
struct Table<K> {
    counts: HashMap<K, Count>,
    /// Keys in order of their first count (a key may appear again after being forgotten).
    order: VecDeque<K>,
    capacity: usize,
}

#[derive(Debug, Clone, Copy)]
struct Count {
    level: f64,
    at: Instant,
}

impl Count {
    fn now(self, now: Instant) -> f64 {
        let leaked = now.saturating_duration_since(self.at).as_secs_f64() / LEAK.as_secs_f64();
        (self.level - leaked).max(0.0)
    }
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn new(capacity: usize) -> Self {
        Self {
            counts: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.counts.len()
    }

    /// How long until one more failure of `key` would keep it within `limit`, if it would
    /// not now.
    fn wait(&self, key: &K, limit: f64, now: Instant) -> Option<Duration> {
        let over = self.counts.get(key)?.now(now) - (limit - 1.0);
        (over > 0.0).then(|| LEAK.mul_f64(over))
    }

    /// Takes one back from `key`'s count, if it has one.
    fn give_back(&mut self, key: &K, now: Instant) {
        if let Some(count) = self.counts.get_mut(key) {
            *count = Count {
                level: (count.now(now) - 1.0).max(0.0),
                at: now,
            };
        }
    }

    /// Counts one more for `key`; says which key was forgotten to make room, if any.
    fn add(&mut self, key: K, now: Instant) -> Option<K> {
        if let Some(count) = self.counts.get_mut(&key) {
            *count = Count {
                level: count.now(now) + 1.0,
                at: now,
            };
            return None;
        }
        let mut evicted = None;
        while self.counts.len() >= self.capacity {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if self.counts.remove(&oldest).is_some() {
                evicted = Some(oldest);
            }
        }
        self.counts.insert(
            key.clone(),
            Count {
                level: 1.0,
                at: now,
            },
        );
        self.order.push_back(key);
        // Keys forgotten and counted again leave stale entries behind; keep the queue small.
        if self.order.len() > 2 * self.capacity {
            let counts = &self.counts;
            self.order.retain(|k| counts.contains_key(k));
        }
        evicted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn an_address_is_refused_after_its_limit_and_forgiven_with_time() {
        let mut throttle = Throttle::new(100);
        let now = Instant::now();
        for _ in 0..10 {
            assert!(throttle.check(ip("10.0.0.1"), "alice", now).is_ok());
            throttle.failed(ip("10.0.0.1"), "alice", now);
        }
        let wait = throttle
            .check(ip("10.0.0.1"), "bob", now)
            .expect_err("refused");
        assert_eq!(wait, LEAK);
        assert!(throttle.check(ip("10.0.0.1"), "bob", now + wait).is_ok());
        assert!(throttle.check(ip("10.0.0.2"), "bob", now).is_ok());
    }

    #[test]
    fn many_addresses_block_a_user_but_not_from_their_own() {
        let mut throttle = Throttle::new(100);
        let now = Instant::now();
        throttle.succeeded(ip("192.168.1.5"), "Alice", now);
        for n in 0..50u8 {
            throttle.failed(ip(&format!("10.0.1.{n}")), "alice", now);
        }
        assert!(throttle.check(ip("10.0.2.1"), "alice", now).is_err());
        assert!(throttle.check(ip("192.168.1.5"), "ALICE", now).is_ok());
        assert!(throttle.check(ip("10.0.2.1"), "bob", now).is_ok());
    }

    #[test]
    fn memory_is_bounded_by_the_capacity() {
        let mut throttle = Throttle::new(64);
        let now = Instant::now();
        for n in 0..10_000u32 {
            let address = IpAddr::from(n.to_be_bytes());
            throttle.failed(address, &format!("user{n}"), now);
        }
        assert!(throttle.len() <= 128, "{}", throttle.len());
        assert!(throttle.addresses.order.len() <= 128);
    }

    #[test]
    fn an_ipv6_host_counts_as_its_64() {
        let mut throttle = Throttle::new(100);
        let now = Instant::now();
        for n in 0..10u16 {
            throttle.failed(ip(&format!("2001:db8::{n:x}")), "alice", now);
        }
        assert!(throttle.check(ip("2001:db8::ffff"), "bob", now).is_err());
        assert!(throttle.check(ip("2001:db8:0:1::1"), "bob", now).is_ok());
    }

    #[test]
    fn sign_ins_sent_together_all_count_and_a_right_one_is_given_back() {
        let mut throttle = Throttle::new(100);
        let now = Instant::now();
        // Ten at once, none answered yet: the eleventh is refused.
        for _ in 0..10 {
            assert!(throttle.attempt(ip("10.0.0.9"), "alice", now).is_ok());
        }
        assert!(throttle.attempt(ip("10.0.0.9"), "alice", now).is_err());
        // One of them was right: its count is given back, and one more may try.
        throttle.succeeded(ip("10.0.0.9"), "alice", now);
        assert!(throttle.attempt(ip("10.0.0.9"), "alice", now).is_ok());
        assert!(throttle.attempt(ip("10.0.0.9"), "alice", now).is_err());
    }
}
