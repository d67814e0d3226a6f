//! Commands, client to server: one per line.

use std::fmt;

use std::net::IpAddr;

use crate::auth::{self, Password};
use crate::{Order, SongId};

/// A command a client sends on the control connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `list` / `l`: the song names and ids.
    List,
    /// `info` / `i`: metadata of every song, or of one.
    Info(Option<SongId>),
    /// `play <id> [<ms>]` / `p <id> [<ms>]`: stream a song on a fresh data port, from its
    /// start or from `<ms>` milliseconds into it.
    Play(SongId, Option<u32>),
    /// `songs <from> <count> [<order>]`: a page of the library in `order` (by default the
    /// order of `list`, by name), from the `from`th song (0 is the first), at most `count`
    /// songs, and at most [`crate::MAX_PAGE_SONGS`] songs and [`crate::MAX_PAGE_OCTETS`]
    /// octets.
    Songs { from: u32, count: u32, order: Order },
    /// `search <count> <query>`: the songs whose title, artist, album or name hold every word
    /// of the query (case and accents aside), best first, at most `count` of them (and the
    /// same bounds as a page). The query is the rest of the line, its words joined by one
    /// space.
    Search { count: u32, query: String },
    /// `artists <from> <count>`: a page of the artists, in folded order, with how many
    /// albums and songs each has (same bounds as `songs`).
    Artists { from: u32, count: u32 },
    /// `albums <from> <count> [<artist>]`: a page of the albums (by artist, then title), or
    /// of one artist's (the rest of the line, folded like search).
    Albums {
        from: u32,
        count: u32,
        artist: Option<String>,
    },
    /// `album <id>`: the songs of the album that song `<id>` is on, in order of name.
    Album(SongId),
    /// `art <id> [<px>]`: song `<id>`'s cover art, a JPEG at most `<px>` pixels on its longer
    /// side (by default the largest the server makes), on a fresh data port like a play's.
    Art(SongId, Option<u32>),
    /// `login <user> <password>`: sign in; the password is the rest of the line.
    Login { user: String, password: Password },
    /// `session <id>`: sign in with a session a `login` gave.
    Session(String),
    /// `user`: who this connection is signed in as.
    User,
    /// `logout`: end the session this connection is signed in with.
    Logout,
    /// `via <address>`: the address a bridge's client connects from (for throttling sign-ins).
    Via(IpAddr),
    /// `place`: where this user left off; `place <json>`: keep this as where they are.
    Place(Option<crate::Place>),
    /// `stop` / `s`: end the current stream.
    Stop,
    /// `quit` / `q`: say goodbye and close.
    Quit,
}

/// Why a line is not a command. The `Display` text is the reason sent in `error <reason>`;
/// every variant is recoverable (the connection stays usable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The line was empty or only white space.
    #[error("empty line")]
    Empty,
    /// The line is not valid UTF-8.
    #[error("invalid utf-8")]
    InvalidUtf8,
    /// The line holds a control character (NUL, ESC, ...) other than a tab.
    #[error("invalid character")]
    ControlCharacter,
    /// The first word is not a known command.
    #[error("unknown command")]
    Unknown,
    /// `play` without a song id.
    #[error("missing song id")]
    MissingId,
    /// `songs` or `search` without all it takes.
    #[error("missing argument")]
    MissingArgument,
    /// A count or an offset that is not a decimal number from 0 to 4294967295.
    #[error("invalid number")]
    InvalidNumber,
    /// The order of `songs` is not one of its words.
    #[error("invalid order")]
    InvalidOrder,
    /// The song id is not a decimal number from 0 to 4294967295.
    #[error("invalid song id")]
    InvalidId,
    /// The position is not a decimal number of milliseconds from 0 to 4294967295.
    #[error("invalid position")]
    InvalidPosition,
    /// A session id that is not 64 lower-case hexadecimal digits.
    #[error("invalid session id")]
    InvalidSession,
    /// `via` with something other than an IPv4 or IPv6 address.
    #[error("invalid address")]
    InvalidAddress,
    /// `place` with something other than a JSON object of a place.
    #[error("invalid place")]
    InvalidPlace,
    /// More words than the command takes.
    #[error("unexpected argument")]
    UnexpectedArgument,
}

