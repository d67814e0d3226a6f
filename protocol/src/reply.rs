//! Replies, server to client: exactly one line per command, in command order.

use std::fmt;

use crate::{
    AlbumPage, AlbumSongs, ArtistPage, Command, Found, SongInfo, SongList, SongPage, TOKEN_LEN,
};

/// A server's answer to one command.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The answer to `list`.
    List(SongList),
    /// The answer to `info`.
    Info(Vec<SongInfo>),
    /// The answer to `info <id>`.
    Song(SongInfo),
    /// The answer to `songs <from> <count>`.
    Page(SongPage),
    /// The answer to `search <count> <query>`.
    Found(Found),
    /// The answer to `artists <from> <count>`.
    Artists(ArtistPage),
    /// The answer to `albums <from> <count> [<artist>]`.
    Albums(AlbumPage),
    /// The answer to `album <id>`.
    Album(AlbumSongs),
    /// The answer to `play <id> [<ms>]`: connect to `port`, send `token` and LF, receive
    /// `bytes` bytes. For a play from a position, `skip`: the decoded sample frames to drop
    /// before the position.
    Port {
        port: u16,
        token: String,
        bytes: u64,
        skip: Option<u64>,
    },
    /// The answer to `art <id> [<px>]`: connect to `port`, send `token` and LF, receive
    /// `bytes` bytes of a picture of `media_type` (`image/jpeg`).
    Art {
        port: u16,
        token: String,
        bytes: u64,
        media_type: String,
    },
    /// The answer to `login`: the new session's id, and for how many seconds it holds.
    Session { id: String, seconds: u64 },
    /// The answer to `session <id>` and `user`: who the connection is signed in as, and for
    /// how many more seconds its session holds.
    User { name: String, seconds: u64 },
    /// The answer to `session <id>` and `user` from a server without accounts: anyone may.
    Open,
    /// The answer to `logout`.
    SignedOut,
    /// The answer to `via` and `place <json>`.
    Ok,
    /// The answer to `place`: where the user left off (an empty place when nothing is kept).
    Place(crate::Place),
    /// The answer to `stop`.
    Stopped,
    /// The answer to `quit`; the server closes the connection after it.
    Bye,
    /// Anything went wrong; the reason is a short lower-case phrase.
    Error(String),
}

/// A line that is not a valid reply to the command it answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// The line does not have the shape the command's reply has.
    #[error("malformed reply to `{command}`: {line:?}")]
    Malformed { command: String, line: String },
    /// A JSON reply did not parse.
    #[error("malformed JSON in reply to `{command}`: {reason}")]
    Json { command: String, reason: String },
}

impl Reply {
    /// Parses the reply `line` (without LF) to `command`. Replies are matched to commands by
    /// order, which is why the command is needed: `list` and `info <id>` both answer an object.
    pub fn parse(command: &Command, line: &str) -> Result<Self, ReplyError> {
        if let Some(reason) = line.strip_prefix("error ") {
            return Ok(Self::Error(reason.to_owned()));
        }
        let json = |reason: serde_json::Error| ReplyError::Json {
            command: command.to_string(),
            reason: reason.to_string(),
        };
        match command {
            Command::List => serde_json::from_str(line).map(Self::List).map_err(json),
            Command::Info(None) => serde_json::from_str(line).map(Self::Info).map_err(json),
            Command::Info(Some(_)) => serde_json::from_str(line).map(Self::Song).map_err(json),
            Command::Songs { .. } => serde_json::from_str(line).map(Self::Page).map_err(json),
            Command::Search { .. } => serde_json::from_str(line).map(Self::Found).map_err(json),
            Command::Artists { .. } => serde_json::from_str(line).map(Self::Artists).map_err(json),
            Command::Albums { .. } => serde_json::from_str(line).map(Self::Albums).map_err(json),
            Command::Album(_) => serde_json::from_str(line).map(Self::Album).map_err(json),
            Command::Play(_, position) => parse_port(line, position.is_some()),
            Command::Art(..) => parse_art(line),
            Command::Login { .. }
            | Command::Session(_)
            | Command::User
            | Command::Logout
            | Command::Via(_) => crate::auth::parse_reply(command, line),
            Command::Place(None) => match line.strip_prefix("place ") {
                Some(text) => serde_json::from_str(text).map(Self::Place).map_err(json),
                None => Err(ReplyError::Malformed {
                    command: "place".into(),
                    line: line.to_owned(),
                }),
            },
            Command::Place(Some(_)) if line == "ok" => Ok(Self::Ok),
            Command::Place(Some(_)) => Err(ReplyError::Malformed {
                command: "place".into(),
                line: line.to_owned(),
            }),
            Command::Stop if line == "stopped" => Ok(Self::Stopped),
            Command::Quit if line == "bye" => Ok(Self::Bye),
            Command::Stop | Command::Quit => Err(ReplyError::Malformed {
                command: command.to_string(),
                line: line.to_owned(),
            }),
        }
    }
}

