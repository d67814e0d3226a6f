//! Signing in (PROTOCOL.md 5.12): the words of `login`, `session` and `via`, user names, and
//! the replies that say who a connection is.

use std::fmt;
use std::net::IpAddr;

use crate::{Command, CommandError, Reply, ReplyError};

/// The number of hexadecimal characters of a session id (256 bits of randomness).
pub const SESSION_ID_LEN: usize = 64;

/// The longest user name, in characters.
pub const MAX_USER_NAME: usize = 64;

/// A password as sent with `login`: shown as `***` by `Debug`, so it never reaches a log
/// through a command; only `Display` of the command (the line on the wire) holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(pub String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Whether `name` can be an account's name: 1 to [`MAX_USER_NAME`] letters, digits and
/// `.`, `_`, `-`, `@`, not starting with `-` (so it never reads as a flag). Names are one
/// word on the wire, and compared without case (ASCII).
pub fn valid_user_name(name: &str) -> bool {
    let mut chars = name.chars();
    let count_ok = (1..=MAX_USER_NAME).contains(&name.chars().count());
    count_ok
        && chars.next().is_some_and(|c| c != '-')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

/// Whether `id` has the shape of a session id: [`SESSION_ID_LEN`] lower-case hex digits.
pub fn valid_session_id(id: &str) -> bool {
    id.len() == SESSION_ID_LEN && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `login <user> <password>`: the password is the rest of the line after the one space or
/// tab that ends the name, exactly (spaces in it included).
pub(crate) fn login(rest: &str) -> Result<Command, CommandError> {
    let rest = rest.trim_start_matches([' ', '\t']);
    let (user, password) = rest
        .split_once([' ', '\t'])
        .ok_or(CommandError::MissingArgument)?;
    if user.is_empty() || password.is_empty() {
        return Err(CommandError::MissingArgument);
    }
    Ok(Command::Login {
        user: user.to_owned(),
        password: Password(password.to_owned()),
    })
}

/// `session <id>`: one session id.
pub(crate) fn session<'a>(
    mut words: impl Iterator<Item = &'a str>,
) -> Result<Command, CommandError> {
    let id = words.next().ok_or(CommandError::MissingArgument)?;
    if words.next().is_some() {
        return Err(CommandError::UnexpectedArgument);
    }
    if !valid_session_id(id) {
        return Err(CommandError::InvalidSession);
    }
    Ok(Command::Session(id.to_owned()))
}

/// `via <address>`: one IPv4 or IPv6 address.
pub(crate) fn via<'a>(mut words: impl Iterator<Item = &'a str>) -> Result<Command, CommandError> {
    let address = words.next().ok_or(CommandError::MissingArgument)?;
    if words.next().is_some() {
        return Err(CommandError::UnexpectedArgument);
    }
    address
        .parse::<IpAddr>()
        .map(Command::Via)
        .map_err(|_| CommandError::InvalidAddress)
}

/// The reply to `login`, `session`, `user`, `logout` or `via`, from its line.
pub(crate) fn parse_reply(command: &Command, line: &str) -> Result<Reply, ReplyError> {
    let malformed = || ReplyError::Malformed {
        command: verb(command).to_owned(),
        line: line.to_owned(),
    };
    let words: Vec<&str> = line.split(' ').collect();
    let seconds = |s: &str| s.parse::<u64>().map_err(|_| malformed());
    match (command, words.as_slice()) {
        (Command::Login { .. }, ["session", id, secs]) if valid_session_id(id) => {
            Ok(Reply::Session {
                id: (*id).to_owned(),
                seconds: seconds(secs)?,
            })
        }
        (Command::Session(_) | Command::User, ["user", name, secs]) if valid_user_name(name) => {
            Ok(Reply::User {
                name: (*name).to_owned(),
                seconds: seconds(secs)?,
            })
        }
        (Command::Session(_) | Command::User, ["open"]) => Ok(Reply::Open),
        (Command::Logout, ["signed", "out"]) => Ok(Reply::SignedOut),
        (Command::Via(_), ["ok"]) => Ok(Reply::Ok),
        _ => Err(malformed()),
    }
}

/// The command word of a sign-in command, for messages (never the line: it may hold a password).
fn verb(command: &Command) -> &'static str {
    match command {
        Command::Login { .. } => "login",
        Command::Session(_) => "session",
        Command::User => "user",
        Command::Logout => "logout",
        _ => "via",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["alice", "Bob.Smith", "j_doe-2", "me@home", "José", "a"] {
            assert!(valid_user_name(good), "{good}");
        }
        let long = "a".repeat(MAX_USER_NAME + 1);
        for bad in [
            "",
            "-rf",
            "a b",
            "a'b",
            "a;b",
            "x\"",
            "é\u{0}",
            long.as_str(),
            "a/b",
        ] {
            assert!(!valid_user_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn passwords_never_show_in_debug() {
        let command = Command::parse(b"login alice s3cret pass").expect("parses");
        assert!(!format!("{command:?}").contains("s3cret"));
        assert_eq!(command.to_string(), "login alice s3cret pass");
    }
}