impl Command {
    /// Parses one line, without its line terminator. Faults are found in the order of
    /// PROTOCOL.md 5.10: encoding, characters, emptiness, the command word, the number of
    /// words, then the song id and the position; the first one found is the error.
    pub fn parse(line: &[u8]) -> Result<Self, CommandError> {
        let text = std::str::from_utf8(line).map_err(|_| CommandError::InvalidUtf8)?;
        if text.chars().any(|c| c.is_control() && c != '\t') {
            return Err(CommandError::ControlCharacter);
        }
        let mut words = text.split([' ', '\t']).filter(|w| !w.is_empty());
        let verb = words
            .next()
            .ok_or(CommandError::Empty)?
            .to_ascii_lowercase();
        // The most words each command takes after its own.
        let takes = match verb.as_str() {
            "list" | "l" | "stop" | "s" | "quit" | "q" | "user" | "logout" => 0,
            "info" | "i" => 1,
            "play" | "p" => 2,
            "songs" => return songs(words),
            "artists" => return artists(words),
            "albums" => return albums(words),
            "album" => return album(words),
            "art" => return art(words),
            "search" => return search(words),
            "login" => return auth::login(after_verb(text)),
            "session" => return auth::session(words),
            "via" => return auth::via(words),
            "place" => return crate::place::place(after_verb(text)),
            _ => return Err(CommandError::Unknown),
        };
        let (id, position) = (words.next(), words.next());
        let given = usize::from(id.is_some()) + usize::from(position.is_some());
        if words.next().is_some() || given > takes {
            return Err(CommandError::UnexpectedArgument);
        }
        Ok(match verb.as_str() {
            "list" | "l" => Self::List,
            "stop" | "s" => Self::Stop,
            "quit" | "q" => Self::Quit,
            "user" => Self::User,
            "logout" => Self::Logout,
            "info" | "i" => Self::Info(id.map(parse_id).transpose()?),
            _ => {
                let id = parse_id(id.ok_or(CommandError::MissingId)?)?;
                let position =
                    position.map(|p| parse_number(p).ok_or(CommandError::InvalidPosition));
                Self::Play(id, position.transpose()?)
            }
        })
    }
}

/// The line after its command word, as sent.
fn after_verb(text: &str) -> &str {
    let text = text.trim_start_matches([' ', '\t']);
    text.find([' ', '\t']).map_or("", |end| &text[end..])
}

/// `songs <from> <count> [<order>]`: two numbers, then perhaps an order.
fn songs<'a>(mut words: impl Iterator<Item = &'a str>) -> Result<Command, CommandError> {
    let (from, count, order) = (words.next(), words.next(), words.next());
    if words.next().is_some() {
        return Err(CommandError::UnexpectedArgument);
    }
    let (from, count) = two_numbers(from, count)?;
    let order = order.map_or(Ok(Order::NAME), |word| {
        word.parse().map_err(|_| CommandError::InvalidOrder)
    })?;
    Ok(Command::Songs { from, count, order })
}

/// `artists <from> <count>`: exactly two numbers.
fn artists<'a>(mut words: impl Iterator<Item = &'a str>) -> Result<Command, CommandError> {
    let (from, count) = (words.next(), words.next());
    if words.next().is_some() {
        return Err(CommandError::UnexpectedArgument);
    }
    let (from, count) = two_numbers(from, count)?;
    Ok(Command::Artists { from, count })
}

/// `<from> <count>`: both present, both numbers.
fn two_numbers(from: Option<&str>, count: Option<&str>) -> Result<(u32, u32), CommandError> {
    let (Some(from), Some(count)) = (from, count) else {
        return Err(CommandError::MissingArgument);
    };
    let number = |w| parse_number(w).ok_or(CommandError::InvalidNumber);
    Ok((number(from)?, number(count)?))
}