/// `port <port> <token> <octets>`, and ` <skip>` for a play from a position.
fn parse_port(line: &str, positioned: bool) -> Result<Reply, ReplyError> {
    let malformed = || ReplyError::Malformed {
        command: "play".into(),
        line: line.to_owned(),
    };
    let words: Vec<&str> = line.split(' ').collect();
    let (port, token, bytes, skip) = match (words.as_slice(), positioned) {
        (["port", port, token, bytes], false) => (port, token, bytes, None),
        (["port", port, token, bytes, skip], true) => (port, token, bytes, Some(skip)),
        _ => return Err(malformed()),
    };
    let token_ok = token.len() == TOKEN_LEN && token.bytes().all(|b| b.is_ascii_hexdigit());
    let skip = skip
        .map(|s| s.parse::<u64>().map_err(|_| malformed()))
        .transpose()?;
    match (port.parse(), bytes.parse(), token_ok) {
        (Ok(port), Ok(bytes), true) if port != 0 => Ok(Reply::Port {
            port,
            token: (*token).to_owned(),
            bytes,
            skip,
        }),
        _ => Err(malformed()),
    }
}

/// `art <port> <token> <octets> <media-type>`.
fn parse_art(line: &str) -> Result<Reply, ReplyError> {
    let malformed = || ReplyError::Malformed {
        command: "art".into(),
        line: line.to_owned(),
    };
    let ["art", port, token, bytes, media_type] = line.split(' ').collect::<Vec<_>>()[..] else {
        return Err(malformed());
    };
    let token_ok = token.len() == TOKEN_LEN && token.bytes().all(|b| b.is_ascii_hexdigit());
    let type_ok =
        media_type.starts_with("image/") && media_type.bytes().all(|b| b.is_ascii_graphic());
    match (port.parse(), bytes.parse(), token_ok && type_ok) {
        (Ok(port), Ok(bytes), true) if port != 0 => Ok(Reply::Art {
            port,
            token: token.to_owned(),
            bytes,
            media_type: media_type.to_owned(),
        }),
        _ => Err(malformed()),
    }
}

impl fmt::Display for Reply {
    /// The reply line, without the LF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = |f: &mut fmt::Formatter<'_>, value: &dyn erased::Json| value.write(f);
        match self {
            Self::List(list) => json(f, list),
            Self::Info(songs) => json(f, songs),
            Self::Song(song) => json(f, song),
            Self::Page(page) => json(f, page),
            Self::Found(found) => json(f, found),
            Self::Artists(page) => json(f, page),
            Self::Albums(page) => json(f, page),
            Self::Album(album) => json(f, album),
            Self::Port {
                port,
                token,
                bytes,
                skip,
            } => {
                write!(f, "port {port} {token} {bytes}")?;
                skip.map_or(Ok(()), |skip| write!(f, " {skip}"))
            }
            Self::Art {
                port,
                token,
                bytes,
                media_type,
            } => write!(f, "art {port} {token} {bytes} {media_type}"),
            Self::Session { id, seconds } => write!(f, "session {id} {seconds}"),
            Self::User { name, seconds } => write!(f, "user {name} {seconds}"),
            Self::Open => f.write_str("open"),
            Self::SignedOut => f.write_str("signed out"),
            Self::Ok => f.write_str("ok"),
            Self::Place(place) => {
                f.write_str("place ")?;
                json(f, place)
            }
            Self::Stopped => f.write_str("stopped"),
            Self::Bye => f.write_str("bye"),
            Self::Error(reason) => write!(f, "error {reason}"),
        }
    }
}

