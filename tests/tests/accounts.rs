//! Accounts end to end: the real `tapedeck-server user ...` commands on a real SQLite file,
//! the real server and bridge, and two headless Chromiums, the second a device that signs in
//! and finds the song paused where the first left it.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use tapedeck_tests::system::{bridge, dist, free_port};
use tapedeck_tests::webdriver::{Browser, screenshots};
use tapedeck_tests::{Process, binary, repo};

const STATS: &str = "return window.tapedeck ? window.tapedeck.stats() : null";
const ROWS: &str = "return document.querySelectorAll('tr.song').length";
const FORM: &str = "return document.querySelector('form.sign-in') !== null";
const PASSWORD: &str = "correct horse battery";

fn number(value: &Value, key: &str) -> f64 {
    value[key].as_f64().unwrap_or(f64::NAN)
}

/// Runs `tapedeck-server user <args> --db <db>` with `input` on standard input: whether it
/// succeeded, and what it printed (out and err).
fn user(db: &Path, args: &[&str], input: &str) -> (bool, String) {
    let mut child = Command::new(binary("tapedeck-server"))
        .arg("user")
        .args(args)
        .arg("--db")
        .arg(db)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("password");
    let out = child.wait_with_output().expect("ran");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn accounts_are_administered_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("tapedeck.sqlite3");
    let (ok, text) = user(&db, &["add", "alice"], &format!("{PASSWORD}\n"));
    assert!(ok, "{text}");
    let (ok, text) = user(&db, &["add", "bob"], "bobs password\r\n");
    assert!(ok, "{text}");
    let (ok, text) = user(&db, &["add", "alice"], &format!("{PASSWORD}\n"));
    assert!(!ok && text.contains("already"), "{text}");
    let (ok, text) = user(&db, &["add", "carol"], "short\n");
    assert!(!ok && text.contains("at least 8"), "{text}");
    let (ok, text) = user(&db, &["add", "x'; DROP TABLE users; --"], "long enough\n");
    assert!(!ok && text.contains("cannot be a user name"), "{text}");
    let (ok, text) = user(&db, &["list"], "");
    assert!(ok, "{text}");
    let names: Vec<&str> = text.lines().filter_map(|l| l.split('\t').next()).collect();
    assert_eq!(names, ["alice", "bob"]);
    let (ok, text) = user(&db, &["passwd", "bob"], "another password\n");
    assert!(ok, "{text}");
    let (ok, text) = user(&db, &["remove", "bob"], "");
    assert!(ok, "{text}");
    let (ok, text) = user(&db, &["remove", "bob"], "");
    assert!(!ok && text.contains("no user"), "{text}");
    // Without an account the server refuses to listen beyond loopback, and says what to do.
    let empty = dir.path().join("empty.sqlite3");
    let music = repo().join("music");
    let music = music.to_str().expect("utf-8");
    let empty = empty.to_str().expect("utf-8");
    let out = Command::new(binary("tapedeck-server"))
        .args(["--listen", "0.0.0.0:0", "--music", music, "--db", empty])
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("ran");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(said.contains("tapedeck-server user add"), "{said}");
}

