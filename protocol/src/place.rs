//! Where a user left off (PROTOCOL.md 5.13): `place` asks, `place <json>` keeps. The server
//! keeps one per user, so signing in on another device continues there.

use serde::{Deserialize, Serialize};

use crate::{Command, CommandError, SongId};

/// A user's place in the music: what played, where, and how the player was set. Every member
/// may be absent; members this version does not know are dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// The song playing or paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub song: Option<SongId>,
    /// The position last heard in it, in milliseconds.
    #[serde(default)]
    pub position_ms: u64,
    /// The volume, in percent (0 to 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<u8>,
    /// The ReplayGain setting: `off`, `track` or `album`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gain: Option<String>,
    /// The queue: the rows the song was played from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<Queue>,
}

/// The rows a song was played from, and how the play order goes through them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    /// The library's order (an order word of `songs`, PROTOCOL.md 5.7).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub order: String,
    /// The search typed, if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub query: String,
    /// The album opened (by one of its songs), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub album: Option<SongId>,
    #[serde(default)]
    pub shuffle: bool,
    /// `off`, `all` or `one`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repeat: String,
}

/// `place` or `place <json>`: the rest of the line, if any, is a place.
pub(crate) fn place(rest: &str) -> Result<Command, CommandError> {
    let rest = rest.trim_matches([' ', '\t']);
    if rest.is_empty() {
        return Ok(Command::Place(None));
    }
    // An object only: serde would take a struct from an array of its members too.
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(rest).map_err(|_| CommandError::InvalidPlace)?;
    serde_json::from_value(object.into())
        .map(|place| Command::Place(Some(place)))
        .map_err(|_| CommandError::InvalidPlace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_round_trips_and_unknown_members_are_dropped() {
        let line = r#"place {"song":7,"position_ms":61500,"gain":"album","later":1}"#;
        let command = Command::parse(line.as_bytes()).expect("parses");
        let Command::Place(Some(place)) = &command else {
            panic!("{command:?}");
        };
        assert_eq!(place.song, Some(SongId(7)));
        assert_eq!(
            command.to_string(),
            r#"place {"song":7,"position_ms":61500,"gain":"album"}"#
        );
        assert_eq!(
            Command::parse(b"place").expect("parses"),
            Command::Place(None)
        );
        assert_eq!(Command::parse(b"place {"), Err(CommandError::InvalidPlace));
        assert_eq!(
            Command::parse(b"place [1]"),
            Err(CommandError::InvalidPlace)
        );
    }
}