/// `albums <from> <count> [<artist>]`: two numbers, then perhaps an artist's words.
fn albums<'a>(mut words: impl Iterator<Item = &'a str>) -> Result<Command, CommandError> {
    let (from, count) = (words.next(), words.next());
    let artist: Vec<&str> = words.collect();
    let (from, count) = two_numbers(from, count)?;
    Ok(Command::Albums {
        from,
        count,
        artist: (!artist.is_empty()).then(|| artist.join(" ")),
    })
}

/// `album <id>`: one song id.
fn album<'a>(mut words: impl Iterator<Item = &'a str>) -> Result<Command, CommandError> {
    let id = words.next();
    if words.next().is_some() {
        return Err(CommandError::UnexpectedArgument);
    }
    Ok(Command::Album(parse_id(
        id.ok_or(CommandError::MissingId)?,
    )?))
}

/// `art <id> [<px>]`: a song id, then perhaps a size.
fn art<'a>(mut words: impl Iterator<Item = &'a str>) -> Result<Command, CommandError> {
    let (id, px) = (words.next(), words.next());
    if words.next().is_some() {
        return Err(CommandError::UnexpectedArgument);
    }
    let id = parse_id(id.ok_or(CommandError::MissingId)?)?;
    let px = px
        .map(|w| parse_number(w).ok_or(CommandError::InvalidNumber))
        .transpose()?;
    Ok(Command::Art(id, px))
}

/// `search <count> <query>`: a number, then at least one word.
fn search<'a>(mut words: impl Iterator<Item = &'a str>) -> Result<Command, CommandError> {
    let count = words.next();
    let query: Vec<&str> = words.collect();
    let Some(count) = count.filter(|_| !query.is_empty()) else {
        return Err(CommandError::MissingArgument);
    };
    Ok(Command::Search {
        count: parse_number(count).ok_or(CommandError::InvalidNumber)?,
        query: query.join(" "),
    })
}

impl Command {
    /// Whether sending this command ends the client's current play (PROTOCOL.md 5.4-5.6):
    /// from the moment it is sent, nothing more of that play is wanted.
    pub fn ends_play(&self) -> bool {
        matches!(self, Self::Play(..) | Self::Stop | Self::Quit)
    }
}

fn parse_id(word: &str) -> Result<SongId, CommandError> {
    parse_number(word)
        .map(SongId)
        .ok_or(CommandError::InvalidId)
}

/// A decimal number from 0 to 4294967295 (leading zeros allowed), as ids and positions are.
fn parse_number(word: &str) -> Option<u32> {
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    word.parse().ok()
}

