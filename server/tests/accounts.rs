//! Accounts on the raw control port (PROTOCOL.md 5.12, 5.13, 12): a real server with a real
//! SQLite file. Nothing but signing in before signing in; wrong passwords, unknown users and
//! malformed sign-ins keep the connection usable; sessions end at logout, password change,
//! removal and expiry, closing the connections that use them; throttling leaves the real
//! user in.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Client, PATIENCE, TestServer, demo_music};
use tapedeck_server::{Config, accounts};

const PASSWORD: &str = "correct horse battery";

/// A database with the account `alice`, and a server's configuration on it.
fn config_with_alice() -> (Config, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    accounts::add_user(&db(dir.path()), "alice", PASSWORD).expect("added");
    let mut config = Config::new(demo_music());
    config.db = Some(db(dir.path()));
    (config, dir)
}

/// A database with the account `alice`, and a server on it.
async fn server_with_alice(tweak: impl FnOnce(&mut Config)) -> (TestServer, tempfile::TempDir) {
    let (mut config, dir) = config_with_alice();
    config.pacing = None;
    tweak(&mut config);
    (TestServer::start(config).await, dir)
}

fn db(dir: &Path) -> PathBuf {
    dir.join("tapedeck.sqlite3")
}

/// Signs `client` in as alice; the session id.
async fn sign_in(client: &mut Client) -> String {
    let reply = client.ask(&format!("login alice {PASSWORD}")).await;
    let words: Vec<&str> = reply.split(' ').collect();
    assert!(matches!(words[..], ["session", _, _]), "{reply}");
    assert_eq!(words[1].len(), 64, "{reply}");
    words[1].to_owned()
}

/// Waits until the server closes `client`'s connection, and says what it said last.
async fn closed(client: &mut Client) -> Option<String> {
    let mut last = None;
    while let Some(line) = client.line().await {
        last = Some(line);
    }
    last
}

#[tokio::test]
async fn nothing_but_signing_in_before_signing_in() {
    let (server, _dir) = server_with_alice(|_| {}).await;
    let mut client = server.client().await;
    // `quit` is no secret: it is answered before signing in (PROTOCOL.md 5.12).
    let mut leaving = server.client().await;
    assert_eq!(leaving.ask("quit").await, "bye");
    for command in [
        "list",
        "info",
        "info 1",
        "play 1",
        "play 1 1000",
        "songs 0 10",
        "search 10 tape",
        "artists 0 10",
        "albums 0 10",
        "album 1",
        "art 1",
        "stop",
        "place",
        r#"place {"song":1}"#,
    ] {
        assert_eq!(
            client.ask(command).await,
            "error sign in first",
            "{command}"
        );
    }
    assert_eq!(client.ask("user").await, "error not signed in");
    assert_eq!(client.ask("logout").await, "error not signed in");
    sign_in(&mut client).await;
    assert!(client.ask("list").await.starts_with('{'));
    assert!(client.ask("play 1").await.starts_with("port "));
    assert_eq!(client.ask("stop").await, "stopped");
    assert!(client.ask("user").await.starts_with("user alice "));
    assert_eq!(client.ask("quit").await, "bye");
    server.stop().await;
}

#[tokio::test]
async fn failed_sign_ins_are_errors_and_the_connection_stays_usable() {
    let (server, _dir) = server_with_alice(|_| {}).await;
    let mut client = server.client().await;
    let wrong = "error wrong user or password";
    assert_eq!(client.ask("login alice not-the-password").await, wrong);
    assert_eq!(
        client.ask(&format!("login mallory {PASSWORD}")).await,
        wrong
    );
    assert_eq!(client.ask(&format!("login ALICE {PASSWORD}x")).await, wrong);
    assert_eq!(client.ask("login").await, "error missing argument");
    assert_eq!(client.ask("login alice").await, "error missing argument");
    assert_eq!(client.ask("session 1234").await, "error invalid session id");
    let unknown = "0".repeat(64);
    assert_eq!(
        client.ask(&format!("session {unknown}")).await,
        "error session expired"
    );
    // Hostile names: long, SQL, not UTF-8. None signs in; the database is unharmed.
    let long = "a".repeat(900);
    assert_eq!(client.ask(&format!("login {long} {PASSWORD}")).await, wrong);
    let long_password = "p".repeat(1000);
    assert_eq!(
        client.ask(&format!("login alice {long_password}")).await,
        wrong
    );
    for name in [
        "alice'--",
        "alice';DROP TABLE users;--",
        "%",
        "_lice",
        "' OR '1'='1",
    ] {
        assert_eq!(
            client.ask(&format!("login {name} {PASSWORD}")).await,
            wrong,
            "{name}"
        );
    }
    client.send(b"login \xff\xfe pw\n").await;
    assert_eq!(client.line().await.as_deref(), Some("error invalid utf-8"));
    assert_eq!(client.ask("list").await, "error sign in first");
    // Eleven failures from this address throttle it (the next test's subject): go on as
    // another browser of a bridge would.
    assert_eq!(client.ask("via 203.0.113.99").await, "ok");
    // Names are compared without case; the password exactly.
    assert_eq!(
        client
            .ask(&format!("login ALICE {PASSWORD}"))
            .await
            .split(' ')
            .next(),
        Some("session")
    );
    assert!(client.ask("list").await.starts_with('{'));
    server.stop().await;
}

