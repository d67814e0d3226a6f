//! Events: text messages the bridge sends a browser that are not replies to a command.
//!
//! Replies never start with `event `, so a client tells the two apart by that prefix; every
//! other text message is the next reply, in command order. See `PROTOCOL.md`, section 16.

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
}

impl Event {
    /// Parses a text message; `None` if it is not an event (then it is a reply).
    pub fn parse(text: &str) -> Option<Self> {
        match text.strip_prefix(EVENT_PREFIX)? {
            "end" => Some(Self::End),
            rest => rest
                .strip_prefix("error ")
                .map(|reason| Self::Error(reason.to_owned())),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::End => write!(f, "{EVENT_PREFIX}end"),
            Self::Error(reason) => write!(f, "{EVENT_PREFIX}error {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_replies() {
        for event in [Event::End, Event::Error("server unavailable".into())] {
            assert_eq!(Event::parse(&event.to_string()), Some(event));
        }
        for reply in [
            "stopped",
            "error no such song",
            "{\"event \":1}",
            "event",
            "event what",
        ] {
            assert_eq!(Event::parse(reply), None, "{reply}");
        }
    }
}
