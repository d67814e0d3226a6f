//! Browser to server: each text message is one command, forwarded as one line. What cannot be a
//! command is answered by the bridge itself and never reaches the server.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use futures_util::StreamExt;
use futures_util::stream::SplitStream;
use tapedeck_protocol::{Command, Event, MAX_LINE_LEN, Reply};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;
use tokio::time::timeout;

use crate::outbox::{Generation, Out};

/// Commands sent to the server whose replies have not come back yet, at most; beyond this the
/// bridge stops reading the browser until replies arrive.
pub const MAX_PENDING: usize = 64;

/// A text message the browser sent, in order, awaiting its one reply.
#[derive(Debug)]
pub enum Pending {
    /// Forwarded to the server. `command` is `None` when the line does not parse (the server
    /// will answer with an error); `generation` is the play generation when it was sent.
    Server {
        command: Option<Command>,
        generation: u64,
    },
    /// Answered by the bridge itself, as soon as every earlier message is answered.
    Local(Reply),
}

/// Why the browser side ended.
#[derive(Debug)]
pub enum BrowserEnd {
    /// The browser closed the WebSocket or went away.
    Gone,
    /// The server stopped taking commands.
    ServerGone,
    /// The browser sent a message over the limit (PROTOCOL.md 16.2): close with 1009.
    TooBig,
}

/// Reads the browser's messages until it goes away.
pub async fn pump(
    mut stream: SplitStream<WebSocket>,
    mut control: OwnedWriteHalf,
    pending: mpsc::Sender<Pending>,
    out: mpsc::Sender<Out>,
    generation: Generation,
    stall: Duration,
) -> BrowserEnd {
    loop {
        let message = match stream.next().await {
            Some(Ok(message)) => message,
            Some(Err(err)) if too_big(&err) => return BrowserEnd::TooBig,
            Some(Err(_)) | None => return BrowserEnd::Gone,
        };
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(_) => {
                let event = Event::Error("binary messages are not accepted".into());
                if out.send(Out::Text(event.to_string())).await.is_err() {
                    return BrowserEnd::Gone;
                }
                continue;
            }
            Message::Close(_) => return BrowserEnd::Gone,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        // The entry is queued before the line is written, so it is there when the reply is.
        let Some(reason) = rejection(text.as_str()) else {
            if pending
                .send(classify(text.as_str(), &generation))
                .await
                .is_err()
            {
                return BrowserEnd::ServerGone;
            }
            let line = format!("{}\n", text.as_str());
            match timeout(stall, control.write_all(line.as_bytes())).await {
                Ok(Ok(())) => continue,
                _ => return BrowserEnd::ServerGone,
            }
        };
        if pending
            .send(Pending::Local(Reply::Error(reason.into())))
            .await
            .is_err()
        {
            return BrowserEnd::ServerGone;
        }
    }
}

/// Whether a read failed because the browser's message or frame was over the limit.
fn too_big(err: &axum::Error) -> bool {
    let inner = std::error::Error::source(err).and_then(|e| e.downcast_ref::<tungstenite::Error>());
    matches!(inner, Some(tungstenite::Error::Capacity(_)))
}

/// Why the bridge answers a browser's text message itself instead of forwarding it to the
/// server, if it does: the reason of its `error` reply. Pure, for the fuzzers too.
pub fn rejection(text: &str) -> Option<&'static str> {
    if text.len() > MAX_LINE_LEN {
        Some("line too long")
    } else if text.contains(['\n', '\r']) {
        Some("line break in message")
    } else if matches!(Command::parse(text.as_bytes()), Ok(Command::Art(..))) {
        // The bridge claims only play ports for a session; pictures are plain HTTP.
        Some("art is served at /art/<id>")
    } else if matches!(
        Command::parse(text.as_bytes()),
        Ok(Command::Login { .. } | Command::Session(_) | Command::Logout | Command::Via(_))
    ) {
        // A WebSocket is its user's for its whole life: signing in and out is plain HTTP.
        Some("sign in and out at /login and /logout")
    } else {
        None
    }
}

/// The pending entry for a forwarded line. `play`, `stop` and `quit` end the current play the
/// moment they are sent, so they start a new generation.
fn classify(text: &str, generation: &Generation) -> Pending {
    let command = Command::parse(text.as_bytes()).ok();
    let generation = if command.as_ref().is_some_and(Command::ends_play) {
        generation.bump()
    } else {
        generation.current()
    };
    Pending::Server {
        command,
        generation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_cannot_be_a_line() {
        assert_eq!(rejection("list"), None);
        assert_eq!(rejection(&"a".repeat(MAX_LINE_LEN)), None);
        assert_eq!(
            rejection(&"a".repeat(MAX_LINE_LEN + 1)),
            Some("line too long")
        );
        assert_eq!(rejection("list\nplay 1"), Some("line break in message"));
        assert_eq!(rejection("list\r"), Some("line break in message"));
        assert_eq!(rejection("art 1 64"), Some("art is served at /art/<id>"));
    }

    #[test]
    fn only_commands_that_end_a_play_start_a_generation() {
        let generation = Generation::default();
        for (line, bumps) in [
            ("list", false),
            ("play 1", true),
            ("p x", false),
            ("s", true),
            ("q", true),
        ] {
            let before = generation.current();
            let Pending::Server {
                generation: got, ..
            } = classify(line, &generation)
            else {
                panic!("forwarded")
            };
            assert_eq!(
                (got != before, got),
                (bumps, generation.current()),
                "{line}"
            );
        }
    }
}