/// Asks the server (as alice, on the raw protocol) until her place is `song` at `seconds`.
fn wait_for_place(server: &str, song: u64, seconds: f64) {
    use std::io::{BufRead, BufReader};
    let stream = std::net::TcpStream::connect(server).expect("connect");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut ask = |line: &str| {
        writeln!(&stream, "{line}").expect("send");
        let mut reply = String::new();
        reader.read_line(&mut reply).expect("reply");
        reply
    };
    assert!(ask(&format!("login alice {PASSWORD}")).starts_with("session "));
    let deadline = std::time::Instant::now() + tapedeck_tests::PATIENCE;
    loop {
        let reply = ask("place");
        let place: Value = serde_json::from_str(reply.trim_start_matches("place ")).expect("json");
        let at = place["position_ms"].as_f64().unwrap_or(0.0) / 1000.0;
        if place["song"] == song && (at - seconds).abs() < 0.5 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the place stayed {reply}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Signs in on the page shown in `browser`.
fn sign_in(browser: &Browser) {
    browser.wait_for("the sign-in form", FORM, |v| v == true);
    browser.type_into("input[name=user]", "alice");
    browser.type_into("input[name=password]", PASSWORD);
    browser.click("form.sign-in button[type=submit]");
    browser.wait_for("the library", ROWS, |v| v == 4);
}

#[test]
fn a_second_device_continues_where_the_first_left_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("tapedeck.sqlite3");
    let (ok, text) = user(&db, &["add", "alice"], &format!("{PASSWORD}\n"));
    assert!(ok, "{text}");
    let music = repo().join("music");
    let server = Process::start(
        &binary("tapedeck-server"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--music",
            music.to_str().expect("utf-8"),
            "--db",
            db.to_str().expect("utf-8"),
        ],
    );
    let server_addr = server.addr("serving").to_string();
    let bridge = bridge(&server_addr, "127.0.0.1:0", &dist());
    let page = format!("http://{}/", bridge.addr("bridge listening"));
    let shots = screenshots();

    let phone = Browser::start(free_port());
    phone.go(&page);
    phone.wait_for("the sign-in form", FORM, |v| v == true);
    phone.screenshot(&shots.join("accounts-1-sign-in.png"));
    // A wrong password is said on the form, which stays.
    phone.type_into("input[name=user]", "alice");
    phone.type_into("input[name=password]", "not it");
    phone.click("form.sign-in button[type=submit]");
    phone.wait_for(
        "the refusal",
        "return document.querySelector('form.sign-in .error')?.textContent",
        |v| {
            v.as_str()
                .is_some_and(|t| t.contains("Wrong user or password"))
        },
    );
    phone.refresh();
    sign_in(&phone);
    phone.click("tr.song[data-id='2']");
    phone.wait_for("song 2 playing", STATS, |s| {
        s["state"] == "playing" && s["song"] == 2
    });
    phone.run("window.tapedeck.seek(20)");
    phone.wait_for("song 2 past 21 s", STATS, |s| {
        s["state"] == "playing" && number(s, "position_s") > 21.0
    });
    // The queue goes along: shuffle on.
    phone.click("button.mode[aria-label=Shuffle]");
    phone.click("button.toggle");
    let paused = phone.wait_for("paused", STATS, |s| s["state"] == "paused");
    let heard = number(&paused, "position_s");
    // The place is saved within seconds: the server has it once it says so.
    wait_for_place(&server_addr, 2, heard);
    let laptop = Browser::start(free_port());
    laptop.go(&page);
    sign_in(&laptop);
    let found = laptop.wait_for("the song of the phone, paused", STATS, |s| {
        s["state"] == "paused"
    });
    assert_eq!(found["state"], "paused", "{found}");
    assert_eq!(found["song"], 2, "{found}");
    assert!(
        (number(&found, "position_s") - heard).abs() < 1.0,
        "{found} vs {heard}"
    );
    laptop.wait_for(
        "shuffle on, as on the phone",
        "return document.querySelector('button.mode[aria-label=Shuffle]').getAttribute('aria-pressed')",
        |v| v == "true",
    );
    let title = laptop.run("return document.querySelector('.now-playing')?.textContent ?? ''");
    assert!(
        title.as_str().is_some_and(|t| t.contains("Night Drive")),
        "{title}"
    );
    laptop.screenshot(&shots.join("accounts-2-continued.png"));
    // One click from continuing.
    laptop.click("button.toggle");
    laptop.wait_for("playing on from there", STATS, |s| {
        s["state"] == "playing" && number(s, "position_s") > heard
    });
    // Signing out ends the laptop's session (the phone keeps its own): the form shows, and
    // stays after a reload.
    laptop.click("button.sign-out");
    laptop.wait_for("the sign-in form", FORM, |v| v == true);
    laptop.refresh();
    laptop.wait_for("still signed out", FORM, |v| v == true);
    phone.refresh();
    phone.wait_for("the phone still signed in", ROWS, |v| v == 4);
    // A new password ends every session: the open page is asked to sign in again, by itself.
    let (ok, text) = user(&db, &["passwd", "alice"], "a brand new password\n");
    assert!(ok, "{text}");
    phone.wait_for("the phone asked to sign in again", FORM, |v| v == true);
    drop(server);
}
