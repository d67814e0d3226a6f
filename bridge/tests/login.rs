//! Signing in through the bridge (PROTOCOL.md 16.9), with a real server on a real SQLite file:
//! the cookie's flags, 401 for a wrong user or password alike, 429 once throttled, a new id at
//! every sign-in, logout and revocation ending the session at once (open WebSockets too),
//! expiry, Origin, and the WebSocket and `/art` refused without a session.

mod common;

use std::time::Duration;

use common::{Browser, Got, PATIENCE, Stack, demo_music, http};
use tapedeck_server::accounts;

const PASSWORD: &str = "correct horse battery";

struct Signed {
    stack: Stack,
    db: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn stack_with_alice(
    server: impl FnOnce(&mut tapedeck_server::Config),
    bridge: impl FnOnce(&mut tapedeck_bridge::Config),
) -> Signed {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("tapedeck.sqlite3");
    accounts::add_user(&db, "alice", PASSWORD).expect("added");
    let mut config = tapedeck_server::Config::new(demo_music());
    config.db = Some(db.clone());
    config.pacing = None;
    server(&mut config);
    Signed {
        stack: Stack::start_with(config, bridge).await,
        db,
        _dir: dir,
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

const FORM: &str = "Content-Type: application/x-www-form-urlencoded\r\n";

/// `POST /login` as alice (with `extra` headers): the status, headers and body.
async fn login(stack: &Stack, password: &str, extra: &str) -> (u16, Vec<(String, String)>, String) {
    let body = format!("user=alice&password={}", password.replace(' ', "+"));
    let (status, headers, body) = http(
        stack.bridge,
        "POST",
        "/login",
        &format!("{FORM}{extra}"),
        &body,
    )
    .await;
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// Signs in as alice: the `Cookie` header that carries the session.
async fn cookie(stack: &Stack) -> String {
    let (status, headers, body) = login(stack, PASSWORD, "").await;
    assert_eq!(status, 200, "{body}");
    let set = header(&headers, "set-cookie").expect("a cookie");
    set.split(';').next().expect("name=value").to_owned()
}

async fn whoami(stack: &Stack, cookie: &str) -> (u16, String) {
    let extra = format!("Cookie: {cookie}\r\n");
    let (status, _, body) = http(stack.bridge, "GET", "/session", &extra, "").await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Waits (without asserting a time) until `/session` with `cookie` is refused.
async fn until_refused(stack: &Stack, cookie: &str) {
    tokio::time::timeout(PATIENCE, async {
        while whoami(stack, cookie).await.0 != 401 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("refused in time");
}

#[tokio::test]
async fn signing_in_gives_a_strict_http_only_cookie() {
    let signed = stack_with_alice(|_| {}, |_| {}).await;
    let stack = &signed.stack;
    let (status, headers, body) = login(stack, PASSWORD, "").await;
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"user":"alice"}"#);
    let set = header(&headers, "set-cookie").expect("a cookie");
    let id = set
        .strip_prefix("tapedeck_session=")
        .and_then(|rest| rest.split(';').next())
        .expect("the session id");
    assert_eq!(id.len(), 64);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=2592000"] {
        assert!(set.split("; ").any(|f| f == flag), "{flag} in {set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP: {set}");
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    let (status, body) = whoami(stack, &format!("tapedeck_session={id}")).await;
    assert_eq!((status, body.as_str()), (200, r#"{"user":"alice"}"#));
}

#[tokio::test]
async fn the_cookie_is_secure_behind_a_trusted_https_proxy_only() {
    let proxied = stack_with_alice(
        |_| {},
        |b| b.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")],
    )
    .await;
    let https = "X-Forwarded-Proto: https\r\n";
    let (_, headers, _) = login(&proxied.stack, PASSWORD, https).await;
    assert!(
        header(&headers, "set-cookie")
            .expect("cookie")
            .ends_with("; Secure")
    );
    let direct = stack_with_alice(|_| {}, |_| {}).await;
    let (_, headers, _) = login(&direct.stack, PASSWORD, https).await;
    assert!(
        !header(&headers, "set-cookie")
            .expect("cookie")
            .contains("Secure")
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let signed = stack_with_alice(|_| {}, |_| {}).await;
    let stack = &signed.stack;
    let (status, headers, wrong) = login(stack, "not it", "").await;
    assert_eq!(status, 401);
    assert!(header(&headers, "set-cookie").is_none());
    let (status, _, unknown) = http(
        stack.bridge,
        "POST",
        "/login",
        FORM,
        &format!("user=mallory&password={PASSWORD}"),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(wrong, String::from_utf8_lossy(&unknown));
    // Malformed: no fields, one field, a name that cannot be, an over-long password, a body
    // over the limit, not a form.
    for (body, expected) in [
        ("", 400),
        ("user=alice", 400),
        ("user=a%20b&password=x", 401),
        ("user=alice'--&password=x", 401),
        ("user=%FF%FE&password=x", 401),
    ] {
        let (status, _, _) = http(stack.bridge, "POST", "/login", FORM, body).await;
        assert_eq!(status, expected, "{body}");
    }
    let long = format!("user=alice&password={}", "x".repeat(600));
    assert_eq!(
        http(stack.bridge, "POST", "/login", FORM, &long).await.0,
        401
    );
    let huge = format!("user=alice&password={}", "x".repeat(10_000));
    assert_eq!(
        http(stack.bridge, "POST", "/login", FORM, &huge).await.0,
        413
    );
    // The real password still works.
    assert_eq!(login(stack, PASSWORD, "").await.0, 200);
}

#[tokio::test]
async fn without_a_session_nothing_but_the_page_and_signing_in() {
    let signed = stack_with_alice(|_| {}, |_| {}).await;
    let stack = &signed.stack;
    assert_eq!(whoami(stack, "").await.0, 401);
    assert_eq!(
        whoami(stack, &format!("tapedeck_session={}", "0".repeat(64)))
            .await
            .0,
        401
    );
    assert_eq!(http(stack.bridge, "GET", "/art/1", "", "").await.0, 401);
    assert_eq!(
        http(stack.bridge, "GET", "/", "", "").await.0,
        200,
        "the page itself"
    );
    let refused = Browser::connect(stack.bridge, Some(&stack.origin)).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = refused else {
        panic!("the WebSocket must be refused");
    };
    assert_eq!(response.status(), 401);
    // With the session, the WebSocket opens and plays; signing in or out over it is refused.
    let cookie = cookie(stack).await;
    let mut browser = Browser::connect_with(stack.bridge, Some(&stack.origin), Some(&cookie))
        .await
        .expect("opens");
    assert!(browser.ask("songs 0 2").await.starts_with('{'));
    assert!(browser.ask("user").await.starts_with("user alice "));
    for command in [
        "login alice x",
        "logout",
        &format!("session {}", "a".repeat(64)),
        "via 1.2.3.4",
    ] {
        assert_eq!(
            browser.ask(command).await,
            "error sign in and out at /login and /logout",
            "{command}"
        );
    }
    assert_eq!(
        http(
            stack.bridge,
            "GET",
            "/art/1",
            &format!("Cookie: {cookie}\r\n"),
            ""
        )
        .await
        .0,
        404
    );
}

#[tokio::test]
async fn every_sign_in_is_a_new_session_and_ends_the_one_before() {
    let signed = stack_with_alice(|_| {}, |_| {}).await;
    let stack = &signed.stack;
    let first = cookie(stack).await;
    let (status, headers, _) = login(stack, PASSWORD, &format!("Cookie: {first}\r\n")).await;
    assert_eq!(status, 200);
    let second = header(&headers, "set-cookie").expect("cookie");
    let second = second.split(';').next().expect("pair").to_owned();
    assert_ne!(first, second);
    assert_eq!(
        whoami(stack, &first).await.0,
        401,
        "fixation: the old id is dead"
    );
    assert_eq!(whoami(stack, &second).await.0, 200);
}

#[tokio::test]
async fn logout_ends_the_session_at_once_and_closes_its_websockets() {
    let signed = stack_with_alice(|_| {}, |_| {}).await;
    let stack = &signed.stack;
    let cookie = cookie(stack).await;
    let mut browser = Browser::connect_with(stack.bridge, Some(&stack.origin), Some(&cookie))
        .await
        .expect("opens");
    assert!(browser.ask("songs 0 1").await.starts_with('{'));
    let foreign = format!("Origin: https://evil.example\r\nCookie: {cookie}\r\n");
    assert_eq!(
        http(stack.bridge, "POST", "/logout", &foreign, "").await.0,
        403
    );
    assert_eq!(
        whoami(stack, &cookie).await.0,
        200,
        "a foreign page cannot sign out"
    );
    let own = format!("Origin: {}\r\nCookie: {cookie}\r\n", stack.origin);
    let (status, headers, _) = http(stack.bridge, "POST", "/logout", &own, "").await;
    assert_eq!(status, 204);
    let cleared = header(&headers, "set-cookie").expect("cleared");
    assert!(cleared.starts_with("tapedeck_session=;") && cleared.contains("Max-Age=0"));
    assert_eq!(whoami(stack, &cookie).await.0, 401);
    let mut texts = Vec::new();
    loop {
        match browser.next().await {
            Got::Closed(_) => break,
            Got::Text(text) => texts.push(text),
            Got::Binary(_) => {}
        }
    }
    assert!(texts.iter().any(|t| t.contains("signed out")), "{texts:?}");
}

#[tokio::test]
async fn login_from_a_foreign_origin_is_refused() {
    let signed = stack_with_alice(|_| {}, |_| {}).await;
    let (status, headers, _) =
        login(&signed.stack, PASSWORD, "Origin: https://evil.example\r\n").await;
    assert_eq!(status, 403);
    assert!(header(&headers, "set-cookie").is_none());
    let own = format!("Origin: {}\r\n", signed.stack.origin);
    assert_eq!(login(&signed.stack, PASSWORD, &own).await.0, 200);
}

#[tokio::test]
async fn a_password_change_ends_the_session() {
    let signed = stack_with_alice(|_| {}, |_| {}).await;
    let cookie = cookie(&signed.stack).await;
    accounts::set_password(&signed.db, "alice", "another password").expect("changed");
    until_refused(&signed.stack, &cookie).await;
    assert_eq!(login(&signed.stack, PASSWORD, "").await.0, 401);
}

#[tokio::test]
async fn sessions_expire() {
    let signed = stack_with_alice(|c| c.session_lifetime = Duration::from_secs(1), |_| {}).await;
    let cookie = cookie(&signed.stack).await;
    until_refused(&signed.stack, &cookie).await;
}

#[tokio::test]
async fn repeated_failures_are_answered_429_with_retry_after() {
    let signed = stack_with_alice(|_| {}, |_| {}).await;
    let stack = &signed.stack;
    for _ in 0..10 {
        assert_eq!(login(stack, "guess", "").await.0, 401);
    }
    let (status, headers, body) = login(stack, PASSWORD, "").await;
    assert_eq!(status, 429, "{body}");
    let wait: u64 = header(&headers, "retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=300).contains(&wait), "{wait}");
    // Forwarded addresses are not believed from an untrusted peer: still throttled.
    let (status, _, _) = login(stack, PASSWORD, "X-Forwarded-For: 203.0.113.5\r\n").await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn an_open_server_needs_no_sign_in_but_not_beyond_loopback() {
    let stack = Stack::demo().await;
    let (status, _, body) = http(stack.bridge, "GET", "/session", "", "").await;
    assert_eq!(
        (status, body.as_slice()),
        (200, br#"{"user":null}"#.as_slice())
    );
    assert!(Browser::connect(stack.bridge, None).await.is_ok());
    // A bridge that may not serve an open server (beyond loopback without --open).
    let mut config = tapedeck_server::Config::new(demo_music());
    config.pacing = None;
    let closed = Stack::start_with(config, |b| b.open = false).await;
    let (status, _, body) = http(closed.bridge, "GET", "/session", "", "").await;
    assert_eq!(status, 401);
    assert!(String::from_utf8_lossy(&body).contains("no accounts"));
    assert!(Browser::connect(closed.bridge, None).await.is_err());
}

#[tokio::test]
async fn session_renews_the_cookie_and_a_missing_server_is_502() {
    let signed = stack_with_alice(|_| {}, |_| {}).await;
    let stack = &signed.stack;
    let cookie = cookie(stack).await;
    let extra = format!("Cookie: {cookie}\r\n");
    let (status, headers, _) = http(stack.bridge, "GET", "/session", &extra, "").await;
    assert_eq!(status, 200);
    let renewed = header(&headers, "set-cookie").expect("the cookie again");
    assert!(renewed.starts_with(&format!("{cookie};")), "{renewed}");
    assert!(renewed.contains("Max-Age=2592000"), "{renewed}");
    // The server goes away: the bridge says so (502), it does not let anyone in.
    stack.server_stop.cancel();
    tokio::time::timeout(PATIENCE, async {
        while http(stack.bridge, "GET", "/session", &extra, "").await.0 != 502 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("502 once the server is gone");
    assert_eq!(login(stack, PASSWORD, "").await.0, 502);
}

#[tokio::test]
async fn login_on_a_server_without_accounts_is_409() {
    let stack = Stack::demo().await;
    let (status, _, body) = login(&stack, PASSWORD, "").await;
    assert_eq!(status, 409, "{body}");
}