#[tokio::test]
async fn a_session_signs_in_other_connections_until_logout_closes_them() {
    let (server, _dir) = server_with_alice(|_| {}).await;
    let mut first = server.client().await;
    let id = sign_in(&mut first).await;
    let mut second = server.client().await;
    assert!(
        second
            .ask(&format!("session {id}"))
            .await
            .starts_with("user alice ")
    );
    assert!(second.ask("songs 0 1").await.starts_with('{'));
    // A new sign-in is a new session.
    let mut third = server.client().await;
    assert_ne!(sign_in(&mut third).await, id);
    assert_eq!(first.ask("logout").await, "signed out");
    assert_eq!(first.ask("list").await, "error sign in first");
    assert_eq!(
        closed(&mut second).await.as_deref(),
        Some("error signed out")
    );
    let mut late = server.client().await;
    assert_eq!(
        late.ask(&format!("session {id}")).await,
        "error session expired"
    );
    assert!(
        third.ask("list").await.starts_with('{'),
        "another session is untouched"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_password_change_or_removal_ends_the_sessions_within_seconds() {
    let (server, dir) = server_with_alice(|_| {}).await;
    accounts::add_user(&db(dir.path()), "bob", "bobs password").expect("bob");
    let mut alice = server.client().await;
    let id = sign_in(&mut alice).await;
    let mut bob = server.client().await;
    assert!(
        bob.ask("login bob bobs password")
            .await
            .starts_with("session ")
    );
    // As `tapedeck-server user passwd alice` does, from another process.
    accounts::set_password(&db(dir.path()), "alice", "a new password").expect("changed");
    let ended = tokio::time::timeout(PATIENCE, closed(&mut alice)).await;
    assert_eq!(
        ended.expect("closed in time").as_deref(),
        Some("error signed out")
    );
    let mut again = server.client().await;
    assert_eq!(
        again.ask(&format!("session {id}")).await,
        "error session expired"
    );
    assert_eq!(
        again.ask(&format!("login alice {PASSWORD}")).await,
        "error wrong user or password"
    );
    assert!(
        again
            .ask("login alice a new password")
            .await
            .starts_with("session ")
    );
    assert!(bob.ask("list").await.starts_with('{'), "bob is untouched");
    accounts::remove_user(&db(dir.path()), "bob").expect("removed");
    let ended = tokio::time::timeout(PATIENCE, closed(&mut bob)).await;
    assert_eq!(
        ended.expect("closed in time").as_deref(),
        Some("error signed out")
    );
    server.stop().await;
}

#[tokio::test]
async fn sessions_expire() {
    let (server, _dir) = server_with_alice(|c| c.session_lifetime = Duration::from_secs(2)).await;
    let mut client = server.client().await;
    let id = sign_in(&mut client).await;
    let ended = tokio::time::timeout(PATIENCE, closed(&mut client)).await;
    assert_eq!(
        ended.expect("closed in time").as_deref(),
        Some("error signed out")
    );
    let mut late = server.client().await;
    assert_eq!(
        late.ask(&format!("session {id}")).await,
        "error session expired"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_address_that_keeps_failing_is_told_to_wait() {
    let (server, _dir) = server_with_alice(|_| {}).await;
    let mut client = server.client().await;
    for _ in 0..10 {
        assert_eq!(
            client.ask("login alice guess").await,
            "error wrong user or password"
        );
    }
    let refused = client.ask(&format!("login alice {PASSWORD}")).await;
    assert!(
        refused.starts_with("error too many attempts (retry in "),
        "{refused}"
    );
    // A bridge says where its browsers are: another address is not held up.
    assert_eq!(client.ask("via 203.0.113.7").await, "ok");
    sign_in(&mut client).await;
    server.stop().await;
}

#[tokio::test]
async fn ten_thousand_addresses_guessing_do_not_keep_the_real_user_out() {
    let (server, _dir) = server_with_alice(|_| {}).await;
    // The real user has signed in from home before.
    let mut home = server.client().await;
    assert_eq!(home.ask("via 192.0.2.10").await, "ok");
    sign_in(&mut home).await;
    // 10,000 guesses, each from its own address, pipelined on a few connections.
    let mut refused = 0;
    for chunk in 0..4u32 {
        let mut attacker = server.client().await;
        let mut batch = String::new();
        for n in 0..2500u32 {
            let address = std::net::Ipv4Addr::from(0x0a00_0000 + chunk * 2500 + n);
            batch.push_str(&format!("via {address}\nlogin alice guess{n}\n"));
        }
        attacker.send(batch.as_bytes()).await;
        for _ in 0..2500 {
            assert_eq!(attacker.line().await.as_deref(), Some("ok"));
            let reply = attacker.line().await.expect("a reply");
            assert!(reply.starts_with("error "), "{reply}");
            refused += usize::from(reply.starts_with("error too many attempts"));
        }
    }
    assert!(
        refused > 9000,
        "most guesses are refused without a hash: {refused}"
    );
    // From an address never seen, alice must wait; from home, she signs in at once.
    let mut stranger = server.client().await;
    assert_eq!(stranger.ask("via 198.51.100.1").await, "ok");
    let held = stranger.ask(&format!("login alice {PASSWORD}")).await;
    assert!(held.starts_with("error too many attempts"), "{held}");
    let mut again = server.client().await;
    assert_eq!(again.ask("via 192.0.2.10").await, "ok");
    sign_in(&mut again).await;
    server.stop().await;
}

#[tokio::test]
async fn only_loopback_and_named_bridges_may_say_via() {
    let mut config = Config::new(demo_music());
    config.bridges = vec!["192.0.2.1".parse().expect("ip")];
    // The server's own peers here are loopback: a `via` from them is believed.
    let server = TestServer::start(config).await;
    let mut client = server.client().await;
    assert_eq!(client.ask("via 2001:db8::1").await, "ok");
    assert_eq!(client.ask("via nowhere").await, "error invalid address");
    assert_eq!(client.ask("via").await, "error missing argument");
    server.stop().await;
}

/// A server on an address beyond loopback.
struct Wide {
    port: u16,
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<Result<(), tapedeck_server::ServerError>>,
}

impl Wide {
    async fn start(addr: impl tokio::net::ToSocketAddrs, config: Config) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let stop = tokio_util::sync::CancellationToken::new();
        let signal = stop.clone().cancelled_owned();
        let task = tokio::spawn(tapedeck_server::run(listener, config, signal));
        Self { port, stop, task }
    }

    async fn stop(self) {
        self.stop.cancel();
        self.task.await.expect("task").expect("served");
    }
}

/// This machine's address on its network, if it has one (no packet is sent).
fn network_address() -> Option<std::net::IpAddr> {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    probe.connect("192.0.2.1:9").ok()?;
    let ip = probe.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[tokio::test]
async fn a_peer_beyond_loopback_may_not_say_via() {
    let Some(address) = network_address() else {
        eprintln!("skipped: this machine has no address beyond loopback");
        return;
    };
    let (config, _dir) = config_with_alice();
    let wide = Wide::start((address, 0), config).await;
    let port = wide.port;
    // Connected to the network address, the peer is that address, not loopback.
    let mut client = Client::connect((address, port).into()).await;
    assert_eq!(client.ask("via 203.0.113.1").await, "error not a bridge");
    sign_in(&mut client).await;
    wide.stop().await;
}

#[tokio::test]
async fn without_accounts_the_server_is_open_on_loopback_only() {
    let server = TestServer::demo().await;
    let mut client = server.client().await;
    assert_eq!(client.ask("user").await, "open");
    assert_eq!(
        client.ask(&format!("session {}", "a".repeat(64))).await,
        "open"
    );
    assert!(client.ask("list").await.starts_with('{'));
    assert_eq!(
        client.ask("login alice whatever1").await,
        "error no accounts"
    );
    server.stop().await;
    // Beyond loopback, it refuses to start, saying how to add an account...
    let wide = tokio::net::TcpListener::bind("0.0.0.0:0")
        .await
        .expect("bind");
    let refused = tapedeck_server::run(wide, Config::new(demo_music()), std::future::pending());
    let err = refused.await.expect_err("refused");
    assert!(
        err.to_string().contains("tapedeck-server user add"),
        "{err}"
    );
    // ...unless told to be open.
    let mut config = Config::new(demo_music());
    config.open = true;
    let wide = Wide::start("0.0.0.0:0", config).await;
    let port = wide.port;
    let mut client = Client::connect(([127, 0, 0, 1], port).into()).await;
    assert_eq!(client.ask("user").await, "open");
    wide.stop().await;
}

#[tokio::test]
async fn with_an_account_the_server_serves_beyond_loopback() {
    let (config, _dir) = config_with_alice();
    let wide = Wide::start("0.0.0.0:0", config).await;
    let port = wide.port;
    let mut client = Client::connect(([127, 0, 0, 1], port).into()).await;
    assert_eq!(client.ask("list").await, "error sign in first");
    sign_in(&mut client).await;
    wide.stop().await;
}

#[tokio::test]
async fn the_place_follows_the_user_to_another_connection() {
    let (server, _dir) = server_with_alice(|_| {}).await;
    let mut phone = server.client().await;
    sign_in(&mut phone).await;
    assert_eq!(phone.ask("place").await, "place {\"position_ms\":0}");
    let place = r#"{"song":2,"position_ms":61500,"volume":80,"gain":"album","queue":{"order":"-title","shuffle":true}}"#;
    assert_eq!(phone.ask(&format!("place {place}")).await, "ok");
    let mut laptop = server.client().await;
    sign_in(&mut laptop).await;
    assert_eq!(laptop.ask("place").await, format!("place {place}"));
    assert_eq!(laptop.ask("place [1,2]").await, "error invalid place");
    assert_eq!(
        laptop.ask("place {\"song\":\"two\"}").await,
        "error invalid place"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_database_file_is_its_owners_only_and_holds_no_password() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    accounts::add_user(&db(dir.path()), "alice", PASSWORD).expect("added");
    // A server on it, signed into: the write-ahead log and shared memory exist now.
    let mut config = Config::new(demo_music());
    config.db = Some(db(dir.path()));
    let server = TestServer::start(config).await;
    let mut client = server.client().await;
    sign_in(&mut client).await;
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert!(files.len() >= 2, "{files:?}");
    for file in &files {
        let mode = std::fs::metadata(file).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    }
    server.stop().await;
    let bytes = std::fs::read(db(dir.path())).expect("read");
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(PASSWORD));
    assert!(text.contains("$argon2id$v=19$m=65536,t=3,p=1$"));
}

#[test]
fn administration_refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = db(dir.path());
    accounts::add_user(&db, "alice", PASSWORD).expect("added");
    let err = |r: Result<(), accounts::UserError>| r.expect_err("refused").to_string();
    assert!(err(accounts::add_user(&db, "Alice", PASSWORD)).contains("already"));
    assert!(err(accounts::add_user(&db, "bad name", PASSWORD)).contains("cannot be a user name"));
    assert!(err(accounts::add_user(&db, "x';--", PASSWORD)).contains("cannot be a user name"));
    assert!(err(accounts::add_user(&db, "bob", "short")).contains("at least 8"));
    assert!(err(accounts::set_password(&db, "nobody", PASSWORD)).contains("no user"));
    assert!(err(accounts::remove_user(&db, "nobody")).contains("no user"));
    let users = accounts::list_users(&db).expect("list");
    assert_eq!(
        users.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["alice"]
    );
}

/// A database that cannot be opened at start (here: a folder where the file should be) is
/// tried again; once it opens, its accounts hold: signing in is required from then on.
#[tokio::test]
async fn accounts_that_could_not_be_opened_hold_once_they_can() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db(dir.path());
    std::fs::create_dir(&path).expect("a folder in the way");
    let mut config = Config::new(demo_music());
    config.db = Some(path.clone());
    let server = TestServer::start(config).await;
    let mut client = server.client().await;
    assert_eq!(
        client.ask("user").await,
        "open",
        "nothing to read accounts from yet"
    );
    std::fs::remove_dir(&path).expect("out of the way");
    accounts::add_user(&path, "alice", PASSWORD).expect("added");
    tokio::time::timeout(PATIENCE, async {
        let mut other = server.client().await;
        while other.ask("list").await != "error sign in first" {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
    .expect("accounts hold within seconds");
    sign_in(&mut client).await;
    server.stop().await;
}
