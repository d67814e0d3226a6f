//! A client's view: any line, as the reply to any command, parses or fails cleanly, and what
//! parses prints back to the same reply.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapedeck_protocol::{Command, Event, Reply, SongId};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some(event) = Event::parse(text) {
        assert_eq!(event.to_string(), text, "an event prints back to itself");
    }
    let commands = [Command::List, Command::Info(None), Command::Info(Some(SongId(1))), Command::Play(SongId(1), None), Command::Play(SongId(1), Some(5)), Command::Songs { from: 0, count: 10, order: tapedeck_protocol::Order::NAME }, Command::Search { count: 10, query: "a".into() }, Command::Artists { from: 0, count: 10 }, Command::Albums { from: 0, count: 10, artist: None }, Command::Album(SongId(1)), Command::Login { user: "a".into(), password: tapedeck_protocol::Password("p".into()) }, Command::Session("0".repeat(64)), Command::User, Command::Logout, Command::Via([127, 0, 0, 1].into()), Command::Place(None), Command::Place(Some(tapedeck_protocol::Place::default())), Command::Stop, Command::Quit];
    for command in commands {
        if let Ok(reply) = Reply::parse(&command, text) {
            assert_eq!(Reply::parse(&command, &reply.to_string()), Ok(reply));
        }
    }
});
