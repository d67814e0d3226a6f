//! The real `tapedeck-server` binary, started as a process: as a person with `nc` would use it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use tapedeck_tests::{PATIENCE, Process, binary, repo};

/// The server on the demo library, its index in memory unless `extra` names one.
fn start_server(extra: &[&str]) -> Process {
    let music = repo().join("music");
    let mut args = vec![
        "--listen",
        "127.0.0.1:0",
        "--music",
        music.to_str().expect("utf-8 path"),
    ];
    if !extra.contains(&"--db") {
        args.extend(["--db", "memory"]);
    }
    args.extend_from_slice(extra);
    Process::start(&binary("tapedeck-server"), &args)
}

fn connect(server: &Process) -> (TcpStream, BufReader<TcpStream>) {
    let addr = server.addr("serving");
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let reader = BufReader::new(stream.try_clone().expect("clone"));
    (stream, reader)
}

fn line(reader: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).expect("read a line");
    line
}

#[test]
fn typing_list_by_hand_works() {
    let server = start_server(&[]);
    let (mut stream, mut reader) = connect(&server);
    // A person types one key at a time and the terminal sends CRLF.
    for key in ["l", "i", "s", "t", "\r\n"] {
        stream.write_all(key.as_bytes()).expect("type");
        stream.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(20));
    }
    let reply = line(&mut reader);
    let list: serde_json::Value = serde_json::from_str(&reply).expect("a JSON object");
    assert_eq!(list["01 Morning Tape.mp3"], 1, "{reply}");
    stream.write_all(b"play 99\nq\n").expect("type");
    assert_eq!(line(&mut reader), "error no such song\n");
    assert_eq!(line(&mut reader), "bye\n");
    assert_eq!(line(&mut reader), "", "closed after bye");
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let mut server = start_server(&[]);
    let (mut stream, mut reader) = connect(&server);
    stream.write_all(b"play 2\n").expect("play");
    assert!(line(&mut reader).starts_with("port "));
    server.terminate();
    assert_eq!(line(&mut reader), "error server shutting down\n");
    let status = server.child.wait().expect("exit");
    assert!(status.success(), "exit status {status}");
}

#[test]
fn a_missing_music_directory_is_a_clear_error() {
    let mut server = Process::start(
        &binary("tapedeck-server"),
        &["--listen", "127.0.0.1:0", "--music", "/nonexistent/music"],
    );
    let status = server.child.wait().expect("exit");
    assert!(!status.success());
    let log = server.rest().join("\n");
    assert!(
        log.contains("cannot read the music directory /nonexistent/music"),
        "{log}"
    );
}

/// The binary with an index file (`--db`): the first start scans, the next one serves what the
/// index holds at once, with the same ids.
#[test]
fn a_restart_serves_the_index_with_the_same_ids() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("state").join("tapedeck.sqlite3");
    let db = db.to_str().expect("utf-8 path");
    let list = |server: &Process| {
        let (mut stream, mut reader) = connect(server);
        stream.write_all(b"list\n").expect("list");
        line(&mut reader)
    };
    let mut first = start_server(&["--db", db]);
    assert!(
        first.wait_for("cold start").is_some(),
        "a first start scans"
    );
    let before = list(&first);
    first.terminate();
    first.child.wait().expect("exit");
    let second = start_server(&["--db", db]);
    assert!(
        second.wait_for("warm start").is_some(),
        "a restart serves the index"
    );
    assert_eq!(list(&second), before);
}
