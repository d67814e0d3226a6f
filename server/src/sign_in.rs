//! Signing in on a control connection (PROTOCOL.md 5.12): `login`, `session`, `user`,
//! `logout` and `via`, and whether the connection may do anything else yet.

use std::net::IpAddr;
use std::sync::Arc;

use tapedeck_protocol::{Command, Reply};
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::accounts::{Accounts, Live};

/// Who a connection is.
#[derive(Debug)]
pub struct SignIn {
    /// The session it signed in with, if any.
    user: Option<Arc<Live>>,
    /// Where the client is: the peer's address, or what a trusted bridge said with `via`.
    from: IpAddr,
    /// Whether the peer may say `via` (loopback or a configured bridge).
    trusted: bool,
}

impl SignIn {
    pub fn new(peer: IpAddr, bridges: &[IpAddr]) -> Self {
        let peer = peer.to_canonical();
        Self {
            user: None,
            from: peer,
            trusted: peer.is_loopback() || bridges.iter().any(|b| b.to_canonical() == peer),
        }
    }

    /// Whether `command` is one of signing in.
    pub fn handles(command: &Command) -> bool {
        matches!(
            command,
            Command::Login { .. }
                | Command::Session(_)
                | Command::User
                | Command::Logout
                | Command::Via(_)
        )
    }

    /// Whether this connection may do what needs signing in. `quit` never does.
    pub fn allows(&self, accounts: &Accounts) -> bool {
        accounts.is_open() || self.user.as_ref().is_some_and(|u| !u.ended.is_cancelled())
    }

    /// Cancelled when the session this connection signed in with ends.
    pub fn ended(&self) -> Option<CancellationToken> {
        self.user.as_ref().map(|user| user.ended.clone())
    }

    /// Whose place `place` is: the user signed in, or everyone (0) on an open server.
    pub fn place_owner(&self, accounts: &Accounts) -> Option<i64> {
        match &self.user {
            Some(user) => Some(user.user),
            None => accounts.is_open().then_some(0),
        }
    }

    /// Carries out a command of signing in.
    pub async fn handle(&mut self, accounts: &Arc<Accounts>, command: Command) -> Reply {
        match command {
            Command::Login { user, password } => {
                match accounts.login(&user, &password.0, self.from).await {
                    Ok((id, live)) => {
                        let seconds = live.seconds_left();
                        self.user = Some(live);
                        Reply::Session { id, seconds }
                    }
                    Err(err) => {
                        // Not the name typed: a password typed into it would reach the log.
                        debug!(from = %self.from, %err, "sign-in refused");
                        Reply::Error(err.to_string())
                    }
                }
            }
            Command::Session(_) | Command::User if accounts.is_open() => Reply::Open,
            Command::Session(id) => match accounts.session(&id).await {
                Ok(live) => {
                    let reply = who(&live);
                    self.user = Some(live);
                    reply
                }
                Err(err) => Reply::Error(err.to_string()),
            },
            Command::User => match &self.user {
                Some(live) if !live.ended.is_cancelled() => who(live),
                _ => Reply::Error("not signed in".into()),
            },
            Command::Logout => match self.user.take() {
                Some(live) => {
                    accounts.logout(&live).await;
                    Reply::SignedOut
                }
                None => Reply::Error("not signed in".into()),
            },
            Command::Via(address) if self.trusted => {
                self.from = address.to_canonical();
                Reply::Ok
            }
            Command::Via(_) => Reply::Error("not a bridge".into()),
            _ => Reply::Error("internal error".into()),
        }
    }
}

fn who(live: &Live) -> Reply {
    Reply::User {
        name: live.name.clone(),
        seconds: live.seconds_left(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn via_is_believed_from_loopback_and_named_bridges_only() {
        assert!(SignIn::new(ip("127.0.0.1"), &[]).trusted);
        assert!(SignIn::new(ip("::1"), &[]).trusted);
        assert!(SignIn::new(ip("::ffff:127.0.0.1"), &[]).trusted);
        assert!(!SignIn::new(ip("192.0.2.7"), &[]).trusted);
        assert!(SignIn::new(ip("192.0.2.7"), &[ip("192.0.2.7")]).trusted);
        assert!(SignIn::new(ip("::ffff:192.0.2.7"), &[ip("192.0.2.7")]).trusted);
        assert!(!SignIn::new(ip("192.0.2.8"), &[ip("192.0.2.7")]).trusted);
    }
}