mod erased {
    use std::fmt;

    /// Serialises any JSON value into a formatter without naming its type.
    pub(super) trait Json {
        fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    }

    impl<T: serde::Serialize> Json for T {
        fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
            f.write_str(&text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SongId;

    fn song() -> SongInfo {
        SongInfo {
            id: SongId(2),
            name: "a/b.mp3".into(),
            title: "B".into(),
            artist: "".into(),
            album: "".into(),
            duration_ms: 1500,
            format: "mp3".into(),
            sample_rate: 44100,
            channels: 2,
            bitrate: 320_000,
            size: 60_000,
            track_gain_db: Some(-6.54),
            track_peak: Some(0.988_525),
            ..SongInfo::default()
        }
    }

    #[test]
    fn replay_gain_is_there_only_when_known() {
        let line = Reply::Song(song()).to_string();
        assert!(
            line.contains(r#""track_gain_db":-6.54,"track_peak":0.988525}"#),
            "{line}"
        );
        let none = SongInfo {
            track_gain_db: None,
            track_peak: None,
            ..song()
        };
        assert!(!Reply::Song(none).to_string().contains("gain"));
    }

    #[test]
    fn round_trips() {
        let token = "0123456789abcdef0123456789abcdef".to_owned();
        let list: SongList = [("a/b.mp3".to_owned(), SongId(2))].into();
        let cases = [
            (Command::List, Reply::List(list)),
            (Command::Info(None), Reply::Info(vec![song()])),
            (Command::Info(Some(SongId(2))), Reply::Song(song())),
            (
                Command::Play(SongId(2), None),
                Reply::Port {
                    port: 40000,
                    token: token.clone(),
                    bytes: 60_000,
                    skip: None,
                },
            ),
            (
                Command::Play(SongId(2), Some(61_500)),
                Reply::Port {
                    port: 40000,
                    token: token.clone(),
                    bytes: 20_000,
                    skip: Some(1105),
                },
            ),
            (
                Command::Art(SongId(2), Some(64)),
                Reply::Art {
                    port: 40001,
                    token,
                    bytes: 2_048,
                    media_type: "image/jpeg".into(),
                },
            ),
            (Command::Stop, Reply::Stopped),
            (Command::Quit, Reply::Bye),
            (
                Command::Play(SongId(9), Some(1)),
                Reply::Error("position past the end".into()),
            ),
        ];
        for (command, reply) in cases {
            assert_eq!(Reply::parse(&command, &reply.to_string()), Ok(reply));
        }
    }

    #[test]
    fn list_is_a_plain_json_object() {
        let list: SongList = [
            ("x.flac".to_owned(), SongId(1)),
            ("a.mp3".to_owned(), SongId(0)),
        ]
        .into();
        assert_eq!(Reply::List(list).to_string(), r#"{"a.mp3":0,"x.flac":1}"#);
    }

    #[test]
    fn rejects_malformed_port_lines() {
        for line in [
            "port",
            "port 1 abc 3",
            "port 0 0123456789abcdef0123456789abcdef 1",
            "ports",
        ] {
            assert!(
                Reply::parse(&Command::Play(SongId(1), None), line).is_err(),
                "{line}"
            );
        }
        // The skip comes with a position and only then.
        let token = "0123456789abcdef0123456789abcdef";
        let three = format!("port 4000 {token} 10");
        let four = format!("port 4000 {token} 10 5");
        assert!(Reply::parse(&Command::Play(SongId(1), Some(5)), &three).is_err());
        assert!(Reply::parse(&Command::Play(SongId(1), None), &four).is_err());
        assert!(Reply::parse(&Command::Play(SongId(1), Some(5)), &format!("{four}x")).is_err());
        assert!(Reply::parse(&Command::Stop, "stop").is_err());
    }
}
