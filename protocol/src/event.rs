//! Events: lines (on a control connection) and text messages (from the bridge to a browser)
//! that are not replies to a command.
//!
//! Replies never start with `event `, so a client tells the two apart by that prefix; every
//! other line is the next reply, in command order. An event a client does not know is still
//! an event, to be ignored. See `PROTOCOL.md`, sections 6.6 and 16.

use std::fmt;

/// What starts every event message.
pub const EVENT_PREFIX: &str = "event ";

/// Something that happened to the session, not an answer to a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The current play's data ended after all of its octets: the song is complete.
    End,
    /// Something went wrong outside any command: the reason is a short lower-case phrase.
    Error(String),
    /// The server's library changed (songs added, removed or changed): ask again for what is
    /// shown.
    LibraryChanged,
    /// An event this version does not know (what follows `event `): ignore it.
    Other(String),
}

impl Event {
    /// Parses a text message; `None` if it is not an event (then it is a reply).
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix(EVENT_PREFIX)?;
        Some(match rest {
            "end" => Self::End,
            "library changed" => Self::LibraryChanged,
            _ => match rest.strip_prefix("error ") {
                Some(reason) => Self::Error(reason.to_owned()),
                None => Self::Other(rest.to_owned()),
            },
        })
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::End => write!(f, "{EVENT_PREFIX}end"),
            Self::Error(reason) => write!(f, "{EVENT_PREFIX}error {reason}"),
            Self::LibraryChanged => write!(f, "{EVENT_PREFIX}library changed"),
            Self::Other(rest) => write!(f, "{EVENT_PREFIX}{rest}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_replies() {
        for event in [
            Event::End,
            Event::Error("server unavailable".into()),
            Event::LibraryChanged,
            Event::Other("what".into()),
        ] {
            assert_eq!(Event::parse(&event.to_string()), Some(event));
        }
        assert_eq!(
            Event::parse("event what"),
            Some(Event::Other("what".into())),
            "an unknown event is an event"
        );
        for reply in ["stopped", "error no such song", "{\"event \":1}", "event"] {
            assert_eq!(Event::parse(reply), None, "{reply}");
        }
    }
}