impl fmt::Display for Command {
    /// The canonical line, without the LF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::List => f.write_str("list"),
            Self::Info(None) => f.write_str("info"),
            Self::Info(Some(id)) => write!(f, "info {id}"),
            Self::Play(id, None) => write!(f, "play {id}"),
            Self::Play(id, Some(ms)) => write!(f, "play {id} {ms}"),
            Self::Songs {
                from,
                count,
                order: Order::NAME,
            } => write!(f, "songs {from} {count}"),
            Self::Songs { from, count, order } => write!(f, "songs {from} {count} {order}"),
            Self::Search { count, query } => write!(f, "search {count} {query}"),
            Self::Artists { from, count } => write!(f, "artists {from} {count}"),
            Self::Albums {
                from,
                count,
                artist: None,
            } => write!(f, "albums {from} {count}"),
            Self::Albums {
                from,
                count,
                artist: Some(artist),
            } => write!(f, "albums {from} {count} {artist}"),
            Self::Album(id) => write!(f, "album {id}"),
            Self::Art(id, None) => write!(f, "art {id}"),
            Self::Art(id, Some(px)) => write!(f, "art {id} {px}"),
            Self::Login { user, password } => write!(f, "login {user} {}", password.0),
            Self::Session(id) => write!(f, "session {id}"),
            Self::User => f.write_str("user"),
            Self::Logout => f.write_str("logout"),
            Self::Via(address) => write!(f, "via {address}"),
            Self::Place(None) => f.write_str("place"),
            Self::Place(Some(place)) => {
                let json = serde_json::to_string(place).map_err(|_| fmt::Error)?;
                write!(f, "place {json}")
            }
            Self::Stop => f.write_str("stop"),
            Self::Quit => f.write_str("quit"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table() {
        use CommandError as E;
        let cases: &[(&[u8], Result<Command, CommandError>)] = &[
            (b"list", Ok(Command::List)),
            (b"l", Ok(Command::List)),
            (b"LIST", Ok(Command::List)),
            (b"  list\t", Ok(Command::List)),
            (b"info", Ok(Command::Info(None))),
            (b"info 3", Ok(Command::Info(Some(SongId(3))))),
            (b"i 3", Ok(Command::Info(Some(SongId(3))))),
            (b"play 7", Ok(Command::Play(SongId(7), None))),
            (b"play 7 61500", Ok(Command::Play(SongId(7), Some(61_500)))),
            (b"p 7 0", Ok(Command::Play(SongId(7), Some(0)))),
            (b"play 7 -5", Err(E::InvalidPosition)),
            (b"play 7 1.5", Err(E::InvalidPosition)),
            (b"play 7 4294967296", Err(E::InvalidPosition)),
            (b"play 7 soon", Err(E::InvalidPosition)),
            (b"p   0007", Ok(Command::Play(SongId(7), None))),
            (
                b"play 4294967295",
                Ok(Command::Play(SongId(u32::MAX), None)),
            ),
            (b"stop", Ok(Command::Stop)),
            (b"s", Ok(Command::Stop)),
            (b"quit", Ok(Command::Quit)),
            (b"q", Ok(Command::Quit)),
            (b"", Err(E::Empty)),
            (b"   ", Err(E::Empty)),
            (b"dance", Err(E::Unknown)),
            (b"play", Err(E::MissingId)),
            (b"play x", Err(E::InvalidId)),
            (b"play -1", Err(E::InvalidId)),
            (b"play +1", Err(E::InvalidId)),
            (b"play 1.5", Err(E::InvalidId)),
            (b"play 4294967296", Err(E::InvalidId)),
            (b"play 99999999999999999999999", Err(E::InvalidId)),
            (b"play 1 2 3", Err(E::UnexpectedArgument)),
            (b"list all", Err(E::UnexpectedArgument)),
            (b"stop now", Err(E::UnexpectedArgument)),
            (b"info x", Err(E::InvalidId)),
            // The order of checks: the command word, then the word count, then the id.
            (b"dance 1 2", Err(E::Unknown)),
            (b"play abc 2", Err(E::InvalidId)),
            (b"play abc 2 3", Err(E::UnexpectedArgument)),
            (b"info 1 2", Err(E::UnexpectedArgument)),
            (b"list x y", Err(E::UnexpectedArgument)),
            (b"play abc", Err(E::InvalidId)),
            (b"\xff dance", Err(E::InvalidUtf8)),
            (b"dance \x01", Err(E::ControlCharacter)),
            (b"li\0st", Err(E::ControlCharacter)),
            (b"\x1b[A", Err(E::ControlCharacter)),
            (b"play \xff", Err(E::InvalidUtf8)),
            ("play ٣".as_bytes(), Err(E::InvalidId)),
            (
                b"songs 0 100",
                Ok(Command::Songs {
                    from: 0,
                    count: 100,
                    order: Order::NAME,
                }),
            ),
            (
                b"SONGS  20\t5",
                Ok(Command::Songs {
                    from: 20,
                    count: 5,
                    order: Order::NAME,
                }),
            ),
            (
                b"songs 0 10 -Title",
                Ok(Command::Songs {
                    from: 0,
                    count: 10,
                    order: Order {
                        key: crate::SortKey::Title,
                        descending: true,
                    },
                }),
            ),
            (b"songs 0 10 year", Err(E::InvalidOrder)),
            (b"songs 0 10 --title", Err(E::InvalidOrder)),
            (b"songs x 10 year", Err(E::InvalidNumber)),
            (b"songs 0 10 title x", Err(E::UnexpectedArgument)),
            (b"songs", Err(E::MissingArgument)),
            (b"songs 5", Err(E::MissingArgument)),
            (b"songs 5 x", Err(E::InvalidNumber)),
            (b"songs -1 5", Err(E::InvalidNumber)),
            (b"songs 1 2 3 4", Err(E::UnexpectedArgument)),
            (b"songs x y z w", Err(E::UnexpectedArgument)),
            (
                b"search 20 night   drive",
                Ok(Command::Search {
                    count: 20,
                    query: "night drive".into(),
                }),
            ),
            (
                "search 1 Beyoncé 'ok\"; --".as_bytes(),
                Ok(Command::Search {
                    count: 1,
                    query: "Beyoncé 'ok\"; --".into(),
                }),
            ),
            (b"search", Err(E::MissingArgument)),
            (b"search 20", Err(E::MissingArgument)),
            (b"search twenty night", Err(E::InvalidNumber)),
            (b"artists 0 50", Ok(Command::Artists { from: 0, count: 50 })),
            (b"artists 0", Err(E::MissingArgument)),
            (
                b"albums 0 50",
                Ok(Command::Albums {
                    from: 0,
                    count: 50,
                    artist: None,
                }),
            ),
            (
                b"albums 0 50 The  Loopback Quartet",
                Ok(Command::Albums {
                    from: 0,
                    count: 50,
                    artist: Some("The Loopback Quartet".into()),
                }),
            ),
            (b"albums 0", Err(E::MissingArgument)),
            (b"albums x 1", Err(E::InvalidNumber)),
            (b"album 3", Ok(Command::Album(SongId(3)))),
            (b"album", Err(E::MissingId)),
            (b"album x", Err(E::InvalidId)),
            (b"album 1 2", Err(E::UnexpectedArgument)),
            (b"art 3", Ok(Command::Art(SongId(3), None))),
            (b"ART 3 64", Ok(Command::Art(SongId(3), Some(64)))),
            (b"art", Err(E::MissingId)),
            (b"art x", Err(E::InvalidId)),
            (b"art 3 big", Err(E::InvalidNumber)),
            (b"art 3 64 1", Err(E::UnexpectedArgument)),
        ];
        for (line, want) in cases {
            assert_eq!(
                Command::parse(line),
                *want,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    fn any_command() -> impl Strategy<Value = Command> {
        prop_oneof![
            Just(Command::List),
            Just(Command::Stop),
            Just(Command::Quit),
            any::<Option<u32>>().prop_map(|id| Command::Info(id.map(SongId))),
            (any::<u32>(), any::<Option<u32>>()).prop_map(|(id, ms)| Command::Play(SongId(id), ms)),
            (
                any::<u32>(),
                any::<u32>(),
                proptest::sample::select(crate::SortKey::ALL.to_vec()),
                any::<bool>()
            )
                .prop_map(|(from, count, key, descending)| Command::Songs {
                    from,
                    count,
                    order: Order { key, descending }
                }),
            (any::<u32>(), "[a-zé'\"]{1,8}( [a-zé'\"]{1,8}){0,3}")
                .prop_map(|(count, query)| Command::Search { count, query }),
            (any::<u32>(), any::<u32>()).prop_map(|(from, count)| Command::Artists { from, count }),
            (
                any::<u32>(),
                any::<u32>(),
                proptest::option::of("[a-zé]{1,8}( [a-zé]{1,8}){0,2}")
            )
                .prop_map(|(from, count, artist)| Command::Albums {
                    from,
                    count,
                    artist
                }),
            any::<u32>().prop_map(|id| Command::Album(SongId(id))),
            (any::<u32>(), any::<Option<u32>>()).prop_map(|(id, px)| Command::Art(SongId(id), px)),
        ]
    }

    proptest! {
        #[test]
        fn display_round_trips(command in any_command()) {
            prop_assert_eq!(Command::parse(command.to_string().as_bytes()), Ok(command.clone()));
        }

        #[test]
        fn never_panics(line in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Command::parse(&line);
        }
    }
}
